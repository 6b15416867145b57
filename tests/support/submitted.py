"""A service whose three claims (SVC-0001..3) were submitted, on SQLite or PostgreSQL, and the
simulator's answers to its 837: what the response-posting tests start from."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.ledger.testing import fresh_postgres_database, postgres_available
from gateway.service.pipeline import Service
from gateway.simulator import SimulatorState, Stage, respond
from gateway.simulator.rules import load_rules
from tests.support.service import drop, encounter, write_config

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
NOW = datetime(2026, 11, 21, 8, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    """A service over a fresh workspace (its ledger on SQLite or a fresh PostgreSQL database)
    whose three claims SVC-0001..3 were submitted."""
    config = write_config(tmp_path)
    async with contextlib.AsyncExitStack() as stack:
        environ: dict[str, str] = {}
        if request.param == "postgres":
            if not await postgres_available():
                if IN_CI:
                    pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
                pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
            url = await stack.enter_async_context(fresh_postgres_database())
            environ["GATEWAY_LEDGER_URL"] = url
            config.write_text(config.read_text() + f'[ledger]\nurl = "{url}"\n')
        settings = load_settings(config, environ=environ)
        svc = await Service.open(settings)
        stack.push_async_callback(svc.close)
        drop(settings, "a.json", [encounter(n) for n in range(1, 4)])
        await svc.run_once()
        yield svc


def answers(svc: Service) -> dict[Stage, bytes]:
    """The simulator's responses to the 837 in the outbox, by stage (the 835 pays the three:
    SVC-0001 148.00, SVC-0002 182.00, SVC-0003 85.60)."""
    (path,) = sorted(svc.settings.workspace.outbox.glob("*.x12"))
    answer = respond(path.read_bytes(), load_rules(), SimulatorState(), now=NOW)
    return {r.stage: r.data for r in answer.responses}
