"""The resubmission workflow: a person (or a correction file) resubmits or voids a claim.

The rules are in :mod:`gateway.ledger.correction_rules` (frequency 1, 7 or 8, REF*F8); this
module applies them to the ledger: :func:`resubmit_claim` records the claim's next version
(queued for the next batch), :func:`void_claim` records a void (frequency 8) or, before the payer
adjudicated the claim, voids it in place with nothing sent. Both check the encounter against
the contract and the scrubber first (:func:`incoming_from_encounter`). The ``gateway queue``
command and the service (a correction file dropped into the encounter inbox) call them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gateway.ledger.correction_rules import QueueRuleError, plan_resubmission, plan_void
from gateway.ledger.lifecycle import InvalidTransitionError
from gateway.ledger.records import IncomingClaim, IntakeOutcome
from gateway.ledger.repository import UnknownClaimError

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

__all__ = [
    "QueueRuleError",
    "ResubmitResult",
    "VoidResult",
    "incoming_from_encounter",
    "resubmit_claim",
    "void_claim",
]


@dataclass(frozen=True)
class ResubmitResult:
    """What a resubmission did: ``outcome`` is None when nothing was recorded (see ``errors``)."""

    message: str
    outcome: IntakeOutcome | None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoidResult:
    """What a void did: ``done`` is False when nothing changed (``message`` and ``errors`` say
    why)."""

    message: str
    done: bool
    errors: tuple[str, ...] = ()


def incoming_from_encounter(
    data: Mapping[str, Any], *, default_partner: str
) -> tuple[IncomingClaim | None, list[str]]:
    """Check an encounter (contract and scrubber); the claim to record, or the errors found."""
    from gateway.edits import scrub
    from gateway.models.encounter import Encounter

    try:
        encounter = Encounter.model_validate(dict(data))
    except ValidationError as exc:
        errors = [
            f"{'.'.join(str(p) for p in err['loc']) or '(encounter)'}: {err['msg']}"
            for err in exc.errors()
        ]
        return None, errors
    findings = scrub(encounter)
    errors = [str(f) for f in findings if f.is_error]
    if errors:
        return None, errors
    dumped = encounter.model_dump(mode="json")
    claim = IncomingClaim(
        claim_id=encounter.claim_id,
        kind=str(encounter.kind),
        partner=encounter.partner or default_partner,
        payer_id=encounter.payer.id,
        payer_name=encounter.payer.name,
        total_charge=encounter.computed_total_charge,
        encounter=dumped,
        frequency=str(encounter.frequency),
    )
    return claim, []


async def resubmit_claim(
    ledger: Ledger,
    claim_id: str,
    encounter: Mapping[str, Any] | None,
    *,
    frequency_1_only: Callable[[str], bool],
    origin: str = "resubmit",
    file_id: int | None = None,
) -> ResubmitResult:
    """Resubmit ``claim_id`` with ``encounter`` (None: as last sent) under the rules of section 6.

    The encounter is given the right frequency and REF*F8, checked against the contract and the
    scrubber, and recorded as the claim's next version (queued). The service calls this for a
    correction file dropped into the encounter inbox (``origin="correction-file"``);
    ``frequency_1_only(partner)`` says whether a partner takes only frequency 1. Raises
    ``QueueRuleError`` when the encounter names another claim, ``UnknownClaimError`` for an
    unknown claim id.
    """
    claim = await ledger.claim(claim_id)
    if claim is None:
        raise UnknownClaimError(f"no claim {claim_id} in the ledger")
    if encounter is None:
        # The replacement an earlier payer's corrected payment rebuilt, else the last one sent.
        encounter = await ledger.replacement_for(claim_id) or dict(
            (await ledger.claim_version(claim_id)).encounter
        )
    plan = plan_resubmission(claim, encounter, frequency_1_only=frequency_1_only(claim.partner))
    incoming, errors = incoming_from_encounter(plan.encounter, default_partner=claim.partner)
    if incoming is None:
        message = f"claim {claim_id} is still invalid; nothing was resubmitted:"
        return ResubmitResult(message, None, tuple(errors))
    (outcome,) = await ledger.record_claims([incoming], origin=origin, file_id=file_id)
    if outcome.outcome == "duplicate":
        message = (
            f"claim {claim_id} is {claim.state}: it is still in flight, so there is nothing "
            "to resubmit"
        )
        return ResubmitResult(message, None)
    message = (
        f"claim {claim_id} resubmitted as version {outcome.version} "
        f"(frequency {plan.frequency}): {plan.explanation}; now {outcome.state}"
    )
    return ResubmitResult(message, outcome)


async def void_claim(
    ledger: Ledger, claim_id: str, note: str, *, frequency_1_only: Callable[[str], bool]
) -> VoidResult:
    """Void ``claim_id``: a frequency-8 claim with REF*F8 once the payer adjudicated it (queued
    for the next batch), else void it in place (nothing is sent). Raises ``UnknownClaimError``
    for an unknown claim id."""
    claim = await ledger.claim(claim_id)
    if claim is None:
        raise UnknownClaimError(f"no claim {claim_id} in the ledger")
    encounter = dict((await ledger.claim_version(claim.claim_id)).encounter)
    try:
        plan = plan_void(claim, encounter, frequency_1_only=frequency_1_only(claim.partner))
    except QueueRuleError as exc:
        return VoidResult(str(exc), False)
    cannot = f"claim {claim.claim_id} is {claim.state}: it cannot be voided now"
    if not plan.send:
        try:
            await ledger.void_before_adjudication(claim.claim_id, note)
        except InvalidTransitionError:
            return VoidResult(cannot, False)
    else:
        assert plan.encounter is not None
        incoming, errors = incoming_from_encounter(plan.encounter, default_partner=claim.partner)
        if incoming is None:
            message = f"the void of claim {claim.claim_id} could not be built:"
            return VoidResult(message, False, tuple(errors))
        (outcome,) = await ledger.record_claims([incoming], origin="void")
        if outcome.outcome == "duplicate":
            return VoidResult(cannot, False)
    return VoidResult(f"claim {claim.claim_id}: {plan.explanation}", True)
