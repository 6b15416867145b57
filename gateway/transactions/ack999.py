"""The 999 reader (005010X231A1), which also reads 4010-style 997s: segments in, verdicts out.

AK1 opens a functional group response, AK2 a transaction set response; IK3 (997: AK3) segment errors
hold IK4 (997: AK4) element errors; CTX segments attach to the IK3 or IK4 they follow; IK5 (997:
AK5) closes the set with its verdict and AK9 the group. Every code carries its meaning.

Composites are split with the interchange's own delimiters, so the same 999 reads the same whatever
its ISA16: IK401 and CTX05 (C030) become element, component and repetition numbers, CTX06 (C999)
data element reference numbers, and CTX01 (C998) a context name and reference (``CLM01`` and the
claim's patient control number for a business-unit context).
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway import codes
from gateway.models.acknowledgements import (
    ElementError,
    ErrorContext,
    FunctionalGroupResponse,
    ImplementationAcknowledgement,
    ImplementationAcknowledgementDocument,
    ImplementationAcknowledgementSummary,
    SegmentError,
    TransactionSetResponse,
)
from gateway.models.responses import CodedValue, ResponseFinding
from gateway.transactions.common import EnvelopeTracker, at, warning
from gateway.x12 import Segment

_ENVELOPE = frozenset({"ISA", "GS", "GE", "IEA", "ST"})
_STATUS_ORDER = {"R": 4, "P": 3, "E": 2, "A": 1}  # for a file's overall group status


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


# CTX01-1 names of the business-unit CTX (X231A1 loop 2100): their CTX01-2 identifies the unit
_BUSINESS_UNITS = frozenset(
    {
        "TRN02",
        "NM109",
        "PATIENT NAME NM109",
        "SUBSCRIBER NAME NM109",
        "ENT01",
        "SUBSCRIBER NUMBER REF02",
        "CLM01",
    }
)


def _context_identification(seg: Segment, findings: list[ResponseFinding]) -> tuple[str, str]:
    """CTX01 (C998, first repetition) as context name and context reference.

    The two components are split on the interchange's component separator (ISA16). A sender that
    writes a business-unit context with a literal colon under another ISA16 (``CLM01:A1`` with
    ``>``) is read the same way, with a warning: the claim it names must not be lost.
    """
    repetitions = seg.repetitions(1)
    first = repetitions[0] if repetitions else ""
    separator = seg.delimiters.component
    name, found, reference = first.partition(separator)
    if not found and separator != ":":
        head, colon, tail = first.partition(":")
        if colon and head in _BUSINESS_UNITS:
            findings.append(
                warning(
                    "999-CONTEXT",
                    f"CTX01 separates {head} from its reference with ':', not with the "
                    f"interchange's component separator {separator!r}; read as {head} and "
                    "its reference.",
                    at(seg, 1),
                )
            )
            return head, tail
    return name, reference


def _positions(
    seg: Segment, position: int, findings: list[ResponseFinding]
) -> tuple[int | None, int | None, int | None]:
    """A C030 position in segment (element, component, repetition) split on ISA16, as numbers."""
    parts = seg.components(position)
    numbers = [_int(p) for p in parts[:3]]
    if any(p.strip() and n is None for p, n in zip(parts, numbers, strict=False)) or len(parts) > 3:
        findings.append(
            warning(
                "999-CONTEXT",
                f"{seg.tag}{position:02d} is not a position in segment (element, component, "
                "repetition: numbers separated by the component separator); the parts that "
                "are not numbers are left out.",
                at(seg, position),
            )
        )
    numbers += [None] * (3 - len(numbers))
    return numbers[0], numbers[1], numbers[2]


def _context(seg: Segment, findings: list[ResponseFinding]) -> ErrorContext:
    name, reference = _context_identification(seg, findings)
    element, component, repetition = _positions(seg, 5, findings)
    references = seg.components(6)
    return ErrorContext(
        context_name=name,
        context_reference=reference,
        segment_id=seg.get(2),
        segment_position=_int(seg.get(3)),
        loop_id=seg.get(4),
        element_position=element,
        component_position=component,
        repetition=repetition,
        data_element_reference=references[0] if references else "",
        component_data_element_reference=references[1] if len(references) > 1 else "",
    )


def _coded(table: str, values: Iterable[str]) -> list[CodedValue]:
    return [CodedValue(v, codes.meaning(table, v)) for v in values if v]


class _SetReader:
    """Reads the segments of one 999/997 transaction set."""

    def __init__(self, ack: ImplementationAcknowledgement, findings: list[ResponseFinding]) -> None:
        self.ack = ack
        self.findings = findings
        self.group: FunctionalGroupResponse | None = None
        self.set: TransactionSetResponse | None = None
        self.segment_error: SegmentError | None = None
        self.element_error: ElementError | None = None

    def segment(self, seg: Segment) -> None:
        tag = seg.tag
        if tag == "AK1":
            self.group = FunctionalGroupResponse(seg.get(1), seg.get(2), seg.get(3))
            self.ack.groups.append(self.group)
            self.set = None
        elif tag == "AK2":
            group = self._group(seg)
            self.set = TransactionSetResponse(seg.get(1), seg.get(2), seg.get(3), "", "")
            group.transaction_sets.append(self.set)
            self.segment_error = self.element_error = None
        elif tag in ("IK3", "AK3"):
            current = self._set(seg)
            code = seg.get(4)
            self.segment_error = SegmentError(
                seg.get(1),
                _int(seg.get(2)),
                seg.get(3),
                code,
                codes.meaning("ik304", code) if code else "",
            )
            current.segment_errors.append(self.segment_error)
            self.element_error = None
        elif tag in ("IK4", "AK4"):
            if self.segment_error is None:
                self.findings.append(
                    warning(
                        "999-STRUCTURE",
                        f"{tag} without an IK3/AK3 before it; kept under an empty segment error.",
                        at(seg),
                    )
                )
                self.segment_error = SegmentError("", None, "", "", "")
                self._set(seg).segment_errors.append(self.segment_error)
            element, component, repetition = _positions(seg, 1, self.findings)
            code = seg.get(3)
            self.element_error = ElementError(
                element,
                component,
                repetition,
                seg.get(2),
                code,
                codes.meaning("ik403", code),
                seg.get(4),
            )
            self.segment_error.element_errors.append(self.element_error)
        elif tag == "CTX":
            context = _context(seg, self.findings)
            if self.element_error is not None:
                self.element_error.contexts.append(context)
            elif self.segment_error is not None:
                self.segment_error.contexts.append(context)
        elif tag in ("IK5", "AK5"):
            verdict = self.set
            if verdict is None:  # a verdict for no set: report it, answer nothing with it
                self.findings.append(
                    warning("999-STRUCTURE", f"{tag} outside an AK2 loop; ignored.", at(seg))
                )
                return
            verdict.status = seg.get(1)
            verdict.status_meaning = codes.meaning("ack_status", seg.get(1))
            verdict.error_codes = _coded("ik502", (seg.get(n) for n in range(2, 7)))
            self.set = None
            self.segment_error = self.element_error = None
        elif tag == "AK9":
            group = self._group(seg)
            group.status = seg.get(1)
            group.status_meaning = codes.meaning("ack_status", seg.get(1))
            group.sets_included = _int(seg.get(2))
            group.sets_received = _int(seg.get(3))
            group.sets_accepted = _int(seg.get(4))
            group.error_codes = _coded("ak905", (seg.get(n) for n in range(5, 10)))

    def _group(self, seg: Segment) -> FunctionalGroupResponse:
        if self.group is None:
            self.findings.append(
                warning(
                    "999-STRUCTURE",
                    f"{seg.tag} before any AK1; kept under an empty group.",
                    at(seg),
                )
            )
            self.group = FunctionalGroupResponse("", "", "")
            self.ack.groups.append(self.group)
        return self.group

    def _set(self, seg: Segment) -> TransactionSetResponse:
        if self.set is None:
            self.findings.append(
                warning(
                    "999-STRUCTURE",
                    f"{seg.tag} outside an AK2 loop; kept under an empty set response.",
                    at(seg),
                )
            )
            self.set = TransactionSetResponse("", "", "", "", "")
            self._group(seg).transaction_sets.append(self.set)
        return self.set


def read_implementation_acknowledgement(
    segments: Iterable[Segment],
) -> ImplementationAcknowledgementDocument:
    """Read every 999 and 997 transaction set in ``segments`` (other sets are skipped)."""
    document = ImplementationAcknowledgementDocument()
    envelope = EnvelopeTracker()
    reader: _SetReader | None = None
    kinds: set[str] = set()
    for seg in segments:
        tag = seg.tag
        if reader is not None:
            if tag == "SE" or tag in _ENVELOPE:
                reader = None
                if tag == "SE":
                    continue
            else:
                reader.segment(seg)
                continue
        envelope.update(seg)
        if tag == "ST" and seg.get(1) in ("999", "997"):
            kinds.add(seg.get(1))
            ack = ImplementationAcknowledgement(envelope=envelope.envelope(seg))
            document.acknowledgements.append(ack)
            reader = _SetReader(ack, document.findings)
    if kinds == {"997"}:
        document.transaction = "997"
    document.summary = summarize(document)
    return document


def combined_status(statuses: list[str]) -> str:
    """One AK901-style status for several groups: the same when all agree, ``P`` when some were
    rejected and others accepted, else the worst (R, P, E, A)."""
    distinct = set(statuses)
    if len(distinct) <= 1:
        return statuses[0] if statuses else ""
    if "R" in distinct and distinct & {"A", "E", "P"}:
        return "P"
    return max(distinct, key=lambda s: _STATUS_ORDER.get(s, 0))


def summarize(
    document: ImplementationAcknowledgementDocument,
) -> ImplementationAcknowledgementSummary:
    """Sets answered, accepted and rejected, and the worst group status, over a document."""
    summary = ImplementationAcknowledgementSummary()
    statuses: list[str] = []
    for ack in document.acknowledgements:
        for group in ack.groups:
            for response in group.transaction_sets:
                summary.sets += 1
                if response.accepted:
                    summary.accepted += 1
                else:
                    summary.rejected += 1
            if group.status:
                statuses.append(group.status)
    summary.group_status = combined_status(statuses)
    return summary


__all__ = ["combined_status", "read_implementation_acknowledgement", "summarize"]
