"""Envelopes, in one place: the ISA read into named values, the envelope segments written from
values, and the envelope checks (ISA/IEA, GS/GE and ST/SE pairing, control numbers and counts).

``read_isa`` is the one ISA reader (``InterchangeHeader``); ``isa_segment``, ``gs_segment``,
``ge_segment`` and ``iea_segment`` the one envelope writer (the 837 builder, the 999/TA1 writers and
the simulator write their envelopes with them). ``EnvelopeChecker`` is fed envelope segments (and
told of data segments found outside a transaction set) by the tokenizer as they stream past, so it
costs nothing per ordinary segment and keeps only the open envelope in memory (plus the control
numbers seen, to catch duplicates); ``ControlTrail`` is pyx12's reader bookkeeping of the same
envelopes, for the TR3 validator, whose findings must fall where pyx12's fall.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.x12.defects import Defect, DefectCode, Severity
from gateway.x12.location import Location
from gateway.x12.segment import Segment

if TYPE_CHECKING:
    from gateway.x12.serializer import Writer

ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})

_ID_QUALIFIERS = frozenset(
    [
        "01",
        "02",
        "03",
        "04",
        "07",
        "08",
        "09",
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "20",
        "21",
        "22",
        "23",
        "24",
        "25",
        "26",
        "27",
        "28",
        "29",
        "30",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "38",
        "AM",
        "NR",
        "SA",
        "SN",
        "ZZ",
    ]
)

_RESEND = "Ask the sender for a corrected file; the file is kept as received."


def _valid_yymmdd(value: str) -> bool:
    if len(value) != 6 or not (value.isascii() and value.isdigit()):
        return False
    month, day = int(value[2:4]), int(value[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31


def _valid_hhmm(value: str) -> bool:
    if len(value) != 4 or not (value.isascii() and value.isdigit()):
        return False
    return int(value[:2]) <= 23 and int(value[2:]) <= 59


class EnvelopeChecker:
    """Tracks the open interchange, group and set, and reports envelope defects as they happen."""

    __slots__ = (
        "_group_count",
        "_gs",
        "_gs_controls",
        "_isa",
        "_isa_controls",
        "_report",
        "_set_count",
        "_st",
        "_st_controls",
        "_ta1_count",
        "in_set",
        "interchanges",
    )

    def __init__(self, report: Callable[[Defect], None]) -> None:
        self._report = report
        self._isa: Segment | None = None
        self._gs: Segment | None = None
        self._st: Segment | None = None
        self._group_count = 0
        self._ta1_count = 0
        self._set_count = 0
        self._isa_controls: set[str] = set()
        self._gs_controls: set[str] = set()
        self._st_controls: set[str] = set()
        self.in_set = False
        self.interchanges = 0

    # -- reporting helpers --------------------------------------------------------------------
    def _defect(
        self,
        code: DefectCode,
        message: str,
        where: Location,
        hint: str = _RESEND,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self._report(Defect(code, message, where, severity, hint))

    # -- the segments ---------------------------------------------------------------------------
    def segment(self, seg: Segment) -> None:
        """Check one envelope segment (ISA, IEA, GS, GE, ST or SE)."""
        tag = seg.tag
        if tag == "ST":
            self._open_set(seg)
        elif tag == "SE":
            self._close_set(seg)
        elif tag == "GS":
            self._open_group(seg)
        elif tag == "GE":
            self._close_group(seg)
        elif tag == "ISA":
            self._open_interchange(seg)
        elif tag == "IEA":
            self._close_interchange(seg)

    def outside_set(self, seg: Segment) -> None:
        """A data segment that is not inside an ST/SE pair."""
        if seg.tag == "TA1" and self._isa is not None and self._gs is None:
            self._ta1_count += 1
            return  # TA1 stands between ISA and GS by design
        where = (
            "before any interchange header (ISA)"
            if self._isa is None
            else (
                "inside the interchange but outside a functional group (GS/GE)"
                if self._gs is None
                else "inside a functional group but outside a transaction set (ST/SE)"
            )
        )
        self._defect(
            DefectCode.TA1_024,
            f"Segment {seg.tag} stands {where}.",
            seg.location,
            "The file's envelopes are broken (a missing ST, GS or ISA); " + _RESEND,
        )

    def finish(self, end: Location) -> None:
        """The input ended: report whatever envelope is still open."""
        if self._st is not None:
            self._missing_se(end)
        if self._gs is not None:
            self._missing_ge(end)
        if self._isa is not None:
            self._defect(
                DefectCode.TA1_023,
                f"The file ends inside interchange {self._isa[13]!r}: the IEA trailer is missing.",
                end,
                "The file was probably cut short in transfer; ask for it to be sent again.",
            )
            self._isa = None

    # -- interchange ----------------------------------------------------------------------------
    def _open_interchange(self, seg: Segment) -> None:
        if self._isa is not None:
            if self._st is not None:
                self._missing_se(seg.location)
            if self._gs is not None:
                self._missing_ge(seg.location)
            self._defect(
                DefectCode.TA1_023,
                f"A new interchange starts before interchange {self._isa[13]!r} was closed "
                "by an IEA trailer.",
                seg.location,
                "Two files were probably joined, or one was cut short; " + _RESEND,
            )
        self._isa = seg
        self._group_count = 0
        self._ta1_count = 0
        self._gs_controls = set()
        self.interchanges += 1
        self._check_isa(seg)

    def _check_isa(self, seg: Segment) -> None:
        if len(seg.elements) != 16:
            self._defect(
                DefectCode.TA1_024,
                f"The ISA has {len(seg.elements)} elements instead of 16.",
                seg.location,
            )
            return
        checks: list[tuple[int, bool, DefectCode, str]] = [
            (
                1,
                seg[1] in ("00", "01", "02", "03", "04", "05", "06"),
                DefectCode.TA1_010,
                "authorization information qualifier",
            ),
            (3, seg[3] in ("00", "01"), DefectCode.TA1_012, "security information qualifier"),
            (5, seg[5].strip() in _ID_QUALIFIERS, DefectCode.TA1_005, "sender ID qualifier"),
            (6, bool(seg[6].strip()), DefectCode.TA1_006, "sender ID"),
            (7, seg[7].strip() in _ID_QUALIFIERS, DefectCode.TA1_007, "receiver ID qualifier"),
            (8, bool(seg[8].strip()), DefectCode.TA1_008, "receiver ID"),
            (9, _valid_yymmdd(seg[9]), DefectCode.TA1_014, "interchange date (YYMMDD)"),
            (10, _valid_hhmm(seg[10]), DefectCode.TA1_015, "interchange time (HHMM)"),
            (
                12,
                len(seg[12]) == 5 and seg[12].isascii() and seg[12].isdigit(),
                DefectCode.TA1_017,
                "version number",
            ),
            (
                13,
                len(seg[13]) == 9 and seg[13].isascii() and seg[13].isdigit(),
                DefectCode.TA1_018,
                "control number",
            ),
            (14, seg[14] in ("0", "1"), DefectCode.TA1_019, "acknowledgment requested flag"),
            (15, seg[15] in ("P", "T", "I"), DefectCode.TA1_020, "usage indicator (P or T)"),
        ]
        for position, ok, code, what in checks:
            if not ok:
                self._defect(
                    code,
                    f"ISA{position:02d} ({what}) holds {seg[position]!r}, which is not valid.",
                    seg.at(position),
                )
        control = seg[13]
        if control in self._isa_controls:
            self._defect(
                DefectCode.TA1_025,
                f"Interchange control number {control!r} is used twice in this file.",
                seg.at(13),
                "Every interchange needs its own ISA13; " + _RESEND,
            )
        self._isa_controls.add(control)

    def _close_interchange(self, seg: Segment) -> None:
        if self._isa is None:
            self._defect(
                DefectCode.TA1_024,
                "An IEA trailer appears without an open interchange (no ISA before it).",
                seg.location,
            )
            return
        if self._st is not None:
            self._missing_se(seg.location)
        if self._gs is not None:
            self._missing_ge(seg.location)
        header = self._isa[13]
        if seg[2] != header:
            self._defect(
                DefectCode.TA1_001,
                f"The interchange trailer IEA02 ({seg[2]!r}) does not match the header ISA13 "
                f"({header!r}).",
                seg.at(2),
            )
        if not (seg[1].isascii() and seg[1].isdigit() and int(seg[1]) == self._group_count):
            # An interchange holding only a TA1 often counts the TA1; tolerated, but said.
            ta1_only = self._group_count == 0 and self._ta1_count > 0
            ta1_counted = (
                ta1_only
                and seg[1].isascii()
                and seg[1].isdigit()
                and int(seg[1]) == self._ta1_count
            )
            self._defect(
                DefectCode.TA1_021,
                f"IEA01 says the interchange holds {seg[1]!r} functional groups; it holds "
                f"{self._group_count}"
                + (" (it seems to count the TA1 segments instead)." if ta1_counted else "."),
                seg.at(1),
                severity=Severity.WARNING if ta1_counted else Severity.ERROR,
            )
        self._isa = None

    # -- functional group -----------------------------------------------------------------------
    def _open_group(self, seg: Segment) -> None:
        if self._isa is None:
            self._defect(
                DefectCode.TA1_024,
                "A functional group (GS) starts outside any interchange (no ISA before it).",
                seg.location,
            )
        if self._st is not None:
            self._missing_se(seg.location)
        if self._gs is not None:
            self._missing_ge(seg.location)
        self._gs = seg
        self._group_count += 1
        self._set_count = 0
        self._st_controls = set()
        control = seg[6]
        if not (control.isascii() and control.isdigit() and 1 <= len(control) <= 9):
            self._defect(
                DefectCode.AK905_6,
                f"GS06 (group control number) {control!r} must be 1 to 9 digits.",
                seg.at(6),
            )
        elif control in self._gs_controls:
            self._defect(
                DefectCode.AK905_19,
                f"Group control number {control!r} is used twice in this interchange.",
                seg.at(6),
            )
        self._gs_controls.add(control)

    def _close_group(self, seg: Segment) -> None:
        if self._gs is None:
            self._defect(
                DefectCode.TA1_024,
                "A GE trailer appears without an open functional group (no GS before it).",
                seg.location,
            )
            return
        if self._st is not None:
            self._missing_se(seg.location)
        if seg[2] != self._gs[6]:
            self._defect(
                DefectCode.AK905_4,
                f"The group trailer GE02 ({seg[2]!r}) does not match the header GS06 "
                f"({self._gs[6]!r}).",
                seg.at(2),
            )
        if not (seg[1].isascii() and seg[1].isdigit() and int(seg[1]) == self._set_count):
            self._defect(
                DefectCode.AK905_5,
                f"GE01 says the group holds {seg[1]!r} transaction sets; it holds "
                f"{self._set_count}.",
                seg.at(1),
            )
        self._gs = None

    def _missing_ge(self, where: Location) -> None:
        assert self._gs is not None
        self._defect(
            DefectCode.AK905_3,
            f"Functional group {self._gs[6]!r} (started at segment {self._gs.index + 1}) has no "
            "GE trailer.",
            where,
        )
        self._gs = None

    # -- transaction set ------------------------------------------------------------------------
    def _open_set(self, seg: Segment) -> None:
        if self._gs is None:
            self._defect(
                DefectCode.TA1_024,
                "A transaction set (ST) starts outside any functional group (no GS before it).",
                seg.location,
            )
        if self._st is not None:
            self._missing_se(seg.location)
        self._st = seg
        self.in_set = True
        self._set_count += 1
        if not seg[1]:
            self._defect(
                DefectCode.IK502_6, "ST01 (transaction set identifier) is empty.", seg.at(1)
            )
        control = seg[2]
        if not 4 <= len(control) <= 9:
            self._defect(
                DefectCode.IK502_7,
                f"ST02 (transaction set control number) {control!r} must be 4 to 9 characters.",
                seg.at(2),
            )
        elif control in self._st_controls:
            self._defect(
                DefectCode.IK502_23,
                f"Transaction set control number {control!r} is used twice in this group.",
                seg.at(2),
            )
        self._st_controls.add(control)

    def _close_set(self, seg: Segment) -> None:
        st = self._st
        if st is None:
            self._defect(
                DefectCode.IK304_2,
                "An SE trailer appears without an open transaction set (no ST before it).",
                seg.location,
            )
            return
        if seg[2] != st[2]:
            self._defect(
                DefectCode.IK502_3,
                f"The set trailer SE02 ({seg[2]!r}) does not match the header ST02 ({st[2]!r}).",
                seg.at(2),
            )
        actual = seg.index - st.index + 1
        if not (seg[1].isascii() and seg[1].isdigit() and int(seg[1]) == actual):
            self._defect(
                DefectCode.IK502_4,
                f"SE01 says transaction set {st[2]!r} has {seg[1]!r} segments; it has {actual} "
                "(ST to SE).",
                seg.at(1),
                "Segments were added or removed after the file was made; " + _RESEND,
            )
        self._st = None
        self.in_set = False

    def _missing_se(self, where: Location) -> None:
        assert self._st is not None
        self._defect(
            DefectCode.IK502_2,
            f"Transaction set {self._st[2]!r} (started at segment {self._st.index + 1}) has no SE "
            "trailer.",
            where,
        )
        self._st = None
        self.in_set = False


def _as_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


#: A trail finding: the envelope level it belongs to (``isa``, ``gs`` or ``st``), its code, and
#: what to say.
TrailFinding = tuple[str, DefectCode, str]


class ControlTrail:
    """The envelope bookkeeping of pyx12's reader (``x12file``), for the TR3 validator.

    ``EnvelopeChecker`` above reports envelope defects where the tokenizer meets them; the
    validator must place them exactly where pyx12 does (its agreement tests hold it to that), so it
    keeps pyx12's stack of open envelopes instead: ``check`` is given each envelope segment's
    elements and returns what pyx12's reader finds there (duplicate control numbers, trailers that
    do not match or count their headers, envelopes closed out of order); ``open`` is what is still
    open (reported at the end of the input).
    """

    __slots__ = ("_gs_count", "_gs_ids", "_isa_ids", "_st_count", "_st_ids", "open")

    def __init__(self) -> None:
        self.open: list[
            tuple[str, str]
        ] = []  # (ISA | GS | ST, its control number), outermost first
        self._isa_ids: list[str] = []
        self._gs_ids: list[str] = []
        self._st_ids: list[str] = []
        self._gs_count = 0
        self._st_count = 0

    def check(self, tag: str, els: list[str], sub: str, segments: int) -> list[TrailFinding]:
        """The findings for one envelope segment (``els`` without the tag); ``segments`` is the
        set's segment count including this one (SE01's value when right)."""
        if tag == "ISA":
            return self._isa(els)
        if tag == "GS":
            return self._gs(els, sub)
        if tag == "ST":
            return self._st(els, sub)
        if tag == "IEA":
            return self._iea(els, sub)
        if tag == "GE":
            return self._ge(els, sub)
        return self._se(els, sub, segments)

    def _isa(self, els: list[str]) -> list[TrailFinding]:
        found: list[TrailFinding] = []
        if len(els) != 16:
            found.append(
                ("isa", DefectCode.TA1_024, f"The ISA has {len(els)} elements instead of 16.")
            )
        control = els[12] if len(els) > 12 else ""
        if control in self._isa_ids:
            found.append(
                (
                    "isa",
                    DefectCode.TA1_025,
                    f"Interchange control number {control!r} is used twice in this file.",
                )
            )
        self.open.append(("ISA", control))
        self._isa_ids.append(control)
        self._gs_count = 0
        self._gs_ids = []
        return found

    def _gs(self, els: list[str], sub: str) -> list[TrailFinding]:
        found: list[TrailFinding] = []
        control = els[5].rstrip(sub) if len(els) > 5 else ""
        if control in self._gs_ids:
            found.append(
                (
                    "gs",
                    DefectCode.AK905_19,
                    f"Group control number {control!r} is used twice in this interchange.",
                )
            )
        self._gs_count += 1
        self._gs_ids.append(control)
        self.open.append(("GS", control))
        self._st_count = 0
        self._st_ids = []
        return found

    def _st(self, els: list[str], sub: str) -> list[TrailFinding]:
        found: list[TrailFinding] = []
        control = els[1].rstrip(sub) if len(els) > 1 else ""
        if control in self._st_ids:
            found.append(
                (
                    "st",
                    DefectCode.IK502_23,
                    f"Transaction set control number {control!r} is used twice in this group.",
                )
            )
        self._st_count += 1
        self._st_ids.append(control)
        self.open.append(("ST", control))
        return found

    def _iea(self, els: list[str], sub: str) -> list[TrailFinding]:
        found: list[TrailFinding] = []
        trail = self.open
        if trail and trail[-1][0] != "ISA":
            found.append(
                (
                    "isa",
                    DefectCode.TA1_024,
                    f"The {trail[-1][0]} envelope is not closed before IEA.",
                )
            )
            del trail[-1]
        iea = [e.rstrip(sub) for e in els[:2]] + ["", ""]
        if not trail:
            found.append(("isa", DefectCode.TA1_024, "IEA without an open ISA."))
            return found
        if trail[-1][1] != iea[1]:
            found.append(
                (
                    "isa",
                    DefectCode.TA1_001,
                    f"IEA02 ({iea[1]!r}) does not match ISA13 ({trail[-1][1]!r}).",
                )
            )
        if _as_int(iea[0]) != self._gs_count:
            found.append(
                (
                    "isa",
                    DefectCode.TA1_021,
                    f"IEA01 says {iea[0]!r} functional groups; there are {self._gs_count}.",
                )
            )
        del trail[-1]
        return found

    def _ge(self, els: list[str], sub: str) -> list[TrailFinding]:
        found: list[TrailFinding] = []
        trail = self.open
        if trail and trail[-1][0] != "GS":
            found.append(
                ("gs", DefectCode.AK905_3, f"The {trail[-1][0]} envelope is not closed before GE.")
            )
            del trail[-1]
        ge = [e.rstrip(sub) for e in els[:2]] + ["", ""]
        if trail:
            if trail[-1][1] != ge[1]:
                found.append(
                    (
                        "gs",
                        DefectCode.AK905_4,
                        f"GE02 ({ge[1]!r}) does not match GS06 ({trail[-1][1]!r}).",
                    )
                )
            if _as_int(ge[0]) != self._st_count:
                found.append(
                    (
                        "gs",
                        DefectCode.AK905_5,
                        f"GE01 says {ge[0]!r} transaction sets; there are {self._st_count}.",
                    )
                )
            del trail[-1]
        return found

    def _se(self, els: list[str], sub: str, segments: int) -> list[TrailFinding]:
        found: list[TrailFinding] = []
        trail = self.open
        se = [e.rstrip(sub) for e in els[:2]] + ["", ""]
        if trail:
            if trail[-1][0] != "ST" or trail[-1][1] != se[1]:
                found.append(
                    (
                        "st",
                        DefectCode.IK502_3,
                        f"SE02 ({se[1]!r}) does not match ST02 ({trail[-1][1]!r}).",
                    )
                )
            if _as_int(se[0]) != segments:
                found.append(
                    (
                        "st",
                        DefectCode.IK502_4,
                        f"SE01 says {se[0]!r} segments; the set has {segments}.",
                    )
                )
            del trail[-1]
        return found


# -- the interchange and group headers as values: read and written here ---------------------------


@dataclass(frozen=True, slots=True)
class InterchangeHeader:
    """An ISA's values by name (ISA11 and ISA16 are the repetition and component separators,
    which belong to the delimiters). Read values stand as in the file (fixed-width padding kept)."""

    sender_qualifier: str  # ISA05 interchange ID qualifier
    sender_id: str  # ISA06 interchange sender ID
    receiver_qualifier: str  # ISA07 interchange ID qualifier
    receiver_id: str  # ISA08 interchange receiver ID
    date: str  # ISA09 interchange date YYMMDD
    time: str  # ISA10 interchange time HHMM
    control_number: str  # ISA13 interchange control number (nine digits)
    acknowledgment_requested: str = "0"  # ISA14: 1 asks for a TA1
    usage_indicator: str = "P"  # ISA15: P production, T test
    version: str = "00501"  # ISA12 interchange control version number
    authorization_qualifier: str = "00"  # ISA01
    authorization_information: str = ""  # ISA02
    security_qualifier: str = "00"  # ISA03
    security_information: str = ""  # ISA04


@dataclass(frozen=True, slots=True)
class GroupHeader:
    """A GS's values by name."""

    functional_id: str  # GS01 functional identifier code (HC, FA, HP, HN)
    application_sender: str  # GS02 application sender's code
    application_receiver: str  # GS03 application receiver's code
    date: str  # GS04 CCYYMMDD
    time: str  # GS05 HHMM
    control_number: str  # GS06 group control number
    version: str  # GS08 version / release / industry identifier code
    agency: str = "X"  # GS07 responsible agency code (X: ASC X12)


