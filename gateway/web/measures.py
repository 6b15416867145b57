"""The dashboard's numbers: the measures of ``gateway report`` (one query layer,
:mod:`gateway.ledger.reports`) by month over the last twelve months, the claims by state, and
what needs attention now.

The monthly measures read every claim of a year: at 100,000 claims that takes seconds on SQLite
(``bench/web.py``), far more than a page may. They change slowly (an answer moves one claim of
one month), so they are kept (:class:`Kept`) for :data:`FRESH_SECONDS`, then computed again in
the background while the page goes on showing the last ones, and the page says as of when. The
claims by state and the attention lists (a scan of the claims' states and a few indexed queries)
are kept for :data:`LIVE_SECONDS` the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import structlog

from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.reports import AGING_BUCKETS, Period, Table

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

__all__ = [
    "FRESH_SECONDS",
    "LIVE_SECONDS",
    "MONTHS",
    "Attention",
    "Kept",
    "Trends",
    "attention",
    "trends",
]

T = TypeVar("T")
_log = structlog.stdlib.get_logger("gateway.web")

#: How long the monthly measures are shown before they are computed again (seconds).
FRESH_SECONDS = 300.0
#: How long the claims by state and the attention lists are shown before they are read again.
LIVE_SECONDS = 10.0
#: How many months the trends cover (this month included).
MONTHS = 12


def window(today: date, months: int = MONTHS) -> Period:
    """From the first day of the month ``months - 1`` before this one to today."""
    year, month = today.year, today.month - (months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return Period(date(year, month, 1), today)


def month_labels(period: Period) -> list[str]:
    """Every month of the period, ``YYYY-MM``, oldest first."""
    out: list[str] = []
    year, month = period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@dataclass(frozen=True)
class Trends:
    """The measures by month of first submission (``None``: nothing to measure that month),
    A/R aging as of today, and when they were computed."""

    period: Period
    months: list[str]
    submitted: list[int]
    first_pass_rate: list[float | None]
    denial_rate: list[float | None]
    days_to_payment: list[float | None]
    open_balance: list[float]  # A/R of the claims first submitted that month
    aging: dict[str, tuple[int, Decimal]]  # bucket: (claims, balance)
    computed_at: datetime
    seconds: float

    @property
    def aging_total(self) -> Decimal:
        """The open balance of every bucket."""
        return sum((amount for _, amount in self.aging.values()), Decimal("0.00"))

    def chart_data(self) -> dict[str, Any]:
        """What the page's charts draw (numbers and labels only)."""

        def pct(values: list[float | None]) -> list[float | None]:
            return [None if v is None else round(v * 100, 1) for v in values]

        return {
            "months": self.months,
            "first_pass_rate": pct(self.first_pass_rate),
            "denial_rate": pct(self.denial_rate),
            "days_to_payment": self.days_to_payment,
            "open_balance": self.open_balance,
            "submitted": self.submitted,
            "aging": {
                "buckets": list(AGING_BUCKETS),
                "balance": [float(self.aging[b][1]) for b in AGING_BUCKETS],
                "claims": [self.aging[b][0] for b in AGING_BUCKETS],
            },
        }


def _by_month(table: Table, column: str) -> dict[str, Any]:
    return {r[table.columns[0]]: r[column] for r in table.records()}


async def trends(ledger: Ledger, today: date, days: Mapping[str, int]) -> Trends:
    """Compute the monthly measures over the last :data:`MONTHS` months."""
    started = time.perf_counter()
    period = window(today)
    q = ledger.reports
    summary = await q.summary(period, "month")
    payers = await q.days_to_payment(period, "month")
    aging, _ = await q.aging(period, "month", no_answer_days=days, listing=False)
    months = month_labels(period)
    submitted = _by_month(summary, "submitted")
    fpa = _by_month(summary, "first_pass_rate")
    denial = _by_month(summary, "denial_rate")
    median = _by_month(payers, "days_to_payment_median")
    balance = _by_month(aging, "total_balance")
    buckets: dict[str, tuple[int, Decimal]] = {b: (0, Decimal("0.00")) for b in AGING_BUCKETS}
    for record in aging.records():
        for b in AGING_BUCKETS:
            n, amount = buckets[b]
            buckets[b] = (n + int(record[f"{b}_claims"]), amount + record[f"{b}_balance"])
    return Trends(
        period,
        months,
        [int(submitted.get(m) or 0) for m in months],
        [fpa.get(m) for m in months],
        [denial.get(m) for m in months],
        [median.get(m) for m in months],
        [float(balance.get(m) or 0) for m in months],
        buckets,
        datetime.now(UTC),
        time.perf_counter() - started,
    )


