"""Transport health: exponential back-off after failures (longer for problems a person must fix),
one log line per change of state, the state kept in the ledger for ``gateway status``."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from gateway.cli.status import render, status_data
from gateway.config import load_settings
from gateway.ledger.records import TransportState
from gateway.ledger.store import Ledger
from gateway.service.pipeline import Service
from gateway.service.transport_health import BackoffPolicy, TransportHealth
from gateway.service.transports import InMemoryTransport, TransportError
from tests.support.service import write_config

HOST_KEY = TransportError("sftp: put a.x12: not in known_hosts", kind="host-key-unknown")
PULL_HOST_KEY = TransportError("sftp: list responses: not in known_hosts", kind="host-key-unknown")
AUTH = TransportError("sftp: list responses: refused our key", kind="auth")
DOWN = TransportError("sftp: list responses: connection refused", retryable=True)
T0 = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


class Clock:
    """A monotonic clock and a wall clock that move only when told."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def monotonic(self) -> float:
        return self.seconds

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds - 1000.0)


class StampedTransport(InMemoryTransport):
    """An in-memory transport whose local setup (say known_hosts) a test can change."""

    setup: int = 0

    def setup_stamp(self) -> object:
        return self.setup


def _health(clock: Clock, record: list[TransportState] | None = None) -> TransportHealth:
    async def keep(state: TransportState) -> None:
        if record is not None:
            record.append(state)

    return TransportHealth(
        StampedTransport(label="sftp gateway@127.0.0.1:2222"),
        ("demo",),
        clock=clock.monotonic,
        now=clock.wall,
        record=keep,
    )


@pytest.mark.parametrize(
    ("failures", "permanent", "expected"),
    [
        (1, True, 5.0),
        (2, True, 10.0),
        (5, True, 80.0),
        (8, True, 640.0),
        (9, True, 900.0),  # capped at 15 minutes
        (500, True, 900.0),  # a long outage does not overflow
        (1, False, 5.0),
        (5, False, 80.0),
        (6, False, 120.0),  # network problems: capped at 2 minutes
    ],
)
def test_backoff_doubles_up_to_its_cap(failures: int, permanent: bool, expected: float) -> None:
    """The wait after n failures in a row is 5 s doubled n-1 times, up to the kind's cap."""
    assert expected == BackoffPolicy().delay(failures, permanent=permanent)


async def test_a_refused_host_key_is_not_tried_again_every_five_seconds() -> None:
    """After each failure no attempt is allowed until the back-off (5, 10, 20 s...) runs out."""
    clock = Clock()
    health = _health(clock)
    waits = []
    for _ in range(4):
        assert health.ready()
        waits.append(await health.failed(HOST_KEY))
        clock.seconds += 5.0
        blocked_after_5s = not health.ready()
        clock.seconds += waits[-1] - 5.0
        waits.append(blocked_after_5s)
    assert [5.0, False, 10.0, True, 20.0, True, 40.0, True] == waits


async def test_one_log_line_per_change_of_state_not_per_attempt() -> None:
    """Ten failures with the same error log once; a different error logs again; recovery once."""
    clock = Clock()
    health = _health(clock)
    with structlog.testing.capture_logs() as events:
        for _ in range(10):
            await health.failed(HOST_KEY)
        await health.failed(PULL_HOST_KEY)  # the same problem met by a pull: no news
        await health.failed(AUTH)
        await health.failed(AUTH)
        await health.succeeded()
        await health.succeeded()
    assert [
        ("error", "transport failing; a person must act", "host-key-unknown"),
        ("error", "transport failing; a person must act", "auth"),
        ("info", "transport working again", None),
    ] == [(e["log_level"], e["event"], e.get("error_kind")) for e in events]


async def test_network_failures_back_off_less_and_log_as_warnings() -> None:
    """A network problem is a warning and its back-off stops at 2 minutes."""
    clock = Clock()
    health = _health(clock)
    with structlog.testing.capture_logs() as events:
        waits = [await health.failed(DOWN) for _ in range(8)]
    assert [5.0, 10.0, 20.0, 40.0, 80.0, 120.0, 120.0, 120.0] == waits
    assert ["warning"] == [e["log_level"] for e in events]


