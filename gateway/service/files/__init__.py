"""File-safety primitives of the service: nothing half-written is read, nothing is lost or exposed.

- ``set_private_umask()``: everything the process creates is owner-only.
- ``atomic_write``: temp file in the same folder, fsync, ``os.replace`` (or, never replacing,
  ``rename_no_replace``: ``renameat2(RENAME_NOREPLACE)``, so no file ever has two names), fsync
  the folder (0o600).
- ``WorkspaceGuard``: refuses symlinks and paths outside the workspace.
- ``is_candidate_name`` and ``SettleTracker``: an inbox file is taken only once complete (no
  dotfiles, ``*.tmp`` or ``*.part``; size and mtime unchanged across the settle interval).
- ``claim_file``: takes a file from an inbox by atomic rename into the processing folder, so two
  workers never process the same file; ``list_claimed`` finds claimed files again after a crash.
- ``archive_file`` (``archive/YYYY/MM/DD/``) and ``quarantine_file`` (beside ``<name>.error.json``):
  never overwrite (a ``-N`` suffix is added), never delete input; any name the file system allows
  (``fit_name`` shortens a stored name that leaves no room for ``-N.error.json``).
- ``tidy_folder``: the gateway's temp files a crash left (a second name of a finished file, or an
  orphan older than a safe age). ``find_refused``: inbox entries the gateway will never take
  (symlinks, hard links, stale dotfiles, names that are not UTF-8) and whether to quarantine them.
- ``hold_lock``: an ``flock`` held for the life of a process (one process per worker id).
- ``sha256_file`` / ``read_file`` (aiofiles) and their ``*_sync`` forms.

The moving functions are synchronous (a rename and a few fsyncs each); from the event loop, call
them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
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
    "CRASH_VARIABLE",
    "ClaimedFile",
    "FileProblem",
    "FileState",
    "FileTooLargeError",
    "Refusal",
    "SettleTracker",
    "TidyReport",
    "UnsafePathError",
    "WorkspaceGuard",
    "archive_file",
    "atomic_write",
    "atomic_write_async",
    "claim_file",
    "crash_point",
    "ensure_private_dir",
    "file_state",
    "find_refused",
    "fit_name",
    "fsync_directory",
    "hold_lock",
    "is_candidate_name",
    "is_own_temp",
    "is_utf8_name",
    "list_claimed",
    "move_no_overwrite",
    "numbered_name",
    "printable_name",
    "quarantine_file",
    "read_file",
    "read_file_sync",
    "release_claimed",
    "rename_no_replace",
    "set_private_umask",
    "sha256_file",
    "sha256_file_sync",
    "tidy_folder",
    "write_new_file",
]

CHUNK_SIZE = 1 << 20
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
IGNORED_SUFFIXES = (".tmp", ".part")
ERROR_SUFFIX = ".error.json"
#: The longest file name (in bytes) that Linux file systems allow.
NAME_MAX = 255
#: Room kept after a stored name for ``-NNNNN`` and ``.error.json``.
_STORED_RESERVE = len("-99999") + len(ERROR_SUFFIX)
#: The temp files ``atomic_write`` makes: ``.<name>.<8 random chars from mkstemp>.tmp``.
_OWN_TEMP = re.compile(r"^\.(?P<final>.+)\.[a-z0-9_]{8}\.tmp$", re.DOTALL)
#: Testing aid: a comma-separated list of crash points (see :func:`crash_point`).
CRASH_VARIABLE = "GATEWAY_CRASH_AT"


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL (as ``kill -9`` would) when ``GATEWAY_CRASH_AT`` names
    ``name``: the end-to-end tests stop the service at every step of the write-ahead protocol and
    prove that a restart loses nothing and sends nothing twice. Unset, this does nothing."""
    wanted = os.environ.get(CRASH_VARIABLE)
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)


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


