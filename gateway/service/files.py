"""File-safety primitives of the service: nothing half-written is read, nothing is lost or exposed.

- ``set_private_umask()``: everything the process creates is owner-only.
- ``atomic_write``: temp file in the same folder, fsync, ``os.replace``, fsync the folder (0o600).
- ``WorkspaceGuard``: refuses symlinks and paths outside the workspace.
- ``is_candidate_name`` and ``SettleTracker``: an inbox file is taken only once complete (no
  dotfiles, ``*.tmp`` or ``*.part``; size and mtime unchanged across the settle interval).
- ``claim_file``: takes a file from an inbox by atomic rename into the processing folder, so two
  workers never process the same file; ``list_claimed`` finds claimed files again after a crash.
- ``archive_file`` (``archive/YYYY/MM/DD/``) and ``quarantine_file`` (beside ``<name>.error.json``):
  never overwrite (a ``-N`` suffix is added), never delete input.
- ``sha256_file`` / ``read_file`` (aiofiles) and their ``*_sync`` forms.

The moving functions are synchronous (a rename and a few fsyncs each); from the event loop, call
them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import os
import secrets
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import aiofiles

from gateway.config import WorkspaceSettings

__all__ = [
    "CHUNK_SIZE",
    "ClaimedFile",
    "FileProblem",
    "FileState",
    "FileTooLargeError",
    "SettleTracker",
    "UnsafePathError",
    "WorkspaceGuard",
    "archive_file",
    "atomic_write",
    "atomic_write_async",
    "claim_file",
    "ensure_private_dir",
    "file_state",
    "fsync_directory",
    "is_candidate_name",
    "list_claimed",
    "move_no_overwrite",
    "numbered_name",
    "quarantine_file",
    "read_file",
    "read_file_sync",
    "release_claimed",
    "set_private_umask",
    "sha256_file",
    "sha256_file_sync",
    "write_new_file",
]

CHUNK_SIZE = 1 << 20
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
IGNORED_SUFFIXES = (".tmp", ".part")
ERROR_SUFFIX = ".error.json"


class UnsafePathError(ValueError):
    """A path that is a symlink, passes through one, or lies outside the workspace."""


class FileTooLargeError(ValueError):
    """A file larger than the configured limit (it is quarantined unread)."""

    def __init__(self, path: Path, size: int, limit: int) -> None:
        super().__init__(f"{path.name}: {size} bytes is more than the limit of {limit} bytes")
        self.path = path
        self.size = size
        self.limit = limit


def set_private_umask() -> int:
    """Make every file and folder this process creates owner-only; returns the previous umask."""
    return os.umask(0o077)


# --- durable writes ------------------------------------------------------------------------------


def fsync_directory(folder: Path) -> None:
    """Flush a folder's entries (a rename or create in it) to disk."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems (network shares) cannot fsync a folder
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def ensure_private_dir(folder: Path) -> None:
    """Create ``folder`` and missing parents (0o700), each made durable in its parent."""
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for item in reversed(missing):
        try:
            item.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue
        fsync_directory(item.parent)


def atomic_write(
    path: Path, data: bytes, *, overwrite: bool = True, mode: int = PRIVATE_FILE_MODE
) -> Path:
    """Write ``data`` to ``path``: readers see the old file or the whole new one, never a part.

    The temp file is a dotfile ending ``.tmp`` in the same folder (so watchers ignore it); it is
    fsynced, given ``mode`` and renamed into place, then the folder is fsynced. With
    ``overwrite=False`` an existing ``path`` raises ``FileExistsError`` (nothing is replaced).
    """
    folder = path.parent
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails with FileExistsError, never replaces
            temp.unlink()
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_directory(folder)
    return path


