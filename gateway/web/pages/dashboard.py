"""``/``: the dashboard. A placeholder until the dashboard of the reports lands: claims by state
with their charges and payments, and the counts that need attention, from the ledger."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.ledger.lifecycle import ClaimState
from gateway.web.application import ledger_of
from gateway.web.auth import require
from gateway.web.templating import render

__all__ = ["ROUTES"]


async def dashboard(request: Request) -> Response:
    """Claims by state (in lifecycle order) and what needs attention."""
    require(request)
    summary = await ledger_of(request).status(oldest=0)
    rows = [
        {
            "state": state.value.replace("_", " "),
            "count": summary.counts[state],
            "charges": f"{summary.charges[state]:,.2f}",
            "paid": f"{summary.paid[state]:,.2f}",
        }
        for state in ClaimState
        if summary.counts.get(state)
    ]
    return render(
        request,
        "dashboard.html",
        {
            "title": "Dashboard",
            "rows": rows,
            "total": sum(summary.counts.values()),
            "summary": summary,
        },
    )


ROUTES = [Route("/", dashboard, methods=["GET"])]
