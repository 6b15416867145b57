"""Tests for gateway.service.files: atomic writes, path guard, settling, claiming and archiving."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from gateway.service import files
from gateway.service.files import (
    ClaimedFile,
    FileProblem,
    FileState,
    FileTooLargeError,
    SettleTracker,
    UnsafePathError,
    WorkspaceGuard,
    archive_file,
    atomic_write,
    atomic_write_async,
    claim_file,
    ensure_private_dir,
    file_state,
    is_candidate_name,
    list_claimed,
    quarantine_file,
    read_file,
    read_file_sync,
    release_claimed,
    set_private_umask,
    sha256_file,
    sha256_file_sync,
    write_new_file,
)
from gateway.x12 import Defect, DefectCode, Location


def mode_of(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """Run a test under a permissive umask (022), restoring the previous one afterwards."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_private_umask_makes_new_files_and_folders_owner_only(tmp_path: Path) -> None:
    """After set_private_umask, plain open() and mkdir() create 0o600 files and 0o700 folders."""
    previous = set_private_umask()
    try:
        (tmp_path / "f").write_text("x")
        (tmp_path / "d").mkdir()
        assert os.umask(0o077) == 0o077
    finally:
        os.umask(previous)
    assert (mode_of(tmp_path / "f"), mode_of(tmp_path / "d")) == (0o600, 0o700)


@pytest.mark.usefixtures("loose_umask")
def test_atomic_write_writes_owner_only_and_leaves_no_temp_file(tmp_path: Path) -> None:
    """The written file has the data, mode 0o600 under umask 022, and no temp file remains."""
    target = tmp_path / "out.837"
    atomic_write(target, b"old")
    atomic_write(target, b"ISA*new~")
    assert (
        target.read_bytes(),
        mode_of(target),
        sorted(p.name for p in tmp_path.iterdir()),
    ) == (b"ISA*new~", 0o600, ["out.837"])


def test_atomic_write_without_overwrite_refuses_an_existing_file(tmp_path: Path) -> None:
    """overwrite=False raises FileExistsError and keeps the existing content and no temp file."""
    target = tmp_path / "a.x12"
    target.write_bytes(b"first")
    with pytest.raises(FileExistsError):
        atomic_write(target, b"second", overwrite=False)
    assert (target.read_bytes(), [p.name for p in tmp_path.iterdir()]) == (b"first", ["a.x12"])


