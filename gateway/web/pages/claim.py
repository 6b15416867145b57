"""``/claims/{claim_id}``: one claim, and fixing it.

The page tells the claim's story from the ledger (the same ``claim_history`` as ``gateway claim
show``): its timeline, versions and legs (one per payer), the encounter with each
finding at its field, the 277CA statuses, each 835 as an explanation of benefits, and on request
the raw X12 segments of each file it went in or was answered by. Billers and admins also get the
form to fix it: ``POST /claims/{id}/check`` runs the contract and the scrubber on the edited
encounter and shows what is still wrong (nothing is recorded); ``/resubmit``, ``/void`` and
``/resolve`` act by the rules of ``gateway queue`` (:mod:`gateway.service.queue_actions`).
Every view and every change is on the audit trail (who, which claim, what).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway.ledger.correction_rules import QueueRuleError
from gateway.ledger.records import ClaimFile, ClaimHistory
from gateway.ledger.repository import UnknownClaimError
from gateway.ledger.users import Role
from gateway.models.jsonable import json_default
from gateway.service import queue_actions
from gateway.service.claim_segments import ClaimSegments, claim_segments
from gateway.web import claim_view
from gateway.web.application import ledger_of, web_state
from gateway.web.auditing import audited
from gateway.web.auth import current_user, require
from gateway.web.encounter_form import (
    ADVANCED_FIELD,
    Field,
    FormError,
    apply_form,
    findings_by_field,
    form_fields,
    shown,
)
from gateway.web.templating import render

__all__ = ["ROUTES"]

_FLASH = "claim_flash"
_MAX_NOTE = 2000


async def _history(request: Request) -> ClaimHistory:
    claim_id = request.path_params["claim_id"]
    history = await ledger_of(request).claim_history(claim_id)
    if history is None:
        raise HTTPException(404, f"There is no claim {claim_id} in the ledger.")
    return history


def _current(history: ClaimHistory) -> dict[str, Any]:
    """The encounter of the claim's current version."""
    for version in history.versions:
        if version.version == history.claim.current_version:
            return dict(version.encounter)
    return dict(history.versions[-1].encounter) if history.versions else {}


def _encounter_json(encounter: Mapping[str, Any]) -> str:
    return json.dumps(encounter, default=json_default, indent=2, ensure_ascii=False)


async def _page(
    request: Request,
    history: ClaimHistory,
    *,
    draft: Mapping[str, Any] | None = None,
    problems: Sequence[queue_actions.Problem] | None = None,
    errors: Sequence[str] = (),
    message: str = "",
    status_code: int = 200,
) -> Response:
    """The claim page; ``draft`` is an edited encounter shown in the form with ``problems``."""
    user = current_user(request)
    settings = web_state(request).settings
    claim = history.claim
    encounter = dict(draft) if draft is not None else _current(history)
    open_item = next((i for i in history.items if i.closed_at is None), None)
    fields = form_fields(encounter)
    reasons: Sequence[Any] = (
        problems if problems is not None else (open_item.reasons if open_item else ())
    )
    at, elsewhere = findings_by_field(reasons, encounter, fields)
    may_change = user is not None and user.may(Role.BILLER)
    plan, plan_error = None, ""
    if may_change:
        try:
            plan = await queue_actions.plan_actions(ledger_of(request), settings, claim.claim_id)
        except queue_actions.QueueActionError as exc:
            plan_error = str(exc)
    files = await ledger_of(request).claim_files(claim.claim_id)
    flash = request.session.pop(_FLASH, None) if not message else None
    if isinstance(flash, dict) and flash.get("claim_id") == claim.claim_id:
        message = str(flash.get("message", ""))
    context = {
        "title": f"Claim {claim.claim_id}",
        "claim": claim,
        "history": history,
        "legs": history.legs,  # one per payer, in order of responsibility
        "open_item": open_item,
        "timeline": claim_view.timeline(history.events),
        "statuses": claim_view.statuses(history.events),
        "benefits": claim_view.explanations_of_benefits(history.events),
        "files": [f for f in files if f.kind not in ("encounters",)],
        "claim_url": "/claims/" + quote(claim.claim_id, safe=""),
        "groups": _grouped(fields),
        "values": {f.path: shown(f, encounter) for f in fields},
        "findings_at": at,
        "findings_elsewhere": elsewhere,
        "checked": problems is not None,
        "problems": problems or (),
        "encounter_json": _encounter_json(encounter),
        "advanced_field": ADVANCED_FIELD,
        "may_change": may_change,
        "plan": plan,
        "plan_error": plan_error,
        "errors": errors,
        "message": message,
    }
    return render(request, "claim.html", context, status_code=status_code)


def _grouped(fields: Sequence[Field]) -> list[tuple[str, list[Field]]]:
    """The fields by group, in the order the groups first appear."""
    groups: dict[str, list[Field]] = {}
    for f in fields:
        groups.setdefault(f.group, []).append(f)
    return list(groups.items())


async def show(request: Request) -> Response:
    """``GET /claims/{claim_id}``: the claim page (any logged-in user; audited)."""
    require(request)
    history = await _history(request)
    await audited(request, "view", claim_id=history.claim.claim_id, detail={"page": "claim"})
    return await _page(request, history)


def _archived(settings_root: Sequence[Path], file: ClaimFile) -> Path | None:
    """The file's archive path when it lies inside the workspace's archive or quarantine."""
    if not file.archive_path:
        return None
    path = Path(file.archive_path).resolve()
    for root in settings_root:
        if path.is_relative_to(root.resolve()):
            return path
    return None


