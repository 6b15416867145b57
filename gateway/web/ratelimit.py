"""Login attempts, limited per user name and per client address (the ``limits`` library).

Only failed attempts count: five a minute for one user name, twenty a minute from one address
(moving windows, in memory: each console process keeps its own). Past either limit the login page
answers 429 without checking the password, so guessing is slow whatever the password.
"""

from __future__ import annotations

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

__all__ = ["LoginLimiter"]


class LoginLimiter:
    """Failed logins per user name and per client address."""

    def __init__(self, per_user: int = 5, per_address: int = 20) -> None:
        self._storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._user: RateLimitItem = RateLimitItemPerMinute(per_user)
        self._address: RateLimitItem = RateLimitItemPerMinute(per_address)

    def allowed(self, user: str, address: str) -> bool:
        """Whether another attempt for ``user`` from ``address`` may be checked now."""
        return self._limiter.test(self._user, "user", user.lower()) and self._limiter.test(
            self._address, "address", address
        )

    def failed(self, user: str, address: str) -> None:
        """Count a failed attempt against both."""
        self._limiter.hit(self._user, "user", user.lower())
        self._limiter.hit(self._address, "address", address)

    def reset(self) -> None:
        """Forget every attempt (tests)."""
        self._storage.reset()
