"""``/login`` and ``/logout``: the only page open without a session, and the way out."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.ledger.users import USER_NAME
from gateway.web import passwords
from gateway.web.application import ledger_of, web_state
from gateway.web.auditing import audited, now
from gateway.web.auth import client_address, current_user, require, safe_next, start_session
from gateway.web.templating import render

__all__ = ["ROUTES"]

_FAILED = "That user name and password do not match an active user."


async def login_page(request: Request) -> Response:
    """The login form (a logged-in user goes on to where they were going)."""
    target = safe_next(request.query_params.get("next"))
    if current_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    expired = request.query_params.get("expired") == "1"
    notice = "Your session ended after a time without use; log in again." if expired else ""
    return render(request, "login.html", {"title": "Log in", "next": target, "notice": notice})


async def login(request: Request) -> Response:
    """Check the name and password; start a session and go on, or say no (429 past the limit)."""
    form = await request.form()
    name = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    state = web_state(request)
    address = client_address(request)
    context = {"title": "Log in", "next": target, "notice": "", "username": name}
    if not state.limiter.allowed(name, address):
        context["error"] = "Too many failed attempts. Wait a minute, then try again."
        return render(
            request, "login.html", context, status_code=429, headers={"Retry-After": "60"}
        )
    ledger = ledger_of(request)
    user = await ledger.user_by_name(name) if USER_NAME.match(name) else None
    stored = user.password_hash if user is not None else None
    ok = await anyio.to_thread.run_sync(passwords.verify, stored, password)
    if user is None or not ok or not user.active:
        state.limiter.failed(name, address)
        await audited(
            request,
            "login-failed",
            actor=user.name if user is not None else "unknown",
            detail={"reason": "disabled" if user is not None and ok else "mismatch"},
        )
        context["error"] = _FAILED
        return render(request, "login.html", context, status_code=401)
    if passwords.needs_rehash(user.password_hash):
        rehashed = await anyio.to_thread.run_sync(passwords.hash_password, password)
        user = await ledger.set_user_password(user.name, rehashed, now=now(request))
    start_session(request, user, state.clock())
    await audited(request, "login", actor=user.name)
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    """End the session (every session of this user) and go back to the login page."""
    user = require(request)
    await ledger_of(request).end_sessions(user.name, now=now(request))
    await audited(request, "logout")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


ROUTES = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
