"""``/``: the dashboard. Claims by state with their amounts; first-pass acceptance, denial rate,
days to payment and A/R aging, each this month and as a trend by month (charts drawn in the
browser by the vendored Chart.js from the JSON the page carries); what needs attention now (the
oldest open correction items, claims with no answer, files set aside or held).

The numbers are those of ``gateway report`` (:mod:`gateway.ledger.reports`), assembled and kept
by :mod:`gateway.web.measures`. Claim ids, payer ids, codes, counts and amounts only.

The monthly measures take seconds to compute over a large ledger; they start when the console
starts. Until they are in, the page shows the counts at once and a placeholder that asks
``/dashboard/measures`` (htmx, every second) for the measures block, which draws its charts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web import measures
from gateway.web.application import web_state
from gateway.web.auth import require
from gateway.web.templating import render

__all__ = ["ROUTES"]


async def dashboard(request: Request) -> Response:
    """The dashboard page (the measures block, or its placeholder while they are computed)."""
    require(request)
    state = web_state(request)
    now = await state.dashboard_now()
    context = _measures_context(state.dashboard_measures(), measures.today_utc())
    return render(request, "dashboard.html", {"title": "Dashboard", "now": now, **context})


async def measures_block(request: Request) -> Response:
    """``/dashboard/measures``: the measures block, or the placeholder again while they are
    computed (the placeholder asks again a second later)."""
    require(request)
    context = _measures_context(web_state(request).dashboard_measures(), measures.today_utc())
    return render(request, "_dashboard_measures.html", context)


def _measures_context(trends: measures.Trends | None, today: date) -> dict[str, Any]:
    if trends is None:
        return {"trends": None, "window": measures.since(measures.window(today))}
    return {
        "trends": trends,
        "cards": _cards(trends),
        "charts": trends.chart_data(),
        "window": measures.since(trends.period),
    }


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


ROUTES = [
    Route("/", dashboard, methods=["GET"]),
    Route("/dashboard/measures", measures_block, methods=["GET"]),
]
