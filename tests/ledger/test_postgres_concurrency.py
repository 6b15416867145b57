"""The ledger under concurrency on PostgreSQL: control numbers from many tasks and processes (one
killed mid-way), queued claims taken with SKIP LOCKED from several connections, expired leases.

Each test gets a fresh database on 127.0.0.1:5432, dropped afterwards; outside CI the tests are
skipped when no server answers, in CI they must run.
"""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.ledger import tables as t
from gateway.ledger.lifecycle import ClaimState, InvalidTransitionError
from gateway.ledger.records import (
    ClaimSent,
    GroupSent,
    IncomingClaim,
    QueuedClaim,
    SetSent,
    SubmissionIntent,
)
from gateway.ledger.store import Ledger, sqlalchemy_url
from gateway.ledger.testing import fresh_postgres_database, postgres_available
from tests.conftest import IN_CI

pytestmark = pytest.mark.postgres


@pytest.fixture
async def url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL ledger database, dropped afterwards."""
    if not await postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    async with fresh_postgres_database("gateway_concurrency") as found:
        ledger = await Ledger.open(found)
        await ledger.close()
        yield found


def incoming(claim_id: str) -> IncomingClaim:
    """A clean professional claim for partner ``demo``."""
    return IncomingClaim(
        claim_id=claim_id,
        kind="professional",
        partner="demo",
        payer_id="87726",
        total_charge=Decimal("100.00"),
        encounter={"claim_id": claim_id},
    )


def intent(name: str, claims: list[QueuedClaim]) -> SubmissionIntent:
    """An interchange carrying ``claims``, one transaction set each."""
    sets = tuple(
        SetSent(f"{n:04d}", (ClaimSent(q.claim_id, q.version),))
        for n, q in enumerate(claims, start=1)
    )
    return SubmissionIntent("demo", "837P", name, f"{name}.x12", (GroupSent(name, sets),))


# A child process: allocate ISA13s for partner "demo", one line per committed number.
ALLOCATOR = textwrap.dedent(
    """
    import asyncio, sys
    from gateway.ledger.store import Ledger

    async def main(url: str, count: int) -> None:
        ledger = await Ledger.open(url, upgrade=False)
        print("ready", flush=True)
        for _ in range(count):
            print(await ledger.allocate("demo", "isa13"), flush=True)
        await ledger.close()

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
)

# A child process that takes the control-number row lock and never commits.
LOCK_HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    import asyncpg

    async def main(url: str) -> None:
        conn = await asyncpg.connect(url)
        transaction = conn.transaction()
        await transaction.start()
        value = await conn.fetchval(
            "UPDATE control_numbers SET last_value = last_value + 1 "
            "WHERE partner = 'demo' AND kind = 'isa13' RETURNING last_value"
        )
        print(value, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main(sys.argv[1]))
    """
)


def child(script: str, *args: str) -> subprocess.Popen[str]:
    """A Python child process running ``script`` with ``args``."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )


