"""The simulator as a process: folders in and out, once only, delays, restarts, the command."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

import gateway.simulator.runner as simulator_module
from gateway.cli import main
from gateway.config import load_settings
from gateway.models import Encounter
from gateway.partners import Partners, load_partners
from gateway.simulator import Simulator, folders_from_settings
from gateway.simulator.rules import load_rules
from gateway.transactions.claim837 import build_837
from gateway.transactions.control_numbers import MemoryAllocator
from gateway.x12 import read_segments

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "encounters" / "professional-self.json"
CREATED = datetime(2026, 11, 20, 9, 30)


def demo_partners() -> Partners:
    """The demo partner of config/partners."""
    demo = load_partners(ROOT / "config" / "partners").get("demo-clearinghouse")
    return Partners({demo.name: demo}, demo.name)


def build(first_claim: int, count: int = 2) -> bytes:
    """One 837P with ``count`` copies of the professional sample; ISA13 = ``first_claim``."""
    base = json.loads(SAMPLE.read_text())
    encounters = []
    for n in range(first_claim, first_claim + count):
        data = json.loads(json.dumps(base))
        data["claim_id"] = f"RUN-{n:04d}"
        for i, line in enumerate(data["service_lines"], 1):
            line["line_id"] = f"R{n:04d}-{i}"
        encounters.append(Encounter.model_validate(data))
    result = build_837(encounters, demo_partners(), MemoryAllocator(first_claim), created=CREATED)
    (built,) = result.interchanges
    return built.data


def isa13(data: bytes) -> str:
    """ISA13 of an X12 file."""
    return str(next(iter(read_segments(data)))[13])


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Pickup, drop and work folders."""
    pickup, drop, work = tmp_path / "pickup", tmp_path / "drop", tmp_path / "work"
    pickup.mkdir()
    return pickup, drop, work


def simulator(folders: tuple[Path, Path, Path], **options: object) -> Simulator:
    """A simulator over the test folders, delays off unless asked."""
    pickup, drop, work = folders
    options.setdefault("use_delays", False)
    return Simulator(pickup, drop, work, **options)  # type: ignore[arg-type]


async def test_each_837_is_answered_once_and_kept(folders: tuple[Path, Path, Path]) -> None:
    """run_once takes each 837 once into processed/, drops owner-only responses, then rests."""
    pickup, drop, work = folders
    (pickup / "a.x12").write_bytes(build(1))
    (pickup / ".hidden.x12").write_bytes(build(2))
    (pickup / "b.x12.tmp").write_bytes(build(3))
    sim = simulator(folders)
    written = await sim.run_once()
    assert ["a.x12"] == [a.source for a in sim.answers]
    assert ["a.x12"] == sorted(p.name for p in (work / "processed").iterdir())
    assert [".hidden.x12", "b.x12.tmp"] == sorted(p.name for p in pickup.iterdir())
    assert sorted(written) == sorted(drop.iterdir())
    assert 5 == len(written)  # TA1, 999, 277CA, payer 277CA, 835
    assert {0o600} == {stat.S_IMODE(p.stat().st_mode) for p in written}
    assert [] == await sim.run_once()
    assert 1 == len(sim.answers)


async def test_numbers_continue_after_a_restart(folders: tuple[Path, Path, Path]) -> None:
    """A new simulator on the same work folder never reuses a response ISA13."""
    pickup, drop, _ = folders
    (pickup / "a.x12").write_bytes(build(1))
    await simulator(folders).run_once()
    (pickup / "b.x12").write_bytes(build(2))
    await simulator(folders).run_once()
    numbers = [isa13(p.read_bytes()) for p in drop.iterdir()]
    assert 10 == len(numbers) == len(set(numbers))


async def test_the_same_file_dropped_again_is_not_answered_twice(
    folders: tuple[Path, Path, Path],
) -> None:
    """The same interchange re-sent (a resend after a crash) gets no second set of responses."""
    pickup, drop, _ = folders
    data = build(1)
    (pickup / "a.x12").write_bytes(data)
    sim = simulator(folders)
    await sim.run_once()
    (pickup / "a.x12").write_bytes(data)
    assert [] == await sim.run_once()
    assert ["answered", "duplicate"] == [a.outcome for a in sim.answers]
    assert 5 == len(list(drop.iterdir()))


