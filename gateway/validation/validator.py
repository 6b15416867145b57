"""The fast TR3 validator: pyx12's rules, driven by pyx12's maps, some 30-50 times faster.

``validate(data)`` checks an X12 file against the implementation guide of each functional group
(837P X222A1, 837I X223A2, 835 X221A1, 277CA X214, 999 X231/X231A1) and returns a
``ValidationResult``: a verdict per transaction set (accepted / rejected) and located ``Defect``s in
the 999 / TA1 vocabulary. It agrees with pyx12's ``x12n_document`` finding for finding (the
differential tests in ``tests/test_validation_agreement.py`` hold it to that), so it walks the loop
tree the way pyx12's ``map_walker`` does:

* a segment is looked for from the current map position forward, then in each enclosing loop;
  entering a loop is decided by its first segment and, where several candidates share a segment
  id, by the ID qualifier pyx12 picks (``NM1*85`` vs ``NM1*87``, ``HL03``, ``REF01``...);
* loop and segment counters are kept per map path; a loop entry clears the counts beneath it;
* required segments and loops passed over are reported at the segment where that was noticed;
* elements are checked for usage, length, character set, code lists, data type (AN, ID, N0-N9,
  R, DT, TM, RD8), regular expressions and the five syntax-note rules; envelopes and counts as
  pyx12's reader checks them (SE01, GE01, IEA01, control numbers, HL and LX numbering).

Public API:

* ``validate(data, *, file=None, options=None) -> ValidationResult``; ``data`` is bytes, text, a
  binary file object (read in 1 MiB chunks) or segments from ``gateway.x12.read_segments``.
  ``Validator(options).validate(...)`` is the same, reusable. pyx12's external code lists
  (states, countries...) are checked unless ``Options(external_codes=False)``.
* ``ValidationResult``: ``ok``, ``defects`` (every finding in file order; ``Severity.WARNING``
  ones do not count), ``sets`` (``SetResult``: ``control``, ``transaction``, ``version``,
  ``group_control``, ``accepted``, ``verdict``, ``defects``), ``groups``, ``interchanges``
  (control numbers, sender/receiver, group-level AK905 and interchange-level TA1 findings) and
  ``as_dict()`` for JSON. ``gateway.validation.acks`` writes the 999 and TA1 for a result.
* Locations: ``segment_index`` (0-based in the file), ``offset``, ``line``, ``tag``,
  ``segment_position`` (ST = 1, as IK302), ``element`` / ``component`` (IK401), ``loop``.
  Messages never hold element values except codes (ID elements).

Speed comes from memoising what does not depend on the data's position: the walk from a map
node for a given segment id and qualifier is computed once into a small plan (the counter checks
stay live), each segment spec gets a generated straight-line "nothing to report" test, a segment
text seen cleanly at a map position replays its plan, and element findings are cached per map
node and segment text. Memory is bounded by the loop depth and these bounded caches, never by
the file size. The caches are shared by threads (plain dict operations); ``reset_caches()``
forgets what was learnt from data.

>>> result = validate(open("claims.x12", "rb"))          # doctest: +SKIP
>>> result.ok, [(s.control, s.verdict) for s in result.sets]   # doctest: +SKIP
(True, [('0001', 'accepted')])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO, cast

from gateway.validation.compiled import specs as load_compiled_specs
from gateway.validation.spec import (
    CONTROL_MAP,
    CompositeSpec,
    ElementSpec,
    LoopSpec,
    MapSpec,
    SegmentSpec,
    Specs,
)
from gateway.validation.syntax import describe, holds
from gateway.x12 import Defect, DefectCode, Location, Segment, Severity

__all__ = [
    "GroupResult",
    "InterchangeResult",
    "Options",
    "SetResult",
    "ValidationResult",
    "Validator",
    "reset_caches",
    "validate",
]

CHUNK = 1 << 20
_CACHE_LIMIT = 20_000  # memo entries kept per map node before a cache is cleared (bounds memory)
_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_DATE_TYPES = ("RD8", "DT", "D8", "D6")
_SEG_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_NUMBER = re.compile(r"^-?[0-9]+")
_REAL = re.compile(r"^-?[0-9]*(\.[0-9]+)?")
# pyx12's extended 5010 character set: anything else in an AN / ID value is an invalid character
_BAD_CHAR = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>^`#$]""", re.ASCII)
_NOT_DIGIT = re.compile(r"[^0-9]+")
_NUMBER_FULL = re.compile(r"-?[0-9]+").fullmatch
_REAL_FULL = re.compile(r"-?[0-9]*(\.[0-9]+)?").fullmatch
_CONTROL = {
    "\x07": "BEL",
    "\x09": "HT",
    "\x0a": "LF",
    "\x0b": "VT",
    "\x0c": "FF",
    "\x0d": "CR",
    "\x1c": "FS",
    "\x1d": "GS",
    "\x1e": "RS",
    "\x1f": "US",
    "\x01": "SOH",
    "\x02": "STX",
    "\x03": "ETX",
    "\x04": "EOT",
    "\x05": "ENQ",
    "\x06": "ACK",
    "\x11": "DC1",
    "\x12": "DC2",
    "\x13": "DC3",
    "\x14": "DC4",
    "\x15": "NAK",
    "\x16": "SYN",
    "\x17": "ETB",
}
_CONTROL_RE = re.compile("[" + "".join(_CONTROL) + "]")
_BREAKS = ("\n", "\r")
_BLANK = " \t\r\n\x0b\x0c"
_BOM = "\xef\xbb\xbf"  # UTF-8's byte order mark, read as Latin-1

_RESEND = "Correct the file at its source and send it again."

#: Codes pyx12's external lists are too old to hold, added to them (the lists are on by default,
#: so a valid address must not be refused): Canada's current province codes QC (Quebec, pyx12
#: has the retired PQ), NL (Newfoundland and Labrador, pyx12 has NF) and NU (Nunavut, 1999).
_CURRENT_CODES: dict[str, frozenset[str]] = {"states": frozenset({"QC", "NL", "NU"})}


