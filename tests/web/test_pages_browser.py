"""The dashboard and the live queue in a real Chromium (the system's, driven by Playwright)
against the console served by uvicorn: the charts draw their data; a rejection recorded while
the queue page is open appears on it without a reload."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from gateway.ledger.store import Ledger
from gateway.ledger.users import Role
from gateway.web import measures
from tests.support.browser import LiveConsole, add_user, log_in, serve_console
from tests.support.ledger import incoming, submit
from tests.support.web import console_settings
from tests.support.worklist import Item, in_ledger, open_items


async def _claims_sent(ledger: Ledger) -> None:
    await ledger.record_claims([incoming(f"B{n}", f"{100 + n}.00") for n in range(4)])
    await submit(ledger, ["B0", "B1", "B2", "B3"], "501")
    await open_items(ledger, [Item("OLD-1", days_old=3)])


def test_the_dashboard_charts_draw_their_data(chromium: Any, tmp_path: Path) -> None:
    """While the measures are computed the dashboard says so; once they are in, the block comes
    by itself (htmx) and every chart canvas is drawn by Chart.js with its numbers: twelve months
    on the trends, this month's claims measured, the open balance in the aging buckets."""
    settings = console_settings(tmp_path / "ws", f"sqlite:///{tmp_path}/ws/state/gateway.db")
    add_user(settings, "ann", Role.BILLER)
    in_ledger(settings.ledger_url, _claims_sent)
    gate = threading.Event()

    async def held(ledger: Ledger, today: date, days: Mapping[str, int]) -> measures.Trends:
        await asyncio.to_thread(gate.wait, 60)
        return await measures.trends(ledger, today, days)

    with serve_console(settings, trends=held) as url:
        _see_the_charts(chromium, LiveConsole(url, settings), gate)


def _see_the_charts(chromium: Any, live_console: LiveConsole, gate: threading.Event) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        log_in(page, live_console)
        page.get_by_text("The measures are being computed").wait_for()
        gate.set()
        page.wait_for_selector("canvas[data-points]")
        charts = page.eval_on_selector_all(
            "canvas[data-chart]",
            """(all) => all.map((c) => {
                const chart = Chart.getChart(c);
                return {name: c.dataset.chart, points: Number(c.dataset.points || -1),
                        labels: chart ? chart.data.labels.length : 0,
                        values: chart ? chart.data.datasets[0].data : [],
                        width: c.width, height: c.height,
                        drawn: c.toDataURL().length};
            })""",
        )
        blank = page.evaluate(
            """() => { const c = document.createElement('canvas'); c.width = 300; c.height = 150;
                       return c.toDataURL().length; }"""
        )
        by_name = {c["name"]: c for c in charts}
        assert set(by_name) == {
            "first_pass_rate", "denial_rate", "days_to_payment", "aging", "open_balance",
        }  # fmt: skip
        for chart in charts:
            assert chart["width"] > 0
            assert chart["height"] > 0
            assert chart["drawn"] > blank  # something was painted
        assert by_name["first_pass_rate"]["labels"] == 12
        assert by_name["first_pass_rate"]["points"] == 1  # this month: 4 sent, none answered
        assert by_name["aging"]["values"][0] == 406.0  # all four open, 0-30 days
        assert by_name["open_balance"]["values"][-1] == 406.0
        assert errors == []  # no CSP violation, no script error
    finally:
        context.close()


def test_a_new_rejection_appears_on_the_open_queue_page(
    chromium: Any, live_console: LiveConsole
) -> None:
    """With /queue open, an item recorded in the ledger (as the service would) shows up at the
    top of the table within seconds, on the same page (nothing reloaded)."""
    url = live_console.settings.ledger_url
    in_ledger(url, lambda led: open_items(led, [Item("FIRST-1", days_old=2)]))
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        log_in(page, live_console)
        page.goto(f"{live_console.url}/queue")
        page.wait_for_selector('#rows a[href="/claims/FIRST-1"]')
        page.evaluate("() => { window.notReloaded = true; }")
        page.wait_for_timeout(1500)  # the feed is connected and polling
        in_ledger(url, lambda led: open_items(led, [Item("LIVE-9", payer="60054", charge="77.00")]))
        row = page.wait_for_selector('#live-rows a[href="/claims/LIVE-9"]')
        assert row is not None
        text = page.inner_text("#live-rows")
        assert "60054" in text
        assert "77.00" in text
        assert page.evaluate("() => window.notReloaded") is True
        page.click('#live-rows a[href="/claims/LIVE-9"]')
        page.wait_for_url(f"{live_console.url}/claims/LIVE-9")
    finally:
        context.close()
