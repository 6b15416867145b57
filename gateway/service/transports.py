"""How claim files reach the clearinghouse and its responses come back: one small async interface.

A ``Transport`` has four operations, and the pipeline never knows which transport it holds:

- ``put(name, data)``: deliver a file; returns only once the file is completely in place under
  ``name`` (written under a temporary name, then renamed), and raises ``TransportError`` otherwise:
  a failed upload is never reported as a success. Putting the same bytes under the same name again
  succeeds (a resend after a crash); different bytes under a taken name are refused.
- ``list_responses()``: the names of the response files waiting (no dotfiles, ``.tmp``, ``.part``).
- ``fetch(name)``: a response file's bytes; ``fetch_to(name, out)`` writes them into a local file
  in chunks instead (what ``pull_responses`` uses: a response of any size is pulled in bounded
  memory, and refused as soon as it passes the size limit).
- ``mark_fetched(name)``: once the response is stored safely on our side, move it out of the way
  (into a ``fetched`` folder) or delete it, as configured.

Implementations: ``DirectoryTransport`` (the clearinghouse's pickup and drop folders; the default),
``SftpTransport`` (asyncssh: key authentication only, the host key pinned from a known_hosts file,
retries with exponential back-off on network errors), and ``InMemoryTransport`` for tests.
Every ``TransportError`` says which transport, which operation and which file, and its ``kind``
(``ErrorKind``): a server missing from known_hosts (with the ``ssh-keyscan`` line and the
fingerprint to check), a key other than the pinned one (with the known_hosts line), our key
refused, a network problem... The service backs off between attempts by that kind
(``gateway.service.transport_health``).

``transport_from_config`` builds one from a trading partner's ``[transport]`` table.
"""

from __future__ import annotations

import asyncio
import errno
import io
import os
import socket
import stat
import tempfile
import warnings
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, BinaryIO, Literal, NoReturn, TypeVar

import structlog
from cryptography.utils import CryptographyDeprecationWarning

from gateway.config import ConfigError, WorkspaceSettings
from gateway.service.files import (
    CHUNK_SIZE,
    FileProblem,
    FileTooLargeError,
    SettleTracker,
    atomic_write,
    crash_point,
    fit_name,
    fsync_directory,
    is_candidate_name,
    move_no_overwrite,
    numbered_name,
    quarantine_file,
    read_file_sync,
    rename_no_replace,
)

# asyncssh names algorithms that cryptography deprecates (DSA, TripleDES...) when it loads; the
# warnings are about asyncssh's own support for them, nothing an operator can act on, and they
# cluttered the start of `gateway run` and `gateway demo`. Exactly those (that category, raised
# from asyncssh's modules) are silenced, and only while asyncssh loads.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", category=CryptographyDeprecationWarning, module=r"asyncssh(\.|$)"
    )
    import asyncssh

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DirectoryTransport",
    "ErrorKind",
    "InMemoryTransport",
    "OnRefused",
    "ResponseRefusedError",
    "RetryPolicy",
    "SftpTransport",
    "Transport",
    "TransportError",
    "check_name",
    "poll_responses",
    "pull_responses",
    "transport_from_config",
]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
AfterFetch = Literal["move", "delete"]
_T = TypeVar("_T")
_log = structlog.stdlib.get_logger("gateway.transport")


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


#: Called once for each response a pull refuses: (name, problem, where it was quarantined).
OnRefused = Callable[[str, FileProblem, Path | None], Awaitable[None]]


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


# --- folders --------------------------------------------------------------------------------------


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


# --- memory ---------------------------------------------------------------------------------------


