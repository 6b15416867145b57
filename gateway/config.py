"""The gateway's settings: ``config/gateway.toml`` read into frozen dataclasses.

``load_settings(path)`` reads the TOML file (or the embedded defaults when ``path`` is None),
applies the environment overrides of ``ENVIRONMENT_OVERRIDES`` (the one place the environment is
read), checks every key and returns a ``Settings``. Nothing is cached: each command loads its own
settings. A mistake raises ``ConfigError`` naming the file, the key and what is expected; the
command line turns it into exit 2.

Relative paths: ``[workspace] root`` and ``[partners] dir`` are relative to the config file's folder
(the current folder when there is no file); the workspace folders are relative to the root. A SQLite
``ledger_url`` with a relative path is relative to the config file's folder too.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from gateway.codes.dated import DatedCodes
from gateway.codes.procedures import CptFileError, cpt_codes
from gateway.durable import ensure_private_dir
from gateway.errors import UsageError
from gateway.partners import PartnerConfigError, Partners, load_partners

__all__ = [
    "DEFAULT_CONFIG_TEXT",
    "ENVIRONMENT_OVERRIDES",
    "BatchingSettings",
    "CodesSettings",
    "ConfigError",
    "IntakeSettings",
    "LogFormat",
    "LoggingSettings",
    "Settings",
    "WatcherMode",
    "WebSettings",
    "WorkspaceSettings",
    "load_settings",
]

LogFormat = Literal["json", "pretty", "auto"]
WatcherMode = Literal["events", "polling"]
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

#: Environment variables that override a setting, for every command: variable -> (section, key).
#: Paths given here are relative to the current folder, not to the config file.
ENVIRONMENT_OVERRIDES: Mapping[str, tuple[str, str]] = {
    "GATEWAY_LEDGER_URL": ("ledger", "url"),
    "GATEWAY_WORKSPACE": ("workspace", "root"),
    "GATEWAY_LOG_FORMAT": ("logging", "format"),
    "GATEWAY_LOG_LEVEL": ("logging", "level"),
    "GATEWAY_WATCHER": ("intake", "watcher"),
}

#: The embedded defaults, as TOML; ``config/gateway.toml`` documents the same keys.
DEFAULT_CONFIG_TEXT = """
[workspace]
root = "."
encounters_inbox = "inbox/encounters"
responses_inbox = "inbox/responses"
outbox = "outbox"
archive = "archive"
quarantine = "quarantine"
corrections = "corrections"
state = "state"
processing = "state/processing"

[ledger]
url = ""

[batching]
max_claims = 100
max_wait_seconds = 30.0

[intake]
settle_seconds = 2.0
max_file_bytes = 104857600
max_response_bytes = 1073741824
watcher = "events"
poll_interval_seconds = 2.0
complete_wait_seconds = 300.0

[logging]
format = "auto"
level = "info"

[partners]
dir = "partners"

[codes]
cpt_file = ""

