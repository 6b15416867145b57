"""The demo's patients with two payers: their encounters, and how far past the primary they went.

``with_secondary(enc, n, coverage)`` makes a demo encounter a claim to its primary that names the
secondary paying after it (Medicare then a Medigap plan, or a commercial plan then Medicaid);
``after_paper_eob`` makes it a claim to the Medigap plan as secondary, with Medicare's decision
from a paper EOB. ``secondary_summary`` reads from the ledger what became of such claims (billed
to the secondary, crossed over by the primary itself, paid by the secondary, what the patient
still owes) and ``secondary_lines`` puts it in the demo's report. Everything is synthetic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from gateway.ledger.store import Ledger

__all__ = [
    "COVERAGES",
    "SecondarySummary",
    "after_paper_eob",
    "secondary_lines",
    "secondary_summary",
    "with_secondary",
]

#: The two-payer coverages the demo plays, in turn.
COVERAGES = ("medicare-medigap", "commercial-medicaid")
_MEDICARE = {"id": "00952", "name": "MEDICARE PART B ILLINOIS"}
_MEDIGAP = {"id": "61101", "name": "HUMANA"}
_MEDICAID = {"id": "77027", "name": "ILLINOIS MEDICAID"}


def _other_payer(
    enc: dict[str, Any], responsibility: str, payer: dict[str, str], filing: str, member_id: str
) -> dict[str, Any]:
    """The patient's coverage with another payer (the subscriber is the patient)."""
    sub = enc["subscriber"]
    person = {k: sub[k] for k in ("last_name", "first_name", "birth_date", "gender") if k in sub}
    return {
        "responsibility": responsibility,
        "payer": dict(payer),
        "subscriber": {
            "member_id": member_id,
            **person,
            "claim_filing_indicator": filing,
            "relationship_to_patient": "18",
        },
    }


def _medicare_first(enc: dict[str, Any], n: int) -> None:
    """Medicare Part B is the claim's payer (an MBI, no group number)."""
    sub = enc["subscriber"]
    enc["payer"] = dict(_MEDICARE)
    sub["member_id"] = f"{1 + n % 9}EG4TE5MK{n % 100:02d}"  # shaped like an MBI
    sub["claim_filing_indicator"] = "MB"
    sub.pop("group_number", None)


def with_secondary(enc: dict[str, Any], n: int, coverage: str) -> None:
    """A claim to the primary that names the secondary paying after it (2320/2330)."""
    if coverage == "medicare-medigap":
        _medicare_first(enc, n)
        secondary = _other_payer(enc, "secondary", _MEDIGAP, "CI", f"HUM{n:08d}")
    else:  # the commercial plan drawn stays first, Medicaid pays after it
        secondary = _other_payer(enc, "secondary", _MEDICAID, "MC", f"IL{n:09d}")
    enc["other_payers"] = [secondary]


def after_paper_eob(enc: dict[str, Any], n: int, today: date) -> None:
    """A claim to the Medigap plan as secondary, with Medicare's decision from a paper EOB:
    per line 80% allowed (CO 45 the rest), 20% of it coinsurance (PR 2), balanced."""
    _medicare_first(enc, n)
    medicare = _other_payer(enc, "primary", _MEDICARE, "MB", enc["subscriber"]["member_id"])
    served = date.fromisoformat(enc["service_lines"][0]["service_date"])
    decided = min(served + timedelta(days=14), today).isoformat()
    lines = []
    for line in enc["service_lines"]:
        charge = Decimal(line["charge"])
        allowed = (charge * Decimal("0.8")).quantize(Decimal("0.01"))
        coinsurance = (allowed * Decimal("0.2")).quantize(Decimal("0.01"))
        lines.append(
            {
                "line_id": line["line_id"],
                "paid_amount": str(allowed - coinsurance),
                "adjustments": [
                    {"group": "CO", "reason": "45", "amount": str(charge - allowed)},
                    {"group": "PR", "reason": "2", "amount": str(coinsurance)},
                ],
                "adjudication_date": decided,
            }
        )
    medicare["adjudication"] = {
        "paid_amount": str(sum((Decimal(x["paid_amount"]) for x in lines), Decimal(0))),
        "paid_date": decided,
        "payer_claim_control_number": f"MCR{n:010d}",
        "patient_responsibility": str(
            sum((Decimal(x["adjustments"][1]["amount"]) for x in lines), Decimal(0))
        ),
        "lines": lines,
    }
    sub = enc["subscriber"]
    sub.update(member_id=f"HUM{n:08d}", claim_filing_indicator="CI", group_number="MG100")
    sub["payer_responsibility"] = "secondary"
    enc["payer"] = dict(_MEDIGAP)
    enc["other_payers"] = [medicare]


