"""Which gateway workers are alive, so the work of one that died is taken over at once.

On PostgreSQL each worker holds a session advisory lock named after its worker id for as long as
its process lives (``WorkerPresence.register``, on a connection of its own). A worker that dies,
even by SIGKILL or a lost machine, loses its connection and PostgreSQL drops the lock, so the
others can tell a dead worker from a slow one (``is_alive``) without waiting for a lease or a
takeover time to run out. A second process started with the same ``--worker-id`` would share the
first one's processing folders and leases; it is refused (``WorkerIdInUseError``).

A worker whose own presence connection broke (``ensure_held`` raises ``WorkerPresenceLostError``)
must stop taking new work: the others may already consider it dead.

On SQLite (one machine, one file) presence is not tracked: ``is_alive`` answers ``None`` and the
caller falls back to leases and takeover times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from gateway.ledger.store import LedgerError, sqlalchemy_url

__all__ = [
    "APPLICATION_PREFIX",
    "WorkerIdInUseError",
    "WorkerPresence",
    "WorkerPresenceLostError",
    "lock_key",
]

#: ``application_name`` of a presence connection: this prefix and the worker id.
APPLICATION_PREFIX = "gateway-worker:"

_IS_LOCKED = sa.text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND classid::bigint = :high AND objid::bigint = :low"
)


class WorkerIdInUseError(LedgerError):
    """Another live process already runs with this worker id."""


class WorkerPresenceLostError(LedgerError):
    """This worker's presence connection is gone: the others may be taking over its work."""


def lock_key(worker_id: str) -> int:
    """The advisory lock key of ``worker_id``: a stable, non-negative 63-bit number."""
    digest = hashlib.sha256(f"gateway worker {worker_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


class WorkerPresence:
    """This worker's presence in the ledger, and the others' (see the module docstring)."""

    def __init__(
        self, worker_id: str, engine: AsyncEngine | None, conn: AsyncConnection | None
    ) -> None:
        self.worker_id = worker_id
        self._engine = engine
        self._conn = conn

    @classmethod
    async def register(cls, url: str, worker_id: str) -> WorkerPresence:
        """Announce ``worker_id`` as alive on the ledger at ``url`` until :meth:`close`.

        Raises ``WorkerIdInUseError`` when a live process already holds that id.
        """
        async_url = sqlalchemy_url(url)
        if make_url(async_url).get_backend_name() != "postgresql":
            return cls(worker_id, None, None)
        application = (APPLICATION_PREFIX + worker_id)[:63]
        engine = create_async_engine(
            async_url,
            poolclass=NullPool,
            connect_args={"server_settings": {"application_name": application}},
        )
        try:
            conn = await engine.connect()
            taken = (
                await conn.execute(
                    sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(worker_id)}
                )
            ).scalar_one()
            await conn.commit()  # the lock is the session's; no transaction stays open
        except BaseException:
            await engine.dispose()
            raise
        if not taken:
            await conn.close()
            await engine.dispose()
            raise WorkerIdInUseError(
                f"worker id {worker_id!r} is in use by a live gateway process; "
                "give each worker its own --worker-id"
            )
        return cls(worker_id, engine, conn)

    @property
    def tracked(self) -> bool:
        """Whether presence is known on this ledger (PostgreSQL)."""
        return self._engine is not None

    async def ensure_held(self) -> None:
        """Raise ``WorkerPresenceLostError`` when this worker's lock connection is gone."""
        if self._conn is None:
            return
        try:
            await self._conn.execute(sa.text("SELECT 1"))
            await self._conn.commit()
        except (DBAPIError, OSError) as exc:
            raise WorkerPresenceLostError(
                f"worker {self.worker_id}: the ledger connection that marks it alive is gone "
                f"({exc.__class__.__name__}); stop taking work and restart the worker"
            ) from exc

    async def is_alive(self, worker_id: str) -> bool | None:
        """Whether a live process holds ``worker_id`` (``None`` when not tracked: SQLite)."""
        return (await self.alive([worker_id]))[worker_id]

    async def alive(self, worker_ids: Iterable[str]) -> dict[str, bool | None]:
        """:meth:`is_alive` for several workers, on one connection."""
        ids = list(dict.fromkeys(worker_ids))
        if self._engine is None:
            return dict.fromkeys(ids)
        found: dict[str, bool | None] = {}
        # Read pg_locks rather than trying the lock: a probe must never hold a restarting
        # worker's lock, even for a moment.
        async with self._engine.connect() as conn:
            for worker_id in ids:
                key = lock_key(worker_id)
                held = (
                    await conn.execute(_IS_LOCKED, {"high": key >> 32, "low": key & 0xFFFFFFFF})
                ).scalar_one()
                found[worker_id] = bool(held)
        return found

    async def live_workers(self) -> list[str]:
        """Worker ids of the presence connections open now (empty when not tracked)."""
        if self._engine is None:
            return []
        async with self._engine.connect() as conn:
            names = (
                await conn.execute(
                    sa.text(
                        "SELECT application_name FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name LIKE :prefix"
                    ),
                    {"prefix": APPLICATION_PREFIX + "%"},
                )
            ).scalars()
            candidates = sorted({n[len(APPLICATION_PREFIX) :] for n in names})
        alive = await self.alive(candidates)
        return [w for w in candidates if alive[w]]

    async def close(self) -> None:
        """Give the worker id back (a clean shutdown); a crash does the same by itself."""
        if self._conn is not None:
            try:
                await self._conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.worker_id)}
                )
                await self._conn.commit()
            except (DBAPIError, OSError):
                pass  # the connection is gone: so is the lock
            await self._conn.close()
            self._conn = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def __aenter__(self) -> WorkerPresence:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