[web]
host = "127.0.0.1"
port = 8080
tls_certificate = ""
tls_key = ""
behind_tls_proxy = false
session_secret_file = ""
idle_minutes = 15
"""

_FOLDER_KEYS = (
    "encounters_inbox",
    "responses_inbox",
    "outbox",
    "archive",
    "quarantine",
    "corrections",
    "state",
    "processing",
)


class ConfigError(UsageError):
    """A configuration mistake: which file, which key, what was expected and what was found.

    A ``UsageError``, so every command that loads settings exits 2 with this message.
    """

    def __init__(self, source: str, key: str, expected: str, found: object = None) -> None:
        self.source = source
        self.key = key
        self.expected = expected
        self.found = found
        text = ": ".join(part for part in (source, key, expected) if part)
        if found is not None:
            text += f" (found {found!r})"
        super().__init__(text)


@dataclass(frozen=True)
class WorkspaceSettings:
    """The workspace folders, all absolute."""

    root: Path
    encounters_inbox: Path
    responses_inbox: Path
    outbox: Path
    archive: Path
    quarantine: Path
    corrections: Path
    state: Path
    #: Where a file from an inbox goes while it is processed (claimed by atomic rename).
    processing: Path

    def folders(self) -> tuple[Path, ...]:
        """Every folder of the workspace, the root first."""
        return (
            self.root,
            self.encounters_inbox,
            self.responses_inbox,
            self.outbox,
            self.archive,
            self.quarantine,
            self.corrections,
            self.state,
            self.processing,
        )

    def create(self) -> None:
        """Create every missing folder owner-only (0o700); existing folders are left alone."""
        for folder in self.folders():
            _make_private_dirs(folder)


@dataclass(frozen=True)
class BatchingSettings:
    """When to flush: ``max_claims`` waiting, or ``max_wait_seconds`` since the oldest."""

    max_claims: int
    max_wait_seconds: float


@dataclass(frozen=True)
class IntakeSettings:
    """How inbox files are taken: settle interval, size limit, watcher mode."""

    settle_seconds: float
    max_file_bytes: int
    watcher: WatcherMode
    poll_interval_seconds: float
    #: How long a settled encounter file that is not yet complete (JSON Lines without its last
    #: newline, JSON or XML not closed) is waited for before it is taken as it is and reported.
    complete_wait_seconds: float = 300.0
    #: Response files (TA1, 999, 277CA, 835) are applied streamed, so they may be far larger.
    max_response_bytes: int = 1 << 30


@dataclass(frozen=True)
class LoggingSettings:
    """Log format (``json``, ``pretty`` or ``auto`` = pretty on a terminal) and level."""

    format: LogFormat
    level: str


@dataclass(frozen=True)
class CodesSettings:
    """Code sets the practice supplies: ``cpt_file``, its licensed CPT list (CSV: code, from,
    to), or None to check CPT codes by shape only (CPT descriptors are the AMA's)."""

    cpt_file: Path | None = None

    def load_cpt(self) -> DatedCodes | None:
        """The practice's CPT list (read once per process), None without one; a file that does
        not read is a ``ConfigError`` naming the line and the fix."""
        if self.cpt_file is None:
            return None
        try:
            return cpt_codes(self.cpt_file)
        except CptFileError as exc:
            raise ConfigError(str(exc), "[codes] cpt_file", "") from None


@dataclass(frozen=True)
class WebSettings:
    """The ``[web]`` section: where ``gateway web`` listens and how its sessions are kept.

    ``host`` defaults to 127.0.0.1; any other address needs ``tls_certificate`` and ``tls_key``
    (served by uvicorn) or ``behind_tls_proxy = true`` (``gateway.web.server`` checks it).
    ``session_secret_file`` holds the key that signs session cookies (None: ``web-secret`` in the
    state folder, made owner-only on first start). A session ends after ``idle_minutes`` without
    a request.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    tls_certificate: Path | None = None
    tls_key: Path | None = None
    behind_tls_proxy: bool = False
    session_secret_file: Path | None = None
    idle_minutes: int = 15

    @property
    def tls(self) -> bool:
        """Whether uvicorn serves TLS itself."""
        return self.tls_certificate is not None and self.tls_key is not None

    @property
    def https(self) -> bool:
        """Whether browsers reach the console over HTTPS (its own TLS or a proxy's)."""
        return self.tls or self.behind_tls_proxy


@dataclass(frozen=True)
class Settings:
    """Everything the gateway needs to know about where it runs."""

    #: The file these settings were read from (None for the embedded defaults).
    config_file: Path | None
    workspace: WorkspaceSettings
    ledger_url: str
    batching: BatchingSettings
    intake: IntakeSettings
    logging: LoggingSettings
    #: The folder of trading-partner files (``*.toml``), loaded by ``gateway.partners``.
    partners_dir: Path
    #: The ``[codes]`` section: code sets the practice supplies.
    codes: CodesSettings = CodesSettings()
    #: The ``[web]`` section: the web console (``gateway web``).
    web: WebSettings = WebSettings()

    def load_partners(self) -> Partners:
        """The trading partners of ``partners_dir``; a bad partner file is a ``ConfigError``."""
        try:
            return load_partners(self.partners_dir)
        except PartnerConfigError as exc:
            raise ConfigError(str(exc), "", "") from exc

    def no_answer_days(self) -> dict[str, int]:
        """Each partner's ``[claims] no_answer_days`` (the reports' default 30 where not set,
        or when the partner files cannot be read)."""
        try:
            partners = self.load_partners()
        except ConfigError:
            return {}
        return {p.name: p.no_answer_days for p in partners.by_name.values()}


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read ``path`` (or the embedded defaults), apply environment overrides, check and return.

    ``environ`` defaults to ``os.environ``; pass ``{}`` to ignore the environment.
    """
    env = os.environ if environ is None else environ
    raw = _parse_toml(DEFAULT_CONFIG_TEXT, "<embedded defaults>")
    if path is None:
        source = "<embedded defaults>"
        base = Path.cwd()
        config_file: Path | None = None
        user: dict[str, Any] = {}
    else:
        config_file = Path(path).absolute()
        source = str(path)
        base = config_file.parent
        try:
            text = config_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                source, "", "no such file; pass --config with an existing file"
            ) from None
        except IsADirectoryError:
            raise ConfigError(source, "", "is a folder; expected a TOML file") from None
        except UnicodeDecodeError:
            raise ConfigError(source, "", "is not UTF-8 text; expected a TOML file") from None
        except OSError as exc:
            raise ConfigError(source, "", f"cannot be read ({exc.strerror})") from None
        user = _parse_toml(text, source)
    _merge(raw, user, source)
    env_keys: dict[tuple[str, str], str] = {}
    cwd = Path.cwd()
    for variable, (section, key) in ENVIRONMENT_OVERRIDES.items():
        value = env.get(variable)
        if value is None or value == "":
            continue
        raw[section][key] = value
        env_keys[(section, key)] = variable

    def where(section: str, key: str) -> tuple[str, str]:
        variable = env_keys.get((section, key))
        if variable is not None:
            return f"environment variable {variable}", ""
        return source, f"[{section}] {key}"

    def base_for(section: str, key: str) -> Path:
        return cwd if (section, key) in env_keys else base

    ws = raw["workspace"]
    root_source = where("workspace", "root")
    root = _resolve(base_for("workspace", "root"), _string(ws["root"], *root_source))
    folders = {
        key: _resolve(root, _string(ws[key], *where("workspace", key))) for key in _FOLDER_KEYS
    }
    workspace = WorkspaceSettings(root=root, **folders)

    ledger_src = where("ledger", "url")
    ledger_url = _ledger_url(
        _string(raw["ledger"]["url"], *ledger_src, allow_empty=True),
        workspace.state,
        base_for("ledger", "url"),
        *ledger_src,
    )

    b = raw["batching"]
    batching = BatchingSettings(
        max_claims=_positive_int(b["max_claims"], *where("batching", "max_claims")),
        max_wait_seconds=_seconds(b["max_wait_seconds"], *where("batching", "max_wait_seconds")),
    )

    i = raw["intake"]
    intake = IntakeSettings(
        settle_seconds=_seconds(i["settle_seconds"], *where("intake", "settle_seconds"), zero=True),
        max_file_bytes=_positive_int(i["max_file_bytes"], *where("intake", "max_file_bytes")),
        watcher=cast(
            WatcherMode,
            _choice(i["watcher"], ("events", "polling"), *where("intake", "watcher")),
        ),
        poll_interval_seconds=_seconds(
            i["poll_interval_seconds"], *where("intake", "poll_interval_seconds")
        ),
        complete_wait_seconds=_seconds(
            i["complete_wait_seconds"], *where("intake", "complete_wait_seconds"), zero=True
        ),
        max_response_bytes=_positive_int(
            i["max_response_bytes"], *where("intake", "max_response_bytes")
        ),
    )

    lg = raw["logging"]
    logging_settings = LoggingSettings(
        format=cast(
            LogFormat,
            _choice(lg["format"], ("json", "pretty", "auto"), *where("logging", "format")),
        ),
        level=_choice(lg["level"], LOG_LEVELS, *where("logging", "level")),
    )

    partners_dir = _resolve(base, _string(raw["partners"]["dir"], *where("partners", "dir")))

    cpt_text = _string(raw["codes"]["cpt_file"], *where("codes", "cpt_file"), allow_empty=True)
    codes = CodesSettings(cpt_file=_resolve(base, cpt_text) if cpt_text.strip() else None)

    web = _web_settings(raw["web"], base, where)

    return Settings(
        config_file=config_file,
        workspace=workspace,
        ledger_url=ledger_url,
        batching=batching,
        intake=intake,
        logging=logging_settings,
        partners_dir=partners_dir,
        codes=codes,
        web=web,
    )


def _web_settings(
    w: Mapping[str, Any], base: Path, where: Callable[[str, str], tuple[str, str]]
) -> WebSettings:
    """The ``[web]`` section checked: a host, a port, TLS files in pairs, the idle limit."""

    def path(key: str) -> Path | None:
        text = _string(w[key], *where("web", key), allow_empty=True)
        return _resolve(base, text) if text.strip() else None

    port_source, port_key = where("web", "port")
    port = _positive_int(w["port"], port_source, port_key)
    if port > 65535:
        raise ConfigError(port_source, port_key, "expected a port number from 1 to 65535", port)
    certificate, key = path("tls_certificate"), path("tls_key")
    if (certificate is None) != (key is None):
        source, name = where("web", "tls_certificate" if certificate is None else "tls_key")
        raise ConfigError(
            source, name, "set both tls_certificate and tls_key (PEM files), or neither"
        )
    idle_source, idle_key = where("web", "idle_minutes")
    idle = _positive_int(w["idle_minutes"], idle_source, idle_key)
    if idle > 15:
        raise ConfigError(
            idle_source,
            idle_key,
            "expected 1 to 15 minutes (sessions with patient data end after 15 idle minutes)",
            idle,
        )
    return WebSettings(
        host=_string(w["host"], *where("web", "host")).strip(),
        port=port,
        tls_certificate=certificate,
        tls_key=key,
        behind_tls_proxy=_boolean(w["behind_tls_proxy"], *where("web", "behind_tls_proxy")),
        session_secret_file=path("session_secret_file"),
        idle_minutes=idle,
    )


# --- helpers -------------------------------------------------------------------------------------


def _make_private_dirs(folder: Path) -> None:
    """``mkdir -p`` where each folder created gets mode 0o700 whatever the umask."""
    ensure_private_dir(folder)
    if not folder.is_dir():
        raise ConfigError(str(folder), "", "is not a folder; the workspace needs a folder here")


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"is not valid TOML: {exc}") from None


def _merge(defaults: dict[str, Any], user: Mapping[str, Any], source: str) -> None:
    """Overlay ``user`` on ``defaults``; unknown sections or keys are errors (typos are caught)."""
    for section, values in user.items():
        if section not in defaults:
            known = ", ".join(f"[{s}]" for s in defaults)
            raise ConfigError(source, f"[{section}]", f"unknown section; expected one of {known}")
        if not isinstance(values, dict):
            raise ConfigError(source, section, f"expected a table [{section}]", values)
        for key, value in values.items():
            if key not in defaults[section]:
                known = ", ".join(defaults[section])
                raise ConfigError(
                    source, f"[{section}] {key}", f"unknown key; expected one of {known}"
                )
            defaults[section][key] = value


def _resolve(base: Path, value: str) -> Path:
    """``value`` made absolute against ``base``, ``..`` folded lexically (no symlinks followed)."""
    path = Path(value).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else base.absolute() / path))


def _string(value: object, source: str, key: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ConfigError(source, key, "expected a non-empty string", value)
    return value


def _boolean(value: object, source: str, key: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(source, key, "expected true or false", value)


def _choice(value: object, choices: tuple[str, ...], source: str, key: str) -> str:
    text = value.strip().lower() if isinstance(value, str) else None
    if text is None or text not in choices:
        raise ConfigError(source, key, f"expected one of {', '.join(choices)}", value)
    return text


def _number(value: object, source: str, key: str, what: str, *, whole: bool) -> float:
    """A number from TOML, or from an environment string; ``whole`` refuses fractions."""
    if isinstance(value, str):
        try:
            value = int(value.strip()) if whole else float(value.strip())
        except ValueError:
            raise ConfigError(source, key, f"expected {what}", value) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(source, key, f"expected {what}", value)
    if whole and not isinstance(value, int):
        raise ConfigError(source, key, f"expected {what}", value)
    return value


def _positive_int(value: object, source: str, key: str) -> int:
    what = "a whole number greater than 0"
    number = _number(value, source, key, what, whole=True)
    if number <= 0:
        raise ConfigError(source, key, f"expected {what}", value)
    return int(number)


def _seconds(value: object, source: str, key: str, *, zero: bool = False) -> float:
    what = "a number of seconds " + ("0 or more" if zero else "greater than 0")
    number = float(_number(value, source, key, what, whole=False))
    if number != number or number in (float("inf"), float("-inf")) or number < 0:
        raise ConfigError(source, key, f"expected {what}", value)
    if number == 0 and not zero:
        raise ConfigError(source, key, f"expected {what}", value)
    return number


def _ledger_url(value: str, state: Path, base: Path, source: str, key: str) -> str:
    """The ledger URL: empty means SQLite in the state folder; relative SQLite paths use base."""
    value = value.strip()
    if not value:
        return f"sqlite+aiosqlite:///{state / 'gateway.db'}"
    scheme, sep, rest = value.partition("://")
    if not sep or not scheme:
        raise ConfigError(
            source,
            key,
            "expected a database URL such as sqlite+aiosqlite:///state/gateway.db "
            "or postgresql+asyncpg://user@host/db",
            value,
        )
    if scheme.split("+")[0] == "sqlite" and rest.startswith("/"):
        database, query_sep, query = rest[1:].partition("?")
        if database and database != ":memory:" and not Path(database).is_absolute():
            database = os.path.normpath(base.absolute() / database)
            return f"{scheme}:///{database}{query_sep}{query}"
    return value
