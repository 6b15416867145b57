"""Custody of files the gateway will not take or left half-moved: refused inbox entries are reported
once and quarantined where safe, quarantine works for any name, a crash never leaves one file with
two names (and such a state is recovered on start), orphan temp files are removed, and a second
`gateway run` with the same worker id is refused."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import io
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from gateway.config import load_settings
from gateway.logs import configure_logging
from gateway.service.files import (
    FileProblem,
    archive_file,
    atomic_write,
    move_no_overwrite,
    quarantine_file,
)
from gateway.service.pipeline import Service
from gateway.service.transports import DirectoryTransport, pull_responses
from tests.support.service import drop, encounter, write_config

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = [str(Path(sys.executable).parent / "gateway")]
HOUR = 3600.0
LONG_ASCII = "a" * 250 + ".json"  # 255 bytes: the longest name ext4 allows
LONG_UTF8 = "é" * 125 + ".json"  # 255 bytes in 130 characters


def mode_of(path: Path) -> int:
    """The permission bits of ``path`` (not following a symlink)."""
    return stat.S_IMODE(path.lstat().st_mode)


def age(path: Path, seconds: float) -> None:
    """Set ``path``'s times ``seconds`` into the past (not following a symlink)."""
    moment = time.time() - seconds
    os.utime(path, (moment, moment), follow_symlinks=False)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The service's JSON log lines, captured."""
    stream = io.StringIO()
    configure_logging(log_format="json", level="info", stream=stream)
    yield stream
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def events(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every logged event so far."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    """A service over a fresh workspace."""
    svc = await Service.open(load_settings(write_config(tmp_path), environ={}))
    try:
        yield svc
    finally:
        await svc.close()


# --- item 9: one file, two names ------------------------------------------------------------------

_CRASH_ON_UNLINK = """
import os, pathlib, signal, sys
from gateway.service.files import atomic_write, move_no_overwrite
def crash(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
os.unlink = crash
pathlib.Path.unlink = crash
folder = pathlib.Path(sys.argv[2])
if sys.argv[1] == "atomic_write":
    atomic_write(folder / "X.x12", b"ISA*payload~", overwrite=False)
else:
    move_no_overwrite(folder / "source.x12", folder / "dest", "X.x12")
"""


@pytest.mark.parametrize("step", ["atomic_write", "move_no_overwrite"])
def test_a_crash_when_the_old_name_would_be_removed_leaves_one_file_with_one_name(
    tmp_path: Path, step: str
) -> None:
    """A process killed where the link-then-unlink pattern removed the temporary name leaves the
    file under exactly one name (its final one), never two."""
    if step == "move_no_overwrite":
        (tmp_path / "source.x12").write_bytes(b"ISA*payload~")
    done = subprocess.run(
        [sys.executable, "-c", _CRASH_ON_UNLINK, step, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    final = tmp_path / ("X.x12" if step == "atomic_write" else "dest/X.x12")
    assert b"ISA*payload~" == final.read_bytes()
    assert 1 == final.stat().st_nlink
    left = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert (["X.x12"] if step == "atomic_write" else []) == left


_FALLBACK_CRASH = """
import pathlib, sys
from gateway import durable
durable._renameat2 = None  # a kernel or file system without RENAME_NOREPLACE
durable.atomic_write(pathlib.Path(sys.argv[1]) / "X.x12", b"ISA*payload~", overwrite=False)
"""


def test_without_renameat2_a_crash_between_link_and_unlink_is_finished_by_tidying(
    tmp_path: Path,
) -> None:
    """Where only link-then-unlink exists, a kill between the two leaves two names, and
    ``tidy_folder`` (run on start) removes the temp name and keeps the file."""
    from gateway.service.files import tidy_folder

    done = subprocess.run(
        [sys.executable, "-c", _FALLBACK_CRASH, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "GATEWAY_CRASH_AT": "between-link-and-unlink"},
    )
    assert -signal.SIGKILL == done.returncode, done.stderr
    assert 2 == (tmp_path / "X.x12").stat().st_nlink
    report = tidy_folder(tmp_path, orphan_age=HOUR)
    assert 1 == len(report.finished)
    assert ["X.x12"] == [p.name for p in tmp_path.iterdir()]
    assert 1 == (tmp_path / "X.x12").stat().st_nlink
    assert b"ISA*payload~" == (tmp_path / "X.x12").read_bytes()


def test_without_renameat2_writes_and_moves_still_never_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link-then-unlink fallback refuses a taken name and moves under a numbered one."""
    from gateway import durable

    monkeypatch.setattr(durable, "_renameat2", None)
    atomic_write(tmp_path / "a.x12", b"one", overwrite=False)
    with pytest.raises(FileExistsError):
        atomic_write(tmp_path / "a.x12", b"two", overwrite=False)
    (tmp_path / "b.x12").write_bytes(b"three")
    moved = move_no_overwrite(tmp_path / "b.x12", tmp_path, "a.x12")
    assert "a-2.x12" == moved.name
    assert [b"one", b"three"] == [(tmp_path / n).read_bytes() for n in ("a.x12", "a-2.x12")]
    assert ["a-2.x12", "a.x12"] == sorted(p.name for p in tmp_path.iterdir())


def two_names(folder: Path, name: str, data: bytes) -> Path:
    """Build by hand what a crash between link and unlink left: ``name`` and a temp name."""
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{name}.k2j4x9q1.tmp"
    temp.write_bytes(data)
    os.link(temp, folder / name)
    return temp


async def test_a_file_left_with_its_temp_name_is_finished_on_start_and_then_taken(
    service: Service,
) -> None:
    """A response and an 837 each left under two names (final and temp) by a crash lose the temp
    name on start; the response is then taken from the inbox like any other."""
    ws = service.settings.workspace
    response_temp = two_names(ws.responses_inbox, "late.x12", b"not a response at all")
    sent_temp = two_names(ws.outbox, "demo-837P-000000042.x12", b"ISA*staged~")
    await service.run_once()
    assert not response_temp.exists()
    assert not sent_temp.exists()
    assert 1 == (ws.outbox / "demo-837P-000000042.x12").stat().st_nlink
    assert [] == list(ws.responses_inbox.iterdir())  # taken (and quarantined as unreadable)
    assert (ws.quarantine / "late.x12.error.json").exists()


def test_a_move_interrupted_after_its_new_name_is_finished_by_moving_again(tmp_path: Path) -> None:
    """A claimed file already linked into the archive by a crashed move is archived once when the
    move runs again: its processing name goes, no ``-2`` copy appears."""
    source = tmp_path / "processing" / "t1" / "a.json"
    source.parent.mkdir(parents=True)
    source.write_text("[]")
    day = tmp_path / "archive" / "d"
    day.mkdir(parents=True)
    os.link(source, day / "a.json")
    target = move_no_overwrite(source, day, "a.json")
    assert day / "a.json" == target
    assert not source.exists()
    assert ["a.json"] == [p.name for p in day.iterdir()]
    assert 1 == target.stat().st_nlink


# --- item 11: orphan temp files -------------------------------------------------------------------


def test_only_old_gateway_temp_files_are_removed(tmp_path: Path) -> None:
    """Temp files matching the gateway's pattern and older than the safe age are removed; young
    ones, other dotfiles and ordinary files stay."""
    from gateway.service.files import tidy_folder

    old = tmp_path / ".r.x12.ab12cd34.tmp"
    young = tmp_path / ".s.x12.ef56gh78.tmp"
    foreign = tmp_path / ".notes.swp"
    plain = tmp_path / "keep.tmp"
    for path in (old, young, foreign, plain):
        path.write_text("x")
    for path in (old, foreign, plain):
        age(path, 2 * HOUR)
    report = tidy_folder(tmp_path, orphan_age=HOUR)
    assert [old.name] == [p.name for p in report.removed]
    assert [] == report.finished
    assert sorted([young.name, foreign.name, plain.name]) == sorted(
        p.name for p in tmp_path.iterdir()
    )


async def test_orphan_temp_files_in_the_gateways_folders_are_removed_on_start(
    tmp_path: Path, captured: io.StringIO
) -> None:
    """Orphan temps a crash left in the responses inbox, the outbox and the staging folder are
    removed on start, each with one log line; a fresh one is left for its writer."""
    settings = load_settings(write_config(tmp_path), environ={})
    settings.workspace.create()
    ws = settings.workspace
    staging = ws.state / "outgoing" / "main"
    staging.mkdir(parents=True)
    orphans = [
        ws.responses_inbox / ".r1.999.q1w2e3r4.tmp",
        ws.outbox / ".demo-837P-1.x12.t5y6u7i8.tmp",
        staging / ".demo-837P-2.x12.o9p0a1s2.tmp",
    ]
    fresh = ws.responses_inbox / ".r2.999.d3f4g5h6.tmp"
    for path in (*orphans, fresh):
        path.write_text("half")
    for path in orphans:
        age(path, 2 * HOUR)
    svc = await Service.open(settings)
    try:
        await svc.run_once()
    finally:
        await svc.close()
    assert not any(p.exists() for p in orphans)
    assert fresh.exists()
    removed = [e for e in events(captured) if e["event"] == "orphan temp file removed"]
    assert sorted(p.name for p in orphans) == sorted(e["file"] for e in removed)


# --- item 8: any name the file system allows ------------------------------------------------------


@pytest.mark.parametrize("name", [LONG_ASCII, LONG_UTF8], ids=["255-ascii", "255-utf8"])
def test_quarantine_works_for_the_longest_names_and_is_owner_only(
    tmp_path: Path, name: str
) -> None:
    """A 255-byte name (ASCII or multibyte UTF-8) is quarantined with its ``.error.json``; both
    are 0600, the explanation keeps the original name; a second one of that name also fits."""
    inbox, quarantine = tmp_path / "inbox", tmp_path / "quarantine"
    inbox.mkdir()
    problem = FileProblem("not-x12", "unreadable", "fix it")
    outcomes = []
    for content in ("first", "second"):
        source = inbox / name
        source.write_text(content)
        source.chmod(0o644)
        outcomes.append(quarantine_file(source, quarantine, problem))
    for (target, error_file), content in zip(outcomes, ("first", "second"), strict=True):
        assert content == target.read_text()
        assert 0o600 == mode_of(target) == mode_of(error_file)
        report = json.loads(error_file.read_text())
        assert name == report["file"]
        assert target.name == report["quarantined_as"]
        assert len(error_file.name.encode()) <= 255
    assert outcomes[0][0] != outcomes[1][0]


def test_archiving_a_second_file_of_a_255_byte_name_works(tmp_path: Path) -> None:
    """Two files of the same 255-byte name archive side by side (the numbered name fits)."""
    first, second = tmp_path / "one" / LONG_UTF8, tmp_path / "two" / LONG_UTF8
    for path, text in ((first, "1"), (second, "2")):
        path.parent.mkdir()
        path.write_text(text)
    archived = [archive_file(p, tmp_path / "archive") for p in (first, second)]
    assert ["1", "2"] == [p.read_text() for p in archived]
    assert all(len(p.name.encode()) <= 255 for p in archived)


async def test_an_unreadable_file_with_a_255_byte_name_is_quarantined_not_put_back(
    service: Service, captured: io.StringIO
) -> None:
    """The service quarantines a bad encounter file whose name is 255 bytes, with its error file,
    instead of logging that it goes back to the inbox."""
    ws = service.settings.workspace
    (ws.encounters_inbox / LONG_UTF8).write_text("{not json")
    await service.run_once()
    assert [] == list(ws.encounters_inbox.iterdir())
    names = sorted(p.name for p in ws.quarantine.iterdir())
    assert 2 == len(names)
    assert any(n.endswith(".error.json") for n in names)
    assert all(mode_of(ws.quarantine / n) == 0o600 for n in names)
    assert not [e for e in events(captured) if "goes back to the inbox" in e["event"]]


async def test_a_name_that_is_not_utf8_is_quarantined_not_retried_forever(
    service: Service, captured: io.StringIO
) -> None:
    """An inbox file whose name is not valid UTF-8 (the ledger cannot record it) is quarantined
    under a printable name with its explanation, reported once, and never put back."""
    ws = service.settings.workspace
    raw = os.path.join(os.fsencode(ws.encounters_inbox), b"bad-\xff\xfe.json")
    with open(raw, "w") as handle:
        handle.write("{not json")
    for _ in range(2):
        await service.run_once()
    assert [] == os.listdir(ws.encounters_inbox)
    report = json.loads((ws.quarantine / "bad-\\xff\\xfe.json.error.json").read_text())
    assert "bad-name" == report["error"]["code"]
    assert "{not json" == (ws.quarantine / report["quarantined_as"]).read_text()
    logged = [e for e in events(captured) if e["event"].startswith(("file refused", "file not"))]
    assert ["file refused; quarantined"] == [e["event"] for e in logged]
    assert 1 == (await service.ledger.status()).refused_files


# --- item 7: entries the gateway will not take ----------------------------------------------------


async def test_refused_inbox_entries_are_reported_once_counted_and_quarantined_where_safe(
    service: Service, captured: io.StringIO, tmp_path: Path
) -> None:
    """A symlink (the link itself moved, its target untouched), a hard link (a private copy kept,
    the other name untouched) and a long-stale dotfile are quarantined; a dotfile seen for a while
    is reported but stays; a fresh one is silent. Each is logged once over several sweeps and
    counted in ``gateway status``."""
    ws = service.settings.workspace
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / "secret.json"
    target.write_text(json.dumps([encounter(1)]))
    (ws.encounters_inbox / "link.json").symlink_to(target)
    other_name = outside / "shared.json"
    other_name.write_text(json.dumps([encounter(2)]))
    other_name.chmod(0o644)
    os.link(other_name, ws.encounters_inbox / "hard.json")
    stale = ws.encounters_inbox / ".abandoned.swp"
    stale.write_text("x")
    age(stale, 3 * 24 * HOUR)
    lingering = ws.responses_inbox / ".open-in-editor.swp"
    lingering.write_text("x")
    age(lingering, 2 * HOUR)
    fresh = ws.encounters_inbox / ".being-edited.swp"
    fresh.write_text("x")
    senders_temp = ws.encounters_inbox / ".upload.json.q1w2e3r4.tmp"  # our pattern, not ours
    senders_temp.write_text("x")
    age(senders_temp, 2 * HOUR)
    for _ in range(3):
        await service.run_once()
        await service.housekeeping()

    assert sorted([".being-edited.swp", senders_temp.name]) == sorted(
        p.name for p in ws.encounters_inbox.iterdir()
    )
    assert [lingering] == list(ws.responses_inbox.iterdir())
    assert target.read_text() == json.dumps([encounter(1)])
    assert 0o644 == mode_of(other_name)
    assert 1 == other_name.stat().st_nlink
    quarantined = {p.name: p for p in ws.quarantine.iterdir()}
    assert quarantined["link.json"].is_symlink()
    assert str(target) == os.readlink(quarantined["link.json"])
    assert other_name.read_text() == quarantined["hard.json"].read_text()
    assert 0o600 == mode_of(quarantined["hard.json"])
    assert {"link.json.error.json", "hard.json.error.json", ".abandoned.swp.error.json"} <= set(
        quarantined
    )
    assert not (await service.ledger.claim("SVC-0001"))
    assert not (await service.ledger.claim("SVC-0002"))

    refused = [e for e in events(captured) if e["event"].startswith("file refused")]
    reported = sorted((e["file"], e["reason"]) for e in refused)
    assert [
        (".abandoned.swp", "ignored-name"),
        (".open-in-editor.swp", "ignored-name"),
        (".upload.json.q1w2e3r4.tmp", "ignored-name"),
        ("hard.json", "hard-link"),
        ("link.json", "symlink"),
    ] == reported
    summary = await service.ledger.status()
    assert 5 == summary.refused_files


async def test_a_dotfile_reported_as_lingering_is_quarantined_once_it_is_abandoned(
    service: Service, captured: io.StringIO
) -> None:
    """A dotfile is reported once while it lingers and quarantined once it has been left for a
    day, by the same process; it stays one refused file in the ledger."""
    ws = service.settings.workspace
    swap = ws.encounters_inbox / ".notes.swp"
    swap.write_text("x")
    age(swap, 2 * HOUR)
    await service.housekeeping()
    await service.housekeeping()
    assert swap.exists()
    age(swap, 2 * 24 * HOUR)
    await service.housekeeping()
    assert not swap.exists()
    assert (ws.quarantine / ".notes.swp.error.json").exists()
    logged = [e["event"] for e in events(captured) if e.get("file") == ".notes.swp"]
    assert ["file refused; left as is", "file refused; quarantined"] == logged
    assert 1 == (await service.ledger.status()).refused_files


async def test_a_symlinked_inbox_file_is_never_followed(service: Service) -> None:
    """A symlink to a valid encounter file records no claim and leaves its target as it was."""
    ws = service.settings.workspace
    target = drop(service.settings, "real.json", [encounter(7)]).rename(ws.root / "real.json")
    (ws.encounters_inbox / "link.json").symlink_to(ws.root / "real.json")
    await service.run_once()
    assert await service.ledger.claim("SVC-0007") is None
    assert json.dumps([encounter(7)]) == target.read_text()
    assert (ws.quarantine / "link.json").is_symlink()


DROP_PARTNER = textwrap.dedent(
    """
    [transport]
    kind = "directory"
    pickup = "pickup"
    drop = "drop"
    """
)


async def test_an_oversize_response_in_the_drop_folder_is_quarantined_once(
    tmp_path: Path, captured: io.StringIO
) -> None:
    """A response over the size limit in the clearinghouse's drop folder is quarantined with its
    ``.error.json`` on the first pull and logged once, not once per pull."""
    drop_dir, quarantine = tmp_path / "drop", tmp_path / "quarantine"
    drop_dir.mkdir()
    (drop_dir / "big.835").write_bytes(b"x" * 2000)
    (drop_dir / "ok.999").write_bytes(b"small")
    transport = DirectoryTransport(tmp_path / "pickup", drop_dir, max_bytes=1000)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    refused: list[tuple[str, str]] = []

    async def on_refused(name: str, problem: FileProblem, where: Path | None) -> None:
        refused.append((name, problem.code))

    for _ in range(5):
        await pull_responses(transport, inbox, quarantine=quarantine, on_refused=on_refused)
    assert ["ok.999"] == [p.name for p in inbox.iterdir()]
    assert not (drop_dir / "big.835").exists()
    assert 2000 == (quarantine / "big.835").stat().st_size
    report = json.loads((quarantine / "big.835.error.json").read_text())
    assert "too-large" == report["error"]["code"]
    assert [("big.835", "too-large")] == refused
    logged = [e for e in events(captured) if e.get("file") == "big.835"]
    assert 1 == len(logged)


async def test_entries_in_the_drop_folder_that_are_never_fetched_are_reported_and_left(
    tmp_path: Path, captured: io.StringIO
) -> None:
    """A symlink and a hard link in the clearinghouse's drop folder are reported once and counted,
    but left where they are (the folder is the clearinghouse's)."""
    config = write_config(tmp_path)
    partner = tmp_path / "partners" / "demo-clearinghouse.toml"
    text = partner.read_text()
    partner.write_text(text[: text.index("[transport]")] + DROP_PARTNER)
    (tmp_path / "drop").mkdir()
    (tmp_path / "elsewhere.999").write_text("x")
    (tmp_path / "drop" / "linked.999").symlink_to(tmp_path / "elsewhere.999")
    os.link(tmp_path / "elsewhere.999", tmp_path / "drop" / "twice.999")
    svc = await Service.open(load_settings(config, environ={}))
    try:
        for _ in range(3):
            await svc.run_once()
        assert 2 == (await svc.ledger.status()).refused_files
    finally:
        await svc.close()
    assert ["linked.999", "twice.999"] == sorted(p.name for p in (tmp_path / "drop").iterdir())
    refused = sorted(
        (e["file"], e["reason"]) for e in events(captured) if e["event"].startswith("file refused")
    )
    assert [("linked.999", "symlink"), ("twice.999", "hard-link")] == refused


# --- item 13: one process per worker id -----------------------------------------------------------


def test_a_second_gateway_run_with_the_same_worker_id_is_refused_with_exit_2(
    tmp_path: Path,
) -> None:
    """While `gateway run` works, a second `gateway run` with its worker id on the same SQLite
    workspace exits 2 saying the id is in use; another worker id may run."""
    config = write_config(tmp_path)
    env = {**os.environ, "GATEWAY_CRASH_AT": ""}
    log = tmp_path / "first.log"
    with log.open("w") as sink:
        first = subprocess.Popen(
            [*GATEWAY, "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
            env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while '"service started"' not in log.read_text():
            assert first.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the first gateway run did not start"
            time.sleep(0.1)
        second = subprocess.run(
            [*GATEWAY, "run", "--once", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        other = subprocess.run(
            [*GATEWAY, "run", "--once", "--worker-id", "w2", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert 2 == second.returncode, second.stderr[-2000:]
    assert "in use" in second.stderr
    assert "Traceback" not in second.stderr
    assert 0 == other.returncode, other.stderr[-2000:]
    assert 0 == first.returncode, log.read_text()[-2000:]
    assert "Traceback" not in log.read_text()


async def test_the_worker_lock_is_held_while_open_and_given_back_on_close(tmp_path: Path) -> None:
    """A second service with the same worker id on one workspace is refused while the first is
    open; another id is not; once the first is closed, the id may be used again."""
    from gateway.ledger.workers import WorkerIdInUseError

    settings = load_settings(write_config(tmp_path), environ={})
    first = await Service.open(settings)
    try:
        with pytest.raises(WorkerIdInUseError, match="'main' is in use"):
            await Service.open(settings)
        other = await Service.open(settings, worker_id="w2")
        await other.close()
    finally:
        await first.close()
    again = await Service.open(settings)
    await again.close()


def test_a_quarantine_cut_short_after_the_new_name_is_finished_without_a_second_copy(
    tmp_path: Path,
) -> None:
    """A claimed file already linked into quarantine by a crashed move is quarantined once when
    the step runs again: its explanation is written beside it and no ``-2`` copy appears."""
    from gateway.service.files import claim_file

    inbox, quarantine = tmp_path / "inbox", tmp_path / "quarantine"
    inbox.mkdir()
    (inbox / "bad.json").write_text("{not json")
    claimed = claim_file(inbox / "bad.json", tmp_path / "processing")
    assert claimed is not None
    quarantine.mkdir()
    os.link(claimed.path, quarantine / "bad.json")
    target, _ = quarantine_file(claimed, quarantine, FileProblem("x", "y", "z"))
    assert quarantine / "bad.json" == target
    assert ["bad.json", "bad.json.error.json"] == sorted(p.name for p in quarantine.iterdir())
    assert 1 == target.stat().st_nlink
    assert not claimed.path.exists()
