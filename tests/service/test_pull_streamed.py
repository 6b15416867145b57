"""Responses are pulled streamed: chunk by chunk into a temp file, refused at the size limit, and
marked fetched only once safely on disk (issue 18 item 12)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import BinaryIO

import pytest

from gateway.service.files import CHUNK_SIZE, FileProblem, is_own_temp
from gateway.service.transports import (
    DirectoryTransport,
    InMemoryTransport,
    ResponseRefusedError,
    TransportError,
    pull_responses,
)


class WriteRecorder(io.BytesIO):
    """A file-like sink that remembers the size of each write."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.sizes.append(len(data))
        return super().write(data)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The clearinghouse's pickup and drop folders, and our responses inbox."""
    made = tuple(tmp_path / n for n in ("pickup", "drop", "inbox"))
    for folder in made:
        folder.mkdir()
    return made  # type: ignore[return-value]


def _payload(size: int) -> bytes:
    return (b"ISA*00*payload~" * (size // 15 + 1))[:size]


async def test_a_directory_response_is_copied_in_chunks_never_whole(
    folders: tuple[Path, Path, Path],
) -> None:
    """fetch_to writes a 3.5 MiB response in writes of at most CHUNK_SIZE, byte for byte."""
    pickup, drop, _ = folders
    data = _payload(3 * CHUNK_SIZE + CHUNK_SIZE // 2)
    (drop / "835.x12").write_bytes(data)
    out = WriteRecorder()
    size = await DirectoryTransport(pickup, drop).fetch_to("835.x12", out)
    assert (size, out.getvalue() == data, max(out.sizes), len(out.sizes)) == (
        len(data), True, CHUNK_SIZE, 4
    )  # fmt: skip


async def test_a_large_response_is_pulled_whole_and_owner_only(
    folders: tuple[Path, Path, Path],
) -> None:
    """pull_responses stores a multi-chunk response under its name, owner-only, no temp left."""
    pickup, drop, inbox = folders
    data = _payload(2 * CHUNK_SIZE + 17)
    (drop / "835.x12").write_bytes(data)
    stored = await pull_responses(DirectoryTransport(pickup, drop), inbox)
    assert [p.name for p in stored] == ["835.x12"]
    assert stored[0].read_bytes() == data
    assert stored[0].stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in inbox.iterdir()) == ["835.x12"]
    assert (drop / "fetched" / "835.x12").is_file()
    assert not (drop / "835.x12").exists()


async def test_an_oversized_response_is_quarantined_and_nothing_lands_in_the_inbox(
    folders: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """A response over the limit is refused (too-large) and set aside; the inbox stays empty."""
    pickup, drop, inbox = folders
    quarantine = tmp_path / "quarantine"
    (drop / "big-835.x12").write_bytes(_payload(CHUNK_SIZE + 5))
    (drop / "small-999.x12").write_bytes(b"ISA*999~")
    refused: list[tuple[str, FileProblem, Path | None]] = []

    async def on_refused(name: str, problem: FileProblem, where: Path | None) -> None:
        refused.append((name, problem, where))

    transport = DirectoryTransport(pickup, drop, max_bytes=CHUNK_SIZE)
    stored = await pull_responses(transport, inbox, quarantine=quarantine, on_refused=on_refused)
    assert [p.name for p in stored] == ["small-999.x12"]
    assert sorted(p.name for p in inbox.iterdir()) == ["small-999.x12"]
    assert [(n, p.code) for n, p, _ in refused] == [("big-835.x12", "too-large")]
    where = refused[0][2]
    assert where is not None
    assert where.read_bytes() == _payload(CHUNK_SIZE + 5)
    assert not (drop / "big-835.x12").exists()


def test_a_response_growing_past_the_limit_is_refused_mid_stream(tmp_path: Path) -> None:
    """A response whose size was not known up front (a pipe) is cut off as it passes the limit."""
    drop = tmp_path / "drop"
    drop.mkdir()
    fifo = drop / "835.x12"
    os.mkfifo(fifo)
    limit = 2 * CHUNK_SIZE

    def writer() -> None:
        try:
            with open(fifo, "wb") as pipe:
                for _ in range(8):
                    pipe.write(b"x" * CHUNK_SIZE)
        except BrokenPipeError:
            return  # the reader stopped at the limit

    thread = threading.Thread(target=writer)
    thread.start()
    out = WriteRecorder()
    try:
        with pytest.raises(ResponseRefusedError, match="more than the limit") as caught:
            asyncio.run(
                DirectoryTransport(tmp_path, drop, max_bytes=limit).fetch_to("835.x12", out)
            )
    finally:
        thread.join(timeout=30)
    assert caught.value.code == "too-large"
    assert len(out.getvalue()) <= limit


async def test_a_fetch_failing_mid_stream_leaves_no_temp_and_is_not_marked_fetched(
    tmp_path: Path,
) -> None:
    """A line dropped halfway through: the error is raised, the partial temp file (named as
    ``tidy_folder`` finds a crash's leftovers) removed, and the response not marked fetched."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    during: list[str] = []

    class Dropping(InMemoryTransport):
        async def fetch_to(self, name: str, out: BinaryIO) -> int:
            during.extend(p.name for p in inbox.iterdir())
            out.write(b"ISA*half of it")
            raise TransportError("connection lost", retryable=True)

    transport = Dropping(responses={"835.x12": b"ISA*all of it~"})
    with pytest.raises(TransportError, match="connection lost"):
        await pull_responses(transport, inbox)
    assert len(during) == 1
    assert is_own_temp(during[0])
    assert during[0].startswith(".835.x12.")
    assert (list(inbox.iterdir()), transport.fetched, list(transport.responses)) == (
        [], [], ["835.x12"]
    )  # fmt: skip


_PULL_SCRIPT = """
import asyncio, sys
from pathlib import Path
from gateway.service.transports import DirectoryTransport, pull_responses
root = Path(sys.argv[1])
asyncio.run(pull_responses(DirectoryTransport(root / "pickup", root / "drop"), root / "inbox"))
"""


async def test_a_crash_between_storing_and_marking_fetched_fetches_it_again(
    folders: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Killed after the copy is on disk but before mark-fetched: the copy is whole, the original
    still waits, and the next pull stores it again (same bytes) and marks it fetched."""
    pickup, drop, inbox = folders
    data = _payload(CHUNK_SIZE + 100)
    (drop / "835.x12").write_bytes(data)
    env = {**os.environ, "GATEWAY_CRASH_AT": "after-response-stored"}
    process = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _PULL_SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == -9, process.stderr.decode()[-2000:]
    assert [(p.name, p.read_bytes() == data) for p in inbox.iterdir()] == [("835.x12", True)]
    assert (drop / "835.x12").read_bytes() == data
    stored = await pull_responses(DirectoryTransport(pickup, drop), inbox)
    assert [(p.name, p.read_bytes() == data) for p in stored] == [("835-2.x12", True)]
    assert not (drop / "835.x12").exists()
    assert not any(is_own_temp(p.name) for p in inbox.iterdir())