async def test_delays_show_the_stages_one_after_another(folders: tuple[Path, Path, Path]) -> None:
    """With delays, step() drops TA1 and 999 first, the 277CAs and the 835 as time passes."""
    pickup, drop, _ = folders
    clock = Clock()
    sim = simulator(folders, use_delays=True, clock=clock)
    (pickup / "a.x12").write_bytes(build(1))

    def stages() -> list[str]:
        return sorted(p.name.split(".")[1] for p in drop.iterdir())

    await sim.step()
    assert ["999", "ta1"] == stages()
    assert 1.0 == sim.next_due()
    clock.now += timedelta(seconds=1)
    await sim.step()
    assert ["277ca", "999", "ta1"] == stages()
    clock.now += timedelta(seconds=10)
    await sim.step()
    assert ["277ca", "277ca-payer", "835", "999", "ta1"] == stages()
    assert sim.next_due() is None
    assert [] == list((sim.work / "pending").iterdir())


async def test_a_crash_loses_nothing_and_sends_nothing_twice(
    folders: tuple[Path, Path, Path],
) -> None:
    """An 837 held without an answer is answered on start; a pending answer is delivered once."""
    pickup, drop, work = folders
    clock = Clock()
    first = simulator(folders, use_delays=True, clock=clock)
    (pickup / "a.x12").write_bytes(build(1))
    await first.step()  # TA1 and 999 out, the rest pending
    # as if the process died while holding a second file, before answering it
    (work / "incoming" / "b.x12").write_bytes(build(2))
    restarted = simulator(folders)
    await restarted.run_once()
    names = sorted(p.name for p in drop.iterdir())
    assert 10 == len(names)
    assert ["a.x12", "b.x12"] == sorted(p.name for p in (work / "processed").iterdir())
    assert ["b.x12"] == [a.source for a in restarted.answers]
    numbers = [isa13(p.read_bytes()) for p in drop.iterdir()]
    assert len(numbers) == len(set(numbers))


async def test_a_file_answered_before_a_crash_is_filed_not_answered_again(
    folders: tuple[Path, Path, Path],
) -> None:
    """An 837 still in incoming/ whose answer was stored is moved on, not answered twice."""
    pickup, drop, work = folders
    sim = simulator(folders, use_delays=True, clock=Clock())
    (pickup / "a.x12").write_bytes(build(1))
    await sim.step()
    shutil.copy(work / "processed" / "a.x12", work / "incoming" / "a.x12")
    (work / "processed" / "a.x12").unlink()
    restarted = simulator(folders)
    await restarted.run_once()
    assert [] == restarted.answers
    assert 5 == len(list(drop.iterdir()))
    assert ["a.x12"] == [p.name for p in (work / "processed").iterdir()]


async def test_an_unreadable_file_is_set_aside(folders: tuple[Path, Path, Path]) -> None:
    """Garbage in the pickup folder is taken, answered with nothing, and kept."""
    pickup, drop, work = folders
    (pickup / "junk.x12").write_bytes(b"not an interchange")
    sim = simulator(folders)
    assert [] == await sim.run_once()
    assert ["unreadable"] == [a.outcome for a in sim.answers]
    assert [] == list(drop.iterdir())
    assert ["junk.x12"] == [p.name for p in (work / "processed").iterdir()]


