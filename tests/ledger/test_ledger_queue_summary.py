"""``Ledger.queued_summary``: how many claims wait per partner and kind (capped) and since when,
on SQLite and PostgreSQL, agreeing with the claims ``queued_claims`` would load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.ledger.records import Reason
from gateway.ledger.store import Ledger
from tests.support.ledger import incoming, submit


async def fill(led: Ledger) -> None:
    """Five professional claims for demo (two then submitted, one invalid), two institutional,
    and one professional claim for another partner."""
    await led.record_claims([incoming(f"P{n}") for n in range(1, 6)])
    await led.record_claims([incoming("BAD", findings=(Reason("E", "bad"),))])
    await led.record_claims([incoming(f"I{n}", kind="institutional") for n in (1, 2)])
    await led.record_claims([incoming("O1", partner="other")])
    await submit(led, ["P1", "P2"])


@pytest.mark.parametrize(
    ("partner", "kind", "limit", "expected"),
    [
        ("demo", "professional", None, 3),
        ("demo", "professional", 2, 2),  # counted up to the batch size only
        ("demo", "professional", 10, 3),
        ("demo", "institutional", None, 2),
        ("other", "professional", None, 1),
        ("other", "institutional", None, 0),
        ("nobody", "professional", 5, 0),
        (None, None, None, 6),
    ],
)
async def test_the_summary_counts_queued_claims_per_partner_and_kind(
    ledger: Ledger, partner: str | None, kind: str | None, limit: int | None, expected: int
) -> None:
    """The count is that of the queued claims of the partner and kind, never above ``limit``."""
    before = datetime.now(UTC) - timedelta(seconds=5)
    await fill(ledger)
    count, oldest = await ledger.queued_summary(partner=partner, kind=kind, limit=limit)
    waiting = await ledger.queued_claims(partner=partner, kind=kind, limit=limit)
    assert expected == count
    assert len(waiting) == count
    if expected:
        assert oldest is not None
        assert before <= oldest <= datetime.now(UTC) + timedelta(seconds=5)
    else:
        assert oldest is None


async def test_the_oldest_is_the_first_claim_queued(ledger: Ledger) -> None:
    """The oldest time is that of the claim queued first, whatever the limit."""
    await ledger.record_claims([incoming("A1")])
    first = (await ledger.queued_summary())[1]
    await ledger.record_claims([incoming("A2")])
    assert (2, first) == await ledger.queued_summary()
    assert (1, first) == await ledger.queued_summary(limit=1)
