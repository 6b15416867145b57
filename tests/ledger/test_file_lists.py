"""``Ledger.file_lists``: files set aside or held, unmatched response parts, and the 837s sent
to each partner on a day, on SQLite and PostgreSQL; ``Reports.unanswered`` beside them (the
dashboard's "no answer" list)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from gateway.ledger import tables as t
from gateway.ledger.file_lists import held_data, sent_totals
from gateway.ledger.store import Ledger
from tests.support import responses as r
from tests.support.ledger import incoming, submit


async def test_set_aside_and_held_files_newest_first_with_counts(ledger: Ledger) -> None:
    """Quarantined and refused files are listed newest first; held ones apart, as
    ``gateway responses list`` shows them; other files are not listed."""
    problem = {"code": "not-x12", "what": "no ISA segment", "where": None, "what_to_do": "x"}
    first = await ledger.record_file("h1", "a.json", "encounters", status="quarantined")
    await ledger.update_file(first.id, detail=problem, archive_path="/q/a.json")
    await ledger.record_file("h2", ".tmp-b", "unknown", status="refused")
    await ledger.record_file("h3", "ok.json", "encounters", status="archived")
    held = await ledger.record_file("h4", "cut.835", "835", status="held")
    detail = {"hold": "out-of-balance", "held_sets": [{"st02": "0001", "claims": 3}]}
    await ledger.update_file(held.id, detail=detail, archive_path="/q/cut.835")
    lists = ledger.file_lists
    assert [f.name for f in await lists.set_aside()] == [".tmp-b", "a.json"]
    assert problem == (await lists.set_aside())[1].detail
    assert [f.name for f in await lists.set_aside(limit=1)] == [".tmp-b"]
    found = await lists.held()
    assert [f.name for f in found] == ["cut.835"]
    assert {k: held_data(found[0])[k] for k in ("hold", "held_sets", "held_claims")} == {
        "hold": "out-of-balance",
        "held_sets": ["0001"],
        "held_claims": 3,
    }
    assert await lists.counts() == {"quarantined": 1, "refused": 1, "held": 1, "unmatched": 0}


async def test_unmatched_parts_with_their_response_file(ledger: Ledger) -> None:
    """A TA1 for an interchange we never sent is listed with its file's name and reason."""
    record = await ledger.record_file("t2", "stray.ta1", "TA1")
    await ledger.apply_response(r.ta1("999", "A"), content_hash="t2", kind="TA1", file_id=record.id)
    rows = await ledger.file_lists.unmatched()
    assert [(u.response_kind, u.file_name, u.reference) for u in rows] == [
        ("TA1", "stray.ta1", "999")
    ]
    assert rows[0].reason
    assert (await ledger.file_lists.counts())["unmatched"] == 1


async def test_sent_today_per_partner_with_claim_counts(ledger: Ledger) -> None:
    """Interchanges handed over today, with their claims; yesterday's are not today's."""
    await ledger.record_claims([incoming(f"S{n}") for n in range(5)])
    await submit(ledger, ["S0", "S1", "S2"], isa13="101", gs06="1")
    await submit(ledger, ["S3", "S4"], isa13="102", gs06="2")
    async with ledger._engine.begin() as conn:
        await conn.execute(
            t.interchanges.update()
            .where(t.interchanges.c.isa13 == "102")
            .values(submitted_at=datetime.now(UTC) - timedelta(days=1))
        )
    today = datetime.now(UTC).date()
    sent = await ledger.file_lists.sent_on(today)
    assert [(s.partner, s.isa13, s.claims) for s in sent] == [("demo", "101", 3)]
    assert sent_totals(sent) == {"demo": {"files": 1, "claims": 3}}
    yesterday = await ledger.file_lists.sent_on(today - timedelta(days=1))
    assert [s.isa13 for s in yesterday] == ["102"]


async def test_unanswered_lists_the_oldest_claims_with_no_answer(ledger: Ledger) -> None:
    """Claims submitted more than N days ago with no TA1/999/277CA/835 at all, oldest first;
    an answered one and a recent one are not counted."""
    await ledger.record_claims([incoming(f"N{n}") for n in range(4)])
    await submit(ledger, ["N0", "N1", "N2", "N3"], isa13="000000201")
    await ledger.apply_response(r.ta1("000000201", "A"), content_hash="ok", kind="TA1")
    await ledger.record_claims([incoming(f"M{n}") for n in range(3)])
    await submit(ledger, ["M0", "M1", "M2"], isa13="000000202")
    now = datetime.now(UTC)
    c = t.claims.c
    async with ledger._engine.begin() as conn:
        for cid, days in (("M0", 45), ("M1", 40), ("N0", 50)):
            await conn.execute(
                t.claims.update()
                .where(c.claim_id == cid)
                .values(first_submitted_at=now - timedelta(days=days))
            )
        old = sa.select(sa.func.count()).where(c.first_submitted_at < now - timedelta(days=30))
        assert (await conn.execute(old)).scalar_one() == 3
    count, table = await ledger.reports.unanswered(now.date(), limit=1)
    assert count == 2  # N0 was answered by the TA1 (accepted: state acknowledged or submitted)
    assert [row[0] for row in table.rows] == ["M0"]
    assert 45 <= table.records()[0]["days"] <= 46
    count, _ = await ledger.reports.unanswered(now.date(), no_answer_days={"demo": 60})
    assert count == 0
