"""The ledger: an async store of files, claims, submissions, responses and claim events.

``Ledger.open(url)`` connects (``sqlite+aiosqlite:///path`` in WAL mode, or
``postgresql+asyncpg://...``), applies the Alembic migrations, and hands out one object the
service and the commands share. Every change of a claim's state goes through the lifecycle table
and appends a claim event in the same transaction; on SQLite every write transaction starts with
``BEGIN IMMEDIATE`` so that concurrent processes queue up instead of failing mid-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gateway.ledger import reports as report_queries
from gateway.ledger import tables as t
from gateway.ledger.lifecycle import CORRECTION_STATES, ClaimState, transition
from gateway.ledger.reconcile import (
    Response,
    SentClaim,
    SentSnapshot,
    normalize_control_number,
    reconcile,
    references,
)
from gateway.ledger.records import (
    ClaimEvent,
    ClaimHistory,
    ClaimRecord,
    EventRecord,
    FileRecord,
    HeldClaim,
    IncomingClaim,
    IntakeOutcome,
    QueuedClaim,
    QueueItem,
    Reason,
    StatusSummary,
    SubmissionIntent,
    SubmissionRecord,
    TransportState,
    Unmatched,
    VersionRecord,
)

if TYPE_CHECKING:
    from gateway.ledger.adapt import Document
    from gateway.transactions.claim837_envelope import InterchangeSent

__all__ = [
    "HELD_SOURCE",
    "ApplyResult",
    "Counter",
    "Ledger",
    "LedgerError",
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
#: Claims that can take a new version without it being a duplicate of one still in flight.
_REOPENABLE = frozenset(
    {S.INVALID, S.REJECTED, S.PAYER_REJECTED, S.DENIED, S.REVERSED, S.PAID, S.PARTIALLY_PAID}
    | {S.RESOLVED}
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


class Ledger:
    """The gateway's memory: made by :meth:`open`, closed by :meth:`close` or ``async with``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    # ------------------------------------------------------------------ opening

    @classmethod
    async def open(cls, url: str, *, upgrade: bool = True) -> Ledger:
        """Connect to the ledger at ``url`` and (by default) bring its schema up to date."""
        async_url = sqlalchemy_url(url)
        parsed = make_url(async_url)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not Path(database).exists():
                    Path(database).touch(mode=0o600)
            engine = create_async_engine(async_url, connect_args={"timeout": 60})
            _sqlite_pragmas(engine)
        else:
            engine = create_async_engine(async_url, pool_pre_ping=True)
        ledger = cls(engine)
        if upgrade:
            try:
                await ledger.upgrade()
            except BaseException:
                await engine.dispose()
                raise
        return ledger

    async def close(self) -> None:
        """Release every connection."""
        await self._engine.dispose()

    async def __aenter__(self) -> Ledger:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def reports(self) -> report_queries.Reports:
        """The revenue-cycle report queries over this ledger (``gateway.ledger.reports``)."""
        return report_queries.Reports(self._engine)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    async def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision`` (idempotent)."""
        async with self._write() as conn:
            if not self._sqlite:
                # Two workers starting together must not both create the tables.
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7212837)"))
            await conn.run_sync(_run_alembic, revision)

    async def revision(self) -> str | None:
        """The schema revision the database is at (None before the first upgrade)."""
        async with self._engine.connect() as conn:
            return await conn.run_sync(_current_revision)

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

    # ------------------------------------------------------------------ files

    async def record_file(
        self,
        content_hash: str,
        name: str,
        kind: str,
        direction: str = "in",
        *,
        status: str = "received",
        size: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> FileRecord:
        """Record a file by content hash; the same content again returns the first record."""
        try:
            return await self._insert_file(
                content_hash, name, kind, direction, status, size, detail
            )
        except IntegrityError:
            # The same content recorded by another worker at the same moment: a duplicate.
            existing = await self.file_by_hash(content_hash)
            if existing is None:
                raise
            return existing

    async def _insert_file(
        self,
        content_hash: str,
        name: str,
        kind: str,
        direction: str,
        status: str,
        size: int | None,
        detail: Mapping[str, Any] | None,
    ) -> FileRecord:
        async with self._write() as conn:
            existing = await self._file_by_hash(conn, content_hash)
            if existing is not None:
                return replace(existing, is_new=False)
            now = _now()
            result = await conn.execute(
                t.files.insert().values(
                    content_hash=content_hash,
                    name=name,
                    kind=kind,
                    direction=direction,
                    status=status,
                    size=size,
                    detail=dict(detail) if detail else None,
                    received_at=now,
                    updated_at=now,
                )
            )
            file_id = _pk(result)
        return FileRecord(file_id, content_hash, name, kind, direction, status, None, True)

    async def update_file(
        self,
        file_id: int,
        *,
        status: str | None = None,
        archive_path: str | None = None,
        kind: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Change a file's status, archive location, kind or detail."""
        values: dict[str, Any] = {"updated_at": _now()}
        if status is not None:
            values["status"] = status
        if archive_path is not None:
            values["archive_path"] = archive_path
        if kind is not None:
            values["kind"] = kind
        if detail is not None:
            values["detail"] = _json_ready(detail)
        async with self._write() as conn:
            await conn.execute(t.files.update().where(t.files.c.id == file_id).values(**values))

    async def file(self, file_id: int) -> FileRecord | None:
        """The file with this id, if any."""
        async with self._read() as conn:
            row = (
                (await conn.execute(sa.select(t.files).where(t.files.c.id == file_id)))
                .mappings()
                .first()
            )
        return None if row is None else _file_record(row, is_new=False)

    async def file_by_hash(self, content_hash: str) -> FileRecord | None:
        """The file with this content hash, if seen."""
        async with self._read() as conn:
            return await self._file_by_hash(conn, content_hash)

    async def files(self, *, status: str | None = None) -> list[FileRecord]:
        """Every file (or those with ``status``), oldest first."""
        query = sa.select(t.files).order_by(t.files.c.id)
        if status is not None:
            query = query.where(t.files.c.status == status)
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_file_record(row, is_new=False) for row in rows]

    async def _file_by_hash(self, conn: AsyncConnection, content_hash: str) -> FileRecord | None:
        row = (
            (await conn.execute(sa.select(t.files).where(t.files.c.content_hash == content_hash)))
            .mappings()
            .first()
        )
        return None if row is None else _file_record(row, is_new=False)

    # ------------------------------------------------------------------ claims in

    async def record_claims(
        self,
        incoming: Sequence[IncomingClaim],
        *,
        file_id: int | None = None,
        origin: str = "intake",
    ) -> list[IntakeOutcome]:
        """Record encounters as claims: new ones, new versions of reopenable ones, or duplicates.

        A claim id already in the ledger takes a new version only when ``origin`` is a correction
        (``correction-file`` or ``resubmit``) or the encounter is a replacement/void (7 or 8) and
        the claim is not in flight; otherwise it is a ``duplicate`` and nothing changes. Claims
        with ``findings`` become ``invalid`` with a correction item; the others are ``queued``.
        """
        for attempt in range(3):
            outcomes: list[IntakeOutcome] = []
            try:
                async with self._write() as conn:
                    for chunk in _chunks(incoming):
                        outcomes.extend(await self._record_chunk(conn, chunk, file_id, origin))
            except IntegrityError:
                # Another worker recorded one of these claim ids at the same moment (PostgreSQL):
                # the whole file is rolled back and recorded again, now seeing that claim.
                if attempt == 2:
                    raise
                continue
            return outcomes
        raise AssertionError("unreachable")  # pragma: no cover

    async def _record_chunk(
        self,
        conn: AsyncConnection,
        chunk: Sequence[IncomingClaim],
        file_id: int | None,
        origin: str,
    ) -> list[IntakeOutcome]:
        ids = [c.claim_id for c in chunk]
        rows = (
            (
                await conn.execute(
                    self._lock(sa.select(t.claims).where(t.claims.c.claim_id.in_(ids)))
                )
            )
            .mappings()
            .all()
        )
        existing = {row["claim_id"]: row for row in rows}
        now = _now()
        outcomes: list[IntakeOutcome] = []
        new_claims: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        seen: set[str] = set()
        for claim in chunk:
            correction = origin != "intake" or claim.frequency in ("7", "8")
            row = existing.get(claim.claim_id)
            if claim.claim_id in seen:
                outcomes.append(
                    IntakeOutcome(claim.claim_id, "duplicate", 0, S.RECEIVED, "twice in one file")
                )
                continue
            seen.add(claim.claim_id)
            if row is not None:
                state = S(row["state"])
                if not correction or state not in _REOPENABLE:
                    detail = f"claim {claim.claim_id} is already in the ledger ({state})"
                    outcomes.append(
                        IntakeOutcome(
                            claim.claim_id, "duplicate", row["current_version"], state, detail
                        )
                    )
                    continue
            version = 1 if row is None else int(row["current_version"]) + 1
            target = S.INVALID if claim.findings else S.QUEUED
            versions.append(
                {
                    "claim_id": claim.claim_id,
                    "version": version,
                    "frequency": claim.frequency,
                    "replaces_version": None if row is None else version - 1,
                    "origin": origin,
                    "source_file_id": file_id,
                    "total_charge": claim.total_charge,
                    "encounter": _json_ready(claim.encounter),
                    "received_at": now,
                }
            )
            base = {
                "claim_id": claim.claim_id,
                "version": version,
                "at": now,
                "file_id": file_id,
                "response_id": None,
                "isa13": None,
                "gs06": None,
                "st02": None,
                "amount": claim.total_charge,
                "detail": None,
                "event_key": None,
            }
            if row is None:
                new_claims.append(
                    {
                        "claim_id": claim.claim_id,
                        "kind": claim.kind,
                        "partner": claim.partner,
                        "payer_id": claim.payer_id,
                        "payer_name": claim.payer_name,
                        "state": target.value,
                        "current_version": version,
                        "total_charge": claim.total_charge,
                        "created_at": now,
                        "updated_at": now,
                    }
                    | report_queries.claim_columns(claim.encounter, clean=not claim.findings)
                )
                events.append(
                    base
                    | {
                        "kind": "received",
                        "from_state": None,
                        "to_state": S.RECEIVED.value,
                        "cause": f"received ({origin}, frequency {claim.frequency})",
                    }
                )
                outcome = "new"
            else:
                previous = S(row["state"])
                transition(previous, S.RECEIVED)
                events.append(
                    base
                    | {
                        "kind": "resubmitted",
                        "from_state": previous.value,
                        "to_state": S.RECEIVED.value,
                        "cause": f"version {version} (frequency {claim.frequency}) replaces "
                        f"version {version - 1} ({origin})",
                    }
                )
                await self._close_items(conn, claim.claim_id, "resubmitted", None, now)
                await conn.execute(
                    t.claims.update()
                    .where(t.claims.c.claim_id == claim.claim_id)
                    .values(
                        state=target.value,
                        current_version=version,
                        total_charge=claim.total_charge,
                        payer_id=claim.payer_id,
                        partner=claim.partner,
                        kind=claim.kind,
                        # The new version is unpaid so far; what the old one got is in its events.
                        paid_amount=None,
                        patient_responsibility=None,
                        updated_at=now,
                        **report_queries.claim_columns(claim.encounter),
                    )
                )
                outcome = "resubmission"
            transition(S.RECEIVED, target)
            cause = (
                f"checked: {len(claim.findings)} finding(s), first {claim.findings[0].code}"
                if claim.findings
                else "checked: no findings, waiting for a batch"
            )
            events.append(
                base
                | {
                    "kind": "checked",
                    "from_state": S.RECEIVED.value,
                    "to_state": target.value,
                    "cause": cause,
                    "amount": None,
                    "detail": {"findings": [f.as_dict() for f in claim.findings]}
                    if claim.findings
                    else None,
                }
            )
            outcomes.append(IntakeOutcome(claim.claim_id, outcome, version, target))
        if new_claims:
            await conn.execute(t.claims.insert(), new_claims)
        if versions:
            await conn.execute(t.claim_versions.insert(), versions)
        if events:
            await conn.execute(t.claim_events.insert(), events)
        for claim in chunk:
            if claim.findings and any(
                o.claim_id == claim.claim_id and o.outcome != "duplicate" for o in outcomes
            ):
                version = next(o.version for o in outcomes if o.claim_id == claim.claim_id)
                await self._open_item(
                    conn,
                    claim.claim_id,
                    version,
                    S.INVALID,
                    "scrubber",
                    claim.findings,
                    claim.payer_id,
                    None,
                    file_id,
                    now,
                )
        return outcomes

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
            .join(
                t.claim_versions,
                sa.and_(
                    t.claim_versions.c.claim_id == t.claims.c.claim_id,
                    t.claim_versions.c.version == t.claims.c.current_version,
                ),
            )
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

    async def mark_invalid(
        self, claim_id: str, findings: Sequence[Reason], *, cause: str = "TR3 check of the file"
    ) -> None:
        """A queued or batched claim found wrong when its file was built: open a correction item."""
        now = _now()
        async with self._write() as conn:
            row = await self._claim_row(conn, claim_id)
            state = S(row["state"])
            transition(state, S.INVALID)
            await self._set_state(conn, claim_id, S.INVALID, now)
            await conn.execute(
                t.claim_events.insert().values(
                    claim_id=claim_id,
                    version=row["current_version"],
                    at=now,
                    kind="checked",
                    from_state=state.value,
                    to_state=S.INVALID.value,
                    cause=f"{cause}: {len(findings)} finding(s)",
                    detail={"findings": [f.as_dict() for f in findings]},
                )
            )
            await self._open_item(
                conn,
                claim_id,
                int(row["current_version"]),
                S.INVALID,
                "validation",
                tuple(findings),
                row["payer_id"],
                None,
                None,
                now,
            )

    # ------------------------------------------------------------------ control numbers

    async def allocate(self, partner: str, counter: Counter, count: int = 1) -> int:
        """Reserve ``count`` consecutive control numbers for ``partner``; return the first.

        One atomic ``UPDATE ... RETURNING`` per call: unique across processes and workers, and
        never handed out again (a number reserved for a file that was never written is a gap).
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        if counter not in ("isa13", "gs06", "st02"):
            raise ValueError(f"unknown control number {counter!r}")
        table = t.control_numbers
        async with self._write() as conn:
            insert = _insert(self.dialect, table).values(
                partner=partner, kind=counter, last_value=0
            )
            await conn.execute(insert.on_conflict_do_nothing(index_elements=["partner", "kind"]))
            last = (
                await conn.execute(
                    table.update()
                    .where(table.c.partner == partner, table.c.kind == counter)
                    .values(last_value=table.c.last_value + count)
                    .returning(table.c.last_value)
                )
            ).scalar_one()
            if last > _MAXIMUM:
                raise LedgerError(f"{counter} for partner {partner!r} is exhausted")
        return int(last) - count + 1

    async def last_control_number(self, partner: str, counter: Counter) -> int:
        """The last number handed out (0 when none was)."""
        table = t.control_numbers
        async with self._read() as conn:
            value = (
                await conn.execute(
                    sa.select(table.c.last_value).where(
                        table.c.partner == partner, table.c.kind == counter
                    )
                )
            ).scalar_one_or_none()
        return int(value or 0)

    # ------------------------------------------------------------------ submissions

    async def record_submission_intent(self, intent: SubmissionIntent) -> int:
        """Write-ahead: record the interchange about to be written; its claims become batched."""
        now = _now()
        isa13 = normalize_control_number(intent.isa13)
        async with self._write() as conn:
            result = await conn.execute(
                t.interchanges.insert().values(
                    partner=intent.partner,
                    isa13=isa13,
                    kind=intent.kind,
                    file_name=intent.file_name,
                    status="intent",
                    created_at=now,
                )
            )
            interchange_id = _pk(result)
            claim_ids = [c.claim_id for c in intent.claims()]
            states = await self._states(conn, claim_ids)
            events: list[dict[str, Any]] = []
            for group in intent.groups:
                gs06 = normalize_control_number(group.gs06)
                group_id = _pk(
                    await conn.execute(
                        t.functional_groups.insert().values(
                            interchange_id=interchange_id, gs06=gs06
                        )
                    )
                )
                for tx_set in group.sets:
                    st02 = normalize_control_number(tx_set.st02)
                    set_id = _pk(
                        await conn.execute(
                            t.transaction_sets.insert().values(group_id=group_id, st02=st02)
                        )
                    )
                    rows = []
                    for sent in tx_set.claims:
                        state, version = states.get(sent.claim_id, (None, 0))
                        if state is None:
                            raise UnknownClaimError(f"claim {sent.claim_id} is not in the ledger")
                        if sent.version is not None and version != sent.version:
                            raise LedgerError(
                                f"claim {sent.claim_id} is at version {version}, not {sent.version}"
                            )
                        transition(state, S.BATCHED)
                        rows.append(
                            {
                                "set_id": set_id,
                                "claim_id": sent.claim_id,
                                "version": version,
                                "line_control_numbers": list(sent.line_control_numbers),
                            }
                        )
                        events.append(
                            _event_row(
                                sent.claim_id,
                                version,
                                now,
                                "batched",
                                state,
                                S.BATCHED,
                                f"batched in {intent.file_name} ({intent.kind})",
                                isa13=isa13,
                                gs06=gs06,
                                st02=st02,
                            )
                        )
                    if rows:
                        await conn.execute(t.submitted_claims.insert(), rows)
            await self._set_states(conn, claim_ids, S.BATCHED, now)
            if events:
                await conn.execute(t.claim_events.insert(), events)
        return interchange_id

    async def record_submission_success(
        self, submission_id: int, *, file_id: int | None = None
    ) -> None:
        """The file was written and handed over: its claims become submitted."""
        await self._finish_submission(submission_id, "submitted", S.SUBMITTED, file_id, "")

    async def abandon_submission(self, submission_id: int, reason: str) -> None:
        """The file was never sent (crash, build or transport failure): claims go back to queued."""
        await self._finish_submission(submission_id, "abandoned", S.QUEUED, None, reason)

    async def _finish_submission(
        self,
        submission_id: int,
        status: str,
        target: ClaimState,
        file_id: int | None,
        reason: str,
    ) -> None:
        now = _now()
        async with self._write() as conn:
            row = (
                (
                    await conn.execute(
                        self._lock(
                            sa.select(t.interchanges).where(t.interchanges.c.id == submission_id)
                        )
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise LedgerError(f"no submission {submission_id} in the ledger")
            if row["status"] != "intent":
                if row["status"] == status:
                    if file_id is not None and row["file_id"] is None:
                        # confirmed by an early acknowledgement; now the file is known too
                        await conn.execute(
                            t.interchanges.update()
                            .where(t.interchanges.c.id == submission_id)
                            .values(file_id=file_id)
                        )
                    return  # already done: recording it twice changes nothing
                raise LedgerError(f"submission {submission_id} is already {row['status']}")
            values: dict[str, Any] = {"status": status}
            if status == "submitted":
                values["submitted_at"] = now
            if file_id is not None:
                values["file_id"] = file_id
            await conn.execute(
                t.interchanges.update().where(t.interchanges.c.id == submission_id).values(**values)
            )
            sent = (
                await conn.execute(
                    sa.select(
                        t.submitted_claims.c.claim_id,
                        t.submitted_claims.c.version,
                        t.functional_groups.c.gs06,
                        t.transaction_sets.c.st02,
                    )
                    .join(
                        t.transaction_sets, t.transaction_sets.c.id == t.submitted_claims.c.set_id
                    )
                    .join(
                        t.functional_groups,
                        t.functional_groups.c.id == t.transaction_sets.c.group_id,
                    )
                    .where(t.functional_groups.c.interchange_id == submission_id)
                )
            ).all()
            states = await self._states(conn, [r[0] for r in sent])
            events = []
            moved = []
            for claim_id, version, gs06, st02 in sent:
                state, current = states[claim_id]
                if current != version or state != S.BATCHED:
                    continue  # the claim moved on (resubmitted meanwhile): leave it
                transition(state, target)
                moved.append(claim_id)
                cause = (
                    f"submitted in {row['file_name']}"
                    if target == S.SUBMITTED
                    else f"file {row['file_name']} not sent ({reason}); back in the queue"
                )
                events.append(
                    _event_row(
                        claim_id,
                        version,
                        now,
                        "submitted" if target == S.SUBMITTED else "abandoned",
                        state,
                        target,
                        cause,
                        isa13=row["isa13"],
                        gs06=gs06,
                        st02=st02,
                        file_id=file_id,
                    )
                )
            await self._set_states(conn, moved, target, now)
            if events:
                await conn.execute(t.claim_events.insert(), events)
                await report_queries.record_facts(conn, events)

    async def submissions(self, *, status: str | None = None) -> list[SubmissionRecord]:
        """Interchanges recorded (``status`` intent: written-ahead but not finished)."""
        query = sa.select(t.interchanges).order_by(t.interchanges.c.id)
        if status is not None:
            query = query.where(t.interchanges.c.status == status)
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            SubmissionRecord(
                r["id"],
                r["partner"],
                r["kind"],
                r["isa13"],
                r["file_name"],
                r["status"],
                _aware(r["created_at"]),
                _aware(r["submitted_at"]) if r["submitted_at"] else None,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ responses

    async def apply_response(
        self,
        response: Response | Sequence[Response],
        *,
        content_hash: str,
        kind: str,
        file_id: int | None = None,
        partner: str | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> ApplyResult:
        """Reconcile parsed responses with what we sent and apply the events, in one transaction.

        ``response`` is one view or every view read from one file (``adapt.views_of``), applied
        in order. The same content (``content_hash``) twice is a no-op reported as
        ``duplicate``; events already applied from another copy are skipped by key.
        """
        views: Sequence[Response] = (
            list(response) if isinstance(response, (list, tuple)) else [response]  # type: ignore[list-item]
        )
        await self._confirm_delivered(views, partner)
        for attempt in range(_DEADLOCK_RETRIES + 1):
            try:
                return await self._apply_response(
                    views, content_hash, kind, file_id, partner, summary
                )
            except DBAPIError as exc:
                # Two workers applying files about the same claims (a file's views lock their
                # claims one view after the other) can deadlock on PostgreSQL; the database
                # rolls one back, and it is simply applied again.
                if attempt == _DEADLOCK_RETRIES or getattr(exc.orig, "sqlstate", "") != "40P01":
                    raise
                await asyncio.sleep(random.uniform(0.05, 0.2) * (attempt + 1))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover

    async def _confirm_delivered(self, views: Sequence[Response], partner: str | None) -> None:
        """An acknowledgement of an interchange still recorded as an intent proves its delivery.

        The clearinghouse can answer (TA1, 999) between the hand-over and the moment the worker
        records its success; without this the answer would match nothing. A number that more
        than one partner was sent (and no partner given) is left alone: it cannot be told apart.
        """
        isa13s: set[str] = set()
        gs06s: set[str] = set()
        for view in views:
            isa, gs, _claims = references(view)
            isa13s.update(isa)
            gs06s.update(gs)
        if not isa13s and not gs06s:
            return
        ic, fg = t.interchanges, t.functional_groups
        query = sa.select(ic.c.id, ic.c.partner, ic.c.status, ic.c.isa13, fg.c.gs06).join(
            fg, fg.c.interchange_id == ic.c.id
        )
        if partner is not None:
            query = query.where(ic.c.partner == partner)
        rows: list[Any] = []
        async with self._read() as conn:
            for chunk in _chunks(sorted(isa13s)):
                rows += (await conn.execute(query.where(ic.c.isa13.in_(chunk)))).all()
            for chunk in _chunks(sorted(gs06s)):
                rows += (await conn.execute(query.where(fg.c.gs06.in_(chunk)))).all()
        partners_of: dict[tuple[str, str], set[str]] = {}
        for _id, prt, _status, isa13, gs06 in rows:
            if isa13 in isa13s:
                partners_of.setdefault(("isa13", isa13), set()).add(prt)
            if gs06 in gs06s:
                partners_of.setdefault(("gs06", gs06), set()).add(prt)
        pending: set[int] = set()
        for submission_id, _prt, status, isa13, gs06 in rows:
            if status != "intent":
                continue
            keys = [("isa13", isa13)] if isa13 in isa13s else []
            keys += [("gs06", gs06)] if gs06 in gs06s else []
            if any(len(partners_of[key]) == 1 for key in keys):
                pending.add(int(submission_id))
        for submission_id in sorted(pending):
            with contextlib.suppress(LedgerError):  # abandoned meanwhile: leave it
                await self._finish_submission(submission_id, "submitted", S.SUBMITTED, None, "")

    async def _apply_response(
        self,
        views: Sequence[Response],
        content_hash: str,
        kind: str,
        file_id: int | None,
        partner: str | None,
        summary: Mapping[str, Any] | None,
    ) -> ApplyResult:
        now = _now()
        applied = changes = skipped = 0
        unmatched: list[Unmatched] = []
        opened: list[str] = []
        try:
            async with self._write() as conn:
                found = await self._response_id(conn, content_hash)
                if found is not None:
                    return ApplyResult(found, True, 0, 0, 0, (), ())
                result = await conn.execute(
                    t.responses.insert().values(
                        content_hash=content_hash,
                        file_id=file_id,
                        kind=kind,
                        summary=_json_ready(summary) if summary else None,
                        events=0,
                        applied_at=now,
                    )
                )
                response_id = _pk(result)
                for view_of_response in views:
                    view = await self._sent_view(conn, view_of_response, partner)
                    outcome = reconcile(view_of_response, view)
                    changed, newly_opened = await self._apply(
                        conn, outcome.events, view, response_id, file_id, kind, now
                    )
                    applied += len(outcome.events)
                    changes += changed
                    skipped += outcome.skipped
                    unmatched.extend(outcome.unmatched)
                    opened.extend(newly_opened)
                if unmatched:
                    await conn.execute(
                        t.unmatched.insert(),
                        [
                            {
                                "response_id": response_id,
                                "reference": u.reference[:80],
                                "reason": u.reason[:255],
                                "detail": _json_ready(u.detail) if u.detail else None,
                                "recorded_at": now,
                            }
                            for u in unmatched
                        ],
                    )
                await conn.execute(
                    t.responses.update()
                    .where(t.responses.c.id == response_id)
                    .values(events=applied)
                )
        except IntegrityError:
            # Another worker applied the same content at the same moment.
            async with self._read() as conn:
                found = await self._response_id(conn, content_hash)
            if found is None:
                raise
            return ApplyResult(found, True, 0, 0, 0, (), ())
        return ApplyResult(
            response_id, False, applied, changes, skipped, tuple(unmatched), tuple(opened)
        )

    async def apply_document(
        self,
        document: Document,
        *,
        content_hash: str,
        file_id: int | None = None,
        partner: str | None = None,
    ) -> ApplyResult:
        """Apply a document from ``gateway.transactions`` (TA1, 999, 277CA or 835 document, or
        one streamed 835 ``Remittance``): :func:`gateway.ledger.adapt.views_of` + apply."""
        from gateway.ledger.adapt import kind_of, views_of

        return await self.apply_response(
            views_of(document),
            content_hash=content_hash,
            kind=kind_of(document),
            file_id=file_id,
            partner=partner,
        )

    async def hold_claims(
        self, held: Sequence[HeldClaim], *, file_id: int | None = None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Record that what a response says about these claims is held for review: an event each
        (state unchanged) and an open correction item (source ``835-held``) with the reasons.

        The same hold twice (a restart) is skipped by its event key. Returns the claim ids that
        got an item and those the ledger does not have (they match nothing we sent).
        """
        now = _now()
        opened: list[str] = []
        unknown: list[str] = []
        async with self._write() as conn:
            claims = await self._claims_for_view(conn, [h.claim_id for h in held])
            keys = [_event_key(h.key) for h in held]
            known: set[str] = set()
            for chunk in _chunks(keys):
                query = sa.select(t.claim_events.c.event_key).where(
                    t.claim_events.c.event_key.in_(chunk)
                )
                known.update(k for (k,) in (await conn.execute(query)).all())
            rows: list[dict[str, Any]] = []
            for hold, key in zip(held, keys, strict=True):
                claim = claims.get(hold.claim_id)
                if claim is None:
                    unknown.append(hold.claim_id)
                    continue
                if key in known:
                    continue
                known.add(key)
                detail = dict(hold.detail or {}) | {"reasons": [r.as_dict() for r in hold.reasons]}
                rows.append(
                    _event_row(
                        hold.claim_id,
                        claim.version,
                        now,
                        "835",
                        None,
                        None,
                        hold.cause,
                        file_id=file_id,
                        detail=detail,
                        event_key=key,
                    )
                )
                await self._open_item(
                    conn,
                    hold.claim_id,
                    claim.version,
                    claim.state,
                    HELD_SOURCE,
                    hold.reasons,
                    None,
                    None,
                    file_id,
                    now,
                )
                opened.append(hold.claim_id)
            if rows:
                await conn.execute(t.claim_events.insert(), rows)
        return tuple(opened), tuple(unknown)

    async def release_held_items(self, file_id: int, note: str, *, by: str = "released") -> int:
        """Close the ``835-held`` correction items a held file opened (it is being released, or
        dismissed: ``by``); returns how many were closed."""
        ci = t.correction_items
        async with self._write() as conn:
            result = await conn.execute(
                ci.update()
                .where(
                    ci.c.file_id == file_id,
                    ci.c.source == HELD_SOURCE,
                    ci.c.closed_at.is_(None),
                )
                .values(closed_at=_now(), closed_by=by[:16], note=note[:2000] or None)
            )
        return int(result.rowcount or 0)

    async def record_built(self, sent: InterchangeSent, file_name: str) -> int:
        """Write-ahead for an interchange from the 837 builder (``InterchangeSent``): its claims
        become batched; returns the submission id for ``record_submission_success``."""
        from gateway.ledger.adapt import intent_from_sent

        return await self.record_submission_intent(intent_from_sent(sent, file_name))

    async def _response_id(self, conn: AsyncConnection, content_hash: str) -> int | None:
        found = (
            await conn.execute(
                sa.select(t.responses.c.id).where(t.responses.c.content_hash == content_hash)
            )
        ).scalar_one_or_none()
        return None if found is None else int(found)

    async def sent_view(self, response: Response, *, partner: str | None = None) -> SentSnapshot:
        """What we sent that ``response`` may concern (read-only snapshot)."""
        async with self._read() as conn:
            return await self._sent_view(conn, response, partner)

    async def _sent_view(
        self, conn: AsyncConnection, response: Response, partner: str | None
    ) -> SentSnapshot:
        isa13s, gs06s, claim_ids = references(response)
        snap = SentSnapshot()
        sent_rows: list[Any] = []
        base = (
            sa.select(
                t.interchanges.c.partner,
                t.interchanges.c.isa13,
                t.functional_groups.c.gs06,
                t.transaction_sets.c.st02,
                t.submitted_claims.c.claim_id,
                t.submitted_claims.c.version,
                t.submitted_claims.c.line_control_numbers,
            )
            .join(t.functional_groups, t.functional_groups.c.interchange_id == t.interchanges.c.id)
            .join(t.transaction_sets, t.transaction_sets.c.group_id == t.functional_groups.c.id)
            .join(t.submitted_claims, t.submitted_claims.c.set_id == t.transaction_sets.c.id)
            .where(t.interchanges.c.status == "submitted")
            .order_by(t.submitted_claims.c.id)
        )
        if partner is not None:
            base = base.where(t.interchanges.c.partner == partner)
        for chunk in _chunks(isa13s):
            sent_rows += (await conn.execute(base.where(t.interchanges.c.isa13.in_(chunk)))).all()
        for chunk in _chunks(gs06s):
            sent_rows += (
                await conn.execute(base.where(t.functional_groups.c.gs06.in_(chunk)))
            ).all()
        wanted = set(claim_ids) | {r[4] for r in sent_rows}
        claims = await self._claims_for_view(conn, sorted(wanted))
        # Line control numbers of each claim's latest submission.
        for chunk in _chunks(sorted(set(claim_ids))):
            for row in (
                await conn.execute(
                    sa.select(
                        t.submitted_claims.c.claim_id,
                        t.submitted_claims.c.version,
                        t.submitted_claims.c.line_control_numbers,
                    )
                    .where(t.submitted_claims.c.claim_id.in_(chunk))
                    .order_by(t.submitted_claims.c.id)
                )
            ).all():
                claim = claims.get(row[0])
                if claim is not None and row[1] == claim.version:
                    claims[row[0]] = replace(claim, line_control_numbers=tuple(row[2] or ()))
        snap.claims = claims
        partners_by_isa: dict[str, set[str]] = {}
        partners_by_gs: dict[str, set[str]] = {}
        for prt, isa13, gs06, st02, claim_id, version, lines in sent_rows:
            current = claims[claim_id]
            entry = replace(current, sent_version=version, line_control_numbers=tuple(lines or ()))
            if isa13 in isa13s:
                partners_by_isa.setdefault(isa13, set()).add(prt)
                snap.interchanges.setdefault(isa13, []).append(entry)
            if gs06 in gs06s:
                partners_by_gs.setdefault(gs06, set()).add(prt)
                snap.groups.setdefault(gs06, {}).setdefault(st02, []).append(entry)
        # A number sent to several partners cannot be told apart without knowing the partner.
        for isa13, prts in partners_by_isa.items():
            if len(prts) > 1:
                del snap.interchanges[isa13]
                snap.ambiguous_numbers.add(isa13)
        for gs06, prts in partners_by_gs.items():
            if len(prts) > 1:
                del snap.groups[gs06]
                snap.ambiguous_numbers.add(gs06)
        keys_query = sa.select(t.claim_events.c.event_key).where(
            t.claim_events.c.event_key.is_not(None)
        )
        for chunk in _chunks(sorted(wanted)):
            snap.event_keys.update(
                k
                for (k,) in (
                    await conn.execute(keys_query.where(t.claim_events.c.claim_id.in_(chunk)))
                ).all()
            )
        return snap

    async def _claims_for_view(
        self, conn: AsyncConnection, claim_ids: Sequence[str]
    ) -> dict[str, SentClaim]:
        out: dict[str, SentClaim] = {}
        # Rows are locked in claim id order, chunk after chunk, so that two workers applying
        # responses about the same claims queue up instead of deadlocking.
        for chunk in _chunks(sorted(set(claim_ids))):
            query = (
                sa.select(
                    t.claims.c.claim_id,
                    t.claims.c.current_version,
                    t.claims.c.state,
                    t.claim_versions.c.frequency,
                    t.claims.c.total_charge,
                    t.claims.c.payer_claim_control_number,
                )
                .join(
                    t.claim_versions,
                    sa.and_(
                        t.claim_versions.c.claim_id == t.claims.c.claim_id,
                        t.claim_versions.c.version == t.claims.c.current_version,
                    ),
                )
                .where(t.claims.c.claim_id.in_(chunk))
                .order_by(t.claims.c.claim_id)
            )
            if not self._sqlite:
                query = query.with_for_update(of=t.claims)
            for row in (await conn.execute(query)).all():
                out[row[0]] = SentClaim(row[0], int(row[1]), S(row[2]), row[3], row[4], row[5])
        return out

    async def apply_events(
        self,
        events: Sequence[ClaimEvent],
        *,
        response_id: int | None = None,
        file_id: int | None = None,
        source: str = "person",
    ) -> int:
        """Apply events (from a person or another source); returns the state changes made.

        Each event's target must be allowed from the claim's state at that point
        (``InvalidTransitionError`` otherwise, and nothing is applied); an event whose key was
        applied before is skipped.
        """
        now = _now()
        async with self._write() as conn:
            ids = sorted({e.claim_id for e in events})
            view = SentSnapshot(claims=await self._claims_for_view(conn, ids))
            missing = [i for i in ids if i not in view.claims]
            if missing:
                raise UnknownClaimError(f"claim {missing[0]} is not in the ledger")
            keys = [e.key for e in events]
            known: set[str] = set()
            for chunk in _chunks(keys):
                query = sa.select(t.claim_events.c.event_key).where(
                    t.claim_events.c.event_key.in_(chunk)
                )
                known.update(k for (k,) in (await conn.execute(query)).all())
            fresh = [e for e in events if e.key not in known]
            changes, _ = await self._apply(conn, fresh, view, response_id, file_id, source, now)
        return changes

    async def _apply(
        self,
        conn: AsyncConnection,
        events: Sequence[ClaimEvent],
        view: SentSnapshot,
        response_id: int | None,
        file_id: int | None,
        source: str,
        now: datetime,
    ) -> tuple[int, tuple[str, ...]]:
        states = {cid: c.state for cid, c in view.claims.items()}
        updates: dict[str, dict[str, Any]] = {}
        rows: list[dict[str, Any]] = []
        opened: list[str] = []
        changes = 0
        for ev in events:
            before = states[ev.claim_id]
            after: ClaimState | None = None
            if ev.target is not None:
                after = transition(before, ev.target)
                states[ev.claim_id] = after
                changes += 1
            row = _event_row(
                ev.claim_id,
                ev.version,
                now,
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
            row["response_id"] = response_id
            if ev.reasons:
                row["detail"] = (row["detail"] or {}) | {
                    "reasons": [r.as_dict() for r in ev.reasons]
                }
            rows.append(row)
            values = updates.setdefault(ev.claim_id, {})
            if after is not None:
                values["state"] = after.value
            if ev.payer_claim_control_number:
                values["payer_claim_control_number"] = ev.payer_claim_control_number
            if after is not None and ev.paid_amount is not None:
                values["paid_amount"] = ev.paid_amount
                values["patient_responsibility"] = ev.patient_responsibility
            if after is not None and before in CORRECTION_STATES and after not in CORRECTION_STATES:
                await self._close_items(conn, ev.claim_id, "payer", ev.cause, now)
            if after in CORRECTION_STATES:
                await self._open_item(
                    conn,
                    ev.claim_id,
                    ev.version,
                    after,
                    source,
                    ev.reasons or (Reason(source, ev.cause),),
                    None,
                    response_id,
                    file_id,
                    now,
                )
                opened.append(ev.claim_id)
        # One executemany per shape of update (most responses have one or two shapes).
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for claim_id, values in updates.items():
            if values:
                params = {f"b_{k}": v for k, v in values.items()}
                shapes.setdefault(tuple(sorted(values)), []).append(
                    params | {"b_claim_id": claim_id, "b_updated_at": now}
                )
        for keys, params_list in shapes.items():
            statement = (
                t.claims.update()
                .where(t.claims.c.claim_id == sa.bindparam("b_claim_id"))
                .values({k: sa.bindparam(f"b_{k}") for k in keys})
                .values(updated_at=sa.bindparam("b_updated_at"))
            )
            await conn.execute(statement, params_list)
        if rows:
            await conn.execute(t.claim_events.insert(), rows)
            await report_queries.record_facts(conn, rows)
        return changes, tuple(opened)

    # ------------------------------------------------------------------ the queue

    async def open_items(
        self, *, reason: str | None = None, payer: str | None = None, limit: int | None = None
    ) -> list[QueueItem]:
        """Open correction items, oldest first; ``reason`` matches any reason code (or prefix)."""
        query = self._items_query().where(t.correction_items.c.closed_at.is_(None))
        if payer is not None:
            query = query.where(t.correction_items.c.payer_id == payer)
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

    async def withdraw(self, claim_id: str, note: str) -> None:
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

    # ------------------------------------------------------------------ reading

    async def claim(self, claim_id: str) -> ClaimRecord | None:
        """The claim's current row."""
        async with self._read() as conn:
            row = (
                (await conn.execute(sa.select(t.claims).where(t.claims.c.claim_id == claim_id)))
                .mappings()
                .first()
            )
        return None if row is None else _claim_record(row)

    async def claim_version(self, claim_id: str, version: int | None = None) -> VersionRecord:
        """One version of a claim (the current one by default)."""
        history = await self.claim_history(claim_id)
        if history is None:
            raise UnknownClaimError(f"claim {claim_id} is not in the ledger")
        wanted = history.claim.current_version if version is None else version
        for v in history.versions:
            if v.version == wanted:
                return v
        raise LedgerError(f"claim {claim_id} has no version {wanted}")

    async def claim_history(self, claim_id: str) -> ClaimHistory | None:
        """Everything about one claim: row, versions, events (oldest first), items."""
        async with self._read() as conn:
            row = (
                (await conn.execute(sa.select(t.claims).where(t.claims.c.claim_id == claim_id)))
                .mappings()
                .first()
            )
            if row is None:
                return None
            versions = (
                (
                    await conn.execute(
                        sa.select(t.claim_versions, t.files.c.name.label("file_name"))
                        .outerjoin(t.files, t.files.c.id == t.claim_versions.c.source_file_id)
                        .where(t.claim_versions.c.claim_id == claim_id)
                        .order_by(t.claim_versions.c.version)
                    )
                )
                .mappings()
                .all()
            )
            events = (
                (
                    await conn.execute(
                        sa.select(t.claim_events, t.files.c.name.label("file_name"))
                        .outerjoin(t.files, t.files.c.id == t.claim_events.c.file_id)
                        .where(t.claim_events.c.claim_id == claim_id)
                        .order_by(t.claim_events.c.id)
                    )
                )
                .mappings()
                .all()
            )
            items = (
                (
                    await conn.execute(
                        self._items_query().where(t.correction_items.c.claim_id == claim_id)
                    )
                )
                .mappings()
                .all()
            )
        return ClaimHistory(
            _claim_record(row),
            tuple(
                VersionRecord(
                    v["version"],
                    v["frequency"],
                    v["replaces_version"],
                    v["origin"],
                    v["total_charge"],
                    v["encounter"],
                    _aware(v["received_at"]),
                    v["file_name"],
                )
                for v in versions
            ),
            tuple(
                EventRecord(
                    e["id"],
                    e["version"],
                    _aware(e["at"]),
                    e["kind"],
                    S(e["from_state"]) if e["from_state"] else None,
                    S(e["to_state"]) if e["to_state"] else None,
                    e["cause"],
                    e["file_name"],
                    e["isa13"],
                    e["gs06"],
                    e["st02"],
                    e["amount"],
                    e["detail"] or {},
                )
                for e in events
            ),
            tuple(_item(i) for i in items),
        )

    async def status(self, *, oldest: int = 5) -> StatusSummary:
        """Counts, charges and payments per state; open items and the oldest of them."""
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        t.claims.c.state,
                        sa.func.count(),
                        sa.func.sum(t.claims.c.total_charge),
                        sa.func.sum(t.claims.c.paid_amount),
                    ).group_by(t.claims.c.state)
                )
            ).all()
            open_count = (
                await conn.execute(
                    sa.select(sa.func.count()).where(t.correction_items.c.closed_at.is_(None))
                )
            ).scalar_one()
            unmatched_count = (
                await conn.execute(sa.select(sa.func.count()).select_from(t.unmatched))
            ).scalar_one()
            quarantined = (
                await conn.execute(
                    sa.select(sa.func.count()).where(t.files.c.status == "quarantined")
                )
            ).scalar_one()
            unreadable = (
                await conn.execute(
                    sa.select(t.files.c.detail).where(t.files.c.kind == "unreadable")
                )
            ).scalars()
            unreadable_records = sum(
                int(d.get("records", 0)) for d in unreadable if isinstance(d, dict)
            )
            refused = (
                await conn.execute(sa.select(sa.func.count()).where(t.files.c.status == "refused"))
            ).scalar_one()
            held = (
                await conn.execute(sa.select(sa.func.count()).where(t.files.c.status == "held"))
            ).scalar_one()
        money = Decimal("0.01")
        counts = {S(r[0]): int(r[1]) for r in rows}
        charges = {S(r[0]): Decimal(r[2] or 0).quantize(money) for r in rows}
        paid = {S(r[0]): Decimal(r[3] or 0).quantize(money) for r in rows}
        return StatusSummary(
            counts,
            charges,
            paid,
            int(open_count),
            tuple(await self.open_items(limit=oldest)),
            int(unmatched_count),
            int(quarantined),
            unreadable_records=unreadable_records,
            refused_files=int(refused),
            transports=tuple(await self.transport_states()),
            held_files=int(held),
        )

    # ------------------------------------------------------------------ transports

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

    # ------------------------------------------------------------------ helpers

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
    )


def _insert(dialect: str, table: sa.Table) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert(table)


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for write transactions."""

    @sa_event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @sa_event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _alembic_config(connection: sa.Connection) -> Any:
    from alembic.config import Config

    import gateway.ledger.migrations as migrations

    config = Config()
    config.set_main_option("script_location", os.path.dirname(migrations.__file__))
    config.attributes["connection"] = connection
    return config


def _run_alembic(connection: sa.Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


def _current_revision(connection: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
