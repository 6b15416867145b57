"""`gateway run` killed with SIGKILL right after it posted an 835's balanced set (its unbalanced
set already held), before the file was put away, then restarted: the set is posted once, the
unbalanced set's claims held once each, the file held, nothing lost."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import re
import signal
from datetime import datetime
from pathlib import Path

import pytest

from gateway.simulator import SimulatorState, Stage, respond
from gateway.simulator.rules import load_rules
from tests.support.e2e import drop, encounters, ledger_rows, run_once, workspace
from tests.support.x12_files import two_sets

pytestmark = pytest.mark.slow


def test_kill_9_while_posting_an_835_posts_each_set_once_and_holds_the_bad_one(
    tmp_path: Path,
) -> None:
    """Killed right after posting: the restart posts nothing twice, holds the unbalanced set's
    claims once each, and keeps the file held in quarantine."""
    config = workspace(tmp_path)
    drop(tmp_path, "a.jsonl", encounters(1, 3))
    assert 0 == run_once(config).returncode
    (sent,) = sorted((tmp_path / "outbox").glob("*.x12"))
    answer = respond(sent.read_bytes(), load_rules(), SimulatorState(), now=datetime(2026, 11, 21))
    remittance = next(r.data for r in answer.responses if r.stage == Stage.REMITTANCE)
    text = two_sets(remittance)
    bad = re.sub(rb"(CLP\*E2E-00002\*\w+\*[\d.]+\*)[\d.-]+", rb"\g<1>77777.77", text)
    assert bad != text
    (tmp_path / "inbox/responses/835.x12").write_bytes(bad)
    crashed = run_once(config, crash_at="after-apply")
    assert -signal.SIGKILL == crashed.returncode, crashed.stderr[-2000:]
    assert 0 == run_once(config).returncode
    events = ledger_rows(
        tmp_path,
        "SELECT claim_id, to_state IS NULL, count(*) FROM claim_events WHERE kind = '835' "
        "GROUP BY claim_id, to_state IS NULL ORDER BY claim_id",
    )
    assert [("E2E-00001", 0, 1), ("E2E-00002", 1, 1), ("E2E-00003", 1, 1)] == events
    held_items = "SELECT count(*) FROM correction_items WHERE source = '835-held'"
    assert [(2,)] == ledger_rows(tmp_path, held_items + " AND closed_at IS NULL")
    files = "SELECT name, status FROM files WHERE direction = 'in' AND kind = '835'"
    assert [("835.x12", "held")] == ledger_rows(tmp_path, files)
    assert (tmp_path / "quarantine/835.x12.error.json").is_file()
    assert [] == list((tmp_path / "inbox/responses").iterdir())
    assert [] == [p for p in (tmp_path / "state/processing").rglob("*") if p.is_file()]
