"""Watching the inbox folders: complete files come out, one at a time, as they become complete.

``InboxWatcher`` watches one or more folders (not their sub-folders) and yields the path of each
file once it is complete by the rules of ``gateway.service.files`` (no dotfiles, ``.tmp`` or
``.part``; size and mtime unchanged for the settle interval). Two modes:

- ``events``: file-system notifications through watchfiles wake the watcher; a full rescan every
  ``rescan_seconds`` catches anything a notification missed. If notifications cannot be set up
  (an unsupported file system, the inotify limit), the watcher logs it and polls instead.
- ``polling``: the folders are listed every ``poll_interval`` seconds (network shares, where
  notifications are unreliable).

Use it as ``async with InboxWatcher(...) as watcher: async for path in watcher: ...``; claim each
file (``claim_file``) before asking for the next. A yielded file that is still there unchanged is
yielded again only after ``retry_seconds`` (a claim that failed gets another chance). ``stop()``
ends the iteration; cancelling the consuming task works too. ``drain()`` returns the files
complete now, for ``gateway run --once``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from types import TracebackType

import structlog
import watchfiles

from gateway.config import Settings, WatcherMode
from gateway.service.files import FileState, SettleTracker, file_state, is_candidate_name

__all__ = ["InboxWatcher", "WatcherMode"]

_EPSILON = 0.01
_log = structlog.stdlib.get_logger("gateway.watch")


class InboxWatcher:
    """Yields complete files from ``folders`` (see the module docstring)."""

    def __init__(
        self,
        folders: Sequence[Path],
        *,
        settle_seconds: float,
        mode: WatcherMode = "events",
        poll_interval: float = 2.0,
        rescan_seconds: float = 30.0,
        retry_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not folders:
            raise ValueError("InboxWatcher needs at least one folder")
        self.folders = tuple(Path(f) for f in folders)
        self.settle_seconds = settle_seconds
        self.mode: WatcherMode = mode
        self.poll_interval = poll_interval
        self.rescan_seconds = rescan_seconds
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._tracker = SettleTracker(settle_seconds, clock=clock)
        self._yielded: dict[Path, tuple[FileState, float]] = {}
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._events_task: asyncio.Task[None] | None = None

    @classmethod
    def for_settings(
        cls, settings: Settings, folders: Sequence[Path] | None = None
    ) -> InboxWatcher:
        """A watcher over ``folders`` (default: both inboxes) with the configured intake rules."""
        ws = settings.workspace
        return cls(
            folders if folders is not None else (ws.encounters_inbox, ws.responses_inbox),
            settle_seconds=settings.intake.settle_seconds,
            mode=settings.intake.watcher,
            poll_interval=settings.intake.poll_interval_seconds,
        )

    # lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> InboxWatcher:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def start(self) -> None:
        """Start listening for file-system events (events mode); idempotent."""
        if self.mode == "events" and self._events_task is None:
            self._events_task = asyncio.create_task(self._listen(), name="inbox-watcher-events")

    def stop(self) -> None:
        """End the iteration at the next opportunity (for SIGTERM/SIGINT handlers)."""
        self._stop.set()
        self._changed.set()

    @property
    def stopped(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stop.is_set()

    async def close(self) -> None:
        """Stop and release the event listener."""
        self.stop()
        task, self._events_task = self._events_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        """Set ``_changed`` on every relevant notification; fall back to polling on failure."""
        try:
            async for _changes in watchfiles.awatch(
                *self.folders,
                watch_filter=_relevant_change,
                debounce=100,
                step=50,
                stop_event=self._stop,
                recursive=False,
            ):
                self._changed.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # inotify limits, unsupported file systems...
            _log.warning(
                "file notifications unavailable; polling instead",
                folders=[str(f) for f in self.folders],
                error=f"{type(exc).__name__}: {exc}",
                poll_interval=self.poll_interval,
            )
            self.mode = "polling"
            self._changed.set()

    # scanning ----------------------------------------------------------------------------------

    def _scan(self) -> list[Path]:
        """Files complete now (not yielded recently with the same state), oldest first."""
        now = self._clock()
        ready: list[Path] = []
        for folder in self.folders:
            ready.extend(self._tracker.scan(folder))
        fresh: list[Path] = []
        for path in ready:
            state = file_state(path)
            if state is None:
                continue
            previous = self._yielded.get(path)
            if (
                previous is not None
                and previous[0] == state
                and now - previous[1] < (self.retry_seconds)
            ):
                continue
            self._yielded[path] = (state, now)
            fresh.append(path)
        for path in [p for p, (_, t) in self._yielded.items() if now - t >= self.retry_seconds]:
            del self._yielded[path]
        return fresh

    def _wait_timeout(self) -> float:
        base = self.poll_interval if self.mode == "polling" else self.rescan_seconds
        due = self._tracker.next_due()
        return base if due is None else min(base, due + _EPSILON)

    async def __aiter__(self) -> AsyncIterator[Path]:
        """Yield complete files until ``stop()``."""
        self.start()
        while not self._stop.is_set():
            self._changed.clear()
            for path in await asyncio.to_thread(self._scan):
                if self._stop.is_set():
                    return
                yield path
            if self._stop.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self._wait_timeout())

    async def drain(self) -> list[Path]:
        """The files complete now: those that stay unchanged across one settle interval.

        Files still being written are left for a later run. Takes about ``settle_seconds``.
        """
        ready = await asyncio.to_thread(self._scan)
        if self._tracker.pending():
            await asyncio.sleep(self.settle_seconds + _EPSILON)
            ready += await asyncio.to_thread(self._scan)
        return sorted(set(ready), key=_age_then_name)


def _relevant_change(_change: watchfiles.Change, path: str) -> bool:
    return is_candidate_name(os.path.basename(path))


def _age_then_name(path: Path) -> tuple[int, str]:
    state = file_state(path)
    return (state.mtime_ns if state else 0, path.name)
