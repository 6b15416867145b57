"""The ledger against real databases: SQLite files and PostgreSQL, from the same tests."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import stat
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.ledger import tables
from gateway.ledger.lifecycle import ClaimState, InvalidTransitionError
from gateway.ledger.records import (
    ClaimSent,
    GroupSent,
    Reason,
    SetSent,
    SubmissionIntent,
)
from gateway.ledger.store import Ledger, LedgerError, UnknownClaimError, sqlalchemy_url
from tests.support import responses as r
from tests.support.ledger import incoming, submit

S = ClaimState


async def states(ledger: Ledger, claim_ids: list[str]) -> list[ClaimState]:
    """The current state of each claim."""
    out = []
    for cid in claim_ids:
        claim = await ledger.claim(cid)
        assert claim is not None
        out.append(claim.state)
    return out


async def test_migrations_reach_head_and_match_the_tables(ledger_url: str) -> None:
    """Upgrading creates the schema of tables.py exactly, and a second upgrade changes nothing."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    led = await Ledger.open(ledger_url)
    try:
        await led.upgrade()
        assert "0008_claim_items" == await led.revision()
        async with led._engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), tables.metadata)
            )
        assert [] == diff
    finally:
        await led.close()


def test_urls_pick_the_async_drivers() -> None:
    """Plain sqlite:/postgresql: URLs are given the aiosqlite/asyncpg drivers."""
    cases = {
        "sqlite:///state/gateway.db": "sqlite+aiosqlite:///state/gateway.db",
        "postgresql://u:p@db:5432/gw": "postgresql+asyncpg://u:p@db:5432/gw",
        "postgresql+asyncpg://db/gw": "postgresql+asyncpg://db/gw",
    }
    assert cases == {url: sqlalchemy_url(url) for url in cases}
    with pytest.raises(LedgerError):
        sqlalchemy_url("mysql://db/gw")


async def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    """The SQLite ledger file is created owner-only and runs in WAL mode."""
    path = tmp_path / "state" / "gateway.db"
    led = await Ledger.open(f"sqlite:///{path}")
    try:
        async with led._engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
    finally:
        await led.close()
    assert ("wal", 0o600) == (mode, stat.S_IMODE(path.stat().st_mode))


async def test_files_are_recorded_once_by_content(ledger: Ledger) -> None:
    """The same content twice is one file row; the second record says it is not new."""
    first = await ledger.record_file("a" * 64, "enc.json", "encounters")
    again = await ledger.record_file("a" * 64, "copy.json", "encounters")
    await ledger.update_file(first.id, status="archived", archive_path="archive/2026/enc.json")
    stored = await ledger.file_by_hash("a" * 64)
    assert (True, False, first.id) == (first.is_new, again.is_new, again.id)
    assert stored is not None
    assert ("archived", "archive/2026/enc.json") == (stored.status, stored.archive_path)


async def test_intake_queues_clean_claims_and_opens_items_for_invalid_ones(ledger: Ledger) -> None:
    """Clean claims are queued; claims with findings are invalid with one open item each."""
    finding = Reason("E-NPI", "NPI check digit wrong", "billing_provider.npi", "correct the NPI")
    outcomes = await ledger.record_claims(
        [incoming("C1"), incoming("C2", findings=(finding,)), incoming("C1")]
    )
    assert [("C1", "new"), ("C2", "new"), ("C1", "duplicate")] == [
        (o.claim_id, o.outcome) for o in outcomes
    ]
    assert [S.QUEUED, S.INVALID] == await states(ledger, ["C1", "C2"])
    items = await ledger.open_items()
    assert [("C2", "E-NPI", (finding,))] == [(i.claim_id, i.reason_code, i.reasons) for i in items]
    queued = await ledger.queued_claims(partner="demo")
    assert [("C1", 1)] == [(q.claim_id, q.version) for q in queued]


