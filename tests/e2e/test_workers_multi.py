"""Several `gateway run --worker-id` processes on one PostgreSQL ledger and one shared workspace,
with `gateway simulate` answering: every claim is submitted exactly once, every control number is
unique and every response applied once, also when a worker is killed with SIGKILL mid-run.

The default size is 2,000 encounters (under a minute a run on the 2-core CI machine). The
issue's 20,000 runs with ``GATEWAY_WORKERS_FULL=1`` (7.5 minutes here; marked ``slow``).
"""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.workers import (
    Audit,
    Cluster,
    audit,
    invalid_claims,
    postgres_database,
    settled,
    wait_for,
)
from gateway.ledger.testing import postgres_available
from tests.conftest import IN_CI

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKERS = ("w1", "w2", "w3", "w4")
FULL = os.environ.get("GATEWAY_WORKERS_FULL", "") == "1"


@pytest.fixture
def ledger_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the run, dropped afterwards."""
    import asyncio

    if not asyncio.run(postgres_available()):
        if IN_CI:
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432; CI needs it")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    with postgres_database("gateway_workers") as url:
        yield url


def run_cluster(
    root: Path, url: str, encounters: int, *, kill: str | None = None, timeout: float = 600
) -> tuple[Cluster, Audit]:
    """Four workers and the simulator until every claim settles; ``kill`` is SIGKILLed once the
    first claims are in 837s (while files are still being taken and batched), then restarted."""
    cluster = Cluster(root, url)
    try:
        for worker in WORKERS:
            cluster.start_worker(worker)
        cluster.start_simulator()
        cluster.wait_started()
        cluster.drop(encounters, per_file=250)
        if kill is not None:
            wait_for(lambda: cluster.claims_sent() > 0, timeout)
            cluster.kill(kill)
            cluster.start_worker(kill)  # a supervisor restarts it under the same name
        wait_for(lambda: _settled_or_crashed(cluster), timeout, 1.0)
    finally:
        codes = cluster.stop()
    assert dict.fromkeys(codes, 0) == codes, {n: cluster.log_tail(n) for n in codes}
    return cluster, audit(cluster)


def _settled_or_crashed(cluster: Cluster) -> bool:
    if cluster.exited():
        raise AssertionError(f"a process ended early: {cluster.exited()}")
    return settled(cluster)


def check_exactly_once(cluster: Cluster, found: Audit) -> None:
    """The assertions both runs share (see the module docstring)."""
    sent = set(found.claims_in_837s)  # <claim_id>:<leg>: a claim with a secondary goes twice
    billed = {key.rsplit(":", 1)[0] for key in sent}
    never_sent = set(cluster.claim_ids) - billed
    assert never_sent == invalid_claims(cluster) - billed
    assert [] == found.claims_sent_twice
    assert [] == found.conflicting_isa13
    assert [] == found.reused_control_numbers
    # The ledger agrees: one 'batched' and one 'submitted' event per claim sent, no open intent.
    assert dict.fromkeys(sent, 1) == dict(found.submitted_events)
    assert set(found.interchanges_by_status) <= {"submitted", "abandoned"}
    assert sent == set(found.batched_events)
    # Each claim answered once by its interchange's TA1 and its set's 999, whichever worker
    # pulled and applied them; every response file applied once (its copies are duplicates).
    for kind in ("ta1", "999"):
        events = {c: n for (c, k), n in found.response_events.items() if k == kind}
        assert dict.fromkeys(sent, 1) == events, kind
    assert found.response_files == found.responses
    assert 0 == found.unmatched
    # No file had to be put back for another try (a deadlock between workers did that once).
    assert [] == [w for w in WORKERS if b"file not processed" in _log(cluster, w)]


def test_four_workers_send_every_claim_once(tmp_path: Path, ledger_url: str) -> None:
    """Four workers sharing the inbox and the ledger split the work without sending any claim
    twice or reusing a control number, and every response is applied once."""
    size, timeout = (20_000, 3600) if FULL else (2_000, 600)
    cluster, found = run_cluster(tmp_path / "ws", ledger_url, size, timeout=timeout)
    check_exactly_once(cluster, found)
    assert {"submitted": len(list(cluster.sent_files()))} == found.interchanges_by_status
    assert dict.fromkeys(found.claims_in_837s, 1) == dict(found.batched_events)
    worked = [w for w in WORKERS if b"interchange submitted" in _log(cluster, w)]
    assert len(worked) >= 2, "the batches were not shared between workers"


def test_a_worker_killed_mid_run_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, ledger_url: str
) -> None:
    """A worker SIGKILLed while files are being taken and claims batched, then restarted: every
    claim still goes out exactly once and every response is applied once."""
    cluster, found = run_cluster(tmp_path / "ws", ledger_url, 2_000, kill="w2")
    check_exactly_once(cluster, found)
    assert "submitted" in found.interchanges_by_status


def _log(cluster: Cluster, name: str) -> bytes:
    return (cluster.root / "logs" / f"{name}.log").read_bytes()