def plain_url(url: str) -> str:
    """The libpq form of a ``postgresql://`` URL (for asyncpg directly)."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_tasks_allocating_at_once_get_unique_consecutive_numbers(url: str) -> None:
    """Twenty tasks on two connection pools, 10 numbers each: 1..200, each handed out once."""
    ledgers = [await Ledger.open(url, upgrade=False) for _ in range(2)]
    try:

        async def take(ledger: Ledger) -> list[int]:
            return [await ledger.allocate("demo", "isa13") for _ in range(10)]

        taken = await asyncio.gather(*(take(ledgers[n % 2]) for n in range(20)))
        last = await ledgers[0].last_control_number("demo", "isa13")
    finally:
        for ledger in ledgers:
            await ledger.close()
    numbers = [n for batch in taken for n in batch]
    assert list(range(1, 201)) == sorted(numbers)
    assert 200 == last
    assert all(batch == sorted(batch) for batch in taken)  # each caller's numbers only grow


async def test_processes_allocating_at_once_one_killed_never_reuse_a_number(url: str) -> None:
    """Four processes allocate together and one is SIGKILLed mid-way: every number any of them
    was given is unique, and the numbers after the kill are all new."""
    runners = [child(ALLOCATOR, url, "50") for _ in range(4)]
    victim = child(ALLOCATOR, url, "100000")
    assert victim.stdout is not None
    assert "ready" == victim.stdout.readline().strip()
    seen_by_victim = [int(victim.stdout.readline()) for _ in range(20)]
    victim.send_signal(signal.SIGKILL)
    rest, _ = victim.communicate(timeout=30)
    seen_by_victim += [int(line) for line in rest.split()]
    outputs = [r.communicate(timeout=120)[0] for r in runners]
    assert [0, 0, 0, 0] == [r.returncode for r in runners]
    assert -signal.SIGKILL == victim.returncode
    by_runners = [int(n) for out in outputs for n in out.split() if n != "ready"]
    after = await asyncio.to_thread(
        lambda: [int(n) for n in subprocess.check_output(
            [sys.executable, "-c", ALLOCATOR, url, "20"], text=True
        ).split() if n != "ready"]
    )  # fmt: skip
    everything = seen_by_victim + by_runners + after
    assert 200 == len(by_runners)
    assert len(everything) == len(set(everything))
    assert min(after) > max(seen_by_victim + by_runners)


async def test_a_process_killed_holding_the_number_row_lock_hands_out_nothing(url: str) -> None:
    """A transaction that took the next number and died before committing blocks the others only
    until PostgreSQL sees it gone; its uncommitted number was never handed out, so the next
    caller gets it, and every committed number stays unique."""
    ledger = await Ledger.open(url, upgrade=False)
    try:
        first = await ledger.allocate("demo", "isa13")
        holder = child(LOCK_HOLDER, plain_url(url))
        assert holder.stdout is not None
        uncommitted = int(await asyncio.to_thread(holder.stdout.readline))
        waiting = asyncio.create_task(ledger.allocate("demo", "isa13"))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # the row lock holds the others back
        holder.send_signal(signal.SIGKILL)
        await asyncio.to_thread(holder.wait, 30)
        after_kill = await asyncio.wait_for(waiting, 30)
        later = await ledger.allocate("demo", "isa13")
    finally:
        await ledger.close()
    assert (1, 2, 2, 3) == (first, uncommitted, after_kill, later)


async def test_skip_locked_lets_workers_pass_claims_another_worker_is_taking(url: str) -> None:
    """While one connection holds some queued claims locked (mid-lease), another worker's lease
    returns the other claims at once instead of waiting for the lock."""
    ledger = await Ledger.open(url, upgrade=False)
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        await ledger.record_claims([incoming(f"C{n:03d}") for n in range(20)])
        async with engine.connect() as conn, conn.begin():
            locked = (
                await conn.execute(
                    sa.select(t.claims.c.claim_id)
                    .order_by(t.claims.c.claim_id)
                    .limit(5)
                    .with_for_update()
                )
            ).scalars()
            held = set(locked)
            leased = await asyncio.wait_for(ledger.lease_queued_claims("b", limit=20), 5)
        after = await ledger.lease_queued_claims("c", limit=20)
    finally:
        await engine.dispose()
        await ledger.close()
    assert 5 == len(held)
    assert set() == held & {q.claim_id for q in leased}
    assert 15 == len(leased)
    assert held == {q.claim_id for q in after}


async def test_workers_leasing_and_batching_at_once_batch_each_claim_once(url: str) -> None:
    """Six workers (own connection pools) lease and batch 600 claims concurrently: every claim is
    batched exactly once, in one interchange, by one worker."""
    setup = await Ledger.open(url, upgrade=False)
    await setup.record_claims([incoming(f"C{n:04d}") for n in range(600)])
    workers = [await Ledger.open(url, upgrade=False) for _ in range(6)]

    async def work(name: str, ledger: Ledger) -> list[str]:
        batched: list[str] = []
        while leased := await ledger.lease_queued_claims(name, limit=17):
            isa13 = await ledger.allocate("demo", "isa13")
            await ledger.record_submission_intent(intent(str(isa13), leased))
            batched += [q.claim_id for q in leased]
        return batched

    try:
        done = await asyncio.gather(*(work(f"w{n}", led) for n, led in enumerate(workers)))
        counts = await setup.status()
        engine = create_async_engine(sqlalchemy_url(url))
        async with engine.connect() as conn:
            events = (
                await conn.execute(
                    sa.select(t.claim_events.c.claim_id, sa.func.count())
                    .where(t.claim_events.c.kind == "batched")
                    .group_by(t.claim_events.c.claim_id)
                )
            ).all()
        await engine.dispose()
    finally:
        for ledger in (setup, *workers):
            await ledger.close()
    everything = [c for batch in done for c in batch]
    assert 600 == len(everything) == len(set(everything))
    assert sum(1 for batch in done if batch) >= 2
    assert {ClaimState.BATCHED: 600} == {s: n for s, n in counts.counts.items() if n}
    assert {1} == {n for _, n in events}


@pytest.mark.parametrize("first", ["slow worker", "new holder"])
async def test_an_expired_lease_is_taken_over_and_the_claims_batched_once(
    url: str, first: str
) -> None:
    """A worker whose lease expired (it stalled) loses its claims to another worker; whichever of
    the two records its batch first wins, and the other's batch is refused, not sent twice."""
    ledger = await Ledger.open(url, upgrade=False)
    try:
        await ledger.record_claims([incoming(f"C{n}") for n in range(3)])
        stalled = await ledger.lease_queued_claims("slow", limit=3, lease_seconds=0.2)
        assert [] == await ledger.lease_queued_claims("new", limit=3)
        await asyncio.sleep(0.3)
        taken = await ledger.lease_queued_claims("new", limit=3)
        order = [("slow", stalled), ("new", taken)]
        if first == "new holder":
            order.reverse()
        (winner, winning), (loser, losing) = order
        await ledger.record_submission_intent(intent("1", winning))
        with pytest.raises(InvalidTransitionError):
            await ledger.record_submission_intent(intent("2", losing))
        submissions = await ledger.submissions()
    finally:
        await ledger.close()
    assert {q.claim_id for q in stalled} == {q.claim_id for q in taken}
    assert 3 == len(taken)
    assert [("1", "intent")] == [(s.isa13, s.status) for s in submissions]
    assert winner != loser


