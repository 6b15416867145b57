"""``/files``: files that need a person, and what went out today.

Quarantined and refused files with their ``.error.json`` shown readably (what, where, what to
do, the findings), held response files as ``gateway responses list`` shows them, what responses
said that matched nothing we sent, and the 837 interchanges handed to each partner today.
File names, codes, locations, counts and control numbers; the explanations are the gateway's
own words about a file, read from the ``.error.json`` beside it when it is still there (else
the ledger's copy of the problem).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.ledger.file_lists import held_data, sent_totals
from gateway.ledger.records import FileRecord
from gateway.service.files.common import ERROR_SUFFIX
from gateway.web.application import ledger_of, web_state
from gateway.web.auth import require
from gateway.web.templating import render

__all__ = ["ROUTES", "explanation"]

#: How many files set aside, and unmatched answers, the page lists (newest first).
LIMIT = 50
#: An .error.json larger than this is not read into the page (its path is shown).
MAX_ERROR_BYTES = 256 * 1024
#: Findings shown per file (the rest are counted).
MAX_FINDINGS = 20


def explanation(record: FileRecord, quarantine: Path) -> dict[str, Any]:
    """What the page shows about a file set aside: its ``.error.json`` when it is in the
    quarantine folder and readable, else the problem the ledger recorded."""
    report: dict[str, Any] = {}
    source = "ledger"
    if record.archive_path:
        path = Path(record.archive_path + ERROR_SUFFIX)
        try:
            inside = path.resolve().is_relative_to(quarantine.resolve())
            if inside and path.is_file() and path.stat().st_size <= MAX_ERROR_BYTES:
                loaded = json.loads(path.read_text(encoding="utf-8", errors="replace"))
                if isinstance(loaded, dict):
                    report, source = loaded, path.name
        except (OSError, ValueError):
            report = {}
    problem = report.get("error") if report else record.detail
    problem = problem if isinstance(problem, Mapping) else {}
    findings = [f for f in problem.get("findings") or () if isinstance(f, Mapping)]
    return {
        "id": record.id,
        "name": record.name,
        "kind": record.kind,
        "status": record.status,
        "source": source,
        "quarantined_as": report.get("quarantined_as"),
        "quarantined_at": report.get("quarantined_at"),
        "code": problem.get("code", ""),
        "what": problem.get("what", ""),
        "where": _where(problem.get("where")),
        "what_to_do": problem.get("what_to_do", ""),
        "findings": [_finding(f) for f in findings[:MAX_FINDINGS]],
        "more_findings": max(0, len(findings) - MAX_FINDINGS),
    }


def _where(value: Any) -> str:
    """A location (``{"segment": 4, "element": 2, ...}``) in words."""
    if not isinstance(value, Mapping):
        return "" if value in (None, "") else str(value)
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items() if v not in (None, ""))


def _finding(value: Mapping[str, Any]) -> dict[str, str]:
    return {
        "code": str(value.get("code", "")),
        "message": str(value.get("message", "")),
        "where": _where(value.get("location") or value.get("where")),
        "hint": str(value.get("hint", "")),
    }


async def files(request: Request) -> Response:
    """The files page."""
    require(request)
    ledger = ledger_of(request)
    lists = ledger.file_lists
    quarantine = web_state(request).settings.workspace.quarantine
    today = datetime.now(UTC).date()
    sent = await lists.sent_on(today)
    return render(
        request,
        "files.html",
        {
            "title": "Files",
            "counts": await lists.counts(),
            "set_aside": [explanation(r, quarantine) for r in await lists.set_aside(limit=LIMIT)],
            "held": [held_data(r) for r in await lists.held()],
            "unmatched": await lists.unmatched(limit=LIMIT),
            "sent": sent,
            "sent_totals": sent_totals(sent),
            "today": today,
            "limit": LIMIT,
        },
    )


ROUTES = [Route("/files", files, methods=["GET"])]
