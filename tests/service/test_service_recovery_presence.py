"""Worker presence wired into the service on PostgreSQL: a second process with a worker id in
use is refused (``gateway run`` exits 2 saying so), and a dead worker's claimed files and staged
837s are taken over at once, while a live worker's are left to it."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.ledger.testing import fresh_postgres_database, postgres_available
from gateway.ledger.workers import WorkerIdInUseError
from gateway.service.pipeline import Service
from tests.conftest import IN_CI
from tests.support.service import encounter, outbox, stage, status_of, write_config
from tests.support.workers import start_worker

pytestmark = pytest.mark.postgres


@pytest.fixture
async def url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    if not await postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    async with fresh_postgres_database("gateway_service_presence") as found:
        yield found


@pytest.fixture
async def service(url: str, tmp_path: Path) -> AsyncIterator[Service]:
    """A service as worker ``w1`` on the PostgreSQL ledger (very long takeover time)."""
    settings = load_settings(write_config(tmp_path), environ={"GATEWAY_LEDGER_URL": url})
    svc = await Service.open(settings, worker_id="w1")
    svc.submitter.takeover_seconds = 3600.0
    try:
        yield svc
    finally:
        await svc.close()


async def test_a_second_service_with_the_same_worker_id_is_refused(service: Service) -> None:
    """While ``w1`` is open, opening another ``w1`` fails; another id opens."""
    assert service.presence is not None
    assert service.presence.tracked
    with pytest.raises(WorkerIdInUseError, match="w1"):
        await Service.open(service.settings, worker_id="w1")
    other = await Service.open(service.settings, worker_id="w2")
    await other.close()


def test_gateway_run_with_a_worker_id_in_use_exits_2_with_a_clear_message(
    url: str, tmp_path: Path
) -> None:
    """``gateway run --worker-id w1`` while a live process holds ``w1``: exit 2, told why."""
    holder = start_worker(url, "w1")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from gateway.cli import main; raise SystemExit(main())",
                "run",
                "--once",
                "--worker-id",
                "w1",
                "--config",
                str(write_config(tmp_path)),
            ],
            env={**os.environ, "GATEWAY_LEDGER_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert 2 == done.returncode, done.stderr
    assert "worker id 'w1' is in use" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("other_alive", "taken"), [(False, True), (True, False)])
async def test_a_dead_workers_work_is_taken_over_at_once_and_a_live_ones_left(
    service: Service, other_alive: bool, taken: bool
) -> None:
    """A claimed file and a staged 837 of worker ``w9`` from a moment ago: taken over at once
    when ``w9`` is dead, left alone while it lives (the takeover time is an hour)."""
    ws = service.settings.workspace
    holder = ws.processing / "w9" / "encounters" / "token-7"
    holder.mkdir(parents=True)
    (holder / "late.json").write_text(json.dumps([encounter(7)]))
    name, submission_id = await stage(service, "w9")
    process = start_worker(service.settings.ledger_url, "w9") if other_alive else None
    try:
        await service.take_over()
    finally:
        if process is not None:
            process.send_signal(signal.SIGKILL)
            process.wait()
    assert ([name] if taken else []) == outbox(service)
    assert ("submitted" if taken else "intent") == await status_of(service, submission_id)
    assert taken == (await service.ledger.claim("SVC-0007") is not None)