class _DeadlockError(Exception):
    """Stands for asyncpg's error: PostgreSQL's SQLSTATE 40P01, deadlock detected."""

    sqlstate = "40P01"


async def test_a_response_rolled_back_by_a_deadlock_is_applied_again(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When PostgreSQL picks a response's transaction as a deadlock victim (two workers applying
    files about the same claims), the response is applied again, once, instead of failing."""
    from sqlalchemy.exc import DBAPIError

    from tests.support import responses as r

    ledger = await Ledger.open(url, upgrade=False)
    try:
        await ledger.record_claims([incoming("C1")])
        leased = await ledger.lease_queued_claims("w1", limit=1)
        sub = await ledger.record_submission_intent(intent("201", leased))
        await ledger.record_submission_success(sub)
        real = ledger._apply_response  # the step that fails once
        calls: list[int] = []

        async def deadlock_once(*args: object) -> object:
            calls.append(1)
            if len(calls) == 1:
                raise DBAPIError("SELECT ... FOR UPDATE", None, _DeadlockError("deadlock detected"))
            return await real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(ledger, "_apply_response", deadlock_once)
        result = await ledger.apply_response(
            r.ack999((r.group_ack("201", "A"),)), content_hash="h", kind="999"
        )
        claim = await ledger.claim("C1")
    finally:
        await ledger.close()
    assert (2, False, ClaimState.ACKNOWLEDGED) == (
        len(calls),
        result.duplicate,
        claim and claim.state,
    )
