"""Control numbers from the ledger for the 837 builder (``ControlNumberAllocator``).

The builder is synchronous and runs off the event loop (``asyncio.to_thread``); the ledger is
async. :class:`LedgerControlNumbers` bridges the two: each ``next_*`` call runs
``Ledger.allocate`` on the service's event loop and waits for it, so every number is committed in
the database (unique across processes and workers, never reused after a crash) before the builder
writes it. Calling it on the event loop's own thread would deadlock, so that raises instead.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from gateway.transactions.control_numbers import ControlNumberError, Counter

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

__all__ = ["LedgerControlNumbers"]


class LedgerControlNumbers:
    """A ``ControlNumberAllocator`` whose numbers come from the ledger's sequences."""

    def __init__(self, ledger: Ledger, loop: asyncio.AbstractEventLoop, timeout: float = 60.0):
        self._ledger = ledger
        self._loop = loop
        self._timeout = timeout

    @classmethod
    def for_running_loop(cls, ledger: Ledger) -> LedgerControlNumbers:
        """An allocator bound to the running event loop (call from async code)."""
        return cls(ledger, asyncio.get_running_loop())

    def _allocate(self, partner: str, counter: Counter) -> int:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            raise ControlNumberError(
                "LedgerControlNumbers must be used from a worker thread (asyncio.to_thread), "
                "not from the event loop it waits on"
            )
        future = asyncio.run_coroutine_threadsafe(
            self._ledger.allocate(partner, counter), self._loop
        )
        try:
            return future.result(self._timeout)
        except TimeoutError as exc:
            future.cancel()
            raise ControlNumberError(f"the ledger did not hand out {counter} in time") from exc
        except Exception as exc:  # the database's own error, said in our words
            raise ControlNumberError(f"the ledger could not hand out {counter}: {exc}") from exc

    def next_isa13(self, partner: str) -> int:
        """The next interchange control number (ISA13) for ``partner``."""
        return self._allocate(partner, "isa13")

    def next_gs06(self, partner: str) -> int:
        """The next group control number (GS06) for ``partner``."""
        return self._allocate(partner, "gs06")

    def next_st02(self, partner: str) -> int:
        """The next transaction set control number (ST02) for ``partner``."""
        return self._allocate(partner, "st02")