async def test_a_claim_in_flight_is_a_duplicate(ledger: Ledger) -> None:
    """Dropping the same claim id again while it is in flight changes nothing."""
    await ledger.record_claims([incoming("C1")])
    await submit(ledger, ["C1"])
    again = await ledger.record_claims([incoming("C1")])
    again_corrected = await ledger.record_claims([incoming("C1")], origin="correction-file")
    assert ["duplicate", "duplicate"] == [again[0].outcome, again_corrected[0].outcome]
    assert [S.SUBMITTED] == await states(ledger, ["C1"])


async def test_correction_of_an_invalid_claim_is_a_new_version(ledger: Ledger) -> None:
    """A corrected invalid claim becomes version 2, queued, and its item is closed."""
    bad = Reason("E-DX", "diagnosis code unknown", "diagnoses[0]", "fix it")
    await ledger.record_claims([incoming("C1", findings=(bad,))])
    outcome = await ledger.record_claims(
        [incoming("C1", charge="120.00")], origin="correction-file"
    )
    history = await ledger.claim_history("C1")
    assert history is not None
    assert ("resubmission", 2, S.QUEUED) == (
        outcome[0].outcome,
        outcome[0].version,
        outcome[0].state,
    )
    assert [1, 2] == [v.version for v in history.versions]
    assert 1 == history.versions[1].replaces_version
    assert [("resubmitted", None)] == [(i.closed_by, i.note) for i in history.items]
    assert [] == await ledger.open_items()
    assert [
        ("received", None, S.RECEIVED),
        ("checked", S.RECEIVED, S.INVALID),
        ("resubmitted", S.INVALID, S.RECEIVED),
        ("checked", S.RECEIVED, S.QUEUED),
    ] == [(e.kind, e.from_state, e.to_state) for e in history.events]


async def test_control_numbers_are_unique_per_partner_and_survive_reopening(
    ledger_url: str,
) -> None:
    """Concurrent allocations never repeat; partners count separately; reopening continues."""
    led = await Ledger.open(ledger_url)
    try:
        firsts = await asyncio.gather(*(led.allocate("demo", "isa13") for _ in range(20)))
        block = await led.allocate("demo", "st02", 5)
        other = await led.allocate("other", "isa13")
    finally:
        await led.close()
    led = await Ledger.open(ledger_url)
    try:
        after = await led.allocate("demo", "isa13")
        last = await led.last_control_number("demo", "st02")
    finally:
        await led.close()
    assert list(range(1, 21)) == sorted(firsts)
    assert (1, 5, 1, 21) == (block, last, other, after)


async def test_two_ledgers_on_one_database_never_share_a_number(ledger_url: str) -> None:
    """Two connections (as two workers would have) allocating at once get disjoint numbers."""
    first = await Ledger.open(ledger_url)
    second = await Ledger.open(ledger_url)
    try:
        numbers = await asyncio.gather(
            *(led.allocate("demo", "gs06", 3) for led in (first, second) for _ in range(10))
        )
    finally:
        await first.close()
        await second.close()
    taken = sorted(n + k for n in numbers for k in range(3))
    assert list(range(1, 61)) == taken


async def test_write_ahead_submission_and_abandonment(ledger: Ledger) -> None:
    """Intent makes claims batched; success makes them submitted; abandoning requeues them."""
    await ledger.record_claims([incoming("C1"), incoming("C2")])
    sets = (SetSent("0001", (ClaimSent("C1", 1),)),)
    intent = SubmissionIntent("demo", "837P", "000000007", "a.x12", (GroupSent("7", sets),))
    sub = await ledger.record_submission_intent(intent)
    assert [S.BATCHED, S.QUEUED] == await states(ledger, ["C1", "C2"])
    assert ["intent"] == [s.status for s in await ledger.submissions()]
    await ledger.abandon_submission(sub, "transport down")
    assert [S.QUEUED] == await states(ledger, ["C1"])
    sub2 = await ledger.record_submission_intent(
        SubmissionIntent("demo", "837P", "8", "b.x12", (GroupSent("8", sets),))
    )
    await ledger.record_submission_success(sub2)
    await ledger.record_submission_success(sub2)  # twice: no change
    assert [S.SUBMITTED] == await states(ledger, ["C1"])
    assert [("7", "abandoned"), ("8", "submitted")] == [
        (s.isa13, s.status) for s in await ledger.submissions()
    ]
    with pytest.raises(LedgerError):
        await ledger.abandon_submission(sub2, "too late")


