"""Acknowledgements a receiver sends for a validated file: the 999 (X231A1) and the TA1.

``ack_999(result)`` answers every functional group of the file with one 999 transaction set
(AK1, AK2 / IK3 / IK4 / IK5 per set, AK9), inside one interchange addressed back to the sender.
Functional groups of 999s are never acknowledged (no 999 for a 999). ``ack_ta1(result)`` writes the
TA1 interchange acknowledgement for each interchange. Both are written with ``gateway.x12.Writer``.

IK4 carries IK401 (element, component, repetition), IK402 (the data element number, from the
guide's map) and IK403. IK404 (the bad value) is never written: it could hold PHI, and findings
never carry values. Given the acknowledged file's bytes (``source=``), an error inside an 837 claim
(loop 2300 and below) gets the business-unit context ``CTX*CLM01:<patient control number>`` after
its IK3: findings say where they are (segment index), not which claim that is. The situational
trigger contexts (segment and element context) are not written: the validator does not report the
trigger of a situational rule.

>>> text = ack_999(validate(data), source=data)        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from gateway.validation.compiled import specs as compiled_specs
from gateway.validation.spec import (
    SUPPORTED_MAPS,
    CompositeSpec,
    LoopSpec,
    SegmentSpec,
    SpecError,
)
from gateway.validation.validator import (
    GroupResult,
    InterchangeResult,
    SetResult,
    ValidationResult,
)
from gateway.x12 import Defect, DefectCode, Delimiters, Severity, Writer, read_segments
from gateway.x12.envelope import (
    GroupHeader,
    InterchangeHeader,
    ge_segment,
    gs_segment,
    iea_segment,
    isa_segment,
)

__all__ = ["AckError", "AckHeader", "ack_999", "ack_ta1"]

VERSION_999 = "005010X231A1"


class AckError(Exception):
    """No acknowledgement can be written for this file (e.g. it holds only 999s, or no ISA)."""


@dataclass(frozen=True, slots=True)
class AckHeader:
    """Control numbers and the time stamp of the acknowledgement we write."""

    interchange_control: int = 1  # ISA13 / IEA02 of our acknowledgement
    group_control: int = 1  # GS06 / GE02
    when: datetime | None = None  # defaults to now
    usage: str | None = None  # ISA15; defaults to the acknowledged interchange's


_NOT_DATA = str.maketrans("", "", "*:^~\r\n\x07\x1c\x1d\x1e\x1f")


def _safe(value: str | None, size: int) -> str:
    """A value from the acknowledged file, fit for an element of at most ``size`` characters:
    without our delimiters (a broken file can put anything anywhere) and cut to size."""
    return (value or "").translate(_NOT_DATA).strip()[:size]


def _segment_code(defect: Defect) -> str | None:
    """The IK304 code a defect stands for (element findings mean 8: data element errors)."""
    code = defect.code
    vocabulary = code.vocabulary
    if vocabulary == "IK304":
        return code.ack_code
    if vocabulary == "IK403" or code is DefectCode.TRAILING_SEPARATOR:
        return "8"
    return None


# (segment tag, element position, component position or None) -> data element number
_ElementNumbers = Mapping[tuple[str, int, int | None], str]


@lru_cache(maxsize=8)
def _element_numbers(version: str) -> _ElementNumbers:
    """The data element numbers of a guide's segments, from its map (empty for an unknown guide).

    X12 numbers data elements by segment and position, not by loop: an NM103 is 1035 in every
    loop, so (tag, element, component) is enough. Composites have no number fit for IK402 (725
    is numeric; they are C0xx): only simple elements and components are listed.
    """
    file = SUPPORTED_MAPS.get(version)
    if file is None:
        return {}
    try:
        spec = compiled_specs().maps.get(file)
    except SpecError:
        return {}
    numbers: dict[tuple[str, int, int | None], str] = {}
    pending: list[LoopSpec | SegmentSpec] = list(spec.children) if spec is not None else []
    while pending:
        node = pending.pop()
        if isinstance(node, LoopSpec):
            pending.extend(node.children)
            continue
        for element in node.elements:
            if isinstance(element, CompositeSpec):
                for part in element.components:
                    if part.data_ele.isdigit():
                        numbers[(node.id, element.seq, part.seq)] = part.data_ele
            elif element.data_ele.isdigit():
                numbers[(node.id, element.seq, None)] = element.data_ele
    return numbers


_CLAIM_END = frozenset({"HL", "SE", "ST", "GS", "GE", "ISA", "IEA"})


def _claims(source: bytes, wanted: Mapping[int, set[str]]) -> dict[tuple[int, str], str]:
    """The CLM01 of the 837 claim each finding is in, by (segment index, finding's segment tag).

    A claim runs from its CLM to the next CLM, HL or SE. A finding about the segment at its index
    (same tag) is in the claim open there; one about a segment missing before it (another tag, e.g.
    a line's required DTP reported at the next claim's CLM) is in the claim open just before it.
    """
    found: dict[tuple[int, str], str] = {}
    if not wanted:
        return found
    last = max(wanted)
    current = ""
    for seg in read_segments(source):
        index, tag = seg.index, seg.tag
        before = current
        if tag == "CLM":
            current = seg.get(1)
        elif tag in _CLAIM_END:
            current = ""
        for finding_tag in wanted.get(index, ()):
            claim = current if finding_tag == tag else before
            if claim:
                found[(index, finding_tag)] = claim
        if index >= last:
            break
    return found


def _in_claim(defect: Defect) -> bool:
    """Whether a finding is placed in a claim's loops (2300, 2310A ... 2400, 2430 ...)."""
    loop = defect.location.loop or ""
    return loop[:2] in ("23", "24") and defect.location.segment_index is not None


def _claim_context(w: Writer, claim: str) -> str | None:
    """The business-unit CTX naming a claim, or None when its CLM01 cannot be written as it is
    (longer than CTX01-2's 35 characters, or holding one of our delimiters)."""
    if not claim or len(claim) > 35 or _safe(claim, 35) != claim:
        return None
    return w.segment("CTX", ["CLM01", claim])


def _set_lines(
    w: Writer,
    defects: Iterable[Defect],
    numbers: _ElementNumbers | None = None,
    claims: Mapping[tuple[int, str], str] | None = None,
) -> tuple[list[str], list[str]]:
    """The IK3 / CTX / IK4 segments for one set's findings, and its IK502 codes."""
    segments: dict[int, list[Defect]] = {}
    set_codes: list[str] = []
    numbers = numbers or {}
    claims = claims or {}
    for d in defects:
        if d.severity is not Severity.ERROR:
            continue
        if d.code.vocabulary == "IK502":
            if d.code.ack_code and d.code.ack_code not in set_codes:
                set_codes.append(d.code.ack_code)
            continue
        position = d.location.segment_position
        if position is None or _segment_code(d) is None:
            continue
        segments.setdefault(position, []).append(d)
    lines: list[str] = []
    for position in sorted(segments):
        found = segments[position]
        by_tag: dict[tuple[str, str, str], list[Defect]] = {}
        for d in found:
            code = _segment_code(d)
            assert code is not None
            tag = _safe(d.location.tag, 3)
            # IK303 holds at most 4 characters: the loop number (2010 for 2010AA)
            loop = (d.location.loop or "")[:4]
            by_tag.setdefault((tag, loop if loop[:1].isdigit() else "", code), []).append(d)
        for (tag, loop, code), items in by_tag.items():
            lines.append(w.segment("IK3", tag, str(position), loop, code))
            context = _claim_context(w, _claim_of(items, claims))
            if context is not None:
                lines.append(context)
            for d in items:
                if d.code.vocabulary != "IK403" or d.location.element is None:
                    continue
                lines.append(_ik4(w, d, numbers))
    if segments and "5" not in set_codes:
        set_codes.append("5")
    return lines, set_codes


def _claim_of(items: list[Defect], claims: Mapping[tuple[int, str], str]) -> str:
    """The claim of one IK3's findings (they share a segment and tag, hence a claim)."""
    for d in items:
        index = d.location.segment_index
        if index is not None and _in_claim(d):
            claim = claims.get((index, d.location.tag or ""))
            if claim:
                return claim
    return ""


def _ik4(w: Writer, d: Defect, numbers: _ElementNumbers) -> str:
    """IK4: position in segment (C030), data element number when the guide knows it, code."""
    where = d.location
    assert where.element is not None
    position: str | list[str] = str(where.element)
    if where.repetition is not None:
        component = "" if where.component is None else str(where.component)
        position = [str(where.element), component, str(where.repetition)]
    elif where.component is not None:
        position = [str(where.element), str(where.component)]
    number = numbers.get((where.tag or "", where.element, where.component), "")
    return w.segment("IK4", position, number, d.code.ack_code or "")


def _claims_of(sets: Iterable[SetResult], source: bytes | None) -> dict[tuple[int, str], str]:
    """The claims of every 837 finding placed in a claim's loops (nothing without the source)."""
    if source is None:
        return {}
    wanted: dict[int, set[str]] = {}
    for s in sets:
        if s.transaction != "837":
            continue
        for d in s.defects:
            index = d.location.segment_index
            if d.severity is Severity.ERROR and index is not None and _in_claim(d):
                wanted.setdefault(index, set()).add(d.location.tag or "")
    return _claims(source, wanted)


def _usage(value: str) -> str:
    """ISA15 of the answer: the acknowledged file's P / T, production when it is unreadable."""
    return value if value in ("P", "T", "I") else "P"


def _isa_back(w: Writer, isa: InterchangeResult, header: AckHeader, when: datetime) -> str:
    """The answer's ISA: the acknowledged interchange's sender and receiver swapped."""
    back = InterchangeHeader(
        sender_qualifier=_safe(isa.receiver_qualifier, 2),
        sender_id=_safe(isa.receiver, 15),
        receiver_qualifier=_safe(isa.sender_qualifier, 2),
        receiver_id=_safe(isa.sender, 15),
        date=when.strftime("%y%m%d"),
        time=when.strftime("%H%M"),
        control_number=f"{header.interchange_control:09d}",
        acknowledgment_requested="0",
        usage_indicator=_usage(header.usage or isa.usage),
    )
    return isa_segment(w, back)


def ack_999(
    result: ValidationResult, header: AckHeader | None = None, *, source: bytes | None = None
) -> str:
    """The 999 that acknowledges every (non-999) functional group of ``result``.

    ``source``: the bytes ``result`` was validated from; with them, errors inside an 837 claim
    name it (``CTX*CLM01:<patient control number>``).
    """
    header = header or AckHeader()
    when = header.when or datetime.now()
    answerable = [
        (isa, g) for isa in result.interchanges for g in isa.groups if g.functional_id != "FA"
    ]
    if not answerable:
        if any(isa.groups for isa in result.interchanges):
            raise AckError("the file holds only 999 acknowledgements; a 999 is never acknowledged")
        raise AckError("the file has no functional group to acknowledge")
    w = Writer(Delimiters())
    first_isa, first_group = answerable[0]
    out = [
        _isa_back(w, first_isa, header, when),
        gs_segment(
            w,
            GroupHeader(
                functional_id="FA",
                application_sender=_safe(first_group.receiver, 15),
                application_receiver=_safe(first_group.sender, 15),
                date=when.strftime("%Y%m%d"),
                time=when.strftime("%H%M"),
                control_number=str(header.group_control),
                version=VERSION_999,
            ),
        ),
    ]
    claims = _claims_of((s for _, g in answerable for s in g.sets), source)
    for number, (_, group) in enumerate(answerable, 1):
        out.extend(_group_999(w, group, number, claims))
    out.append(ge_segment(w, len(answerable), str(header.group_control)))
    out.append(iea_segment(w, 1, f"{header.interchange_control:09d}"))
    return "".join(out)


def _group_999(
    w: Writer, group: GroupResult, number: int, claims: Mapping[tuple[int, str], str]
) -> list[str]:
    control = f"{number:04d}"
    body = [
        w.segment("ST", "999", control, VERSION_999),
        w.segment(
            "AK1", _safe(group.functional_id, 2), _safe(group.control, 9), _safe(group.version, 12)
        ),
    ]
    accepted = 0
    for s in group.sets:
        body.append(
            w.segment("AK2", _safe(s.transaction, 3), _safe(s.control, 9), _safe(s.version, 35))
        )
        lines, codes = _set_lines(w, s.defects, _element_numbers(s.version), claims)
        body.extend(lines)
        if s.accepted:
            accepted += 1
            body.append(w.segment("IK5", "A"))
        else:
            body.append(w.segment("IK5", "R", *(codes[:5] or ["5"])))
    group_codes: list[str] = []
    for d in group.defects:
        if (
            d.severity is Severity.ERROR
            and d.code.vocabulary == "AK905"
            and (d.code.ack_code not in group_codes)
        ):
            group_codes.append(d.code.ack_code or "")
    total = len(group.sets)
    if group_codes or (total and accepted == 0):
        status = "R"
    elif accepted == total:
        status = "A"
    else:
        status = "P"
    body.append(w.segment("AK9", status, str(total), str(total), str(accepted), *group_codes[:5]))
    body.append(w.segment("SE", str(len(body) + 1), control))
    return body


def ack_ta1(result: ValidationResult, header: AckHeader | None = None) -> str:
    """An interchange holding one TA1 per interchange of ``result`` (A, or R with its note)."""
    header = header or AckHeader()
    when = header.when or datetime.now()
    if not result.interchanges:
        raise AckError("the file has no ISA interchange header to acknowledge")
    w = Writer(Delimiters())
    out = [_isa_back(w, result.interchanges[0], header, when)]
    for isa in result.interchanges:
        notes = [
            d.code.ack_code
            for d in isa.defects
            if d.severity is Severity.ERROR and d.code.vocabulary == "TA1" and d.code.ack_code
        ]
        status, note = ("R", notes[0]) if notes else ("A", "000")
        out.append(
            w.segment(
                "TA1", _safe(isa.control, 9), _safe(isa.date, 6), _safe(isa.time, 4), status, note
            )
        )
    out.append(iea_segment(w, 0, f"{header.interchange_control:09d}"))  # a TA1 is no group
    return "".join(out)
