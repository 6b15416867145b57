"""The queue, claim, status and db commands, run as subprocesses against a real SQLite ledger."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import select
import stat
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.ledger.records import IncomingClaim
from gateway.ledger.store import Ledger
from gateway.service.correction_files import sync_correction_files
from tests.support import responses as r
from tests.support.queue import SAMPLE, encounter, populate, write_workspace

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = [str(Path(sys.executable).parent / "gateway")]


def incoming(claim_id: str, partner: str = "demo-clearinghouse") -> IncomingClaim:
    """The sample encounter as an incoming claim."""
    return IncomingClaim(
        claim_id, "professional", partner, "87726", Decimal("227.50"), encounter(claim_id, partner)
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with a config file, two partners (one frequency-1-only) and a ledger holding
    one claim in each corner of the queue (``tests.support.queue``): R1 rejected by a 999, P1
    payer-rejected by a 277CA, D1 denied by an 835 (PCN-D1), M1 denied at the
    frequency-1-only partner, OK paid."""
    write_workspace(tmp_path)

    async def fill() -> None:
        async with await Ledger.open(f"sqlite:///{tmp_path}/state/gateway.db") as ledger:
            await populate(ledger)

    asyncio.run(fill())
    return tmp_path


def gateway(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``gateway ARGS --config workspace/gateway.toml``."""
    return subprocess.run(
        [*GATEWAY, *args, "--config", str(workspace / "gateway.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=workspace,
        check=False,
    )


def inproc(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the same command in this process (fast), with its output captured."""
    out, err = io.StringIO(), io.StringIO()
    argv = [*args, "--config", str(workspace / "gateway.toml")]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def state_of(workspace: Path, claim_id: str) -> dict[str, Any]:
    """The claim's history as `gateway claim show --json` prints it."""
    done = inproc(workspace, "claim", "show", claim_id, "--json")
    assert 0 == done.returncode, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_list_filters_and_json(workspace: Path) -> None:
    """`queue list` shows each rejected or denied claim once; --reason and --payer filter."""
    everything = json.loads(gateway(workspace, "queue", "list", "--json").stdout)
    by_reason = json.loads(
        gateway(workspace, "queue", "list", "--reason", "CO-50", "--json").stdout
    )
    by_payer = gateway(workspace, "queue", "list", "--payer", "00000", "--json")
    table = gateway(workspace, "queue", "list")
    assert ["R1", "P1", "D1", "M1"] == [i["claim_id"] for i in everything]
    assert ["rejected", "payer_rejected", "denied", "denied"] == [i["state"] for i in everything]
    assert ["D1", "M1"] == [i["claim_id"] for i in by_reason]
    assert [] == json.loads(by_payer.stdout)
    assert "4 open item(s)" in table.stdout
    assert "STC-A7:562:85" in table.stdout


def test_show_prints_reasons_and_the_correction_document(workspace: Path) -> None:
    """`queue show` explains the reasons; --json is the encounter plus a rejection block."""
    text = gateway(workspace, "queue", "show", "P1")
    document = json.loads(inproc(workspace, "queue", "show", "P1", "--json").stdout)
    assert 0 == text.returncode
    assert "STC-A7:562:85" in text.stdout
    assert "do:" in text.stdout
    assert ("P1", "payer_rejected") == (document["claim_id"], document["rejection"]["state"])
    assert SAMPLE["billing_provider"] == document["billing_provider"]


def test_resubmit_before_adjudication_is_frequency_1(workspace: Path) -> None:
    """A 999-rejected claim is resubmitted as frequency 1, queued, and leaves the queue."""
    done = gateway(workspace, "queue", "resubmit", "R1")
    history = state_of(workspace, "R1")
    assert 0 == done.returncode, done.stderr
    assert ("queued", 2, "1") == (
        history["state"], history["current_version"], history["versions"][1]["frequency"]
    )  # fmt: skip
    assert "R1" not in inproc(workspace, "queue", "list").stdout


def test_resubmit_from_a_corrected_file(workspace: Path) -> None:
    """A corrected correction file becomes the new version (its rejection block ignored)."""
    document = json.loads(inproc(workspace, "queue", "show", "P1", "--json").stdout)
    document["rendering_provider"] = None
    path = workspace / "P1-fixed.json"
    path.write_text(json.dumps(document))
    done = inproc(workspace, "queue", "resubmit", "P1", "--file", str(path))
    assert 0 == done.returncode, done.stdout + done.stderr
    version = state_of(workspace, "P1")["versions"][-1]
    assert (2, "resubmit") == (version["version"], version["origin"])


def test_resubmit_after_adjudication_is_a_replacement(workspace: Path) -> None:
    """A denied claim goes as frequency 7 with REF*F8; at a frequency-1-only partner as 1."""
    replaced = inproc(workspace, "queue", "resubmit", "D1")
    medicare = inproc(workspace, "queue", "resubmit", "M1")
    assert (0, 0) == (replaced.returncode, medicare.returncode), replaced.stdout + medicare.stdout
    assert "frequency 7" in replaced.stdout
    assert "frequency 1" in medicare.stdout
    assert "7" == state_of(workspace, "D1")["versions"][-1]["frequency"]
    assert "1" == state_of(workspace, "M1")["versions"][-1]["frequency"]


def test_resubmit_refuses_invalid_or_in_flight_claims(workspace: Path) -> None:
    """Still-invalid corrections and claims in flight exit 1; an unknown claim id exits 2."""
    bad = encounter("R1")
    bad["service_lines"] = []
    path = workspace / "bad.json"
    path.write_text(json.dumps(bad))
    invalid = inproc(workspace, "queue", "resubmit", "R1", "--file", str(path))
    inproc(workspace, "queue", "resubmit", "R1")
    in_flight = inproc(workspace, "queue", "resubmit", "R1")
    unknown = gateway(workspace, "queue", "resubmit", "NOPE")
    assert (1, 1, 2) == (invalid.returncode, in_flight.returncode, unknown.returncode)
    assert "still invalid" in invalid.stdout
    assert "Traceback" not in unknown.stderr + invalid.stderr
    assert "no claim NOPE" in unknown.stderr


def test_void_and_resolve(workspace: Path) -> None:
    """Void sends frequency 8 once adjudicated, withdraws otherwise; resolve closes with a note."""
    voided = gateway(workspace, "queue", "void", "D1")
    withdrawn = inproc(workspace, "queue", "void", "P1", "--note", "duplicate")
    refused = inproc(workspace, "queue", "void", "M1")
    resolved = gateway(workspace, "queue", "resolve", "R1", "--note", "billed on paper")
    again = inproc(workspace, "queue", "resolve", "R1", "--note", "again")
    assert (0, 0, 1, 0, 1) == (
        voided.returncode, withdrawn.returncode, refused.returncode, resolved.returncode,
        again.returncode,
    )  # fmt: skip
    assert "8" == state_of(workspace, "D1")["versions"][-1]["frequency"]
    assert "voided" == state_of(workspace, "P1")["state"]
    assert "accepts only frequency 1" in refused.stdout
    history = state_of(workspace, "R1")
    assert ("resolved", "billed on paper") == (
        history["state"], history["correction_items"][0]["note"]
    )  # fmt: skip


def test_queue_changes_are_on_the_audit_trail(workspace: Path) -> None:
    """resubmit, void and resolve are recorded as cli:<user>; `gateway audit` shows them."""
    import getpass

    inproc(workspace, "queue", "resubmit", "D1")
    inproc(workspace, "queue", "void", "P1", "--note", "duplicate")
    inproc(workspace, "queue", "resolve", "R1", "--note", "billed on paper")
    inproc(workspace, "queue", "resolve", "R1", "--note", "again")  # refused: not audited
    listed = gateway(workspace, "audit", "--json")
    entries = [json.loads(line) for line in listed.stdout.splitlines()]
    actor = f"cli:{getpass.getuser()}"
    assert [("resolve", "R1"), ("void", "P1"), ("resubmit", "D1")] == [
        (e["action"], e["claim_id"]) for e in entries
    ]
    assert {actor} == {e["actor"] for e in entries}
    assert {"version": 2, "state": "queued", "corrected": False} == entries[2]["detail"]
    assert "billed on paper" not in listed.stdout  # free text stays off the trail
    one = gateway(workspace, "audit", "--claim", "P1")
    assert 1 == len(one.stdout.splitlines())
    assert f"{actor}" in one.stdout
    assert "void" in one.stdout
    nobody = inproc(workspace, "audit", "--user", "nobody")
    assert "no audit entries for this filter" in nobody.stdout


def test_claim_show_tells_the_whole_story(workspace: Path) -> None:
    """`claim show` lists receipt, batching with control numbers, 277CA, the denial and why."""
    done = gateway(workspace, "claim", "show", "D1")
    assert 0 == done.returncode
    for expected in (
        "received",
        "ISA13 000000103, GS06 3, ST02 0001",
        "accepted by 277CA",
        "-> denied",
        "CO-50 not medically necessary",
        "payer claim control number PCN-D1",
    ):
        assert expected in done.stdout


def test_status_counts_and_amounts(workspace: Path) -> None:
    """`status --json` counts claims and sums charges and payments by state."""
    data = json.loads(inproc(workspace, "status", "--json").stdout)
    text = gateway(workspace, "status").stdout
    assert {"rejected": 1, "payer_rejected": 1, "denied": 2, "paid": 1} == {
        k: v["claims"] for k, v in data["by_state"].items()
    }
    assert ("227.50", "227.50", 4) == (
        data["by_state"]["paid"]["paid"], data["by_state"]["paid"]["charges"], data["open_items"]
    )  # fmt: skip
    assert "open correction items: 4" in text


def test_tail_follows_new_items(workspace: Path) -> None:
    """`queue tail -f --json` prints the latest items, then each new one as it opens."""
    proc = subprocess.Popen(
        [*GATEWAY, "queue", "tail", "-f", "--json", "-n", "1", "--interval", "0.2",
         "--config", str(workspace / "gateway.toml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        first = json.loads(_read_line(proc))
        asyncio.run(_reject_ok(f"sqlite:///{workspace}/state/gateway.db"))
        second = json.loads(_read_line(proc))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert ("M1", "OK") == (first["claim_id"], second["claim_id"])


async def _reject_ok(url: str) -> None:
    async with await Ledger.open(url) as ledger:
        reversal = r.remittance_claim("OK", "22", Decimal("-227.50"), Decimal("-227.50"))
        denial = r.remittance_claim("OK", "4", Decimal("227.50"), Decimal("0"))
        await ledger.apply_response(
            r.remittance("T2", "87726", (reversal, denial)), content_hash="835-2", kind="835"
        )


def _read_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            return proc.stdout.readline()
    raise AssertionError("no line from `gateway queue tail -f`")


def test_db_upgrade_and_config_errors(workspace: Path, tmp_path: Path) -> None:
    """`db upgrade` reports the revision; a missing config file is exit 2 without a traceback."""
    done = gateway(workspace, "db", "upgrade")
    missing = subprocess.run(
        [*GATEWAY, "queue", "list", "--config", str(tmp_path / "nope.toml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "gateway.toml").write_text('[workspace]\nroot = "."\n')
    nothing = inproc(empty, "queue", "list")
    assert (0, 2, 2) == (done.returncode, missing.returncode, nothing.returncode)
    assert "no ledger at" in nothing.stderr
    assert not (empty / "state").exists()
    assert "schema revision 0008_claim_items" in done.stdout
    assert "Traceback" not in missing.stderr
    assert "nope.toml" in missing.stderr


def test_correction_files_follow_the_open_items(workspace: Path) -> None:
    """Syncing writes one owner-only file per open item and removes files of closed ones."""

    async def sync() -> tuple[int, int]:
        async with await Ledger.open(f"sqlite:///{workspace}/state/gateway.db") as ledger:
            return await sync_correction_files(ledger, workspace / "corrections")

    assert (4, 0) == asyncio.run(sync())
    assert (0, 0) == asyncio.run(sync())
    inproc(workspace, "queue", "resolve", "R1", "--note", "done")
    assert not (workspace / "corrections" / "R1.json").exists()
    files = sorted(p.name for p in (workspace / "corrections").iterdir())
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (workspace / "corrections").iterdir()}
    document = json.loads((workspace / "corrections" / "D1.json").read_text())
    assert ["D1.json", "M1.json", "P1.json"] == files
    assert {0o600} == modes
    assert ["CO-50"] == [r["code"] for r in document["rejection"]["reasons"]]
    assert "D1" == document["claim_id"]


def test_gateway_executable_exists() -> None:
    """The console script the tests run is installed beside the interpreter."""
    assert os.access(GATEWAY[0], os.X_OK)


@pytest.mark.postgres
async def test_commands_use_postgresql_through_the_environment(tmp_path: Path) -> None:
    """GATEWAY_LEDGER_URL points every command at PostgreSQL; the queue reads from there."""
    from gateway.ledger.testing import fresh_postgres_database, postgres_available

    if not await postgres_available():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    (tmp_path / "gateway.toml").write_text('[workspace]\nroot = "."\n')
    async with fresh_postgres_database() as url:
        async with await Ledger.open(url) as ledger:
            await ledger.record_claims([incoming("PG1")])
            await ledger.mark_invalid("PG1", [])
        done = await asyncio.to_thread(
            subprocess.run,
            [*GATEWAY, "queue", "list", "--json", "--config", str(tmp_path / "gateway.toml")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "GATEWAY_LEDGER_URL": url},
        )
    assert 0 == done.returncode, done.stderr
    assert ["PG1"] == [i["claim_id"] for i in json.loads(done.stdout)]
    assert not (tmp_path / "state" / "gateway.db").exists()
