"""The console in real Chromium: log in, the dashboard shell, log out."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import LiveConsole, log_in

pytestmark = pytest.mark.browser


def test_log_in_see_the_dashboard_log_out(chromium: Any, live_console: LiveConsole) -> None:
    """The login form leads to the dashboard (htmx loaded under the CSP, no violations); the
    logout button leads back to the login page, and the dashboard needs a login again."""
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{live_console.url}/")
        assert page.url.startswith(f"{live_console.url}/login")
        log_in(page, live_console)
        assert "Dashboard" == page.get_by_role("heading", level=1).inner_text()
        nav = page.get_by_role("navigation", name="Main")
        assert "Dashboard" in nav.inner_text()
        assert "Users" not in nav.inner_text()  # a biller
        assert page.get_by_text("ann").first.is_visible()
        assert page.evaluate("typeof window.htmx") == "object"
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{live_console.url}/login")
        page.goto(f"{live_console.url}/")
        assert page.url.startswith(f"{live_console.url}/login")
        assert [] == problems
    finally:
        context.close()


def test_logged_in_page_fixture(logged_in_page: Any) -> None:
    """The fixture other browser tests start from is on the dashboard, logged in."""
    assert logged_in_page.get_by_role("button", name="Log out").is_visible()
