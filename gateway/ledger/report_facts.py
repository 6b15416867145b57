"""The facts the revenue-cycle reports read, recorded as the ledger records claim events.

:func:`claim_columns` gives a claim's report columns from its encounter when it is taken in;
:func:`record_facts` (called by the store after each batch of claim events) keeps a claim's first
submission, each rejection with its stage, each 835 claim payment with its sums, and its CAS
adjustments and remark codes. :mod:`gateway.ledger.reports` queries them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway import codes
from gateway.ledger import tables as t

__all__ = ["DENIED_OUTCOMES", "claim_columns", "record_facts"]

_ZERO = Decimal("0")
_REJECTED = ("rejected", "payer_rejected")
#: 835 outcomes that deny a claim in full.
DENIED_OUTCOMES = ("denied", "not_our_claim")
_NOT_ADJUDICATED = ("reversed", "predetermination")


def claim_columns(encounter: Mapping[str, Any], *, clean: bool | None = None) -> dict[str, Any]:
    """A claim's report columns from its encounter: billing and rendering NPI, first DOS (and,
    for a new claim, whether it passed the scrubber at intake)."""
    billing = encounter.get("billing_provider") or {}
    rendering = encounter.get("rendering_provider") or encounter.get("attending_provider") or {}
    dates: list[str] = []
    for line in encounter.get("service_lines") or ():
        if isinstance(line, Mapping) and line.get("service_date"):
            dates.append(str(line["service_date"]))
    block = encounter.get("institutional")
    if isinstance(block, Mapping) and block.get("statement_from"):
        dates.append(str(block["statement_from"]))  # the first day an 837I covers
    service_date: date | None = None
    if dates:
        try:
            service_date = date.fromisoformat(min(dates)[:10])
        except ValueError:
            service_date = None
    extra = {} if clean is None else {"intake_clean": clean}
    return extra | {
        "billing_npi": _text(billing.get("npi"), 15) if isinstance(billing, Mapping) else None,
        "rendering_npi": _text(rendering.get("npi"), 15)
        if isinstance(rendering, Mapping)
        else None,
        "service_date": service_date,
    }


def _text(value: Any, size: int) -> str | None:
    return None if value in (None, "") else str(value)[:size]


async def record_facts(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record what the reports need from claim event rows just inserted (same transaction)."""
    submitted = [r for r in rows if r["kind"] == "submitted"]
    for chunk in _chunks(submitted):
        await conn.execute(
            t.claims.update()
            .where(t.claims.c.claim_id == sa.bindparam("b_claim_id"))
            .where(t.claims.c.first_submitted_at.is_(None))
            .values(first_submitted_at=sa.bindparam("b_at"), first_version=sa.bindparam("b_v")),
            [{"b_claim_id": r["claim_id"], "b_at": r["at"], "b_v": r["version"]} for r in chunk],
        )
    rejections = [
        r for r in rows if r["kind"] in ("ta1", "999", "277ca") and r.get("to_state") in _REJECTED
    ]
    if rejections:
        await conn.execute(t.report_rejections.insert(), await _rejection_rows(conn, rejections))
    remits = [r for r in rows if r["kind"] == "835" and r.get("detail")]
    facts: list[dict[str, Any]] = []
    if remits:
        facts, adjustments = _remit_rows(remits)
        await conn.execute(t.remit_facts.insert(), facts)
        if adjustments:
            await conn.execute(t.remit_adjustments.insert(), adjustments)
    await _first_facts(conn, rows, rejections, facts)


async def _first_facts(
    conn: AsyncConnection,
    rows: Sequence[Mapping[str, Any]],
    rejections: Sequence[Mapping[str, Any]],
    facts: Sequence[Mapping[str, Any]],
) -> None:
    """Keep on the claim what its first version's answers and its first adjudication were."""
    c = t.claims.c
    adjudicated = [f for f in facts if f["outcome"] not in _NOT_ADJUDICATED]
    accepted = [
        {"b_id": r["claim_id"], "b_v": r["version"]}
        for r in rows
        if r["kind"] == "277ca" and r.get("to_state") == "accepted"
    ] + [{"b_id": f["claim_id"], "b_v": f["version"]} for f in adjudicated]
    steps: list[tuple[Any, list[dict[str, Any]]]] = [
        (
            t.claims.update()
            .where(c.claim_id == sa.bindparam("b_id"), c.first_version == sa.bindparam("b_v"))
            .where(c.first_verdict.is_(None))
            .values(first_verdict="accepted"),
            accepted,
        ),
        (
            # A rejection of the first version outweighs any acceptance, whatever came first.
            t.claims.update()
            .where(c.claim_id == sa.bindparam("b_id"), c.first_version == sa.bindparam("b_v"))
            .values(first_verdict="rejected"),
            [{"b_id": r["claim_id"], "b_v": r["version"]} for r in rejections],
        ),
        (
            t.claims.update()
            .where(c.claim_id == sa.bindparam("b_id"), c.first_outcome.is_(None))
            .values(first_outcome=sa.bindparam("b_o"), first_denied=sa.bindparam("b_d")),
            [{"b_id": f["claim_id"], "b_o": f["outcome"], "b_d": f["denied"]} for f in adjudicated],
        ),
        (
            t.claims.update()
            .where(c.claim_id == sa.bindparam("b_id"), c.first_paid_at.is_(None))
            .values(first_paid_at=sa.bindparam("b_at"), first_paid_on=sa.bindparam("b_on")),
            [
                {"b_id": f["claim_id"], "b_at": f["at"], "b_on": f["paid_on"]}
                for f in facts
                if f["paid"] > _ZERO and f["outcome"] != "reversed"
            ],
        ),
    ]
    for statement, params in steps:
        for chunk in _chunks(params):
            await conn.execute(statement, chunk)


