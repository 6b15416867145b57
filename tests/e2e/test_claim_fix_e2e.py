"""End to end in the browser: `gateway run` and `gateway simulate` run as processes; a claim
the clearinghouse rejects (member id starting with X: 277CA A7:164:IL) is fixed on its page in
Chromium, checked, resubmitted, sent again by the service and accepted by the simulator."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gateway.config import load_settings
from gateway.ledger.users import Role
from tests.support.browser import LiveConsole, add_user, log_in, serve_console
from tests.support.e2e import GATEWAY, drop, encounters, ledger_rows, workspace

pytestmark = [pytest.mark.slow, pytest.mark.browser]

#: The environment of the processes: the workspace's own ledger, whatever the test run points at.
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "GATEWAY_LEDGER_URL"}
ACCEPTED_OR_LATER = {"accepted", "paid", "partially_paid", "denied"}


@contextmanager
def running(*commands: list[str]) -> Iterator[list[subprocess.Popen[str]]]:
    """The commands as processes (on the workspace's own SQLite ledger), stopped with SIGTERM
    (then SIGKILL) at the end."""
    procs = [
        subprocess.Popen(
            c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENVIRONMENT
        )
        for c in commands
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(check: Callable[[], bool], what: str, procs: list[Any], timeout: float = 90) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` (and a process that died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(
                    f"{proc.args[1]} exited {proc.returncode}: {proc.stderr.read()[-2000:]}"
                )
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def state_of(root: Path, claim_id: str) -> str:
    """The claim's state in the workspace's SQLite ledger ('' before it is there)."""
    try:
        rows = ledger_rows(root, f"SELECT state FROM claims WHERE claim_id = '{claim_id}'")
    except sqlite3.OperationalError:  # the service has not made the ledger yet
        return ""
    return str(rows[0][0]) if rows else ""


def test_a_rejected_claim_fixed_in_the_browser_is_accepted(chromium: Any, tmp_path: Path) -> None:
    """Rejected by the 277CA, fixed and resubmitted on the claim page, answered again: accepted."""
    root = tmp_path / "ws"
    config = workspace(root)
    (rejected,) = encounters(1, 1)
    rejected["subscriber"] = {**rejected["subscriber"], "member_id": "XUH4471829001"}
    claim_id = rejected["claim_id"]
    env_config = ["--config", str(config)]
    service = [*GATEWAY, "run", *env_config]
    simulator = [*GATEWAY, "simulate", *env_config, "--no-delays", "--interval", "0.2"]
    settings = load_settings(
        config, environ={k: v for k, v in os.environ.items() if k != "GATEWAY_LEDGER_URL"}
    )
    with running(service, simulator) as procs:
        drop(root, "one.jsonl", [rejected])
        wait_for(lambda: state_of(root, claim_id) == "payer_rejected", "the 277CA rejection", procs)
        add_user(settings, "ann", Role.BILLER)
        context = chromium.new_context()
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            with serve_console(settings) as url:
                log_in(page, LiveConsole(url, settings))
                page.goto(f"{url}/claims/{claim_id}")
                member = page.locator('input[name="subscriber.member_id"]')
                assert "true" == member.get_attribute("aria-invalid")
                member.fill("UH4471829001")
                page.get_by_role("button", name="Check with the scrubber").click()
                page.locator("#scrub-result.scrub-clean").wait_for()
                page.get_by_role("button", name="Resubmit (frequency 1)").click()
                page.locator("#flash").wait_for()
                wait_for(
                    lambda: state_of(root, claim_id) in ACCEPTED_OR_LATER,
                    "the resubmitted claim to be accepted",
                    procs,
                )
                page.goto(f"{url}/claims/{claim_id}")
                assert "accepted by 277CA" in page.locator("#timeline").inner_text()
        finally:
            context.close()
    versions = ledger_rows(
        root, f"SELECT version, frequency FROM claim_versions WHERE claim_id = '{claim_id}'"
    )
    accepted = ledger_rows(
        root,
        f"SELECT version FROM claim_events WHERE claim_id = '{claim_id}' AND to_state = 'accepted'",
    )
    assert [(1, "1"), (2, "1")] == sorted(versions)
    assert {(2,)} == set(accepted)  # the clearinghouse and the payer 277CA accept version 2
