"""The console's skeleton: login, the dashboard shell, logout."""

from __future__ import annotations

from gateway.ledger.users import Role
from tests.support.web import Console


def test_login_dashboard_logout(console: Console) -> None:
    """A biller logs in, sees the dashboard with the navigation, and logs out."""
    first = console.client.get("/", follow_redirects=False)
    assert (first.status_code, first.headers["location"]) == (303, "/login?next=/")
    console.as_user(Role.BILLER)
    page = console.client.get("/")
    assert page.status_code == 200
    assert "Claims by state" in page.text
    assert 'href="/audit"' not in page.text  # admins only
    out = console.logout()
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert console.client.get("/", follow_redirects=False).status_code == 303
