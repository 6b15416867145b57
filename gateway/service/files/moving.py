"""Folder custody: claiming a file from an inbox, archiving it, quarantining it; never a loss.

``claim_file`` takes a file by atomic rename into the processing folder (two workers never take
the same file); ``list_claimed`` finds claimed files after a crash; ``archive_file``
(``archive/YYYY/MM/DD/``) and ``quarantine_file`` (beside ``<name>.error.json``) never overwrite
(a ``-N`` suffix is added) and never delete input.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.durable import (
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    atomic_write,
    ensure_private_dir,
    fit_name,
    fsync_directory,
    numbered_name,
    open_nofollow,
    private_temp,
    rename_no_replace,
)
from gateway.service.files.common import _STORED_RESERVE, CHUNK_SIZE, ERROR_SUFFIX, FileProblem
from gateway.service.files.inbox import printable_name
from gateway.service.files.reading import sha256_file_sync


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
    with (
        open(source, "rb", opener=open_nofollow) as handle,
        private_temp(target.parent, target.name) as (out, temp),
    ):
        shutil.copyfileobj(handle, out, CHUNK_SIZE)
    try:
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
