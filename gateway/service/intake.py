"""Encounter intake, the pure part: an encounter file's bytes in, the claims to record out.

``parse_encounter_file`` reads every encounter of a file (JSON, JSON Lines or XML), runs the
contract and the scrubber, and turns each one into an ``IncomingClaim`` for the ledger: clean
claims are queued, claims with errors carry their findings as correction reasons. A file holding one
correction document (``corrections/<claim_id>.json`` as the gateway wrote it, edited by staff and
dropped back into the inbox) is recognised by its ``rejection`` block and returned as a
correction, which the service records as a new version of the claim (``origin="correction-file"``).
No I/O and no awaiting: the service calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.codes.dated import DatedCodes
from gateway.edits import Finding
from gateway.encounters import CheckResult, check_stream
from gateway.ledger.adapt import reasons_from_findings
from gateway.ledger.queue import REJECTION_KEY, CorrectionDocument, QueueRuleError, read_correction
from gateway.ledger.records import IncomingClaim, Reason
from gateway.partners import Partners

__all__ = [
    "MAX_CLAIM_ID",
    "ParsedEncounters",
    "Unrecorded",
    "incoming_claim",
    "parse_encounter_file",
]

#: The longest claim id the ledger (and CLM01) holds.
MAX_CLAIM_ID = 38


@dataclass(frozen=True)
class Unrecorded:
    """An encounter that cannot become a claim (no usable claim id): where it is and why."""

    index: int
    line: int | None
    findings: tuple[Mapping[str, Any], ...]


@dataclass
class ParsedEncounters:
    """What a file holds: claims to record, records that cannot be claims, warnings counted."""

    claims: list[IncomingClaim] = field(default_factory=list)
    unrecorded: list[Unrecorded] = field(default_factory=list)
    warnings: int = 0
    #: Set when the file is a correction document (then ``claims`` is empty).
    correction: CorrectionDocument | None = None
    #: Why a correction document could not be taken (then nothing else is set).
    correction_error: str | None = None

    @property
    def records(self) -> int:
        """How many encounters the file held."""
        return len(self.claims) + len(self.unrecorded)


def _partner_reason(partners: Partners, name: str | None) -> tuple[str, Reason | None]:
    try:
        return partners.get(name).name, None
    except KeyError as exc:
        reason = Reason(
            "E-PARTNER-UNKNOWN",
            str(exc.args[0]) if exc.args else "unknown trading partner",
            "partner",
            "name a trading partner of the partners folder, or mark one `default = true`",
        )
        return (name or ""), reason


def incoming_claim(result: CheckResult, partners: Partners) -> IncomingClaim | None:
    """The claim to record for one checked encounter; None when it has no usable claim id."""
    claim_id = result.claim_id
    if not claim_id or len(claim_id) > MAX_CLAIM_ID:
        return None
    encounter = result.encounter or result.record.partial
    partner, partner_problem = _partner_reason(
        partners, encounter.partner if encounter is not None else None
    )
    reasons = list(reasons_from_findings(f for f in result.findings if f.is_error))
    if partner_problem is not None:
        reasons.append(partner_problem)
    if result.encounter is None and not reasons:  # refused by the contract without an error?
        reasons.append(Reason("E-CONTRACT", "the encounter does not follow the contract"))
    if encounter is None:
        return IncomingClaim(
            claim_id=claim_id,
            kind="unknown",
            partner=partner,
            payer_id="",
            total_charge=Decimal(0),
            encounter={"claim_id": claim_id},
            findings=tuple(reasons),
        )
    return IncomingClaim(
        claim_id=claim_id,
        kind=str(encounter.kind),
        partner=partner,
        payer_id=encounter.payer.id,
        payer_name=encounter.payer.name,
        total_charge=encounter.computed_total_charge,
        encounter=encounter.model_dump(mode="json"),
        frequency=str(encounter.frequency),
        findings=tuple(reasons),
    )


def _correction_of(data: bytes) -> Mapping[str, Any] | None:
    """The decoded object when ``data`` is one JSON object with a ``rejection`` block."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head != b"{" or REJECTION_KEY.encode() not in data:
        return None
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(document, dict) and isinstance(document.get(REJECTION_KEY), dict):
        return document
    return None


def parse_encounter_file(
    data: bytes,
    name: str,
    partners: Partners,
    *,
    today: date | None = None,
    cpt: DatedCodes | None = None,
) -> ParsedEncounters:
    """Every encounter of the file ``name`` (its bytes) as claims to record (see the module)."""
    parsed = ParsedEncounters()
    document = _correction_of(data)
    if document is not None:
        try:
            parsed.correction = read_correction(document)
        except QueueRuleError as exc:
            parsed.correction_error = str(exc)
        return parsed
    for result in check_stream(io.BytesIO(data), name=name, today=today, cpt=cpt):
        _add(parsed, result, partners)
    return parsed


def _add(parsed: ParsedEncounters, result: CheckResult, partners: Partners) -> None:
    parsed.warnings += len(result.warnings)
    claim = incoming_claim(result, partners)
    if claim is None:
        parsed.unrecorded.append(
            Unrecorded(
                result.record.index,
                result.record.line,
                tuple(_finding_data(f) for f in result.errors)
                or ({"code": "E-CLAIM-ID-FORMAT", "path": "claim_id"},),
            )
        )
        return
    parsed.claims.append(claim)


def _finding_data(found: Finding) -> Mapping[str, Any]:
    return found.as_dict()
