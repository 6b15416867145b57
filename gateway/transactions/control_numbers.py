"""Control numbers for the envelopes we write: ISA13, GS06 and ST02, unique per trading partner.

The builder asks a ``ControlNumberAllocator`` for each number; it never invents one. The ledger
owns the real sequences (``gateway.ledger.control_numbers.LedgerControlNumbers``, used by the
service and by ``gateway build-837`` alike); ``MemoryAllocator`` here is for tests, benches and
golden files (predictable numbers, nothing kept).

A number once handed out is never handed out again, even when the file it was meant for is never
written: clearinghouses reject a reused ISA13 (TA1 note 025), so a gap is harmless and a repeat is
not.
"""

from __future__ import annotations

import threading
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "MAXIMUM",
    "ControlNumberAllocator",
    "ControlNumberError",
    "Counter",
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