def read_isa(elements: Sequence[str]) -> InterchangeHeader:
    """The one ISA reader: ISA01-ISA16 (the elements after the tag) as named values, as they stand;
    absent elements read as empty."""
    e = [*elements[:16], *[""] * (16 - len(elements))]
    return InterchangeHeader(
        sender_qualifier=e[4],
        sender_id=e[5],
        receiver_qualifier=e[6],
        receiver_id=e[7],
        date=e[8],
        time=e[9],
        control_number=e[12],
        acknowledgment_requested=e[13],
        usage_indicator=e[14],
        version=e[11],
        authorization_qualifier=e[0],
        authorization_information=e[1],
        security_qualifier=e[2],
        security_information=e[3],
    )


def isa_segment(writer: Writer, header: InterchangeHeader) -> str:
    """The fixed-width ISA for ``header`` (fields padded to their widths; ISA11 and ISA16 from the
    writer's delimiters)."""
    h = header
    return writer.isa(
        h.authorization_qualifier,  # ISA01
        h.authorization_information,  # ISA02
        h.security_qualifier,  # ISA03
        h.security_information,  # ISA04
        h.sender_qualifier,  # ISA05
        h.sender_id,  # ISA06
        h.receiver_qualifier,  # ISA07
        h.receiver_id,  # ISA08
        h.date,  # ISA09
        h.time,  # ISA10
        h.version,  # ISA12
        h.control_number,  # ISA13
        h.acknowledgment_requested,  # ISA14
        h.usage_indicator,  # ISA15
    )


def gs_segment(writer: Writer, header: GroupHeader) -> str:
    """The GS for ``header``."""
    h = header
    return writer.segment(
        "GS",
        h.functional_id,
        h.application_sender,
        h.application_receiver,
        h.date,
        h.time,
        h.control_number,
        h.agency,
        h.version,
    )


def ge_segment(writer: Writer, sets: int, group_control_number: str) -> str:
    """The GE closing a group of ``sets`` transaction sets (GE01) with GS06 repeated (GE02)."""
    return writer.segment("GE", str(sets), group_control_number)


def iea_segment(writer: Writer, groups: int, interchange_control_number: str) -> str:
    """The IEA closing an interchange of ``groups`` functional groups (IEA01; 0 for one holding
    only TA1s) with ISA13 repeated (IEA02)."""
    return writer.segment("IEA", str(groups), interchange_control_number)
