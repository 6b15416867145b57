"""Tests for gateway.config: the TOML settings, their defaults, overrides and error messages."""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import (
    DEFAULT_CONFIG_TEXT,
    ENVIRONMENT_OVERRIDES,
    ConfigError,
    load_settings,
)

ROOT = Path(__file__).resolve().parent.parent


def write_config(folder: Path, text: str) -> Path:
    """Write ``text`` as ``folder/gateway.toml`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_embedded_defaults_are_rooted_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a file, the workspace is the current folder and the ledger is SQLite in state/."""
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, environ={})
    ws = settings.workspace
    expected = {
        "root": tmp_path,
        "encounters_inbox": tmp_path / "inbox" / "encounters",
        "responses_inbox": tmp_path / "inbox" / "responses",
        "outbox": tmp_path / "outbox",
        "archive": tmp_path / "archive",
        "quarantine": tmp_path / "quarantine",
        "corrections": tmp_path / "corrections",
        "state": tmp_path / "state",
        "processing": tmp_path / "state" / "processing",
    }
    assert expected == dataclasses.asdict(ws)
    assert f"sqlite+aiosqlite:///{tmp_path}/state/gateway.db" == settings.ledger_url
    assert settings.config_file is None
    assert tmp_path / "partners" == settings.partners_dir
    assert (settings.batching.max_claims, settings.batching.max_wait_seconds) == (100, 30.0)
    assert (settings.logging.format, settings.logging.level) == ("auto", "info")
    assert (settings.intake.watcher, settings.intake.settle_seconds) == ("events", 2.0)


def test_shipped_config_matches_the_embedded_defaults_except_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """config/gateway.toml loads cleanly and only its workspace root differs from the defaults."""
    shipped = load_settings(ROOT / "config" / "gateway.toml", environ={})
    monkeypatch.chdir(ROOT)
    embedded = load_settings(None, environ={})
    assert shipped.workspace.root == ROOT
    assert shipped.partners_dir == ROOT / "config" / "partners"
    assert embedded.batching == shipped.batching
    assert embedded.intake == shipped.intake
    assert embedded.logging == shipped.logging
    assert embedded.workspace == shipped.workspace
    assert embedded.ledger_url == shipped.ledger_url


def test_shipped_config_names_every_key_and_every_override() -> None:
    """Every embedded key and environment variable is documented in config/gateway.toml."""
    text = (ROOT / "config" / "gateway.toml").read_text(encoding="utf-8")
    keys = [
        line.split("=")[0].strip()
        for line in DEFAULT_CONFIG_TEXT.splitlines()
        if "=" in line and not line.startswith("[")
    ]
    missing = [key for key in keys if f"\n{key} = " not in text]
    missing += [variable for variable in ENVIRONMENT_OVERRIDES if variable not in text]
    assert missing == []


def test_relative_paths_follow_the_config_file_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root and partners dir are relative to the file's folder; folders to the root."""
    config = write_config(
        tmp_path / "etc",
        '[workspace]\nroot = "../ws"\noutbox = "/abs/outbox"\narchive = "old"\n'
        '[partners]\ndir = "tp"\n[ledger]\nurl = "sqlite+aiosqlite:///db/ledger.db"\n',
    )
    monkeypatch.chdir(tmp_path / "etc")
    settings = load_settings(config, environ={})
    expected = (
        tmp_path / "ws",
        Path("/abs/outbox"),
        tmp_path / "ws" / "old",
        tmp_path / "etc" / "tp",
        f"sqlite+aiosqlite:///{tmp_path}/etc/db/ledger.db",
    )
    actual = (
        settings.workspace.root,
        settings.workspace.outbox,
        settings.workspace.archive,
        settings.partners_dir,
        settings.ledger_url,
    )
    assert expected == actual
    assert config == settings.config_file


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+asyncpg://gw@127.0.0.1:5432/gw", "postgresql+asyncpg://gw@127.0.0.1:5432/gw"),
        ("sqlite+aiosqlite:////var/lib/gw.db", "sqlite+aiosqlite:////var/lib/gw.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite:///rel.db?timeout=5", "sqlite:///{base}/rel.db?timeout=5"),
    ],
)
def test_ledger_urls_are_kept_or_anchored(tmp_path: Path, url: str, expected: str) -> None:
    """Server URLs and absolute SQLite paths are kept; relative SQLite paths follow the file."""
    config = write_config(tmp_path, f'[ledger]\nurl = "{url}"\n')
    assert expected.format(base=tmp_path) == load_settings(config, environ={}).ledger_url


