"""What an inbox holds: complete files, settled ones, the gateway's own temp files, refusals.

``WorkspaceGuard`` refuses symlinks and paths outside the workspace; ``is_candidate_name`` and
``SettleTracker`` take a file only once complete; ``tidy_folder`` finishes or removes the temp
files a crash left; ``find_refused`` names the entries the gateway will never take.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config import WorkspaceSettings
from gateway.durable import (
    fsync_directory,
    is_own_temp,
)
from gateway.service.files.common import (
    ERROR_SUFFIX,
    IGNORED_SUFFIXES,
    FileProblem,
    UnsafePathError,
)


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
        or lowered.endswith((*IGNORED_SUFFIXES, ERROR_SUFFIX))
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