async def _rejection_rows(
    conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    payers: dict[str, tuple[str, str]] = {}
    ids = sorted({r["claim_id"] for r in rows if r["kind"] == "277ca"})
    for chunk in _chunks(ids):
        result = await conn.execute(
            sa.select(t.claims.c.claim_id, t.claims.c.payer_id, t.claims.c.payer_name).where(
                t.claims.c.claim_id.in_(chunk)
            )
        )
        for claim_id, payer_id, payer_name in result:
            payers[claim_id] = ((payer_id or "").upper(), (payer_name or "").upper())
    out = []
    for r in rows:
        detail = r.get("detail") or {}
        reasons = detail.get("reasons") or [{}]
        stage = r["kind"].upper()
        if r["kind"] == "277ca":
            source = str(detail.get("source") or "").strip().upper()
            # A 277CA from the payer names it as the information source; else the clearinghouse.
            stage = (
                "277CA-payer"
                if source and source in payers.get(r["claim_id"], ())
                else ("277CA-clearinghouse")
            )
        out.append(
            {
                "claim_id": r["claim_id"],
                "version": r["version"],
                "at": r["at"],
                "stage": stage,
                "reason_code": str(reasons[0].get("code") or stage)[:40],
            }
        )
    return out


def _remit_rows(
    rows: Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    expected = frozenset(codes.table("outcome_rules"))
    facts: list[dict[str, Any]] = []
    adjustments: list[dict[str, Any]] = []
    for r in rows:
        d = r["detail"]
        outcome = str(d.get("outcome") or "")
        sums = {"CO": _ZERO, "PR": _ZERO, "other": _ZERO, "denied": _ZERO}
        found: list[dict[str, Any]] = []
        levels = [(None, d.get("adjustments") or (), d.get("remarks") or ())]
        levels += [
            (ln.get("procedure") or None, ln.get("adjustments") or (), ln.get("remarks") or ())
            for ln in d.get("lines") or ()
        ]
        for procedure, adjs, remarks in levels:
            for a in adjs:
                group = str(a.get("group") or "").upper()
                amount = Decimal(str(a.get("amount") or "0"))
                reason = str(a.get("reason") or "")
                denial = (
                    outcome != "reversed"
                    and group != "PR"
                    and reason.upper() not in expected
                    and amount > _ZERO
                )
                sums[group if group in ("CO", "PR") else "other"] += amount
                if denial:
                    sums["denied"] += amount
                found.append(
                    {
                        "procedure": procedure[:48] if procedure else None,
                        "kind": "CARC",
                        "group_code": group[:2],
                        "code": reason[:10],
                        "amount": amount,
                        "denial": denial,
                    }
                )
            for remark in remarks:
                found.append(
                    {
                        "procedure": procedure[:48] if procedure else None,
                        "kind": "RARC",
                        "group_code": None,
                        "code": str(remark.get("code") or "")[:10],
                        "amount": None,
                        "denial": False,
                    }
                )
        denied_claim = sums["denied"] > _ZERO or outcome in DENIED_OUTCOMES
        for a in found:
            if a["kind"] == "RARC":
                a["denial"] = denied_claim
            adjustments.append(a | {"claim_id": r["claim_id"], "at": r["at"]})
        facts.append(
            {
                "claim_id": r["claim_id"],
                "version": r["version"],
                "at": r["at"],
                "paid_on": _paid_on(d, r["at"]),
                "allowed": _allowed(d),
                "outcome": outcome[:24],
                "charge": Decimal(str(d.get("charge") or "0")),
                "paid": Decimal(str(d.get("paid") or "0")),
                "co": sums["CO"],
                "pr": sums["PR"],
                "other": sums["other"],
                "denied": sums["denied"],
            }
        )
    return facts, adjustments


def _paid_on(detail: Mapping[str, Any], at: datetime) -> date:
    """The 835's payment date (BPR16, check issue or EFT effective), else the day applied."""
    text = detail.get("payment_date")
    if text:
        try:
            return date.fromisoformat(str(text)[:10])
        except ValueError:
            pass
    return at.astimezone(UTC).date() if at.tzinfo else at.date()


def _allowed(detail: Mapping[str, Any]) -> Decimal | None:
    """What the 835 says was allowed: the sum of its lines' AMT*B6; None when no line gives it
    (the 835 has no claim-level allowed amount: 2100 AMT*AU is the coverage amount)."""
    given = [ln["allowed"] for ln in detail.get("lines") or () if ln.get("allowed") is not None]
    return sum((Decimal(str(a)) for a in given), _ZERO) if given else None


def _chunks(items: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