async def test_batching_an_unknown_or_invalid_claim_fails(ledger: Ledger) -> None:
    """A submission naming a claim not queued is refused and leaves nothing behind."""
    await ledger.record_claims([incoming("C1", findings=(Reason("E", "bad"),))])
    sets = (SetSent("1", (ClaimSent("C1", 1),)),)
    with pytest.raises(InvalidTransitionError):
        await ledger.record_submission_intent(
            SubmissionIntent("demo", "837P", "1", "a.x12", (GroupSent("1", sets),))
        )
    ghost = (SetSent("1", (ClaimSent("NOPE", 1),)),)
    with pytest.raises(UnknownClaimError):
        await ledger.record_submission_intent(
            SubmissionIntent("demo", "837P", "2", "b.x12", (GroupSent("2", ghost),))
        )
    assert [] == await ledger.submissions()


async def test_999_rejection_opens_items_and_is_idempotent(ledger: Ledger) -> None:
    """A 999 rejecting a set rejects its claim with IK3/IK4 reasons; a second apply is a no-op."""
    await ledger.record_claims([incoming("C1"), incoming("C2")])
    await submit(ledger, ["C1", "C2"])
    error = r.segment_error(
        "NM1", "12", "8", "segment has data element errors", "2010BA",
        (r.element_error("9", "7", "invalid code value", "67"),),
    )  # fmt: skip
    sets = (r.set_ack("0001", "A"), r.set_ack("0002", "R", (("5", "errors"),), (error,)))
    ack = r.ack999((r.group_ack("201", "P", sets),))
    result = await ledger.apply_response(ack, content_hash="h999", kind="999")
    again = await ledger.apply_response(ack, content_hash="h999", kind="999")
    copy = await ledger.apply_response(ack, content_hash="h999-copy", kind="999")
    assert (2, 2, False, True) == (
        result.applied,
        result.state_changes,
        result.duplicate,
        again.duplicate,
    )
    assert (0, 2) == (copy.state_changes, copy.skipped)
    assert [S.ACKNOWLEDGED, S.REJECTED] == await states(ledger, ["C1", "C2"])
    items = await ledger.open_items()
    assert ["C2"] == [i.claim_id for i in items]
    assert ["IK304-8", "IK403-7", "IK502-5"] == [r.code for r in items[0].reasons]
    assert "NM109" in items[0].reasons[1].where
    assert ["C2"] == [i.claim_id for i in await ledger.open_items(reason="IK403-7")]
    assert [] == await ledger.open_items(payer="99999")


async def test_ta1_rejection_and_unmatched_interchange(ledger: Ledger) -> None:
    """A TA1 R rejects every claim of the interchange; an unknown ISA13 is kept as unmatched."""
    await ledger.record_claims([incoming("C1"), incoming("C2")])
    await submit(ledger, ["C1", "C2"], isa13="000000555")
    result = await ledger.apply_response(
        r.ta1("000000555", "R", "008", "invalid receiver id"),
        content_hash="t1",
        kind="TA1",
    )
    stray = await ledger.apply_response(r.ta1("999", "A"), content_hash="t2", kind="TA1")
    assert [S.REJECTED, S.REJECTED] == await states(ledger, ["C1", "C2"])
    assert (2, ()) == (result.state_changes, result.unmatched)
    assert ["999"] == [u.reference for u in stray.unmatched]
    assert ["999"] == [u["reference"] for u in await ledger.unmatched()]
    assert ["TA1-008", "TA1-008"] == [i.reason_code for i in await ledger.open_items()]