async def segments(request: Request) -> Response:
    """``GET /claims/{claim_id}/x12/{file_id}``: the claim's segments in one of its files."""
    require(request)
    claim_id = request.path_params["claim_id"]
    file_id = request.path_params["file_id"]
    files = await ledger_of(request).claim_files(claim_id)
    file = next((f for f in files if f.file_id == file_id), None)
    if file is None:
        raise HTTPException(404, f"Claim {claim_id} has no file {file_id}.")
    workspace = web_state(request).settings.workspace
    path = _archived((workspace.archive, workspace.quarantine), file)
    if path is None:
        found = ClaimSegments((), problem=f"{file.name} is not in the workspace's archive")
    else:
        found = await asyncio.to_thread(claim_segments, path, file.kind, claim_id, st02s=file.st02s)
    await audited(
        request, "view-x12", claim_id=claim_id, detail={"file": file.name, "kind": file.kind}
    )
    return render(request, "claim_segments.html", {"file": file, "found": found})


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _edited(
    request: Request, history: ClaimHistory, form: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    return apply_form(_current(history), form)


async def check(request: Request) -> Response:
    """``POST /claims/{claim_id}/check``: the scrubber on the edited encounter; nothing sent."""
    require(request, Role.BILLER)
    history = await _history(request)
    form = await _form(request)
    try:
        draft, changed = await _edited(request, history, form)
    except FormError as exc:
        return await _page(request, history, errors=[str(exc)], status_code=422)
    ledger, settings = ledger_of(request), web_state(request).settings
    try:
        problems = await queue_actions.check(ledger, settings, history.claim.claim_id, draft)
    except QueueRuleError as exc:
        return await _page(request, history, draft=draft, errors=[str(exc)], status_code=422)
    await audited(
        request,
        "check",
        claim_id=history.claim.claim_id,
        detail={"fields": changed[:50], "errors": sum(p.is_error for p in problems)},
    )
    return await _page(request, history, draft=draft, problems=problems)


def _done(request: Request, claim_id: str, message: str) -> Response:
    request.session[_FLASH] = {"claim_id": claim_id, "message": message}
    return RedirectResponse(request.url_for("claim", claim_id=claim_id), status_code=303)


async def resubmit(request: Request) -> Response:
    """``POST /claims/{claim_id}/resubmit``: the edited encounter, by the queue's rules."""
    require(request, Role.BILLER)
    history = await _history(request)
    claim_id = history.claim.claim_id
    form = await _form(request)
    try:
        draft, changed = await _edited(request, history, form)
    except FormError as exc:
        return await _page(request, history, errors=[str(exc)], status_code=422)
    ledger, settings = ledger_of(request), web_state(request).settings
    try:
        result = await queue_actions.resubmit(ledger, settings, claim_id, draft)
    except (QueueRuleError, queue_actions.QueueActionError) as exc:
        return await _page(request, history, draft=draft, errors=[str(exc)], status_code=422)
    detail: dict[str, Any] = {"done": result.done, "fields": changed[:50]}
    if result.outcome is not None:
        detail |= {"version": result.outcome.version, "state": str(result.outcome.state)}
    await audited(request, "resubmit", claim_id=claim_id, detail=detail)
    if not result.done:
        problems = await queue_actions.check(ledger, settings, claim_id, draft)
        return await _page(
            request,
            history,
            draft=draft,
            problems=problems,
            errors=[result.message],
            status_code=422,
        )
    return _done(request, claim_id, result.message)


def _note(form: Mapping[str, str]) -> str:
    return form.get("note", "").strip()[:_MAX_NOTE]


async def void(request: Request) -> Response:
    """``POST /claims/{claim_id}/void``: frequency 8 once adjudicated, else withdrawn."""
    require(request, Role.BILLER)
    history = await _history(request)
    claim_id = history.claim.claim_id
    note = _note(await _form(request)) or "voided by a person"
    ledger, settings = ledger_of(request), web_state(request).settings
    try:
        result = await queue_actions.void(ledger, settings, claim_id, note)
    except queue_actions.QueueActionError as exc:
        return await _page(request, history, errors=[str(exc)], status_code=422)
    await audited(request, "void", claim_id=claim_id, detail={"done": result.done})
    if not result.done:
        errors = [result.message, *result.errors]
        return await _page(request, history, errors=errors, status_code=409)
    return _done(request, claim_id, result.message)


async def resolve(request: Request) -> Response:
    """``POST /claims/{claim_id}/resolve``: close the open item by hand, with a note."""
    require(request, Role.BILLER)
    history = await _history(request)
    claim_id = history.claim.claim_id
    note = _note(await _form(request))
    ledger, settings = ledger_of(request), web_state(request).settings
    try:
        result = await queue_actions.resolve(ledger, settings, claim_id, note)
    except queue_actions.QueueActionError as exc:
        return await _page(request, history, errors=[str(exc)], status_code=422)
    await audited(request, "resolve", claim_id=claim_id, detail={"done": result.done})
    if not result.done:
        return await _page(request, history, errors=[result.message], status_code=409)
    return _done(request, claim_id, result.message)


def _guard(handler: Any) -> Any:
    """``handler`` with a claim gone meanwhile (``UnknownClaimError``) answered 404."""

    async def guarded(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except UnknownClaimError as exc:
            raise HTTPException(404, str(exc)) from None
        return response

    guarded.__doc__ = handler.__doc__
    return guarded


ROUTES = [
    Route("/claims/{claim_id}", _guard(show), methods=["GET"], name="claim"),
    Route("/claims/{claim_id}/x12/{file_id:int}", _guard(segments), methods=["GET"]),
    Route("/claims/{claim_id}/check", _guard(check), methods=["POST"]),
    Route("/claims/{claim_id}/resubmit", _guard(resubmit), methods=["POST"]),
    Route("/claims/{claim_id}/void", _guard(void), methods=["POST"]),
    Route("/claims/{claim_id}/resolve", _guard(resolve), methods=["POST"]),
]
