"""Tests for gateway.service.watch: complete files come out of real folders, partial ones do not."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import watchfiles

from gateway.config import load_settings
from gateway.service.files import claim_file
from gateway.service.watch import InboxWatcher, WatcherMode
from tests.support.clock import ManualClock

MODES: list[WatcherMode] = ["events", "polling"]


async def take(watcher: InboxWatcher, count: int, timeout: float = 10.0) -> list[tuple[str, int]]:
    """The first ``count`` files the watcher yields, as (name, size when yielded)."""
    seen: list[tuple[str, int]] = []

    async def consume() -> None:
        async for path in watcher:
            seen.append((path.name, path.stat().st_size))
            if len(seen) == count:
                return

    await asyncio.wait_for(consume(), timeout)
    return seen


async def slow_write(path: Path, chunks: int, delay: float) -> None:
    """Write ``path`` a chunk at a time, as a slow network copy would."""
    with path.open("wb") as out:
        for n in range(chunks):
            out.write(b"x" * 100)
            out.flush()
            os.utime(path, ns=(n * 1_000_000_000, n * 1_000_000_000))  # mtime moves each write
            await asyncio.sleep(delay)


@pytest.mark.parametrize("mode", MODES)
async def test_a_dropped_file_is_yielded_once_settled(tmp_path: Path, mode: WatcherMode) -> None:
    """A file written whole appears once, after the settle interval, in both modes."""
    async with InboxWatcher(
        [tmp_path], settle_seconds=0.2, mode=mode, poll_interval=0.05
    ) as watcher:
        task = asyncio.create_task(take(watcher, 1))
        await asyncio.sleep(0.1)
        (tmp_path / "enc.json").write_bytes(b"{}")
        assert await task == [("enc.json", 2)]


@pytest.mark.parametrize("mode", MODES)
async def test_slow_writes_temp_and_dot_files_are_not_taken_early(
    tmp_path: Path, mode: WatcherMode
) -> None:
    """A file still growing is not yielded until complete; dotfiles and .part never are.

    The watcher's clock stands still while the file is written (however slowly the machine runs
    the writer) and moves a settle interval at a time only once the writing is done."""
    (tmp_path / ".hidden.json").write_bytes(b"{}")
    (tmp_path / "upload.json.part").write_bytes(b"{}")
    (tmp_path / "copy.tmp").write_bytes(b"{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nested.json").write_bytes(b"{}")
    clock = ManualClock()
    async with InboxWatcher(
        [tmp_path], settle_seconds=0.6, mode=mode, poll_interval=0.05, clock=clock
    ) as watcher:
        consumer = asyncio.create_task(take(watcher, 2))
        await slow_write(tmp_path / "slow.json", chunks=10, delay=0.1)
        (tmp_path / "upload.json.part").rename(tmp_path / "upload.json")
        while not consumer.done():
            clock.advance(0.6)
            await asyncio.wait([consumer], timeout=0.05)
        seen = await consumer
    assert sorted(seen) == [("slow.json", 1000), ("upload.json", 2)]


async def test_several_folders_are_watched_together(tmp_path: Path) -> None:
    """Files from every watched folder come out of the one watcher."""
    encounters, responses = tmp_path / "encounters", tmp_path / "responses"
    encounters.mkdir()
    responses.mkdir()
    async with InboxWatcher([encounters, responses], settle_seconds=0.1) as watcher:
        task = asyncio.create_task(take(watcher, 2))
        await asyncio.sleep(0.1)
        (encounters / "a.json").write_bytes(b"a")
        (responses / "b.x12").write_bytes(b"bb")
        assert sorted(await task) == [("a.json", 1), ("b.x12", 2)]


async def test_an_unclaimed_file_is_offered_again_only_after_retry_seconds(tmp_path: Path) -> None:
    """A yielded file left in place is not repeated at once, but is after retry_seconds."""
    (tmp_path / "stuck.json").write_bytes(b"{}")
    (tmp_path / "claimed.json").write_bytes(b"{}")
    names: list[str] = []
    async with InboxWatcher(
        [tmp_path], settle_seconds=0.0, mode="polling", poll_interval=0.05, retry_seconds=0.5
    ) as watcher:

        async def consume() -> None:
            async for path in watcher:
                names.append(path.name)
                if path.name == "claimed.json":
                    claim_file(path, tmp_path.parent / f"{tmp_path.name}-processing")
                if names.count("stuck.json") == 2:
                    return

        await asyncio.wait_for(consume(), 5)
    assert sorted(names) == ["claimed.json", "stuck.json", "stuck.json"]


async def test_stop_ends_the_iteration_and_cancel_leaves_nothing_running(tmp_path: Path) -> None:
    """stop() finishes the async for; cancelling a consumer closes the watcher's own task."""
    watcher = InboxWatcher([tmp_path], settle_seconds=0.1)
    async with watcher:
        consumer = asyncio.create_task(take(watcher, 1))
        await asyncio.sleep(0.1)
        watcher.stop()
        assert await asyncio.wait_for(consumer, 1.0) == []  # the async for ended, empty-handed
    second = InboxWatcher([tmp_path], settle_seconds=0.1)
    async with second:
        blocked = asyncio.create_task(take(second, 1))
        await asyncio.sleep(0.1)
        blocked.cancel()
        with pytest.raises(asyncio.CancelledError):
            await blocked
    leftover = [t for t in asyncio.all_tasks() if t.get_name() == "inbox-watcher-events"]
    assert leftover == []