def write_new_file(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` atomically as ``folder/name``, or ``name-2``, ``name-3``... if it is taken."""
    for n in range(1, 100_000):
        target = folder / (name if n == 1 else numbered_name(name, n))
        try:
            return atomic_write(target, data, overwrite=False)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free name for {name} in {folder}")  # pragma: no cover


async def atomic_write_async(
    path: Path, data: bytes, *, overwrite: bool = True, mode: int = PRIVATE_FILE_MODE
) -> Path:
    """``atomic_write`` off the event loop (fsync blocks)."""
    return await asyncio.to_thread(atomic_write, path, data, overwrite=overwrite, mode=mode)


# --- the workspace guard --------------------------------------------------------------------------


class WorkspaceGuard:
    """Refuses paths outside the given roots and paths that are, or go through, a symlink.

    The roots themselves may be symlinks (an operator's choice); everything below them may not.
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = tuple(Path(os.path.normpath(Path(r).absolute())) for r in roots)
        if not self.roots:
            raise ValueError("a WorkspaceGuard needs at least one root folder")

    @classmethod
    def for_workspace(cls, workspace: WorkspaceSettings) -> WorkspaceGuard:
        """A guard over every folder of the workspace (each may be configured anywhere)."""
        return cls(workspace.folders())

    def root_of(self, path: Path) -> Path | None:
        """The deepest root holding ``path`` (lexically), or None."""
        candidate = Path(os.path.normpath(Path(path).absolute()))
        best: Path | None = None
        for root in self.roots:
            inside = candidate == root or root in candidate.parents
            if inside and (best is None or len(root.parts) > len(best.parts)):
                best = root
        return best

    def check(self, path: Path) -> Path:
        """``path`` made absolute, or ``UnsafePathError`` saying why it is refused."""
        candidate = Path(os.path.normpath(Path(path).absolute()))
        root = self.root_of(candidate)
        if root is None:
            raise UnsafePathError(f"{path}: outside the workspace; refused")
        current = root
        for part in candidate.relative_to(root).parts:
            current = current / part
            try:
                info = current.lstat()
            except FileNotFoundError:
                break  # not there (yet): nothing below can be a link either
            if stat.S_ISLNK(info.st_mode):
                raise UnsafePathError(f"{path}: {current.name} is a symbolic link; refused")
        return candidate


# --- completeness -------------------------------------------------------------------------------


def is_candidate_name(name: str) -> bool:
    """Whether a file name may be taken from an inbox (no dotfiles, ``.tmp``, ``.part``, errors)."""
    lowered = name.lower()
    return bool(name) and not (
        name.startswith(".") or lowered.endswith(IGNORED_SUFFIXES) or lowered.endswith(ERROR_SUFFIX)
    )


@dataclass(frozen=True)
class FileState:
    """What tells a growing file from a finished one."""

    size: int
    mtime_ns: int
    inode: int


def file_state(path: Path) -> FileState | None:
    """The state of a regular, singly linked, non-symlink file; None for anything else or gone."""
    try:
        info = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        return None  # symlinks, folders, fifos and hard links to elsewhere are never taken
    return FileState(info.st_size, info.st_mtime_ns, info.st_ino)


@dataclass
class _Seen:
    state: FileState
    since: float


@dataclass
class SettleTracker:
    """Decides when inbox files are complete: unchanged size and mtime for ``settle_seconds``.

    Call ``scan(folder)`` (or ``observe(path)``) repeatedly; a file is reported complete once the
    same state has been seen for the whole interval. A file that changes starts its wait again.
    Files reported complete are forgotten (the caller claims them).
    """

    settle_seconds: float
    clock: Callable[[], float] = time.monotonic
    _seen: dict[Path, _Seen] = field(default_factory=dict)

    def observe(self, path: Path) -> bool:
        """Record ``path``'s current state; True when it has now settled."""
        if not is_candidate_name(path.name):
            return False
        state = file_state(path)
        if state is None:
            self._seen.pop(path, None)
            return False
        now = self.clock()
        seen = self._seen.get(path)
        if seen is None or seen.state != state:
            self._seen[path] = _Seen(state, now)
            if self.settle_seconds > 0:
                return False
            seen = self._seen[path]
        if now - seen.since >= self.settle_seconds:
            del self._seen[path]
            return True
        return False

    def scan(self, folder: Path) -> list[Path]:
        """The files of ``folder`` (not sub-folders) that have settled, oldest first."""
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            entries = []
        present = {Path(e.path) for e in entries}
        for gone in [p for p in self._seen if p.parent == folder and p not in present]:
            del self._seen[gone]
        ready = [Path(e.path) for e in entries if self.observe(Path(e.path))]
        return sorted(ready, key=_mtime_then_name)

    def forget(self, path: Path) -> None:
        """Stop tracking ``path`` (it was claimed or removed by someone else)."""
        self._seen.pop(path, None)

    def pending(self) -> list[Path]:
        """Files seen but not yet settled."""
        return sorted(self._seen)

    def next_due(self) -> float | None:
        """Seconds until the soonest pending file could settle (None when nothing is pending)."""
        if not self._seen:
            return None
        now = self.clock()
        return max(0.0, min(s.since + self.settle_seconds - now for s in self._seen.values()))


def _mtime_then_name(path: Path) -> tuple[int, str]:
    try:
        return (path.lstat().st_mtime_ns, path.name)
    except OSError:
        return (0, path.name)


# --- claiming, archiving, quarantining ------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedFile:
    """A file taken from an inbox, now at ``path`` (its own folder under the processing folder)."""

    path: Path
    #: The name it had in the inbox (kept when archived or quarantined).
    name: str
    #: The inbox it came from (where ``release_claimed`` puts it back).
    inbox: Path

    @property
    def holder(self) -> Path:
        """The claim's own folder inside the processing folder."""
        return self.path.parent


def claim_file(path: Path, processing_dir: Path) -> ClaimedFile | None:
    """Take ``path`` by atomic rename into a fresh folder under ``processing_dir``.

    Returns None when the file is gone (another worker claimed it first). ``processing_dir`` must be
    on the same file system as the inbox (a rename cannot cross file systems).
    """
    ensure_private_dir(processing_dir)
    token = f"{time.time_ns()}-{os.getpid()}-{secrets.token_hex(4)}"
    holder = processing_dir / token
    holder.mkdir(mode=PRIVATE_DIR_MODE)
    fsync_directory(processing_dir)
    target = holder / path.name
    try:
        os.rename(path, target)
    except FileNotFoundError:
        holder.rmdir()
        return None
    except OSError as exc:
        holder.rmdir()
        if exc.errno == errno.EXDEV:
            raise OSError(
                exc.errno,
                f"cannot claim {path.name}: the processing folder {processing_dir} must be on "
                f"the same file system as {path.parent}",
            ) from exc
        raise
    fsync_directory(path.parent)
    fsync_directory(holder)
    return ClaimedFile(target, path.name, path.parent)


def list_claimed(processing_dir: Path, inbox: Path) -> list[ClaimedFile]:
    """Files claimed earlier and not yet archived or quarantined (after a crash), oldest first."""
    found: list[ClaimedFile] = []
    if not processing_dir.is_dir():
        return found
    for holder in sorted(processing_dir.iterdir()):
        if not holder.is_dir() or holder.is_symlink():
            continue
        files = [p for p in holder.iterdir() if file_state(p) is not None]
        found.extend(ClaimedFile(p, p.name, inbox) for p in files)
        if not files:
            _remove_empty(holder)
    return found


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        return


def numbered_name(name: str, n: int) -> str:
    """``name`` with ``-n`` before its last suffix: ``a.json`` -> ``a-2.json``."""
    dot = name.rfind(".")
    if dot <= 0:
        return f"{name}-{n}"
    return f"{name[:dot]}-{n}{name[dot:]}"


def move_no_overwrite(source: Path, folder: Path, name: str) -> Path:
    """Move ``source`` into ``folder`` as ``name``, or ``name`` with ``-2``, ``-3``... if taken.

    Safe against concurrent movers: the new name is created with ``os.link``, which never replaces
    (on file systems without hard links, a checked rename is used instead).
    """
    ensure_private_dir(folder)
    for n in range(1, 100_000):
        target = folder / (name if n == 1 else numbered_name(name, n))
        try:
            os.link(source, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if target.exists() or target.is_symlink():
                continue
            os.rename(source, target)
            break
        source.unlink()
        break
    else:  # pragma: no cover - 100,000 files of one name in one day
        raise FileExistsError(f"no free name for {name} in {folder}")
    fsync_directory(folder)
    fsync_directory(source.parent)
    return target


def _source_and_name(item: Path | ClaimedFile) -> tuple[Path, str, Path | None]:
    if isinstance(item, ClaimedFile):
        return item.path, item.name, item.holder
    return item, item.name, None


def archive_file(
    item: Path | ClaimedFile, archive_root: Path, *, when: datetime | None = None
) -> Path:
    """Move a processed file to ``archive_root/YYYY/MM/DD/`` (local date) without overwriting."""
    source, name, holder = _source_and_name(item)
    moment = (when or datetime.now(UTC)).astimezone()
    folder = archive_root / f"{moment:%Y}" / f"{moment:%m}" / f"{moment:%d}"
    target = move_no_overwrite(source, folder, name)
    if holder is not None:
        _remove_empty(holder)
    return target


def release_claimed(claimed: ClaimedFile) -> Path:
    """Put a claimed file back into its inbox (a step rolled back), never overwriting."""
    target = move_no_overwrite(claimed.path, claimed.inbox, claimed.name)
    _remove_empty(claimed.holder)
    return target


class _HasAsDict(Protocol):
    def as_dict(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class FileProblem:
    """Why a file was quarantined: what is wrong, where, and what to do about it.

    ``code`` is stable for programs (``too-large``, ``unsafe-path``, ``not-x12``...); ``where`` is a
    location (e.g. ``Location.as_dict()``) or None for the whole file; ``findings`` are every
    located problem (``Defect.as_dict()`` of each), when there are several.
    """

    code: str
    what: str
    what_to_do: str
    where: Mapping[str, object] | None = None
    findings: Sequence[Mapping[str, object]] = ()

    @classmethod
    def from_findings(
        cls, code: str, what: str, what_to_do: str, findings: Iterable[_HasAsDict]
    ) -> FileProblem:
        """A problem whose ``where`` is the first finding's location (e.g. from X12 defects)."""
        items = [f.as_dict() for f in findings]
        first = items[0].get("location") if items else None
        return cls(code, what, what_to_do, first if isinstance(first, Mapping) else None, items)

    def as_dict(self) -> dict[str, object]:
        """The problem as JSON-ready data."""
        return {
            "code": self.code,
            "what": self.what,
            "where": dict(self.where) if self.where is not None else None,
            "what_to_do": self.what_to_do,
            "findings": [dict(f) for f in self.findings],
        }


def quarantine_file(
    item: Path | ClaimedFile,
    quarantine_dir: Path,
    problem: FileProblem,
    *,
    when: datetime | None = None,
) -> tuple[Path, Path]:
    """Move a file to ``quarantine_dir`` and write ``<name>.error.json`` beside it.

    Returns (the quarantined file, its error file). The file is moved first, so a crash in between
    leaves it in quarantine without its explanation, never lost.
    """
    source, name, holder = _source_and_name(item)
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    digest = sha256_file_sync(source) if file_state(source) is not None else None
    size = source.lstat().st_size
    target = move_no_overwrite(source, quarantine_dir, name)
    if holder is not None:
        _remove_empty(holder)
    report = {
        "file": name,
        "quarantined_as": target.name,
        "received_from": str(item.inbox / name if isinstance(item, ClaimedFile) else source),
        "quarantined_at": moment.isoformat().replace("+00:00", "Z"),
        "size": size,
        "sha256": digest,
        "error": problem.as_dict(),
    }
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    error_path = target.with_name(target.name + ERROR_SUFFIX)
    atomic_write(error_path, text.encode("utf-8"))
    return target, error_path


# --- reading and hashing --------------------------------------------------------------------------


def _nofollow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


def sha256_file_sync(path: Path) -> str:
    """The SHA-256 of a file's content (hex), read in chunks; symlinks are refused."""
    digest = hashlib.sha256()
    with open(path, "rb", opener=_nofollow) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


async def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content (hex), streamed with aiofiles."""
    digest = hashlib.sha256()
    async with aiofiles.open(path, "rb", opener=_nofollow) as handle:
        while chunk := await handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def read_file_sync(path: Path, max_bytes: int) -> bytes:
    """A file's bytes, or ``FileTooLargeError`` beyond ``max_bytes``; symlinks are refused."""
    with open(path, "rb", opener=_nofollow) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise FileTooLargeError(path, size, max_bytes)
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while being read
        raise FileTooLargeError(path, len(data), max_bytes)
    return data


async def read_file(path: Path, max_bytes: int) -> bytes:
    """A file's bytes read with aiofiles, or ``FileTooLargeError`` beyond ``max_bytes``."""
    async with aiofiles.open(path, "rb", opener=_nofollow) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise FileTooLargeError(path, size, max_bytes)
        data = await handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLargeError(path, len(data), max_bytes)
    return data
