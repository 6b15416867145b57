"""Acknowledgements a receiver sends for a validated file: the 999 (X231A1) and the TA1.

``ack_999(result)`` answers every functional group of the file with one 999 transaction set
(AK1, AK2 / IK3 / IK4 / IK5 per set, AK9), inside one interchange addressed back to the sender.
Functional groups of 999s are never acknowledged (no 999 for a 999). ``ack_ta1(result)`` writes the
TA1 interchange acknowledgement for each interchange. Both are written with ``gateway.x12.Writer``.
IK404 (the bad value) is never written: it could hold PHI.

>>> text = ack_999(validate(data))        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from gateway.validation.validator import GroupResult, InterchangeResult, ValidationResult
from gateway.x12 import Defect, DefectCode, Delimiters, Severity, Writer

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


def _set_lines(w: Writer, defects: Iterable[Defect]) -> tuple[list[str], list[str]]:
    """The IK3 / IK4 segments for one set's findings, and its IK502 codes."""
    segments: dict[int, list[Defect]] = {}
    set_codes: list[str] = []
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
            for d in items:
                if d.code.vocabulary != "IK403" or d.location.element is None:
                    continue
                where: str | list[str] = str(d.location.element)
                if d.location.component is not None:
                    where = [str(d.location.element), str(d.location.component)]
                lines.append(w.segment("IK4", where, "", d.code.ack_code or ""))
    if segments and "5" not in set_codes:
        set_codes.append("5")
    return lines, set_codes


def _usage(value: str) -> str:
    """ISA15 of the answer: the acknowledged file's P / T, production when it is unreadable."""
    return value if value in ("P", "T", "I") else "P"


def _isa_back(w: Writer, isa: InterchangeResult, header: AckHeader, when: datetime) -> str:
    return w.isa(
        "00", "", "00", "",
        _safe(isa.receiver_qualifier, 2), _safe(isa.receiver, 15),
        _safe(isa.sender_qualifier, 2), _safe(isa.sender, 15),
        when.strftime("%y%m%d"), when.strftime("%H%M"), "00501",
        f"{header.interchange_control:09d}", "0", _usage(header.usage or isa.usage),
    )  # fmt: skip


def ack_999(result: ValidationResult, header: AckHeader | None = None) -> str:
    """The 999 that acknowledges every (non-999) functional group of ``result``."""
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
        w.segment("GS", "FA", _safe(first_group.receiver, 15), _safe(first_group.sender, 15),
                  when.strftime("%Y%m%d"),
                  when.strftime("%H%M"), str(header.group_control), "X", VERSION_999),
    ]  # fmt: skip
    for number, (_, group) in enumerate(answerable, 1):
        out.extend(_group_999(w, group, number))
    out.append(w.segment("GE", str(len(answerable)), str(header.group_control)))
    out.append(w.segment("IEA", "1", f"{header.interchange_control:09d}"))
    return "".join(out)


def _group_999(w: Writer, group: GroupResult, number: int) -> list[str]:
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
        lines, codes = _set_lines(w, s.defects)
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
    out.append(w.segment("IEA", "0", f"{header.interchange_control:09d}"))
    return "".join(out)
