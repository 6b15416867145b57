"""The ledger: an async store of files, claims, submissions, responses and claim events.

``Ledger.open(url)`` connects (``sqlite+aiosqlite:///path`` in WAL mode, or
``postgresql+asyncpg://...``), applies the Alembic migrations, and hands out one object the
service and the commands share. Every change of a claim's state goes through the lifecycle table
and appends a claim event in the same transaction; on SQLite every write transaction starts with
``BEGIN IMMEDIATE`` so that concurrent processes queue up instead of failing mid-way.

``Ledger`` is a thin facade: it opens the database and puts the repositories together, each in
its own module over the shared base (``repository``): ``files``, ``intake`` (claims and their
versions), ``batching`` (the claim queue and its leases), ``submissions`` (control numbers and
interchanges sent), ``responses`` (apply, hold, release), ``corrections`` (the correction
queue), ``status`` (claims read back, the summary), ``transports``, ``users`` (the web
console's users) and ``audit`` (the audit trail of views and changes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.ledger import file_lists as file_list_queries
from gateway.ledger import reports as report_queries
from gateway.ledger import worklist as worklist_queries
from gateway.ledger.audit import AuditRepository
from gateway.ledger.batching import BatchingRepository
from gateway.ledger.files import FilesRepository
from gateway.ledger.intake import IntakeRepository
from gateway.ledger.repository import (
    HELD_SOURCE,
    ApplyResult,
    Counter,
    LedgerError,
    UnknownClaimError,
    sqlalchemy_url,
)
from gateway.ledger.responses import ResponsesRepository
from gateway.ledger.status import StatusRepository
from gateway.ledger.users import UsersRepository

__all__ = [
    "HELD_SOURCE",
    "ApplyResult",
    "Counter",
    "Ledger",
    "LedgerError",
    "UnknownClaimError",
    "sqlalchemy_url",
]


class Ledger(
    FilesRepository,
    IntakeRepository,
    BatchingRepository,
    ResponsesRepository,  # with SubmissionsRepository
    StatusRepository,  # with CorrectionsRepository and TransportsRepository
    UsersRepository,  # the web console's users
    AuditRepository,  # who viewed and changed what
):
    """The gateway's memory: made by :meth:`open`, closed by :meth:`close` or ``async with``."""

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
    def worklist(self) -> worklist_queries.Worklist:
        """The open correction items read for people: filtered, sorted, paged by key."""
        return worklist_queries.Worklist(self._engine)

    @property
    def file_lists(self) -> file_list_queries.FileLists:
        """Files set aside or held, unmatched response parts, and what was sent on a day."""
        return file_list_queries.FileLists(self._engine)

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
