"""Filing findings: where each finding of a run goes (the set, group or interchange pyx12 files it
under, or a warning when pyx12 loses it), and the run's open envelopes frozen into results."""

from __future__ import annotations

from gateway.validation.elements import ElementChecker
from gateway.validation.mapwalk import ENTER, NOT_FOUND, SEG_MATCH, Node, NodeCounter, Plan
from gateway.validation.results import (
    Cursor,
    GroupResult,
    InterchangeResult,
    OpenGroup,
    OpenInterchange,
    OpenSet,
    SetResult,
    ValidationResult,
    fast_defect,
    fast_location,
)
from gateway.x12 import Defect, DefectCode, Location, Severity
from gateway.x12.envelope import read_isa

CACHE_LIMIT = 20_000  # memo entries kept per map node before a cache is cleared (bounds memory)
RESEND = "Correct the file at its source and send it again."

#: A walk finding: code, message, whether it is placed at the current segment, the tag and loop
WalkFinding = tuple[DefectCode, str, bool, str, str]


class Filer:
    """The findings of one run and the interchanges they are filed under."""

    def __init__(self, checker: ElementChecker, file: str | None) -> None:
        self.file = file
        self.checker = checker
        self.defects: list[Defect] = []
        self.interchanges: list[OpenInterchange] = []

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
        cursor: Cursor | None,
        code: DefectCode,
        message: str,
        element: int | None = None,
        component: int | None = None,
        tag: str | None = None,
        loop: str | None = None,
        hint: str = RESEND,
    ) -> None:
        """A segment or element finding, attached where pyx12 attaches it (or kept as a warning)."""
        if cursor is None:
            return
        target, position, index, offset, line, cur_tag = cursor
        where = fast_location(
            (index, offset, line, tag or cur_tag, position, element, component, None, loop,
             self.file)
        )  # fmt: skip
        target.counted += 1
        defect = fast_defect((code, message, where, Severity.ERROR, hint))
        target.defects.append(defect)
        self.defects.append(defect)

    def _warn(self, code: DefectCode, message: str, where: Location) -> None:
        self.defects.append(Defect(code, message, where, Severity.WARNING, ""))

    # -- filing by kind ----------------------------------------------------------------------
    def _element_findings(
        self,
        node: Node,
        text: str,
        tag: str,
        els: list[str],
        sub: str,
        memo_mode: str,
        cursor: Cursor | None,
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
            if len(memo) >= CACHE_LIMIT:
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
            defect = fast_defect((f.code, f.message, fast_location(where), Severity.ERROR, RESEND))
            kept.append(defect)
            everything.append(defect)
        return True

    def _follow(
        self, plan: Plan, tag: str, orig: Node, counter: NodeCounter
    ) -> tuple[Node | None, list[WalkFinding] | None]:
        """Carry out a plan other than a plain match: a loop entered, a Not Used segment, or no
        place at all. Returns the new map position (None: the segment stays unplaced) and the
        walk's findings."""
        counts = counter.counts
        walk: list[WalkFinding]
        if plan.outcome == ENTER:
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
        if plan.outcome == SEG_MATCH:  # a segment the guide marks Not Used
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
        if plan.outcome == NOT_FOUND:
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
        walk: list[WalkFinding],
        cur_st: OpenSet | None,
        cursor: Cursor | None,
        seg_count: int,
        index: int,
        offset: int,
        line: int,
        tag: str,
    ) -> Cursor | None:
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
    def _loop_too_many(loop: Node, tag: str, count: int) -> WalkFinding:
        return (
            DefectCode.IK304_4,
            f"Loop {loop.tag} ({loop.name}) occurs {count} times; at most {loop.limit} allowed.",
            True,
            tag,
            loop.tag,
        )

    @staticmethod
    def _too_many(target: Node, tag: str, count: int) -> WalkFinding:
        return (
            DefectCode.IK304_5,
            f"{target.name} ({tag}) is used {count} times; at most {target.limit} allowed.",
            True,
            tag,
            target.loop_id,
        )

    def _missing(self, m: Node) -> WalkFinding:
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
        cursor: Cursor | None,
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
        isa: OpenInterchange | None,
        gs: OpenGroup | None,
        st: OpenSet | None,
        index: int,
        offset: int,
        line: int,
        tag: str,
    ) -> None:
        for level, code, message in found:
            where = self._loc(index, offset, line, tag)
            if level == "isa" and isa is not None:
                self._add(Defect(code, message, where, Severity.ERROR, RESEND), isa.defects)
            elif level == "gs" and gs is not None:
                self._add(Defect(code, message, where, Severity.ERROR, RESEND), gs.defects)
            elif level == "st" and st is not None:
                st.counted += 1
                self._add(Defect(code, message, where, Severity.ERROR, RESEND), st.defects)
            else:
                self._add(Defect(code, message, where, Severity.ERROR, RESEND), [])

    def _result(
        self, segments: int, size: int, delimiters: tuple[str, str, str, str]
    ) -> ValidationResult:
        interchanges = []
        for i in self.interchanges:
            isa = read_isa(i.isa)

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
                    isa.control_number,
                    isa.sender_qualifier,
                    isa.sender_id.strip(),
                    isa.receiver_qualifier,
                    isa.receiver_id.strip(),
                    isa.date,
                    isa.time,
                    isa.usage_indicator,
                    isa.acknowledgment_requested == "1",
                    groups,
                    tuple(i.defects),
                    i.index,
                )
            )
        return ValidationResult(
            tuple(interchanges), tuple(self.defects), size, segments, self.file, delimiters
        )