async def test_acknowledgement_before_success_is_recorded_matches(ledger: Ledger) -> None:
    """A TA1 arriving between hand-over and recorded success confirms the delivery and matches."""
    await ledger.record_claims([incoming("C1"), incoming("C2")])
    sets = (SetSent("0001", (ClaimSent("C1", 1), ClaimSent("C2", 1))),)
    intent = SubmissionIntent("demo", "837P", "000000777", "early.x12", (GroupSent("77", sets),))
    sub = await ledger.record_submission_intent(intent)
    result = await ledger.apply_response(
        r.ta1("000000777", "A", "000", "no error"), content_hash="early", kind="TA1"
    )
    assert () == result.unmatched
    assert [S.SUBMITTED, S.SUBMITTED] == await states(ledger, ["C1", "C2"])
    await ledger.record_submission_success(sub)  # the worker catches up: nothing changes
    assert [S.SUBMITTED, S.SUBMITTED] == await states(ledger, ["C1", "C2"])
    assert ["submitted"] == [s.status for s in await ledger.submissions()]


async def test_payment_lifecycle_with_reversal_and_history(ledger: Ledger) -> None:
    """277CA then 835 paid, then reversal and corrected claim: the history tells the whole story."""
    await ledger.record_claims([incoming("C1", "200.00"), incoming("C2", "50.00")])
    await submit(ledger, ["C1", "C2"])
    ack = r.ack277(
        "PAYER",
        (
            r.claim_status("C1", (r.status_code("A2", "20"),), "PCN1"),
            r.claim_status("C2", (r.status_code("A7", "562", "85", "rejected", "NPI"),)),
        ),
    )
    await ledger.apply_response(ack, content_hash="277", kind="277CA")
    paid = r.remittance_claim("C1", "1", Decimal("200.00"), Decimal("150.00"), Decimal("50.00"),
                              "PCN1", (r.adjustment("PR", "1", Decimal("50.00")),))  # fmt: skip
    first = r.remittance("T1", "87726", (paid,))
    await ledger.apply_response(first, content_hash="835a", kind="835")
    reversal = r.remittance_claim("C1", "22", Decimal("-200.00"), Decimal("-150.00"), None, "PCN1")
    corrected = r.remittance_claim(
        "C1", "1", Decimal("200.00"), Decimal("180.00"), Decimal("20.00"),
        "PCN1", (r.adjustment("PR", "2", Decimal("20.00")),),
    )  # fmt: skip
    await ledger.apply_response(
        r.remittance("T2", "87726", (reversal, corrected)), content_hash="835b", kind="835"
    )
    claim = await ledger.claim("C1")
    history = await ledger.claim_history("C1")
    assert claim is not None
    assert history is not None
    assert (S.PAID, Decimal("180.00"), "PCN1") == (
        claim.state,
        claim.paid_amount,
        claim.payer_claim_control_number,
    )
    assert [
        "received", "checked", "batched", "submitted", "277ca", "835", "835", "835"
    ] == [e.kind for e in history.events]  # fmt: skip
    assert [S.ACCEPTED, S.PAID, S.REVERSED, S.PAID] == [e.to_state for e in history.events[4:]]
    assert ["201", "1"] == [history.events[3].gs06, history.events[3].st02]  # without zeros
    assert [S.PAYER_REJECTED] == await states(ledger, ["C2"])
    summary = await ledger.status()
    assert {S.PAID: 1, S.PAYER_REJECTED: 1} == dict(summary.counts)
    assert Decimal("180.00") == summary.paid[S.PAID]
    assert (1, ["C2"]) == (summary.open_items, [i.claim_id for i in summary.oldest_items])


async def test_resolve_and_withdraw_close_items(ledger: Ledger) -> None:
    """Resolving or withdrawing closes the open item and moves the claim to a final state."""
    bad = (Reason("E", "bad"),)
    await ledger.record_claims([incoming("C1", findings=bad), incoming("C2", findings=bad)])
    await ledger.resolve("C1", "billed on paper")
    await ledger.void_before_adjudication("C2", "duplicate of C9")
    assert [S.RESOLVED, S.VOIDED] == await states(ledger, ["C1", "C2"])
    history = await ledger.claim_history("C1")
    assert history is not None
    assert [("resolved", "billed on paper")] == [(i.closed_by, i.note) for i in history.items]
    assert [] == await ledger.open_items()
    with pytest.raises(InvalidTransitionError):
        await ledger.resolve("C2", "again")
    with pytest.raises(UnknownClaimError):
        await ledger.resolve("NOPE", "x")


