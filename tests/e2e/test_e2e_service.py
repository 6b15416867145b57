"""End to end through the command line: `gateway run` as a subprocess, files dropped while it runs,
SIGTERM, and `kill -9` at every step of intake, submission and response intake followed by a
restart: every claim is submitted exactly once, every response applied once, every control
number unique."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gateway.validation.acks import AckHeader, ack_999
from gateway.validation.validator import validate
from gateway.x12 import read_segments
from tests.support.e2e import (
    GATEWAY,
    drop,
    encounters,
    gateway,
    ledger_rows,
    run_once,
    workspace,
)

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def sent_claims(root: Path) -> Counter[str]:
    """How often each claim id appears across the distinct interchanges handed over."""
    seen: dict[str, bytes] = {}
    for path in (root / "outbox").glob("*.x12"):
        data = path.read_bytes()
        isa13 = next(iter(read_segments(data)))[13]
        assert seen.setdefault(isa13, data) == data, f"two different files carry ISA13 {isa13}"
    return Counter(s[1] for data in seen.values() for s in read_segments(data) if s.tag == "CLM")


def control_numbers(root: Path) -> list[tuple[str, str, str]]:
    """(ISA13, GS06, ST02) of every transaction set in the outbox."""
    found = []
    for path in (root / "outbox").glob("*.x12"):
        isa13 = gs06 = ""
        for seg in read_segments(path.read_bytes()):
            if seg.tag == "ISA":
                isa13 = seg[13]
            elif seg.tag == "GS":
                gs06 = seg[6]
            elif seg.tag == "ST":
                found.append((isa13, gs06, seg[2]))
    return found


def answer_999s(root: Path, start: int) -> list[str]:
    """A 999 (from our validator) for every 837 in the outbox, into the responses inbox."""
    names = []
    for n, path in enumerate(sorted((root / "outbox").glob("*.x12")), start=start):
        name = f"{path.stem}.999"
        text = ack_999(validate(path.read_bytes()), AckHeader(n, n))
        (root / "inbox/responses" / name).write_text(text)
        names.append(name)
    return names


CRASH_POINTS = ["after-claim", "after-record-claims", "after-stage", "after-intent", "after-put",
                "after-success"]  # fmt: skip


def test_kill_9_at_every_step_then_restart_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    """A run killed at each step of intake and submission, then restarted: every claim is in
    exactly one interchange, every control number is unique, and nothing is left half-done."""
    config = workspace(tmp_path)
    for number, point in enumerate(CRASH_POINTS):
        drop(tmp_path, f"batch-{number}.jsonl", encounters(number * 10 + 1, 10))
        crashed = run_once(config, crash_at=point)
        assert -signal.SIGKILL == crashed.returncode, (point, crashed.stderr[-2000:])
    final = run_once(config)
    assert 0 == final.returncode, final.stderr[-2000:]
    wanted = {f"E2E-{n:05d}" for n in range(1, len(CRASH_POINTS) * 10 + 1)}
    assert dict.fromkeys(wanted, 1) == dict(sent_claims(tmp_path))
    numbers = control_numbers(tmp_path)
    assert len(numbers) == len(set(numbers))
    assert len({n[0] for n in numbers}) == len({(n[0], n[1]) for n in numbers})
    assert [("submitted", len(wanted))] == ledger_rows(
        tmp_path, "SELECT state, count(*) FROM claims GROUP BY state"
    )
    assert [] == ledger_rows(tmp_path, "SELECT id FROM interchanges WHERE status = 'intent'")
    leftovers = [p for p in (tmp_path / "state").rglob("*") if p.is_file() and p.suffix != ".db"]
    lock = tmp_path / "state/workers/main.lock"  # held by each run for its life; kept between
    assert [] == [p for p in leftovers if "gateway.db" not in p.name and p != lock]
    assert [] == list((tmp_path / "inbox/encounters").iterdir())


def test_kill_9_during_response_intake_applies_each_response_once(tmp_path: Path) -> None:
    """Killed after applying a response but before archiving it: the restart archives it and
    no claim gets a second 999 event."""
    config = workspace(tmp_path)
    drop(tmp_path, "a.jsonl", encounters(1, 15))
    assert 0 == run_once(config).returncode
    responses = answer_999s(tmp_path, 900)
    crashed = run_once(config, crash_at="after-apply")
    assert -signal.SIGKILL == crashed.returncode
    assert 0 == run_once(config).returncode
    events = ledger_rows(tmp_path, "SELECT claim_id, count(*) FROM claim_events WHERE kind = '999' "
                              "GROUP BY claim_id")  # fmt: skip
    assert {(f"E2E-{n:05d}", 1) for n in range(1, 16)} == set(events)
    assert len(responses) == ledger_rows(tmp_path, "SELECT count(*) FROM responses")[0][0]
    assert [("acknowledged", 15)] == ledger_rows(
        tmp_path, "SELECT state, count(*) FROM claims GROUP BY state"
    )
    assert [] == list((tmp_path / "inbox/responses").iterdir())


def test_files_dropped_while_running_are_sent_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    """`gateway run` takes files as they appear (a duplicate reported, garbage quarantined),
    sends the claims, and exits 0 soon after SIGTERM."""
    config = workspace(tmp_path)
    process = subprocess.Popen(
        [*GATEWAY, "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GATEWAY_CRASH_AT": ""},
    )
    try:
        drop(tmp_path, "first.jsonl", encounters(1, 5))
        _wait_for(lambda: sum(sent_claims(tmp_path).values()) == 5, 60)
        drop(tmp_path, "second.jsonl", encounters(6, 5))
        drop(tmp_path, "first-again.jsonl", encounters(1, 5))  # the same content: a duplicate
        (tmp_path / "inbox/responses/garbage.x12").write_text("not a response")
        _wait_for(lambda: (tmp_path / "quarantine/garbage.x12.error.json").exists(), 60)
        _wait_for(lambda: sum(sent_claims(tmp_path).values()) == 10, 60)
        _wait_for(lambda: not list((tmp_path / "inbox/encounters").iterdir()), 60)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert 0 == process.returncode, stderr[-2000:]
    assert '"service stopped"' in stderr
    assert "duplicate file" in stderr
    assert dict.fromkeys([f"E2E-{n:05d}" for n in range(1, 11)], 1) == dict(sent_claims(tmp_path))
    status = gateway("status", "--json", "--config", str(config))
    assert 1 == json.loads(status.stdout)["quarantined_files"]


def _wait_for(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the service")