@dataclass
class InMemoryTransport(Transport):
    """A transport for unit tests: ``sent`` holds what was put, ``responses`` what may be fetched.

    ``put_failures`` are raised, one per call, by the next puts (to test failure handling).
    """

    sent: dict[str, bytes] = field(default_factory=dict)
    responses: dict[str, bytes] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    put_failures: list[TransportError] = field(default_factory=list)
    label: str = "memory"

    async def put(self, name: str, data: bytes) -> None:
        check_name(name)
        if self.put_failures:
            raise self.put_failures.pop(0)
        if name in self.sent and self.sent[name] != data:
            raise TransportError(f"{self.label}: put {name}: a different file has that name")
        self.sent[name] = bytes(data)

    async def list_responses(self) -> list[str]:
        return sorted(n for n in self.responses if is_candidate_name(n))

    async def fetch(self, name: str) -> bytes:
        try:
            return self.responses[check_name(name)]
        except KeyError:
            raise TransportError(f"{self.label}: fetch {name}: no such response") from None

    async def mark_fetched(self, name: str) -> None:
        if self.responses.pop(check_name(name), None) is None:
            raise TransportError(f"{self.label}: mark {name} fetched: no such response")
        self.fetched.append(name)


# --- SFTP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential back-off: ``attempts`` tries, waiting initial, x2, x4... up to max."""

    attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 60.0
    multiplier: float = 2.0

    def delays(self) -> list[float]:
        """The waits between attempts (one fewer than ``attempts``)."""
        return [
            min(self.max_delay, self.initial_delay * self.multiplier**n)
            for n in range(max(0, self.attempts - 1))
        ]


# Problems a person must fix: retrying cannot help.
_PERMANENT_SSH_ERRORS: tuple[type[BaseException], ...] = (
    asyncssh.HostKeyNotVerifiable,
    asyncssh.PermissionDenied,
    asyncssh.IllegalUserName,
    asyncssh.KeyExchangeFailed,
    asyncssh.ProtocolNotSupported,
)


