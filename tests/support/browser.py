"""Browser fixtures: the system's Chromium driven by Playwright against a real uvicorn server.

``chromium`` (one per test) is ``/usr/bin/chromium`` launched by Playwright (never a
downloaded browser; ``.ci/run`` installs Debian's package when it is missing). ``live_console``
serves the console with uvicorn on 127.0.0.1 (a free port) in a thread, on a fresh SQLite ledger
holding one biller (``LiveConsole.user`` / ``.password``); ``serve_console(settings)`` does the same
for any workspace (e.g. one that ``gateway run`` and the simulator work in). ``logged_in_page`` is
a Playwright page already logged in as that user. Browser tests are plain (sync) test functions
and set up their data off the main thread (``add_user`` shows how).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from gateway.config import Settings
from gateway.ledger.store import Ledger
from gateway.ledger.users import Role
from gateway.web.application import app
from gateway.web.passwords import hash_password
from tests.support.env import IN_CI
from tests.support.web import PASSWORD, console_settings

CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True)
class LiveConsole:
    """A console served on 127.0.0.1: its base URL and the user to log in as."""

    url: str
    settings: Settings
    user: str = "ann"
    password: str = PASSWORD


@contextmanager
def serve_console(settings: Settings, **options: Any) -> Iterator[str]:
    """Serve ``app(settings, **options)`` with uvicorn on 127.0.0.1 (a free port); yields the
    base URL."""
    config = uvicorn.Config(
        app(settings, **options), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the console did not start (see the log above)")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def add_user(settings: Settings, name: str, role: Role, password: str = PASSWORD) -> None:
    """Add a console user to the workspace's ledger (the ledger is made when missing).

    Run in a thread of its own: Playwright's sync API keeps an event loop on this one.
    """

    async def add() -> None:
        async with await Ledger.open(settings.ledger_url) as ledger:
            await ledger.add_user(name, role, hash_password(password))

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, add()).result()


@pytest.fixture
def chromium() -> Iterator[Any]:
    """The system's Chromium under Playwright (skipped off CI when it is not installed).

    One per test: Playwright's sync API keeps an event loop running on the main thread while it
    is open, which would stop every later test that runs one (``asyncio.run``, async tests).
    """
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def live_console(tmp_path: Path) -> Iterator[LiveConsole]:
    """The console served on a fresh SQLite ledger with one biller, ``ann``."""
    settings = console_settings(tmp_path / "ws", f"sqlite:///{tmp_path}/ws/state/gateway.db")
    add_user(settings, "ann", Role.BILLER)
    with serve_console(settings) as url:
        yield LiveConsole(url, settings)


def log_in(page: Any, console: LiveConsole) -> None:
    """Log in through the login form and wait for the dashboard."""
    page.goto(f"{console.url}/login")
    page.get_by_label("User name").fill(console.user)
    page.get_by_label("Password").fill(console.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{console.url}/")


@pytest.fixture
def logged_in_page(chromium: Any, live_console: LiveConsole) -> Iterator[Any]:
    """A Playwright page logged in to ``live_console`` as its biller."""
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_console)
        yield page
    finally:
        context.close()