def test_environment_overrides_apply_to_every_setting_they_name(tmp_path: Path) -> None:
    """GATEWAY_* variables win over the file; GATEWAY_WORKSPACE follows the current folder."""
    config = write_config(
        tmp_path / "cfg",
        '[ledger]\nurl = "sqlite:///x.db"\n[logging]\nformat = "pretty"\nlevel = "debug"\n',
    )
    environ = {
        "GATEWAY_LEDGER_URL": "postgresql+asyncpg://gw@127.0.0.1/gw",
        "GATEWAY_LOG_FORMAT": "JSON",
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_WATCHER": "polling",
        "GATEWAY_WORKSPACE": str(tmp_path / "elsewhere"),
        "UNRELATED": "ignored",
    }
    settings = load_settings(config, environ=environ)
    expected = (
        "postgresql+asyncpg://gw@127.0.0.1/gw",
        "json",
        "warning",
        "polling",
        tmp_path / "elsewhere",
    )
    actual = (
        settings.ledger_url,
        settings.logging.format,
        settings.logging.level,
        settings.intake.watcher,
        settings.workspace.root,
    )
    assert expected == actual


def test_an_empty_environment_variable_does_not_override(tmp_path: Path) -> None:
    """GATEWAY_LEDGER_URL set to '' leaves the configured URL in force."""
    config = write_config(tmp_path, '[ledger]\nurl = "postgresql://h/db"\n')
    assert (
        load_settings(config, environ={"GATEWAY_LEDGER_URL": ""}).ledger_url == "postgresql://h/db"
    )


