"""Transports' last known state and the responses that matched nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gateway.ledger import tables as t
from gateway.ledger.records import (
    TransportState,
)

if TYPE_CHECKING:
    pass

from gateway.ledger.repository import (
    Repository,
    _aware,
    _insert,
    _now,
)


class TransportsRepository(Repository):
    """Transport state and unmatched responses."""

    async def record_transport_state(self, state: TransportState) -> None:
        """Keep ``state`` as its transport's last known state (one row per transport)."""
        table = t.transport_states
        values = {
            "partners": list(state.partners),
            "state": state.state,
            "since": state.since,
            "error": state.error[:2000] if state.error is not None else None,
            "error_kind": state.error_kind,
            "failures": state.failures,
            "next_attempt_at": state.next_attempt_at,
            "updated_at": state.updated_at or _now(),
        }
        insert = _insert(self.dialect, table).values(transport=state.transport[:255], **values)
        async with self._write() as conn:
            await conn.execute(
                insert.on_conflict_do_update(index_elements=["transport"], set_=values)
            )

    async def transport_states(self) -> list[TransportState]:
        """Every transport's last known state, by label."""
        table = t.transport_states
        async with self._read() as conn:
            rows = (
                (await conn.execute(sa.select(table).order_by(table.c.transport))).mappings().all()
            )
        return [
            TransportState(
                transport=r["transport"],
                partners=tuple(r["partners"] or ()),
                state=r["state"],
                since=_aware(r["since"]),
                error=r["error"],
                error_kind=r["error_kind"],
                failures=int(r["failures"]),
                next_attempt_at=_aware(r["next_attempt_at"]) if r["next_attempt_at"] else None,
                updated_at=_aware(r["updated_at"]),
            )
            for r in rows
        ]

    async def unmatched(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The latest unmatched response parts, newest first."""
        query = (
            sa.select(t.unmatched, t.responses.c.kind)
            .join(t.responses, t.responses.c.id == t.unmatched.c.response_id)
            .order_by(t.unmatched.c.id.desc())
            .limit(limit)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            {
                "kind": r["kind"],
                "reference": r["reference"],
                "reason": r["reason"],
                "detail": r["detail"] or {},
                "recorded_at": _aware(r["recorded_at"]),
            }
            for r in rows
        ]
