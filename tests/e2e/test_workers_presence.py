"""Worker presence on PostgreSQL (``gateway.ledger.workers``): a live worker is seen as alive, one
killed with SIGKILL is seen as dead at once, a worker id is held by one process only."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.ledger.testing import fresh_postgres_database, postgres_available
from gateway.ledger.workers import WorkerIdInUseError, WorkerPresence, lock_key
from tests.conftest import IN_CI
from tests.support.workers import start_worker


@pytest.fixture
async def url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    if not await postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    async with fresh_postgres_database("gateway_presence") as found:
        yield found


def test_lock_keys_are_stable_distinct_and_non_negative() -> None:
    """Each worker id has its own lock key, the same in every process, within 63 bits."""
    keys = [lock_key(f"w{n}") for n in range(1000)]
    assert len(keys) == len(set(keys))
    assert all(0 <= k < 2**63 for k in keys)
    assert lock_key("w1") == lock_key("w1")


@pytest.mark.postgres
async def test_a_killed_worker_is_seen_dead_at_once(url: str) -> None:
    """Another process's worker is alive while it runs and dead right after SIGKILL."""
    process = start_worker(url, "w2")
    async with await WorkerPresence.register(url, "w1") as me:
        before = await me.alive(["w1", "w2", "w3"])
        names = await me.live_workers()
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        started = time.monotonic()
        while await me.is_alive("w2"):
            assert time.monotonic() - started < 10, "the dead worker still looks alive"
            await asyncio.sleep(0.05)
        after = await me.alive(["w1", "w2"])
    assert {"w1": True, "w2": True, "w3": False} == before
    assert ["w1", "w2"] == names
    assert {"w1": True, "w2": False} == after


@pytest.mark.postgres
async def test_a_worker_id_is_held_by_one_process_and_free_after_close(url: str) -> None:
    """A second registration of a live worker id is refused; after close the id is free."""
    process = start_worker(url, "w1")
    try:
        with pytest.raises(WorkerIdInUseError, match="w1"):
            await WorkerPresence.register(url, "w1")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    first = await WorkerPresence.register(url, "w1")
    await first.ensure_held()
    await first.close()
    async with await WorkerPresence.register(url, "w1") as again:
        assert await again.is_alive("w1")


@pytest.mark.postgres
async def test_checking_a_dead_worker_never_takes_its_id(url: str) -> None:
    """Asking whether a worker is alive leaves its id free for it to restart with."""
    async with await WorkerPresence.register(url, "w1") as me:
        assert not await me.is_alive("w2")
        async with await WorkerPresence.register(url, "w2") as restarted:
            assert await restarted.is_alive("w2")


async def test_sqlite_does_not_track_presence(tmp_path: Path) -> None:
    """On SQLite presence is unknown (None), and registering never fails."""
    url = f"sqlite:///{tmp_path}/gateway.db"
    async with await WorkerPresence.register(url, "w1") as me:
        await me.ensure_held()
        assert (False, None, []) == (me.tracked, await me.is_alive("w2"), await me.live_workers())
