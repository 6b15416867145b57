"""An SFTP server on 127.0.0.1 for tests (asyncssh), with faults a test can switch on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh
import pytest

from gateway.service.transports import RetryPolicy, SftpTransport

FAST_RETRY = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.05)


@dataclass
class Faults:
    """What the test server does wrong, set by each test."""

    #: Abort the whole SSH connection on this many writes (then behave).
    drop_on_write: int = 0
    #: Answer every write with an SFTP failure (a full disk, say).
    fail_writes: bool = False
    writes_seen: int = 0
    #: Abort the whole SSH connection at this read (1-based; 0: never), once.
    drop_at_read: int = 0
    reads_seen: int = 0


class FaultySftpServer(asyncssh.SFTPServer):
    """An SFTP server rooted in a folder that can drop the connection or fail writes on demand."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes], root: Path, faults: Faults) -> None:
        super().__init__(chan, chroot=str(root).encode())
        self.faults = faults

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        self.faults.writes_seen += 1
        if self.faults.drop_on_write > 0:
            self.faults.drop_on_write -= 1
            self.connection.abort()
            raise asyncssh.SFTPConnectionLost("dropped by the test server")
        if self.faults.fail_writes:
            raise asyncssh.SFTPFailure("no space left on the test server")
        written: int = super().write(file_obj, offset, data)  # type: ignore[assignment]
        return written

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        self.faults.reads_seen += 1
        if self.faults.reads_seen == self.faults.drop_at_read:
            self.connection.abort()
            raise asyncssh.SFTPConnectionLost("dropped by the test server")
        data: bytes = super().read(file_obj, offset, size)  # type: ignore[assignment]
        return data


@dataclass
class Server:
    """A running test server and the client-side files needed to reach it."""

    port: int
    root: Path
    known_hosts: Path
    client_key: Path
    faults: Faults = field(default_factory=Faults)

    def transport(self, **overrides: object) -> SftpTransport:
        """A transport to this server (outbound/, inbound/, fetched/) with fast retries."""
        options: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.port,
            "username": "gateway",
            "client_keys": [self.client_key],
            "known_hosts": self.known_hosts,
            "outbound_dir": "/outbound",
            "inbound_dir": "/inbound",
            "fetched_dir": "/inbound/fetched",
            "retry": FAST_RETRY,
            "connect_timeout": 5.0,
            "operation_timeout": 10.0,
        }
        options.update(overrides)
        return SftpTransport(**options)  # type: ignore[arg-type]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """An asyncssh SFTP server on 127.0.0.1 with generated host and client keys."""
    root = tmp_path / "sftp-root"
    for folder in ("outbound", "inbound", "inbound/fetched"):
        (root / folder).mkdir(parents=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key_path = tmp_path / "id_ed25519"
    client_key.write_private_key(client_key_path)
    authorized = tmp_path / "authorized_keys"
    client_key.write_public_key(authorized)
    faults = Faults()
    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        authorized_client_keys=str(authorized),
        sftp_factory=lambda chan: FaultySftpServer(chan, root, faults),
        allow_scp=False,
        config=None,
    )
    port = acceptor.sockets[0].getsockname()[1]
    known_hosts = tmp_path / "known_hosts"
    public = host_key.export_public_key().decode().strip()
    known_hosts.write_text(f"[127.0.0.1]:{port} {public}\n")
    yield Server(port, root, known_hosts, client_key_path, faults)
    acceptor.close()
    await acceptor.wait_closed()
