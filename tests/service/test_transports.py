"""Tests for the directory and in-memory transports, their shared contract, and the factory."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from gateway.config import ConfigError, WorkspaceSettings, load_settings
from gateway.service.transports import (
    DirectoryTransport,
    InMemoryTransport,
    RetryPolicy,
    SftpTransport,
    Transport,
    TransportError,
    check_name,
    poll_responses,
    pull_responses,
    transport_from_config,
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


def _workspace(tmp_path: Path) -> WorkspaceSettings:
    """A workspace rooted in tmp_path (not created on disk)."""
    return load_settings(None, environ={"GATEWAY_WORKSPACE": str(tmp_path)}).workspace


def test_the_default_transport_is_the_workspace_outbox(tmp_path: Path) -> None:
    """An empty [transport] table is a directory transport into the outbox, nothing to pull."""
    transport = transport_from_config(
        {}, workspace=_workspace(tmp_path), base_dir=tmp_path, source="p.toml"
    )
    assert isinstance(transport, DirectoryTransport)
    assert (tmp_path / "outbox", None) == (transport.pickup_dir, transport.drop_dir)


def test_a_directory_table_names_its_folders_relative_to_the_workspace(tmp_path: Path) -> None:
    """pickup/drop/fetched are read relative to the workspace root; absolute ones are kept."""
    table = {"kind": "directory", "outbox": "ch/in", "drop": "/srv/ch/out", "after_fetch": "delete"}
    transport = transport_from_config(
        table, workspace=_workspace(tmp_path), base_dir=tmp_path, source="p.toml"
    )
    assert isinstance(transport, DirectoryTransport)
    assert (tmp_path / "ch" / "in", Path("/srv/ch/out"), "delete") == (
        transport.pickup_dir,
        transport.drop_dir,
        transport.after_fetch,
    )


def test_an_sftp_table_builds_a_pinned_key_only_transport(tmp_path: Path) -> None:
    """Keys and known_hosts follow the partner file's folder; the passphrase comes from the env."""
    table = {
        "kind": "sftp",
        "host": "127.0.0.1",
        "port": 2222,
        "username": "gw",
        "private_key": "keys/id_ed25519",
        "known_hosts": "keys/known_hosts",
        "passphrase_env": "CH_KEY_PASSPHRASE",
        "outbound_dir": "/in",
        "inbound_dir": "/out",
        "attempts": 3,
        "initial_delay": 0.5,
    }
    transport = transport_from_config(
        table,
        workspace=_workspace(tmp_path),
        base_dir=tmp_path / "partners",
        source="p.toml",
        environ={"CH_KEY_PASSPHRASE": "s3cret"},
    )
    assert isinstance(transport, SftpTransport)
    expected = (
        (tmp_path / "partners" / "keys" / "id_ed25519",),
        tmp_path / "partners" / "keys" / "known_hosts",
        "s3cret",
        RetryPolicy(attempts=3, initial_delay=0.5, max_delay=60.0),
        "sftp gw@127.0.0.1:2222",
    )
    actual = (
        transport.client_keys,
        transport.known_hosts,
        transport.passphrase,
        transport.retry,
        transport.label,
    )
    assert expected == actual


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kind": "ftp"}, r"\[transport\] kind: expected directory or sftp"),
        ({"kind": "directory", "pikcup": "x"}, r"\[transport\] pikcup: unknown key"),
        ({"after_fetch": "keep"}, r"\[transport\] after_fetch: expected move or delete"),
        ({"settle_seconds": -1}, r"\[transport\] settle_seconds: expected a number"),
        ({"kind": "sftp", "password": "hunter2"}, r"password: passwords are not supported"),
        ({"kind": "sftp", "host": "h"}, r"\[transport\] username: is required"),
        (
            {
                "kind": "sftp",
                "host": "h",
                "username": "u",
                "private_key": "k",
                "known_hosts": "kh",
                "outbound_dir": "/i",
                "inbound_dir": "/o",
                "port": "22",
            },
            r"\[transport\] port: expected a whole number",
        ),
        (
            {
                "kind": "sftp",
                "host": "h",
                "username": "u",
                "private_key": "k",
                "known_hosts": "kh",
                "outbound_dir": "/i",
                "inbound_dir": "/o",
                "passphrase_env": "NOT_SET_HERE",
            },
            r"NOT_SET_HERE is not set",
        ),
    ],
)
def test_transport_table_mistakes_are_located_config_errors(
    tmp_path: Path, table: dict[str, object], message: str
) -> None:
    """Each mistake names the partner file and the [transport] key, and says what is expected."""
    with pytest.raises(ConfigError, match=message) as caught:
        transport_from_config(
            table,
            workspace=_workspace(tmp_path),
            base_dir=tmp_path,
            source="partners/p.toml",
            environ={},
        )
    assert str(caught.value).startswith("partners/p.toml: ")


async def test_without_a_drop_folder_there_is_nothing_to_pull(tmp_path: Path) -> None:
    """drop_dir=None lists no responses, and fetching one is a TransportError."""
    transport = DirectoryTransport(tmp_path, None)
    assert await transport.list_responses() == []
    with pytest.raises(TransportError, match="no drop folder is configured"):
        await transport.fetch("r.x12")


async def test_pull_responses_stores_each_then_marks_it_fetched(tmp_path: Path) -> None:
    """Responses land in the inbox whole (numbered if a name is taken), then leave the transport."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "999.x12").write_bytes(b"already here")
    transport = InMemoryTransport(responses={"999.x12": b"new 999", "835.x12": b"835"})
    stored = await pull_responses(transport, inbox)
    assert [(p.name, p.read_bytes()) for p in stored] == [
        ("835.x12", b"835"),
        ("999-2.x12", b"new 999"),
    ]
    assert (transport.fetched, transport.responses) == (["835.x12", "999.x12"], {})


async def test_pull_responses_skips_a_bad_response_and_stops_on_network_errors(
    tmp_path: Path, folders: tuple[Path, Path]
) -> None:
    """An oversized response stays put while the others are pulled; a network error is raised."""
    pickup, drop = folders
    (drop / "a.x12").write_bytes(b"x" * 50)
    (drop / "b.x12").write_bytes(b"ok")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stored = await pull_responses(DirectoryTransport(pickup, drop, max_bytes=10), inbox)
    assert ([p.name for p in stored], (drop / "a.x12").is_file()) == (["b.x12"], True)

    class Flaky(InMemoryTransport):
        async def fetch(self, name: str) -> bytes:
            raise TransportError("connection lost", retryable=True)

    with pytest.raises(TransportError, match="connection lost"):
        await pull_responses(Flaky(responses={"c.x12": b"c"}), inbox)


async def test_poll_responses_keeps_pulling_through_failures_until_stopped(tmp_path: Path) -> None:
    """The poll loop survives a failing pull, stores later responses, and ends on stop."""
    failures = [TransportError("network down", retryable=True)]

    class FailingOnce(InMemoryTransport):
        async def list_responses(self) -> list[str]:
            if failures:
                raise failures.pop()
            return await super().list_responses()

    transport = FailingOnce(responses={"999.x12": b"999"})
    stop = asyncio.Event()
    task = asyncio.create_task(poll_responses(transport, tmp_path, interval=0.01, stop=stop))
    for _ in range(200):
        if (tmp_path / "999.x12").exists():
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert (
        failures,
        (tmp_path / "999.x12").read_bytes(),
        transport.fetched,
    ) == ([], b"999", ["999.x12"])
