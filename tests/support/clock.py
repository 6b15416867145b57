"""A monotonic clock that moves only when the test moves it, for code that takes ``clock=``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ManualClock:
    """Seconds since an arbitrary start, like ``time.monotonic``, advanced by hand."""

    now: float = 0.0

    def __call__(self) -> float:
        """The current reading."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds
