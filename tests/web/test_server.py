"""Where the console may listen, its [web] settings, the session key file, the access log."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import logging
import signal
import stat
from pathlib import Path

import pytest

from gateway.config import ConfigError, WebSettings
from gateway.errors import UsageError
from gateway.web.security import session_secret
from gateway.web.server import (
    GRACEFUL_SECONDS,
    PathOnlyAccessFormatter,
    check_bind,
    is_loopback,
    server,
)
from tests.support.web import console_settings


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_needs_nothing(host: str) -> None:
    """This machine only: plain HTTP is allowed."""
    assert is_loopback(host)
    check_bind(WebSettings(), host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "billing.example.org"])
def test_other_addresses_need_tls(host: str, tmp_path: Path) -> None:
    """Without TLS settings any other address is a usage error naming what to set."""
    with pytest.raises(UsageError, match=r"tls_certificate and tls_key .* behind_tls_proxy"):
        check_bind(WebSettings(), host)
    check_bind(WebSettings(behind_tls_proxy=True), host)
    check_bind(WebSettings(tls_certificate=tmp_path / "c.pem", tls_key=tmp_path / "k.pem"), host)


def test_web_settings_are_read_and_checked(tmp_path: Path) -> None:
    """Defaults, relative TLS paths, and each mistake named with its key."""
    url = f"sqlite:///{tmp_path}/db"
    default = console_settings(tmp_path / "a", url).web
    assert (default.host, default.port, default.idle_minutes, default.https) == (
        "127.0.0.1",
        8080,
        15,
        False,
    )
    tls = console_settings(
        tmp_path / "b", url, {"tls_certificate": "c.pem", "tls_key": "k.pem", "port": 8443}
    ).web
    assert (tmp_path / "b" / "c.pem", True, 8443) == (tls.tls_certificate, tls.https, tls.port)
    for web, key in (
        ({"tls_certificate": "c.pem"}, "tls_key"),
        ({"idle_minutes": 30}, "idle_minutes"),
        ({"port": 70000}, "port"),
        ({"behind_tls_proxy": "yes"}, "behind_tls_proxy"),
        ({"listen": "x"}, "listen"),
    ):
        with pytest.raises(ConfigError, match=rf"\[web\] {key}"):
            console_settings(tmp_path / key, url, web)


def test_session_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    """Made 0600 on first use, then the same; a key others can read is refused."""
    path = tmp_path / "state" / "web-secret"
    first = session_secret(path)
    assert first == session_secret(path)
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    assert len(first) >= 64
    path.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        session_secret(path)


def test_access_log_leaves_out_the_query() -> None:
    """uvicorn's access line shows the path only."""
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.1:5000", "GET", "/audit?claim=C1&user=ann", "1.1", 200),
        None,
    )
    line = PathOnlyAccessFormatter(fmt="%(request_line)s %(status_code)s").format(record)
    assert "GET /audit HTTP/1.1" in line
    assert "claim=" not in line


def test_a_stop_waits_a_few_seconds_and_tells_the_app(tmp_path: Path) -> None:
    """uvicorn waits at most GRACEFUL_SECONDS for running requests; asking the server to stop
    (as SIGINT/SIGTERM do) sets the app's ``stopping``, which ends the live feeds."""
    settings = console_settings(tmp_path / "ws", f"sqlite:///{tmp_path}/ws/state/gateway.db")
    console = server(settings)
    assert console.config.timeout_graceful_shutdown == GRACEFUL_SECONDS
    assert 0 < GRACEFUL_SECONDS <= 5
    assert console.web_state.stopping is False
    console.handle_exit(signal.SIGTERM, None)
    assert console.web_state.stopping is True
    assert console.should_exit
