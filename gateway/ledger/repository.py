"""The ledger's shared base: errors, the engine and its transactions, row helpers.

Every repository of the ledger (files, intake, batching, submissions, responses,
corrections, status, transports) derives from :class:`Repository`; ``Ledger`` in
``gateway.ledger.store`` puts them together.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.ledger import tables as t
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import (
    ClaimEvent,
    ClaimRecord,
    FileRecord,
    QueueItem,
    Reason,
    Unmatched,
)

if TYPE_CHECKING:
    pass


__all__ = [
    "HELD_SOURCE",
    "ApplyResult",
    "Counter",
    "LedgerError",
    "Repository",
    "UnknownClaimError",
    "sqlalchemy_url",
]

S = ClaimState
Counter = Literal["isa13", "gs06", "st02"]
_MAXIMUM = 999_999_999
_CHUNK = 500
#: The source of a correction item opened because a response holding the claim's money is held.
HELD_SOURCE = "835-held"
#: How often a response rolled back by a deadlock (PostgreSQL) is applied again.
_DEADLOCK_RETRIES = 5

#: Join a claim to the row of its current version (``claim_versions``): the encounter and
#: frequency the claim now stands for.
CURRENT_VERSION = sa.and_(
    t.claim_versions.c.claim_id == t.claims.c.claim_id,
    t.claim_versions.c.version == t.claims.c.current_version,
)
#: Claims that can take a new version without it being a duplicate of one still in flight.
_REOPENABLE = frozenset(
    {S.INVALID, S.REJECTED, S.PAYER_REJECTED, S.DENIED, S.REVERSED, S.PAID, S.PARTIALLY_PAID}
    | {S.RESOLVED, S.CROSSED_OVER}
)


class LedgerError(Exception):
    """The ledger cannot do what was asked (the message says why and what to do)."""


class UnknownClaimError(LedgerError):
    """No claim with that id is in the ledger."""


@dataclass(frozen=True)
class ApplyResult:
    """What applying one response did."""

    response_id: int | None
    duplicate: bool
    applied: int  # events written
    state_changes: int
    skipped: int  # events already applied before
    unmatched: tuple[Unmatched, ...]
    opened_items: tuple[str, ...]  # claim ids that got a correction item


def sqlalchemy_url(url: str) -> str:
    """The async driver URL for ``url``: ``sqlite:`` -> aiosqlite, ``postgresql:`` -> asyncpg."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise LedgerError(f"ledger URL {parsed.drivername!r}: use sqlite:///PATH or postgresql://...")


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _json_ready(value: Mapping[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return loaded


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Repository:
    """What every part of the ledger shares: the engine, transactions, and the claim and
    correction-item primitives that more than one part writes through."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            if self._sqlite:
                await conn.execution_options(sqlite_write=True)
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn, conn.begin():
            yield conn

    def _items_query(self) -> sa.Select[Any]:
        ci = t.correction_items
        return (
            sa.select(
                ci,
                t.claims.c.state,
                t.claims.c.partner,
                t.claims.c.payer_claim_control_number,
                t.claim_versions.c.frequency,
                t.claim_versions.c.encounter,
                t.claim_versions.c.leg,
                t.files.c.name.label("file_name"),
            )
            .join(t.claims, t.claims.c.claim_id == ci.c.claim_id)
            .join(
                t.claim_versions,
                sa.and_(
                    t.claim_versions.c.claim_id == ci.c.claim_id,
                    t.claim_versions.c.version == ci.c.version,
                ),
            )
            .outerjoin(t.files, t.files.c.id == ci.c.file_id)
            .order_by(ci.c.opened_at, ci.c.id)
        )

    async def _open_item(
        self,
        conn: AsyncConnection,
        claim_id: str,
        version: int,
        state: ClaimState,
        source: str,
        reasons: Sequence[Reason],
        payer_id: str | None,
        response_id: int | None,
        file_id: int | None,
        now: datetime,
    ) -> None:
        ci = t.correction_items
        reason_list = [r.as_dict() for r in reasons]
        existing = (
            (
                await conn.execute(
                    sa.select(ci.c.id, ci.c.reasons).where(
                        ci.c.claim_id == claim_id, ci.c.closed_at.is_(None)
                    )
                )
            )
            .mappings()
            .first()
        )
        if existing is not None:
            # A second rejection for the same claim (payer after clearinghouse): add its reasons.
            merged = list(existing["reasons"]) + [
                r for r in reason_list if r not in existing["reasons"]
            ]
            await conn.execute(
                ci.update()
                .where(ci.c.id == existing["id"])
                .values(reasons=merged, state_at_open=state.value)
            )
            return
        if payer_id is None:
            payer_id = (
                await conn.execute(
                    sa.select(t.claims.c.payer_id).where(t.claims.c.claim_id == claim_id)
                )
            ).scalar_one()
        await conn.execute(
            ci.insert().values(
                claim_id=claim_id,
                version=version,
                state_at_open=state.value,
                source=source,
                reason_code=(reasons[0].code if reasons else source)[:40],
                reasons=reason_list,
                payer_id=payer_id,
                response_id=response_id,
                file_id=file_id,
                opened_at=now,
            )
        )

    async def _close_items(
        self, conn: AsyncConnection, claim_id: str, by: str, note: str | None, now: datetime
    ) -> None:
        ci = t.correction_items
        await conn.execute(
            ci.update()
            .where(ci.c.claim_id == claim_id, ci.c.closed_at.is_(None))
            .values(closed_at=now, closed_by=by, note=(note or "")[:2000] or None)
        )

    def _lock(self, query: sa.Select[Any]) -> sa.Select[Any]:
        return query if self._sqlite else query.with_for_update()

    async def _claim_row(self, conn: AsyncConnection, claim_id: str) -> Mapping[Any, Any]:
        row = (
            (
                await conn.execute(
                    self._lock(sa.select(t.claims).where(t.claims.c.claim_id == claim_id))
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise UnknownClaimError(f"claim {claim_id} is not in the ledger")
        found: Mapping[Any, Any] = row
        return found

    async def _states(
        self, conn: AsyncConnection, claim_ids: Sequence[str]
    ) -> dict[str, tuple[ClaimState, int]]:
        out: dict[str, tuple[ClaimState, int]] = {}
        for chunk in _chunks(sorted(set(claim_ids))):
            query = (
                sa.select(t.claims.c.claim_id, t.claims.c.state, t.claims.c.current_version)
                .where(t.claims.c.claim_id.in_(chunk))
                .order_by(t.claims.c.claim_id)  # locks in one order: no deadlock between workers
            )
            for cid, state, version in (await conn.execute(self._lock(query))).all():
                out[cid] = (S(state), int(version))
        return out

    async def _set_state(
        self, conn: AsyncConnection, claim_id: str, state: ClaimState, now: datetime
    ) -> None:
        await conn.execute(
            t.claims.update()
            .where(t.claims.c.claim_id == claim_id)
            .values(state=state.value, updated_at=now)
        )

    async def _set_states(
        self, conn: AsyncConnection, claim_ids: Sequence[str], state: ClaimState, now: datetime
    ) -> None:
        for chunk in _chunks(list(claim_ids)):
            await conn.execute(
                t.claims.update()
                .where(t.claims.c.claim_id.in_(chunk))
                .values(state=state.value, updated_at=now, lease_owner=None, lease_until=None)
            )


# ---------------------------------------------------------------------- module helpers


def _code_matches(code: str, wanted: str) -> bool:
    """``IK403-7`` matches ``IK403-7``, ``IK403`` and ``7``; ``STC-A7:562:85`` matches ``A7``,
    ``STC-A7`` and ``562``; ``CO-50`` matches ``CO`` and ``50``. Case does not matter."""
    code, wanted = code.upper(), wanted.strip().upper()
    if code == wanted or code.startswith((wanted + "-", wanted + ":")):
        return True
    return wanted in re.split(r"[-:]", code)


def _event_row(
    claim_id: str,
    version: int,
    at: datetime,
    kind: str,
    from_state: ClaimState | None,
    to_state: ClaimState | None,
    cause: str,
    *,
    isa13: str | None = None,
    gs06: str | None = None,
    st02: str | None = None,
    file_id: int | None = None,
    amount: Decimal | None = None,
    detail: Mapping[str, Any] | None = None,
    event_key: str | None = None,
) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "version": version,
        "at": at,
        "kind": kind,
        "from_state": from_state.value if from_state else None,
        "to_state": to_state.value if to_state else None,
        "cause": cause[:500],
        "file_id": file_id,
        "response_id": None,
        "isa13": isa13,
        "gs06": gs06,
        "st02": st02,
        "amount": amount,
        "detail": _json_ready(detail) if detail else None,
        "event_key": event_key,
    }


def _response_event_row(
    ev: ClaimEvent,
    at: datetime,
    before: ClaimState,
    after: ClaimState | None,
    *,
    file_id: int | None,
) -> dict[str, Any]:
    """The row of an event a response caused (``from_state`` only when the state moved)."""
    return _event_row(
        ev.claim_id,
        ev.version,
        at,
        ev.kind,
        before if after is not None else None,
        after,
        ev.cause,
        isa13=ev.isa13,
        gs06=ev.gs06,
        st02=ev.st02,
        file_id=file_id,
        amount=ev.amount,
        detail=dict(ev.detail) if ev.detail else None,
        event_key=ev.key,
    )


def _event_key(text: str) -> str:
    """An event key within the column's 200 characters (a long one ends in its hash)."""
    if len(text) <= 200:
        return text
    return text[:135] + "#" + hashlib.sha256(text.encode()).hexdigest()


def _pk(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise LedgerError("the database returned no primary key")
    return int(key[0])


def _file_record(row: Mapping[Any, Any], *, is_new: bool) -> FileRecord:
    return FileRecord(
        row["id"],
        row["content_hash"],
        row["name"],
        row["kind"],
        row["direction"],
        row["status"],
        row["archive_path"],
        is_new,
        row["detail"],
        row["size"],
    )


def _claim_record(row: Mapping[Any, Any]) -> ClaimRecord:
    return ClaimRecord(
        row["claim_id"],
        row["kind"],
        row["partner"],
        row["payer_id"],
        row["payer_name"],
        S(row["state"]),
        int(row["current_version"]),
        row["total_charge"],
        row["paid_amount"],
        row["patient_responsibility"],
        row["payer_claim_control_number"],
        _aware(row["created_at"]),
        _aware(row["updated_at"]),
    )


def _item(row: Mapping[Any, Any]) -> QueueItem:
    return QueueItem(
        row["id"],
        row["claim_id"],
        row["version"],
        S(row["state"]),
        row["source"],
        row["reason_code"],
        tuple(Reason.from_dict(r) for r in row["reasons"] or ()),
        row["payer_id"],
        row["partner"],
        row["frequency"],
        row["payer_claim_control_number"],
        _aware(row["opened_at"]),
        _aware(row["closed_at"]) if row["closed_at"] else None,
        row["closed_by"],
        row["note"],
        row["file_name"],
        row["encounter"],
        int(row["leg"]),
    )


def _insert(dialect: str, table: sa.Table) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert(table)
