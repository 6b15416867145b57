"""Rules every route keeps, whichever page module adds it: a login first, viewers change nothing.

The routes come from the app itself (every module of ``gateway.web.pages``), so a page added
later is held to the same rules without editing this file.
"""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import re

from starlette.routing import Route

from gateway.ledger.users import Role
from gateway.web.application import page_routes
from tests.support.web import Console

#: The routes open to anyone logged in, whatever they do.
_ANY_USER_POSTS = {"/login", "/logout"}


def _routes(method: str) -> list[str]:
    """Each page route answering ``method``, its path parameters filled with a claim-like id."""
    return sorted(
        {
            re.sub(r"\{[^}]+\}", "X1", route.path)
            for route in page_routes()
            if isinstance(route, Route) and method in (route.methods or ())
        }
    )


def test_every_page_needs_a_login(console: Console) -> None:
    """Without a session every GET but the login page goes to the login page, every POST but
    the login form is refused."""
    for path in _routes("GET"):
        if path == "/login":
            continue
        response = console.client.get(path, follow_redirects=False)
        assert 303 == response.status_code, path
        assert response.headers["location"].startswith("/login?next="), path
    for path in _routes("POST"):
        if path == "/login":
            continue
        response = console.client.post(path, data={}, follow_redirects=False)
        assert response.status_code in (401, 403), path


def test_viewers_change_nothing(console: Console) -> None:
    """A viewer's form to any route that changes something is refused (403)."""
    console.as_user(Role.VIEWER)
    posts = [p for p in _routes("POST") if p not in _ANY_USER_POSTS]
    assert "/users" in posts
    for path in posts:
        assert 403 == console.post(path, {}).status_code, path
