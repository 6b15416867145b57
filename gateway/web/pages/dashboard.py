"""``/``: the dashboard. Claims by state with their amounts; first-pass acceptance, denial rate,
days to payment and A/R aging, each this month and as a trend by month (charts drawn in the
browser by the vendored Chart.js from the JSON the page carries); what needs attention now (the
oldest open correction items, claims with no answer, files set aside or held).

The numbers are those of ``gateway report`` (:mod:`gateway.ledger.reports`), assembled and kept
by :mod:`gateway.web.measures`. Claim ids, payer ids, codes, counts and amounts only.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web import measures
from gateway.web.application import ledger_of, web_state
from gateway.web.auth import require
from gateway.web.templating import render

__all__ = ["ROUTES"]


async def dashboard(request: Request) -> Response:
    """The dashboard page."""
    require(request)
    ledger = ledger_of(request)
    days = web_state(request).settings.no_answer_days()
    today = measures.today_utc()
    trends: measures.Trends = await measures.kept_on(
        request.app.state, "dashboard_trends", measures.FRESH_SECONDS
    ).get(today, lambda: measures.trends(ledger, today, days))
    now: measures.Attention = await measures.kept_on(
        request.app.state, "dashboard_now", measures.LIVE_SECONDS
    ).get(today, lambda: measures.attention(ledger, today, days))
    return render(
        request,
        "dashboard.html",
        {
            "title": "Dashboard",
            "trends": trends,
            "now": now,
            "cards": _cards(trends),
            "charts": trends.chart_data(),
            "window": measures.since(trends.period),
        },
    )


def _cards(trends: measures.Trends) -> list[dict[str, Any]]:
    """Each measure this month, last month, and how it moved."""

    def pair(values: list[Any]) -> tuple[Any, Any]:
        return (values[-1] if values else None, values[-2] if len(values) > 1 else None)

    out = []
    for key, label, unit, better in (
        ("first_pass_rate", "First-pass acceptance", "%", "up"),
        ("denial_rate", "Denial rate", "%", "down"),
        ("days_to_payment", "Days to payment (median)", " days", "down"),
    ):
        series = getattr(trends, key)
        this, last = pair(series)
        scale = 100 if unit == "%" else 1
        out.append(
            {
                "key": key,
                "label": label,
                "value": None if this is None else f"{this * scale:.1f}{unit}",
                "last": None if last is None else f"{last * scale:.1f}{unit}",
                "move": _move(this, last, better),
            }
        )
    return out


def _move(this: float | None, last: float | None, better: str) -> str:
    if this is None or last is None or this == last:
        return "same"
    up = this > last
    return "better" if up == (better == "up") else "worse"


ROUTES = [Route("/", dashboard, methods=["GET"])]
