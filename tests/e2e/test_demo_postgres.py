"""`gateway demo` pointed at a PostgreSQL database that already holds claims (issue 18): it runs
in a database of its own, settles, and leaves the claims that were there untouched."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gateway.demo import (
    DEMO_DATABASE_PREFIX,
    prepare_workspace,
    previous_demo_ledger,
    render_report,
    run_demo,
    sample_files,
)
from gateway.ledger.databases import create_postgres_database, drop_postgres_database
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.store import Ledger
from gateway.ledger.testing import fresh_postgres_database, postgres_available
from tests.conftest import IN_CI
from tests.support.ledger import incoming

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
async def shared() -> AsyncIterator[str]:
    """A PostgreSQL database (fresh for the test) that already holds someone else's claim, one
    that never settles in the demo's world (queued for a partner the demo does not know)."""
    if not await postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    async with fresh_postgres_database("gateway_shared") as url:
        async with await Ledger.open(url) as ledger:
            await ledger.record_claims([incoming("PROD-1", partner="production")])
        yield url


async def _databases(url: str) -> set[str]:
    import asyncpg  # type: ignore[import-untyped]

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
    )
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database")
    finally:
        await conn.close()
    return {r["datname"] for r in rows}


async def test_the_demo_on_a_database_with_claims_runs_in_its_own_and_settles(
    shared: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo counts only its own claims (it used to wait for the database's forever), settles
    them in a database of its own, drops the previous demo run's database, and the claim that
    was in the database it was pointed at is still there, as it was."""
    old_name = f"{DEMO_DATABASE_PREFIX}earlier_run_{uuid.uuid4().hex[:8]}"
    old = await create_postgres_database(shared, old_name)
    folder = tmp_path / "gateway-demo"
    config = prepare_workspace(folder)
    config.write_text(config.read_text() + f'\n[ledger]\nurl = "{old}"\n')
    previous = previous_demo_ledger(folder)
    assert old == previous
    config = prepare_workspace(folder)
    monkeypatch.setenv("GATEWAY_LEDGER_URL", shared)  # as `GATEWAY_LEDGER_URL=... gateway demo`
    report = await run_demo(
        config, claims=6, progress=io.StringIO(), timeout=90.0, previous_ledger=previous
    )
    own = make_url(report.ledger).database or ""
    try:
        assert report.finished
        assert own.startswith(DEMO_DATABASE_PREFIX)
        assert own != make_url(shared).database
        samples = len(sample_files())
        claims = sum(report.summary.counts.values())
        assert claims >= 6 + samples - 1  # generated and sample claims (one sample is a COB pair)
        assert "PROD-1" not in {i.claim_id for i in report.summary.oldest_items}
        async with await Ledger.open(shared) as ledger:
            status = await ledger.status()
            kept = await ledger.claim("PROD-1")
        assert ({ClaimState.QUEUED: 1}, ClaimState.QUEUED) == (
            dict(status.counts),
            kept.state if kept else None,
        )
        names = await _databases(shared)
        assert (True, False) == (own in names, old_name in names)
        assert report.ledger in config.read_text()  # `gateway status --config` finds it
        text = render_report(report, "gateway-demo/gateway.toml")
        assert f"GATEWAY_LEDGER_URL={report.ledger} gateway status --config" in text
    finally:
        await drop_postgres_database(make_url(shared).set(database=own).render_as_string(False))