def _is_network_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a network problem worth retrying (the connection, not the request)."""
    if isinstance(exc, _PERMANENT_SSH_ERRORS):
        return False
    if isinstance(exc, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
        return True
    if isinstance(exc, asyncssh.SFTPError):
        return False  # the server answered: no such file, permission denied, ...
    return isinstance(
        exc,
        asyncssh.DisconnectError | asyncssh.ChannelOpenError | OSError | TimeoutError | EOFError,
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return f"the server's host key was refused ({exc.reason})"
    if isinstance(exc, asyncssh.PermissionDenied):
        return f"the server refused our key ({exc.reason})"
    if isinstance(exc, asyncssh.DisconnectError | asyncssh.SFTPError):
        return f"{type(exc).__name__}: {exc.reason}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server up, and is the port right?)"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror or exc})"
    return f"{type(exc).__name__}: {exc}"


def _kind_of(exc: BaseException) -> ErrorKind:
    if isinstance(exc, asyncssh.PermissionDenied | asyncssh.IllegalUserName):
        return "auth"
    return "network" if _is_network_error(exc) else "error"


class SftpTransport(Transport):
    """The clearinghouse's SFTP server: upload to ``outbound_dir``, responses in ``inbound_dir``.

    Authentication is by private key only (no passwords, no agent, no ~/.ssh/config); the server's
    host key must be in ``known_hosts`` (for a non-standard port, as ``[host]:port``). Uploads go
    to a hidden ``.part`` name and are renamed into place, then checked by size. Network errors are
    retried by ``retry`` (reconnecting); other errors fail at once. A fetched response is moved into
    ``fetched_dir`` when given, else deleted.
    """

    def __init__(
        self,
        *,
        host: str,
        username: str,
        client_keys: Sequence[Path],
        known_hosts: Path,
        outbound_dir: str,
        inbound_dir: str,
        port: int = 22,
        fetched_dir: str | None = None,
        passphrase: str | None = None,
        retry: RetryPolicy | None = None,
        connect_timeout: float = 30.0,
        operation_timeout: float = 300.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not client_keys:
            raise ValueError("SftpTransport needs at least one private key (client_keys)")
        self.host = host
        self.port = port
        self.username = username
        self.client_keys = tuple(Path(k) for k in client_keys)
        self.known_hosts = Path(known_hosts)
        self.outbound_dir = PurePosixPath(outbound_dir)
        self.inbound_dir = PurePosixPath(inbound_dir)
        self.fetched_dir = PurePosixPath(fetched_dir) if fetched_dir else None
        self.passphrase = passphrase
        self.retry = retry or RetryPolicy()
        self.connect_timeout = connect_timeout
        self.operation_timeout = operation_timeout
        self.max_bytes = max_bytes
        self.label = f"sftp {username}@{host}:{port}"
        self._sleep = sleep
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._lock = asyncio.Lock()

    # connection --------------------------------------------------------------------------------

    async def _client(self) -> asyncssh.SFTPClient:
        async with self._lock:
            if self._sftp is not None:
                return self._sftp
            if not self.known_hosts.is_file():
                raise TransportError(
                    f"{self.label}: known_hosts file {self.known_hosts} is missing; add the "
                    f"server's host key there ({self._keyscan()}) after checking its "
                    "fingerprint with the clearinghouse",
                    kind="host-key-unknown",
                )
            try:
                keys = [asyncssh.read_private_key(k, self.passphrase) for k in self.client_keys]
            except (OSError, asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
                raise TransportError(
                    f"{self.label}: cannot load the private key: {exc}", kind="config"
                ) from exc
            self._conn = await asyncssh.connect(
                self.host,
                self.port,
                username=self.username,
                client_keys=keys,
                known_hosts=str(self.known_hosts),
                agent_path=None,
                password=None,
                password_auth=False,
                kbdint_auth=False,
                preferred_auth="publickey",
                config=None,
                connect_timeout=self.connect_timeout,
                keepalive_interval=30,
            )
            try:
                self._sftp = await self._conn.start_sftp_client()
            except BaseException:
                conn, self._conn = self._conn, None
                conn.abort()
                raise
            return self._sftp

    async def _drop_connection(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.abort()
            try:
                await asyncio.wait_for(conn.wait_closed(), 5)
            except (TimeoutError, OSError, asyncssh.Error):
                return

    async def close(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.close()
            try:
                await asyncio.wait_for(conn.wait_closed(), 5)
            except (TimeoutError, OSError, asyncssh.Error):
                conn.abort()

    async def _with_retries(
        self,
        what: str,
        operation: Callable[[asyncssh.SFTPClient], Awaitable[_T]],
        *,
        per_step: bool = False,
    ) -> _T:
        """Run ``operation`` with a connected client, retrying network errors with back-off.
        ``operation_timeout`` bounds the whole operation, or with ``per_step`` each of its
        steps (the operation applies it itself: a streamed download)."""
        delays = self.retry.delays()
        for attempt in range(1, self.retry.attempts + 1):
            try:
                client = await self._client()
                if per_step:
                    return await operation(client)
                return await asyncio.wait_for(operation(client), self.operation_timeout)
            except TransportError:
                raise
            except asyncssh.HostKeyNotVerifiable as exc:
                raise await self._host_key_refused(what, exc) from exc
            except asyncssh.KeyExchangeFailed as exc:
                # A pinned key of a type the server no longer offers fails the key exchange
                # before any key is compared: that too is a key other than the pinned one.
                if await asyncio.to_thread(self._pinned, await self._address()):
                    raise await self._host_key_refused(what, exc) from exc
                raise TransportError(f"{self.label}: {what}: {_describe(exc)}") from exc
            except (asyncssh.Error, OSError, TimeoutError, EOFError) as exc:
                if not _is_network_error(exc):
                    if isinstance(exc, asyncssh.PermissionDenied):
                        raise TransportError(
                            f"{self.label}: {what}: the SFTP server {self.host}:{self.port} "
                            f"refused our key for user {self.username} ({exc.reason}): check "
                            "that the clearinghouse has installed our public key for that user "
                            f"and that private_key names its pair ({self._key_names()})",
                            kind="auth",
                        ) from exc
                    raise TransportError(
                        f"{self.label}: {what}: {_describe(exc)}", kind=_kind_of(exc)
                    ) from exc
                await self._drop_connection()
                if attempt >= self.retry.attempts:
                    raise TransportError(
                        f"{self.label}: {what}: {_describe(exc)}; gave up after "
                        f"{self.retry.attempts} attempts",
                        retryable=True,
                        kind="network",
                    ) from exc
                delay = delays[attempt - 1]
                _log.warning(
                    "transport retry",
                    transport=self.label,
                    operation=what,
                    attempt=attempt,
                    delay_seconds=delay,
                    error=_describe(exc),
                )
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def setup_stamp(self) -> object:
        """Size and modification time of known_hosts and of each private key."""
        stamps: list[tuple[int, int] | None] = []
        for path in (self.known_hosts, *self.client_keys):
            try:
                st = path.stat()
            except OSError:
                stamps.append(None)
            else:
                stamps.append((st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    # host keys ---------------------------------------------------------------------------------

    def _keyscan(self) -> str:
        """The command that prints the server's host keys in known_hosts form."""
        port = f"-p {self.port} " if self.port != 22 else ""
        return f"ssh-keyscan {port}{self.host} >> {self.known_hosts}"

    def _key_names(self) -> str:
        return ", ".join(str(k) for k in self.client_keys)

    async def _host_key_refused(self, what: str, exc: asyncssh.DisconnectError) -> TransportError:
        """Why the server's host key was refused: not pinned at all, or a different key pinned."""
        where = f"{self.host}:{self.port}"
        address = await self._address()
        pinned = await asyncio.to_thread(self._pinned, address)
        presented = await self._presented_key([key for _, key in pinned])
        fingerprint = presented.get_fingerprint("sha256") if presented is not None else None
        if not pinned:
            check = f"the fingerprint {fingerprint}" if fingerprint else "its fingerprint"
            return TransportError(
                f"{self.label}: {what}: the SFTP server {where} is not in known_hosts "
                f"{self.known_hosts}: add its key ({self._keyscan()}) after checking {check} "
                "with the clearinghouse",
                kind="host-key-unknown",
            )
        if fingerprint is not None and fingerprint in {
            key.get_fingerprint("sha256") for _, key in pinned
        }:
            # The pinned key itself was refused (a revoked marker, an unusable algorithm).
            return TransportError(
                f"{self.label}: {what}: {_describe(exc)}; known_hosts {self.known_hosts}",
                kind="host-key-mismatch",
            )
        lines = sorted({line for line, _ in pinned})
        at = f"line {lines[0]}" if len(lines) == 1 else f"lines {', '.join(map(str, lines))}"
        presented_text = f" ({fingerprint})" if fingerprint else ""
        return TransportError(
            f"{self.label}: {what}: the key the SFTP server {where} presented{presented_text} "
            f"does not match the one pinned in {self.known_hosts} {at}: possible "
            "man-in-the-middle or a changed server key; confirm with the clearinghouse before "
            "changing known_hosts",
            kind="host-key-mismatch",
        )

    async def _address(self) -> str:
        """The server's IP address (known_hosts lines may name it instead of the host name)."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                self.host, self.port, type=socket.SOCK_STREAM
            )
        except OSError:
            return ""
        return str(infos[0][4][0]) if infos else ""

    def _pinned(self, address: str) -> list[tuple[int, asyncssh.SSHKey]]:
        """The known_hosts lines (numbered from 1) that pin a host key for this server."""
        try:
            text = self.known_hosts.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        found: list[tuple[int, asyncssh.SSHKey]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                matched = asyncssh.import_known_hosts(line).match(self.host, address, self.port)
            except ValueError:
                continue  # a line asyncssh cannot read pins nothing
            found += [(number, key) for key in matched[0]]
        return found

    async def _presented_key(self, pinned: Sequence[asyncssh.SSHKey]) -> asyncssh.SSHKey | None:
        """The host key the server presents (of a pinned key's type when it has one), or None."""
        algorithms = [a.decode() for key in pinned for a in key.sig_algorithms]
        for algs in ([algorithms] if algorithms else []) + [[]]:
            try:
                key: asyncssh.SSHKey | None = await asyncio.wait_for(
                    asyncssh.get_server_host_key(
                        self.host, self.port, server_host_key_algs=algs or (), config=None
                    ),
                    self.connect_timeout,
                )
            except (asyncssh.Error, OSError, TimeoutError, ValueError):
                continue
            if key is not None:
                return key
        return None

    # operations --------------------------------------------------------------------------------

    async def put(self, name: str, data: bytes) -> None:
        check_name(name)
        await self._with_retries(f"put {name}", lambda sftp: self._put(sftp, name, data))
        _log.info("file delivered", transport=self.label, file=name, size=len(data))

    async def _put(self, sftp: asyncssh.SFTPClient, name: str, data: bytes) -> None:
        target = str(self.outbound_dir / name)
        # One temp name per file: a retry overwrites what a dropped attempt left behind.
        temp = str(self.outbound_dir / f".{name}.part")
        try:
            async with sftp.open(temp, "wb") as remote:
                await remote.write(data)
                await _fsync_if_supported(remote)
            try:
                await sftp.rename(temp, target)  # SFTPv3 rename never replaces an existing file
            except asyncssh.SFTPError as exc:
                if isinstance(exc, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
                    raise
                if not await _remote_equals(sftp, target, data):
                    raise TransportError(
                        f"{self.label}: put {name}: cannot rename into place ({exc.reason}); "
                        "a different file of that name may already be waiting"
                    ) from exc
                await _remove_quietly(sftp, temp)
                return  # the same file was delivered before (a retry after a lost reply)
        except BaseException:
            await _remove_quietly(sftp, temp)
            raise
        size = (await sftp.stat(target)).size
        if size != len(data):
            raise TransportError(
                f"{self.label}: put {name}: the server holds {size} bytes, we sent {len(data)}"
            )

    async def list_responses(self) -> list[str]:
        return await self._with_retries("list responses", self._list)

    async def _list(self, sftp: asyncssh.SFTPClient) -> list[str]:
        names: list[str] = []
        for entry in await sftp.readdir(str(self.inbound_dir)):
            name = entry.filename if isinstance(entry.filename, str) else entry.filename.decode()
            kind = entry.attrs.type
            regular = kind == asyncssh.FILEXFER_TYPE_REGULAR or (
                kind in (None, asyncssh.FILEXFER_TYPE_UNKNOWN)
                and entry.attrs.permissions is not None
                and stat.S_ISREG(entry.attrs.permissions)
            )
            if regular and _plain_name(name):
                names.append(name)
        return sorted(names)

    async def fetch(self, name: str) -> bytes:
        buffer = io.BytesIO()
        await self.fetch_to(name, buffer)
        return buffer.getvalue()

    async def fetch_to(self, name: str, out: BinaryIO) -> int:
        check_name(name)
        return await self._with_retries(
            f"fetch {name}", lambda sftp: self._fetch_to(sftp, name, out), per_step=True
        )

    async def _fetch_to(self, sftp: asyncssh.SFTPClient, name: str, out: BinaryIO) -> int:
        """Download ``name`` into ``out`` chunk by chunk (a retry starts ``out`` over); each
        step, not the whole download, has ``operation_timeout`` (a large file on a slow line
        is not cut off while it keeps moving)."""
        path = str(self.inbound_dir / name)
        await asyncio.to_thread(_rewind, out)
        step = self.operation_timeout
        remote = await asyncio.wait_for(sftp.open(path, "rb"), step)
        async with remote:
            size = (await asyncio.wait_for(remote.stat(), step)).size or 0
            if size > self.max_bytes:
                self._too_large(name, size)
            total = 0
            while True:
                chunk: bytes = await asyncio.wait_for(remote.read(CHUNK_SIZE), step)
                if not chunk:
                    break
                total += len(chunk)
                if total > self.max_bytes:  # it grew while being read
                    self._too_large(name, total)
                await asyncio.to_thread(out.write, chunk)
        return total

    def _too_large(self, name: str, size: int) -> NoReturn:
        raise ResponseRefusedError(
            f"{self.label}: fetch {name}: {size} bytes is more than the limit of "
            f"{self.max_bytes} bytes",
            code="too-large",
        )

    async def mark_fetched(self, name: str) -> None:
        check_name(name)
        await self._with_retries(f"mark {name} fetched", lambda s: self._mark(s, name))

    async def _mark(self, sftp: asyncssh.SFTPClient, name: str) -> None:
        source = str(self.inbound_dir / name)
        if self.fetched_dir is None:
            try:
                await sftp.remove(source)
            except asyncssh.SFTPNoSuchFile:
                return  # removed by an earlier attempt whose reply was lost
            return
        if not await sftp.exists(source):
            return  # moved by an earlier attempt whose reply was lost
        for n in range(1, 10_000):
            target_name = name if n == 1 else numbered_name(name, n)
            target = str(self.fetched_dir / target_name)
            if await sftp.exists(target):
                continue
            await sftp.rename(source, target)
            return
        raise TransportError(f"{self.label}: mark {name} fetched: no free name")  # pragma: no cover


def _rewind(out: BinaryIO) -> None:
    out.seek(0)
    out.truncate()


def _plain_name(name: str) -> bool:
    try:
        check_name(name)
    except ValueError:
        return False
    return True


async def _fsync_if_supported(remote: asyncssh.SFTPClientFile) -> None:
    try:
        await remote.fsync()
    except asyncssh.SFTPOpUnsupported:
        return  # servers without fsync@openssh.com: the close still flushes to the server


async def _remote_equals(sftp: asyncssh.SFTPClient, path: str, data: bytes) -> bool:
    try:
        if (await sftp.stat(path)).size != len(data):
            return False
        async with sftp.open(path, "rb") as remote:
            existing: bytes = await remote.read()
        return existing == data
    except asyncssh.SFTPError:
        return False


async def _remove_quietly(sftp: asyncssh.SFTPClient, path: str) -> None:
    try:
        await asyncio.wait_for(sftp.remove(path), 10)
    except (asyncssh.Error, OSError, TimeoutError):
        return


async def pull_responses(
    transport: Transport,
    inbox: Path,
    *,
    quarantine: Path | None = None,
    on_refused: OnRefused | None = None,
) -> list[Path]:
    """Copy every waiting response into ``inbox``, then mark it fetched; returns the new files.

    Each response is streamed into a temp file in ``inbox`` (``Transport.fetch_to``: bounded
    memory whatever its size), fsynced, and given its name without ever replacing another file.
    It is marked fetched only once it is safely on disk, so a crash in between fetches it again
    next time, and the ledger recognises the copy by its content hash. A response that cannot be
    fetched for a reason retrying will not cure (too large, unreadable) is moved to
    ``quarantine`` with its ``.error.json`` where the transport can (``Transport.set_aside``),
    else left where it is; either way it is logged and passed to ``on_refused`` once, not at
    every pull. A network failure stops the pull and is raised (the caller tries again later).
    """
    stored: list[Path] = []
    for name in await transport.list_responses():
        try:
            path = await _store_response(transport, inbox, name)
        except TransportError as exc:
            if exc.retryable:
                raise
            await _refuse_response(transport, name, exc, quarantine, on_refused)
            continue
        crash_point("after-response-stored")
        await transport.mark_fetched(name)
        _log.info("response fetched", transport=transport.label, file=name, stored_as=path.name)
        stored.append(path)
    return stored


async def _store_response(transport: Transport, inbox: Path, name: str) -> Path:
    """Stream the response ``name`` into ``inbox`` as ``name`` (``name-2``... if taken).

    The bytes go to an owner-only temp file of the form ``atomic_write`` uses (a dotfile ending
    ``.tmp``: watchers ignore it and ``tidy_folder`` removes one a crash left), which is fsynced
    and then renamed without replacing anything (``rename_no_replace``); the folder is fsynced.
    Whatever fails on the way (a refusal at the size limit, a dropped line), the temp file goes.
    """
    prefix = "." + fit_name(name, reserve=len("..") + 8 + len(".tmp")) + "."
    fd, temp_name = await asyncio.to_thread(
        tempfile.mkstemp, dir=inbox, prefix=prefix, suffix=".tmp"
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            await transport.fetch_to(name, out)
            await asyncio.to_thread(_flush_and_sync, out)
        return await asyncio.to_thread(_name_new_file, temp, inbox, name)
    except BaseException:
        await asyncio.to_thread(temp.unlink, missing_ok=True)
        raise


def _flush_and_sync(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())


def _name_new_file(temp: Path, folder: Path, name: str) -> Path:
    """Rename ``temp`` to ``folder/name``, or ``name-2``, ``name-3``... if taken; never replaces."""
    for n in range(1, 100_000):
        target = folder / (name if n == 1 else numbered_name(name, n))
        try:
            rename_no_replace(temp, target)
        except FileExistsError:
            continue
        fsync_directory(folder)
        return target
    raise FileExistsError(f"no free name for {name} in {folder}")  # pragma: no cover


#: Responses already reported as refused (transport label, name): each is logged once.
_REFUSED: set[tuple[str, str]] = set()


async def _refuse_response(
    transport: Transport,
    name: str,
    exc: TransportError,
    quarantine: Path | None,
    on_refused: OnRefused | None,
) -> None:
    code = exc.code if isinstance(exc, ResponseRefusedError) else "unreadable"
    problem = FileProblem(
        code,
        str(exc),
        "Ask the clearinghouse to split the file, or raise [intake] max_file_bytes, then drop "
        "the response into the responses inbox."
        if code == "too-large"
        else "Check the file in the clearinghouse's folder; once it can be read, drop it into "
        "the responses inbox.",
    )
    where: Path | None = None
    if quarantine is not None:
        try:
            where = await transport.set_aside(name, quarantine, problem)
        except (OSError, ValueError) as error:
            _log.error(
                "response could not be quarantined", transport=transport.label, file=name,
                error=str(error),
            )  # fmt: skip
    key = (transport.label, name)
    if where is None and key in _REFUSED:
        return
    if where is None:
        _REFUSED.add(key)
    else:
        _REFUSED.discard(key)
    _log.error(
        "response refused" + ("; quarantined" if where is not None else "; left where it is"),
        transport=transport.label,
        file=name,
        problem=code,
        error=str(exc),
        quarantined_as=where.name if where is not None else None,
    )
    if on_refused is not None:
        await on_refused(name, problem, where)


async def poll_responses(
    transport: Transport,
    inbox: Path,
    *,
    interval: float,
    stop: asyncio.Event,
    quarantine: Path | None = None,
    on_refused: OnRefused | None = None,
) -> None:
    """Pull responses into ``inbox`` every ``interval`` seconds until ``stop`` is set.

    Transport failures are logged and tried again at the next interval; the inbox watcher takes
    the stored files from there. Cancelling the task also ends it.
    """
    while not stop.is_set():
        try:
            await pull_responses(transport, inbox, quarantine=quarantine, on_refused=on_refused)
        except TransportError as exc:
            _log.warning("response pull failed", transport=transport.label, error=str(exc))
        except OSError as exc:  # the inbox itself (a full disk): keep the service alive, say so
            _log.error("response pull failed", transport=transport.label, error=str(exc))
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            continue


# --- from configuration ---------------------------------------------------------------------------

_DIRECTORY_KEYS = frozenset(
    {"kind", "pickup", "outbox", "drop", "fetched", "after_fetch", "settle_seconds"}
)
_SFTP_KEYS = frozenset(
    {
        "kind",
        "host",
        "port",
        "username",
        "private_key",
        "private_keys",
        "passphrase_env",
        "known_hosts",
        "outbound_dir",
        "inbound_dir",
        "fetched_dir",
        "attempts",
        "initial_delay",
        "max_delay",
        "connect_timeout",
        "operation_timeout",
    }
)


def transport_from_config(
    table: Mapping[str, Any],
    *,
    workspace: WorkspaceSettings,
    base_dir: Path,
    source: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    environ: Mapping[str, str] | None = None,
) -> Transport:
    """The transport a partner's ``[transport]`` table describes (``ConfigError`` if it is wrong).

    ``kind = "directory"`` (the default): ``pickup`` (alias ``outbox``; default the workspace
    outbox), ``drop`` (where responses appear; none: they arrive in the responses inbox),
    ``fetched``, ``after_fetch`` (``move``/``delete``), ``settle_seconds``. Folders are relative to
    the workspace root.

    ``kind = "sftp"``: ``host``, ``port`` (22), ``username``, ``private_key`` (or a list in
    ``private_keys``), ``known_hosts``, ``passphrase_env`` (the name of an environment variable
    holding the key's passphrase, never the passphrase itself), ``outbound_dir``, ``inbound_dir``,
    ``fetched_dir``, and the retry and timeout numbers ``attempts``, ``initial_delay``,
    ``max_delay``, ``connect_timeout``, ``operation_timeout``. Key and known_hosts paths are
    relative to ``base_dir`` (the partner file's folder). Passwords are not supported.
    """
    env = os.environ if environ is None else environ
    reader = _TableReader(table, source)
    kind = reader.text("kind", default="directory").lower()
    if kind == "directory":
        reader.only(_DIRECTORY_KEYS)
        pickup = reader.text("pickup", default="") or reader.text("outbox", default="")
        drop = reader.text("drop", default="")
        fetched = reader.text("fetched", default="")
        after_fetch = reader.text("after_fetch", default="move").lower()
        if after_fetch not in ("move", "delete"):
            raise ConfigError(
                source, "[transport] after_fetch", "expected move or delete", after_fetch
            )

        def folder(value: str) -> Path:
            path = Path(value).expanduser()
            return path if path.is_absolute() else workspace.root / path

        return DirectoryTransport(
            folder(pickup) if pickup else workspace.outbox,
            folder(drop) if drop else None,
            fetched_dir=folder(fetched) if fetched else None,
            after_fetch="delete" if after_fetch == "delete" else "move",
            settle_seconds=reader.number("settle_seconds", default=0.0, minimum=0.0),
            max_bytes=max_bytes,
        )
    if kind == "sftp":
        if "password" in table:
            raise ConfigError(
                source, "[transport] password", "passwords are not supported; use private_key"
            )
        reader.only(_SFTP_KEYS)
        host = reader.text("host", required=True)
        username = reader.text("username", required=True)
        keys = reader.paths("private_keys", base_dir) or [
            _under(base_dir, reader.text("private_key", required=True))
        ]
        passphrase: str | None = None
        variable = reader.text("passphrase_env", default="")
        if variable:
            passphrase = env.get(variable)
            if passphrase is None:
                raise ConfigError(
                    source,
                    "[transport] passphrase_env",
                    f"the environment variable {variable} is not set",
                )
        return SftpTransport(
            host=host,
            port=int(reader.number("port", default=22, minimum=1, whole=True)),
            username=username,
            client_keys=keys,
            known_hosts=_under(base_dir, reader.text("known_hosts", required=True)),
            outbound_dir=reader.text("outbound_dir", required=True),
            inbound_dir=reader.text("inbound_dir", required=True),
            fetched_dir=reader.text("fetched_dir", default="") or None,
            passphrase=passphrase,
            retry=RetryPolicy(
                attempts=int(reader.number("attempts", default=5, minimum=1, whole=True)),
                initial_delay=reader.number("initial_delay", default=1.0, minimum=0.0),
                max_delay=reader.number("max_delay", default=60.0, minimum=0.0),
            ),
            connect_timeout=reader.number("connect_timeout", default=30.0, minimum=0.001),
            operation_timeout=reader.number("operation_timeout", default=300.0, minimum=0.001),
            max_bytes=max_bytes,
        )
    raise ConfigError(source, "[transport] kind", "expected directory or sftp", kind)


def _under(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


class _TableReader:
    """Typed reads from a ``[transport]`` table, with located errors."""

    def __init__(self, table: Mapping[str, Any], source: str) -> None:
        self.table = table
        self.source = source

    def only(self, allowed: frozenset[str]) -> None:
        for key in self.table:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise ConfigError(
                    self.source, f"[transport] {key}", f"unknown key; expected one of {known}"
                )

    def text(self, key: str, *, default: str = "", required: bool = False) -> str:
        value = self.table.get(key)
        if value is None:
            if required:
                raise ConfigError(self.source, f"[transport] {key}", "is required (a string)")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise ConfigError(self.source, f"[transport] {key}", "expected a string", value)
        return value.strip()

    def paths(self, key: str, base: Path) -> list[Path]:
        value = self.table.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(self.source, f"[transport] {key}", "expected a list of paths", value)
        return [_under(base, v) for v in value]

    def number(self, key: str, *, default: float, minimum: float, whole: bool = False) -> float:
        value = self.table.get(key, default)
        what = "a whole number" if whole else "a number"
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (whole and not isinstance(value, int))
            or value < minimum
        ):
            raise ConfigError(
                self.source, f"[transport] {key}", f"expected {what} of at least {minimum:g}", value
            )
        return float(value)
