"""A console over a worked ledger: encounters taken in by the real service, answered by the
simulator (999, 277CAs, 835s), every file archived, for the claim page's tests.

``worked`` is a :class:`tests.support.web.Console` whose ledger holds WEB-REJ (rejected by the
clearinghouse's 277CA: member id starting with X, A7:164:IL), WEB-BAD (invalid at intake: a
billing NPI with a wrong check digit) and WEB-OK (accepted and adjudicated by an 835).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.config import Settings, load_settings
from gateway.service.pipeline import Service
from gateway.simulator.runner import Simulator, folders_from_settings
from gateway.web.application import app
from tests.support.clock import ManualClock
from tests.support.service import drop, encounter, write_config
from tests.support.web import Console

__all__ = ["WORKED_CLAIMS", "settle", "worked", "worked_encounters", "worked_settings"]

WORKED_CLAIMS = ("WEB-REJ", "WEB-BAD", "WEB-OK")


def worked_encounters() -> list[dict[str, Any]]:
    """The three encounters (see the module's docstring)."""
    rejected = encounter(1, claim_id="WEB-REJ")
    rejected["subscriber"] = {**rejected["subscriber"], "member_id": "XUH4471829001"}
    bad = encounter(2, claim_id="WEB-BAD")
    bad["billing_provider"] = {**bad["billing_provider"], "npi": "1234567890"}
    return [rejected, bad, encounter(3, claim_id="WEB-OK")]


def worked_settings(root: Path, ledger_url: str) -> Settings:
    """A workspace with the demo partner, quick batches, on ``ledger_url``."""
    config = write_config(root, max_wait=0.1)
    config.write_text(config.read_text() + f'[ledger]\nurl = "{ledger_url}"\n')
    return load_settings(config, environ={})


async def settle(settings: Settings, rounds: int = 8) -> None:
    """Run the service and the simulator (no delays) in turns until nothing is in flight."""
    service = await Service.open(settings)
    pickup, dropped = folders_from_settings(settings)
    simulator = Simulator(pickup, dropped, settings.workspace.state / "simulator", use_delays=False)
    try:
        for _ in range(rounds):
            await service.run_once()
            answered = await simulator.run_once()
            if not answered and not any(settings.workspace.responses_inbox.iterdir()):
                await service.run_once()
                break
    finally:
        await service.close()


@pytest.fixture
def worked(tmp_path: Path, ledger_url: str) -> Iterator[Console]:
    """The console (nobody logged in) over the worked ledger (SQLite and PostgreSQL)."""
    settings = worked_settings(tmp_path / "ws", ledger_url)
    drop(settings, "worked.json", worked_encounters())
    clock = ManualClock(now=time.time())
    with TestClient(app(settings, clock=clock), base_url="http://127.0.0.1") as client:
        console = Console(client, clock, settings)
        console.call(settle, settings)
        yield console
