"""Crossover end to end through `gateway run --once` as a process: killed with `kill -9` between
posting the primary's 835 and submitting the secondary's claim, then restarted: each secondary
claim is in exactly one 837, and the ledger holds one leg 2 per claim; on SQLite and PostgreSQL."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.workers import postgres_database, query
from gateway.ledger.testing import postgres_available
from gateway.x12 import read_segments
from tests.conftest import IN_CI
from tests.support.cob835 import clp, cob_encounter, svc, x835
from tests.support.e2e import drop, run_once, workspace

pytestmark = pytest.mark.slow

IDS = [f"XO-{n:04d}" for n in range(1, 6)]


def _primary_835() -> bytes:
    claims = [
        clp(
            cid, "1", "227.50", "150.00", "20.00", f"PCN{n}",
            *svc("99214", "185.00", "120.00", f"{cid}-L1", "CAS*CO*45*45.00", "CAS*PR*2*20.00"),
            *svc("83036", "42.50", "30.00", f"{cid}-L2", "CAS*CO*45*12.50"),
        )
        for n, cid in enumerate(IDS)
    ]  # fmt: skip
    return x835(claims, sender="DEMOCLEARING")


def _sent_to_secondary(root: Path) -> Counter[str]:
    """How often each claim id went to the secondary payer (2010BB NM1*PR 60054), counting each
    distinct interchange once."""
    seen: dict[str, bytes] = {}
    for path in root.joinpath("outbox").glob("*.x12"):
        data = path.read_bytes()
        seen.setdefault(next(iter(read_segments(data)))[13], data)
    found: Counter[str] = Counter()
    for data in seen.values():
        payer = ""
        for seg in read_segments(data):
            if seg.tag == "HL" and seg[3] == "22":
                payer = ""
            elif seg.tag == "NM1" and seg[1] == "PR" and not payer:
                payer = seg[9]
            elif seg.tag == "CLM" and payer == "60054":
                found[seg[1]] += 1
    return found


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The ledger's URL: the workspace's SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state/gateway.db"
        return
    if not asyncio.run(postgres_available()):
        if IN_CI:
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432; CI needs it")
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    with postgres_database("gateway_crossover") as url:
        yield url


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    return query(url, {"q": sql})["q"]


@pytest.mark.parametrize("point", ["after-apply", "after-intent", "after-put"])
def test_kill_9_between_the_835_and_the_secondary_claim(
    tmp_path: Path, point: str, database: str
) -> None:
    """Killed after the 835 is posted, or at each step of sending the secondary's 837: after a
    restart every claim went to its secondary exactly once."""
    config = workspace(tmp_path)
    if database.startswith("postgres"):
        with config.open("a") as toml:
            toml.write(f'[ledger]\nurl = "{database}"\n')
    drop(tmp_path, "cob.jsonl", [cob_encounter(cid) for cid in IDS])
    assert 0 == run_once(config).returncode
    (tmp_path / "inbox/responses/primary.835").write_bytes(_primary_835())
    crashed = run_once(config, crash_at=point)
    assert -signal.SIGKILL == crashed.returncode, crashed.stderr[-2000:]
    for _ in range(2):
        final = run_once(config)
        assert 0 == final.returncode, final.stderr[-2000:]
    assert dict.fromkeys(IDS, 1) == dict(_sent_to_secondary(tmp_path))
    assert [(cid, 2, "submitted") for cid in IDS] == _rows(
        database,
        "SELECT c.claim_id, v.leg, c.state FROM claims c JOIN claim_versions v "
        "ON v.claim_id = c.claim_id AND v.version = c.current_version ORDER BY c.claim_id",
    )
    assert [(cid, 2) for cid in IDS] == _rows(
        database, "SELECT claim_id, count(*) FROM claim_legs GROUP BY claim_id ORDER BY claim_id"
    )
    (stored,) = _rows(
        database, f"SELECT encounter FROM claim_versions WHERE claim_id = '{IDS[0]}' AND leg = 2"
    )[0]
    encounter = stored if isinstance(stored, dict) else json.loads(stored)
    assert "150.00" == encounter["other_payers"][0]["adjudication"]["paid_amount"]
