"""Durable, private file writes: the one atomic-write helper and the one private-mkdir helper.

- ``atomic_write``: a temp file in the same folder (``.<name>.<random>.tmp``), fsync, then
  ``os.replace`` (or, never replacing, ``rename_no_replace``: ``renameat2(RENAME_NOREPLACE)``, so
  no file ever has two names), then fsync the folder; the file is owner-only (0o600).
- ``private_temp``: the temp file under it, for writers that stream (then rename it themselves).
- ``ensure_private_dir``: ``mkdir -p`` where each folder created is owner-only (0o700) and made
  durable in its parent.
- ``set_private_umask()``, ``fsync_directory``, ``fit_name`` (a stored name that fits NAME_MAX),
  ``hold_lock`` (an ``flock`` held for the life of a process).

Standard library only, and nothing of ours: every layer that writes files (the service, the
settings, the ledger, the tools) uses these.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import os
import re
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "CRASH_VARIABLE",
    "NAME_MAX",
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "atomic_write",
    "atomic_write_async",
    "crash_point",
    "ensure_private_dir",
    "fit_name",
    "fsync_directory",
    "hold_lock",
    "is_own_temp",
    "numbered_name",
    "open_nofollow",
    "private_temp",
    "rename_no_replace",
    "set_private_umask",
    "temp_prefix",
    "write_new_file",
]

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
#: The longest file name (in bytes) that Linux file systems allow.
NAME_MAX = 255
#: The temp files ``atomic_write`` makes: ``.<name>.<8 random chars from mkstemp>.tmp``.
_OWN_TEMP = re.compile(r"^\.(?P<final>.+)\.[a-z0-9_]{8}\.tmp$", re.DOTALL)


CRASH_VARIABLE = "GATEWAY_CRASH_AT"


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL (as ``kill -9`` would) when ``GATEWAY_CRASH_AT`` names
    ``name``: the end-to-end tests stop the service at every step of the write-ahead protocol and
    prove that a restart loses nothing and sends nothing twice. Unset, this does nothing."""
    wanted = os.environ.get(CRASH_VARIABLE)
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)


def set_private_umask() -> int:
    """Make every file and folder this process creates owner-only; returns the previous umask."""
    return os.umask(0o077)


def open_nofollow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


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
    """Create ``folder`` and missing parents (0o700 whatever the umask), each made durable in
    its parent. An existing folder is left as it is."""
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
        item.chmod(PRIVATE_DIR_MODE)  # whatever the umask
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


def numbered_name(name: str, n: int) -> str:
    """``name`` with ``-n`` before its last suffix: ``a.json`` -> ``a-2.json`` (shortened by
    ``fit_name`` when the result would be longer than a file name may be)."""
    name = fit_name(name, len(f"-{n}"))
    dot = name.rfind(".")
    if dot <= 0:
        return f"{name}-{n}"
    return f"{name[:dot]}-{n}{name[dot:]}"


def is_own_temp(name: str) -> bool:
    """Whether ``name`` has the form of the temp files ``atomic_write`` makes."""
    return _OWN_TEMP.match(name) is not None


def temp_prefix(name: str) -> str:
    # ".<name>." + 8 random characters + ".tmp" must fit in NAME_MAX.
    return "." + fit_name(name, reserve=len("..") + 8 + len(".tmp")) + "."


@contextlib.contextmanager
def private_temp(
    folder: Path, name: str, *, mode: int = PRIVATE_FILE_MODE
) -> Iterator[tuple[BinaryIO, Path]]:
    """A new temp file in ``folder`` for the file ``name`` (``.<name>.<random>.tmp``, given
    ``mode``), yielded open for writing with its path, flushed and fsynced when the block ends.

    The one way the gateway writes a file before renaming it into place: the caller renames the
    temp file (``os.replace``, ``rename_no_replace``, a move that never overwrites) and removes it
    when that fails. When the block raises, the temp file is removed.
    """
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=temp_prefix(name), suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            yield out, temp
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


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
    with private_temp(folder, path.name, mode=mode) as (out, temp):
        out.write(data)
    try:
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
