"""A transport from a trading partner's ``[transport]`` table (``transport_from_config``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.config import ConfigError, WorkspaceSettings
from gateway.service.transports.base import DEFAULT_MAX_BYTES, Transport
from gateway.service.transports.directory import DirectoryTransport
from gateway.service.transports.sftp import RetryPolicy, SftpTransport

__all__ = ["transport_from_config"]

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
