"""`gateway users`, `gateway audit` and `gateway web`, run as the people who use them do."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import contextlib
import getpass
import io
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gateway.cli import main

GATEWAY = [str(Path(sys.executable).parent / "gateway")]
PASSWORD = "a long enough password"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A workspace's gateway.toml (a SQLite ledger in its state folder)."""
    path = tmp_path / "gateway.toml"
    path.write_text('[workspace]\nroot = "."\n')
    return path


def gateway(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``gateway ARGS --config CONFIG`` in this process (fast), its output captured."""
    out, err = io.StringIO(), io.StringIO()
    argv = [*args, "--config", str(config)]
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        sys.stdin = saved
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def test_users_add_list_disable(config: Path) -> None:
    """Add with --password-stdin (the ledger is made), list, disable, role; each audited."""
    added = gateway(
        config, "users", "add", "ann", "--role", "biller", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert (0, "user ann: biller, active\n") == (added.returncode, added.stdout), added.stderr
    gateway(config, "users", "add", "bob", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    disabled = gateway(config, "users", "disable", "bob")
    role = gateway(config, "users", "role", "ann", "viewer")
    assert (0, 0) == (disabled.returncode, role.returncode)
    listed = json.loads(gateway(config, "users", "list", "--json").stdout)
    assert [("ann", "viewer", True), ("bob", "admin", False)] == [
        (u["name"], u["role"], u["active"]) for u in listed
    ]
    table = gateway(config, "users", "list").stdout
    assert "ann" in table
    assert "disabled" in table
    audit = [json.loads(line) for line in gateway(config, "audit", "--json").stdout.splitlines()]
    assert ["user-role", "user-disable", "user-add", "user-add"] == [e["action"] for e in audit]
    assert {f"cli:{getpass.getuser()}"} == {e["actor"] for e in audit}
    assert PASSWORD not in (config.parent / "state" / "gateway.db").read_bytes().decode("latin-1")


def test_users_mistakes_exit_2(config: Path) -> None:
    """A short password, a taken name, a bad name, an unknown user, no terminal for a prompt."""
    ok = gateway(
        config, "users", "add", "ann", "--role", "biller", "--password-stdin", stdin=PASSWORD
    )
    short = gateway(
        config, "users", "add", "bob", "--role", "biller", "--password-stdin", stdin="short"
    )
    taken = gateway(
        config, "users", "add", "ann", "--role", "biller", "--password-stdin", stdin=PASSWORD
    )
    bad = gateway(
        config, "users", "add", "a/b", "--role", "biller", "--password-stdin", stdin=PASSWORD
    )
    unknown = gateway(config, "users", "disable", "nobody")
    prompt = gateway(config, "users", "add", "cy", "--role", "viewer", stdin="")
    assert [0, 2, 2, 2, 2, 2] == [p.returncode for p in (ok, short, taken, bad, unknown, prompt)]
    assert "at least 12 characters" in short.stderr
    assert "exists already" in taken.stderr
    assert "letters, digits" in bad.stderr
    assert "no user 'nobody'" in unknown.stderr
    assert "--password-stdin" in prompt.stderr
    assert "Traceback" not in "".join(p.stderr for p in (short, taken, bad, unknown, prompt))


def test_web_refuses_other_addresses_without_tls(config: Path) -> None:
    """0.0.0.0 without TLS settings is exit 2 with what to set; nothing is opened."""
    done = gateway(config, "web", "--host", "0.0.0.0", "--port", "8089")
    assert 2 == done.returncode
    assert "refusing to listen on 0.0.0.0 without TLS" in done.stderr
    assert "behind_tls_proxy" in done.stderr
    assert not (config.parent / "state").exists()


def test_web_needs_a_ledger_first(config: Path) -> None:
    """Without a ledger, `gateway web` says what to run first (exit 2) and makes nothing."""
    done = gateway(config, "web", "--port", "8089")
    assert 2 == done.returncode
    assert "no ledger at" in done.stderr
    assert not (config.parent / "state" / "gateway.db").exists()


def test_web_serves_the_login_page_on_loopback(config: Path) -> None:
    """`gateway web --port N` serves on 127.0.0.1: the login page, a redirect for the rest."""
    gateway(config, "users", "add", "ann", "--role", "biller", "--password-stdin", stdin=PASSWORD)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [*GATEWAY, "web", "--config", str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/login")
        assert "Log in" in page
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirected:
            opener.open(f"http://127.0.0.1:{port}/audit?claim=C1", timeout=10)
        assert 303 == redirected.value.code
        assert 0o600 == (config.parent / "state" / "web-secret").stat().st_mode & 0o777
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "GET /login HTTP/1.1" in output
    assert "claim=C1" not in output  # the access log leaves out queries


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _wait_for(url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
