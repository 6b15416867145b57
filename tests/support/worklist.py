"""Open correction items in a ledger, made through the ledger's intake (invalid claims), with
the times and amounts a worklist test needs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa

from gateway.ledger import tables as t
from gateway.ledger.records import Reason
from gateway.ledger.store import Ledger
from tests.support.ledger import incoming

T = TypeVar("T")


@dataclass(frozen=True)
class Item:
    """An invalid claim with one open item: its id, payer, partner, reason, charge and age."""

    claim_id: str
    payer: str = "87726"
    partner: str = "demo"
    reason: str = "E-NPI-CHECKDIGIT"
    charge: str = "100.00"
    days_old: float = 0.0


async def open_items(ledger: Ledger, items: Sequence[Item]) -> None:
    """Record each as an invalid claim (an open scrubber item), then date its item."""
    await ledger.record_claims(
        [
            incoming(
                i.claim_id,
                i.charge,
                payer_id=i.payer,
                partner=i.partner,
                findings=(Reason(i.reason, "a synthetic finding"),),
            )
            for i in items
        ]
    )
    now = datetime.now(UTC)
    ci = t.correction_items.c
    async with ledger._engine.begin() as conn:
        for i in items:
            if i.days_old:
                await conn.execute(
                    t.correction_items.update()
                    .where(ci.claim_id == i.claim_id)
                    .values(opened_at=now - timedelta(days=i.days_old))
                )


async def close_item(ledger: Ledger, claim_id: str) -> None:
    """A person resolves the claim (its item closes)."""
    await ledger.resolve(claim_id, "fixed by phone")


async def item_ids(ledger: Ledger) -> dict[str, int]:
    """Claim id -> its correction item's id."""
    async with ledger._engine.connect() as conn:
        rows = await conn.execute(sa.select(t.correction_items.c.claim_id, t.correction_items.c.id))
        return {c: int(i) for c, i in rows}


def in_ledger(url: str, step: Callable[[Ledger], Awaitable[T]]) -> T:
    """Run ``step`` on the ledger at ``url`` in a thread of its own (a browser test's own
    thread keeps Playwright's event loop), as another process writing the ledger would."""

    async def run() -> T:
        async with await Ledger.open(url) as ledger:
            return await step(ledger)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()
