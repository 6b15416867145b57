"""Who is asking: the session cookie read back into a user, the idle limit, and role checks.

A session is a cookie signed by Starlette's ``SessionMiddleware`` (itsdangerous) holding the user's
id, when the session began and when its last request was (``uid``, ``since``, ``seen``; no patient
data). :class:`AuthMiddleware` checks it on every request against the ledger: the user exists and
is not disabled, the session began after the user's ``sessions_valid_after`` (logout, disabling, a
new role or password end sessions), and the last request was less than the idle limit ago; then it
refreshes ``seen``. Pages call :func:`require` with the role they need.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.ledger.users import Role, UserRecord

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

__all__ = [
    "PUBLIC_PATHS",
    "AuthMiddleware",
    "Clock",
    "Role",
    "WebUser",
    "client_address",
    "current_user",
    "require",
    "safe_next",
    "session_deadline",
    "start_session",
]

#: Seconds since the epoch (``time.time``); tests inject a clock they move by hand.
Clock = Callable[[], float]
#: Paths open without a session: the login page and (a prefix ending in "/") the static files.
PUBLIC_PATHS = ("/login", "/static/")
_UID, _SINCE, _SEEN = "uid", "since", "seen"


@dataclass(frozen=True)
class WebUser:
    """The user of the current request."""

    id: int
    name: str
    role: Role

    def may(self, role: Role) -> bool:
        """Whether this user may do what ``role`` may."""
        return self.role.allows(role)


def current_user(conn: HTTPConnection) -> WebUser | None:
    """The logged-in user of this request (None on the public pages when nobody is)."""
    user: WebUser | None = conn.scope.get("state", {}).get("user")
    return user


def require(conn: HTTPConnection, role: Role = Role.VIEWER) -> WebUser:
    """The logged-in user if their role allows ``role``; else 403 (the page says why).

    Every route calls this first: ``user = require(request, Role.BILLER)`` before a change,
    ``require(request)`` for a page any logged-in user may read.
    """
    user = current_user(conn)
    if user is None:  # the middleware lets nobody past without a session but on public paths
        raise HTTPException(401, "Log in first.")
    if not user.may(role):
        raise HTTPException(
            403, f"This needs the {role.value} role; you are logged in as a {user.role.value}."
        )
    return user


def client_address(conn: HTTPConnection) -> str:
    """The client's address (behind a TLS proxy, what uvicorn's proxy headers say)."""
    return conn.client.host if conn.client is not None else "unknown"


def safe_next(target: str | None) -> str:
    """``target`` when it is a path of this site (``/claims/X``), else ``/``: no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def start_session(conn: HTTPConnection, user: UserRecord, now: float) -> None:
    """Replace whatever session the request had with a new one for ``user``."""
    conn.session.clear()
    conn.session.update({_UID: user.id, _SINCE: now, _SEEN: now})


def session_deadline(conn: HTTPConnection, idle_seconds: float) -> float | None:
    """When this session ends if no other request comes (epoch seconds; None: no session).

    A long-lived response (server-sent events) ends its stream by then.
    """
    seen = conn.session.get(_SEEN)
    return None if not isinstance(seen, int | float) else float(seen) + idle_seconds


class AuthMiddleware:
    """Loads the session's user into ``request.state.user``; turns away everyone else.

    Without a valid session a page request (GET) is redirected to ``/login?next=<path>``
    (``expired=1`` when the session ran past the idle limit), an htmx request gets 401 with
    ``HX-Redirect`` to the login page, and anything else gets 401.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        ledger: Callable[[], Ledger],
        clock: Clock = time.time,
        idle_seconds: float,
        public: Iterable[str] = PUBLIC_PATHS,
    ) -> None:
        self.app = app
        self.ledger = ledger
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.public = tuple(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        user, expired = await self._user(conn)
        scope.setdefault("state", {})["user"] = user
        path: str = scope["path"]
        if user is None and not any(
            path.startswith(p) if p.endswith("/") else path == p for p in self.public
        ):
            await self._turn_away(conn, expired)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _user(self, conn: HTTPConnection) -> tuple[WebUser | None, bool]:
        session = conn.session
        uid, since, seen = session.get(_UID), session.get(_SINCE), session.get(_SEEN)
        if not isinstance(uid, int) or not isinstance(since, int | float):
            session.clear()
            return None, False
        now = self.clock()
        if not isinstance(seen, int | float) or now - float(seen) > self.idle_seconds:
            session.clear()
            return None, True
        record = await self.ledger().user_by_id(uid)
        if (
            record is None
            or not record.active
            # Begun before the user's sessions were ended (1 ms for the database's rounding).
            or float(since) < record.sessions_valid_after.timestamp() - 0.001
        ):
            session.clear()
            return None, False
        session[_SEEN] = now
        return WebUser(record.id, record.name, record.role), False

    def _turn_away(self, conn: HTTPConnection, expired: bool) -> Response:
        target = conn.url.path + (f"?{conn.url.query}" if conn.url.query else "")
        login = "/login?next=" + quote(target, safe="/")
        if expired:
            login += "&expired=1"
        if conn.headers.get("hx-request") == "true":
            return PlainTextResponse("Log in again.", 401, headers={"HX-Redirect": login})
        if conn.scope.get("method") in ("GET", "HEAD"):
            return RedirectResponse(login, status_code=303)
        return PlainTextResponse("Log in first.", 401)
