"""The claim queue for batching: claims waiting to be built into 837s, leased to one
worker at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from gateway.ledger import tables as t
from gateway.ledger.records import (
    QueuedClaim,
)

if TYPE_CHECKING:
    pass

from gateway.ledger.repository import (
    CURRENT_VERSION,
    Repository,
    S,
    _aware,
    _chunks,
    _now,
)


class BatchingRepository(Repository):
    """Queued claims, their leases and the waiting summary."""

    async def queued_claims(
        self,
        *,
        partner: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        claim_ids: Sequence[str] | None = None,
    ) -> list[QueuedClaim]:
        """Claims waiting for a batch, oldest first (their current version's encounter)."""
        query = (
            sa.select(
                t.claims.c.claim_id,
                t.claims.c.current_version,
                t.claims.c.kind,
                t.claims.c.partner,
                t.claims.c.payer_id,
                t.claim_versions.c.frequency,
                t.claim_versions.c.encounter,
            )
            .join(t.claim_versions, CURRENT_VERSION)
            .where(t.claims.c.state == S.QUEUED.value)
            .order_by(t.claims.c.updated_at, t.claims.c.claim_id)
        )
        if partner is not None:
            query = query.where(t.claims.c.partner == partner)
        if kind is not None:
            query = query.where(t.claims.c.kind == kind)
        if limit is not None:
            query = query.limit(limit)
        async with self._read() as conn:
            if claim_ids is None:
                rows = list((await conn.execute(query)).all())
            else:
                rows = []
                for chunk in _chunks(list(claim_ids)):
                    chosen = query.where(t.claims.c.claim_id.in_(chunk))
                    rows += (await conn.execute(chosen)).all()
        return [QueuedClaim(r[0], int(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    async def queued_summary(
        self, *, partner: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> tuple[int, datetime | None]:
        """How many claims wait for a batch (counted up to ``limit``) and when the oldest of them
        was queued: what the batcher needs each tick, without reading any encounter."""
        c = t.claims.c
        inner = sa.select(c.updated_at).where(c.state == S.QUEUED.value)
        if partner is not None:
            inner = inner.where(c.partner == partner)
        if kind is not None:
            inner = inner.where(c.kind == kind)
        if limit is not None:
            inner = inner.order_by(c.updated_at).limit(limit)
        sub = inner.subquery()
        query = sa.select(sa.func.count(), sa.func.min(sub.c.updated_at)).select_from(sub)
        async with self._read() as conn:
            count, oldest = (await conn.execute(query)).one()
        return int(count or 0), (_aware(oldest) if oldest is not None else None)

    async def lease_queued_claims(
        self,
        worker: str,
        *,
        limit: int,
        lease_seconds: float = 300.0,
        partner: str | None = None,
        kind: str | None = None,
    ) -> list[QueuedClaim]:
        """Take up to ``limit`` queued claims for ``worker`` to batch, oldest first.

        A claim is taken when nobody holds it or its holder's lease expired (a worker that died).
        On PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so workers never wait
        on each other or take the same claim; on SQLite the write transaction serializes them.
        Batching the claim (``record_submission_intent``) ends the lease.
        """
        now = _now()
        until = now + timedelta(seconds=lease_seconds)
        c = t.claims.c
        query = (
            sa.select(c.claim_id)
            .where(
                c.state == S.QUEUED.value,
                sa.or_(c.lease_until.is_(None), c.lease_until < now, c.lease_owner == worker),
            )
            .order_by(c.updated_at, c.claim_id)
            .limit(limit)
        )
        if partner is not None:
            query = query.where(c.partner == partner)
        if kind is not None:
            query = query.where(c.kind == kind)
        if not self._sqlite:
            query = query.with_for_update(skip_locked=True)
        async with self._write() as conn:
            ids = [row[0] for row in (await conn.execute(query)).all()]
            for chunk in _chunks(ids):
                await conn.execute(
                    t.claims.update()
                    .where(c.claim_id.in_(chunk))
                    .values(lease_owner=worker, lease_until=until)
                )
        # Only the claims just taken are read back (not every queued claim's encounter).
        return await self.queued_claims(partner=partner, kind=kind, claim_ids=ids)

    async def release_leases(self, worker: str) -> int:
        """Give back every claim ``worker`` holds (on shutdown); returns how many."""
        async with self._write() as conn:
            result = await conn.execute(
                t.claims.update()
                .where(t.claims.c.lease_owner == worker)
                .values(lease_owner=None, lease_until=None)
            )
        return int(result.rowcount or 0)
