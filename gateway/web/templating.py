"""Jinja2 templates (``gateway/web/templates``, autoescaped) and the one way pages render them.

``render(request, "page.html", {...})`` gives every template ``user`` (the logged-in
:class:`~gateway.web.auth.WebUser` or None), ``csrf_token`` (for forms: ``{{ csrf_field() }}``),
``nav`` (the navigation this user may see, the current entry marked) and ``title``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from gateway.ledger.users import Role
from gateway.web.auth import current_user
from gateway.web.reasons import reason_meaning
from gateway.web.security import CSRF_FIELD, csrf_token

__all__ = ["NAVIGATION", "NavItem", "render", "templates"]


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation: shown to users whose role allows ``role``, when routed."""

    label: str
    path: str
    role: Role = Role.VIEWER


#: The navigation, in order. An entry whose page is not served (yet) is not shown.
NAVIGATION = (
    NavItem("Dashboard", "/"),
    NavItem("Queue", "/queue"),
    NavItem("Files", "/files"),
    NavItem("Audit", "/audit", Role.ADMIN),
    NavItem("Users", "/users", Role.ADMIN),
)

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("gateway.web", "templates"),
    autoescape=jinja2.select_autoescape(("html",), default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["reason_meaning"] = reason_meaning
templates = Jinja2Templates(env=_environment)


def _nav(request: Request) -> list[dict[str, Any]]:
    user = current_user(request)
    if user is None:
        return []
    routed: frozenset[str] = request.app.state.routed_paths
    path = request.url.path
    return [
        {
            "label": item.label,
            "path": item.path,
            "current": path == item.path or (item.path != "/" and path.startswith(item.path + "/")),
        }
        for item in NAVIGATION
        if item.path in routed and user.may(item.role)
    ]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` rendered for this request (no-store: pages may show patient data)."""
    token = csrf_token(request)

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, escape(token)
        )

    values: dict[str, Any] = {
        "user": current_user(request),
        "csrf_token": token,
        "csrf_field": csrf_field,
        "nav": _nav(request),
        "title": "",
    }
    values.update(context or {})
    response: HTMLResponse = templates.TemplateResponse(
        request, template, values, status_code=status_code, headers=dict(headers or {})
    )
    return response