async def test_run_answers_files_dropped_while_it_runs(folders: tuple[Path, Path, Path]) -> None:
    """run() keeps watching until stopped; a file dropped meanwhile is answered."""
    pickup, drop, _ = folders
    sim = simulator(folders, poll_interval=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(sim.run(stop))
    await asyncio.sleep(0.05)
    (pickup / "a.x12").write_bytes(build(1))
    for _ in range(200):
        if len(list(drop.iterdir())) == 5:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert 5 == len(list(drop.iterdir()))


def test_folders_come_from_the_demo_partner_transport(tmp_path: Path) -> None:
    """The pickup is the transport's folder (the outbox); the drop is the responses inbox."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    settings = load_settings(config / "gateway.toml", environ={})
    assert (settings.workspace.outbox, settings.workspace.responses_inbox) == (
        folders_from_settings(settings)
    )
    partner = config / "partners" / "demo-clearinghouse.toml"
    partner.write_text(partner.read_text() + 'drop = "clearinghouse/drop"\n')
    settings = load_settings(config / "gateway.toml", environ={})
    assert (settings.workspace.outbox, tmp_path / "clearinghouse" / "drop") == (
        folders_from_settings(settings)
    )


def test_the_command_answers_once_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway simulate --once --json` answers the outbox into the responses inbox, exit 0."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "a.x12").write_bytes(build(1))
    code = main(["simulate", "--config", str(tmp_path / "config" / "gateway.toml"),
                 "--once", "--json", "--seed", "5"])  # fmt: skip
    assert 0 == code
    (answer,) = json.loads(capsys.readouterr().out)
    assert ("a.x12", "answered", 5) == (
        answer["source"],
        answer["outcome"],
        len(answer["responses"]),
    )
    responses = sorted(p.name for p in (tmp_path / "inbox" / "responses").iterdir())
    assert sorted(answer["responses"]) == responses
    assert (tmp_path / "state" / "simulator" / "state.json").is_file()


def test_a_bad_rules_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistake in --rules exits 2 with the file and key named, nothing answered."""
    rules = tmp_path / "rules.toml"
    rules.write_text("[delays]\nremittance = 'soon'\n")
    code = main(["simulate", "--once", "--rules", str(rules), "--pickup", str(tmp_path / "p"),
                 "--drop", str(tmp_path / "d"), "--work", str(tmp_path / "w")])  # fmt: skip
    assert 2 == code
    assert f"{rules}: [delays] remittance" in capsys.readouterr().err


def test_the_seed_option_changes_the_rules_seed() -> None:
    """--seed replaces the seed of the rules (the rest unchanged)."""
    rules = load_rules()
    assert replace(rules, seed=5).adjudication == rules.adjudication


def test_the_process_answers_while_it_runs_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`gateway simulate` as a process answers a file dropped after it started; SIGTERM ends it."""
    pickup, drop, work = tmp_path / "pickup", tmp_path / "drop", tmp_path / "work"
    command = [sys.executable, "-c", "from gateway.cli import run; run()", "simulate",
               "--pickup", str(pickup), "--drop", str(drop), "--work", str(work), "--no-delays",
               "--interval", "0.05", "--settle", "0"]  # fmt: skip
    env = {**os.environ, "GATEWAY_LOG_FORMAT": "json"}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not pickup.is_dir() and time.monotonic() < deadline:
            time.sleep(0.05)
        (pickup / ".a.x12.tmp").write_bytes(build(1))
        (pickup / ".a.x12.tmp").rename(pickup / "a.x12")
        while time.monotonic() < deadline:
            if drop.is_dir() and len(list(drop.iterdir())) == 5:
                break
            time.sleep(0.05)
        assert 5 == len(list(drop.iterdir()))
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert 0 == process.returncode, err
    assert "837 answered" in err
    assert "Traceback" not in err


async def test_a_pickup_on_another_file_system_is_copied_then_removed(
    folders: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a rename cannot cross file systems, the 837 is copied in and taken from the pickup."""
    pickup, drop, work = folders
    real_move = simulator_module.move_no_overwrite

    def move(source: Path, folder: Path, name: str) -> Path:
        if source.parent == pickup:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_move(source, folder, name)

    monkeypatch.setattr(simulator_module, "move_no_overwrite", move)
    data = build(1)
    (pickup / "a.x12").write_bytes(data)
    sim = simulator(folders)
    await sim.run_once()
    assert [] == list(pickup.iterdir())
    assert data == (work / "processed" / "a.x12").read_bytes()
    assert 5 == len(list(drop.iterdir()))


async def test_logs_name_files_and_numbers_never_patients(
    folders: tuple[Path, Path, Path],
) -> None:
    """What the runner logs holds file names, control numbers and outcomes, no names or ids."""
    pickup, _, _ = folders
    (pickup / "a.x12").write_bytes(build(1))
    with structlog.testing.capture_logs() as events:
        await simulator(folders).run_once()
    text = json.dumps(events, default=str)
    assert {"837 answered", "response dropped"} == {e["event"] for e in events}
    for phi in ("DOE", "JANE", "UH4471829001", "OAK AVE", "19800412"):
        assert phi not in text
