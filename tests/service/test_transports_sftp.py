"""Tests for SftpTransport against a real asyncssh SFTP server on 127.0.0.1 (ephemeral port)."""

from __future__ import annotations

from pathlib import Path

import asyncssh
import pytest

from gateway.service.files import CHUNK_SIZE, FileProblem
from gateway.service.transports import SftpTransport, TransportError, pull_responses
from tests.support.sftp import FAST_RETRY, Server


class SleepRecorder:
    """An injected sleep that records the back-off delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def test_round_trip_upload_list_fetch_and_mark_fetched(server: Server) -> None:
    """An upload lands complete under its name; responses are listed, fetched and moved aside."""
    inbound = server.root / "inbound"
    (inbound / "999-000000001.x12").write_bytes(b"ISA*999~")
    (inbound / "277-000000002.x12").write_bytes(b"ISA*277~")
    (inbound / ".writing.x12").write_bytes(b"")
    (inbound / "835.x12.part").write_bytes(b"")
    async with server.transport() as transport:
        await transport.put("batch-000000905.837", b"ISA*837~" * 1000)
        await transport.put("batch-000000905.837", b"ISA*837~" * 1000)  # a resend: no-op
        names = await transport.list_responses()
        data = await transport.fetch("999-000000001.x12")
        await transport.mark_fetched("999-000000001.x12")
        await transport.mark_fetched("999-000000001.x12")  # a retried mark: no-op
        after = await transport.list_responses()
    assert sorted(p.name for p in (server.root / "outbound").iterdir()) == ["batch-000000905.837"]
    assert (server.root / "outbound" / "batch-000000905.837").read_bytes() == b"ISA*837~" * 1000
    assert names == ["277-000000002.x12", "999-000000001.x12"]
    assert (data, after) == (b"ISA*999~", ["277-000000002.x12"])
    assert (inbound / "fetched" / "999-000000001.x12").is_file()


async def test_a_different_file_under_a_taken_name_is_refused(server: Server) -> None:
    """The SFTP rename never replaces: a different file of the same name is a failure."""
    (server.root / "outbound" / "batch-1.837").write_bytes(b"first")
    async with server.transport() as transport:
        with pytest.raises(TransportError, match="cannot rename into place"):
            await transport.put("batch-1.837", b"second")
    assert [p.read_bytes() for p in (server.root / "outbound").iterdir()] == [b"first"]


async def test_fetched_responses_are_deleted_without_a_fetched_folder(server: Server) -> None:
    """With no fetched_dir, mark_fetched removes the remote response."""
    (server.root / "inbound" / "r.x12").write_bytes(b"r")
    async with server.transport(fetched_dir=None) as transport:
        await transport.mark_fetched("r.x12")
        assert await transport.list_responses() == []
    assert not (server.root / "inbound" / "r.x12").exists()


def _fingerprint(known_hosts: Path) -> str:
    """The SHA-256 fingerprint of the (first) key in a known_hosts file."""
    line = known_hosts.read_text().split()[1:3]
    return str(asyncssh.import_public_key(" ".join(line)).get_fingerprint("sha256"))


async def test_a_host_key_mismatch_is_refused_without_retrying(
    server: Server, tmp_path: Path
) -> None:
    """A server whose key differs from the pinned one gets nothing, no retry is attempted, and
    the error names the presented key, the pinned line, and the risk."""
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    pinned = tmp_path / "pinned_known_hosts"
    pinned.write_text(
        "# the clearinghouse's server, checked by phone\n"
        f"[127.0.0.1]:{server.port} {impostor.strip()}\n"
    )
    sleep = SleepRecorder()
    transport = server.transport(known_hosts=pinned, sleep=sleep)
    with pytest.raises(TransportError) as caught:
        await transport.put("batch-1.837", b"ISA~")
    await transport.close()
    message = str(caught.value)
    assert (
        caught.value.retryable,
        caught.value.kind,
        sleep.delays,
        list((server.root / "outbound").iterdir()),
    ) == (False, "host-key-mismatch", [], [])
    assert f"presented ({_fingerprint(server.known_hosts)}) does not match" in message
    assert f"pinned in {pinned} line 2: possible man-in-the-middle" in message


async def test_a_pinned_key_of_another_type_is_a_mismatch_not_a_key_exchange_error(
    server: Server, tmp_path: Path
) -> None:
    """A pinned ECDSA key for a server that presents an Ed25519 key fails the key exchange; it
    is reported as a key other than the pinned one (it said "KeyExchangeFailed")."""
    other_type = asyncssh.generate_private_key("ecdsa-sha2-nistp256").export_public_key()
    pinned = tmp_path / "ecdsa_known_hosts"
    pinned.write_text(f"[127.0.0.1]:{server.port} {other_type.decode().strip()}\n")
    sleep = SleepRecorder()
    transport = server.transport(known_hosts=pinned, sleep=sleep)
    with pytest.raises(TransportError) as caught:
        await transport.list_responses()
    await transport.close()
    assert (caught.value.kind, caught.value.retryable, sleep.delays) == (
        "host-key-mismatch",
        False,
        [],
    )
    assert (
        f"presented ({_fingerprint(server.known_hosts)}) does not match the one pinned in "
        f"{pinned} line 1"
    ) in str(caught.value)


async def test_a_host_missing_from_known_hosts_is_not_called_a_mismatch(
    server: Server, tmp_path: Path
) -> None:
    """A server known_hosts does not list at all is reported as such, with the ssh-keyscan line
    to add it and the fingerprint to check with the clearinghouse (it once said "does not
    match")."""
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    known = tmp_path / "other_known_hosts"
    known.write_text(f"sftp.example.org {other.strip()}\n")
    sleep = SleepRecorder()
    transport = server.transport(known_hosts=known, sleep=sleep)
    with pytest.raises(TransportError) as caught:
        await transport.list_responses()
    await transport.close()
    message = str(caught.value)
    assert (caught.value.retryable, caught.value.kind, sleep.delays) == (
        False,
        "host-key-unknown",
        [],
    )
    assert "does not match" not in message
    assert (
        f"the SFTP server 127.0.0.1:{server.port} is not in known_hosts {known}: add its key "
        f"(ssh-keyscan -p {server.port} 127.0.0.1 >> {known}) after checking the fingerprint "
        f"{_fingerprint(server.known_hosts)} with the clearinghouse"
    ) in message


async def test_a_key_the_server_does_not_know_is_refused(server: Server, tmp_path: Path) -> None:
    """A client key not in authorized_keys fails at once (no password fallback, no retry)."""
    stranger = tmp_path / "stranger"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(stranger)
    sleep = SleepRecorder()
    transport = server.transport(client_keys=[stranger], sleep=sleep)
    with pytest.raises(TransportError, match="refused our key for user gateway") as caught:
        await transport.list_responses()
    assert (caught.value.kind, caught.value.retryable, sleep.delays) == ("auth", False, [])


async def test_a_missing_known_hosts_file_is_a_clear_error(server: Server, tmp_path: Path) -> None:
    """Without a known_hosts file nothing connects (no trust on first use)."""
    transport = server.transport(known_hosts=tmp_path / "nope")
    with pytest.raises(TransportError, match=r"known_hosts file .* is missing") as caught:
        await transport.put("a.837", b"a")
    assert (caught.value.kind, caught.value.retryable) == ("host-key-unknown", False)


async def test_a_failure_during_upload_is_reported_and_leaves_nothing(server: Server) -> None:
    """A write the server rejects raises TransportError; no file, complete or partial, remains."""
    server.faults.fail_writes = True
    async with server.transport() as transport:
        with pytest.raises(TransportError, match=r"put batch-1\.837: SFTPFailure"):
            await transport.put("batch-1.837", b"ISA~" * 100)
    assert list((server.root / "outbound").iterdir()) == []


async def test_a_dropped_connection_is_retried_and_the_file_delivered_once(
    server: Server,
) -> None:
    """The connection dies mid-upload; the transport reconnects, retries and delivers it whole."""
    server.faults.drop_on_write = 1
    sleep = SleepRecorder()
    async with server.transport(sleep=sleep) as transport:
        await transport.put("batch-1.837", b"ISA*complete~")
        await transport.put("batch-2.837", b"ISA*second~")  # the new connection keeps working
    outbound = server.root / "outbound"
    assert sleep.delays == [0.01]
    assert {p.name: p.read_bytes() for p in outbound.iterdir()} == {
        "batch-1.837": b"ISA*complete~",
        "batch-2.837": b"ISA*second~",
    }


async def test_retries_are_bounded_and_the_failure_is_reported(server: Server) -> None:
    """A connection that keeps dropping fails after the policy's attempts, marked retryable."""
    server.faults.drop_on_write = 100
    sleep = SleepRecorder()
    transport = server.transport(sleep=sleep)
    with pytest.raises(TransportError, match="gave up after 3 attempts") as caught:
        await transport.put("batch-1.837", b"ISA~")
    await transport.close()
    assert (
        caught.value.retryable,
        sleep.delays,
        server.faults.writes_seen,
    ) == (True, [0.01, 0.02], 3)
    assert [p for p in (server.root / "outbound").iterdir() if not p.name.startswith(".")] == []


async def test_a_server_that_is_down_is_retried_then_reported(tmp_path: Path) -> None:
    """Connection refused on 127.0.0.1 is a network error: retried with back-off, then failed."""
    key = tmp_path / "id"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(key)
    (tmp_path / "known_hosts").write_text("")
    sleep = SleepRecorder()
    transport = SftpTransport(
        host="127.0.0.1",
        port=1,  # nothing listens on port 1
        username="gateway",
        client_keys=[key],
        known_hosts=tmp_path / "known_hosts",
        outbound_dir="/outbound",
        inbound_dir="/inbound",
        retry=FAST_RETRY,
        sleep=sleep,
    )
    with pytest.raises(TransportError, match=r"connection refused.*gave up after 3") as caught:
        await transport.list_responses()
    assert (caught.value.kind, caught.value.retryable, sleep.delays) == (
        "network",
        True,
        [0.01, 0.02],
    )


async def test_a_missing_remote_folder_fails_at_once(server: Server) -> None:
    """An outbound folder the server does not have is an error a person must fix: no retry."""
    sleep = SleepRecorder()
    async with server.transport(outbound_dir="/no-such-folder", sleep=sleep) as transport:
        with pytest.raises(TransportError, match="SFTPNoSuchFile") as caught:
            await transport.put("batch-1.837", b"ISA~")
    assert (caught.value.retryable, sleep.delays) == (False, [])


async def test_an_oversized_remote_response_is_refused(server: Server) -> None:
    """A response larger than max_bytes is not downloaded."""
    (server.root / "inbound" / "huge.x12").write_bytes(b"x" * 2048)
    async with server.transport(max_bytes=1024) as transport:
        with pytest.raises(TransportError, match="more than the limit of 1024 bytes"):
            await transport.fetch("huge.x12")


async def test_an_encrypted_key_without_its_passphrase_is_a_clear_error(
    server: Server, tmp_path: Path
) -> None:
    """A passphrase-protected key read without the passphrase fails before connecting."""
    locked = tmp_path / "locked"
    asyncssh.read_private_key(server.client_key).write_private_key(locked, passphrase="pw")
    transport = server.transport(client_keys=[locked])
    with pytest.raises(TransportError, match="cannot load the private key"):
        await transport.list_responses()
    async with server.transport(client_keys=[locked], passphrase="pw") as unlocked:
        assert await unlocked.list_responses() == []


async def test_a_large_remote_response_is_pulled_streamed_and_whole(
    server: Server, tmp_path: Path
) -> None:
    """A 3.5 MiB response is downloaded chunk by chunk into the inbox, then moved to fetched/."""
    data = (b"ISA*835*streamed~" * (CHUNK_SIZE // 4))[: 3 * CHUNK_SIZE + CHUNK_SIZE // 2]
    (server.root / "inbound" / "835.x12").write_bytes(data)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    async with server.transport() as transport:
        stored = await pull_responses(transport, inbox)
    assert [(p.name, p.read_bytes() == data) for p in stored] == [("835.x12", True)]
    assert sorted(p.name for p in inbox.iterdir()) == ["835.x12"]
    assert (server.root / "inbound" / "fetched" / "835.x12").is_file()
    assert server.faults.reads_seen > 4  # many reads, not one whole-file request


async def test_a_connection_dropped_mid_download_is_retried_and_stored_once(
    server: Server, tmp_path: Path
) -> None:
    """A download cut after its first chunks starts over: the stored copy is whole, not doubled."""
    data = (b"ISA*835*retried~" * (CHUNK_SIZE // 4))[: 2 * CHUNK_SIZE + 3]
    (server.root / "inbound" / "835.x12").write_bytes(data)
    server.faults.drop_at_read = 5
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sleep = SleepRecorder()
    async with server.transport(sleep=sleep) as transport:
        stored = await pull_responses(transport, inbox)
    assert [(p.name, p.read_bytes() == data) for p in stored] == [("835.x12", True)]
    assert len(sleep.delays) == 1


async def test_an_oversized_remote_response_is_refused_as_too_large_by_a_pull(
    server: Server, tmp_path: Path
) -> None:
    """Over the limit: refused with the too-large code, left on the server, nothing in the inbox."""
    (server.root / "inbound" / "big.x12").write_bytes(b"x" * (CHUNK_SIZE + 1))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    refused: list[tuple[str, str]] = []

    async def on_refused(name: str, problem: FileProblem, where: Path | None) -> None:
        refused.append((name, problem.code))

    async with server.transport(max_bytes=CHUNK_SIZE) as transport:
        stored = await pull_responses(
            transport, inbox, quarantine=tmp_path / "quarantine", on_refused=on_refused
        )
    assert (stored, list(inbox.iterdir()), refused) == ([], [], [("big.x12", "too-large")])
    assert (server.root / "inbound" / "big.x12").is_file()