def _current(external: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """pyx12's external code sets with ``_CURRENT_CODES`` added."""
    return {name: codes | _CURRENT_CODES.get(name, frozenset()) for name, codes in external.items()}


# ------------------------------------------------------------------------------------ results


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


# ---------------------------------------------------------------------------- runtime map


class _Node:
    """A loop, a segment or the map root, compiled for walking (read-only once built)."""

    __slots__ = (
        "children",
        "first",
        "first_seg",
        "ident",
        "is_loop",
        "is_root",
        "is_seg",
        "key",
        "limit",
        "loop_id",
        "memo",
        "name",
        "parent",
        "path",
        "plans",
        "pos",
        "slot",
        "spec",
        "tag",
        "trans",
        "usage",
    )

    def __init__(self, kind: str, ident: str, name: str, usage: str, pos: int, limit: int) -> None:
        self.is_root = kind == "root"
        self.is_loop = kind == "loop"
        self.is_seg = kind == "seg"
        self.tag = ident
        self.name = name
        self.usage = usage
        self.pos = pos
        self.limit = limit
        self.children: list[_Node] = []
        self.parent: _Node | None = None
        self.ident: tuple[str, str] = (ident, "")
        self.path = "/"
        self.slot = 0
        self.first: _Node | None = None
        self.first_seg: _Node | None = None
        self.key: tuple[int, int | None, frozenset[str]] | None = None
        self.spec: SegmentSpec | None = None
        self.loop_id = ""
        self.plans: dict[str, dict[object, _Plan]] = {}
        self.memo: dict[str, dict[str, tuple[_Finding, ...]]] = {}  # by delimiters/options
        # segment texts seen here that were placed cleanly, and the plan they took
        self.trans: dict[str, dict[str, _Plan]] = {}


_SEG_MATCH, _ENTER, _NOT_FOUND, _STAY = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class _Plan:
    """The walk from one map node for one segment id and qualifier: what to check, where it ends."""

    checks: tuple[tuple[int, _Node], ...]  # (slot that must be counted, else report that missing)
    outcome: int
    target: _Node | None  # the segment node matched
    loop: _Node | None  # the loop entered (its usage and repeat are checked)
    simple: bool = False  # a match of a used segment: count it, check its max use and the misses
    enter: bool = False  # entering a used loop at its first segment


def _plan(
    misses: list[tuple[_Node, _Node]], outcome: int, target: _Node | None, loop: _Node | None
) -> _Plan:
    """A plan; for a segment match, pyx12's flush rule (same node or position) applied up front."""
    if outcome == _SEG_MATCH:
        assert target is not None
        kept = [(c.slot, m) for c, m in misses if m.ident != target.ident and m.pos != target.pos]
        return _Plan(tuple(kept), outcome, target, loop, target.usage != "N")
    enter = outcome == _ENTER and loop is not None and loop.usage != "N"
    return _Plan(tuple((c.slot, m) for c, m in misses), outcome, target, loop, False, enter)


@dataclass(frozen=True, slots=True)
class _Finding:
    """An element-level finding before it is placed in a file (cached per node and text)."""

    code: DefectCode
    message: str
    element: int | None = None
    component: int | None = None


def _key_field(spec: SegmentSpec) -> tuple[int, int | None, frozenset[str]] | None:
    """Where pyx12 reads the qualifier that tells same-id segments apart (map_if's rules)."""
    els = spec.elements
    c0 = els[0] if els else None
    c1 = els[1] if len(els) > 1 else None
    c2 = els[2] if len(els) > 2 else None
    if isinstance(c0, ElementSpec) and c0.data_type == "ID" and c0.usage == "R" and c0.codes:
        return (1, None, frozenset(c0.codes))
    if spec.id == "ENT" and isinstance(c1, ElementSpec) and c1.data_type == "ID" and c1.codes:
        return (2, None, frozenset(c1.codes))
    if isinstance(c0, CompositeSpec) and c0.components and c0.components[0].codes:
        first = c0.components[0]
        if (spec.id == "CTX" and first.data_type == "AN") or first.data_type == "ID":
            return (1, 1, frozenset(first.codes))
    if spec.id == "HL" and isinstance(c2, ElementSpec) and c2.codes:
        return (3, None, frozenset(c2.codes))
    return None


def _path_key(spec: SegmentSpec) -> str | None:
    """The first code pyx12 appends to a segment's path when it shares a position (``REF[EI]``)."""
    els = spec.elements
    c0 = els[0] if els else None
    c1 = els[1] if len(els) > 1 else None
    c2 = els[2] if len(els) > 2 else None
    if isinstance(c0, ElementSpec) and c0.data_type == "ID" and c0.codes:
        return c0.codes[0]
    if spec.id == "ENT" and isinstance(c1, ElementSpec) and c1.data_type == "ID" and c1.codes:
        return c1.codes[0]
    if (
        isinstance(c0, CompositeSpec)
        and c0.components
        and c0.components[0].data_type == "ID"
        and c0.components[0].codes
    ):
        return c0.components[0].codes[0]
    if spec.id == "HL" and isinstance(c2, ElementSpec) and c2.codes:
        return c2.codes[0]
    return None


class _Program:
    """One map compiled for walking: its node tree and where qualifiers are read per segment id."""

    def __init__(self, spec: MapSpec, slots: dict[str, int]) -> None:
        self.spec = spec
        self.id = spec.id
        self.root = _Node("root", spec.id, spec.name, "R", 0, 1)
        self.root.ident = (spec.id, "")
        self.qualifiers: dict[str, list[tuple[int, int | None]]] = {}
        self.codes: dict[tuple[str, int, int | None], set[str]] = {}
        self._build(self.root, spec.children, slots)
        self.qual_tuple = {t: tuple(p) for t, p in self.qualifiers.items()}
        # the one place (element, component) a segment id's qualifier is read, with its codes
        self.qual_one: dict[str, tuple[int, int | None, frozenset[str]]] = {
            t: (p[0][0], p[0][1], frozenset(self.codes[(t, p[0][0], p[0][1])]))
            for t, p in self.qualifiers.items()
            if len(p) == 1
        }

    def key(self, tag: str, els: list[str], sub: str) -> object:
        """The memo key for a segment whose id has qualifiers in several places (or none)."""
        if tag in self.qual_tuple:
            return tuple(self._values(tag, els, sub).values())
        return None

    def plan(self, node: _Node, tag: str, els: list[str], sub: str, key: object) -> _Plan:
        """Compute and memoise the walk from ``node`` for this segment."""
        found = _make_plan(node, tag, self._values(tag, els, sub))
        node.plans.setdefault(tag, {})[key] = found
        return found

    def _values(
        self, tag: str, els: list[str], sub: str
    ) -> dict[tuple[int, int | None], str | None]:
        values: dict[tuple[int, int | None], str | None] = {}
        for ele_no, sub_no in self.qual_tuple.get(tag, ()):
            value = None
            if ele_no <= len(els):
                raw = els[ele_no - 1]
                if sub_no is None:
                    value = raw.rstrip(sub)
                else:
                    comps = raw.split(sub)
                    value = comps[sub_no - 1] if sub_no <= len(comps) else None
            if value is not None and value not in self.codes[(tag, ele_no, sub_no)]:
                value = None
            values[(ele_no, sub_no)] = value
        return values

    def _build(
        self, parent: _Node, children: tuple[LoopSpec | SegmentSpec, ...], slots: dict[str, int]
    ) -> None:
        by_pos: dict[int, int] = {}
        for child in children:
            by_pos[child.pos] = by_pos.get(child.pos, 0) + 1
        for child in children:
            if isinstance(child, LoopSpec):
                node = _Node("loop", child.id, child.name, child.usage, child.pos, child.repeat)
                label = child.id
            else:
                node = _Node("seg", child.id, child.name, child.usage, child.pos, child.max_use)
                node.spec = child
                node.key = _key_field(child)
                label = child.id
                if by_pos[child.pos] > 1:
                    code = _path_key(child)
                    if code is not None:
                        label += f"[{code}]"
                if node.key is not None:
                    ele, sub, codes = node.key
                    places = self.qualifiers.setdefault(child.id, [])
                    if (ele, sub) not in places:
                        places.append((ele, sub))
                    self.codes.setdefault((child.id, ele, sub), set()).update(codes)
            node.parent = parent
            node.ident = (child.id, parent.tag)
            node.path = ("/" if parent.path == "/" else parent.path + "/") + label
            node.loop_id = parent.tag if not parent.is_root else ""
            node.slot = slots.setdefault(node.path, len(slots))
            parent.children.append(node)
            if isinstance(child, LoopSpec):
                self._build(node, child.children, slots)
        if parent.children:
            parent.first = parent.children[0]
            parent.first_seg = parent.first if parent.first.is_seg else None

    def node(self, path: str) -> _Node:
        """The node at a path of ids, e.g. ``ISA_LOOP/GS_LOOP/GS``."""
        node = self.root
        for part in path.split("/"):
            node = next(c for c in node.children if c.tag == part)
        return node


class _Runtime:
    """Every supported map compiled, sharing one table of counter slots (pyx12 counts by path)."""

    def __init__(self, specs: Specs) -> None:
        self.specs = specs
        self.slots: dict[str, int] = {"/": 0}
        self.programs = {name: _Program(spec, self.slots) for name, spec in specs.maps.items()}
        self.control = self.programs[CONTROL_MAP]
        self._checkers: dict[bool, _ElementChecker] = {}
        parents: list[int] = [-1] * len(self.slots)
        for path, slot in self.slots.items():
            if path != "/":
                parent = path.rsplit("/", 1)[0] or "/"
                parents[slot] = self.slots.setdefault(parent, len(self.slots))
        parents.extend([0] * (len(self.slots) - len(parents)))
        self.parents = parents

    def checker(self, external_codes: bool) -> _ElementChecker:
        """The element checker (shared, with its compiled fast paths) for one option set."""
        found = self._checkers.get(external_codes)
        if found is None:
            codes = _current(self.specs.external_codes) if external_codes else None
            found = self._checkers[external_codes] = _ElementChecker(codes)
        return found

    def map_for(self, icvn: str, vriic: str, fic: str) -> _Program | None:
        """The program for a group, looked up in ``maps.xml`` the way pyx12 does."""
        for entry in self.specs.index:
            if entry.icvn == icvn and entry.vriic == vriic and entry.fic == fic:
                return self.programs.get(entry.file)
        return None


@lru_cache(maxsize=1)
def _runtime() -> _Runtime:
    return _Runtime(load_compiled_specs())


# ------------------------------------------------------------------------------- the walker


class _Counter:
    """pyx12's NodeCounter over slots: counts per map path; resetting a path clears those under it.

    Each slot, once counted, registers itself (and its uncounted ancestors) with its parent path,
    so a reset visits only what was counted since: constant time per segment on average.
    """

    __slots__ = ("counts", "dirty", "parents", "registered")

    def __init__(self, parents: list[int]) -> None:
        size = len(parents)
        self.parents = parents
        self.counts = [0] * size
        self.registered = bytearray(size)
        self.dirty: dict[int, list[int]] = {}

    def increment(self, slot: int) -> int:
        counts = self.counts
        counts[slot] += 1
        if not self.registered[slot]:
            self.register(slot)
        return counts[slot]

    def register(self, slot: int) -> None:
        """Note a newly counted slot (and uncounted ancestors) with its parent path."""
        registered, parents, dirty = self.registered, self.parents, self.dirty
        while slot > 0 and not registered[slot]:
            registered[slot] = 1
            parent = parents[slot]
            below = dirty.get(parent)
            if below is None:
                dirty[parent] = [slot]
            else:
                below.append(slot)
            slot = parent

    def reset(self, slot: int) -> None:
        """Forget the counts of every path beneath ``slot`` (its own count stays)."""
        below = self.dirty.pop(slot, None)
        if not below:
            return
        counts, registered, dirty = self.counts, self.registered, self.dirty
        for child in below:
            counts[child] = 0
            registered[child] = 0
            if child in dirty:
                self.reset(child)


def _matches(node: _Node, tag: str, values: dict[tuple[int, int | None], str | None]) -> bool:
    if node.tag != tag:
        return False
    key = node.key
    if key is None:
        return True
    return values.get((key[0], key[1])) in key[2]


def _make_plan(start: _Node, tag: str, values: dict[tuple[int, int | None], str | None]) -> _Plan:
    """Walk from ``start`` as pyx12's ``walk_tree.walk_errors`` does, recording the live checks."""
    misses: list[tuple[_Node, _Node]] = []

    def loop_match(loop: _Node) -> bool:
        if not loop.children:
            return False
        first = loop.first
        assert first is not None
        if first.is_loop:
            return any(c.is_loop and loop_match(c) for c in loop.children)
        if _matches(first, tag, values):
            return True
        if loop.usage == "R":
            misses.append((loop, first))
        return False

    def goto(loop: _Node) -> tuple[_Node | None, _Node | None]:
        first = loop.first_seg
        if first is not None and _matches(first, tag, values):
            return first, loop
        for child in loop.children:
            if child.is_loop:
                found = goto(child)
                if found[0] is not None:
                    return found
        return None, None

    def scan(loop: _Node, from_pos: int) -> _Plan | None:
        for child in loop.children:
            if child.pos < from_pos:
                continue
            if child.is_seg:
                if _matches(child, tag, values):
                    if loop.is_loop and loop_match(loop):
                        seg, entered = goto(loop)
                        outcome = _ENTER if seg is not None else _STAY
                        return _plan(misses, outcome, seg, entered)
                    return _plan(misses, _SEG_MATCH, child, None)
                if child.usage == "R":
                    misses.append((child, child))
            elif child.is_loop and loop_match(child):
                seg, entered = goto(child)
                outcome = _ENTER if seg is not None else _STAY
                return _plan(misses, outcome, seg, entered)
        return None

    loop = start.parent
    assert loop is not None
    from_pos = start.pos
    while True:
        plan = scan(loop, from_pos)
        if plan is not None:
            return plan
        if loop.is_root or loop.parent is None:
            return _plan([], _NOT_FOUND, None, None)
        from_pos = loop.pos
        loop = loop.parent


# ------------------------------------------------------------------------ element checks


def _valid_time(value: str) -> bool:
    if _NOT_DIGIT.search(value):
        return False
    if value[0:2] > "23" or value[2:4] > "59":
        return False
    return len(value) <= 4 or (6 <= len(value) <= 8 and value[4:6] <= "59")


def _valid_date(data_type: str, value: str) -> bool:
    if data_type == "D8" and len(value) != 8:
        return False
    if data_type == "D6" and len(value) != 6:
        return False
    if _NOT_DIGIT.search(value) or len(value) not in (6, 8, 12):
        return False
    if len(value) == 6:
        value = ("20" if int(value[0:2]) < 50 else "19") + value
    year, month, day = int(value[0:4]), int(value[4:6]), int(value[6:8])
    if year < 1800 or not 1 <= month <= 12:
        return False
    if month in (1, 3, 5, 7, 8, 10, 12):
        last = 31
    elif month in (4, 6, 9, 11):
        last = 30
    elif year % 4 == 0 and not (year % 100 == 0 and year % 400 != 0):
        last = 29
    else:
        last = 28
    if not 1 <= day <= last:
        return False
    return len(value) != 12 or _valid_time(value[8:12])


def _valid_type(value: str, data_type: str | None) -> bool:
    """pyx12's ``IsValidDataType`` (5010 extended character set)."""
    if not data_type:
        return True
    if data_type[0] == "N":
        found = _NUMBER.match(value)
        return found is not None and found.group(0) == value
    if data_type == "R":
        found = _REAL.match(value)
        return found is not None and found.group(0) == value
    if data_type in ("ID", "AN"):
        return _BAD_CHAR.search(value) is None
    if data_type == "RD8":
        parts = value.split("-")
        return len(parts) == 2 and all(_valid_date("D8", p) for p in parts)
    if data_type in ("DT", "D8", "D6"):
        return _valid_date(data_type, value)
    if data_type == "TM":
        return _valid_time(value)
    return data_type == "B"


def _never(value: str) -> bool:
    return False


_UNSET = object()
_NO_SEG: list[tuple[DefectCode, str]] = []  # shared empty lists: never mutated, only rebound
_NO_ENV: list[tuple[str, DefectCode, str]] = []


class _ElementChecker:
    """pyx12's element, composite and segment checks (``map_if``), producing ``_Finding``s."""

    def __init__(self, external: dict[str, frozenset[str]] | None) -> None:
        self.external = external  # None: external code sets are not checked
        self.regex: dict[str, re.Pattern[str]] = {}
        self._fast: dict[int, Callable[[list[str], str], bool] | None] = {}

    # -- the fast path: a conservative "certainly nothing to report" test --------------------
    def clean(self, spec: SegmentSpec, els: list[str], sub: str) -> bool:
        """True only when ``segment`` would find nothing (most segments); else run ``segment``."""
        fast = self._fast.get(id(spec), _UNSET)
        if fast is _UNSET:
            fast = self._fast[id(spec)] = self._compile(spec)
        if fast is None:
            return False
        assert callable(fast)
        return bool(fast(els, sub))

    @staticmethod
    def _composite_ok(
        parts: tuple[tuple[Callable[[str], bool], bool], ...], usage: str, value: str, sub: str
    ) -> bool:
        if not value or not value.strip(sub):
            return usage != "R"
        if usage == "N":
            return False
        comps = value.split(sub)
        if len(comps) > len(parts):
            return False
        for j, (check, needed) in enumerate(parts):
            part = comps[j] if j < len(comps) else ""
            if part:
                if not check(part):
                    return False
            elif needed:
                return False
        return True

    def _compile(self, spec: SegmentSpec) -> Callable[[list[str], str], bool] | None:
        """Generate the segment's fast test as straight-line Python (one function per spec)."""
        if spec.id == "DTP" or any(
            isinstance(c, ElementSpec) and c.data_ele in ("1250", "1251") for c in spec.elements
        ):
            return None  # date-format qualified values: the exact path (memoised) handles them
        size = len(spec.elements)
        usage = [child.usage for child in spec.elements]
        tail_ok = [True] * (size + 1)  # the elements after the n present may all be absent
        for n in range(size - 1, -1, -1):
            tail_ok[n] = tail_ok[n + 1] and usage[n] != "R"
        names: dict[str, object] = {"TAIL": tuple(tail_ok), "BAD": _BAD_CHAR.search}
        # absent trailing elements read as empty (which they are to X12): pad, then check all
        width = max([size, *(p for note in spec.syntax for p in note.positions)])
        lines = [
            "def clean(els, sub):",
            "    n = len(els)",
            f"    if n > {size} or not TAIL[n]:",
            "        return False",
            f"    if n < {width}:",
            f"        els = els + [''] * ({width} - n)",
        ]
        for i, child in enumerate(spec.elements):
            if isinstance(child, CompositeSpec):
                parts = tuple(
                    (self._value_check(c), c.usage == "R" and (c.seq != 1 or child.usage == "R"))
                    for c in child.components
                )
                names[f"P{i}"] = parts
                lines.append(f"    if not COMP(P{i}, {child.usage!r}, els[{i}], sub):")
                lines.append("        return False")
                continue
            lines.append(f"    v = els[{i}]")
            lines.append("    if v:")
            lines.append(f"        if sub in v or not ({self._inline(child, i, names)}):")
            lines.append("            return False")
            if child.usage == "R":
                lines.append("    else:")
                lines.append("        return False")
        names["COMP"] = self._composite_ok
        for k, note in enumerate(spec.syntax):
            flags = []
            for p in note.positions:
                flags.append(f"f{k}_{p}")
                lines.append(f"    f{k}_{p} = els[{p - 1}].rstrip(sub) != ''")
            total = " + ".join(flags)
            first, rest = flags[0], flags[1:]
            test = {
                "P": f"({total}) not in (0, {len(flags)})",
                "R": f"not ({' or '.join(flags)})",
                "E": f"({total}) > 1",
                "C": f"{first} and not ({' and '.join(rest) or 'True'})",
                "L": f"{first} and not ({' or '.join(rest) or 'False'})",
            }[note.kind]
            lines.append(f"    if {test}:")
            lines.append("        return False")
        lines.append("    return True")
        exec("\n".join(lines), names)  # noqa: S102 -- our own generated code, map data as names
        return cast(Callable[[list[str], str], bool], names["clean"])

    def _inline(self, spec: ElementSpec, i: int, names: dict[str, object]) -> str:
        """A Python expression for "value ``v`` of this element draws no finding"."""
        if spec.usage == "N":
            return "False"
        data_type = spec.data_type or ""
        if spec.codes and spec.external is None:
            check = self._value_check(spec)
            names[f"G{i}"] = frozenset(c for c in spec.codes if check(c))
            return f"v in G{i}"
        if (
            data_type in ("AN", "ID")
            and not spec.codes
            and spec.external is None
            and not spec.regex
        ):
            # letters and digits alone are always in the character set; else the full test
            return (
                f"{spec.min_len} <= len(v) <= {spec.max_len} and "
                "((v.isalnum() and v.isascii()) or (BAD(v) is None and v[-1] != ' '))"
            )
        names[f"C{i}"] = self._value_check(spec)
        if not spec.codes and spec.external is None and not spec.regex:
            low, high = spec.min_len, spec.max_len
            if data_type == "R":  # plain amounts first: digits with at most one inner point
                return (
                    f"(v.isascii() and v.replace('.', '', 1).isdigit() and v[-1] != '.' and "
                    f"{low} <= len(v) - ('.' in v) <= {high}) or C{i}(v)"
                )
            if data_type[:1] == "N":
                return f"(v.isascii() and v.isdigit() and {low} <= len(v) <= {high}) or C{i}(v)"
        return f"C{i}(v)"

    def _value_check(self, spec: ElementSpec) -> Callable[[str], bool]:
        """A predicate that is True only when the non-empty ``value`` draws no finding."""
        if spec.usage == "N":
            return _never
        low, high, data_type = spec.min_len, spec.max_len, spec.data_type or ""
        codes = frozenset(spec.codes)
        check_codes = bool(codes) or spec.external is not None
        table: frozenset[str] | None = None
        if spec.external is not None and self.external is not None:
            table = self.external.get(spec.external)
        pattern = re.compile(spec.regex, re.S) if spec.regex else None
        numeric = data_type == "R" or data_type[:1] == "N"
        text_type = data_type in ("AN", "ID")
        known: dict[str, bool] = {}

        bad = _BAD_CHAR.search
        if text_type and not check_codes and pattern is None:

            def text_check(value: str) -> bool:
                return low <= len(value) <= high and bad(value) is None and value[-1] != " "

            return text_check
        if numeric and not check_codes and pattern is None:
            whole = _NUMBER_FULL if data_type != "R" else _REAL_FULL

            def number_check(value: str) -> bool:
                length = len(value.replace("-", "").replace(".", ""))
                return low <= length <= high and whole(value) is not None

            return number_check

        def check(value: str) -> bool:
            if (
                check_codes
                and value not in codes
                and (spec.external is None or (table is not None and value not in table))
            ):
                return False
            length = len(value.replace("-", "").replace(".", "")) if numeric else len(value)
            if length < low or length > high:
                return False
            if text_type:
                if _BAD_CHAR.search(value) is not None or value[-1] == " ":
                    return False
            elif data_type:
                ok = known.get(value)
                if ok is None:
                    ok = _CONTROL_RE.search(value) is None and _valid_type(value, data_type)
                    if len(known) < 4096:
                        known[value] = ok
                if not ok:
                    return False
            elif _CONTROL_RE.search(value) is not None:
                return False
            return pattern is None or pattern.search(value) is not None

        if codes and spec.external is None:
            good = frozenset(c for c in codes if check(c))  # codes that pass every other check
            return good.__contains__
        return check

    def segment(
        self, spec: SegmentSpec, tag: str, els: list[str], sub: str | None
    ) -> list[_Finding]:
        out: list[_Finding] = []
        children = spec.elements
        count = len(children)
        if len(els) > count:
            out.append(
                _Finding(
                    DefectCode.IK304_8,
                    f"{spec.name} ({tag}) has {len(els)} elements; the guide defines {count} "
                    "(too many data elements).",
                )
            )
        dtype: list[str] = []
        type_list: list[str] = []
        for i in range(min(len(els), count)):
            child = children[i]
            raw = els[i]
            if isinstance(child, CompositeSpec):
                comps = raw.split(sub) if sub is not None else [raw]
                if len(comps) > len(child.components) and child.usage != "N":
                    out.append(
                        _Finding(
                            DefectCode.IK403_13,
                            f"{child.name} ({tag}{i + 1:02d}) has {len(comps)} components; the "
                            f"guide defines {len(child.components)}.",
                            i + 1,
                        )
                    )
                    comps = comps[: len(child.components)]
                self._composite(child, comps, tag, out)
                continue
            if i == 1 and tag == "DTP":
                value = raw.rstrip(sub) if sub else raw
                if value in ("RD8", "D8", "D6", "DT", "TM"):
                    dtype = [value]
            if child.data_ele == "1250":
                type_list.extend(child.codes)
            if sub is not None and sub in raw:
                out.append(
                    _Finding(
                        DefectCode.IK403_6,
                        f"{child.name} ({child.ref}) holds a composite where the guide defines "
                        "a simple element.",
                        i + 1,
                    )
                )
                continue
            if i == 2 and tag == "DTP":
                self._element(child, raw, None, dtype, out)
            elif child.data_ele == "1251" and type_list:
                self._element(child, raw, None, type_list, out)
            else:
                self._element(child, raw, None, None, out)
        for i in range(min(len(els), count), count):
            child = children[i]
            if isinstance(child, CompositeSpec):
                self._composite(child, None, tag, out)
            else:
                self._element(child, "", None, None, out)
        if spec.syntax:

            def present(position: int) -> bool:
                if position > len(els):
                    return False
                value = els[position - 1]
                return bool(value.rstrip(sub) if sub else value)

            for note in spec.syntax:
                if not holds(note, present):
                    out.append(
                        _Finding(
                            DefectCode.IK304_8,
                            f"{spec.name} ({tag}) breaks syntax note {describe(note, tag)}.",
                        )
                    )
        return out

    def _composite(
        self, spec: CompositeSpec, comps: list[str] | None, tag: str, out: list[_Finding]
    ) -> None:
        empty = comps is None or not any(comps)
        if empty and spec.usage in ("N", "S"):
            return
        if spec.usage == "R" and empty:
            out.append(
                _Finding(
                    DefectCode.IK403_1,
                    f"Required composite {spec.name} ({tag}{spec.seq:02d}) is missing.",
                    spec.seq,
                )
            )
            return
        if comps is None:
            return
        if spec.usage == "N" and not empty:
            out.append(
                _Finding(
                    DefectCode.IK304_8,
                    f"Composite {spec.name} ({tag}{spec.seq:02d}) is marked Not Used in the guide.",
                )
            )
            return
        parts = spec.components
        for i, part in enumerate(parts):
            value = comps[i] if i < len(comps) else ""
            self._element(part, value, spec, None, out)

    def _element(
        self,
        spec: ElementSpec,
        value: str,
        composite: CompositeSpec | None,
        type_list: list[str] | None,
        out: list[_Finding],
    ) -> None:
        element, component = (composite.seq, spec.seq) if composite else (spec.seq, None)
        where = spec.ref
        if value == "":
            if spec.usage == "R" and (spec.seq != 1 or composite is None or composite.usage == "R"):
                out.append(
                    _Finding(
                        DefectCode.IK403_1,
                        f"Required element {spec.name} ({where}) is missing.",
                        element,
                        component,
                    )
                )
            return
        if spec.usage == "N":
            out.append(
                _Finding(
                    DefectCode.IK403_I10,
                    f"{spec.name} ({where}) is marked Not Used in the guide but has a value.",
                    element,
                    component,
                )
            )
            return
        data_type = spec.data_type
        shown = f" {value!r}" if data_type == "ID" else ""  # codes are safe to show, data is not
        if data_type is not None and (data_type == "R" or data_type[0] == "N"):
            length = len(value.replace("-", "").replace(".", ""))
        else:
            length = len(value)
        if length < spec.min_len:
            out.append(
                _Finding(
                    DefectCode.IK403_4,
                    f"{spec.name} ({where}) is too short: {length} characters, at least "
                    f"{spec.min_len}.",
                    element,
                    component,
                )
            )
        if length > spec.max_len:
            out.append(
                _Finding(
                    DefectCode.IK403_5,
                    f"{spec.name} ({where}) is too long: {length} characters, at most "
                    f"{spec.max_len}.",
                    element,
                    component,
                )
            )
        control = _CONTROL_RE.search(value)
        if control is not None:
            out.append(
                _Finding(
                    DefectCode.IK403_6,
                    f"{spec.name} ({where}) holds a control character "
                    f"<{_CONTROL[control.group(0)]}>.",
                    element,
                    component,
                )
            )
            return
        if data_type in ("AN", "ID") and value[-1] == " " and len(value.rstrip()) >= spec.min_len:
            out.append(
                _Finding(
                    DefectCode.IK403_6,
                    f"{spec.name} ({where}) has trailing spaces.",
                    element,
                    component,
                )
            )
        if spec.codes or spec.external is not None:
            ok = value in spec.codes
            if not ok and spec.external is not None:
                table = self.external.get(spec.external) if self.external is not None else None
                ok = table is None or value in table
            if not ok:
                out.append(
                    _Finding(
                        DefectCode.IK403_7,
                        f"{spec.name} ({where}):{shown or ' the value'} is not a valid code here.",
                        element,
                        component,
                    )
                )
        if not _valid_type(value, data_type):
            if data_type in _DATE_TYPES:
                code, what = DefectCode.IK403_8, "is not a valid date"
            elif data_type == "TM":
                code, what = DefectCode.IK403_9, "is not a valid time"
            else:
                code, what = DefectCode.IK403_6, f"has characters not allowed in type {data_type}"
            out.append(_Finding(code, f"{spec.name} ({where}) {what}.", element, component))
        if type_list and not any(_valid_type(value, t) for t in type_list):
            if "TM" in type_list:
                out.append(
                    _Finding(
                        DefectCode.IK403_9,
                        f"{spec.name} ({where}) is not a valid time.",
                        element,
                        component,
                    )
                )
            elif any(t in type_list for t in _DATE_TYPES):
                out.append(
                    _Finding(
                        DefectCode.IK403_8,
                        f"{spec.name} ({where}) is not a valid date in the format "
                        f"{'/'.join(type_list)}.",
                        element,
                        component,
                    )
                )
        if spec.regex:
            pattern = self.regex.get(spec.regex)
            if pattern is None:
                pattern = self.regex[spec.regex] = re.compile(spec.regex, re.S)
            if not pattern.search(value):
                out.append(
                    _Finding(
                        DefectCode.IK403_7,
                        f"{spec.name} ({where}) does not match the guide's pattern.",
                        element,
                        component,
                    )
                )


# ------------------------------------------------------------------------------- the engine


_new_location = Location.__new__
_new_defect = Defect.__new__
_set = object.__setattr__


def _location(values: tuple[object, ...]) -> Location:
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


def _defect(values: tuple[object, ...]) -> Defect:
    """A ``Defect`` built field by field (see ``_location``)."""
    made = _new_defect(Defect)
    code, message, location, severity, hint = values
    _set(made, "code", code)
    _set(made, "message", message)
    _set(made, "location", location)
    _set(made, "severity", severity)
    _set(made, "hint", hint)
    return made


class _OpenSet:
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

    def __init__(self, st: list[str], group: _OpenGroup | None, index: int) -> None:
        self.transaction = st[0] if st else ""
        self.control = st[1] if len(st) > 1 else ""
        self.version = st[2] if len(st) > 2 and st[2] else (group.version if group else "")
        self.group = group
        self.index = index
        self.defects: list[Defect] = []
        self.counted = 0  # findings that count against the set (pyx12's err_st.err_count)
        self.verdict: bool | None = None  # decided at SE; a set without SE is rejected
        self.segments = 0


class _OpenGroup:
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
        self.sets: list[_OpenSet] = []
        self.defects: list[Defect] = []


class _OpenInterchange:
    __slots__ = ("defects", "groups", "index", "isa")

    def __init__(self, isa: list[str], index: int) -> None:
        self.isa = isa
        self.index = index
        self.groups: list[_OpenGroup] = []
        self.defects: list[Defect] = []


# where a finding is attached: a set and the 1-based position pyx12 counted there (IK302)
_Cursor = tuple[_OpenSet, int, int, int, int, str]  # set, position, index, offset, line, tag


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


_NUMBERED = frozenset({"HL", "LX", "CLM"})  # segments pyx12's reader numbers (x12file)


def _hl_numbering(
    els: list[str], sub: str, count: int, stack: list[int]
) -> list[tuple[DefectCode, str]]:
    """pyx12's HL checks: HL01 counts the HLs of the set, HL02 names an open earlier HL01."""
    found: list[tuple[DefectCode, str]] = []
    hl01 = els[0].rstrip(sub) if els else ""
    if _int(hl01) != count:
        found.append(
            (DefectCode.IK304_8, f"HL01 is {hl01!r}; this is HL number {count} in the set.")
        )
    hl02 = els[1].rstrip(sub) if len(els) > 1 else ""
    if hl02 != "":
        parent = _int(hl02)
        if parent not in stack:
            found.append(
                (
                    DefectCode.IK304_8,
                    f"HL02 ({hl02!r}) names no earlier HL01 that could be a parent.",
                )
            )
        while stack and parent != stack[-1]:
            del stack[-1]
    stack.append(count)
    return found


def _lx_finding(lx01: str, count: int) -> tuple[DefectCode, str]:
    return (DefectCode.IK304_8, f"LX01 is {lx01!r}; this is service line {count} of the claim.")


class _Engine:
    """One validation run: pyx12's ``x12n_document`` loop over our compiled maps."""

    def __init__(self, runtime: _Runtime, options: Options, file: str | None) -> None:
        self.rt = runtime
        self.file = file
        self.counter = _Counter(runtime.parents)
        self.external = options.external_codes
        self.checker = runtime.checker(options.external_codes)
        self.defects: list[Defect] = []
        self.interchanges: list[_OpenInterchange] = []

    # -- placing findings -----------------------------------------------------------------------
    def _loc(
        self,
        index: int,
        offset: int,
        line: int,
        tag: str,
        position: int | None = None,
        element: int | None = None,
        component: int | None = None,
        loop: str | None = None,
    ) -> Location:
        return Location(
            index, offset, line, tag, position, element, component, None, loop or None, self.file
        )

    def _add(self, defect: Defect, target: list[Defect]) -> None:
        target.append(defect)
        self.defects.append(defect)

    def _to_set(
        self,
        cursor: _Cursor | None,
        code: DefectCode,
        message: str,
        element: int | None = None,
        component: int | None = None,
        tag: str | None = None,
        loop: str | None = None,
        hint: str = _RESEND,
    ) -> None:
        """A segment or element finding, attached where pyx12 attaches it (or kept as a warning)."""
        if cursor is None:
            return
        target, position, index, offset, line, cur_tag = cursor
        where = _location(
            (index, offset, line, tag or cur_tag, position, element, component, None, loop,
             self.file)
        )  # fmt: skip
        target.counted += 1
        defect = _defect((code, message, where, Severity.ERROR, hint))
        target.defects.append(defect)
        self.defects.append(defect)

    def _warn(self, code: DefectCode, message: str, where: Location) -> None:
        self.defects.append(Defect(code, message, where, Severity.WARNING, ""))

    # -- the run --------------------------------------------------------------------------------
    def run(self, source: Iterable[str], head: str) -> ValidationResult:
        """Validate the text ``head`` followed by the chunks of ``source``."""
        rt = self.rt
        source = iter(source)
        lead = ""  # a byte order mark or blank lines before the ISA: tolerated, reported
        while True:
            while len(head) < 106 + len(lead) + 8:
                more = next(source, None)
                if more is None:
                    break
                head += more
            start = len(head) - len(head.lstrip(_BLANK))
            if head.startswith(_BOM, start):
                start += len(_BOM)
            if not start:
                break
            lead += head[:start]
            head = head[start:]
        if lead:
            self._warn(
                DefectCode.TEXT_BEFORE_ISA,
                f"{len(lead)} characters (a byte order mark or blank lines) stand before the ISA.",
                self._loc(0, 0, 1, "ISA"),
            )
        if len(head) < 106 or not head.startswith("ISA"):
            where = self._loc(0, 0, 1, head[:3] if head[:3].isalpha() else "")
            self._add(
                Defect(
                    DefectCode.NOT_X12,
                    "The file does not start with a 106-character ISA interchange header.",
                    where,
                    Severity.ERROR,
                    "Check that this is an X12 file and that it was not cut or re-encoded.",
                ),
                [],
            )
            return ValidationResult((), tuple(self.defects), len(head), 0, self.file)
        term, ele, sub, rep = head[105], head[3], head[104], head[82]
        icvn = head[84:89]
        if icvn not in ("00401", "00501"):
            where = self._loc(0, 0, 1, "ISA", element=12)
            self._add(
                Defect(
                    DefectCode.NOT_X12,
                    f"ISA12 (interchange version) {icvn!r} is not an X12 version known here.",
                    where,
                    Severity.ERROR,
                    "Check that this is an X12 file and that its ISA is 106 characters long.",
                ),
                [],
            )
            return ValidationResult((), tuple(self.defects), len(head), 0, self.file)
        if icvn != "00501":
            where = self._loc(0, 0, 1, "ISA", element=12)
            self._add(
                Defect(
                    DefectCode.TA1_017,
                    f"ISA12 (interchange version) is {icvn!r}; only 5010 "
                    "(00501) files are validated here.",
                    where,
                    Severity.ERROR,
                    "Send the file in the 5010 format.",
                ),
                [],
            )
            return ValidationResult(
                (), tuple(self.defects), len(head), 0, self.file, (term, ele, sub, rep)
            )
        counter = self.counter
        slots = rt.slots
        control = rt.control
        isa_node = control.node("ISA_LOOP/ISA")
        gs_node = control.node("ISA_LOOP/GS_LOOP/GS")
        isa_loop_slot, gs_loop_slot = slots["/ISA_LOOP"], slots["/ISA_LOOP/GS_LOOP"]
        checker = self.checker
        memo_mode = sub + ("E" if self.external else "")

        # pyx12's reader state (x12file.X12Base)
        loops: list[tuple[str, str]] = []
        isa_ids: list[str] = []
        gs_ids: list[str] = []
        st_ids: list[str] = []
        gs_count = st_count = hl_count = lx_count = 0
        seg_count = 0
        hl_stack: list[int] = []
        check_lx = False
        # pyx12's error-handler state: current interchange / group / set and the segment cursor
        cur_isa: _OpenInterchange | None = None
        cur_gs: _OpenGroup | None = None
        cur_st: _OpenSet | None = None
        cursor: _Cursor | None = None
        # pyx12's walker state
        program: _Program | None = control
        node: _Node = isa_node
        map_icvn = icvn
        index = -1
        size = 0

        carry_seg: list[tuple[DefectCode, str]] = _NO_SEG
        carry_env: list[tuple[str, DefectCode, str]] = _NO_ENV
        counts, registered = counter.counts, counter.registered
        parents, dirty = counter.parents, counter.dirty
        good_tags: set[str] = set()
        blank = ele + sub
        qual_one = control.qual_one
        plain_tags: set[str] = set()  # valid segment ids with no reader-level numbering checks
        walk: list[tuple[DefectCode, str, bool, str, str]] | None = None
        value: str | None = None
        key: object = None
        # the raw reader (pyx12's RawX12File): split on the terminator, drop line breaks after
        # it, stop at an empty segment; text after the last terminator is not a segment
        buffer = head
        base = len(lead)
        line = 1 + lead.count("\n")
        text = ""
        offset = 0
        reading = True
        while reading:
            parts = buffer.split(term)
            buffer = parts.pop()
            for part in parts:
                if part[:1] in _BREAKS:
                    text = part.lstrip("\n\r")
                    skipped = len(part) - len(text)
                    line += part.count("\n", 0, skipped)
                    offset = base + skipped
                else:
                    text = part
                    offset = base
                if not text:  # an empty segment ends pyx12's reading
                    reading = False
                    break
                base += len(part) + 1
                index += 1
                if program is not None and not carry_seg and not carry_env:
                    # a segment text seen before at this map position, with nothing to report:
                    # replay its plan (the counter checks stay live), skip everything else
                    seen = node.trans.get(memo_mode)
                    replay = seen.get(text) if seen is not None else None
                    if replay is not None:
                        target = replay.target
                        assert target is not None
                        tag = target.tag
                        seg_count += 1
                        replayed: list[tuple[DefectCode, str, bool, str, str]] | None = None
                        if replay.simple:
                            for slot, missing in replay.checks:
                                if counts[slot] < 1:
                                    replayed = [*(replayed or ()), self._missing(missing)]
                            slot = target.slot
                            count = counts[slot] + 1
                            counts[slot] = count
                            if not registered[slot]:  # first count since the loop began
                                registered[slot] = 1
                                up = parents[slot]
                                below = dirty.get(up)
                                if below is None:
                                    dirty[up] = [slot]
                                else:
                                    below.append(slot)
                                if up > 0 and not registered[up]:
                                    counter.register(up)
                            if count > target.limit:
                                replayed = [self._too_many(target, tag, count), *(replayed or ())]
                        elif replay.enter:
                            loop = replay.loop
                            assert loop is not None
                            for slot, missing in replay.checks:
                                if counts[slot] < 1:
                                    replayed = [*(replayed or ()), self._missing(missing)]
                            counter.reset(loop.slot)
                            count = counter.increment(loop.slot)
                            if count > loop.limit:
                                replayed = [
                                    self._loop_too_many(loop, tag, count),
                                    *(replayed or ()),
                                ]
                            counter.increment(target.slot)
                        else:
                            replayed = self._follow(replay, tag, node, counter)[1]
                        node = target
                        if replayed:
                            cursor = self._walk_findings(
                                replayed, cur_st, cursor, seg_count, index, offset, line, tag
                            )
                        cursor = (cur_st, seg_count, index, offset, line, tag) if cur_st else None
                        continue
                if (
                    program is not None
                    and not carry_seg
                    and not carry_env
                    and text[0] != " "
                    and text[-1] != ele
                ):
                    # an ordinary segment (not an envelope, HL, LX or CLM) that the walk places
                    # with a plain match or a loop entry: the common case, in straight line
                    els = text.split(ele)
                    tag = els[0]
                    if (
                        (tag in plain_tags or tag in _NUMBERED)
                        and len(els) > 1
                        and els[1].strip(sub)
                    ):
                        one = qual_one.get(tag)
                        if one is not None:
                            ele_no, sub_no, codes = one
                            value = None
                            if ele_no < len(els):
                                raw = els[ele_no]
                                if sub_no is None:
                                    value = raw.rstrip(sub)
                                else:
                                    comps = raw.split(sub)
                                    value = comps[sub_no - 1] if sub_no <= len(comps) else None
                            key = value if value in codes else None
                        else:
                            key = program.key(tag, els[1:], sub)
                        by_tag = node.plans.get(tag)
                        plan = by_tag.get(key) if by_tag is not None else None
                        if plan is None:
                            plan = program.plan(node, tag, els[1:], sub, key)
                        if plan.simple or plan.enter:
                            del els[0]
                            seg_count += 1
                            numbered: list[tuple[DefectCode, str]] | None = None
                            if tag == "HL":  # pyx12's reader numbers HLs and follows parents
                                hl_count += 1
                                numbered = _hl_numbering(els, sub, hl_count, hl_stack)
                            elif check_lx and tag == "CLM":
                                lx_count = 0
                            elif check_lx and tag == "LX":
                                lx_count += 1
                                lx01 = els[0].rstrip(sub)
                                if lx01 != str(lx_count):
                                    numbered = [_lx_finding(lx01, lx_count)]
                            orig = node
                            target = plan.target
                            assert target is not None
                            walk = None
                            for slot, missing in plan.checks:
                                if counts[slot] < 1:
                                    walk = [*(walk or ()), self._missing(missing)]
                            if plan.simple:
                                slot = target.slot
                                count = counts[slot] + 1
                                counts[slot] = count
                                if not registered[slot]:
                                    counter.register(slot)
                                if count > target.limit:
                                    walk = [self._too_many(target, tag, count), *(walk or ())]
                            else:
                                loop = plan.loop
                                assert loop is not None
                                counter.reset(loop.slot)
                                count = counter.increment(loop.slot)
                                if count > loop.limit:
                                    walk = [self._loop_too_many(loop, tag, count), *(walk or ())]
                                counter.increment(target.slot)
                            node = target
                            if walk:
                                cursor = self._walk_findings(
                                    walk, cur_st, cursor, seg_count, index, offset, line, tag
                                )
                            cursor = (
                                (cur_st, seg_count, index, offset, line, tag) if cur_st else None
                            )
                            if numbered:
                                self._cursor_findings(numbered, cursor, index, offset, line, tag)
                            spec = target.spec
                            assert spec is not None
                            if (
                                checker.clean(spec, els, sub)
                                or not self._element_findings(
                                    target, text, tag, els, sub, memo_mode, cursor, index, offset,
                                    line,
                                )
                            ) and tag not in _NUMBERED:  # fmt: skip
                                # nothing to report: the text replays its plan from now on
                                # (numbered segments never do: their numbers are checked live)
                                seen = orig.trans.get(memo_mode)
                                if seen is None:
                                    seen = orig.trans[memo_mode] = {}
                                if len(seen) < _CACHE_LIMIT:
                                    seen[text] = plan
                            continue
                # reader findings, for the segment cursor and for ISA / GS / ST; those of a segment
                # the walk could not place wait for the next placed one (as pyx12's error list does)
                x_seg: list[tuple[DefectCode, str]] = carry_seg
                x_env: list[tuple[str, DefectCode, str]] = carry_env
                carry_seg, carry_env = _NO_SEG, _NO_ENV
                if text[0] == " ":
                    x_seg = [*x_seg, (DefectCode.IK304_1, "The segment starts with a space.")]
                    text = text.lstrip()
                    if not text:
                        continue
                els = text.split(ele)
                tag = els[0]
                del els[0]
                if text[-1] == ele:
                    x_seg = [
                        *x_seg,
                        (
                            DefectCode.TRAILING_SEPARATOR,
                            "The segment ends with empty elements (trailing separators).",
                        ),
                    ]
                if not els or (not els[0].strip(sub) and not text[len(tag) :].strip(blank)):
                    x_seg = [*x_seg, (DefectCode.IK304_8, "The segment is empty.")]
                if tag not in good_tags:
                    if _SEG_ID.match(tag):
                        good_tags.add(tag)
                        if tag not in _ENVELOPE and tag not in ("HL", "LX", "CLM"):
                            plain_tags.add(tag)
                    else:
                        x_seg = [
                            *x_seg,
                            (DefectCode.IK304_1, f"{tag[:3]!r} is not a valid segment identifier."),
                        ]
                is_env = tag in _ENVELOPE

                # -- the reader's envelope and numbering checks (x12file) --------------------------
                if is_env:
                    if tag == "ISA":
                        if len(els) != 16:
                            x_env = [
                                *x_env,
                                (
                                    "isa",
                                    DefectCode.TA1_024,
                                    f"The ISA has {len(els)} elements instead of 16.",
                                ),
                            ]
                        control_no = els[12] if len(els) > 12 else ""
                        if control_no in isa_ids:
                            x_env = [
                                *x_env,
                                (
                                    "isa",
                                    DefectCode.TA1_025,
                                    f"Interchange control number "
                                    f"{control_no!r} is used twice in this file.",
                                ),
                            ]
                        loops.append(("ISA", control_no))
                        isa_ids.append(control_no)
                        gs_count = 0
                        gs_ids = []
                    elif tag == "GS":
                        control_no = els[5].rstrip(sub) if len(els) > 5 else ""
                        if control_no in gs_ids:
                            x_env = [
                                *x_env,
                                (
                                    "gs",
                                    DefectCode.AK905_19,
                                    f"Group control number "
                                    f"{control_no!r} is used twice in this interchange.",
                                ),
                            ]
                        gs_count += 1
                        gs_ids.append(control_no)
                        loops.append(("GS", control_no))
                        st_count = 0
                        st_ids = []
                    elif tag == "ST":
                        hl_stack = []
                        hl_count = 0
                        control_no = els[1].rstrip(sub) if len(els) > 1 else ""
                        if control_no in st_ids:
                            x_env = [
                                *x_env,
                                (
                                    "st",
                                    DefectCode.IK502_23,
                                    f"Transaction set control "
                                    f"number {control_no!r} is used twice in this group.",
                                ),
                            ]
                        st_count += 1
                        st_ids.append(control_no)
                        loops.append(("ST", control_no))
                        seg_count = 1
                    elif tag == "IEA":
                        if loops and loops[-1][0] != "ISA":
                            x_env = [
                                *x_env,
                                (
                                    "isa",
                                    DefectCode.TA1_024,
                                    f"The {loops[-1][0]} envelope is not closed before IEA.",
                                ),
                            ]
                            del loops[-1]
                        iea = [e.rstrip(sub) for e in els[:2]] + ["", ""]
                        if loops:
                            if loops[-1][1] != iea[1]:
                                x_env = [
                                    *x_env,
                                    (
                                        "isa",
                                        DefectCode.TA1_001,
                                        f"IEA02 ({iea[1]!r}) does not match ISA13 "
                                        f"({loops[-1][1]!r}).",
                                    ),
                                ]
                            if _int(iea[0]) != gs_count:
                                x_env = [
                                    *x_env,
                                    (
                                        "isa",
                                        DefectCode.TA1_021,
                                        f"IEA01 says {iea[0]!r} "
                                        f"functional groups; there are {gs_count}.",
                                    ),
                                ]
                            del loops[-1]
                        else:
                            x_env = [
                                *x_env,
                                ("isa", DefectCode.TA1_024, "IEA without an open ISA."),
                            ]
                    elif tag == "GE":
                        if loops and loops[-1][0] != "GS":
                            x_env = [
                                *x_env,
                                (
                                    "gs",
                                    DefectCode.AK905_3,
                                    f"The {loops[-1][0]} envelope is not closed before GE.",
                                ),
                            ]
                            del loops[-1]
                        ge = [e.rstrip(sub) for e in els[:2]] + ["", ""]
                        if loops:
                            if loops[-1][1] != ge[1]:
                                x_env = [
                                    *x_env,
                                    (
                                        "gs",
                                        DefectCode.AK905_4,
                                        f"GE02 ({ge[1]!r}) does not match GS06 ({loops[-1][1]!r}).",
                                    ),
                                ]
                            if _int(ge[0]) != st_count:
                                x_env = [
                                    *x_env,
                                    (
                                        "gs",
                                        DefectCode.AK905_5,
                                        f"GE01 says {ge[0]!r} transaction sets; there are "
                                        f"{st_count}.",
                                    ),
                                ]
                            del loops[-1]
                    elif tag == "SE":
                        se = [e.rstrip(sub) for e in els[:2]] + ["", ""]
                        if loops:
                            if loops[-1][0] != "ST" or loops[-1][1] != se[1]:
                                x_env = [
                                    *x_env,
                                    (
                                        "st",
                                        DefectCode.IK502_3,
                                        f"SE02 ({se[1]!r}) does not match ST02 ({loops[-1][1]!r}).",
                                    ),
                                ]
                            if _int(se[0]) != seg_count + 1:
                                x_env = [
                                    *x_env,
                                    (
                                        "st",
                                        DefectCode.IK502_4,
                                        f"SE01 says {se[0]!r} segments; the set has "
                                        f"{seg_count + 1}.",
                                    ),
                                ]
                            del loops[-1]
                else:
                    if tag == "HL":
                        hl_count += 1
                        x_seg = [*x_seg, *_hl_numbering(els, sub, hl_count, hl_stack)]
                    elif check_lx and tag == "CLM":
                        lx_count = 0
                    elif check_lx and tag == "LX":
                        lx_count += 1
                        lx01 = els[0].rstrip(sub) if els else ""
                        if lx01 != str(lx_count):
                            x_seg = [*x_seg, _lx_finding(lx01, lx_count)]
                    seg_count += 1

                # -- the walk (map_walker) -------------------------------------------------------
                orig = node
                placed: _Node | None = node
                cacheable = False
                walk = None
                if tag == "ISA":
                    node = isa_node
                    counter.reset(isa_loop_slot)
                    counter.increment(isa_loop_slot)
                    counter.increment(node.slot)
                elif tag == "GS":
                    node = gs_node
                    counter.reset(gs_loop_slot)
                    counter.increment(gs_loop_slot)
                    counter.increment(node.slot)
                elif program is not None:
                    one = qual_one.get(tag)
                    if one is not None:
                        ele_no, sub_no, codes = one
                        value = None
                        if ele_no <= len(els):
                            raw = els[ele_no - 1]
                            if sub_no is None:
                                value = raw.rstrip(sub)
                            else:
                                comps = raw.split(sub)
                                value = comps[sub_no - 1] if sub_no <= len(comps) else None
                        key = value if value in codes else None
                    else:
                        key = program.key(tag, els, sub)
                    by_tag = node.plans.get(tag)
                    plan = by_tag.get(key) if by_tag is not None else None
                    if plan is None:
                        plan = program.plan(node, tag, els, sub, key)
                    cacheable = (
                        not is_env
                        and plan.outcome in (_SEG_MATCH, _ENTER)
                        and tag != "HL"
                        and not (check_lx and (tag == "LX" or tag == "CLM"))
                    )
                    if plan.simple:  # a segment of the current loop: check the misses, count it
                        for slot, missing in plan.checks:
                            if counts[slot] < 1:
                                if walk is None:
                                    walk = []
                                walk.append(self._missing(missing))
                        target = plan.target
                        assert target is not None
                        slot = target.slot
                        count = counts[slot] + 1
                        counts[slot] = count
                        if not registered[slot]:  # first count since the loop began
                            registered[slot] = 1
                            up = parents[slot]
                            below = dirty.get(up)
                            if below is None:
                                dirty[up] = [slot]
                            else:
                                below.append(slot)
                            if up > 0 and not registered[up]:
                                counter.register(up)
                        if count > target.limit:
                            walk = [self._too_many(target, tag, count), *(walk or ())]
                        node = target
                    elif plan.enter:  # a used loop entered: restart its counts
                        target, loop = plan.target, plan.loop
                        assert target is not None
                        assert loop is not None
                        for slot, missing in plan.checks:
                            if counts[slot] < 1:
                                walk = [*(walk or ()), self._missing(missing)]
                        counter.reset(loop.slot)
                        count = counter.increment(loop.slot)
                        if count > loop.limit:
                            walk = [self._loop_too_many(loop, tag, count), *(walk or ())]
                        counter.increment(target.slot)
                        node = target
                    else:
                        placed, walk = self._follow(plan, tag, orig, counter)
                        if placed is not None:
                            node = placed
                if walk:
                    cursor = self._walk_findings(
                        walk, cur_st, cursor, seg_count, index, offset, line, tag
                    )
                if placed is None:  # pyx12 leaves the segment unplaced: no checks, findings wait
                    carry_seg, carry_env = x_seg, x_env
                    continue

                # -- the error handler's bookkeeping (x12n_document) -----------------------------
                env_target: list[Defect] | None = None  # where element findings of envelopes go
                env_counted: _OpenSet | None = None
                if is_env:
                    if tag == "ISA":
                        cur_isa = _OpenInterchange(els, index)
                        self.interchanges.append(cur_isa)
                        cursor = None
                        map_icvn = els[11] if len(els) > 11 else ""
                        self._envelope(x_env, cur_isa, cur_gs, cur_st, index, offset, line, tag)
                        env_target = cur_isa.defects
                    elif tag == "IEA":
                        self._envelope(x_env, cur_isa, cur_gs, cur_st, index, offset, line, tag)
                        self._cursor_findings(x_seg, cursor, index, offset, line, tag)
                        x_seg = []
                        cursor = None
                        env_target = cur_isa.defects if cur_isa else None
                    elif tag == "GS":
                        group = _OpenGroup([e.rstrip(sub) for e in els], index)
                        found = rt.map_for(map_icvn, group.version, group.fid)
                        if found is None:
                            group.supported = False
                            program = None
                            where = self._loc(index, offset, line, "GS", element=8)
                            self._add(
                                Defect(
                                    DefectCode.AK905_2,
                                    f"No implementation guide is "
                                    f"available for GS08 {group.version!r} with GS01 "
                                    f"{group.fid!r}; the group's sets are not checked.",
                                    where,
                                    Severity.ERROR,
                                    "Check GS01 and GS08.",
                                ),
                                group.defects,
                            )
                        else:
                            if found is not program:
                                check_lx = found.id == "837"
                            program = found
                            qual_one = found.qual_one
                            node = found.node("ISA_LOOP/GS_LOOP/GS")
                        if cur_isa is not None:
                            cur_isa.groups.append(group)
                        cur_gs = group
                        cursor = None
                        self._envelope(x_env, cur_isa, cur_gs, cur_st, index, offset, line, tag)
                        env_target = group.defects
                    elif tag == "GE":
                        self._envelope(x_env, cur_isa, cur_gs, cur_st, index, offset, line, tag)
                        self._cursor_findings(x_seg, cursor, index, offset, line, tag)
                        x_seg = []
                        cursor = None
                        env_target = cur_gs.defects if cur_gs else None
                    elif tag == "ST":
                        cur_st = _OpenSet([e.rstrip(sub) for e in els], cur_gs, index)
                        if cur_gs is not None:
                            cur_gs.sets.append(cur_st)
                            if not cur_gs.supported:
                                where = self._loc(index, offset, line, "ST", 1)
                                cur_st.counted += 1
                                self._add(
                                    Defect(
                                        DefectCode.IK502_1,
                                        f"Transaction set "
                                        f"{cur_st.transaction} {cur_st.version} is not "
                                        "supported.",
                                        where,
                                        Severity.ERROR,
                                        "",
                                    ),
                                    cur_st.defects,
                                )
                        cursor = None
                        self._envelope(x_env, cur_isa, cur_gs, cur_st, index, offset, line, tag)
                        env_target = cur_st.defects
                        env_counted = None
                    else:  # SE
                        self._envelope(x_env, cur_isa, cur_gs, cur_st, index, offset, line, tag)
                        self._cursor_findings(x_seg, cursor, index, offset, line, tag)
                        x_seg = []
                        if cur_st is not None:
                            cur_st.verdict = cur_st.counted == 0
                            cur_st.segments = seg_count + 1
                            env_target = cur_st.defects
                        cursor = None
                    if x_seg:  # findings pyx12 files under an envelope node are lost there
                        for code, message in x_seg:
                            self._warn(code, message, self._loc(index, offset, line, tag))
                else:
                    cursor = (cur_st, seg_count, index, offset, line, tag) if cur_st else None
                    if x_seg:
                        self._cursor_findings(x_seg, cursor, index, offset, line, tag)

                # -- element checks (map_if.segment_if.is_valid) --------------------------------
                if program is None and tag != "ISA" and tag != "GS":
                    continue
                spec = node.spec
                if spec is None:
                    continue
                if cacheable and not x_seg and checker.clean(spec, els, sub):
                    # clean and placed: remember the text's plan for a replay, nothing else
                    seen = orig.trans.get(memo_mode)
                    if seen is None:
                        seen = orig.trans[memo_mode] = {}
                    if len(seen) < _CACHE_LIMIT and plan is not None:
                        seen[text] = plan
                    continue
                memo = node.memo.get(memo_mode)
                if memo is None:
                    memo = node.memo[memo_mode] = {}
                findings = memo.get(text)
                if findings is None:
                    if not is_env and checker.clean(spec, els, sub):
                        findings = ()
                    else:
                        findings = tuple(
                            checker.segment(spec, tag, els, None if tag == "ISA" else sub)
                        )
                    if len(memo) >= _CACHE_LIMIT:
                        memo.clear()
                    memo[text] = findings
                if not findings:
                    continue
                loop_id = node.loop_id
                if is_env:
                    for f in findings:
                        where = self._loc(
                            index,
                            offset,
                            line,
                            tag,
                            None
                            if tag != "SE" and tag != "ST"
                            else (1 if tag == "ST" else seg_count + 1),
                            f.element,
                            f.component,
                            loop_id,
                        )
                        if f.element is None or env_target is None:
                            self._warn(f.code, f.message, where)
                        else:
                            self._add(
                                Defect(f.code, f.message, where, Severity.ERROR, _RESEND),
                                env_target,
                            )
                            if env_counted is not None:
                                env_counted.counted += 1
                elif cursor is not None:
                    target_set, position = cursor[0], cursor[1]
                    target_set.counted += len(findings)
                    kept, everything, file = target_set.defects, self.defects, self.file
                    for f in findings:  # inline: error-heavy files make thousands of these
                        defect = _defect(
                            (
                                f.code,
                                f.message,
                                _location(
                                    (index, offset, line, tag, position, f.element, f.component,
                                     None, loop_id, file)
                                ),
                                Severity.ERROR,
                                _RESEND,
                            )
                        )  # fmt: skip
                        kept.append(defect)
                        everything.append(defect)
                else:
                    for f in findings:
                        self._warn(
                            f.code,
                            f.message,
                            self._loc(
                                index, offset, line, tag, None, f.element, f.component, loop_id
                            ),
                        )

            if reading:
                more = next(source, None)
                if more is None:
                    reading = False
                else:
                    buffer += more
        end = (index, offset + len(text), line)

        # -- end of input: envelopes left open (x12file.cleanup) -------------------------------
        index, offset, line = end
        if carry_env:
            self._envelope(carry_env, cur_isa, cur_gs, cur_st, index, offset, line, "")
        if carry_seg:
            self._cursor_findings(carry_seg, cursor, index, offset, line, "")
        for kind, ident in loops:
            if kind == "ST" and cur_st is not None:
                where = self._loc(index, offset, line, "SE")
                self._add(
                    Defect(
                        DefectCode.IK502_2,
                        f"Transaction set {ident!r} has no SE trailer.",
                        where,
                        Severity.ERROR,
                        _RESEND,
                    ),
                    cur_st.defects,
                )
                cur_st.counted += 1
            elif kind == "GS" and cur_gs is not None:
                where = self._loc(index, offset, line, "GE")
                self._add(
                    Defect(
                        DefectCode.AK905_3,
                        f"Functional group {ident!r} has no GE trailer.",
                        where,
                        Severity.ERROR,
                        _RESEND,
                    ),
                    cur_gs.defects,
                )
            elif kind == "ISA" and cur_isa is not None:
                where = self._loc(index, offset, line, "IEA")
                self._add(
                    Defect(
                        DefectCode.TA1_023,
                        f"Interchange {ident!r} has no IEA trailer (the file ends early).",
                        where,
                        Severity.ERROR,
                        "The file was probably cut short; ask for it again.",
                    ),
                    cur_isa.defects,
                )
        size = offset
        return self._result(index + 1, size, (term, ele, sub, rep))

    def _element_findings(
        self,
        node: _Node,
        text: str,
        tag: str,
        els: list[str],
        sub: str,
        memo_mode: str,
        cursor: _Cursor | None,
        index: int,
        offset: int,
        line: int,
    ) -> bool:
        """The exact element checks of a body segment (memoised per node and text), filed;
        whether there were any."""
        spec = node.spec
        assert spec is not None
        memo = node.memo.get(memo_mode)
        if memo is None:
            memo = node.memo[memo_mode] = {}
        findings = memo.get(text)
        if findings is None:
            findings = tuple(self.checker.segment(spec, tag, els, sub))
            if len(memo) >= _CACHE_LIMIT:
                memo.clear()
            memo[text] = findings
        if not findings:
            return False
        loop_id = node.loop_id
        if cursor is None:
            for f in findings:
                self._warn(
                    f.code,
                    f.message,
                    self._loc(index, offset, line, tag, None, f.element, f.component, loop_id),
                )
            return True
        target_set, position = cursor[0], cursor[1]
        target_set.counted += len(findings)
        kept, everything, file = target_set.defects, self.defects, self.file
        for f in findings:  # inline: error-heavy files make thousands of these
            where = (
                index,
                offset,
                line,
                tag,
                position,
                f.element,
                f.component,
                None,
                loop_id,
                file,
            )
            defect = _defect((f.code, f.message, _location(where), Severity.ERROR, _RESEND))
            kept.append(defect)
            everything.append(defect)
        return True

    def _follow(
        self, plan: _Plan, tag: str, orig: _Node, counter: _Counter
    ) -> tuple[_Node | None, list[tuple[DefectCode, str, bool, str, str]] | None]:
        """Carry out a plan other than a plain match: a loop entered, a Not Used segment, or no
        place at all. Returns the new map position (None: the segment stays unplaced) and the
        walk's findings."""
        counts = counter.counts
        walk: list[tuple[DefectCode, str, bool, str, str]]
        if plan.outcome == _ENTER:
            walk = [self._missing(m) for slot, m in plan.checks if counts[slot] < 1]
            target, loop = plan.target, plan.loop
            assert target is not None
            assert loop is not None
            if loop.usage == "N":
                walk.insert(
                    0,
                    (
                        DefectCode.IK304_I4,
                        f"Loop {loop.tag} ({loop.name}) is marked Not Used in the guide.",
                        False,
                        tag,
                        loop.tag,
                    ),
                )
            else:
                counter.reset(loop.slot)
                count = counter.increment(loop.slot)
                if count > loop.limit:
                    walk.insert(
                        0,
                        (
                            DefectCode.IK304_4,
                            f"Loop {loop.tag} ({loop.name}) occurs {count} times; at most "
                            f"{loop.limit} allowed.",
                            True,
                            tag,
                            loop.tag,
                        ),
                    )
            counter.increment(target.slot)
            return target, walk
        if plan.outcome == _SEG_MATCH:  # a segment the guide marks Not Used
            target = plan.target
            assert target is not None
            walk = [
                (
                    DefectCode.IK304_I4,
                    f"{target.name} ({tag}) is marked Not Used in the guide.",
                    False,
                    tag,
                    target.loop_id,
                )
            ]
            walk += [self._missing(m) for slot, m in plan.checks if counts[slot] < 1]
            counter.increment(target.slot)
            return target, walk
        if plan.outcome == _NOT_FOUND:
            return None, [
                (
                    DefectCode.IK304_1,
                    f"Segment {tag} is not expected here (not found in the guide from "
                    f"{orig.path}).",
                    True,
                    tag,
                    orig.loop_id,
                )
            ]
        return None, None

    def _walk_findings(
        self,
        walk: list[tuple[DefectCode, str, bool, str, str]],
        cur_st: _OpenSet | None,
        cursor: _Cursor | None,
        seg_count: int,
        index: int,
        offset: int,
        line: int,
        tag: str,
    ) -> _Cursor | None:
        """File the walk's findings where pyx12 files them; returns the new segment cursor."""
        for code, message, current, where_tag, loop_id in walk:
            if current:
                if cur_st is None:
                    self._warn(code, message, self._loc(index, offset, line, where_tag))
                    continue
                cursor = (cur_st, seg_count, index, offset, line, tag)
                self._to_set(cursor, code, message, tag=where_tag, loop=loop_id)
            elif cursor is not None:
                self._to_set(cursor, code, message, loop=loop_id)
            else:
                self._warn(code, message, self._loc(index, offset, line, where_tag))
        return cursor

    @staticmethod
    def _loop_too_many(loop: _Node, tag: str, count: int) -> tuple[DefectCode, str, bool, str, str]:
        return (
            DefectCode.IK304_4,
            f"Loop {loop.tag} ({loop.name}) occurs {count} times; at most {loop.limit} allowed.",
            True,
            tag,
            loop.tag,
        )

    @staticmethod
    def _too_many(target: _Node, tag: str, count: int) -> tuple[DefectCode, str, bool, str, str]:
        return (
            DefectCode.IK304_5,
            f"{target.name} ({tag}) is used {count} times; at most {target.limit} allowed.",
            True,
            tag,
            target.loop_id,
        )

    def _missing(self, m: _Node) -> tuple[DefectCode, str, bool, str, str]:
        parent = m.parent
        if parent is not None and parent.first is m and parent.is_loop and parent.usage == "R":
            text = (
                f"Required segment {m.name} ({m.tag}) is missing (it starts loop "
                f"{parent.tag}, {parent.name})."
            )
        else:
            text = f"Required segment {m.name} ({m.tag}) is missing."
        return (DefectCode.IK304_3, text, True, m.tag, m.loop_id)

    def _cursor_findings(
        self,
        found: list[tuple[DefectCode, str]],
        cursor: _Cursor | None,
        index: int,
        offset: int,
        line: int,
        tag: str,
    ) -> None:
        for code, message in found:
            if cursor is None:
                self._warn(code, message, self._loc(index, offset, line, tag))
            else:
                self._to_set(cursor, code, message)

    def _envelope(
        self,
        found: list[tuple[str, DefectCode, str]],
        isa: _OpenInterchange | None,
        gs: _OpenGroup | None,
        st: _OpenSet | None,
        index: int,
        offset: int,
        line: int,
        tag: str,
    ) -> None:
        for level, code, message in found:
            where = self._loc(index, offset, line, tag)
            if level == "isa" and isa is not None:
                self._add(Defect(code, message, where, Severity.ERROR, _RESEND), isa.defects)
            elif level == "gs" and gs is not None:
                self._add(Defect(code, message, where, Severity.ERROR, _RESEND), gs.defects)
            elif level == "st" and st is not None:
                st.counted += 1
                self._add(Defect(code, message, where, Severity.ERROR, _RESEND), st.defects)
            else:
                self._add(Defect(code, message, where, Severity.ERROR, _RESEND), [])

    def _result(
        self, segments: int, size: int, delimiters: tuple[str, str, str, str]
    ) -> ValidationResult:
        interchanges = []
        for i in self.interchanges:
            isa = i.isa + [""] * 16

            groups = tuple(
                GroupResult(
                    g.control,
                    g.fid,
                    g.version,
                    g.sender,
                    g.receiver,
                    g.supported,
                    tuple(
                        SetResult(
                            s.control,
                            s.transaction,
                            s.version,
                            g.control,
                            bool(s.verdict),
                            tuple(s.defects),
                            s.index,
                            s.segments,
                        )
                        for s in g.sets
                    ),
                    tuple(g.defects),
                    g.index,
                )
                for g in i.groups
            )
            interchanges.append(
                InterchangeResult(
                    isa[12],
                    isa[4],
                    isa[5].strip(),
                    isa[6],
                    isa[7].strip(),
                    isa[8],
                    isa[9],
                    isa[14],
                    isa[13] == "1",
                    groups,
                    tuple(i.defects),
                    i.index,
                )
            )
        return ValidationResult(
            tuple(interchanges), tuple(self.defects), size, segments, self.file, delimiters
        )


# --------------------------------------------------------------------------- public entry


_Input = bytes | bytearray | memoryview | str | BinaryIO | Iterable[Segment]


class Validator:
    """A reusable validator (the compiled maps are shared by every instance in a process)."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.runtime = _runtime()

    def validate(self, data: _Input, *, file: str | None = None) -> ValidationResult:
        """Validate X12 bytes, text, a binary file object or segments from ``read_segments``."""
        engine = _Engine(self.runtime, self.options, file)
        if isinstance(data, (bytes, bytearray, memoryview)):
            return engine.run((), bytes(data).decode("latin-1"))
        if isinstance(data, str):
            return engine.run((), data)
        if hasattr(data, "read"):
            return engine.run(_chunks(cast(BinaryIO, data)), "")
        texts = _segment_texts(data)
        return engine.run(texts, next(texts, ""))


def _chunks(stream: BinaryIO) -> Iterator[str]:
    while True:
        block = stream.read(CHUNK)
        if not block:
            return
        yield block.decode("latin-1") if isinstance(block, bytes) else str(block)


def _segment_texts(segments: Iterable[Segment]) -> Iterator[str]:
    for seg in segments:
        d = seg.delimiters
        yield d.element.join([seg.tag, *seg.elements]) + d.segment


def validate(
    data: _Input, *, file: str | None = None, options: Options | None = None
) -> ValidationResult:
    """Validate an X12 file against its implementation guides; see the module docstring."""
    return Validator(options).validate(data, file=file)


def reset_caches() -> None:
    """Forget what was learnt from data: the element findings and the replay plans kept per
    segment text (benchmarks call this so that every run starts cold). The walk plans stay: they
    depend on the maps alone (a map node, a segment id and a qualifier code), like compiled code."""
    for program in _runtime().programs.values():
        stack = [program.root]
        while stack:
            node = stack.pop()
            node.memo.clear()
            node.trans.clear()
            stack.extend(node.children)
