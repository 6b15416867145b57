"""Ledger fixtures (an empty SQLite or a fresh PostgreSQL ledger) and claims to put in it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.ledger.records import (
    ClaimSent,
    GroupSent,
    IncomingClaim,
    SetSent,
    SubmissionIntent,
)
from gateway.ledger.store import Ledger
from gateway.ledger.testing import fresh_postgres_database, postgres_available
from tests.support.env import IN_CI


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty ledger database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state/gateway.db"
        return
    if not await postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def ledger(ledger_url: str) -> AsyncIterator[Ledger]:
    """An open, migrated ledger."""
    led = await Ledger.open(ledger_url)
    try:
        yield led
    finally:
        await led.close()


def incoming(claim_id: str, charge: str = "100.00", **extra: Any) -> IncomingClaim:
    """An incoming professional claim for the demo partner."""
    values: dict[str, Any] = {
        "claim_id": claim_id,
        "kind": "professional",
        "partner": "demo",
        "payer_id": "87726",
        "total_charge": Decimal(charge),
        "encounter": {"claim_id": claim_id, "service_lines": [{"charge": charge}]},
    }
    values.update(extra)
    return IncomingClaim(**values)


async def submit(
    ledger: Ledger, claim_ids: list[str], isa13: str = "101", gs06: str = "201"
) -> int:
    """Record and send one interchange holding the claims, one set per claim (ST02 0001...)."""
    sets = tuple(
        SetSent(f"{n:04d}", (ClaimSent(cid, 1, (f"{cid}-1", f"{cid}-2")),))
        for n, cid in enumerate(claim_ids, start=1)
    )
    intent = SubmissionIntent("demo", "837P", isa13, f"{isa13}.x12", (GroupSent(gs06, sets),))
    sub = await ledger.record_submission_intent(intent)
    await ledger.record_submission_success(sub)
    return sub
