"""``/codes/lookup``: the code look-up beside the claim form (an htmx fragment).

ICD-10-CM, HCPCS Level II and modifiers by code start or words, judged on the claim's date of
service: the same functions as ``gateway codes search`` (:mod:`gateway.codes.lookup`). Code
sets hold no patient data; any logged-in user may look codes up.
"""

from __future__ import annotations

import asyncio
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.codes import lookup
from gateway.web.auth import require
from gateway.web.templating import render

__all__ = ["ROUTES"]

_SETS = {
    "icd": ("ICD-10-CM", lookup.icd_matches),
    "hcpcs": ("HCPCS Level II", lookup.hcpcs_matches),
    "modifier": ("modifier", lookup.modifier_matches),
}
_MAX_QUERY = 100


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def code_lookup(request: Request) -> Response:
    """``GET /codes/lookup?set=icd|hcpcs|modifier&q=...&date=YYYY-MM-DD``: up to 25 codes."""
    require(request)
    params = request.query_params
    chosen = params.get("set", "icd")
    name, find = _SETS.get(chosen, _SETS["icd"])
    query = params.get("q", "").strip()[:_MAX_QUERY]
    day = _day(params.get("date")) or date.today()
    matches = await asyncio.to_thread(find, query, day) if query else []
    context = {
        "set": chosen if chosen in _SETS else "icd",
        "set_name": name,
        "query": query,
        "day": day.isoformat(),
        "matches": matches,
    }
    return render(request, "codes_lookup.html", context)


ROUTES = [Route("/codes/lookup", code_lookup, methods=["GET"])]