class Kept(Generic[T]):
    """A value computed once, then shown while it is fresh; once older than ``fresh_seconds``,
    or made for another key (yesterday), it is computed again in the background and the old one
    is shown meanwhile. One per app and kind of value.

    :meth:`get` waits for the first value; :meth:`peek` never waits (``None`` until the first
    value is in, its computation started in the background), so a page can show the rest at
    once and fetch this part when it is ready; :meth:`start` begins that computation early (the
    console starts it when it starts)."""

    def __init__(self, fresh_seconds: float) -> None:
        self.fresh_seconds = fresh_seconds
        self._value: T | None = None
        self._key: object = None
        self._at = 0.0
        self._task: asyncio.Task[None] | None = None

    async def get(self, key: object, compute: Callable[[], Awaitable[T]]) -> T:
        """The value for ``key`` (the first call waits for it)."""
        if self._value is None and self._task is not None and not self._task.done():
            await asyncio.shield(self._task)  # the first computation is running: wait for it
        if self._value is None:
            await self.refresh(key, compute)
        value = self.peek(key, compute)
        assert value is not None
        return value

    def peek(self, key: object, compute: Callable[[], Awaitable[T]]) -> T | None:
        """The value for ``key`` if one is in (stale ones are refreshed in the background),
        else ``None``, the computation started in the background if it is not running."""
        if self._value is None or self._key != key or self._stale():
            self.start(key, compute)
        return self._value

    def start(self, key: object, compute: Callable[[], Awaitable[T]]) -> None:
        """Compute the value for ``key`` in the background, unless a computation is running."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._background(key, compute))

    async def refresh(self, key: object, compute: Callable[[], Awaitable[T]]) -> T:
        """Compute the value for ``key`` now and keep it."""
        value = await compute()
        self._value, self._key, self._at = value, key, time.monotonic()
        return value

    async def close(self) -> None:
        """Stop a computation running in the background (the app is stopping)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _stale(self) -> bool:
        return time.monotonic() - self._at > self.fresh_seconds

    async def _background(self, key: object, compute: Callable[[], Awaitable[T]]) -> None:
        try:
            await self.refresh(key, compute)
        except Exception as exc:  # the next look starts it again; the old value stays shown
            _log.warning("background computation failed", error=type(exc).__name__)


def kept_on(holder: Any, name: str, seconds: float) -> Kept[Any]:
    """The :class:`Kept` called ``name`` on ``holder`` (an app's state), made on first use."""
    kept: Kept[Any] | None = getattr(holder, name, None)
    if kept is None:
        kept = Kept(seconds)
        setattr(holder, name, kept)
    return kept


@dataclass(frozen=True)
class Attention:
    """What needs a person now: counts, and the oldest few of each."""

    computed_at: datetime
    states: list[dict[str, Any]]
    total_claims: int
    open_items: int
    oldest_items: list[Any]  # WorkRow
    no_answer: int
    no_answer_claims: list[dict[str, Any]]
    files: dict[str, int]
    held: list[dict[str, Any]]


async def attention(ledger: Ledger, today: date, days: Mapping[str, int]) -> Attention:
    """Claims by state with their amounts, and what needs attention."""
    from gateway.ledger.file_lists import held_data

    summary = await ledger.status(oldest=0)
    states = [
        {
            "state": state.value,
            "count": summary.counts[state],
            "charges": summary.charges[state],
            "paid": summary.paid[state],
        }
        for state in ClaimState
        if summary.counts.get(state)
    ]
    oldest = await ledger.worklist.page(sort="oldest", size=5, count=False)
    count, unanswered = await ledger.reports.unanswered(today, limit=5, no_answer_days=days)
    held = [held_data(f) for f in await ledger.file_lists.held()]
    return Attention(
        datetime.now(UTC),
        states,
        sum(summary.counts.values()),
        summary.open_items,
        list(oldest.rows),
        count,
        unanswered.records(),
        await ledger.file_lists.counts(),
        held[:5],
    )


def today_utc() -> date:
    """Today's date in UTC (the reports' days are UTC days)."""
    return datetime.now(UTC).date()


def since(period: Period) -> str:
    """The window in words."""
    return f"{period.start:%B %Y} to {period.end:%d %B %Y}"