async def test_mark_invalid_after_build(ledger: Ledger) -> None:
    """A queued claim found wrong by the TR3 check becomes invalid with its findings as reasons."""
    await ledger.record_claims([incoming("C1")])
    await ledger.mark_invalid("C1", [Reason("IK403-7", "invalid code", "SV101")])
    item = await ledger.open_item("C1")
    assert item is not None
    assert ("validation", "IK403-7", S.INVALID) == (item.source, item.reason_code, item.state)


async def test_events_are_append_only_rows(ledger: Ledger) -> None:
    """Every state change left one event row, in order, each with a time and a cause."""
    await ledger.record_claims([incoming("C1")])
    await submit(ledger, ["C1"])
    async with ledger._engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(tables.claim_events.c.to_state, tables.claim_events.c.cause).order_by(
                    tables.claim_events.c.id
                )
            )
        ).all()
    assert ["received", "queued", "batched", "submitted"] == [r[0] for r in rows]
    assert all(r[1] for r in rows)


async def test_leases_split_queued_claims_between_workers(ledger_url: str) -> None:
    """Two workers leasing at once never share a claim; an expired lease can be taken over."""
    first = await Ledger.open(ledger_url)
    second = await Ledger.open(ledger_url)
    try:
        await first.record_claims([incoming(f"C{n:02d}") for n in range(10)])
        a, b = await asyncio.gather(
            first.lease_queued_claims("a", limit=6), second.lease_queued_claims("b", limit=6)
        )
        taken_a = {q.claim_id for q in a}
        taken_b = {q.claim_id for q in b}
        assert (set(), 10) == (taken_a & taken_b, len(taken_a | taken_b))
        assert [] == await first.lease_queued_claims("c", limit=10)
        released = await second.release_leases("b")
        again = await first.lease_queued_claims("c", limit=10, lease_seconds=0)
        assert (len(taken_b), taken_b) == (released, {q.claim_id for q in again})
        await asyncio.sleep(0.01)
        taken_over = await second.lease_queued_claims("d", limit=10)
        assert taken_b == {q.claim_id for q in taken_over}
    finally:
        await first.close()
        await second.close()


async def test_batching_ends_the_lease(ledger: Ledger) -> None:
    """A leased claim that is batched and abandoned is free to be leased again."""
    await ledger.record_claims([incoming("C1")])
    (leased,) = await ledger.lease_queued_claims("a", limit=5)
    sets = (SetSent("1", (ClaimSent("C1", leased.version),)),)
    sub = await ledger.record_submission_intent(
        SubmissionIntent("demo", "837P", "1", "a.x12", (GroupSent("1", sets),))
    )
    await ledger.abandon_submission(sub, "crash")
    assert ["C1"] == [q.claim_id for q in await ledger.lease_queued_claims("b", limit=5)]


@pytest.mark.parametrize(
    ("code", "wanted", "expected"),
    [
        ("IK403-7", "IK403-7", True),
        ("IK403-7", "ik403", True),
        ("IK403-7", "7", True),
        ("STC-A7:562:85", "A7", True),
        ("STC-A7:562:85", "562", True),
        ("CO-50", "CO-50", True),
        ("CO-50", "50", True),
        ("CO-50", "5", False),
        ("IK403-7", "IK4", False),
    ],
)
def test_reason_filter_matches_codes_and_their_parts(
    code: str, wanted: str, expected: bool
) -> None:
    """`queue list --reason` matches a whole code or one of its parts, never a fragment."""
    from gateway.ledger.repository import _code_matches

    assert expected == _code_matches(code, wanted)