def test_os_environ_is_read_when_no_mapping_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default the process environment supplies the overrides."""
    monkeypatch.setenv("GATEWAY_LEDGER_URL", "postgresql://127.0.0.1/other")
    config = write_config(tmp_path, "")
    assert load_settings(config).ledger_url == "postgresql://127.0.0.1/other"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[batching]\nmax_claims = 0\n", "[batching] max_claims: expected a whole number greater"),
        ('[batching]\nmax_claims = "ten"\n', "[batching] max_claims: expected a whole number"),
        ("[batching]\nmax_claims = 2.5\n", "[batching] max_claims: expected a whole number"),
        ("[batching]\nmax_claims = true\n", "[batching] max_claims: expected a whole number"),
        ("[batching]\nmax_wait_seconds = -1\n", "[batching] max_wait_seconds: expected a number"),
        ("[batching]\nmax_wait_seconds = 0\n", "max_wait_seconds: expected a number of seconds"),
        ("[batching]\nmax_wait_seconds = nan\n", "max_wait_seconds: expected a number of seconds"),
        ("[batching]\nmax_claim = 5\n", "[batching] max_claim: unknown key; expected one of"),
        ("[batch]\nmax_claims = 5\n", "[batch]: unknown section; expected one of [workspace]"),
        ('batching = "x"\n', "batching: expected a table [batching]"),
        ('[intake]\nwatcher = "inotify"\n', "[intake] watcher: expected one of events, polling"),
        ('[logging]\nformat = "xml"\n', "[logging] format: expected one of json, pretty, auto"),
        ('[logging]\nlevel = "loud"\n', "[logging] level: expected one of debug, info"),
        ('[workspace]\noutbox = ""\n', "[workspace] outbox: expected a non-empty string"),
        ("[workspace]\noutbox = 3\n", "[workspace] outbox: expected a non-empty string"),
        ('[ledger]\nurl = "gateway.db"\n', "[ledger] url: expected a database URL"),
        ("[batching\n", "is not valid TOML"),
        ("[codes]\ncpt_file = 3\n", "[codes] cpt_file: expected a non-empty string"),
    ],
)
def test_mistakes_name_the_file_the_key_and_what_is_expected(
    tmp_path: Path, text: str, expected: str
) -> None:
    """Each mistake raises ConfigError whose message starts with the file and names the key."""
    config = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    message = str(caught.value)
    assert message.startswith(str(config))
    assert expected in message


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    """An override that is wrong is reported as the environment variable, not the file."""
    config = write_config(tmp_path, "")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={"GATEWAY_LOG_FORMAT": "yaml"})
    assert "environment variable GATEWAY_LOG_FORMAT: expected one of json, pretty, auto" in str(
        caught.value
    )


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "absent.toml", "no such file"),
        (lambda p: p, "is a folder"),
    ],
)
def test_an_unreadable_config_file_is_a_config_error(
    tmp_path: Path, make: Callable[[Path], Path], expected: str
) -> None:
    """A missing file or a folder given as the config is reported, not a traceback."""
    with pytest.raises(ConfigError, match=expected):
        load_settings(make(tmp_path), environ={})


def test_settings_are_frozen(tmp_path: Path) -> None:
    """Settings cannot be changed after loading (no hidden global state to mutate)."""
    settings = load_settings(write_config(tmp_path, ""), environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.ledger_url = "x"  # type: ignore[misc]


def test_creating_the_workspace_makes_owner_only_folders(tmp_path: Path) -> None:
    """Every workspace folder is created with mode 0o700 even under a permissive umask."""
    config = write_config(tmp_path, '[workspace]\nroot = "ws/deep"\n')
    settings = load_settings(config, environ={})
    previous = os.umask(0o022)
    try:
        settings.workspace.create()
        settings.workspace.create()  # a second start finds everything in place
    finally:
        os.umask(previous)
    modes = {folder: stat.S_IMODE(folder.stat().st_mode) for folder in settings.workspace.folders()}
    modes[tmp_path / "ws"] = stat.S_IMODE((tmp_path / "ws").stat().st_mode)
    assert dict.fromkeys(modes, 0o700) == modes


def test_a_file_where_a_workspace_folder_belongs_is_reported(tmp_path: Path) -> None:
    """A plain file in the place of the outbox is a ConfigError naming that path."""
    config = write_config(tmp_path, "")
    (tmp_path / "outbox").write_text("not a folder")
    with pytest.raises(ConfigError, match="outbox: is not a folder"):
        load_settings(config, environ={}).workspace.create()


def test_settings_load_the_partners_of_their_partners_folder(tmp_path: Path) -> None:
    """load_partners reads the configured folder; a broken partner file is a ConfigError."""
    shipped = load_settings(ROOT / "config" / "gateway.toml", environ={})
    assert "demo-clearinghouse" in shipped.load_partners()
    broken = write_config(tmp_path, "")
    (tmp_path / "partners").mkdir()
    (tmp_path / "partners" / "bad.toml").write_text("[interchange\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_settings(broken, environ={}).load_partners()


def test_config_errors_are_usage_errors_so_commands_exit_2(tmp_path: Path) -> None:
    """gateway.cli.main turns a UsageError into exit 2; ConfigError is one."""
    from gateway.cli import UsageError

    with pytest.raises(UsageError):
        load_settings(tmp_path / "missing.toml", environ={})


def test_cpt_file_is_relative_to_the_config_file(tmp_path: Path) -> None:
    """[codes] cpt_file is read relative to the config file's folder; empty means none."""
    config = write_config(tmp_path / "etc", '[codes]\ncpt_file = "cpt/2026.csv"\n')
    assert tmp_path / "etc" / "cpt" / "2026.csv" == load_settings(config, environ={}).codes.cpt_file
    assert load_settings(None, environ={}).codes.cpt_file is None
