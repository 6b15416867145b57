"""Web console fixtures: the app on a fresh ledger behind Starlette's TestClient, users, logins.

``console`` is a :class:`Console` (SQLite and PostgreSQL, like ``ledger_url``) with nobody logged
in; ``Console.as_user(Role.BILLER)`` adds a user of that role and logs in; ``Console.post`` sends a
form with the page's CSRF token; ``Console.call`` runs a coroutine of the ledger on the app's loop.
Its clock (``Console.clock``, epoch seconds) moves only when the test moves it.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import pytest
from starlette.testclient import TestClient

from gateway.config import Settings, load_settings
from gateway.ledger.store import Ledger
from gateway.ledger.users import Role, UserRecord
from gateway.web.application import app
from gateway.web.passwords import hash_password
from tests.support.clock import ManualClock

T = TypeVar("T")
PASSWORD = "correct horse battery staple"
_CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


def console_settings(root: Path, ledger_url: str, web: Mapping[str, Any] | None = None) -> Settings:
    """Settings for a workspace at ``root`` on ``ledger_url``, with a ``[web]`` section."""
    lines = ["[workspace]", f'root = "{root}"', "[ledger]", f'url = "{ledger_url}"', "[web]"]
    for key, value in (web or {}).items():
        lines.append(f"{key} = {value!r}".replace("True", "true").replace("False", "false"))
    config = root / "gateway.toml"
    root.mkdir(parents=True, exist_ok=True)
    config.write_text("\n".join(lines) + "\n")
    return load_settings(config, environ={})


@dataclass
class Console:
    """The console app under a TestClient, on its own ledger."""

    client: TestClient
    clock: ManualClock
    settings: Settings

    @property
    def ledger(self) -> Ledger:
        """The app's open ledger (use it through :meth:`call`)."""
        ledger: Ledger = self.client.app.state.web.ledger  # type: ignore[attr-defined]
        return ledger

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the app's event loop (where its ledger lives)."""
        portal = self.client.portal
        assert portal is not None, "use the console inside its fixture"
        return portal.call(functools.partial(fn, *args, **kwargs))

    def refresh_dashboard(self) -> None:
        """Have the dashboard's counts and measures read the ledger as it is now (the app
        computed them when it started, and keeps them a while)."""
        self.call(self.client.app.state.web.refresh_dashboard)  # type: ignore[attr-defined]

    def add_user(self, name: str, role: Role = Role.BILLER, password: str = PASSWORD) -> UserRecord:
        """A new user in the ledger."""
        return self.call(self.ledger.add_user, name, role, hash_password(password), now=self.now())

    def now(self) -> datetime:
        """The console clock's time."""
        return datetime.fromtimestamp(self.clock.now, UTC)

    def csrf(self, page: str = "/login") -> str:
        """The CSRF token of ``page``'s forms (and its cookie in the client)."""
        response = self.client.get(page)
        found = _CSRF_INPUT.search(response.text)
        assert found is not None, f"{page} has no CSRF field"
        return found.group(1)

    def post(
        self, path: str, data: Mapping[str, str] | None = None, *, page: str = "/"
    ) -> httpx2.Response:
        """POST a form to ``path`` with the CSRF token of ``page`` (not following redirects)."""
        token = self.csrf(page)
        return self.client.post(
            path, data={**(data or {}), "csrftoken": token}, follow_redirects=False
        )

    def login(self, name: str, password: str = PASSWORD, next_path: str = "/") -> httpx2.Response:
        """Send the login form."""
        return self.post(
            "/login", {"username": name, "password": password, "next": next_path}, page="/login"
        )

    def as_user(self, role: Role, name: str | None = None) -> UserRecord:
        """Add a user with ``role`` (named after it) and log in as them."""
        user = self.add_user(name or role.value, role)
        response = self.login(user.name)
        assert response.status_code == 303, response.text
        return user

    def logout(self) -> httpx2.Response:
        """Send the logout form."""
        return self.post("/logout")


@pytest.fixture
def console(tmp_path: Path, ledger_url: str) -> Iterator[Console]:
    """The console on a fresh ledger (SQLite and PostgreSQL), nobody logged in."""
    settings = console_settings(tmp_path / "ws", ledger_url)
    clock = ManualClock(now=time.time())
    with TestClient(app(settings, clock=clock), base_url="http://127.0.0.1") as client:
        yield Console(client, clock, settings)
