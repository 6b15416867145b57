"""Whether each clearinghouse transport works, and when to try a failing one again.

A ``TransportHealth`` follows one transport for the service's pull loop and its submitter alike
(one server, one state): after a failure no attempt is made before ``next_attempt``, which backs
off exponentially (``BackoffPolicy``): a problem a person must fix (a host key refused, our key
refused, a wrong setup) from 5 s doubling up to 15 minutes; a network problem (connection
refused, a timeout, a dropped connection) from 5 s doubling up to 2 minutes. A person who fixes
the local setup (edits known_hosts, replaces a key: ``Transport.setup_stamp`` changes) does not
wait for the back-off: the next look tries again. One log line is written per change of state
(working to failing, another kind of error, failing to working), never one per attempt; every
attempt's outcome that changes the state or the next attempt is handed to ``record`` (the
service keeps it in the ledger, for ``gateway status``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from gateway.ledger.records import TransportState
from gateway.service.transports import Transport, TransportError

__all__ = ["BackoffPolicy", "TransportHealth"]

_log = structlog.stdlib.get_logger("gateway.transport")


@dataclass(frozen=True)
class BackoffPolicy:
    """Waits after consecutive failures: ``initial`` x ``multiplier``^(n-1), up to a cap."""

    initial: float = 5.0
    multiplier: float = 2.0
    #: For problems a person must fix (host key, credentials, setup).
    permanent_cap: float = 15 * 60.0
    #: For network problems, which often cure themselves.
    transient_cap: float = 120.0

    def delay(self, failures: int, *, permanent: bool) -> float:
        """The wait after the ``failures``-th failure in a row (1 for the first)."""
        cap = self.permanent_cap if permanent else self.transient_cap
        exponent = min(max(0, failures - 1), 64)  # no float overflow on a long outage
        return float(min(cap, self.initial * self.multiplier**exponent))


class TransportHealth:
    """The state of one transport: ok or failing, since when, the last error, the next attempt."""

    def __init__(
        self,
        transport: Transport,
        partners: tuple[str, ...] = (),
        *,
        policy: BackoffPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        record: Callable[[TransportState], Awaitable[None]] | None = None,
    ) -> None:
        self.transport = transport
        self.partners = partners
        self.policy = policy or BackoffPolicy()
        self._clock = clock
        self._now = now
        self._record = record
        self._ready_at = 0.0
        self._stamp: object = None  # the transport's setup when it last failed
        self.failures = 0  # in a row
        self.state: TransportState | None = None  # None until the first attempt ends

    @property
    def label(self) -> str:
        """The transport's label."""
        return self.transport.label

    def ready(self) -> bool:
        """Whether an attempt may be made now: no back-off to wait out, or the transport's
        setup changed since it failed (a person fixed known_hosts, say)."""
        if self._clock() >= self._ready_at:
            return True
        if self._stamp is not None and self.transport.setup_stamp() != self._stamp:
            self._ready_at = 0.0
            return True
        return False

    def seconds_until_ready(self) -> float:
        """How long until the next attempt may be made (0 when it may be made now)."""
        return max(0.0, self._ready_at - self._clock())

    def retry_now(self) -> None:
        """End the back-off: the next look tries again (a person says the problem is fixed)."""
        self._ready_at = 0.0

    async def failed(self, error: TransportError) -> float:
        """Record a failed attempt; returns the back-off (seconds) before the next one."""
        self.failures += 1
        permanent = not error.retryable
        delay = self.policy.delay(self.failures, permanent=permanent)
        self._ready_at = self._clock() + delay
        self._stamp = self.transport.setup_stamp()
        now = self._now()
        before = self.state
        # A change: working before, or another kind of problem (for the catch-all kind, another
        # message). The same refused host key met by a pull, then by a put, is no news.
        changed = (
            before is None
            or before.state != "failing"
            or before.error_kind != error.kind
            or (error.kind == "error" and before.error != str(error))
        )
        since = now if changed or before is None else before.since
        self.state = TransportState(
            transport=self.label,
            partners=self.partners,
            state="failing",
            since=since,
            error=str(error),
            error_kind=error.kind,
            failures=self.failures,
            next_attempt_at=now + timedelta(seconds=delay),
            updated_at=now,
        )
        if changed:
            log = _log.error if permanent else _log.warning
            log(
                "transport failing; a person must act" if permanent else "transport failing",
                transport=self.label,
                partners=list(self.partners),
                error_kind=error.kind,
                error=str(error),
                next_attempt_seconds=round(delay, 1),
                backoff_up_to_seconds=(
                    self.policy.permanent_cap if permanent else self.policy.transient_cap
                ),
            )
        await self._save()
        return delay

    async def succeeded(self) -> None:
        """Record a successful attempt (the back-off ends)."""
        before = self.state
        self._ready_at = 0.0
        self._stamp = None
        failures, self.failures = self.failures, 0
        if before is not None and before.state == "ok":
            return  # nothing changed: no log line, no write
        now = self._now()
        self.state = TransportState(
            transport=self.label,
            partners=self.partners,
            state="ok",
            since=now,
            error=None,
            error_kind=None,
            failures=0,
            next_attempt_at=None,
            updated_at=now,
        )
        if before is not None:
            _log.info(
                "transport working again",
                transport=self.label,
                partners=list(self.partners),
                failed_attempts=failures,
                failing_since=before.since.isoformat(timespec="seconds"),
            )
        await self._save()

    async def _save(self) -> None:
        if self._record is not None and self.state is not None:
            try:
                await self._record(self.state)
            except Exception as exc:  # the ledger being down must not stop the transport
                _log.warning("transport state not recorded", transport=self.label, error=str(exc))
