"""``/queue``: the correction queue as a worklist, and ``/queue/events``, its live feed.

Every open item with its reason code, payer, partner, claim state, amount and age (no patient
data); filters (reason code, payer, partner, age, text in the claim id) and sorts are query
parameters, so a filtered view is a link to share; pages follow by key (``after``), never by
offset (:mod:`gateway.ledger.worklist`). Each row links to ``/claims/{claim_id}``.

New items appear without reloading: the page opens ``/queue/events`` (server-sent events, through
the vendored htmx ``sse`` extension) with the page's filter and the newest item id it knew; the
feed polls the ledger every :data:`POLL_SECONDS` for items after it (the page's equivalent of
``gateway queue tail -f``) and sends each as a table row. It ends when the session would expire
if the person did nothing else (``event: end``), so an open page never keeps a session alive.
When the console is stopping it just ends (no ``end``: the browser reconnects once it is back).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.ledger.worklist import DEFAULT_SORT, SORTS, CursorError, WorkFilter, WorkRow
from gateway.web.application import ledger_of, web_state
from gateway.web.auth import require, session_deadline
from gateway.web.measures import kept_on
from gateway.web.templating import render, templates

__all__ = ["POLL_SECONDS", "ROUTES"]

#: How often the live feed asks the ledger for new items.
POLL_SECONDS = 1.0
PAGE_SIZE = 50
#: How long the filter's choices (payers and reasons with their counts) are kept.
FACET_SECONDS = 30.0
#: The age filter's choices (open at least N days).
AGES = (1, 7, 14, 30, 60, 90)
SORT_LABELS = {
    "oldest": "oldest first",
    "newest": "newest first",
    "amount": "largest amount first",
    "claim": "claim id",
    "payer": "payer, then oldest",
    "reason": "reason, then oldest",
}
_FILTER_KEYS = ("reason", "payer", "partner", "age", "claim")


def _text(params: Mapping[str, str], key: str, limit: int = 80) -> str | None:
    value = (params.get(key) or "").strip()
    if len(value) > limit:
        raise HTTPException(400, f"The {key} filter is longer than {limit} characters.")
    return value or None


def read_filter(params: Mapping[str, str]) -> WorkFilter:
    """The filter of the query parameters (400 with what is wrong when one is not usable)."""
    age = _text(params, "age", 5)
    if age is not None and not age.isdigit():
        raise HTTPException(400, f"age {age!r}: give a whole number of days.")
    return WorkFilter(
        reason=_text(params, "reason"),
        payer=_text(params, "payer"),
        partner=_text(params, "partner"),
        min_age_days=int(age) if age else None,
        claim=_text(params, "claim", 38),
    )


def _filter_query(params: Mapping[str, str], **extra: str) -> str:
    kept = {k: params[k] for k in _FILTER_KEYS if params.get(k)}
    return urlencode({**kept, **{k: v for k, v in extra.items() if v}})


def render_row(row: WorkRow, now: datetime) -> str:
    """One item as the table row the page and the live feed show."""
    macro = templates.env.get_template("_queue_row.html").module.row  # type: ignore[attr-defined]
    return str(macro(row, now))


async def queue(request: Request) -> Response:
    """The worklist page."""
    require(request)
    params = request.query_params
    where = read_filter(params)
    sort = params.get("sort") or DEFAULT_SORT
    if sort not in SORTS:
        raise HTTPException(400, f"sort {sort!r}: use one of {', '.join(SORTS)}.")
    worklist = ledger_of(request).worklist
    last_id = await worklist.last_id()
    try:
        page = await worklist.page(where, sort=sort, after=params.get("after"), size=PAGE_SIZE)
    except CursorError:
        raise HTTPException(
            400, "That page link is out of date: start again from the first page."
        ) from None
    # The filter's choices and their counts: a scan of the open items, kept a while.
    facets = await kept_on(request.app.state, "queue_facets", FACET_SECONDS).get(
        None, worklist.facets
    )
    now = datetime.now(UTC)
    return render(
        request,
        "queue.html",
        {
            "title": "Correction queue",
            "page": page,
            "rows": [render_row(r, now) for r in page.rows],
            "facets": facets,
            "values": {k: params.get(k, "") for k in _FILTER_KEYS},
            "sort": sort,
            "sorts": SORT_LABELS,
            "ages": AGES,
            "paged": bool(params.get("after")),
            "first_link": "/queue?" + _filter_query(params, sort=sort),
            "next_link": None
            if page.next_cursor is None
            else "/queue?" + _filter_query(params, sort=sort, after=page.next_cursor),
            "events": "/queue/events?" + _filter_query(params, after=str(last_id)),
        },
    )


def _start(request: Request) -> int:
    """The item after which the feed starts: the page's, or the last one the browser got."""
    values = [request.query_params.get("after") or "0", request.headers.get("last-event-id") or "0"]
    try:
        return max(int(v) for v in values)
    except ValueError:
        raise HTTPException(400, "after: give an item id (a whole number).") from None


async def events(request: Request) -> Response:
    """The live feed: each new open item under the page's filter, as an ``item`` event."""
    require(request)
    where = read_filter(request.query_params)
    start = _start(request)
    state = web_state(request)
    deadline = session_deadline(request, state.idle_seconds)
    worklist = ledger_of(request).worklist

    async def stream() -> AsyncIterator[str]:
        last = start
        yield "retry: 3000\n\n"
        while not state.stopping:
            if deadline is not None and state.clock() >= deadline:
                yield "event: end\ndata: the session is idle: reload the page to follow again\n\n"
                return
            now = datetime.now(UTC)
            for row in await worklist.after(last, where):
                lines = "".join(f"data: {line}\n" for line in render_row(row, now).splitlines())
                yield f"id: {row.id}\nevent: item\n{lines}\n"
                last = row.id
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


ROUTES = [
    Route("/queue", queue, methods=["GET"]),
    Route("/queue/events", events, methods=["GET"]),
]
