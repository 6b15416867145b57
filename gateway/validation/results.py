"""The validator's results: what a run returns (``ValidationResult`` and its parts) and the open
interchange, group and set a run fills in before they are frozen into results."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.x12 import Defect, Location, Severity


@dataclass(frozen=True, slots=True)
class Options:
    """What to check beyond the guide's own lists.

    ``external_codes``: also check elements against pyx12's external code sets (states and
    provinces, countries, currencies, places of service, claim status and remark codes...), as
    pyx12 does. On by default: clearinghouses reject a payer state ``NA``, so must we.
    ``Options(external_codes=False)`` (``gateway validate --no-external-codes``) skips them.
    """

    external_codes: bool = True


@dataclass(frozen=True, slots=True)
class SetResult:
    """One transaction set (ST..SE): its verdict and what was found in it."""

    control: str  # ST02
    transaction: str  # ST01, e.g. 837
    version: str  # ST03 when present, else the group's GS08
    group_control: str  # GS06 of the group it is in
    accepted: bool
    defects: tuple[Defect, ...]
    segment_index: int  # index of the ST segment in the file
    segment_count: int  # segments from ST to SE inclusive (as counted)

    @property
    def verdict(self) -> str:
        """``accepted`` or ``rejected`` (a 999 IK501 of A or R)."""
        return "accepted" if self.accepted else "rejected"


@dataclass(frozen=True, slots=True)
class GroupResult:
    """One functional group (GS..GE): its sets and the group-level findings (AK905 codes)."""

    control: str  # GS06
    functional_id: str  # GS01
    version: str  # GS08
    sender: str  # GS02
    receiver: str  # GS03
    supported: bool  # whether a guide for GS08 / GS01 is available
    sets: tuple[SetResult, ...]
    defects: tuple[Defect, ...]
    segment_index: int

    @property
    def accepted(self) -> bool:
        """No group-level finding and every set accepted."""
        return not self.defects and all(s.accepted for s in self.sets)


@dataclass(frozen=True, slots=True)
class InterchangeResult:
    """One interchange (ISA..IEA): its groups and the interchange-level findings (TA1 codes)."""

    control: str  # ISA13
    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    date: str  # ISA09
    time: str  # ISA10
    usage: str  # ISA15
    ack_requested: bool  # ISA14 == 1
    groups: tuple[GroupResult, ...]
    defects: tuple[Defect, ...]
    segment_index: int


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Everything found in one file."""

    interchanges: tuple[InterchangeResult, ...]
    defects: tuple[Defect, ...]  # every finding, in the order found
    size: int  # characters read
    segments: int
    file: str | None = None
    delimiters: tuple[str, str, str, str] = ("~", "*", ":", "^")  # segment, element, comp, rep

    @property
    def ok(self) -> bool:
        """True when nothing at all was found (no error-level defect)."""
        return not any(d.severity is Severity.ERROR for d in self.defects)

    @property
    def sets(self) -> tuple[SetResult, ...]:
        """Every transaction set in the file, in order."""
        return tuple(s for i in self.interchanges for g in i.groups for s in g.sets)

    @property
    def groups(self) -> tuple[GroupResult, ...]:
        """Every functional group in the file, in order."""
        return tuple(g for i in self.interchanges for g in i.groups)

    def as_dict(self) -> dict[str, object]:
        """The result as JSON-ready data."""
        return {
            "file": self.file,
            "ok": self.ok,
            "size": self.size,
            "segments": self.segments,
            "sets": [
                {
                    "interchange": i.control,
                    "group": g.control,
                    "control": s.control,
                    "transaction": s.transaction,
                    "version": s.version,
                    "verdict": s.verdict,
                    "defects": len(s.defects),
                }
                for i in self.interchanges
                for g in i.groups
                for s in g.sets
            ],
            "defects": [d.as_dict() for d in self.defects],
        }


# ------------------------------------------------------------- being built during a run

_new_location = Location.__new__
_new_defect = Defect.__new__
_set = object.__setattr__


def fast_location(values: tuple[object, ...]) -> Location:
    """A ``Location`` built field by field: a file with thousands of findings makes thousands of
    these, and the frozen dataclass constructor is several times slower than this."""
    made = _new_location(Location)
    (index, offset, line, tag, position, element, component, repetition, loop, file) = values
    _set(made, "segment_index", index)
    _set(made, "offset", offset)
    _set(made, "line", line)
    _set(made, "tag", tag)
    _set(made, "segment_position", position)
    _set(made, "element", element)
    _set(made, "component", component)
    _set(made, "repetition", repetition)
    _set(made, "loop", loop)
    _set(made, "file", file)
    return made


def fast_defect(values: tuple[object, ...]) -> Defect:
    """A ``Defect`` built field by field (see ``fast_location``)."""
    made = _new_defect(Defect)
    code, message, location, severity, hint = values
    _set(made, "code", code)
    _set(made, "message", message)
    _set(made, "location", location)
    _set(made, "severity", severity)
    _set(made, "hint", hint)
    return made


class OpenSet:
    __slots__ = (
        "control",
        "counted",
        "defects",
        "group",
        "index",
        "segments",
        "transaction",
        "verdict",
        "version",
    )

    def __init__(self, st: list[str], group: OpenGroup | None, index: int) -> None:
        self.transaction = st[0] if st else ""
        self.control = st[1] if len(st) > 1 else ""
        self.version = st[2] if len(st) > 2 and st[2] else (group.version if group else "")
        self.group = group
        self.index = index
        self.defects: list[Defect] = []
        self.counted = 0  # findings that count against the set (pyx12's err_st.err_count)
        self.verdict: bool | None = None  # decided at SE; a set without SE is rejected
        self.segments = 0


class OpenGroup:
    __slots__ = (
        "control",
        "defects",
        "fid",
        "index",
        "receiver",
        "sender",
        "sets",
        "supported",
        "version",
    )

    def __init__(self, gs: list[str], index: int) -> None:
        def at(n: int) -> str:
            return gs[n - 1] if len(gs) >= n else ""

        self.fid, self.sender, self.receiver = at(1), at(2), at(3)
        self.control, self.version = at(6), at(8)
        self.index = index
        self.supported = True
        self.sets: list[OpenSet] = []
        self.defects: list[Defect] = []


class OpenInterchange:
    __slots__ = ("defects", "groups", "index", "isa")

    def __init__(self, isa: list[str], index: int) -> None:
        self.isa = isa
        self.index = index
        self.groups: list[OpenGroup] = []
        self.defects: list[Defect] = []


# where a finding is attached: a set and the 1-based position pyx12 counted there (IK302)
Cursor = tuple[OpenSet, int, int, int, int, str]  # set, position, index, offset, line, tag
