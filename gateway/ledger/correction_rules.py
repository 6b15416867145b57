"""The correction queue's rules and documents (pure: no database, no files).

- :func:`plan_resubmission` and :func:`plan_void` apply DESIGN.md section 6: before the payer
  adjudicated the claim, resubmit as frequency ``1``; once adjudicated (an 835 came back and the
  payer claim control number is known), send a replacement ``7`` or a void ``8`` with REF*F8
  carrying that number; a partner marked ``frequency_1_only`` (e.g. Medicare) always gets ``1``.
- :func:`correction_document` is what ``corrections/<claim_id>.json`` holds: the encounter as last
  submitted plus a ``rejection`` block (:func:`correction_text` is that file's text);
  :func:`read_correction` takes such a document back (the staff member edited the encounter and
  dropped the file into the encounter inbox).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import ClaimRecord, QueueItem, Reason
from gateway.models.jsonable import json_default

if TYPE_CHECKING:
    from gateway.edits import Finding
    from gateway.transactions.claim837_envelope import ClaimLeftOut

__all__ = [
    "ADJUDICATED_STATES",
    "REJECTION_KEY",
    "CorrectionDocument",
    "QueueRuleError",
    "ResubmissionPlan",
    "VoidPlan",
    "correction_document",
    "correction_file_name",
    "correction_text",
    "item_data",
    "plan_resubmission",
    "plan_void",
    "read_correction",
    "reasons_from_findings",
]

S = ClaimState
REJECTION_KEY = "rejection"

#: States in which the payer has adjudicated the claim (an 835 came back for it).
ADJUDICATED_STATES = frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED, S.REVERSED})

# Claim ids are 1-20 letters, digits or '-', so they are safe as file names; anything else is not.
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,37}\Z")
_NOT_SAFE = re.compile(r"[^A-Za-z0-9-]+")


class QueueRuleError(ValueError):
    """A queue action the resubmission rules do not allow (the message says what to do)."""


@dataclass(frozen=True)
class ResubmissionPlan:
    """How to resubmit: the frequency, REF*F8 (or None), and the encounter to record."""

    frequency: str
    original_payer_claim_number: str | None
    encounter: dict[str, Any]
    explanation: str


@dataclass(frozen=True)
class VoidPlan:
    """How to void: ``send`` a frequency-8 claim (with the encounter), or withdraw locally."""

    send: bool
    encounter: dict[str, Any] | None
    explanation: str


@dataclass(frozen=True)
class CorrectionDocument:
    """A correction file read back: the claim it concerns and the corrected encounter."""

    claim_id: str
    encounter: dict[str, Any]
    rejection: Mapping[str, Any]


def is_adjudicated(claim: ClaimRecord) -> bool:
    """Whether the payer adjudicated the claim and gave it a claim control number."""
    return claim.state in ADJUDICATED_STATES and bool(claim.payer_claim_control_number)


def plan_resubmission(
    claim: ClaimRecord, encounter: Mapping[str, Any], *, frequency_1_only: bool
) -> ResubmissionPlan:
    """The frequency and REF*F8 a resubmission of ``claim`` must carry, applied to ``encounter``."""
    updated = dict(encounter)
    if str(updated.get("claim_id", claim.claim_id)) != claim.claim_id:
        raise QueueRuleError(
            f"the encounter is for claim {updated.get('claim_id')!r}, not {claim.claim_id}; "
            "a resubmission keeps the claim id (CLM01)"
        )
    updated["claim_id"] = claim.claim_id
    if is_adjudicated(claim) and not frequency_1_only:
        number = claim.payer_claim_control_number
        updated["frequency"] = "7"
        updated["original_payer_claim_number"] = number
        why = (
            f"the payer adjudicated the claim ({claim.state}) as {number}: "
            "replacement (frequency 7) with REF*F8"
        )
        return ResubmissionPlan("7", number, updated, why)
    updated["frequency"] = "1"
    updated["original_payer_claim_number"] = None
    if is_adjudicated(claim):
        why = "the partner accepts only frequency 1, so the corrected claim goes as an original"
    else:
        why = f"rejected before adjudication ({claim.state}): resubmitted as an original (1)"
    return ResubmissionPlan("1", None, updated, why)


def plan_void(
    claim: ClaimRecord, encounter: Mapping[str, Any], *, frequency_1_only: bool
) -> VoidPlan:
    """Void (frequency 8 with REF*F8) when adjudicated; otherwise withdraw without sending."""
    if not is_adjudicated(claim):
        return VoidPlan(
            False,
            None,
            f"the payer never adjudicated the claim ({claim.state}): withdrawn, nothing is sent",
        )
    if frequency_1_only:
        raise QueueRuleError(
            f"partner {claim.partner} accepts only frequency 1, so claim {claim.claim_id} cannot "
            "be voided electronically; void it with the payer directly, then run "
            f"`gateway queue resolve {claim.claim_id} --note ...`"
        )
    updated = dict(encounter)
    updated["frequency"] = "8"
    updated["original_payer_claim_number"] = claim.payer_claim_control_number
    return VoidPlan(
        True,
        updated,
        f"void (frequency 8) of payer claim {claim.payer_claim_control_number} with REF*F8",
    )


def correction_file_name(claim_id: str) -> str:
    """``<claim_id>.json`` for a claim id of the contract; for any other id (one recorded before
    the contract was enforced) a name that is always safe: ``claim_<its letters and digits>_<12
    hex of its SHA-256>.json`` (an ``_`` never occurs in a contract id, so the two never meet)."""
    if _SAFE_ID.match(claim_id):
        return f"{claim_id}.json"
    plain = _NOT_SAFE.sub("-", claim_id).strip("-")[:40]
    digest = hashlib.sha256(claim_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"claim_{plain}_{digest}.json" if plain else f"claim_{digest}.json"


def item_data(item: QueueItem) -> dict[str, Any]:
    """A correction item as JSON-ready data (no encounter: see :func:`correction_document`)."""
    return {
        "id": item.id,
        "claim_id": item.claim_id,
        "version": item.version,
        "state": str(item.state),
        "source": item.source,
        "reason_code": item.reason_code,
        "reasons": [r.as_dict() for r in item.reasons],
        "payer_id": item.payer_id,
        "leg": item.leg,
        "partner": item.partner,
        "frequency": item.frequency,
        "payer_claim_control_number": item.payer_claim_control_number,
        "opened_at": item.opened_at.isoformat(),
        "closed_at": item.closed_at.isoformat() if item.closed_at else None,
        "closed_by": item.closed_by,
        "note": item.note,
        "source_file": item.source_file,
    }


def correction_document(item: QueueItem) -> dict[str, Any]:
    """The encounter as last submitted plus a ``rejection`` block, for staff to edit."""
    document = dict(item.encounter)
    document[REJECTION_KEY] = {
        **item_data(item),
        "instructions": (
            "Correct the encounter fields named in `reasons`, keep `claim_id`, then drop this "
            "file into the encounter inbox: it is resubmitted as a new version of the claim. "
            "The `rejection` block is ignored on the way back in."
        ),
    }
    return document


def correction_text(item: QueueItem) -> str:
    """The text of ``corrections/<claim_id>.json``: the correction document as indented JSON
    (money as decimal strings, dates ISO 8601), ending in a newline."""
    return (
        json.dumps(correction_document(item), default=json_default, indent=2, ensure_ascii=False)
        + "\n"
    )


def read_correction(document: Mapping[str, Any]) -> CorrectionDocument | None:
    """A corrected encounter from a correction file, or None when it has no ``rejection``."""
    rejection = document.get(REJECTION_KEY)
    if not isinstance(rejection, Mapping):
        return None
    encounter = {k: v for k, v in document.items() if k != REJECTION_KEY}
    claim_id = str(rejection.get("claim_id") or encounter.get("claim_id") or "")
    if not claim_id:
        raise QueueRuleError("the correction file names no claim id")
    if str(encounter.get("claim_id", claim_id)) != claim_id:
        raise QueueRuleError(
            f"the correction file is for claim {claim_id} but its encounter says "
            f"{encounter.get('claim_id')!r}; keep the claim id as it was"
        )
    return CorrectionDocument(claim_id, encounter, rejection)


def reasons_from_findings(findings: Iterable[Finding | ClaimLeftOut]) -> tuple[Reason, ...]:
    """Scrubber findings (errors only) or builder left-outs as correction reasons."""
    from gateway.transactions.claim837_envelope import ClaimLeftOut  # the builder loads lazily

    reasons: list[Reason] = []
    for found in findings:
        if isinstance(found, ClaimLeftOut):
            reasons.append(
                Reason("BUILD", found.reason, found.path, "correct the encounter and resubmit")
            )
        elif found.is_error:
            reasons.append(Reason(str(found.code), found.message, found.path, found.hint))
    return tuple(reasons)
