"""The revenue-cycle reports against a small ledger whose every answer is worked out by hand,
on SQLite and PostgreSQL, and against an independent count from the X12 files of a demo run."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.cli.report import csv_text
from gateway.ledger import tables as t
from gateway.ledger.records import (
    ClaimSent,
    GroupSent,
    IncomingClaim,
    Reason,
    SetSent,
    SubmissionIntent,
)
from gateway.ledger.reports import Period
from gateway.ledger.store import Ledger
from tests.support.responses import (
    ack277,
    ack999,
    adjustment,
    claim_status,
    group_ack,
    remittance,
    remittance_claim,
    remittance_line,
    set_ack,
    status_code,
    ta1,
)

# The response models, built by the shared factories (positional as the hand-worked cases read).
InterchangeAck = ta1
ImplementationAck = ack999
GroupAck = group_ack
SetAck = set_ack
StatusCode = status_code
ClaimStatus = claim_status
ClaimAcknowledgement = ack277
Adjustment = adjustment
RemittanceLine = remittance_line
RemittanceClaim = remittance_claim
Remittance = remittance

D = Decimal
GATEWAY = str(Path(sys.executable).parent / "gateway")
PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))
PAYER_A, PAYER_B = "87726", "60054"


def encounter_of(claim_id: str, payer: str, charge: str, dos: str) -> IncomingClaim:
    """A professional claim of the partner ``demo`` billed by NPI 1111111112."""
    return IncomingClaim(
        claim_id=claim_id,
        kind="professional",
        partner="demo",
        payer_id=payer,
        payer_name="ACME HEALTH" if payer == PAYER_A else "BETA CARE",
        total_charge=D(charge),
        encounter={
            "claim_id": claim_id,
            "billing_provider": {"npi": "1111111112"},
            "rendering_provider": {"npi": "2222222224"} if claim_id != "G" else None,
            "service_lines": [{"charge": charge, "service_date": dos}],
        },
    )


_counter = iter(range(100, 1000))


async def send(ledger: Ledger, claim_id: str, version: int) -> tuple[str, str]:
    """One interchange holding one claim version; returns (ISA13, GS06)."""
    n = next(_counter)
    isa13, gs06 = str(n), str(n + 5000)
    sets = (SetSent("0001", (ClaimSent(claim_id, version, (f"{claim_id}-1",)),)),)
    intent = SubmissionIntent("demo", "837P", isa13, f"{isa13}.x12", (GroupSent(gs06, sets),))
    await ledger.record_submission_success(await ledger.record_submission_intent(intent))
    return isa13, gs06


def accept() -> StatusCode:
    """A 277CA acceptance status."""
    return StatusCode("A2", "20")


async def apply(ledger: Ledger, response: Any, kind: str) -> None:
    """Apply one response view (its content hash made unique)."""
    await ledger.apply_response(response, content_hash=f"h{next(_counter)}", kind=kind)


async def build(ledger: Ledger) -> None:
    """The hand-worked ledger (see the expected values in the tests below).

    A 87726 100: 277CA accepted by the clearinghouse and by the payer; paid 80 (CO-45 20) by an
      835 whose payment date (BPR16) is 2026-01-17, applied on 2026-01-20; no AMT*B6.
    B 87726 200: clearinghouse accepts, payer 277CA rejects; resubmitted (v2), accepted, partially
      paid 120 (CO-45 30, PR-1 20, line 99213 CO-50 30: a denied line; line AMT*B6 140) by an
      835 paid on 2026-01-28 (BPR16), applied on 2026-02-09.
    C 60054 300: 999 rejects v1 and v2; v3 accepted and denied in full (CO-16 300, RARC N290).
    D 60054 400: accepted, paid 400 (an 835 without BPR16, applied on 2026-02-19), then reversed.
    E 87726 50: submitted, no answer at all.
    F 87726 60: invalid at intake (scrubber), never submitted.
    G 87726 75: interchange rejected by TA1.
    """
    dates = {"A": "2026-03-01", "B": "2026-03-01", "C": "2026-03-01", "D": "2025-12-21",
             "E": "2026-02-14", "F": "2026-03-01", "G": "2026-03-21"}  # fmt: skip
    charges = {"A": "100", "B": "200", "C": "300", "D": "400", "E": "50", "F": "60", "G": "75"}
    claims = []
    for cid, charge in charges.items():
        enc = encounter_of(cid, PAYER_B if cid in "CD" else PAYER_A, charge, dates[cid])
        if cid == "F":
            enc = IncomingClaim(**{**enc.__dict__, "findings": (Reason("E-TEST", "bad"),)})
        claims.append(enc)
    await ledger.record_claims(claims)
    for cid in "ABCDE":
        await send(ledger, cid, 1)
    g_isa, _ = await send(ledger, "G", 1)
    await apply(ledger, InterchangeAck(g_isa, "R", "022", "invalid control structure"), "TA1")
    ch = ClaimAcknowledgement(
        "DEMO CLEARINGHOUSE",
        tuple(ClaimStatus(c, (accept(),)) for c in "ABD"),
    )
    await apply(ledger, ch, "277CA")
    payer = ClaimAcknowledgement(
        "ACME HEALTH",
        (
            ClaimStatus("A", (StatusCode("A2", "20", "", "", "", "", "accepted"),), "PA"),
            ClaimStatus("B", (StatusCode("A7", "562", "85", "rejected", "NPI"),)),
        ),
    )
    await apply(ledger, payer, "277CA")
    # C: the 999 rejects its set, twice (v1 and v2).
    for version in (1, 2):
        gs06 = await _gs06_of(ledger, "C", version)
        await apply(
            ledger,
            ImplementationAck((GroupAck(gs06, "R", (SetAck("0001", "R", (("5", "errors"),)),)),)),
            "999",
        )
        await ledger.record_claims(
            [encounter_of("C", PAYER_B, "300", dates["C"])], origin="resubmit"
        )
        await send(ledger, "C", version + 1)
    await ledger.record_claims([encounter_of("B", PAYER_A, "200", dates["B"])], origin="resubmit")
    await send(ledger, "B", 2)
    ch2 = ClaimAcknowledgement(
        "DEMO CLEARINGHOUSE",
        (
            ClaimStatus("B", (StatusCode("A1", "19"),), status_date="2026-02-01"),
            ClaimStatus("C", (StatusCode("A1", "19"),), status_date="2026-02-01"),
        ),
    )
    await apply(ledger, ch2, "277CA")
    a_paid = RemittanceClaim(
        "A", "1", D("100"), D("80"), D("0"), "PA", (Adjustment("CO", "45", D("20")),),
        remarks=(("M15", "separately billed"),),
    )  # fmt: skip
    b_line = RemittanceLine("B-1", "99213", D("200"), D("120"), (Adjustment("CO", "50", D("30")),))
    b_line.allowed_amount = D("140")  # AMT*B6
    b_paid = RemittanceClaim(
        "B", "2", D("200"), D("120"), D("20"), "PB",
        (Adjustment("CO", "45", D("30")), Adjustment("PR", "1", D("20"))), (b_line,),
    )  # fmt: skip
    c_denied = RemittanceClaim(
        "C", "4", D("300"), D("0"), None, "PC", (Adjustment("CO", "16", D("300")),),
        remarks=(("N290", "missing rendering provider"),),
    )  # fmt: skip
    d_paid = RemittanceClaim("D", "1", D("400"), D("400"), None, "PD")
    for trace, paid, bpr16 in (("T1", a_paid, "2026-01-17"), ("T1B", b_paid, "2026-01-28")):
        remit = Remittance(trace, PAYER_A, (paid,))
        remit.header.payment_date = date.fromisoformat(bpr16)
        await apply(ledger, remit, "835")
    await apply(ledger, Remittance("T2", PAYER_B, (c_denied, d_paid)), "835")
    d_reversal = RemittanceClaim("D", "22", D("-400"), D("-400"), None, "PD")
    await apply(ledger, Remittance("T3", PAYER_B, (d_reversal,)), "835")
    await _set_times(ledger)


async def _gs06_of(ledger: Ledger, claim_id: str, version: int) -> str:
    async with ledger._read() as conn:
        row = await conn.execute(
            sa.select(t.claim_events.c.gs06).where(
                t.claim_events.c.claim_id == claim_id,
                t.claim_events.c.version == version,
                t.claim_events.c.kind == "submitted",
            )
        )
        return str(row.scalar_one())


async def _set_times(ledger: Ledger) -> None:
    """Move the recorded times into the period, as if the work had happened then."""
    from datetime import UTC, datetime, timedelta

    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(tzinfo=UTC)

    first = {"A": "2026-01-10", "B": "2026-01-10", "C": "2026-01-20", "D": "2026-01-20",
             "E": "2026-02-19", "G": "2026-03-25"}  # fmt: skip
    paid = {"A": 10, "B": 30, "D": 30}  # applied days after the first submission
    closed_after = {("C", 1): 2, ("C", 2): 6, ("B", 1): 4}
    async with ledger._write() as conn:
        await conn.execute(t.claims.update().values(created_at=at("2026-01-05")))
        for cid, day in first.items():
            await conn.execute(
                t.claims.update()
                .where(t.claims.c.claim_id == cid)
                .values(first_submitted_at=at(day))
            )
        for cid, days in paid.items():
            await conn.execute(
                t.remit_facts.update()
                .where(t.remit_facts.c.claim_id == cid, t.remit_facts.c.paid > 0)
                .values(at=at(first[cid]) + timedelta(days=days))
            )
            await conn.execute(
                t.claims.update()
                .where(t.claims.c.claim_id == cid)
                .values(first_paid_at=at(first[cid]) + timedelta(days=days))
            )
        # D's 835 has no BPR16: its payment date is the day it was applied (moved as well).
        await conn.execute(
            t.claims.update()
            .where(t.claims.c.claim_id == "D")
            .values(first_paid_on=(at(first["D"]) + timedelta(days=paid["D"])).date())
        )
        await conn.execute(t.correction_items.update().values(opened_at=at("2026-02-01")))
        for (cid, version), days in closed_after.items():
            await conn.execute(
                t.correction_items.update()
                .where(
                    t.correction_items.c.claim_id == cid, t.correction_items.c.version == version
                )
                .values(closed_at=at("2026-02-01") + timedelta(days=days))
            )


@pytest.fixture
async def ledger(ledger_url: str) -> AsyncIterator[Ledger]:
    """The hand-worked ledger, on SQLite or PostgreSQL."""
    led = await Ledger.open(ledger_url)
    try:
        await build(led)
        yield led
    finally:
        await led.close()


def row_of(table: Any, key: Any = "all") -> dict[str, Any]:
    """The row of ``table`` whose first column is ``key``."""
    (found,) = [r for r in table.records() if r[table.columns[0]] == key]
    return dict(found)


async def test_summary_counts_every_measure_as_worked_out_by_hand(ledger: Ledger) -> None:
    """Scrubber pass, first-pass acceptance, rejections and denial rates match the hand count."""
    row = row_of(await ledger.reports.summary(PERIOD))
    expected = {
        "group": "all",
        "encounters": 7,
        "scrubber_clean": 6,
        "scrubber_pass_rate": round(6 / 7, 4),
        "submitted": 6,
        "accepted_first_pass": 2,  # A and D; B, C, G rejected, E unanswered
        "first_pass_rate": round(2 / 6, 4),
        "rejected_first_pass": 3,
        "adjudicated": 4,  # A, B, C, D
        "denied_full": 1,  # C
        "denied_any": 2,  # B (a line) and C
        "denial_rate": 0.25,
        "any_line_denial_rate": 0.5,
        "billed": D("1125.00"),
        "denied_amount": D("330.00"),
        "denied_amount_rate": round(330 / 1125, 4),
    }
    assert expected == row


async def test_rejections_are_split_by_stage_and_reason(ledger: Ledger) -> None:
    """TA1, 999 and payer 277CA rejections of first submissions, one claim each."""
    table = await ledger.reports.rejections(PERIOD)
    stages = sorted((r["stage"], r["claims"]) for r in table.records())
    assert [("277CA-payer", 1), ("999", 1), ("TA1", 1)] == stages
    assert {"TA1-022", "STC-A7:562:85"} <= {r["reason"] for r in table.records()}
    assert ["G"] == await ledger.reports.claims(PERIOD, "rejected:TA1")
    assert ["B"] == await ledger.reports.claims(PERIOD, "rejected:277CA-payer")


async def test_money_and_days_to_payment_by_payer(ledger: Ledger) -> None:
    """Billed, allowed (AMT*B6), paid, CO, PR, reversals and the median/p90 days to the BPR16
    payment date, per payer."""
    table = await ledger.reports.payers(PERIOD, "payer")
    a = row_of(table, PAYER_A)
    # Allowed: B's line AMT*B6 140 only (A's 835 gives none), not paid + PR (220).
    assert (4, D("425.00"), D("140.00"), 1, D("200.00"), D("80.00"), D("20.00"), D("0.00")) == (
        a["claims"], a["billed"], a["allowed"], a["allowed_835s"], a["paid"], a["co"], a["pr"],
        a["reversals"],
    )  # fmt: skip
    # A: 2026-01-10 to BPR16 2026-01-17 = 7 days (applied on day 10); B: to 01-28 = 18 (not 30).
    assert (2, 7.0, 18.0) == (
        a["paid_claims"], a["days_to_payment_median"], a["days_to_payment_p90"]
    )  # fmt: skip
    b = row_of(table, PAYER_B)
    # No 835 of payer B gives AMT*B6: allowed is unknown. D has no BPR16: the day applied, 30.
    assert (D("700.00"), None, 0, D("0.00"), D("300.00"), D("400.00"), 30.0, 30.0) == (
        b["billed"], b["allowed"], b["allowed_835s"], b["paid"], b["co"], b["reversals"],
        b["days_to_payment_median"], b["days_to_payment_p90"],
    )  # fmt: skip
    everyone = row_of(await ledger.reports.payers(PERIOD, None))
    assert (18.0, 30.0) == (everyone["days_to_payment_median"], everyone["days_to_payment_p90"])


async def test_remit_facts_keep_the_payment_date_and_the_allowed_amount(ledger: Ledger) -> None:
    """Each applied 835 claim payment keeps BPR16 (else the day it was applied) and AMT*B6."""
    f, e = t.remit_facts.c, t.claim_events.c
    async with ledger._read() as conn:
        facts = {
            cid: (paid_on, allowed)
            for cid, paid_on, allowed in await conn.execute(
                sa.select(f.claim_id, f.paid_on, f.allowed).where(f.outcome != "reversed")
            )
        }
        applied = (
            await conn.execute(
                sa.select(e.at).where(e.claim_id == "D", e.kind == "835").order_by(e.id).limit(1)
            )
        ).scalar_one()
    assert (date(2026, 1, 17), None) == facts["A"]
    assert (date(2026, 1, 28), D("140.00")) == facts["B"]
    assert (applied.date(), None) == facts["D"]  # no BPR16: the day the 835 was applied
    assert None is facts["C"][1]


async def test_denials_top_reasons_by_claims_and_amount(ledger: Ledger) -> None:
    """Only denying CARCs count (CO-45 does not); RARCs of denied claims; by procedure."""
    carc, rarc, procedures = await ledger.reports.denials(PERIOD)
    assert [("all", "CO-16", 1, D("300.00")), ("all", "CO-50", 1, D("30.00"))] == carc.rows
    assert [("all", "N290", 1, D("0.00"))] == rarc.rows
    assert [("(claim)", "CO-16", 1, D("300.00")), ("99213", "CO-50", 1, D("30.00"))] == (
        procedures.rows
    )
    assert ["C"] == await ledger.reports.claims(PERIOD, "carc:CO-16")
    assert ["C"] == await ledger.reports.claims(PERIOD, "denied_full")
    assert ["B", "C"] == await ledger.reports.claims(PERIOD, "denied_any")


async def test_aging_buckets_and_no_answer_list(ledger: Ledger) -> None:
    """Open balances by days since DOS as of the period end; E is unanswered after 41 days."""
    aging, no_answer = await ledger.reports.aging(PERIOD, "payer")
    a, b = row_of(aging, PAYER_A), row_of(aging, PAYER_B)
    assert (1, D("75.00"), 1, D("50.00"), D("125.00")) == (
        a["0-30_claims"], a["0-30_balance"], a["31-60_claims"], a["31-60_balance"],
        a["total_balance"],
    )  # fmt: skip
    assert (1, D("400.00"), D("400.00")) == (
        b["91-120_claims"], b["91-120_balance"], b["total_balance"]
    )  # fmt: skip
    assert [("E", 41)] == [(r["claim_id"], r["days"]) for r in no_answer.records()]
    _, none = await ledger.reports.aging(PERIOD, "payer", no_answer_days={"demo": 50})
    assert [] == none.rows
    assert ["D"] == await ledger.reports.claims(PERIOD, "aging:91-120")
    assert ["E"] == await ledger.reports.claims(PERIOD, "no_answer")


async def test_rework_items_and_resubmissions(ledger: Ledger) -> None:
    """Items by source, closed ones with their median days; C went out three times."""
    items, resubmitted = await ledger.reports.rework(PERIOD)
    by_source: dict[str, list[int]] = {}
    medians = {}
    for r in items.records():
        counts = by_source.setdefault(r["source"], [0, 0])
        counts[0] += r["opened"]
        counts[1] += r["closed"]
        medians[r["source"]] = r["median_days_to_close"]
    assert {"scrubber": [1, 0], "TA1": [1, 0], "999": [2, 2], "277CA": [1, 1], "835": [1, 0]} == (
        by_source
    )
    assert (2.0, 4.0) == (medians["999"], medians["277CA"])
    assert [("all", 6, 1)] == resubmitted.rows
    assert ["C"] == await ledger.reports.claims(PERIOD, "resubmitted_more_than_once")


async def test_groupings_split_the_same_totals(ledger: Ledger) -> None:
    """By payer, provider, rendering provider, kind and month the counts add up to the total."""
    for by in ("payer", "partner", "provider", "rendering", "kind", "month"):
        table = await ledger.reports.summary(PERIOD, by)
        assert 6 == sum(r["submitted"] for r in table.records()), by
    months = {
        r["month"]: r["submitted"]
        for r in (await ledger.reports.summary(PERIOD, "month")).records()
    }
    assert {"2026-01": 4, "2026-02": 1, "2026-03": 1} == months
    rendering = {
        r["rendering"] for r in (await ledger.reports.summary(PERIOD, "rendering")).records()
    }
    assert {"2222222224", "?"} == rendering
    assert ["D"] == await ledger.reports.claims(PERIOD, "paid", by="payer", group=PAYER_B)
    assert ["A", "B"] == await ledger.reports.claims(PERIOD, "paid", by="payer", group=PAYER_A)
    weekly = await ledger.reports.weekly_acceptance(PERIOD)
    assert 6 == sum(r["submitted"] for r in weekly.records())


async def test_a_claim_paid_without_a_277ca_passed_the_first_time(ledger_url: str) -> None:
    """An 835 adjudicating the first version counts as acceptance when no 277CA came first."""
    led = await Ledger.open(ledger_url)
    try:
        await led.record_claims([encounter_of("H", PAYER_A, "90", "2026-12-01")])
        await send(led, "H", 1)
        paid = RemittanceClaim("H", "1", D("90"), D("90"), None, "PH")
        await apply(led, Remittance("T9", PAYER_A, (paid,)), "835")
        today = Period.last_days(1)
        row = row_of(await led.reports.summary(today))
        assert (1, 1, 0) == (row["submitted"], row["accepted_first_pass"], row["denied_full"])
    finally:
        await led.close()


@pytest.mark.parametrize(
    ("encounter", "expected"),
    [
        (
            {"billing_provider": {"npi": "1"}, "rendering_provider": {"npi": "2"},
             "service_lines": [{"service_date": "2026-02-03"}, {"service_date": "2026-02-01"}]},
            ("1", "2", date(2026, 2, 1)),
        ),
        (
            {"billing_provider": {"npi": "1"}, "attending_provider": {"npi": "3"},
             "institutional": {"statement_from": "2026-01-30"},
             "service_lines": [{"service_date": "2026-02-01"}]},
            ("1", "3", date(2026, 1, 30)),
        ),
        ({"billing_provider": {"npi": "1"}, "service_lines": [{}]}, ("1", None, None)),
    ],
)  # fmt: skip
def test_claim_columns_from_the_encounter(encounter: dict[str, Any], expected: Any) -> None:
    """Billing NPI, rendering (or attending) NPI and the earliest date of service."""
    from gateway.ledger.report_facts import claim_columns

    got = claim_columns(encounter)
    assert expected == (got["billing_npi"], got["rendering_npi"], got["service_date"])


def test_csv_sections_read_back() -> None:
    """The CSV output is one section per table that the csv module reads back."""
    from gateway.ledger.reports import Table

    text = csv_text([Table("x", ("a", "b"), [(1, D("2.50")), ("y", None)])])
    rows = list(csv.reader(io.StringIO(text)))
    assert [["# x"], ["a", "b"], ["1", "2.50"], ["y", ""], []] == rows


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--claims", "bogus"], "unknown cell 'bogus'"),
        (["--claims", "paid=60054"], "needs --by"),
        (["--from", "2026-02-30"], "give a date as YYYY-MM-DD"),
        (["--from", "2026-03-01", "--to", "2026-02-01"], "is after --to"),
    ],
)
def test_report_mistakes_say_what_to_do(tmp_path: Path, args: list[str], fragment: str) -> None:
    """A wrong cell, group without --by or date is a usage error (exit 2) that says why."""
    config = tmp_path / "gateway.toml"
    config.write_text(f'[ledger]\nurl = "sqlite:///{tmp_path}/gateway.db"\n')
    subprocess.run([GATEWAY, "db", "upgrade", "--config", str(config)], check=True, timeout=120)
    done = subprocess.run(
        [GATEWAY, "report", *args, "--config", str(config)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert 2 == done.returncode
    assert fragment in done.stderr


# ------------------------------------------------------------------ against the demo's files


def _segments(path: Path) -> list[list[str]]:
    text = path.read_text(errors="replace")
    if not text.startswith("ISA"):
        return []
    element, terminator = text[3], text[105]
    return [s.strip().split(element) for s in text.split(terminator) if s.strip()]


@pytest.mark.slow
def test_demo_report_matches_an_independent_count_of_its_x12_files(tmp_path: Path) -> None:
    """Submitted, first-pass rejections (277CA STC A3/A4/A6/A7/A8) and denials (835) counted from
    the files the demo exchanged agree with `gateway report --json`."""
    done = subprocess.run(
        [GATEWAY, "demo", "--claims", "40"], capture_output=True, text=True, timeout=300,
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert 0 == done.returncode, done.stderr[-2000:]
    assert "clean-claim rate" in done.stdout
    assert "denial rate" in done.stdout
    sent: set[str] = set()
    rejected: set[str] = set()
    denied: set[str] = set()
    paid: set[str] = set()
    for path in (tmp_path / "gateway-demo").rglob("*"):
        if not path.is_file():
            continue
        segments = _segments(path)
        kind = next((s[1] for s in segments if s[0] == "ST"), "")
        claim = ""
        for seg in segments:
            if kind == "837" and seg[0] == "CLM":
                sent.add(seg[1])
            elif kind == "277" and seg[0] == "TRN" and seg[1] == "2":
                claim = seg[2]
            elif kind == "277" and seg[0] == "STC" and re.match(r"A[34678]:", seg[1]) and claim:
                rejected.add(claim)
            elif kind == "835" and seg[0] == "CLP":
                if seg[2] == "4":
                    denied.add(seg[1])
                elif Decimal(seg[4]) > 0:
                    paid.add(seg[1])
    assert rejected
    assert denied
    assert paid
    report = subprocess.run(
        [GATEWAY, "report", "--json", "--config", "gateway-demo/gateway.toml"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert 0 == report.returncode, report.stderr
    (row,) = json.loads(report.stdout)["tables"]["summary"]
    assert len(sent) == row["submitted"]
    assert len(rejected) == row["rejected_first_pass"]
    assert len(denied) == row["denied_full"]
    traced = subprocess.run(
        [GATEWAY, "report", "--claims", "paid", "--config", "gateway-demo/gateway.toml"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert paid == set(traced.stdout.split())
    page = tmp_path / "r.html"
    html = subprocess.run(
        [GATEWAY, "report", "--html", str(page), "--config", "gateway-demo/gateway.toml"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert 0 == html.returncode, html.stderr
    text = page.read_text()
    assert 3 == text.count("<svg")
    assert "<script" not in text
    assert "<link" not in text
