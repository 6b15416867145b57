"""``app(settings)``: the console's Starlette application.

The layers, outermost first: :class:`~gateway.web.security.SecurityHeaders` (every response),
asgi-csrf (every POST), Starlette's signed session cookie (``HttpOnly``, ``SameSite=Strict``,
``Secure`` over HTTPS), :class:`~gateway.web.auth.AuthMiddleware` (the user, the idle limit,
login required), then the routes: the static files and every page module of
``gateway.web.pages`` (each exposes ``ROUTES``; adding a page never edits a shared list).

The ledger is opened when the app starts (``lifespan``) and kept in ``app.state.ledger``; pages
reach it with :func:`ledger_of`. The dashboard's monthly measures (seconds of work at 100,000
claims) start computing in the background as the app starts, so that no request waits for them
(:meth:`WebState.dashboard_measures`). ``clock`` (epoch seconds) and ``trends`` (the measures'
computation) are injectable for the tests.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.config import Settings
from gateway.web import measures, pages
from gateway.web.auth import AuthMiddleware, Clock
from gateway.web.ratelimit import LoginLimiter
from gateway.web.security import (
    LoopbackHostOnly,
    SecurityHeaders,
    csrf_middleware,
    session_secret,
)
from gateway.web.templating import render

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

__all__ = [
    "SESSION_COOKIE",
    "STATIC_DIR",
    "TrendsCompute",
    "WebState",
    "app",
    "ledger_of",
    "page_routes",
    "web_state",
]

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "gateway_session"

#: How the dashboard's monthly measures are computed: (ledger, today, no-answer days) -> Trends.
TrendsCompute = Callable[["Ledger", date, Mapping[str, int]], Awaitable[measures.Trends]]


class WebState:
    """What every request may need: settings, the open ledger, the clock, the login limiter,
    the dashboard's monthly measures."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        limiter: LoginLimiter,
        trends: TrendsCompute = measures.trends,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.limiter = limiter
        self.trends: measures.Kept[measures.Trends] = measures.Kept(measures.FRESH_SECONDS)
        self.now: measures.Kept[measures.Attention] = measures.Kept(measures.LIVE_SECONDS)
        self._compute_trends = trends
        self._ledger: Ledger | None = None
        #: Set when the server is asked to stop: long requests (the live feeds) end.
        self.stopping = False

    def _trends_job(self) -> tuple[date, Callable[[], Awaitable[measures.Trends]]]:
        ledger, today, days = self.ledger, measures.today_utc(), self.settings.no_answer_days()
        return today, lambda: self._compute_trends(ledger, today, days)

    def dashboard_measures(self) -> measures.Trends | None:
        """The monthly measures, or ``None`` while they are first computed (in the background:
        never waits)."""
        today, job = self._trends_job()
        return self.trends.peek(today, job)

    async def dashboard_now(self) -> measures.Attention:
        """The claims by state and what needs attention (kept :data:`measures.LIVE_SECONDS`)."""
        ledger, today, days = self.ledger, measures.today_utc(), self.settings.no_answer_days()
        return await self.now.get(today, lambda: measures.attention(ledger, today, days))

    def _start_dashboard(self) -> None:
        """Begin both of the dashboard's computations in the background (the app starts)."""
        ledger, today, days = self.ledger, measures.today_utc(), self.settings.no_answer_days()
        self.now.start(today, lambda: measures.attention(ledger, today, days))
        self.dashboard_measures()

    async def refresh_counts(self) -> None:
        """Read the dashboard's counts now and keep them (what the next request shows)."""
        ledger, today, days = self.ledger, measures.today_utc(), self.settings.no_answer_days()
        await self.now.refresh(today, lambda: measures.attention(ledger, today, days))

    async def refresh_dashboard(self) -> None:
        """Compute the dashboard's counts and measures now and keep them."""
        await self.refresh_counts()
        today, job = self._trends_job()
        await self.trends.refresh(today, job)

    @property
    def ledger(self) -> Ledger:
        """The ledger, open while the app runs."""
        if self._ledger is None:
            raise RuntimeError("the ledger is not open: the app's lifespan has not started")
        return self._ledger

    @property
    def idle_seconds(self) -> float:
        """How long a session lasts without a request."""
        return self.settings.web.idle_minutes * 60.0


def web_state(conn: HTTPConnection) -> WebState:
    """The app's :class:`WebState`."""
    state: WebState = conn.app.state.web
    return state


def ledger_of(conn: HTTPConnection) -> Ledger:
    """The open ledger, for a page."""
    return web_state(conn).ledger


def page_routes() -> list[BaseRoute]:
    """Every route of the page modules of ``gateway.web.pages`` (each module's ``ROUTES``)."""
    routes: list[BaseRoute] = []
    for info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{pages.__name__}.{info.name}")
        routes.extend(getattr(module, "ROUTES", ()))
    return routes


def app(
    settings: Settings, *, clock: Clock = time.time, trends: TrendsCompute = measures.trends
) -> Starlette:
    """The console for ``settings`` (its ledger, its ``[web]`` section)."""
    web = settings.web
    secret_file = web.session_secret_file or settings.workspace.state / "web-secret"
    secret = session_secret(secret_file)
    state = WebState(settings, clock, LoginLimiter(), trends)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        from gateway.ledger.store import Ledger

        state._ledger = await Ledger.open(settings.ledger_url)
        state._start_dashboard()  # in the background: the first dashboard need not wait
        try:
            yield
        finally:
            await state.trends.close()
            await state.now.close()
            await state._ledger.close()
            state._ledger = None

    routes = [
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        *page_routes(),
    ]
    middleware = [
        Middleware(SecurityHeaders, https=web.https),
        # Plain HTTP is served on loopback only (server.check_bind): answer to this machine's names.
        *([] if web.https else [Middleware(LoopbackHostOnly)]),
        Middleware(csrf_middleware, secret=secret + ":csrf", https=web.https),
        Middleware(
            SessionMiddleware,
            secret_key=secret + ":session",
            session_cookie=SESSION_COOKIE,
            max_age=int(state.idle_seconds),
            same_site="strict",
            https_only=web.https,
        ),
        Middleware(
            AuthMiddleware,
            ledger=lambda: state.ledger,
            clock=clock,
            idle_seconds=state.idle_seconds,
        ),
    ]
    application = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )
    application.state.web = state
    application.state.routed_paths = frozenset(r.path for r in routes if isinstance(r, Route))
    return application


async def _http_error(request: Request, exc: Exception) -> Response:
    """An error page in the layout (403: which role is needed; 404; 429: when to try again)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 401:
        return Response(exc.detail, 401)
    headers: dict[str, Any] = dict(exc.headers or {})
    return render(
        request,
        "error.html",
        {
            "title": _TITLES.get(exc.status_code, "Error"),
            "status": exc.status_code,
            "detail": exc.detail,
        },
        status_code=exc.status_code,
        headers=headers,
    )


_TITLES = {
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    429: "Too many attempts",
}
