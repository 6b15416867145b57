"""Tests for the directory and in-memory transports and the transport contract they share."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from gateway.service.transports import (
    DirectoryTransport,
    InMemoryTransport,
    RetryPolicy,
    Transport,
    TransportError,
    check_name,
)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """The clearinghouse's pickup and drop folders."""
    pickup, drop = tmp_path / "pickup", tmp_path / "drop"
    pickup.mkdir()
    drop.mkdir()
    return pickup, drop


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("batch-000000001.837", True),
        ("999_20261102.x12", True),
        ("", False),
        ("..", False),
        ("../escape.x12", False),
        ("sub/dir.x12", False),
        ("back\\slash.x12", False),
        (".hidden", False),
        ("upload.part", False),
        ("nul\0.x12", False),
    ],
)
def test_only_plain_file_names_are_accepted(name: str, ok: bool) -> None:
    """Names with paths, dots-first, .part/.tmp endings or NULs are refused with ValueError."""
    if ok:
        assert name == check_name(name)
    else:
        with pytest.raises(ValueError, match="not a plain file name"):
            check_name(name)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (RetryPolicy(attempts=5, initial_delay=1, max_delay=60), [1, 2, 4, 8]),
        (RetryPolicy(attempts=4, initial_delay=10, max_delay=25), [10, 20, 25]),
        (RetryPolicy(attempts=1), []),
    ],
)
def test_retry_policy_backs_off_exponentially_up_to_a_bound(
    policy: RetryPolicy, expected: list[float]
) -> None:
    """Delays double from the initial one, are capped, and there is one fewer than attempts."""
    assert expected == policy.delays()


async def test_directory_put_writes_the_whole_file_owner_only(folders: tuple[Path, Path]) -> None:
    """put() leaves exactly the named file, complete, mode 0o600, and no temp file."""
    pickup, drop = folders
    transport: Transport = DirectoryTransport(pickup, drop)
    await transport.put("batch-1.837", b"ISA*...~")
    assert (
        os.listdir(pickup),
        (pickup / "batch-1.837").read_bytes(),
        (pickup / "batch-1.837").stat().st_mode & 0o777,
    ) == (["batch-1.837"], b"ISA*...~", 0o600)


async def test_directory_put_is_idempotent_but_never_replaces(folders: tuple[Path, Path]) -> None:
    """The same bytes again succeed (a resend); different bytes under a taken name fail."""
    pickup, drop = folders
    transport = DirectoryTransport(pickup, drop)
    await transport.put("batch-1.837", b"one")
    await transport.put("batch-1.837", b"one")
    with pytest.raises(TransportError, match="already waiting for pickup"):
        await transport.put("batch-1.837", b"two")
    assert (pickup / "batch-1.837").read_bytes() == b"one"


async def test_directory_put_into_a_missing_folder_is_a_failure(tmp_path: Path) -> None:
    """A pickup folder that does not exist is a TransportError, never a silent success."""
    transport = DirectoryTransport(tmp_path / "absent", tmp_path)
    with pytest.raises(TransportError, match=r"put batch-1\.837"):
        await transport.put("batch-1.837", b"x")


async def test_directory_responses_are_listed_fetched_and_moved_aside(
    folders: tuple[Path, Path],
) -> None:
    """Complete responses are listed (not temp/dot files or folders), fetched, then moved."""
    pickup, drop = folders
    for name in ("b-999.x12", "a-277.x12", ".c.x12", "d.part", "e.tmp"):
        (drop / name).write_bytes(name.encode())
    (drop / "sub").mkdir()
    transport = DirectoryTransport(pickup, drop)
    assert await transport.list_responses() == ["a-277.x12", "b-999.x12"]
    assert await transport.fetch("a-277.x12") == b"a-277.x12"
    await transport.mark_fetched("a-277.x12")
    assert await transport.list_responses() == ["b-999.x12"]
    assert (drop / "fetched" / "a-277.x12").read_bytes() == b"a-277.x12"


async def test_directory_delete_after_fetch_and_fetch_errors(folders: tuple[Path, Path]) -> None:
    """after_fetch='delete' removes the response; a missing one is a TransportError."""
    pickup, drop = folders
    (drop / "r.x12").write_bytes(b"r")
    transport = DirectoryTransport(pickup, drop, after_fetch="delete")
    await transport.mark_fetched("r.x12")
    assert os.listdir(drop) == []
    with pytest.raises(TransportError, match=r"fetch r\.x12"):
        await transport.fetch("r.x12")
    with pytest.raises(TransportError, match=r"mark r\.x12 fetched"):
        await transport.mark_fetched("r.x12")


async def test_directory_fetch_refuses_oversized_and_symlinked_responses(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    """Responses over max_bytes, or symlinks planted in the drop folder, are not read."""
    pickup, drop = folders
    (drop / "big.x12").write_bytes(b"x" * 11)
    (tmp_path / "secret").write_text("s")
    (drop / "link.x12").symlink_to(tmp_path / "secret")
    transport = DirectoryTransport(pickup, drop, max_bytes=10)
    assert await transport.list_responses() == ["big.x12"]
    with pytest.raises(TransportError, match="more than the limit"):
        await transport.fetch("big.x12")
    with pytest.raises(TransportError, match=r"fetch link\.x12"):
        await transport.fetch("link.x12")


async def test_directory_responses_wait_to_settle_when_asked(folders: tuple[Path, Path]) -> None:
    """With settle_seconds, a response appears only on a later listing, once it stopped changing."""
    pickup, drop = folders
    (drop / "r.x12").write_bytes(b"r")
    transport = DirectoryTransport(pickup, drop, settle_seconds=0.05)
    first = await transport.list_responses()
    later = (drop / "r.x12").stat().st_mtime_ns + 1_000_000_000
    os.utime(drop / "r.x12", ns=(later, later))  # still being written
    await asyncio.sleep(0.06)
    second = await transport.list_responses()
    await asyncio.sleep(0.06)
    assert (first, second, await transport.list_responses()) == ([], [], ["r.x12"])


async def test_in_memory_transport_follows_the_same_contract() -> None:
    """The in-memory transport records puts, injects failures, and serves responses once."""
    transport = InMemoryTransport(responses={"r.x12": b"r", ".x": b""})
    transport.put_failures.append(TransportError("boom", retryable=True))
    with pytest.raises(TransportError, match="boom"):
        await transport.put("a.837", b"a")
    await transport.put("a.837", b"a")
    await transport.put("a.837", b"a")
    with pytest.raises(TransportError):
        await transport.put("a.837", b"b")
    assert await transport.list_responses() == ["r.x12"]
    assert await transport.fetch("r.x12") == b"r"
    async with transport:
        await transport.mark_fetched("r.x12")
    assert (
        transport.sent,
        transport.fetched,
        await transport.list_responses(),
    ) == ({"a.837": b"a"}, ["r.x12"], [])
    with pytest.raises(TransportError):
        await transport.fetch("r.x12")
