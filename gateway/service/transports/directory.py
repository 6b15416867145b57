"""The directory transport: the clearinghouse's pickup folder and drop folder (the default)."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path
from typing import BinaryIO

from gateway.service.files import (
    CHUNK_SIZE,
    FileProblem,
    FileTooLargeError,
    SettleTracker,
    atomic_write,
    fsync_directory,
    move_no_overwrite,
    quarantine_file,
    read_file_sync,
)
from gateway.service.transports.base import (
    DEFAULT_MAX_BYTES,
    AfterFetch,
    ResponseRefusedError,
    Transport,
    TransportError,
    check_name,
)

__all__ = ["DirectoryTransport"]


class DirectoryTransport(Transport):
    """The clearinghouse's pickup folder (we put 837s there) and drop folder (responses appear).

    ``drop_dir`` None means the clearinghouse writes its responses straight into our responses
    inbox, so there is nothing to pull (``list_responses`` is empty). Responses are listed once
    they have settled (``settle_seconds``, for folders on network shares
    written slowly; 0 lists them at once). Fetched responses move to ``fetched_dir`` (default
    ``<drop>/fetched``), or are deleted with ``after_fetch="delete"``.
    """

    def __init__(
        self,
        pickup_dir: Path,
        drop_dir: Path | None,
        *,
        fetched_dir: Path | None = None,
        after_fetch: AfterFetch = "move",
        settle_seconds: float = 0.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.pickup_dir = Path(pickup_dir)
        self.drop_dir = Path(drop_dir) if drop_dir is not None else None
        self.fetched_dir = (
            Path(fetched_dir)
            if fetched_dir
            else (self.drop_dir / "fetched" if self.drop_dir is not None else None)
        )
        self.after_fetch = after_fetch
        self.max_bytes = max_bytes
        self.label = f"directory {self.pickup_dir}"
        self._tracker = SettleTracker(settle_seconds)

    async def put(self, name: str, data: bytes) -> None:
        check_name(name)
        await asyncio.to_thread(self._put, name, data)

    def _put(self, name: str, data: bytes) -> None:
        target = self.pickup_dir / name
        try:
            atomic_write(target, data, overwrite=False)
        except FileExistsError:
            if _same_content(target, data):
                return  # delivered before (a resend after a crash)
            raise TransportError(
                f"{self.label}: put {name}: a different file of that name is already waiting "
                "for pickup; refusing to replace it"
            ) from None
        except OSError as exc:
            raise TransportError(
                f"{self.label}: put {name}: {exc.strerror or exc}",
                retryable=exc.errno not in (errno.ENOENT, errno.EACCES, errno.EPERM),
            ) from exc

    def _drop(self, what: str) -> Path:
        if self.drop_dir is None:
            raise TransportError(f"{self.label}: {what}: no drop folder is configured")
        return self.drop_dir

    async def list_responses(self) -> list[str]:
        if self.drop_dir is None:
            return []
        try:
            ready = await asyncio.to_thread(self._tracker.scan, self.drop_dir)
        except OSError as exc:
            raise TransportError(f"{self.label}: list responses: {exc.strerror or exc}") from exc
        return sorted(p.name for p in ready)

    async def fetch(self, name: str) -> bytes:
        check_name(name)
        drop = self._drop(f"fetch {name}")
        try:
            return await asyncio.to_thread(read_file_sync, drop / name, self.max_bytes)
        except FileTooLargeError as exc:
            message = f"{self.label}: fetch {name}: {exc}"
            raise ResponseRefusedError(message, code="too-large") from exc
        except (OSError, ValueError) as exc:
            raise TransportError(f"{self.label}: fetch {name}: {exc}") from exc

    async def fetch_to(self, name: str, out: BinaryIO) -> int:
        check_name(name)
        drop = self._drop(f"fetch {name}")
        try:
            return await asyncio.to_thread(_copy_limited, drop / name, out, self.max_bytes)
        except FileTooLargeError as exc:
            message = f"{self.label}: fetch {name}: {exc}"
            raise ResponseRefusedError(message, code="too-large") from exc
        except (OSError, ValueError) as exc:
            raise TransportError(f"{self.label}: fetch {name}: {exc}") from exc

    async def set_aside(self, name: str, folder: Path, problem: FileProblem) -> Path | None:
        check_name(name)
        source = self._drop(f"set {name} aside") / name
        try:
            target, _ = await asyncio.to_thread(
                quarantine_file, source, folder, problem, extra={"transport": self.label}
            )
        except FileNotFoundError:
            return None
        finally:
            self._tracker.forget(source)
        return target

    async def mark_fetched(self, name: str) -> None:
        check_name(name)
        drop = self._drop(f"mark {name} fetched")
        source = drop / name
        try:
            if self.after_fetch == "delete" or self.fetched_dir is None:
                await asyncio.to_thread(source.unlink)
                await asyncio.to_thread(fsync_directory, drop)
            else:
                await asyncio.to_thread(move_no_overwrite, source, self.fetched_dir, name)
        except OSError as exc:
            raise TransportError(f"{self.label}: mark {name} fetched: {exc}") from exc
        self._tracker.forget(source)


def _copy_limited(path: Path, out: BinaryIO, max_bytes: int) -> int:
    """Copy the file at ``path`` into ``out`` in chunks; ``FileTooLargeError`` as soon as more
    than ``max_bytes`` (it may grow while it is read). Symlinks are refused."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    with open(os.open(path, flags), "rb", buffering=0) as source:
        size = os.fstat(source.fileno()).st_size
        if size > max_bytes:
            raise FileTooLargeError(path, size, max_bytes)
        total = 0
        while chunk := source.read(CHUNK_SIZE):
            total += len(chunk)
            if total > max_bytes:
                raise FileTooLargeError(path, total, max_bytes)
            out.write(chunk)
    return total


def _same_content(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
