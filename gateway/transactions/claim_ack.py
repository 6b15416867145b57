"""The 277CA reader (005010X214): segments in, claim acknowledgements out.

The HL tree is followed by level code: 20 information source, 21 information receiver, 19 billing
provider, PT patient (the claims). Each TRN*2 under a patient level opens a claim (TRN02 is our
claim id); STC, REF*1K / REF*D9, DTP*472 belong to it; SVC opens a line status (REF*FJ is our line
control number). Claim status responses (277, 005010X212: levels 22 subscriber and 23 dependent)
have the same shape and are read the same way, leniently. A claim is ``rejected`` when any of its
STCs is (category A3, A4, A6, A7, A8), else ``pending`` when any is pending, else ``accepted``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date

from gateway import codes
from gateway.models.acknowledgements import (
    ClaimAcknowledgement,
    ClaimAcknowledgementDocument,
    ClaimAcknowledgementSummary,
    ClaimStatus,
    LineStatus,
    QualifiedQuantity,
    StatusClass,
    StatusCode,
    StatusEntity,
    StatusInformation,
)
from gateway.models.responses import CodedValue, ResponseFinding
from gateway.transactions.common import EnvelopeTracker, at, parse_amount, parse_date, warning
from gateway.x12 import Segment

_PATIENT_LEVELS = frozenset({"PT", "22", "23"})
_RANK = {
    StatusClass.REJECTED: 6,
    StatusClass.ERROR: 5,
    StatusClass.PENDING: 4,
    StatusClass.REQUEST: 3,
    StatusClass.FINALIZED: 2,
    StatusClass.ACCEPTED: 1,
    StatusClass.UNKNOWN: 0,
}
_ENVELOPE = frozenset({"ISA", "GS", "GE", "IEA", "ST"})


def classify(classes: Iterable[StatusClass]) -> StatusClass:
    """The verdict of several statuses: rejected, error, pending, request, finalized, accepted."""
    best = StatusClass.UNKNOWN
    for value in classes:
        if _RANK[value] > _RANK[best]:
            best = value
    return best


def status_code(parts: list[str]) -> StatusCode:
    """A STC01/10/11 composite (category:status:entity:qualifier) with meanings."""
    n = len(parts)
    category = parts[0] if n else ""
    status = parts[1] if n > 1 else ""
    entity = parts[2] if n > 2 else ""
    category_class = codes.category_class(category)
    return StatusCode(
        category=category,
        category_meaning=codes.meaning("claim_status_category", category),
        status=status,
        status_meaning=codes.meaning("claim_status", status) if status else "",
        entity=entity,
        entity_meaning=codes.meaning("entity_identifier", entity) if entity else "",
        code_list_qualifier=parts[3] if n > 3 else "",
        classification=StatusClass(category_class),
    )


def read_stc(seg: Segment, findings: list[ResponseFinding]) -> StatusInformation:
    """One STC segment with its meanings."""
    status_codes = [status_code(seg.components(1))]
    for position in (10, 11):
        if seg.get(position):
            status_codes.append(status_code(seg.components(position)))
    amount = parse_amount(seg.get(4)) if seg.get(4) else None
    if seg.get(4) and amount is None:
        findings.append(warning("277-AMOUNT-INVALID", "STC04 is not a number.", at(seg, 4)))
    action = seg.get(3)
    return StatusInformation(
        codes=status_codes,
        effective_date=parse_date(seg.get(2)),
        action_code=action,
        action_meaning=codes.meaning("stc_action", action) if action else "",
        amount=amount,
        message=seg.get(12),
        classification=classify(c.classification for c in status_codes),
    )


def _dates(seg: Segment) -> tuple[date | None, date | None]:
    """DTP03 as (start, end): D8 one date, RD8 a range."""
    text = seg.get(3)
    if seg.get(2) == "RD8" or "-" in text:
        start, _, end = text.partition("-")
        return parse_date(start), parse_date(end)
    return parse_date(text), None


class _SetReader:
    """Reads the segments of one 277 transaction set."""

    def __init__(self, ack: ClaimAcknowledgement, findings: list[ResponseFinding]) -> None:
        self.ack = ack
        self.findings = findings
        self.level = ""
        self.entity: StatusEntity | None = None
        self.claim: ClaimStatus | None = None
        self.line: LineStatus | None = None
        self.provider_id = ""
        self.patient: tuple[str, str, str] = ("", "", "")

    def segment(self, seg: Segment) -> None:
        tag = seg.tag
        if tag == "HL":
            self._close_claim()
            self.level = seg.get(3)
            self.line = None
            if self.level in _PATIENT_LEVELS:
                self.entity = None
                self.patient = ("", "", "")
                return
            self.entity = StatusEntity(
                hl_id=seg.get(1), parent_id=seg.get(2), level_code=self.level
            )
            if self.level == "20":
                self.ack.information_sources.append(self.entity)
            elif self.level == "21":
                self.ack.receivers.append(self.entity)
            else:
                self.ack.providers.append(self.entity)
        elif tag == "BHT":
            self.ack.reference_id = seg.get(3)
            self.ack.created = parse_date(seg.get(4))
        elif tag == "NM1":
            if self.level in _PATIENT_LEVELS:
                if seg.get(1) in ("QC", "IL") and (self.claim is None or seg.get(1) == "QC"):
                    self.patient = (seg.get(3), seg.get(4), seg.get(9))
                    if self.claim is not None:
                        self._apply_patient(self.claim)
            elif self.entity is not None:
                self.entity.entity = seg.get(1)
                self.entity.name = seg.get(3)
                self.entity.first_name = seg.get(4)
                self.entity.id_qualifier = seg.get(8)
                self.entity.identifier = seg.get(9)
                if self.level == "19":
                    self.provider_id = seg.get(9)
        elif tag == "TRN":
            if self.level in _PATIENT_LEVELS:
                self._close_claim()
                self.claim = ClaimStatus(claim_id=seg.get(2), provider_id=self.provider_id)
                self.claim.segment_index = seg.index
                self._apply_patient(self.claim)
                self.line = None
            elif self.entity is not None:
                self.entity.trace_numbers.append(seg.get(2))
        elif tag == "STC":
            info = read_stc(seg, self.findings)
            if self.line is not None:
                self.line.statuses.append(info)
            elif self.claim is not None:
                if self.claim.total_charge is None:
                    self.claim.total_charge = info.amount
                self.claim.statuses.append(info)
            elif self.entity is not None:
                self.entity.statuses.append(info)
        elif tag == "REF":
            qualifier, value = seg.get(1), seg.get(2)
            if self.line is not None:
                if qualifier == "FJ":
                    self.line.line_control_number = value
            elif self.claim is not None:
                if qualifier == "1K":
                    self.claim.payer_claim_control_number = value
                elif qualifier == "D9":
                    self.claim.clearinghouse_claim_id = value
                elif qualifier == "BLT":
                    self.claim.bill_type = value
                elif qualifier == "EA":
                    self.claim.medical_record_number = value
        elif tag == "DTP":
            start, end = _dates(seg)
            if self.line is not None and seg.get(1) == "472":
                self.line.service_date, self.line.service_date_end = start, end
            elif self.claim is not None and seg.get(1) == "472":
                self.claim.service_date, self.claim.service_date_end = start, end
            elif self.entity is not None:
                self.entity.dates.append(CodedValue(seg.get(1), seg.get(3)))
        elif tag == "SVC":
            if self.claim is not None:
                parts = seg.components(1)
                n = len(parts)
                self.line = LineStatus(
                    procedure_qualifier=parts[0] if n else "",
                    procedure_code=parts[1] if n > 1 else "",
                    modifiers=[m for m in parts[2:6] if m],
                    charge=parse_amount(seg.get(2)) if seg.get(2) else None,
                    paid=parse_amount(seg.get(3)) if seg.get(3) else None,
                    revenue_code=seg.get(4),
                    units=parse_amount(seg.get(7)) if seg.get(7) else None,
                )
                self.claim.lines.append(self.line)
        elif tag in ("QTY", "AMT") and self.entity is not None and self.claim is None:
            quantity = parse_amount(seg.get(2))
            if quantity is None:
                self.findings.append(
                    warning("277-AMOUNT-INVALID", f"{tag}02 is not a number.", at(seg, 2))
                )
            else:
                self.entity.quantities.append(
                    QualifiedQuantity(
                        seg.get(1), codes.meaning("qty_qualifier", seg.get(1)), quantity
                    )
                )

    def _apply_patient(self, claim: ClaimStatus) -> None:
        claim.patient_last_name, claim.patient_first_name, claim.member_id = self.patient

    def _close_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        for line in claim.lines:
            line.classification = classify(s.classification for s in line.statuses)
        claim.classification = classify(s.classification for s in claim.statuses)
        self.ack.claims.append(claim)
        self.claim = None
        self.line = None

    def finish(self) -> None:
        self._close_claim()


def read_claim_acknowledgement(segments: Iterable[Segment]) -> ClaimAcknowledgementDocument:
    """Read every 277 transaction set in ``segments`` (other sets are skipped)."""
    document = ClaimAcknowledgementDocument()
    envelope = EnvelopeTracker()
    reader: _SetReader | None = None
    x212 = False
    for seg in segments:
        tag = seg.tag
        if reader is not None:
            if tag == "SE" or tag in _ENVELOPE:
                reader.finish()
                reader = None
                if tag == "SE":
                    continue
            else:
                reader.segment(seg)
                continue
        envelope.update(seg)
        if tag == "ST" and seg.get(1) == "277":
            ack = ClaimAcknowledgement(envelope=envelope.envelope(seg))
            document.acknowledgements.append(ack)
            reader = _SetReader(ack, document.findings)
            version = seg.get(3) or envelope.version
            x212 = x212 or ("X212" in version or (bool(version) and "X214" not in version))
    if reader is not None:
        reader.finish()
    if x212 and not any("X214" in a.envelope.version for a in document.acknowledgements):
        document.transaction = "277"
    document.summary = summarize(document)
    return document


def read_claim_acknowledgement_parts(
    segments: Iterable[Segment], claims_per_part: int
) -> Iterator[tuple[ClaimAcknowledgement, bool]]:
    """The 277 transaction sets in ``segments`` in parts of at most ``claims_per_part`` claims
    (for applying a large 277CA in bounded memory), each with whether it ends its set.

    A part is a ``ClaimAcknowledgement`` with the set's envelope, BHT, information sources and
    receivers and the next claims, read as ``read_claim_acknowledgement`` reads them; only one
    part is held at a time (billing providers already handed out are dropped). Every set gives
    at least one part (its last, possibly with no claims after a full part)."""
    envelope = EnvelopeTracker()
    reader: _SetReader | None = None
    findings: list[ResponseFinding] = []
    for seg in segments:
        tag = seg.tag
        if reader is not None:
            if tag == "SE" or tag in _ENVELOPE:
                reader.finish()
                yield reader.ack, True
                reader = None
                if tag == "SE":
                    continue
            else:
                reader.segment(seg)
                findings.clear()  # parsing notes are not needed to apply the statuses
                ack = reader.ack
                if len(ack.claims) >= claims_per_part:
                    yield replace(ack, claims=ack.claims, providers=ack.providers), False
                    ack.claims = []
                    ack.providers = []
                continue
        envelope.update(seg)
        if tag == "ST" and seg.get(1) == "277":
            reader = _SetReader(ClaimAcknowledgement(envelope=envelope.envelope(seg)), findings)
    if reader is not None:
        reader.finish()
        yield reader.ack, True


def summarize(document: ClaimAcknowledgementDocument) -> ClaimAcknowledgementSummary:
    """Claims counted by classification over every acknowledgement of a document."""
    summary = ClaimAcknowledgementSummary()
    for ack in document.acknowledgements:
        for claim in ack.claims:
            summary.claims += 1
            if claim.classification is StatusClass.ACCEPTED:
                summary.accepted += 1
            elif claim.classification is StatusClass.REJECTED:
                summary.rejected += 1
            elif claim.classification is StatusClass.PENDING:
                summary.pending += 1
            else:
                summary.other += 1
    return summary


__all__ = ["classify", "read_claim_acknowledgement", "read_stc", "status_code", "summarize"]
