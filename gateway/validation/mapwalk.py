"""The map walk: pyx12's maps compiled into a node tree, the memoised walk from a map position
for a segment id and qualifier (``Plan``), and pyx12's per-path counters (``NodeCounter``).

A segment is looked for from the current map position forward, then in each enclosing loop;
entering a loop is decided by its first segment and, where several candidates share a segment
id, by the ID qualifier pyx12 picks (``NM1*85`` vs ``NM1*87``, ``HL03``, ``REF01``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.validation.spec import CompositeSpec, ElementSpec, LoopSpec, MapSpec, SegmentSpec

if TYPE_CHECKING:
    from gateway.validation.elements import ElementFinding


# ---------------------------------------------------------------------------- runtime map


class Node:
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
        self.children: list[Node] = []
        self.parent: Node | None = None
        self.ident: tuple[str, str] = (ident, "")
        self.path = "/"
        self.slot = 0
        self.first: Node | None = None
        self.first_seg: Node | None = None
        self.key: tuple[int, int | None, frozenset[str]] | None = None
        self.spec: SegmentSpec | None = None
        self.loop_id = ""
        self.plans: dict[str, dict[object, Plan]] = {}
        self.memo: dict[str, dict[str, tuple[ElementFinding, ...]]] = {}  # by delimiters/options
        # segment texts seen here that were placed cleanly, and the plan they took
        self.trans: dict[str, dict[str, Plan]] = {}


SEG_MATCH, ENTER, NOT_FOUND, STAY = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Plan:
    """The walk from one map node for one segment id and qualifier: what to check, where it ends."""

    checks: tuple[tuple[int, Node], ...]  # (slot that must be counted, else report that missing)
    outcome: int
    target: Node | None  # the segment node matched
    loop: Node | None  # the loop entered (its usage and repeat are checked)
    simple: bool = False  # a match of a used segment: count it, check its max use and the misses
    enter: bool = False  # entering a used loop at its first segment


def _plan(
    misses: list[tuple[Node, Node]], outcome: int, target: Node | None, loop: Node | None
) -> Plan:
    """A plan; for a segment match, pyx12's flush rule (same node or position) applied up front."""
    if outcome == SEG_MATCH:
        assert target is not None
        kept = [(c.slot, m) for c, m in misses if m.ident != target.ident and m.pos != target.pos]
        return Plan(tuple(kept), outcome, target, loop, target.usage != "N")
    enter = outcome == ENTER and loop is not None and loop.usage != "N"
    return Plan(tuple((c.slot, m) for c, m in misses), outcome, target, loop, False, enter)


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


class Program:
    """One map compiled for walking: its node tree and where qualifiers are read per segment id."""

    def __init__(self, spec: MapSpec, slots: dict[str, int]) -> None:
        self.spec = spec
        self.id = spec.id
        self.root = Node("root", spec.id, spec.name, "R", 0, 1)
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

    def plan(self, node: Node, tag: str, els: list[str], sub: str, key: object) -> Plan:
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
        self, parent: Node, children: tuple[LoopSpec | SegmentSpec, ...], slots: dict[str, int]
    ) -> None:
        by_pos: dict[int, int] = {}
        for child in children:
            by_pos[child.pos] = by_pos.get(child.pos, 0) + 1
        for child in children:
            if isinstance(child, LoopSpec):
                node = Node("loop", child.id, child.name, child.usage, child.pos, child.repeat)
                label = child.id
            else:
                node = Node("seg", child.id, child.name, child.usage, child.pos, child.max_use)
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

    def node(self, path: str) -> Node:
        """The node at a path of ids, e.g. ``ISA_LOOP/GS_LOOP/GS``."""
        node = self.root
        for part in path.split("/"):
            node = next(c for c in node.children if c.tag == part)
        return node


# ------------------------------------------------------------------------------- the walker


class NodeCounter:
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


def _matches(node: Node, tag: str, values: dict[tuple[int, int | None], str | None]) -> bool:
    if node.tag != tag:
        return False
    key = node.key
    if key is None:
        return True
    return values.get((key[0], key[1])) in key[2]


def _make_plan(start: Node, tag: str, values: dict[tuple[int, int | None], str | None]) -> Plan:
    """Walk from ``start`` as pyx12's ``walk_tree.walk_errors`` does, recording the live checks."""
    misses: list[tuple[Node, Node]] = []

    def loop_match(loop: Node) -> bool:
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

    def goto(loop: Node) -> tuple[Node | None, Node | None]:
        first = loop.first_seg
        if first is not None and _matches(first, tag, values):
            return first, loop
        for child in loop.children:
            if child.is_loop:
                found = goto(child)
                if found[0] is not None:
                    return found
        return None, None

    def scan(loop: Node, from_pos: int) -> Plan | None:
        for child in loop.children:
            if child.pos < from_pos:
                continue
            if child.is_seg:
                if _matches(child, tag, values):
                    if loop.is_loop and loop_match(loop):
                        seg, entered = goto(loop)
                        outcome = ENTER if seg is not None else STAY
                        return _plan(misses, outcome, seg, entered)
                    return _plan(misses, SEG_MATCH, child, None)
                if child.usage == "R":
                    misses.append((child, child))
            elif child.is_loop and loop_match(child):
                seg, entered = goto(child)
                outcome = ENTER if seg is not None else STAY
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
            return _plan([], NOT_FOUND, None, None)
        from_pos = loop.pos
        loop = loop.parent
