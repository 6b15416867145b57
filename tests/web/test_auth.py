"""Logging in and out, sessions (idle limit, ending them), login rate limits, CSRF, headers."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.ledger.users import Role
from gateway.web.application import app
from tests.support.clock import ManualClock
from tests.support.web import PASSWORD, Console, console_settings


def test_every_page_but_login_needs_a_session(console: Console) -> None:
    """Pages redirect to the login page (with where to go back to); other requests get 401."""
    page = console.client.get("/audit?claim=C1", follow_redirects=False)
    htmx = console.client.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
    form = console.client.post("/users", data={"name": "x"}, follow_redirects=False)
    static = console.client.get("/static/htmx.min.js")
    login = console.client.get("/login")
    assert 303 == console.client.get("/login-not", follow_redirects=False).status_code
    assert (303, "/login?next=/audit%3Fclaim%3DC1") == (
        page.status_code,
        page.headers["location"],
    )
    assert (401, "/login?next=/") == (htmx.status_code, htmx.headers["hx-redirect"])
    assert 401 == form.status_code
    assert (200, 200) == (static.status_code, login.status_code)
    assert "htmx" in static.text[:200]


def test_login_then_logout(console: Console) -> None:
    """A biller logs in (audited), lands where they were going, sees the layout, logs out."""
    console.add_user("ann", Role.BILLER)
    done = console.login("ann", next_path="/claims/C-1")
    assert (303, "/claims/C-1") == (done.status_code, done.headers["location"])
    page = console.client.get("/")
    assert 200 == page.status_code
    assert "Claims by state" in page.text
    assert ">ann <span" in page.text
    assert 'action="/logout"' in page.text
    assert 'href="/audit"' not in page.text
    assert 'href="/users"' not in page.text
    out = console.logout()
    assert (303, "/login") == (out.status_code, out.headers["location"])
    assert 303 == console.client.get("/", follow_redirects=False).status_code
    entries = console.call(console.ledger.audit_entries, actor="ann").entries
    assert [("logout", "testclient"), ("login", "testclient")] == [
        (e.action, e.client) for e in entries
    ]
    assert console.now() == entries[0].at


def test_session_cookie_is_signed_httponly_strict(console: Console) -> None:
    """The session cookie is HttpOnly and SameSite=Strict, lives 15 minutes, and is signed."""
    console.add_user("ann")
    done = console.login("ann")
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("gateway_"))
    assert "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    assert "max-age=900" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain HTTP on 127.0.0.1
    forged = console.client.cookies["gateway_session"]
    console.client.cookies.set("gateway_session", "x" + forged, domain="127.0.0.1")
    assert 303 == console.client.get("/", follow_redirects=False).status_code


def test_wrong_password_unknown_or_disabled_user(console: Console) -> None:
    """Each is the same 401 with one message, and on the audit trail."""
    console.add_user("ann")
    console.add_user("bob")
    console.call(console.ledger.disable_user, "bob", now=console.now())
    wrong = console.login("ann", "not the password at all")
    unknown = console.login("nobody")
    disabled = console.login("bob")
    assert [401, 401, 401] == [r.status_code for r in (wrong, unknown, disabled)]
    messages = {re.findall(r'role="alert">([^<]*)', r.text)[0] for r in (wrong, unknown, disabled)}
    assert {"That user name and password do not match an active user."} == messages
    failed = console.call(console.ledger.audit_entries).entries
    assert [("bob", "disabled"), ("unknown", "mismatch"), ("ann", "mismatch")] == [
        (e.actor, e.detail["reason"]) for e in failed
    ]
    assert all("nobody" not in str(e.detail) for e in failed)


def test_idle_sessions_end_after_15_minutes(console: Console) -> None:
    """Each request moves the idle deadline; 15 minutes without one ends the session."""
    console.as_user(Role.VIEWER)
    console.clock.advance(14 * 60)
    assert 200 == console.client.get("/", follow_redirects=False).status_code
    console.clock.advance(14 * 60)  # 28 minutes after login, 14 after the last request
    assert 200 == console.client.get("/", follow_redirects=False).status_code
    console.clock.advance(15 * 60 + 1)
    expired = console.client.get("/", follow_redirects=False)
    assert (303, "/login?next=/&expired=1") == (expired.status_code, expired.headers["location"])
    assert "ended after a time without use" in console.client.get(expired.headers["location"]).text
    assert 303 == console.client.get("/", follow_redirects=False).status_code


def test_ending_sessions_logs_out_every_browser(console: Console) -> None:
    """Disabling a user, a new role, or a logout elsewhere ends their open sessions."""
    console.as_user(Role.BILLER, "ann")
    console.clock.advance(1)
    console.call(console.ledger.set_user_role, "ann", Role.VIEWER, now=console.now())
    assert 303 == console.client.get("/", follow_redirects=False).status_code
    console.clock.advance(1)
    assert 303 == console.login("ann").status_code
    assert 200 == console.client.get("/", follow_redirects=False).status_code
    console.clock.advance(1)
    console.call(console.ledger.disable_user, "ann", now=console.now())
    assert 303 == console.client.get("/", follow_redirects=False).status_code


def test_login_attempts_are_rate_limited(console: Console) -> None:
    """Five failures for one name lock it for a minute (even with the right password); other
    names still work until twenty failures from one address."""
    console.add_user("ann")
    console.add_user("bob")
    for _ in range(5):
        assert 401 == console.login("ann", "wrong password guess").status_code
    locked = console.login("ann", PASSWORD)
    assert (429, "60") == (locked.status_code, locked.headers["retry-after"])
    assert "Too many failed attempts" in locked.text
    assert 303 == console.login("bob").status_code
    console.logout()
    for n in range(15):
        assert 401 == console.login(f"guess{n}", "wrong password guess").status_code
    assert 429 == console.login("bob").status_code  # 20 failures from this address


def test_open_redirects_are_refused(console: Console) -> None:
    """``next`` must be a path of this site."""
    console.add_user("ann")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        done = console.login("ann", next_path=target)
        assert (303, "/") == (done.status_code, done.headers["location"]), target
        console.logout()


@pytest.mark.parametrize(
    ("path", "data"),
    [("/logout", {}), ("/users", {"name": "eve", "role": "admin", "password": "x" * 20})],
)
def test_posts_without_the_csrf_token_are_refused(
    console: Console, path: str, data: dict[str, str]
) -> None:
    """A form without the token, or with another one, is 403 and changes nothing."""
    console.as_user(Role.ADMIN)
    missing = console.client.post(path, data=data, follow_redirects=False)
    forged = console.client.post(path, data={**data, "csrftoken": "forged"}, follow_redirects=False)
    assert (403, 403) == (missing.status_code, forged.status_code)
    assert "This form has expired" in missing.text
    assert 200 == console.client.get("/", follow_redirects=False).status_code  # still logged in
    assert [u.name for u in console.call(console.ledger.users)] == ["admin"]


def test_login_form_needs_the_csrf_token(console: Console) -> None:
    """Even without cookies (login CSRF), the login form is refused without its token."""
    console.add_user("ann")
    done = console.client.post(
        "/login", data={"username": "ann", "password": PASSWORD}, follow_redirects=False
    )
    assert 403 == done.status_code


def test_htmx_requests_send_the_token_in_a_header(console: Console) -> None:
    """The layout gives htmx the token (hx-headers); a POST with that header passes."""
    console.as_user(Role.VIEWER)
    page = console.client.get("/")
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page.text)
    assert token is not None
    out = console.client.post("/logout", headers={"X-CSRFToken": token.group(1)})
    assert 200 == out.status_code
    assert "Log in" in out.text


def test_security_headers_on_every_response(console: Console) -> None:
    """CSP without inline scripts, no framing, nosniff, no referrer; pages are not stored."""
    console.as_user(Role.VIEWER)
    for path, cache in (
        ("/", "no-store"),
        ("/login", "no-store"),
        ("/static/console.css", "no-cache"),
        ("/nope", "no-store"),
    ):
        headers = console.client.get(path, follow_redirects=False).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self';" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert ("DENY", "nosniff", "no-referrer", cache) == (
            headers["x-frame-options"],
            headers["x-content-type-options"],
            headers["referrer-policy"],
            headers["cache-control"],
        ), path
        assert "strict-transport-security" not in headers  # plain HTTP here


def test_over_https_cookies_are_secure(tmp_path: Path) -> None:
    """Behind a TLS proxy (or with its own TLS) the cookies are Secure and HSTS is sent."""
    settings = console_settings(
        tmp_path / "ws", f"sqlite:///{tmp_path}/ledger.db", {"behind_tls_proxy": True}
    )
    with TestClient(app(settings), base_url="https://127.0.0.1") as client:
        login = client.get("/login")
        assert "max-age=31536000" == login.headers["strict-transport-security"]
        csrf = login.headers["set-cookie"].lower()
        assert "secure" in csrf
        assert "samesite=strict" in csrf
        console = Console(client, ManualClock(now=time.time()), settings)
        console.add_user("ann")
        done = console.login("ann")
        session = next(c for c in done.headers.get_list("set-cookie") if "gateway_" in c)
        assert "secure" in session.lower()


def test_session_deadline_for_long_responses() -> None:
    """A stream (server-sent events) learns when its session would end without a new request."""
    from starlette.requests import HTTPConnection

    from gateway.web.auth import session_deadline

    start = 1_800_000_000.0
    scope = {"type": "http", "session": {"uid": 1, "since": start, "seen": start}}
    assert start + 900 == session_deadline(HTTPConnection(scope), 900)
    assert session_deadline(HTTPConnection({"type": "http", "session": {}}), 900) is None


def test_plain_http_answers_only_to_this_machine(console: Console) -> None:
    """A page reached by another name (DNS rebinding) gets 421; loopback names are served."""
    for host in ("evil.example", "evil.example:8080", "10.0.0.5", "127.0.0.1.evil.example"):
        refused = console.client.get("/login", headers={"host": host})
        assert 421 == refused.status_code, host
        assert "content-security-policy" in refused.headers
    for host in ("127.0.0.1:8080", "localhost", "[::1]:8080", "127.0.0.2"):
        assert 200 == console.client.get("/login", headers={"host": host}).status_code, host
