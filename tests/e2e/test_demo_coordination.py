"""The demo's patients with two payers: their encounters, and the summary read from the ledger."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from gateway.demo import (
    DemoReport,
    SecondarySummary,
    coordination_encounters,
    demo_encounters,
    render_report,
    secondary_summary,
)
from gateway.edits import scrub
from gateway.ledger.records import StatusSummary
from gateway.ledger.store import Ledger
from gateway.models import Encounter, PayerResponsibility
from tests.support import responses as r
from tests.support.ledger import incoming, submit

TODAY = date(2026, 11, 23)


def test_the_generated_batch_names_second_payers_and_stays_clean() -> None:
    """Some generated encounters name a second payer (Medigap after Medicare, Medicaid after a
    commercial plan); they pass the scrubber, and the batch stays reproducible."""
    generated = demo_encounters(120, today=TODAY)
    with_others = [e for e in generated if e.get("other_payers")]
    assert 5 <= len(with_others) <= 20
    payers = {(e["payer"]["id"], e["other_payers"][0]["payer"]["id"]) for e in with_others}
    assert ("00952", "61101") in payers
    assert "77027" in {second for _, second in payers}
    for data in with_others:
        enc = Encounter.model_validate(data)
        assert PayerResponsibility.SECONDARY is enc.other_payers[0].responsibility
        assert [] == [str(f) for f in scrub(enc, today=TODAY) if f.is_error]
    unchanged = demo_encounters(120, today=TODAY, other_payers=False)
    assert [e["claim_id"] for e in unchanged] == [e["claim_id"] for e in generated]
    assert not any(e.get("other_payers") for e in unchanged)


def test_the_coordination_encounters_and_the_paper_eob_balance() -> None:
    """Four two-payer encounters; the one billed to the secondary carries Medicare's decision
    from a paper EOB, each line balanced (charge = paid + adjustments)."""
    found = [Encounter.model_validate(e) for e in coordination_encounters(today=TODAY)]
    assert ["DEMO-COB-1", "DEMO-COB-2", "DEMO-COB-3", "DEMO-COB-4"] == [e.claim_id for e in found]
    for enc in found:
        assert [] == [str(f) for f in scrub(enc, today=TODAY) if f.is_error]
    last = found[-1]
    assert PayerResponsibility.SECONDARY is last.subscriber.payer_responsibility
    (medicare,) = last.other_payers
    assert medicare.adjudication is not None
    charges = {ln.line_id: ln.charge for ln in last.service_lines}
    for line in medicare.adjudication.lines:
        adjusted = sum((a.amount for a in line.adjustments), Decimal(0))
        assert charges[line.line_id] == line.paid_amount + adjusted
    assert medicare.adjudication.paid_date <= TODAY


async def test_the_summary_reads_the_secondary_from_the_ledger(ledger: Ledger) -> None:
    """Billed to a secondary, crossed over by Medicare (CLP02 19), paid by the secondary (CLP02 2)
    with the patient's balance (CLP05), each counted from the claims' ledger history."""
    secondary_encounter = {"subscriber": {"payer_responsibility": "secondary"}}
    await ledger.record_claims(
        [
            incoming("X1", "153.00"),  # Medicare forwards it; the Medigap plan pays
            incoming("X2", "153.00", encounter=secondary_encounter),  # billed to the secondary
            incoming("X3", "100.00"),  # only the primary answered so far
        ]
    )
    await submit(ledger, ["X1", "X2", "X3"])
    forwarded = r.remittance_claim("X1", "19", Decimal(153), Decimal("80.00"), Decimal("48.00"))
    primary = r.remittance_claim("X3", "1", Decimal(100), Decimal("100.00"), Decimal(0))
    await ledger.apply_response(
        r.remittance("T1", "00952", (forwarded, primary)), content_hash="a", kind="835"
    )
    crossed = r.remittance_claim("X1", "2", Decimal(153), Decimal("38.40"), Decimal("9.60"))
    billed = r.remittance_claim("X2", "2", Decimal(153), Decimal("48.00"), Decimal(0))
    await ledger.apply_response(
        r.remittance("T2", "61101", (crossed, billed)), content_hash="b", kind="835"
    )
    found = await secondary_summary(ledger, ["X1", "X2", "X3", "NEVER-SENT"])
    assert (
        SecondarySummary(
            named=3,
            billed=1,
            crossed_over=1,
            paid_claims=2,
            paid=Decimal("86.40"),
            patient_balance=Decimal("9.60"),
            nothing_left=1,
        )
        == found
    )


def test_the_report_prints_the_secondary_claims() -> None:
    """The report has a section on claims with a second payer (and none without such claims)."""
    summary = StatusSummary({}, {}, {}, 0, (), 0, 0)
    report = DemoReport(
        workspace=Path("w"), config=Path("w/gateway.toml"), seconds=1.0, finished=True,
        files_dropped=1, summary=summary, duplicate_files=0, duplicate_claims=0,
        interchanges=1, responses=1,
    )  # fmt: skip
    assert "with a second payer" not in render_report(report, "g.toml")
    report.secondary = SecondarySummary(3, 1, 1, 2, Decimal("86.40"), Decimal("9.60"))
    text = render_report(report, "g.toml")
    assert "with a second payer             3" in text
    assert "crossed over by the payer      1" in text
    assert "paid by the secondary          2   $86.40" in text
    assert "patient balance after it         $9.60" in text
