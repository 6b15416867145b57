"""``/audit`` (admins): the audit trail, newest first, for a claim and/or a user, paged."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.ledger.users import Role
from gateway.web.application import ledger_of
from gateway.web.auth import require
from gateway.web.templating import render

__all__ = ["PAGE_SIZE", "ROUTES"]

PAGE_SIZE = 50


async def audit_page(request: Request) -> Response:
    """Entries newest first; ``claim`` and ``user`` filter, ``before`` (an entry id) pages."""
    require(request, Role.ADMIN)
    query = request.query_params
    claim_id = query.get("claim", "").strip() or None
    actor = query.get("user", "").strip() or None
    before_text = query.get("before", "")
    if before_text and not before_text.isdigit():
        raise HTTPException(400, "before: expected an entry number")
    page = await ledger_of(request).audit_entries(
        claim_id=claim_id,
        actor=actor,
        before=int(before_text) if before_text else None,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "audit.html",
        {
            "title": "Audit trail",
            "entries": page.entries,
            "next_before": page.next_before,
            "claim": claim_id or "",
            "actor": actor or "",
        },
    )


ROUTES = [Route("/audit", audit_page, methods=["GET"])]
