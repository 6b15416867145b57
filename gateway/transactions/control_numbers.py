"""Control numbers for the envelopes we write: ISA13, GS06 and ST02, unique per trading partner.

The builder asks a ``ControlNumberAllocator`` for each number; it never invents one. Two allocators
ship here: ``MemoryAllocator`` (tests, golden files: predictable numbers) and
``FileControlNumbers``, a small JSON file that survives restarts (locked with ``flock``, written
atomically), until the ledger allocates them in its database.

A number once handed out is never handed out again, even when the file it was meant for is never
written: clearinghouses reject a reused ISA13 (TA1 note 025), so a gap is harmless and a repeat is
not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "MAXIMUM",
    "ControlNumberAllocator",
    "ControlNumberError",
    "Counter",
    "FileControlNumbers",
    "MemoryAllocator",
]

Counter = Literal["isa13", "gs06", "st02"]
"""Which control number: interchange (ISA13), group (GS06) or transaction set (ST02)."""

MAXIMUM: dict[Counter, int] = {"isa13": 999_999_999, "gs06": 999_999_999, "st02": 999_999_999}
"""The largest value each field can carry (ISA13 is 9 digits; GS06 N0 1-9; ST02 AN 4-9)."""


class ControlNumberError(Exception):
    """The allocator cannot hand out a number (store unreadable, or a counter exhausted)."""


@runtime_checkable
class ControlNumberAllocator(Protocol):
    """Hands out envelope control numbers, each never twice for the same trading partner."""

    def next_isa13(self, partner: str) -> int:
        """The next interchange control number (ISA13/IEA02), 1..999999999."""
        ...

    def next_gs06(self, partner: str) -> int:
        """The next functional group control number (GS06/GE02), 1..999999999."""
        ...

    def next_st02(self, partner: str) -> int:
        """The next transaction set control number (ST02/SE02), 1..999999999."""
        ...


class MemoryAllocator:
    """Counters in memory, starting at ``start``: for tests and reproducible golden files."""

    def __init__(self, start: int = 1) -> None:
        self._start = start
        self._last: dict[tuple[str, Counter], int] = {}
        self._lock = threading.Lock()

    def _next(self, partner: str, counter: Counter) -> int:
        with self._lock:
            value = self._last.get((partner, counter), self._start - 1) + 1
            if value > MAXIMUM[counter]:
                raise ControlNumberError(f"{counter} for partner {partner!r} is exhausted")
            self._last[(partner, counter)] = value
            return value

    def next_isa13(self, partner: str) -> int:
        """The next ISA13 for ``partner``."""
        return self._next(partner, "isa13")

    def next_gs06(self, partner: str) -> int:
        """The next GS06 for ``partner``."""
        return self._next(partner, "gs06")

    def next_st02(self, partner: str) -> int:
        """The next ST02 for ``partner``."""
        return self._next(partner, "st02")


class FileControlNumbers:
    """Counters kept in a JSON file, safe across processes, threads and restarts.

    Every allocation takes an exclusive ``flock`` on ``<file>.lock``, reads the file, writes the
    incremented counter to a temporary file in the same folder, fsyncs it and renames it over the
    file (then fsyncs the folder), so a crash leaves either the old or the new counters, never a
    torn file, and a number is on disk before anyone uses it. The file looks like::

        {"version": 1, "partners": {"demo-clearinghouse": {"isa13": 12, "gs06": 12, "st02": 30}}}

    holding the last number handed out per partner and counter.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._thread_lock = threading.Lock()

    def next_isa13(self, partner: str) -> int:
        """The next ISA13 for ``partner``."""
        return self.allocate(partner, "isa13")

    def next_gs06(self, partner: str) -> int:
        """The next GS06 for ``partner``."""
        return self.allocate(partner, "gs06")

    def next_st02(self, partner: str) -> int:
        """The next ST02 for ``partner``."""
        return self.allocate(partner, "st02")

    def allocate(self, partner: str, counter: Counter, count: int = 1) -> int:
        """Reserve ``count`` consecutive numbers and return the first."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._locked():
            state = self._read()
            partners = state.setdefault("partners", {})
            counters = partners.setdefault(partner, {})
            last = counters.get(counter, 0)
            if not isinstance(last, int) or last < 0:
                raise ControlNumberError(f"{self.path}: {partner}.{counter} is not a count")
            first = last + 1
            if last + count > MAXIMUM[counter]:
                raise ControlNumberError(
                    f"{self.path}: {counter} for partner {partner!r} is exhausted"
                )
            counters[counter] = last + count
            self._write(state)
            return first

    def last(self, partner: str, counter: Counter) -> int:
        """The last number handed out (0 when none was)."""
        with self._locked():
            value = self._read().get("partners", {}).get(partner, {}).get(counter, 0)
            return int(value)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing the descriptor releases the lock

    def _read(self) -> dict[str, dict[str, dict[str, int]]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"partners": {}}
        except OSError as exc:
            raise ControlNumberError(f"{self.path}: cannot be read ({exc.strerror})") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ControlNumberError(
                f"{self.path}: is not the control-number file it should be ({exc.msg}); "
                "restore it from a backup rather than starting over, or numbers will repeat"
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("partners", {}), dict):
            raise ControlNumberError(f"{self.path}: has no `partners` table")
        return {"partners": data.get("partners", {})}

    def _write(self, state: dict[str, dict[str, dict[str, int]]]) -> None:
        text = json.dumps({"version": 1, **state}, indent=1, sort_keys=True)
        folder = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
