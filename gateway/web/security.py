"""The console's protections that wrap every response: security headers, CSRF, the secret.

- :class:`SecurityHeaders`: a strict Content-Security-Policy (scripts only from this site, no
  inline scripts, no framing), ``X-Frame-Options: DENY``, ``nosniff``, ``Referrer-Policy:
  no-referrer``, ``Cache-Control: no-store`` on everything but the static files (pages hold patient
  data), and HSTS over HTTPS.
- :func:`csrf_middleware`: asgi-csrf's double-submit token (a signed cookie and the same value in
  a form's hidden ``csrftoken`` field or htmx's ``X-CSRFToken`` header), checked on every POST.
- :class:`LoopbackHostOnly`: over plain HTTP (which the bind rules allow on loopback only) a
  request must name this machine in its ``Host`` header, so a web page elsewhere cannot reach
  the console through DNS rebinding.
- :func:`session_secret`: the key that signs cookies, made once and kept owner-only.
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from asgi_csrf import asgi_csrf
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.durable import atomic_write, ensure_private_dir
from gateway.errors import UsageError

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LoopbackHostOnly",
    "SecurityHeaders",
    "csrf_middleware",
    "csrf_token",
    "is_loopback",
    "session_secret",
]

#: Scripts and everything else only from this site; no inline script, no eval, no framing, forms
#: post only here. Inline styles are allowed (the charts are inline SVG with style attributes);
#: inline scripts never are.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
CSRF_FIELD = "csrftoken"
CSRF_HEADER = "x-csrftoken"
_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
_SECRET_BYTES = 64


class SecurityHeaders:
    """Adds the security headers to every HTTP response (the app's own headers win)."""

    def __init__(self, app: ASGIApp, *, https: bool, static_prefix: str = "/static/") -> None:
        self.app = app
        self.https = https
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(self.static_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = list(_HEADERS)
                extra.append((b"cache-control", b"no-cache" if static else b"no-store"))
                if self.https:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                headers.extend((n, v) for n, v in extra if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoopbackHostOnly:
    """Answers 421 to an HTTP request whose ``Host`` is not a loopback name or address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _loopback_host(HTTPConnection(scope).headers):
            response = PlainTextResponse(
                "This console answers only to 127.0.0.1 or localhost; open it by that address.",
                421,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def is_loopback(host: str) -> bool:
    """Whether ``host`` reaches only this machine (127.0.0.0/8, ::1, ``localhost``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _loopback_host(headers: Headers) -> bool:
    try:
        name = urlsplit("//" + headers.get("host", "")).hostname
    except ValueError:
        return False
    return name is not None and is_loopback(name)


def csrf_middleware(app: ASGIApp, *, secret: str, https: bool) -> ASGIApp:
    """``app`` behind asgi-csrf: every POST needs the token (the login form too)."""
    protected: ASGIApp = asgi_csrf(
        app,
        signing_secret=secret,
        always_protect={"/login"},
        cookie_secure=https,
        cookie_samesite="Strict",
        send_csrf_failed=_csrf_failed,
    )
    return protected


async def _csrf_failed(scope: Scope, send: Send, message_id: Any) -> None:
    """403 with what to do, for a form posted without a valid token (an old or foreign page)."""
    body = (
        b"<!doctype html><title>Form expired</title><h1>This form has expired</h1>"
        b"<p>Go back, reload the page and send it again.</p>"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/html; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def csrf_token(conn: HTTPConnection) -> str:
    """The CSRF token for this response's forms (``<input type=hidden name=csrftoken>``)."""
    getter = conn.scope.get("csrftoken")
    if getter is None:
        raise RuntimeError("the app is not behind csrf_middleware")
    token: str = getter()
    return token


def session_secret(path: Path) -> str:
    """The signing key in ``path``: made (random, 0600) on first use, then read back.

    A key readable by others is refused: anyone who can read it can forge a session.
    """
    if not path.exists():
        ensure_private_dir(path.parent)
        value = secrets.token_urlsafe(_SECRET_BYTES) + "\n"
        with contextlib.suppress(FileExistsError):  # another console process made it first
            atomic_write(path, value.encode("ascii"), overwrite=False)
    mode = path.stat().st_mode & 0o077
    if mode:
        raise UsageError(
            f"{path}: the session key is readable by others "
            f"(mode {oct(path.stat().st_mode & 0o777)}); run `chmod 600 {path}`"
        )
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise UsageError(f"{path}: the session key is too short; delete it to make a new one")
    return text
