"""``gateway.web.measures``: the twelve-month window, and values kept then refreshed in the
background."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from gateway.web.measures import Kept, month_labels, window


def test_the_window_is_twelve_months_across_a_new_year() -> None:
    """From the first day of the month eleven before, to today; every month labelled."""
    period = window(date(2026, 3, 15))
    assert (period.start, period.end) == (date(2025, 4, 1), date(2026, 3, 15))
    labels = month_labels(period)
    assert len(labels) == 12
    assert (labels[0], labels[8], labels[-1]) == ("2025-04", "2025-12", "2026-03")


def test_a_kept_value_is_shown_then_refreshed_in_the_background() -> None:
    """The first get computes; later gets show the kept value; once stale, or for a new key
    (the next day), one refresh runs in the background while the old value is shown.

    (Run on a loop of its own thread: a browser test's Playwright may hold this thread's.)"""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _kept_steps()).result()


async def _kept_steps() -> None:
    calls: list[int] = []
    gate = asyncio.Event()

    async def compute() -> int:
        calls.append(len(calls) + 1)
        if len(calls) == 2:
            await gate.wait()  # the background refresh takes its time
        return len(calls)

    kept: Kept[int] = Kept(fresh_seconds=0.05)
    assert await kept.get("day-1", compute) == 1
    assert await kept.get("day-1", compute) == 1
    await asyncio.sleep(0.06)
    assert await kept.get("day-1", compute) == 1  # stale: shown while the refresh runs
    assert await kept.get("day-1", compute) == 1  # no second refresh meanwhile
    await asyncio.sleep(0)
    assert calls == [1, 2]
    gate.set()
    await asyncio.sleep(0.01)
    assert await kept.get("day-1", compute) == 2
    assert await kept.get("day-2", compute) == 2  # the day changed: refreshed meanwhile
    await asyncio.sleep(0.01)
    assert await kept.get("day-2", compute) == 3


async def _early_steps() -> None:
    calls: list[int] = []
    gate = asyncio.Event()

    async def compute() -> int:
        calls.append(len(calls) + 1)
        await gate.wait()
        if len(calls) == 1:
            raise RuntimeError("the ledger went away")
        return len(calls)

    kept: Kept[int] = Kept(fresh_seconds=60)
    kept.start("day-1", compute)  # as the app starts
    await asyncio.sleep(0)
    assert kept.peek("day-1", compute) is None  # running: no second computation
    assert calls == [1]
    gate.set()
    await asyncio.sleep(0.01)
    assert kept.peek("day-1", compute) is None  # it failed: the next look starts it again
    await asyncio.sleep(0.01)
    assert await kept.get("day-1", compute) == 2
    assert calls == [1, 2]
    gate.clear()
    stale: Kept[int] = Kept(fresh_seconds=60)
    stale.start("day-1", compute)
    waiting = asyncio.ensure_future(stale.get("day-1", compute))  # waits for the running one
    await asyncio.sleep(0.01)
    gate.set()
    assert await waiting == 3
    assert calls == [1, 2, 3]
    await stale.close()


def test_a_value_started_early_is_waited_for_not_computed_twice() -> None:
    """``start`` computes in the background; ``peek`` never waits nor starts a second one;
    ``get`` waits for the running one; a failed computation is started again on the next look.
    """
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _early_steps()).result()
