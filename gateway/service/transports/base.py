"""The transport interface: what every way of reaching the clearinghouse offers the service.

See ``gateway.service.transports`` for the contract of the four operations. This module holds the
``Transport`` base class, its errors (``TransportError`` with an ``ErrorKind``,
``ResponseRefusedError``) and ``check_name``, the one rule for the file names transports use.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal

from gateway.service.files import FileProblem, is_candidate_name

__all__ = [
    "DEFAULT_MAX_BYTES",
    "AfterFetch",
    "ErrorKind",
    "ResponseRefusedError",
    "Transport",
    "TransportError",
    "check_name",
]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
AfterFetch = Literal["move", "delete"]


#: What kind of problem a ``TransportError`` is (for back-off, logs and ``gateway status``).
ErrorKind = Literal[
    "host-key-unknown",  # the server is not in known_hosts (or known_hosts is missing)
    "host-key-mismatch",  # the server presented a key other than the one pinned
    "auth",  # the server refused our key
    "config",  # our side is set up wrong (a private key that cannot be read, ...)
    "network",  # connection refused, timed out, dropped: trying again later may help
    "error",  # anything else (the server refused an operation, a name already taken, ...)
]


class TransportError(Exception):
    """A transport operation that did not succeed (after any retries).

    ``retryable`` tells whether trying again later may help (a network problem) or a person must
    act first (a host key mismatch, refused credentials, a name already taken, a missing folder).
    ``kind`` names the problem (see ``ErrorKind``).
    """

    def __init__(
        self, message: str, *, retryable: bool = False, kind: ErrorKind | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.kind: ErrorKind = kind or ("network" if retryable else "error")


class ResponseRefusedError(TransportError):
    """A response the gateway will never take as it is (``code``: ``too-large``, ``unreadable``)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, retryable=False)
        self.code = code


def check_name(name: str) -> str:
    """``name`` if it is a plain file name the transports may use, else ``ValueError``."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or not is_candidate_name(name)
    ):
        raise ValueError(f"{name!r} is not a plain file name a transport may use")
    return name


class Transport(ABC):
    """The clearinghouse seen from the gateway (see the module docstring for the contract)."""

    #: A short description for logs and errors (no secrets).
    label: str = "transport"

    @abstractmethod
    async def put(self, name: str, data: bytes) -> None:
        """Deliver ``data`` as ``name``; raise ``TransportError`` unless it is completely there."""

    @abstractmethod
    async def list_responses(self) -> list[str]:
        """Names of the complete response files waiting to be fetched, sorted."""

    @abstractmethod
    async def fetch(self, name: str) -> bytes:
        """The bytes of the response file ``name``."""

    async def fetch_to(self, name: str, out: BinaryIO) -> int:
        """Write the response ``name`` into ``out`` (a local file open for writing, positioned at
        its start) and return its size.

        The directory and SFTP transports stream it in chunks of ``CHUNK_SIZE`` (memory stays
        bounded whatever the size) and raise ``ResponseRefusedError`` (``too-large``) as soon as
        the size limit is passed. This default writes what ``fetch`` returns (for transports that
        hold their responses in memory)."""
        data = await self.fetch(name)
        await asyncio.to_thread(out.write, data)
        return len(data)

    @abstractmethod
    async def mark_fetched(self, name: str) -> None:
        """Move the response ``name`` out of the waiting list (into a fetched folder, or delete)."""

    async def close(self) -> None:  # noqa: B027 - optional for transports without connections
        """Release connections (a no-op for transports that hold none)."""

    def setup_stamp(self) -> object:
        """Something that changes when a person edits the transport's local setup (known_hosts,
        keys), so a failing transport is tried again at once instead of after its back-off."""
        return None

    async def set_aside(self, name: str, folder: Path, problem: FileProblem) -> Path | None:
        """Move a response the gateway will not take into ``folder`` with its ``.error.json``;
        None when this transport cannot (the response stays where it is, reported once)."""
        return None

    async def __aenter__(self) -> Transport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
