"""What pages call to put a view or a change on the audit trail (``gateway.ledger.audit``).

``await audited(request, "view", claim_id=...)`` on every claim shown; ``await audited(request,
"resubmit", claim_id=..., detail={...})`` after every change. The entry names the logged-in user,
the time (the app's clock) and the client address; ``detail`` holds codes, states and control
numbers, never patient data (the ledger refuses the keys that would).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import HTTPConnection

from gateway.web.application import ledger_of, web_state
from gateway.web.auth import client_address, current_user

__all__ = ["audited", "now"]


def now(conn: HTTPConnection) -> datetime:
    """The app clock's time as an aware UTC datetime."""
    return datetime.fromtimestamp(web_state(conn).clock(), UTC)


async def audited(
    conn: HTTPConnection,
    action: str,
    *,
    claim_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> int:
    """Record ``action`` by this request's user (or ``actor``); returns the entry's id."""
    user = current_user(conn)
    name = actor if actor is not None else (user.name if user is not None else "anonymous")
    return await ledger_of(conn).audit(
        name,
        action,
        claim_id=claim_id,
        detail=detail,
        client=client_address(conn),
        now=now(conn),
    )
