"""Fixing a rejected claim in real Chromium: the finding at its field, the code look-up, the
scrubber clean, resubmitted. GATEWAY_SCREENSHOTS=1 refreshes docs/screenshots/claim-page.png."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gateway.ledger.users import Role
from tests.support.browser import LiveConsole, add_user, log_in, serve_console
from tests.support.claim_web import settle, worked_encounters, worked_settings
from tests.support.env import ROOT
from tests.support.service import drop

pytestmark = pytest.mark.browser

SCREENSHOT = ROOT / "docs" / "screenshots" / "claim-page.png"


def test_fix_a_rejected_claim_in_the_browser(chromium: Any, tmp_path: Path) -> None:
    """A biller opens the claim the 277CA rejected (A7:164:IL), sees the member id flagged,
    looks a code up, fixes the member id, sees the scrubber clean, and resubmits it."""
    settings = worked_settings(tmp_path / "ws", f"sqlite:///{tmp_path}/ws/state/gateway.db")
    drop(settings, "worked.json", worked_encounters())
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API keeps a loop on this thread
        pool.submit(asyncio.run, settle(settings)).result()
    add_user(settings, "ann", Role.BILLER)
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        with serve_console(settings) as url:
            log_in(page, LiveConsole(url, settings))
            page.goto(f"{url}/claims/WEB-REJ")
            member = page.locator('input[name="subscriber.member_id"]')
            assert "true" == member.get_attribute("aria-invalid")
            assert "STC-A7:164:IL" in page.locator(".field.flagged").first.inner_text()
            # the look-up: focusing a diagnosis picks ICD-10-CM; typing searches (htmx)
            page.locator('input[name="diagnoses[0]"]').focus()
            page.get_by_label("Code or words").fill("E11.6")
            page.locator("#lookup-results code", has_text="E11.65").wait_for()
            shot = SCREENSHOT if os.environ.get("GATEWAY_SCREENSHOTS") else tmp_path / "claim.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            clip = {"x": 0, "y": 0, "width": 1100, "height": 820}
            page.screenshot(path=str(shot), full_page=True, clip=clip)
            member.fill("UH4471829001")
            page.get_by_role("button", name="Check with the scrubber").click()
            page.locator("#scrub-result.scrub-clean").wait_for()
            assert 0 == page.locator(".field.flagged").count()
            assert (
                "UH4471829001" == page.locator('input[name="subscriber.member_id"]').input_value()
            )
            page.get_by_role("button", name="Resubmit (frequency 1)").click()
            page.locator("#flash").wait_for()
            assert "resubmitted as version 2 (frequency 1)" in page.locator("#flash").inner_text()
            assert "queued" in page.get_by_role("heading", level=1).inner_text()
        assert [] == problems
    finally:
        context.close()
