"""``/users`` (admins): the console's users; add one, change a role, disable or enable one.

Every change is on the audit trail and ends the changed user's sessions. An admin cannot disable
themself nor take away their own admin role (someone must be left to manage users).
"""

from __future__ import annotations

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.ledger.repository import LedgerError
from gateway.ledger.users import Role, UnknownUserError
from gateway.web import passwords
from gateway.web.application import ledger_of
from gateway.web.auditing import audited, now
from gateway.web.auth import WebUser, require
from gateway.web.templating import render

__all__ = ["ROUTES"]


async def _page(
    request: Request, *, error: str = "", notice: str = "", status_code: int = 200
) -> Response:
    users = await ledger_of(request).users()
    return render(
        request,
        "users.html",
        {
            "title": "Users",
            "users": users,
            "roles": [r.value for r in Role],
            "error": error,
            "notice": notice,
            "min_length": passwords.MIN_LENGTH,
        },
        status_code=status_code,
    )


async def users_page(request: Request) -> Response:
    """The list of users with the forms to change them."""
    require(request, Role.ADMIN)
    notice = {"added": "User added.", "changed": "User changed."}.get(
        request.query_params.get("done", ""), ""
    )
    return await _page(request, notice=notice)


async def add_user(request: Request) -> Response:
    """Add a user with a role and a first password."""
    require(request, Role.ADMIN)
    form = await request.form()
    name = str(form.get("name", "")).strip()
    role = _role(str(form.get("role", "")))
    try:
        hashed = await anyio.to_thread.run_sync(
            passwords.hash_password, str(form.get("password", ""))
        )
        await ledger_of(request).add_user(name, role, hashed, now=now(request))
    except (passwords.PasswordError, LedgerError) as exc:
        return await _page(request, error=str(exc), status_code=400)
    await audited(request, "user-add", detail={"user": name, "role": role.value})
    return RedirectResponse("/users?done=added", status_code=303)


async def change_user(request: Request) -> Response:
    """Change a user's role, or disable or enable them (``action`` in the form)."""
    admin = require(request, Role.ADMIN)
    name = request.path_params["name"]
    form = await request.form()
    action = str(form.get("action", ""))
    ledger = ledger_of(request)
    at = now(request)
    try:
        if action == "role":
            role = _role(str(form.get("role", "")))
            _not_self(admin, name, role != Role.ADMIN, "take away your own admin role")
            await ledger.set_user_role(name, role, now=at)
            detail = {"user": name, "role": role.value}
        elif action == "disable":
            _not_self(admin, name, True, "disable yourself")
            await ledger.disable_user(name, now=at)
            detail = {"user": name}
        elif action == "enable":
            await ledger.enable_user(name, now=at)
            detail = {"user": name}
        else:
            raise HTTPException(400, "Unknown action; use the buttons of the users page.")
    except UnknownUserError as exc:
        raise HTTPException(404, str(exc)) from None
    await audited(request, f"user-{action}", detail=detail)
    return RedirectResponse("/users?done=changed", status_code=303)


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise HTTPException(400, "Pick a role: viewer, biller or admin.") from None


def _not_self(admin: WebUser, name: str, refused: bool, what: str) -> None:
    if refused and admin.name == name:
        raise HTTPException(400, f"You cannot {what}; ask another admin.")


ROUTES = [
    Route("/users", users_page, methods=["GET"]),
    Route("/users", add_user, methods=["POST"]),
    Route("/users/{name}", change_user, methods=["POST"]),
]
