"""The correction queue's actions, for every face: resubmit, void, resolve, and what they would do.

``gateway queue resubmit|void|resolve`` and the web console call these same functions, so a claim
is worked the same way from the terminal and from the browser. The rules are the ledger's
(:mod:`gateway.ledger.correction_rules`: frequency 1, or 7 with the payer's claim number once
adjudicated; a partner marked ``frequency_1_only`` always gets 1; a void needs an adjudicated
claim) and :mod:`gateway.ledger.resubmission` records them; this module adds what needs the
settings: the partner's ``frequency_1_only`` flag and the claim's correction file, removed once
its item is closed.

Errors: :class:`QueueActionError` (a :class:`gateway.errors.UsageError`) when the action cannot be
asked for at all (a partner file that cannot be read, a resolve without a note);
:class:`gateway.ledger.repository.UnknownClaimError` for a claim id the ledger does not hold;
:class:`gateway.ledger.correction_rules.QueueRuleError` for an encounter naming another claim.
Everything else (still invalid, in flight, not adjudicated) is an :class:`ActionResult` whose
``done`` is False and whose message says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.errors import UsageError
from gateway.ledger.correction_rules import (
    QueueRuleError,
    is_adjudicated,
    plan_resubmission,
    plan_void,
    read_correction,
)
from gateway.ledger.lifecycle import InvalidTransitionError
from gateway.ledger.records import ClaimRecord, IntakeOutcome
from gateway.ledger.repository import UnknownClaimError
from gateway.ledger.resubmission import resubmit_claim, void_claim
from gateway.partners import PartnerConfigError, load_partners
from gateway.service.correction_files import remove_correction_file

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.ledger.store import Ledger

__all__ = [
    "ActionPlan",
    "ActionResult",
    "Problem",
    "QueueActionError",
    "check",
    "encounter_from_document",
    "frequency_1_only",
    "plan_actions",
    "resolve",
    "resubmit",
    "void",
]


class QueueActionError(UsageError):
    """A queue action that cannot be asked for (the message says what to fix)."""


@dataclass(frozen=True)
class ActionResult:
    """What a queue action did: ``done`` False when nothing changed (``message`` and ``errors``
    say why); ``outcome`` is the recorded version of a resubmission."""

    done: bool
    message: str
    errors: tuple[str, ...] = ()
    outcome: IntakeOutcome | None = None


@dataclass(frozen=True)
class ActionPlan:
    """What resubmitting or voiding a claim would do now, before anyone acts (the same rules)."""

    claim: ClaimRecord
    #: Whether the claim has an open correction item (what resolve closes).
    has_open_item: bool
    #: The frequency a resubmission goes as (``1`` or ``7``) and why.
    resubmit_frequency: str
    resubmit_explanation: str
    #: REF*F8: the payer's claim number a replacement or a void carries, else None.
    original_payer_claim_number: str | None
    #: Whether the claim can be voided now and what a void would do (or why it cannot).
    can_void: bool
    void_explanation: str


@dataclass(frozen=True)
class Problem:
    """What the contract or the scrubber says of an encounter about to be resubmitted: the code,
    the field's JSON path (``where``), the message (``meaning``) and the fix (``action``)."""

    code: str
    where: str
    meaning: str
    action: str
    is_error: bool


def problems_of(encounter: Mapping[str, Any]) -> tuple[Problem, ...]:
    """The contract's errors, else the scrubber's findings (errors and warnings) of
    ``encounter``. CPU-bound: call it in a thread."""
    from gateway.edits import scrub
    from gateway.encounters.contract import validate_encounter

    record = validate_encounter(dict(encounter))
    found = list(record.findings) if record.encounter is None else scrub(record.encounter)
    return tuple(Problem(str(f.code), f.path, f.message, f.hint, f.is_error) for f in found)


def frequency_1_only(settings: Settings, partner: str) -> bool:
    """Whether ``partner`` takes only frequency-1 claims (its ``[claims] frequency_1_only``)."""
    try:
        return load_partners(settings.partners_dir).get(partner).frequency_1_only
    except (PartnerConfigError, KeyError) as exc:
        raise QueueActionError(f"partner {partner!r}: {exc}") from None


async def _claim(ledger: Ledger, claim_id: str) -> ClaimRecord:
    claim = await ledger.claim(claim_id)
    if claim is None:
        raise UnknownClaimError(f"no claim {claim_id} in the ledger")
    return claim