def test_a_failed_atomic_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the rename fails, the old content stays and the temp file is removed."""
    target = tmp_path / "a.x12"
    target.write_bytes(b"old")

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"new")
    assert (target.read_bytes(), [p.name for p in tmp_path.iterdir()]) == (b"old", ["a.x12"])


async def test_atomic_write_async_writes_off_the_loop(tmp_path: Path) -> None:
    """The async form writes the same bytes with the same mode."""
    target = await atomic_write_async(tmp_path / "b.json", b"{}")
    assert (target.read_bytes(), mode_of(target)) == (b"{}", 0o600)


def _build_guard_tree(tmp_path: Path) -> tuple[WorkspaceGuard, Path]:
    """A workspace with an inbox, a symlinked file, a symlinked folder and an outside file."""
    real = tmp_path / "real-workspace"
    (real / "inbox").mkdir(parents=True)
    (real / "inbox" / "ok.json").write_text("{}")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("s")
    (real / "inbox" / "link.json").symlink_to(tmp_path / "outside" / "secret.txt")
    (real / "inbox" / "sub").symlink_to(tmp_path / "outside")
    (tmp_path / "ws").symlink_to(real)  # the root itself may be a symlink
    return WorkspaceGuard([tmp_path / "ws"]), tmp_path / "ws"


@pytest.mark.parametrize(
    ("relative", "refusal"),
    [
        ("inbox/ok.json", None),
        ("inbox/not-yet-there.json", None),
        ("inbox/link.json", "link.json is a symbolic link"),
        ("inbox/sub/secret.txt", "sub is a symbolic link"),
        ("inbox/../../outside/secret.txt", "outside the workspace"),
        ("/etc/passwd", "outside the workspace"),
    ],
)
def test_workspace_guard_refuses_symlinks_and_paths_outside(
    tmp_path: Path, relative: str, refusal: str | None
) -> None:
    """Paths inside the workspace pass; symlinks below the root and escapes are refused."""
    guard, root = _build_guard_tree(tmp_path)
    path = root / relative
    if refusal is None:
        assert os.path.normpath(path) == str(guard.check(path))
    else:
        with pytest.raises(UnsafePathError, match=refusal):
            guard.check(path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claims.json", True),
        ("batch 2026-11-02.jsonl", True),
        ("response.x12", True),
        (".hidden.json", False),
        (".claims.json.abc.tmp", False),
        ("claims.json.tmp", False),
        ("claims.json.TMP", False),
        ("upload.part", False),
        ("bad.json.error.json", False),
        ("", False),
    ],
)
def test_candidate_names_skip_dotfiles_temp_and_partial_files(name: str, expected: bool) -> None:
    """Dotfiles, .tmp, .part and our own .error.json files are never taken from an inbox."""
    assert expected == is_candidate_name(name)


def test_file_state_only_describes_plain_singly_linked_files(tmp_path: Path) -> None:
    """Symlinks, folders, fifos, hard-linked files and missing paths have no state."""
    plain = tmp_path / "plain"
    plain.write_bytes(b"12345")
    (tmp_path / "link").symlink_to(plain)
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "hard-a").write_text("x")
    os.link(tmp_path / "hard-a", tmp_path / "hard-b")
    actual = {p.name: file_state(p) for p in sorted(tmp_path.iterdir())}
    actual["missing"] = file_state(tmp_path / "missing")
    info = plain.lstat()
    expected: dict[str, FileState | None] = {
        "dir": None,
        "fifo": None,
        "hard-a": None,
        "hard-b": None,
        "link": None,
        "missing": None,
        "plain": FileState(5, info.st_mtime_ns, info.st_ino),
    }
    assert expected == actual


def _touch(path: Path, data: bytes, mtime_ns: int) -> None:
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


# Each step: (seconds to advance, action on the file, whether scan() reports it).
SETTLE_CASES: list[tuple[str, list[tuple[float, str, bool]]]] = [
    ("unchanged for the interval", [(0, "write", False), (1.0, "", False), (1.0, "", True)]),
    ("never reported twice", [(0, "write", False), (2.0, "", True), (5.0, "", False)]),
    (
        "growth restarts the wait",
        [(0, "write", False), (1.5, "grow", False), (1.5, "", False), (0.5, "", True)],
    ),
    (
        "a touch restarts the wait",
        [(0, "write", False), (1.9, "touch", False), (1.9, "", False), (0.1, "", True)],
    ),
    (
        "vanished files are forgotten",
        [(0, "write", False), (2.0, "delete", False), (0, "write", False), (2.0, "", True)],
    ),
]


@pytest.mark.parametrize(("case", "steps"), SETTLE_CASES, ids=[c for c, _ in SETTLE_CASES])
def test_settle_tracker_reports_a_file_once_unchanged_across_the_interval(
    tmp_path: Path, case: str, steps: list[tuple[float, str, bool]]
) -> None:
    """A file is complete only when size and mtime stayed the same for settle_seconds."""
    clock = FakeClock()
    tracker = SettleTracker(2.0, clock=clock)
    path = tmp_path / "enc.json"
    mtime = 1_700_000_000_000_000_000
    actual: list[bool] = []
    for advance, action, _ in steps:
        clock.now += advance
        if action == "write":
            _touch(path, b"{}", mtime)
        elif action == "grow":
            _touch(path, b"{} ", mtime)
        elif action == "touch":
            mtime += 1_000_000
            _touch(path, b"{} ", mtime)
        elif action == "delete":
            path.unlink()
        actual.append(path in tracker.scan(tmp_path))
    assert [expected for *_, expected in steps] == actual


def test_settle_tracker_ignores_names_and_kinds_it_must_not_take(tmp_path: Path) -> None:
    """Dotfiles, .part/.tmp files, folders and symlinks are never reported, however old."""
    clock = FakeClock()
    tracker = SettleTracker(1.0, clock=clock)
    for name in (".x.json", "a.part", "b.tmp", "good.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link.json").symlink_to(tmp_path / "good.json")
    tracker.scan(tmp_path)
    clock.now += 5
    assert [tmp_path / "good.json"] == tracker.scan(tmp_path)


def test_settle_tracker_with_zero_interval_and_next_due(tmp_path: Path) -> None:
    """settle_seconds=0 reports at once; next_due says how long until a pending file may settle."""
    clock = FakeClock()
    (tmp_path / "a.json").write_text("{}")
    assert [tmp_path / "a.json"] == SettleTracker(0.0, clock=clock).scan(tmp_path)
    tracker = SettleTracker(3.0, clock=clock)
    assert tracker.next_due() is None
    tracker.scan(tmp_path)
    clock.now += 1.0
    assert (2.0, [tmp_path / "a.json"]) == (tracker.next_due(), tracker.pending())


def test_claim_moves_the_file_into_its_own_processing_folder(tmp_path: Path) -> None:
    """The claimed file keeps its name under processing/<token>/ and the inbox is empty."""
    inbox, processing = tmp_path / "inbox", tmp_path / "processing"
    inbox.mkdir()
    (inbox / "enc.json").write_bytes(b"{}")
    claimed = claim_file(inbox / "enc.json", processing)
    assert claimed is not None
    assert ("enc.json", inbox, processing, b"{}", []) == (
        claimed.name,
        claimed.inbox,
        claimed.holder.parent,
        claimed.path.read_bytes(),
        list(inbox.iterdir()),
    )
    assert claim_file(inbox / "enc.json", processing) is None  # already taken


def test_only_one_of_many_concurrent_claimers_wins(tmp_path: Path) -> None:
    """Eight threads claiming the same file: exactly one gets it, none errs, nothing is lost."""
    inbox, processing = tmp_path / "inbox", tmp_path / "processing"
    inbox.mkdir()
    (inbox / "enc.json").write_bytes(b"{}")
    results: list[ClaimedFile | None] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(claim_file(inbox / "enc.json", processing))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r is not None]
    assert (len(winners), len(list(processing.iterdir()))) == (1, 1)


def test_claimed_files_are_found_again_and_can_be_released(tmp_path: Path) -> None:
    """After a crash, list_claimed finds claimed files; release_claimed puts one back."""
    inbox, processing = tmp_path / "inbox", tmp_path / "processing"
    inbox.mkdir()
    for name in ("a.json", "b.json"):
        (inbox / name).write_text(name)
        claim_file(inbox / name, processing)
    (processing / "empty-holder").mkdir()
    found = list_claimed(processing, inbox)
    assert [c.name for c in found] == ["a.json", "b.json"]
    (inbox / "a.json").write_text("a newer a.json")
    back = release_claimed(found[0])
    assert (inbox / "a-2.json", "a.json") == (back, back.read_text())
    assert [c.name for c in list_claimed(processing, inbox)] == ["b.json"]
    assert len(list(processing.iterdir())) == 1  # empty holders are cleaned up


def test_archive_files_by_day_never_overwriting(tmp_path: Path) -> None:
    """Three files of one name archived on one day become name, name-2, name-3 under YYYY/MM/DD."""
    inbox, processing, archive = tmp_path / "inbox", tmp_path / "p", tmp_path / "archive"
    inbox.mkdir()
    when = datetime(2026, 11, 2, 12, 0).astimezone()
    archived = []
    for content in (b"1", b"2", b"3"):
        (inbox / "claims.json").write_bytes(content)
        claimed = claim_file(inbox / "claims.json", processing)
        assert claimed is not None
        archived.append(archive_file(claimed, archive, when=when))
    (inbox / "noext").write_bytes(b"4")
    archived.append(archive_file(inbox / "noext", archive, when=when))
    day = archive / "2026" / "11" / "02"
    expected = [
        (day / "claims.json", b"1"),
        (day / "claims-2.json", b"2"),
        (day / "claims-3.json", b"3"),
        (day / "noext", b"4"),
    ]
    assert expected == [(p, p.read_bytes()) for p in archived]
    assert (list(processing.iterdir()), list(inbox.iterdir())) == ([], [])


def test_quarantine_writes_a_located_error_beside_the_file(tmp_path: Path) -> None:
    """The file moves to quarantine and <name>.error.json says what, where and what to do."""
    inbox, processing, quarantine = tmp_path / "inbox", tmp_path / "p", tmp_path / "q"
    inbox.mkdir()
    (inbox / "resp.x12").write_bytes(b"garbage")
    claimed = claim_file(inbox / "resp.x12", processing)
    assert claimed is not None
    defect = Defect(
        DefectCode.TA1_001, "ISA segment not found", Location(segment_index=0, offset=0, tag="ISA")
    )
    problem = FileProblem.from_findings(
        "not-x12", "the file is not an X12 interchange", "ask the sender to resend it", [defect]
    )
    moved, error = quarantine_file(claimed, quarantine, problem)
    report = json.loads(error.read_text())
    assert (quarantine / "resp.x12", quarantine / "resp.x12.error.json") == (moved, error)
    assert (moved.read_bytes(), mode_of(error)) == (b"garbage", 0o600)
    expected = {
        "file": "resp.x12",
        "quarantined_as": "resp.x12",
        "received_from": str(inbox / "resp.x12"),
        "size": 7,
        "sha256": hashlib.sha256(b"garbage").hexdigest(),
        "error": {
            "code": "not-x12",
            "what": "the file is not an X12 interchange",
            "where": defect.location.as_dict(),
            "what_to_do": "ask the sender to resend it",
            "findings": [defect.as_dict()],
        },
    }
    assert expected == {k: v for k, v in report.items() if k != "quarantined_at"}
    assert report["quarantined_at"].endswith("Z")


def test_a_second_quarantine_of_the_same_name_keeps_both(tmp_path: Path) -> None:
    """Quarantining resp.x12 twice gives resp.x12 and resp-2.x12, each with its own error file."""
    inbox, quarantine = tmp_path / "inbox", tmp_path / "q"
    inbox.mkdir()
    problem = FileProblem("too-large", "over the size limit", "split the file")
    for content in (b"a", b"b"):
        (inbox / "resp.x12").write_bytes(content)
        quarantine_file(inbox / "resp.x12", quarantine, problem)
    expected = ["resp-2.x12", "resp-2.x12.error.json", "resp.x12", "resp.x12.error.json"]
    assert expected == sorted(p.name for p in quarantine.iterdir())
    assert (quarantine / "resp-2.x12").read_bytes() == b"b"


async def test_sha256_streams_large_files_sync_and_async(tmp_path: Path) -> None:
    """Both hash functions agree with hashlib over a file larger than one chunk."""
    data = os.urandom(3 * files.CHUNK_SIZE + 17)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert (expected, expected) == (sha256_file_sync(path), await sha256_file(path))


async def test_read_file_enforces_the_size_limit(tmp_path: Path) -> None:
    """Files up to the limit are read whole; one byte more is FileTooLargeError (sync and async)."""
    path = tmp_path / "enc.json"
    path.write_bytes(b"x" * 10)
    assert (await read_file(path, 10), read_file_sync(path, 10)) == (b"x" * 10, b"x" * 10)
    with pytest.raises(FileTooLargeError, match="10 bytes is more than the limit of 9"):
        await read_file(path, 9)
    with pytest.raises(FileTooLargeError):
        read_file_sync(path, 9)


async def test_reading_refuses_a_symlink_even_after_the_checks(tmp_path: Path) -> None:
    """A file swapped for a symlink is not followed when it is opened (O_NOFOLLOW)."""
    (tmp_path / "secret").write_text("s")
    (tmp_path / "enc.json").symlink_to(tmp_path / "secret")
    with pytest.raises(OSError, match="symbolic links"):
        await read_file(tmp_path / "enc.json", 100)
    with pytest.raises(OSError, match="symbolic links"):
        sha256_file_sync(tmp_path / "enc.json")


def test_write_new_file_never_replaces_and_numbers_collisions(tmp_path: Path) -> None:
    """Three writes of one name give name, name-2 and name-3, each complete and owner-only."""
    paths = [write_new_file(tmp_path, "999.x12", data) for data in (b"a", b"b", b"c")]
    expected = [("999.x12", b"a"), ("999-2.x12", b"b"), ("999-3.x12", b"c")]
    assert expected == [(p.name, p.read_bytes()) for p in paths]
    assert {0o600} == {mode_of(p) for p in paths}


@pytest.mark.usefixtures("loose_umask")
def test_folders_made_for_archiving_are_owner_only(tmp_path: Path) -> None:
    """ensure_private_dir creates every missing level with mode 0o700, and is idempotent."""
    target = tmp_path / "archive" / "2026" / "11" / "02"
    ensure_private_dir(target)
    ensure_private_dir(target)
    levels = [
        tmp_path / "archive",
        *[tmp_path / "archive" / p for p in ("2026", "2026/11")],
        target,
    ]
    assert [mode_of(p) for p in levels] == [0o700] * 4