def _load_renameat2() -> Callable[..., int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function: Callable[..., int] = libc.renameat2
    except (OSError, AttributeError):  # not glibc >= 2.28 (or not Linux)
        return None
    args = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.argtypes = args  # type: ignore[attr-defined]
    function.restype = ctypes.c_int  # type: ignore[attr-defined]
    return function


_renameat2 = _load_renameat2()
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
#: renameat2 answers these when the kernel or the file system cannot do RENAME_NOREPLACE.
_NOREPLACE_UNSUPPORTED = (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP)


def rename_no_replace(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` in one step, or ``FileExistsError`` if ``target`` exists.

    ``renameat2(RENAME_NOREPLACE)`` where the kernel and file system have it: the file has one
    name at every moment, whatever crashes. Elsewhere, ``link`` then ``unlink``: a crash between
    the two leaves one file with two names, which ``tidy_folder`` (a temp name beside its final
    name) and ``move_no_overwrite`` (moving it again) finish. On file systems without hard links,
    a checked rename (not safe against a concurrent mover; nothing better exists there).
    A symlink is renamed itself, never followed.
    """
    if _renameat2 is not None:
        result = _renameat2(
            _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_NOREPLACE
        )
        if result == 0:
            return
        code = ctypes.get_errno()
        if code not in _NOREPLACE_UNSUPPORTED:
            raise OSError(code, os.strerror(code), str(source), None, str(target))
    try:
        os.link(source, target, follow_symlinks=False)  # fails with FileExistsError
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        os.rename(source, target)
        return
    crash_point("between-link-and-unlink")
    with contextlib.suppress(FileNotFoundError):  # a recovery finished the step meanwhile
        os.unlink(source)


def _utf8_prefix(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 form fits in ``limit`` bytes."""
    data = text.encode("utf-8", "surrogateescape")[: max(0, limit)]
    return data.decode("utf-8", "ignore")


def fit_name(name: str, reserve: int = 0) -> str:
    """``name`` if it leaves ``reserve`` bytes free under NAME_MAX, else a shorter one.

    The shorter name keeps the start of the stem and the suffix (up to 16 bytes) and adds ``~``
    and 12 hex digits of the name's SHA-256, so different long names stay different.
    """
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) + reserve <= NAME_MAX:
        return name
    dot = name.rfind(".")
    suffix = name[dot:] if dot > 0 else ""
    if len(suffix.encode("utf-8", "surrogateescape")) > 16:
        suffix = ""
    tag = "~" + hashlib.sha256(raw).hexdigest()[:12]
    room = NAME_MAX - reserve - len(tag) - len(suffix.encode("utf-8", "surrogateescape"))
    return _utf8_prefix(name[: len(name) - len(suffix)], room) + tag + suffix


def is_own_temp(name: str) -> bool:
    """Whether ``name`` has the form of the temp files ``atomic_write`` makes."""
    return _OWN_TEMP.match(name) is not None


def _temp_prefix(name: str) -> str:
    # ".<name>." + 8 random characters + ".tmp" must fit in NAME_MAX.
    return "." + fit_name(name, reserve=len("..") + 8 + len(".tmp")) + "."


def atomic_write(
    path: Path, data: bytes, *, overwrite: bool = True, mode: int = PRIVATE_FILE_MODE
) -> Path:
    """Write ``data`` to ``path``: readers see the old file or the whole new one, never a part.

    The temp file is a dotfile ending ``.tmp`` in the same folder (so watchers ignore it); it is
    fsynced, given ``mode`` and renamed into place, then the folder is fsynced. With
    ``overwrite=False`` an existing ``path`` raises ``FileExistsError`` (nothing is replaced);
    the rename never replaces and never leaves the file under two names (``rename_no_replace``).
    """
    folder = path.parent
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(path.name), suffix=".tmp")
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
            rename_no_replace(temp, path)
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


# --- a lock held for the life of a process -------------------------------------------------------


def hold_lock(path: Path) -> int | None:
    """Take an exclusive ``flock`` on ``path`` (created owner-only) and return its descriptor, or
    None when another open descriptor (another process) holds it. The lock lasts until the
    descriptor is closed or the process ends, however it ends (a crash cannot leave it held)."""
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


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
    """Whether a file name may be taken from an inbox (no dotfiles, ``.tmp``, ``.part``, errors;
    valid UTF-8, so that the ledger and the logs can carry it)."""
    lowered = name.lower()
    return bool(name) and not (
        name.startswith(".")
        or lowered.endswith(IGNORED_SUFFIXES)
        or lowered.endswith(ERROR_SUFFIX)
        or not is_utf8_name(name)
    )


def is_utf8_name(name: str) -> bool:
    """Whether a file name (decoded by Python with surrogate escapes) was valid UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_name(name: str) -> str:
    """``name`` as text the ledger, logs and JSON can carry: bytes that were not UTF-8 become
    ``\\xNN``; a valid name is returned as it is."""
    if is_utf8_name(name):
        return name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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


# --- temp files a crash left, and entries the gateway will not take -------------------------------


@dataclass
class TidyReport:
    """What ``tidy_folder`` did: temp names whose step it finished, orphan temps it removed."""

    finished: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def tidy_folder(folder: Path, *, orphan_age: float, now: float | None = None) -> TidyReport:
    """Clean up after crashes in a folder the gateway writes temp files into.

    Only names of the gateway's temp pattern (``is_own_temp``) are touched: a temp file that is a
    second name of a file in the folder (a crash between giving the file its final name and
    removing the temp name) loses the temp name; a temp file alone, unchanged for ``orphan_age``
    seconds (its writer died), is removed. Anything else is left alone.
    """
    report = TidyReport()
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return report
    temps = [e for e in entries if is_own_temp(e.name)]
    if not temps:
        return report
    moment = time.time() if now is None else now
    finals: dict[tuple[int, int], Path] | None = None
    for entry in temps:
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        path = Path(entry.path)
        if info.st_nlink > 1:
            if finals is None:
                finals = _identities(e for e in entries if not is_own_temp(e.name))
            if (info.st_dev, info.st_ino) in finals:
                _unlink_quietly(path)
                report.finished.append(path)
            continue  # a second name elsewhere is not ours to judge
        if moment - info.st_mtime >= orphan_age:
            _unlink_quietly(path)
            report.removed.append(path)
    if report.finished or report.removed:
        fsync_directory(folder)
    return report


def _identities(entries: Iterable[os.DirEntry[str]]) -> dict[tuple[int, int], Path]:
    found: dict[tuple[int, int], Path] = {}
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            found[(info.st_dev, info.st_ino)] = Path(entry.path)
    return found


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@dataclass(frozen=True)
class Refusal:
    """An inbox entry the gateway will not take, why, and whether it may be quarantined now."""

    path: Path
    #: ``symlink``, ``hard-link``, ``ignored-name`` or ``not-a-file``.
    reason: str
    what: str
    what_to_do: str
    quarantine: bool
    #: (device, inode, mtime_ns): the same entry in the same state is judged once.
    identity: tuple[int, int, int]

    def problem(self) -> FileProblem:
        """The refusal as a quarantine problem."""
        return FileProblem(self.reason, self.what, self.what_to_do)


def find_refused(
    folder: Path,
    *,
    link_grace: float = 0.0,
    report_age: float = 600.0,
    quarantine_age: float = 86_400.0,
    now: float | None = None,
    skip_own_temps: bool = True,
) -> list[Refusal]:
    """The entries of an inbox that the gateway will never take, and what to do with each.

    - a **symlink** is refused and may be quarantined at once (the link itself is moved; its
      target is never read);
    - a regular file with **other hard links** (its content could change through another name
      after it was taken) is refused once the link is ``link_grace`` seconds old, and may be
      quarantined (a private copy is kept, only the inbox name is removed);
    - a **dotfile** or a name ending ``.tmp``/``.part``/``.error.json`` is normal while a writer or
      an editor uses it: reported once it has been unchanged for ``report_age`` seconds, and
      quarantined only once unchanged for ``quarantine_age`` seconds (abandoned);
    - a fifo, socket or device is reported and left where it is.

    Sub-folders are not refused, nor (with ``skip_own_temps``, for folders ``tidy_folder`` looks
    after) names of the gateway's temp pattern.
    """
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    moment = time.time() if now is None else now
    own = _identities(e for e in entries if is_own_temp(e.name))
    found: list[Refusal] = []
    for entry in entries:
        if skip_own_temps and is_own_temp(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        path = Path(entry.path)
        identity = (info.st_dev, info.st_ino, info.st_mtime_ns)
        name = printable_name(entry.name)
        if stat.S_ISDIR(info.st_mode):
            continue
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 1 and not is_utf8_name(entry.name):
            if moment - info.st_mtime < link_grace:
                continue  # still being written, perhaps
            found.append(
                Refusal(
                    path,
                    "bad-name",
                    f"{name}: the file name is not valid UTF-8 (shown with \\xNN for its bytes), "
                    "so the ledger cannot record it",
                    "Rename the file with a UTF-8 (or plain ASCII) name and drop it into the "
                    "inbox again; the quarantined file keeps its content.",
                    True,
                    identity,
                )
            )
        elif stat.S_ISLNK(info.st_mode):
            found.append(
                Refusal(
                    path,
                    "symlink",
                    f"{name} is a symbolic link; the gateway never follows one, so its target "
                    "was not read",
                    "Put the file itself there (copy or move it; do not link it).",
                    True,
                    identity,
                )
            )
        elif not stat.S_ISREG(info.st_mode):
            found.append(
                Refusal(
                    path,
                    "not-a-file",
                    f"{name} is not a regular file (a fifo, socket or device)",
                    "Remove it from the inbox; only regular files are taken.",
                    False,
                    identity,
                )
            )
        elif info.st_nlink > 1:
            if (info.st_dev, info.st_ino) in own or moment - info.st_ctime < link_grace:
                continue  # our own write in progress (or a crash tidy_folder finishes)
            found.append(
                Refusal(
                    path,
                    "hard-link",
                    f"{name} has {info.st_nlink - 1} other name(s) (a hard link): its content "
                    "could change through another name after the gateway took it",
                    "Copy or move the file in instead of linking it (a quarantined copy may be "
                    "dropped into the inbox again to have it taken).",
                    True,
                    identity,
                )
            )
        elif not is_candidate_name(name):
            unchanged = moment - info.st_mtime
            if unchanged < report_age:
                continue  # a file being written, or an editor's swap file: normal
            found.append(
                Refusal(
                    path,
                    "ignored-name",
                    f"{name}: names starting with '.' or ending in .tmp, .part or .error.json "
                    "are never taken (writers use them for files still being written)",
                    "Rename the file (no leading '.', no .tmp/.part/.error.json ending) to have "
                    "it taken, or remove it. Such files are quarantined after "
                    f"{quarantine_age / 3600:g} hour(s) unchanged.",
                    unchanged >= quarantine_age,
                    identity,
                )
            )
    return sorted(found, key=lambda r: printable_name(r.path.name))


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
        # A second name (a move to the archive or quarantine a crash cut short) is no reason to
        # leave a claimed file behind: processing it again finishes the move.
        files = [p for p in holder.iterdir() if _regular(p)]
        found.extend(ClaimedFile(p, p.name, inbox) for p in files)
        if not files:
            _remove_empty(holder)
    return found


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        return


def numbered_name(name: str, n: int) -> str:
    """``name`` with ``-n`` before its last suffix: ``a.json`` -> ``a-2.json`` (shortened by
    ``fit_name`` when the result would be longer than a file name may be)."""
    name = fit_name(name, len(f"-{n}"))
    dot = name.rfind(".")
    if dot <= 0:
        return f"{name}-{n}"
    return f"{name[:dot]}-{n}{name[dot:]}"


def move_no_overwrite(source: Path, folder: Path, name: str) -> Path:
    """Move ``source`` into ``folder`` as ``name``, or ``name`` with ``-2``, ``-3``... if taken.

    Safe against concurrent movers: the new name is made by ``rename_no_replace``, which never
    replaces. A move a crash interrupted after the new name was made (``source`` still has a
    second name ``folder/name``, the same file) is finished: only ``source`` is removed. Across
    file systems the file is copied (owner-only, fsynced) and then removed. A symlink is moved
    itself, never followed.
    """
    ensure_private_dir(folder)
    first = folder / fit_name(name)
    if _same_file(source, first):
        os.unlink(source)
        fsync_directory(source.parent)
        return first
    for n in range(1, 100_000):
        target = first if n == 1 else folder / numbered_name(first.name, n)
        try:
            rename_no_replace(source, target)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            if not _copy_no_replace(source, target):
                continue
            os.unlink(source)
        break
    else:  # pragma: no cover - 100,000 files of one name in one day
        raise FileExistsError(f"no free name for {name} in {folder}")
    fsync_directory(folder)
    fsync_directory(source.parent)
    return target


def _same_file(one: Path, other: Path) -> bool:
    """Whether two paths are two names of one file (a hard-link pair; never via a symlink)."""
    try:
        a, b = one.lstat(), other.lstat()
    except OSError:
        return False
    return a.st_nlink > 1 and (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino) and one != other


def _copy_no_replace(source: Path, target: Path) -> bool:
    """Copy ``source`` (a symlink as a symlink) to ``target`` in ``target``'s folder, owner-only
    and fsynced; False when ``target`` is taken."""
    if source.is_symlink():
        try:
            os.symlink(os.readlink(source), target)
        except FileExistsError:
            return False
        return True
    fd, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=_temp_prefix(target.name), suffix=".tmp"
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb", opener=_nofollow) as handle:
            os.fchmod(out.fileno(), PRIVATE_FILE_MODE)
            shutil.copyfileobj(handle, out, CHUNK_SIZE)
            out.flush()
            os.fsync(out.fileno())
        rename_no_replace(temp, target)
    except FileExistsError:
        temp.unlink(missing_ok=True)
        return False
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return True


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
    extra: Mapping[str, object] | None = None,
) -> tuple[Path, Path]:
    """Move a file to ``quarantine_dir`` and write ``<name>.error.json`` beside it (both 0600).

    Returns (the quarantined file, its error file). The file is moved first, so a crash in between
    leaves it in quarantine without its explanation, never lost. Any name the file system allows
    works: a name too long to take ``-N`` and ``.error.json`` is stored shortened (``fit_name``);
    the explanation keeps the original. A symlink is moved itself, never followed (its target is
    recorded); a file with other hard links is copied (owner-only) and only this name removed, so
    the other names keep the file as it was.
    """
    source, name, holder = _source_and_name(item)
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    info = source.lstat()
    report_extra: dict[str, object] = dict(extra or {})
    digest: str | None = None
    if stat.S_ISLNK(info.st_mode):
        report_extra["symlink_to"] = os.readlink(source)
    elif stat.S_ISREG(info.st_mode):
        digest = sha256_file_sync(source)
    stored = fit_name(printable_name(name), _STORED_RESERVE)
    if holder is None and stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
        # A hard link from outside. (A claimed file's second name is a move a crash cut short:
        # moving it again finishes that move.)
        report_extra["other_names"] = info.st_nlink - 1
        target = _copy_aside(source, quarantine_dir, stored)
    else:
        target = move_no_overwrite(source, quarantine_dir, stored)
    if not stat.S_ISLNK(info.st_mode):
        target.chmod(PRIVATE_FILE_MODE)
    if holder is not None:
        _remove_empty(holder)
    origin = str(item.inbox / name if isinstance(item, ClaimedFile) else source)
    report = {
        "file": printable_name(name),
        "quarantined_as": target.name,
        "received_from": printable_name(origin),
        "quarantined_at": moment.isoformat().replace("+00:00", "Z"),
        "size": info.st_size,
        "sha256": digest,
        "error": problem.as_dict(),
        **report_extra,
    }
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    error_path = target.with_name(target.name + ERROR_SUFFIX)
    atomic_write(error_path, text.encode("utf-8", "backslashreplace"))
    return target, error_path


def _copy_aside(source: Path, folder: Path, name: str) -> Path:
    """Copy ``source`` into ``folder`` (a new, private file; never overwriting), then remove
    ``source``'s name only."""
    ensure_private_dir(folder)
    for n in range(1, 100_000):
        target = folder / (name if n == 1 else numbered_name(name, n))
        if _copy_no_replace(source, target):
            break
    else:  # pragma: no cover
        raise FileExistsError(f"no free name for {name} in {folder}")
    fsync_directory(folder)
    os.unlink(source)
    fsync_directory(source.parent)
    return target


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