def encounter_from_document(document: Mapping[str, Any], claim_id: str) -> dict[str, Any]:
    """The encounter to resubmit ``claim_id`` with, from an encounter or a correction document
    (its ``rejection`` block dropped). Raises ``QueueRuleError`` when it names another claim."""
    encounter = dict(document)
    correction = read_correction(encounter)
    if correction is not None:
        encounter = correction.encounter
    named = str(encounter.get("claim_id", claim_id))
    if named != claim_id:
        raise QueueRuleError(
            f"holds claim {encounter.get('claim_id')!r}, not {claim_id}; a resubmission keeps "
            "the claim id (CLM01)"
        )
    return encounter


async def plan_actions(ledger: Ledger, settings: Settings, claim_id: str) -> ActionPlan:
    """What :func:`resubmit` and :func:`void` would do to ``claim_id`` now."""
    claim = await _claim(ledger, claim_id)
    only_1 = frequency_1_only(settings, claim.partner)
    encounter = dict((await ledger.claim_version(claim_id)).encounter)
    plan = plan_resubmission(claim, encounter, frequency_1_only=only_1)
    try:
        voiding = plan_void(claim, encounter, frequency_1_only=only_1)
        can_void, void_text = True, voiding.explanation
    except QueueRuleError as exc:
        can_void, void_text = False, str(exc)
    open_item = await ledger.open_item(claim_id)
    number = claim.payer_claim_control_number if is_adjudicated(claim) else None
    return ActionPlan(
        claim,
        open_item is not None,
        plan.frequency,
        plan.explanation,
        number,
        can_void,
        void_text,
    )


async def check(
    ledger: Ledger, settings: Settings, claim_id: str, encounter: Mapping[str, Any]
) -> tuple[Problem, ...]:
    """What is still wrong with ``encounter`` as :func:`resubmit` would send it (with the
    frequency and REF*F8 the rules give it), before anything is recorded."""
    claim = await _claim(ledger, claim_id)
    only_1 = frequency_1_only(settings, claim.partner)
    plan = plan_resubmission(claim, encounter, frequency_1_only=only_1)
    return await asyncio.to_thread(problems_of, plan.encounter)


async def resubmit(
    ledger: Ledger,
    settings: Settings,
    claim_id: str,
    encounter: Mapping[str, Any] | None,
    *,
    origin: str = "resubmit",
) -> ActionResult:
    """Resubmit ``claim_id`` with ``encounter`` (None: as last sent) by the queue's rules; the
    contract and the scrubber check it first, and nothing is recorded while it is invalid."""
    claim = await _claim(ledger, claim_id)
    only_1 = frequency_1_only(settings, claim.partner)
    result = await resubmit_claim(
        ledger, claim_id, encounter, frequency_1_only=lambda _partner: only_1, origin=origin
    )
    if result.outcome is None:
        return ActionResult(False, result.message, result.errors)
    remove_correction_file(settings.workspace.corrections, claim_id)
    return ActionResult(True, result.message, result.errors, result.outcome)


async def void(ledger: Ledger, settings: Settings, claim_id: str, note: str) -> ActionResult:
    """Void ``claim_id``: frequency 8 with REF*F8 once adjudicated, else withdrawn (nothing sent);
    refused for a partner that takes only frequency 1."""
    claim = await _claim(ledger, claim_id)
    only_1 = frequency_1_only(settings, claim.partner)
    result = await void_claim(ledger, claim_id, note, frequency_1_only=lambda _partner: only_1)
    if result.done:
        remove_correction_file(settings.workspace.corrections, claim_id)
    return ActionResult(result.done, result.message, result.errors)


async def resolve(ledger: Ledger, settings: Settings, claim_id: str, note: str) -> ActionResult:
    """Close the claim's open item by hand with ``note`` (what was done): it becomes
    ``resolved``. Raises ``QueueActionError`` for an empty note."""
    text = note.strip()
    if not text:
        raise QueueActionError("the note must say what was done (it is kept in the history)")
    claim = await _claim(ledger, claim_id)
    try:
        await ledger.resolve(claim.claim_id, text)
    except InvalidTransitionError:
        return ActionResult(
            False, f"claim {claim.claim_id} is {claim.state}: there is no open item to resolve"
        )
    remove_correction_file(settings.workspace.corrections, claim.claim_id)
    return ActionResult(True, f"claim {claim.claim_id} resolved: {text}")
