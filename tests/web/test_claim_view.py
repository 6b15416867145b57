"""What the claim page tells (``gateway.web.claim_view``): the 835 as an explanation of benefits
with CARC/RARC meanings from the code lists, the 277CA statuses in words, the timeline."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import EventRecord
from gateway.web.claim_view import explanations_of_benefits, money, short, statuses, timeline

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def event(kind: str, detail: dict[str, Any], **kw: Any) -> EventRecord:
    """A claim event of ``kind`` with ``detail`` (control numbers and file from ``kw``)."""
    values: dict[str, Any] = {
        "id": 1, "version": 1, "at": AT, "kind": kind, "from_state": None,
        "to_state": ClaimState.PAID, "cause": f"{kind} cause", "file_name": "f.x12",
        "isa13": None, "gs06": None, "st02": None, "amount": None, "detail": detail,
    }  # fmt: skip
    values.update(kw)
    return EventRecord(**values)


def test_an_835_reads_as_an_explanation_of_benefits() -> None:
    """Amounts with two decimals; group and CARC meanings from the lists when the event kept
    none; the patient's share summed from the PR adjustments; RARC meanings looked up."""
    detail = {
        "outcome": "partially_paid", "status": "Processed as Primary", "charge": "227.5",
        "paid": "150", "trace_number": "EFT1", "payment_date": "2026-11-19",
        "adjustments": [{"group": "CO", "reason": "45", "amount": "27.5", "meaning": ""}],
        "remarks": [{"code": "N130", "meaning": ""}],
        "lines": [
            {
                "line_control_number": "L-1", "procedure": "99214:25", "charge": "185",
                "paid": "130", "allowed": "160",
                "adjustments": [{"group": "PR", "reason": "2", "amount": "30"}],
            }
        ],
    }  # fmt: skip
    (eob,) = explanations_of_benefits([event("835", detail), event("277ca", {})])
    claim_adj = eob.adjustments[0]
    (line,) = eob.lines
    assert ("227.50", "150.00", "") == (eob.charge, eob.paid, eob.patient_responsibility)
    assert "30.00" == eob.patient_share
    assert ("CO", "27.50") == (claim_adj.group, claim_adj.amount)
    assert claim_adj.reason_meaning.startswith("Charge exceeds fee schedule")
    assert "Usage:" not in claim_adj.reason_meaning
    assert claim_adj.group_meaning.startswith("Contractual obligation")
    assert eob.remarks[0].meaning
    assert ("185.00", "160.00", "130.00") == (line.charge, line.allowed, line.paid)
    assert (True, "Coinsurance Amount") == (
        line.adjustments[0].patient_owes, line.adjustments[0].reason_meaning
    )  # fmt: skip
    assert "partially paid" == eob.outcome


def test_277ca_statuses_and_the_timeline() -> None:
    """Statuses keep their code and lose the lists' usage notes; the timeline pads ISA13 to 9
    digits and ST02 to 4 and keeps the reasons."""
    status = {"code": "A7:164:IL", "category": "Rejected.", "status": "Member. Usage: needs IL."}
    rejected = event(
        "277ca", {"statuses": [status], "source": "CH"}, to_state=ClaimState.PAYER_REJECTED
    )
    sent = event(
        "submitted", {"reasons": [{"code": "X", "meaning": "m"}]}, isa13="7", gs06="3",
        st02="1", amount=Decimal("10"),
    )  # fmt: skip
    (answer,) = statuses([sent, rejected])
    rows = timeline([sent, rejected])
    assert ("A7:164:IL", "Member.") == (answer.statuses[0]["code"], answer.statuses[0]["status"])
    assert "CH" == answer.source
    assert [("ISA13", "000000007"), ("GS06", "3"), ("ST02", "0001")] == rows[0]["numbers"]
    assert ("10.00", ["X"]) == (rows[0]["amount"], [r["code"] for r in rows[0]["reasons"]])
    assert "payer_rejected" == rows[1]["to_state"]


def test_money_and_short() -> None:
    """Two decimals for amounts (text kept when it is no number); notes cut off meanings."""
    assert ["227.50", "0.00", "", "n/a"] == [money(v) for v in ("227.5", "0", None, "n/a")]
    assert "Deductible." == short("Deductible. Note: see the plan.")