async def test_a_replacement_starts_unpaid(ledger: Ledger) -> None:
    """A denied claim resubmitted as a new version carries no payment until its own 835."""
    await ledger.record_claims([incoming("C1")])
    await submit(ledger, ["C1"])
    denied = r.remittance_claim("C1", "1", Decimal("100.00"), Decimal("0"), Decimal("0"), "PCN",
                             (r.adjustment("CO", "50", Decimal("100.00")),))  # fmt: skip
    await ledger.apply_response(r.remittance("T", "P", (denied,)), content_hash="835", kind="835")
    before = await ledger.claim("C1")
    await ledger.record_claims([incoming("C1")], origin="resubmit")
    after = await ledger.claim("C1")
    assert before is not None
    assert after is not None
    assert (S.DENIED, Decimal("0.00")) == (before.state, before.paid_amount)
    assert (S.QUEUED, None, "PCN") == (
        after.state, after.paid_amount, after.payer_claim_control_number
    )  # fmt: skip


async def test_workers_racing_on_the_same_input_record_it_once(ledger_url: str) -> None:
    """The same file, claims and response from two connections at once are recorded once."""
    first = await Ledger.open(ledger_url)
    second = await Ledger.open(ledger_url)
    try:
        files = await asyncio.gather(
            *(led.record_file("f" * 64, "x.json", "encounters") for led in (first, second))
        )
        intake = await asyncio.gather(
            *(led.record_claims([incoming("C1"), incoming("C2")]) for led in (first, second))
        )
        await submit(first, ["C1", "C2"])
        ack = r.ack999((r.group_ack("201", "A"),))
        applied = await asyncio.gather(
            *(led.apply_response(ack, content_hash="same", kind="999") for led in (first, second))
        )
        history = await first.claim_history("C1")
    finally:
        await first.close()
        await second.close()
    assert [True, False] == sorted((f.is_new for f in files), reverse=True)
    outcomes = sorted(o.outcome for batch in intake for o in batch)
    assert ["duplicate", "duplicate", "new", "new"] == outcomes
    assert [False, True] == sorted(a.duplicate for a in applied)
    assert history is not None
    assert 1 == [e.kind for e in history.events].count("999")


async def test_apply_events_checks_the_lifecycle(ledger: Ledger) -> None:
    """Events applied directly go through the transition table and are idempotent by key."""
    from gateway.ledger.records import ClaimEvent

    await ledger.record_claims([incoming("C1")])
    await submit(ledger, ["C1"])
    ok = ClaimEvent("C1", 1, "note", S.ACCEPTED, "accepted by phone", "phone:C1:1")
    wrong = ClaimEvent("C1", 1, "note", S.QUEUED, "back to the queue?", "phone:C1:2")
    ghost = ClaimEvent("NOPE", 1, "note", None, "who?", "phone:NOPE")
    assert 1 == await ledger.apply_events([ok])
    assert 0 == await ledger.apply_events([ok])
    with pytest.raises(InvalidTransitionError):
        await ledger.apply_events([wrong])
    with pytest.raises(UnknownClaimError):
        await ledger.apply_events([ghost])
    history = await ledger.claim_history("C1")
    assert history is not None
    assert (S.ACCEPTED, "accepted by phone") == (history.claim.state, history.events[-1].cause)


async def test_control_numbers_shared_by_two_partners_need_the_partner(ledger: Ledger) -> None:
    """GS06 1 sent to two partners: without the partner the 999 is unmatched (and says why);
    with it, only that partner's claims change."""
    await ledger.record_claims([incoming("C1"), incoming("C2", partner="other")])
    for claim_id, partner in (("C1", "demo"), ("C2", "other")):
        sets = (SetSent("0001", (ClaimSent(claim_id),)),)
        intent = SubmissionIntent(partner, "837P", "1", f"{partner}.x12", (GroupSent("1", sets),))
        await ledger.record_submission_success(await ledger.record_submission_intent(intent))
    ack = r.ack999((r.group_ack("1", "A", (r.set_ack("0001", "A"),)),))
    blind = await ledger.apply_response(ack, content_hash="a", kind="999")
    known = await ledger.apply_response(ack, content_hash="b", kind="999", partner="other")
    assert ["1"] == [u.reference for u in blind.unmatched]
    assert "several partners" in blind.unmatched[0].reason
    assert 1 == known.state_changes
    assert [S.SUBMITTED, S.ACKNOWLEDGED] == await states(ledger, ["C1", "C2"])