async def test_fixing_the_setup_ends_the_back_off_at_once() -> None:
    """When the transport's setup (known_hosts, keys) changes, the next look may try again."""
    clock = Clock()
    health = _health(clock)
    await health.failed(HOST_KEY)
    await health.failed(HOST_KEY)
    before = health.ready()
    assert isinstance(health.transport, StampedTransport)
    health.transport.setup += 1  # a person added the server's key
    assert (False, True) == (before, health.ready())


async def test_the_state_recorded_says_since_when_and_the_next_attempt() -> None:
    """Failures keep their first time as ``since``; recovery records ``ok`` once."""
    clock = Clock()
    recorded: list[TransportState] = []
    health = _health(clock, recorded)
    await health.succeeded()
    clock.seconds += 60
    await health.failed(HOST_KEY)
    clock.seconds += 5
    await health.failed(HOST_KEY)
    clock.seconds += 10
    await health.succeeded()
    await health.succeeded()
    assert [
        ("ok", T0, None, 0, None),
        ("failing", T0 + timedelta(seconds=60), "host-key-unknown", 1, T0 + timedelta(seconds=65)),
        ("failing", T0 + timedelta(seconds=60), "host-key-unknown", 2, T0 + timedelta(seconds=75)),
        ("ok", T0 + timedelta(seconds=75), None, 0, None),
    ] == [(s.state, s.since, s.error_kind, s.failures, s.next_attempt_at) for s in recorded]


async def test_transport_states_are_kept_in_the_ledger_for_status(
    ledger: Ledger,
) -> None:
    """The last state of each transport is one row, shown by ``gateway status`` (JSON and text)."""
    clock = Clock()
    health = TransportHealth(
        InMemoryTransport(label="sftp gateway@127.0.0.1:2222"),
        ("demo", "other"),
        clock=clock.monotonic,
        now=clock.wall,
        record=ledger.record_transport_state,
    )
    await health.succeeded()
    await health.failed(HOST_KEY)
    clock.seconds += 5
    await health.failed(HOST_KEY)
    summary = await ledger.status()
    assert [
        {
            "transport": "sftp gateway@127.0.0.1:2222",
            "partners": ["demo", "other"],
            "state": "failing",
            "since": T0,
            "error_kind": "host-key-unknown",
            "error": "sftp: put a.x12: not in known_hosts",
            "failures": 2,
            "next_attempt_at": T0 + timedelta(seconds=15),
        }
    ] == status_data(summary)["transports"]
    text = render(summary)
    assert "transport sftp gateway@127.0.0.1:2222 (demo, other): failing since" in text
    assert "host-key-unknown, 2 failed attempt(s), next 2026-12-06T04:00:15+00:00" in text
    await health.succeeded()
    (state,) = (await ledger.status()).transports
    assert ("ok", None, None) == (state.state, state.error, state.next_attempt_at)


class FailingDrop(InMemoryTransport):
    """A transport whose response folder cannot be listed (a refused host key, say)."""

    lists: int = 0

    async def list_responses(self) -> list[str]:
        self.lists += 1
        raise HOST_KEY


async def test_the_service_pull_loop_waits_out_the_back_off(tmp_path: Path) -> None:
    """`gateway run`'s pull loop looks every poll interval but tries a failing transport only
    when its back-off ends (it pulled every interval, forever), logging the failure once."""
    settings = load_settings(write_config(tmp_path), environ={})
    settings.workspace.create()
    transport = FailingDrop(label="sftp gateway@127.0.0.1:2222")
    async with await Ledger.open(settings.ledger_url) as led:
        service = Service(
            settings, led, settings.load_partners(), {"demo-clearinghouse": transport}
        )
        health = service.health["demo-clearinghouse"]
        health.policy = BackoffPolicy(initial=3600.0)  # no second try while the test runs
        stop = asyncio.Event()
        with structlog.testing.capture_logs() as events:
            task = asyncio.create_task(service.run(stop))
            await _until(lambda: transport.lists == 1)
            await asyncio.sleep(10 * settings.intake.poll_interval_seconds)  # ten more looks
            tried_during_back_off = transport.lists
            health.retry_now()
            await _until(lambda: transport.lists == 2)
            stop.set()
            await task
        assert 1 == tried_during_back_off
        assert 1 == sum(e["event"].startswith("transport failing") for e in events)


async def _until(condition: Callable[[], bool], limit: float = 30.0) -> None:
    """Wait until ``condition`` holds (a test failure after ``limit`` seconds)."""
    async with asyncio.timeout(limit):
        while not condition():
            await asyncio.sleep(0.01)
