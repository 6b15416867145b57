"""Encounter intake, the pure part: an encounter file's bytes in, the claims to record out.

``parse_encounter_file`` reads every encounter of a file (JSON, JSON Lines or XML), runs the
contract and the scrubber, and turns each one into an ``IncomingClaim`` for the ledger: clean
claims are queued, claims with errors carry their findings as correction reasons. A file holding one
correction document (``corrections/<claim_id>.json`` as the gateway wrote it, edited by staff and
dropped back into the inbox) is recognised by its ``rejection`` block and returned as a
correction, which the service records as a new version of the claim (``origin="correction-file"``).
No I/O and no awaiting: the service calls it through ``asyncio.to_thread``.

``read_batches`` is the same over a binary stream, in batches of ``BATCH_CLAIMS`` claims, so
that the service records a file of any size in bounded memory (the readers stream: one encounter
is held at a time). ``correction_document`` tells a correction document from its first bytes.
An encounter that cannot become a claim (unreadable, or no contract claim id) is an
``Unrecorded`` with its line and findings: the service puts it in front of an operator.
"""

from __future__ import annotations

import io
import json
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO

from gateway.codes.dated import DatedCodes
from gateway.edits import CheckResult, Finding, check_stream
from gateway.encounters import EncounterFormat, detect_format
from gateway.ledger.correction_rules import (
    REJECTION_KEY,
    CorrectionDocument,
    QueueRuleError,
    read_correction,
    reasons_from_findings,
)
from gateway.ledger.records import IncomingClaim, Reason
from gateway.models.encounter_types import MAX_CLAIM_ID
from gateway.partners import Partners

__all__ = [
    "BATCH_CLAIMS",
    "MAX_CLAIM_ID",
    "MAX_CORRECTION_BYTES",
    "IntakeBatch",
    "ParsedEncounters",
    "UnreadableLog",
    "Unrecorded",
    "correction_document",
    "incoming_claim",
    "is_json_lines",
    "parse_encounter_file",
    "read_batches",
]

#: Claims recorded per ledger transaction (memory stays flat whatever the file size).
BATCH_CLAIMS = 500
#: A correction document is one encounter: a larger file is never read whole to look for one.
MAX_CORRECTION_BYTES = 8 << 20
#: Unreadable encounters described in full (line and findings) in the file's report.
MAX_DESCRIBED = 1000


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
    reasons = [_with_line(r, f) for r, f in _error_reasons(result)]
    if partner_problem is not None:
        reasons.append(partner_problem)
    if result.encounter is not None:
        # The partner a later leg goes to (crossover) must exist too, or that leg never leaves.
        for index, other in enumerate(result.encounter.other_payers):
            _name, other_problem = (
                _partner_reason(partners, other.partner) if other.partner else ("", None)
            )
            if other_problem is not None:
                reasons.append(replace(other_problem, where=f"other_payers[{index}].partner"))
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


@dataclass
class IntakeBatch:
    """Up to ``BATCH_CLAIMS`` claims of a file, and the encounters read with them that cannot
    become claims."""

    claims: list[IncomingClaim] = field(default_factory=list)
    unrecorded: list[Unrecorded] = field(default_factory=list)
    warnings: int = 0

    @property
    def records(self) -> int:
        """How many encounters the batch holds."""
        return len(self.claims) + len(self.unrecorded)


#: Findings after which a JSON (not JSON Lines) or XML reader cannot go on in the file.
_STOPPING = frozenset({"E-JSON-SYNTAX", "E-XML-SYNTAX", "E-JSON-TOO-LARGE", "E-FILE-ENCODING"})


@dataclass
class UnreadableLog:
    """The encounters of one file that could not become claims, kept small: every line number
    (4 bytes each), the first ``MAX_DESCRIBED`` in full, and a count."""

    count: int = 0
    lines: array[int] = field(default_factory=lambda: array("q"))
    described: list[Unrecorded] = field(default_factory=list)
    last: Unrecorded | None = None

    def add(self, item: Unrecorded) -> None:
        """Note one encounter that cannot be recorded."""
        self.count += 1
        self.last = item
        if item.line is not None:
            self.lines.append(item.line)
        if len(self.described) < MAX_DESCRIBED:
            self.described.append(item)

    def stopped_at(self, records: int) -> int | None:
        """The line where reading stopped, when the last of ``records`` read was a problem that
        ends reading (broken syntax, too large, not UTF-8): what follows it was not read."""
        last = self.last
        if last is None or last.index != records - 1:
            return None
        codes = {str(f.get("code")) for f in last.findings}
        return last.line if codes & _STOPPING else None

    def as_dict(self) -> list[dict[str, Any]]:
        """The described encounters as JSON-ready data."""
        return [
            {"index": u.index, "line": u.line, "findings": [dict(f) for f in u.findings]}
            for u in self.described
        ]


def read_batches(
    stream: BinaryIO,
    name: str,
    partners: Partners,
    *,
    today: date | None = None,
    size: int = BATCH_CLAIMS,
    cpt: DatedCodes | None = None,
) -> Iterator[IntakeBatch]:
    """The encounters of an encounter file (a binary stream) as claims, ``size`` at a time.

    Only one batch is held at a time; the last batch may be short (or empty, for a file with no
    encounter). Never raises for bad content: each bad encounter is an ``Unrecorded``.
    """
    batch = IntakeBatch()
    for result in check_stream(stream, name=name, today=today, cpt=cpt):
        _add(batch, result, partners)
        if len(batch.claims) >= size:
            yield batch
            batch = IntakeBatch()
    yield batch


def is_json_lines(name: str, head: bytes) -> bool:
    """Whether a file is read line by line (so its unreadable lines can be copied out)."""
    return detect_format(name, head) is EncounterFormat.JSON_LINES


def correction_document(data: bytes) -> Mapping[str, Any] | None:
    """The decoded object when ``data`` is one JSON object with a ``rejection`` block."""
    return _correction_of(data)


_READING = ("E-FILE-", "E-JSON-", "E-XML-", "E-NOT-AN-OBJECT")


def _error_reasons(result: CheckResult) -> list[tuple[Reason, Finding]]:
    errors = [f for f in result.findings if f.is_error]
    return list(zip(reasons_from_findings(errors), errors, strict=True))


def _with_line(reason: Reason, found: Finding) -> Reason:
    """A reading problem's reason says its line of the file (the field path says nothing)."""
    if found.line is None or not reason.code.startswith(_READING):
        return reason
    return Reason(reason.code, f"{reason.meaning} (line {found.line} of the file)",
                  reason.where, reason.action)  # fmt: skip


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


def _add(parsed: ParsedEncounters | IntakeBatch, result: CheckResult, partners: Partners) -> None:
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
