"""The SFTP transport (asyncssh): key authentication only, the host key pinned, retries.

Every ``TransportError`` it raises says which operation and file failed and its ``kind``: a server
missing from known_hosts (with the ``ssh-keyscan`` line and the fingerprint to check), a key other
than the pinned one (with the known_hosts line), our key refused, a network problem...
"""

from __future__ import annotations

import asyncio
import io
import socket
import stat
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NoReturn, TypeVar

import structlog
from cryptography.utils import CryptographyDeprecationWarning

from gateway.service.files import CHUNK_SIZE, numbered_name
from gateway.service.transports.base import (
    DEFAULT_MAX_BYTES,
    ErrorKind,
    ResponseRefusedError,
    Transport,
    TransportError,
    check_name,
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

__all__ = ["RetryPolicy", "SftpTransport"]

_T = TypeVar("_T")
_log = structlog.stdlib.get_logger("gateway.transport")


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