@dataclass(frozen=True)
class SecondarySummary:
    """Claims naming another payer: primary -> secondary -> patient, read from the ledger."""

    named: int = 0  # claims whose encounter names another payer (other_payers)
    billed: int = 0  # of them, billed by the gateway to a payer after the first
    crossed_over: int = 0  # forwarded by the primary itself (835 CLP02 19/20/21, NM1*TT)
    paid_claims: int = 0  # paid by a secondary or tertiary (835 CLP02 2/3)
    paid: Decimal = Decimal(0)  # what those payers paid
    patient_balance: Decimal = Decimal(0)  # CLP05 of each claim's last 835 from such a payer
    nothing_left: int = 0  # the primary paid all but its write-offs: no later payer billed


#: 835 CLP02: processed as primary and forwarded to the next payer by the payer itself.
_FORWARDED = frozenset({"19", "20", "21"})
#: 835 CLP02: processed as secondary, tertiary.
_AFTER_FIRST = frozenset({"2", "3"})
#: ``subscriber.payer_responsibility`` of a claim to the first payer (any other is a later one).
_FIRST_PAYER = frozenset({None, "primary", "unknown"})


async def secondary_summary(ledger: Ledger, claim_ids: Iterable[str]) -> SecondarySummary:
    """How the claims ``claim_ids`` (those naming another payer) went past their primary.

    Read from each claim's ledger history: a version whose encounter puts the claim's payer after
    the primary (``subscriber.payer_responsibility``) and that was submitted is a claim billed to
    a later payer (a version recorded for a claim the payer forwarded itself is never submitted);
    the 835 events say the rest (``detail.status_code`` is CLP02, ``patient_responsibility``
    CLP05). The same events are recorded whether or not the ledger keeps one leg per payer.
    """
    named = billed = crossed = paid_claims = nothing_left = 0
    paid = balance = Decimal(0)
    for claim_id in claim_ids:
        history = await ledger.claim_history(claim_id)
        if history is None:
            continue
        named += 1
        submitted = {e.version for e in history.events if e.kind == "submitted"}
        later_payer = {
            v.version
            for v in history.versions
            if v.encounter.get("subscriber", {}).get("payer_responsibility") not in _FIRST_PAYER
        }
        if later_payer & submitted:
            billed += 1
        remits = [dict(e.detail) for e in history.events if e.kind == "835" and e.detail]
        forwarded = any(d.get("status_code") in _FORWARDED for d in remits)
        if forwarded:
            crossed += 1
        later = [d for d in remits if d.get("status_code") in _AFTER_FIRST]
        if not (later_payer or forwarded or later) and any(
            d.get("status_code") == "1" and Decimal(d.get("paid") or 0) > 0 for d in remits
        ):
            nothing_left += 1  # settled by the primary, and no later leg was recorded
        if later:
            paid_claims += 1
            paid += sum((Decimal(d.get("paid") or 0) for d in later), Decimal(0))
            balance += Decimal(later[-1].get("patient_responsibility") or 0)
    return SecondarySummary(named, billed, crossed, paid_claims, paid, balance, nothing_left)


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def secondary_lines(found: SecondarySummary | None) -> list[str]:
    """The report's lines on claims with two payers (none when no claim named another)."""
    if found is None or not found.named:
        return []
    return [
        f"  with a second payer        {found.named:>6}   (primary -> secondary -> patient)",
        f"      billed to the secondary    {found.billed:>5}",
        f"      crossed over by the payer  {found.crossed_over:>5}   (the primary forwarded it: "
        "CLP02 19, not billed twice)",
        f"      paid by the secondary      {found.paid_claims:>5}   {_money(found.paid)}",
        f"      patient balance after it    {_money(found.patient_balance):>10}",
        f"      nothing left for it        {found.nothing_left:>5}   (the primary paid all but "
        "its write-offs)",
    ]
