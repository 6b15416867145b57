"""A 277CA is applied in batches of claims, as an 835 is: memory bounded by the batch, each batch
under its own key, so posting again (a restart after a kill mid-file) applies the rest and
nothing twice (issue 18 item 12)."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from gateway.service import posting
from gateway.service.pipeline import Service
from gateway.service.responses import check_response_file
from gateway.simulator import SimulatorState, Stage, load_rules, respond
from gateway.transactions.claim_ack import (
    read_claim_acknowledgement,
    read_claim_acknowledgement_parts,
)
from gateway.x12 import read_segments
from tests.support.e2e import drop, encounters, run_once, workspace
from tests.support.e2e import ledger_rows as ledger
from tests.support.submitted import answers

NOW = datetime(2026, 11, 21, 8, 0)


def twice(data: bytes) -> bytes:
    """The 277CA with its transaction set repeated as a second set (ST02 0002, GE01 2)."""
    text = data.decode()
    start, end = text.index("ST*277*"), text.index("GE*")
    body = text[start:end]
    second = body.replace("ST*277*0001", "ST*277*0002").replace("*0001~", "*0002~")
    assert second != body
    return (text[:end] + second + text[end:].replace("GE*1*", "GE*2*", 1)).encode()


@pytest.mark.parametrize("per_part", [1, 2, 3, 500])
async def test_the_parts_of_a_277ca_hold_the_same_claims_as_the_whole_document(
    service: Service,
    per_part: int,
) -> None:
    """Read in parts of any size, every set's claims come out once, in order, with their set's
    envelope and source, and each set ends with a part marked last."""
    sent = twice(answers(service)[Stage.CLEARINGHOUSE_ACK])
    whole = read_claim_acknowledgement(read_segments(sent))
    parts = list(read_claim_acknowledgement_parts(read_segments(sent), per_part))
    assert [c.claim_id for a in whole.acknowledgements for c in a.claims] == [
        c.claim_id for p, _ in parts for c in p.claims
    ]
    assert all(len(p.claims) <= per_part for p, _ in parts)
    assert 2 == len(whole.acknowledgements) == sum(last for _, last in parts)
    first = whole.acknowledgements[0]
    assert {"0001", "0002"} == {p.envelope.transaction_control_number for p, _ in parts}
    assert all(p.information_sources[0].name == first.information_sources[0].name for p, _ in parts)


async def test_a_277ca_posted_in_batches_posts_each_claim_once_and_a_second_pass_nothing(
    service: Service,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """With one claim a batch, a 277CA of three claims is three ledger transactions; posting it
    again applies none of them twice, and each claim has one 277CA event."""
    monkeypatch.setattr(posting, "BATCH_CLAIMS", 1)
    path = tmp_path / "277ca.x12"
    path.write_bytes(answers(service)[Stage.CLEARINGHOUSE_ACK])
    check = check_response_file(path, path.name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    first = await posting.post_response(
        service.ledger, path, digest, check, file_id=None, name=path.name
    )
    again = await posting.post_response(
        service.ledger, path, digest, check, file_id=None, name=path.name
    )
    assert (3, 0, 3) == (first.applied, first.duplicates, first.state_changes)
    assert (0, 3, 0) == (again.applied, again.duplicates, again.state_changes)
    for claim_id in ("SVC-0001", "SVC-0002", "SVC-0003"):
        history = await service.ledger.claim_history(claim_id)
        assert history is not None
        assert 1 == len([e for e in history.events if e.kind == "277ca"]), claim_id


async def test_a_small_277ca_keeps_the_key_it_always_had(
    service: Service,
    tmp_path: Path,
) -> None:
    """A 277CA of fewer claims than a batch is one unit under the document's key (the file's
    hash): a file applied before batching existed is recognised, not applied again."""
    path = tmp_path / "277ca.x12"
    path.write_bytes(twice(answers(service)[Stage.CLEARINGHOUSE_ACK]))
    check = check_response_file(path, path.name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    units = list(posting._units(path, digest, check, held_only=False))
    assert [digest] == [u.key for u in units if isinstance(u, posting._Apply)]


_BATCHED_RUN = """
import sys
from gateway.service import posting
from gateway.cli import main
posting.BATCH_CLAIMS = 1
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_kill_9_between_277ca_batches_posts_the_rest_once(tmp_path: Path) -> None:
    """`gateway run` killed right after the first batch of a 277CA (one claim a batch) and
    restarted: the other claims are posted, and no claim gets its 277CA status twice."""
    config = workspace(tmp_path)
    drop(tmp_path, "a.jsonl", encounters(1, 3))
    assert 0 == run_once(config).returncode
    (sent,) = sorted((tmp_path / "outbox").glob("*.x12"))
    answer = respond(sent.read_bytes(), load_rules(), SimulatorState(), now=NOW)
    claim_ack = next(r.data for r in answer.responses if r.stage == Stage.CLEARINGHOUSE_ACK)
    (tmp_path / "inbox/responses/277ca.x12").write_bytes(claim_ack)
    run = [sys.executable, "-c", _BATCHED_RUN, "run", "--once", "--config", str(config)]

    def batched(crash_at: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GATEWAY_CRASH_AT": crash_at}
        return subprocess.run(
            run, capture_output=True, text=True, env=env, timeout=120, check=False
        )

    crashed = batched("after-apply")
    assert -signal.SIGKILL == crashed.returncode, crashed.stderr[-2000:]
    events = "SELECT claim_id, count(*) FROM claim_events WHERE kind = '277ca' GROUP BY claim_id"
    assert [("E2E-00001", 1)] == ledger(tmp_path, events)
    restarted = batched("")
    assert 0 == restarted.returncode, restarted.stderr[-2000:]
    assert [("E2E-00001", 1), ("E2E-00002", 1), ("E2E-00003", 1)] == sorted(
        ledger(tmp_path, events)
    )
    files = "SELECT name, status FROM files WHERE direction = 'in' AND kind = '277CA'"
    assert [("277ca.x12", "applied")] == ledger(tmp_path, files)
    assert [] == list((tmp_path / "inbox/responses").iterdir())
