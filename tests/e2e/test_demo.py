"""`gateway demo`: one command on a fresh folder runs the whole loop and leaves a workspace the
other commands can read; its generated encounters and packaged samples are what they claim."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from gateway.demo import demo_encounters, prepare_workspace, sample_files
from gateway.edits import scrub
from gateway.models import Encounter

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = str(Path(sys.executable).parent / "gateway")


def gateway(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the gateway command line in ``cwd``."""
    return subprocess.run(
        [GATEWAY, *args], capture_output=True, text=True, timeout=170, cwd=cwd, check=False
    )


@pytest.mark.slow
def test_the_demo_settles_every_claim_and_leaves_a_workspace_to_explore(tmp_path: Path) -> None:
    """The demo finishes, reports, and `gateway queue list` / `status` work on its config; no
    claim is left in flight and the log holds none of the synthetic patients' details."""
    done = gateway("demo", "--claims", "60", cwd=tmp_path)
    assert 0 == done.returncode, done.stderr[-3000:]
    assert "gateway demo done" in done.stdout
    assert "gateway queue list --config gateway-demo/gateway.toml" in done.stdout
    assert "claims settled" in done.stderr  # the progress bar
    config = "gateway-demo/gateway.toml"
    queue = gateway("queue", "list", "--config", config, cwd=tmp_path)
    assert 0 == queue.returncode, queue.stderr
    status = json.loads(gateway("status", "--json", "--config", config, cwd=tmp_path).stdout)
    in_flight = {"received", "queued", "batched", "submitted", "acknowledged", "accepted"}
    assert set() == in_flight & set(status["by_state"])
    assert status["open_items"] > 0
    assert status["by_state"]["paid"]["claims"] > 0
    log = (tmp_path / "gateway-demo/logs/gateway.log").read_text()
    assert '"interchange submitted"' in log
    people = [e["subscriber"] for e in demo_encounters(60)]
    leaked = {p["member_id"] for p in people} | {p["birth_date"] for p in people}
    leaked |= {p["address"]["line1"] for p in people}
    assert set() == {value for value in leaked if value in log}


def test_a_second_demo_replaces_the_workspace_of_the_first(tmp_path: Path) -> None:
    """A folder made by the demo is reset: the old ledger and files are gone."""
    config = prepare_workspace(tmp_path / "demo")
    (tmp_path / "demo" / "state").mkdir()
    (tmp_path / "demo" / "state" / "gateway.db").write_text("old ledger")
    assert config == prepare_workspace(tmp_path / "demo")
    assert not (tmp_path / "demo" / "state").exists()
    assert (tmp_path / "demo" / "partners" / "demo-clearinghouse.toml").is_file()


def test_a_folder_the_demo_did_not_make_is_refused(tmp_path: Path) -> None:
    """The demo never wipes a folder it did not create: exit 2 and a message."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    refused = gateway("demo", "--workdir", "mine", cwd=tmp_path)
    assert 2 == refused.returncode
    assert "was not made by `gateway demo`" in refused.stderr
    assert "keep me" == (tmp_path / "mine" / "notes.txt").read_text()


def test_the_packaged_samples_are_the_repository_samples() -> None:
    """The demo's package-data copies are identical to samples/encounters (never stale)."""
    for name, data in sample_files():
        assert (ROOT / "samples" / "encounters" / name).read_bytes() == data, name


def test_generated_encounters_have_exactly_the_planned_scrubber_mistakes() -> None:
    """Every 23rd generated encounter has one scrubber error; the others are clean."""
    today = date(2026, 11, 23)
    generated = demo_encounters(120, today=today)
    with_errors = []
    for data in generated:
        found = [f for f in scrub(Encounter.model_validate(data), today=today) if f.is_error]
        if found:
            with_errors.append(data["claim_id"])
    assert [f"DEMO-{n:05d}" for n in (23, 46, 69, 92, 115)] == with_errors
    assert generated == demo_encounters(120, today=today)  # reproducible


def test_generated_encounters_plant_coding_errors() -> None:
    """The planted mistakes include a non-billable category, a missing 7th character and an
    external cause listed first, each caught by the ICD-10-CM rules."""
    today = date(2026, 11, 23)
    errors: set[str] = set()
    for data in demo_encounters(23 * 6, today=today):
        found = scrub(Encounter.model_validate(data), today=today)
        errors |= {str(f.code) for f in found if f.is_error}
    assert {"E-ICD-NOT-BILLABLE", "E-ICD-7TH-CHARACTER", "E-ICD-EXTERNAL-CAUSE-FIRST"} <= errors
