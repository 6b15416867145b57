"""The correction queue: open items, and a person resolving or voiding a claim."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.ledger import tables as t
from gateway.ledger.lifecycle import ClaimState, transition
from gateway.ledger.records import (
    QueueItem,
)

if TYPE_CHECKING:
    pass

from gateway.ledger.repository import (
    Repository,
    S,
    _code_matches,
    _event_row,
    _item,
    _now,
)


class CorrectionsRepository(Repository):
    """Reading and closing correction items."""

    async def open_items(
        self, *, reason: str | None = None, payer: str | None = None, limit: int | None = None
    ) -> list[QueueItem]:
        """Open correction items, oldest first; ``reason`` matches any reason code (or prefix)."""
        query = self._items_query().where(t.correction_items.c.closed_at.is_(None))
        if payer is not None:
            query = query.where(t.correction_items.c.payer_id == payer)
        if reason is None and limit is not None:
            query = query.limit(max(0, limit))  # the oldest few, without reading the rest
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        items = [_item(r) for r in rows]
        if reason is not None:
            items = [i for i in items if any(_code_matches(r.code, reason) for r in i.reasons)]
        return items if limit is None else items[:limit]

    async def items_after(self, item_id: int) -> list[QueueItem]:
        """Open items created after item ``item_id``, in order (what ``queue tail`` follows)."""
        query = self._items_query().where(
            t.correction_items.c.id > item_id, t.correction_items.c.closed_at.is_(None)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_item(r) for r in rows]

    async def open_item(self, claim_id: str) -> QueueItem | None:
        """The open correction item of ``claim_id``, if any."""
        query = self._items_query().where(
            t.correction_items.c.claim_id == claim_id, t.correction_items.c.closed_at.is_(None)
        )
        async with self._read() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _item(row)

    async def resolve(self, claim_id: str, note: str) -> None:
        """A person closes the claim's open item: the claim becomes ``resolved``."""
        await self._close_by_person(
            claim_id, S.RESOLVED, "resolved", f"resolved by a person: {note}", note
        )

    async def void_before_adjudication(self, claim_id: str, note: str) -> None:
        """Void a claim the payer never adjudicated: nothing is sent; the claim is ``voided``."""
        await self._close_by_person(
            claim_id,
            S.VOIDED,
            "voided",
            f"withdrawn before adjudication, nothing sent: {note}",
            note,
        )

    async def _close_by_person(
        self, claim_id: str, target: ClaimState, kind: str, cause: str, note: str
    ) -> None:
        """Close the claim's open item and move it to ``target``, with its event."""
        now = _now()
        async with self._write() as conn:
            row = await self._claim_row(conn, claim_id)
            state = S(row["state"])
            transition(state, target)
            await self._close_items(conn, claim_id, kind, note, now)
            await self._set_state(conn, claim_id, target, now)
            await conn.execute(
                t.claim_events.insert().values(
                    _event_row(
                        claim_id, int(row["current_version"]), now, kind, state, target, cause
                    )
                )
            )