async def test_drain_returns_what_is_complete_and_leaves_what_is_still_written(
    tmp_path: Path,
) -> None:
    """drain() (for --once) gives settled files and leaves one that keeps growing."""
    (tmp_path / "b.json").write_bytes(b"{}")
    (tmp_path / "a.json").write_bytes(b"{}")
    os.utime(tmp_path / "a.json", ns=(1, 1))  # older: comes first
    (tmp_path / ".x.json").write_bytes(b"{}")
    watcher = InboxWatcher([tmp_path], settle_seconds=0.3, mode="polling")
    growing = tmp_path / "growing.json"
    growing.write_bytes(b"x")
    drain = asyncio.create_task(watcher.drain())
    chunks = 1
    while not drain.done():  # written all through the drain, however slowly it runs
        with growing.open("ab") as out:
            out.write(b"x")
        chunks += 1
        os.utime(growing, ns=(chunks * 1_000_000_000, chunks * 1_000_000_000))
        await asyncio.wait([drain], timeout=0.05)
    assert [p.name for p in await drain] == ["a.json", "b.json"]


async def test_event_failure_falls_back_to_polling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When notifications cannot be set up, the watcher polls and still yields files."""

    def broken_awatch(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(watchfiles, "awatch", broken_awatch)
    async with InboxWatcher(
        [tmp_path], settle_seconds=0.1, mode="events", poll_interval=0.05
    ) as watcher:
        task = asyncio.create_task(take(watcher, 1))
        await asyncio.sleep(0.1)
        (tmp_path / "late.json").write_bytes(b"{}")
        assert await task == [("late.json", 2)]
        assert watcher.mode == "polling"


def test_a_watcher_for_settings_watches_both_inboxes_with_the_intake_rules(tmp_path: Path) -> None:
    """for_settings takes folders, settle interval, mode and poll interval from the config."""
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[intake]\nsettle_seconds = 5\nwatcher = "polling"\npoll_interval_seconds = 7\n'
    )
    settings = load_settings(config, environ={})
    watcher = InboxWatcher.for_settings(settings)
    expected = (
        (tmp_path / "inbox" / "encounters", tmp_path / "inbox" / "responses"),
        5.0,
        "polling",
        7.0,
    )
    actual = (watcher.folders, watcher.settle_seconds, watcher.mode, watcher.poll_interval)
    assert expected == actual
