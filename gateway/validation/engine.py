"""The engine: one validation run, pyx12's ``x12n_document`` loop over the compiled maps.

``Engine.run`` reads the segments as pyx12's raw reader does and takes each one through named
steps: the header (``_refuse``), two memoised fast paths kept in line because they carry almost
every segment of a clean file (a replay of a text seen before at the same map position, and an
ordinary segment placed by a plain match or a loop entry), and the full path for the rest: the
reader's checks (``_read_segment``), the envelope trail and HL / LX numbering, the walk
(``_place``), the error handler's envelope bookkeeping (``_envelope_segment``), the element
checks (``_check_elements``) and, at the end, the envelopes left open (``_end_of_input``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from gateway.validation.filing import CACHE_LIMIT, RESEND, Filer, WalkFinding
from gateway.validation.mapwalk import ENTER, SEG_MATCH, Node, NodeCounter, Plan, Program
from gateway.validation.numbering import NUMBERED, hl_numbering, lx_finding
from gateway.validation.results import (
    Cursor,
    OpenGroup,
    OpenInterchange,
    OpenSet,
    Options,
    ValidationResult,
    fast_defect,
    fast_location,
)
from gateway.validation.runtime import Runtime
from gateway.x12 import Defect, DefectCode, Severity
from gateway.x12.delimiters import fixed_isa_header
from gateway.x12.envelope import ENVELOPE_TAGS, ControlTrail, TrailFinding

_SEG_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_BREAKS = ("\n", "\r")
_BLANK = " \t\r\n\x0b\x0c"
_BOM = "\xef\xbb\xbf"  # UTF-8's byte order mark, read as Latin-1
_NO_SEG: list[tuple[DefectCode, str]] = []  # shared empty lists: never mutated, only rebound
_NO_ENV: list[TrailFinding] = []

#: A segment as the reader gives it to the full path: text, tag, elements, reader findings
_ReadSegment = tuple[str, str, list[str], list[tuple[DefectCode, str]]]


def _skip_lead(source: Iterator[str], head: str) -> tuple[str, str]:
    """The text from the ISA on, and what stood before it (a byte order mark, blank lines)."""
    lead = ""
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
            return head, lead
        lead += head[:start]
        head = head[start:]


class Engine(Filer):
    """One validation run: pyx12's ``x12n_document`` loop over our compiled maps."""

    def __init__(self, runtime: Runtime, options: Options, file: str | None) -> None:
        super().__init__(runtime.checker(options.external_codes), file)
        self.rt = runtime
        self.counter = NodeCounter(runtime.parents)
        self.external = options.external_codes
        self.trail = ControlTrail()  # pyx12's reader state (x12file.X12Base): open envelopes
        self.good_tags: set[str] = set()
        self.plain_tags: set[str] = set()  # valid segment ids with no reader numbering checks
        # pyx12's error-handler state: the open interchange / group / set; the walker's map
        self.cur_isa: OpenInterchange | None = None
        self.cur_gs: OpenGroup | None = None
        self.cur_st: OpenSet | None = None
        self.program: Program | None = runtime.control
        self.qual_one = runtime.control.qual_one
        self.check_lx = False  # 837s number their service lines (LX01) per claim
        self.map_icvn = ""
        slots = runtime.slots
        self.isa_node = runtime.control.node("ISA_LOOP/ISA")
        self.gs_node = runtime.control.node("ISA_LOOP/GS_LOOP/GS")
        self.isa_loop_slot, self.gs_loop_slot = slots["/ISA_LOOP"], slots["/ISA_LOOP/GS_LOOP"]

    # -- the run --------------------------------------------------------------------------------
    def run(self, source: Iterable[str], head: str) -> ValidationResult:
        """Validate the text ``head`` followed by the chunks of ``source``."""
        source = iter(source)
        head, lead = _skip_lead(source, head)
        refused = self._refuse(head, lead)
        if refused is not None:
            return refused
        isa = fixed_isa_header(head)
        assert isa is not None
        term, ele, sub, rep = isa.delimiters
        self.map_icvn = isa.version
        counter = self.counter
        checker = self.checker
        trail = self.trail
        memo_mode = sub + ("E" if self.external else "")
        hl_count = lx_count = seg_count = 0
        hl_stack: list[int] = []
        check_lx = False
        cur_st: OpenSet | None = None
        cursor: Cursor | None = None  # where a finding of the current segment is filed
        program: Program | None = self.program
        node: Node = self.isa_node
        qual_one = self.qual_one
        index = -1
        carry_seg: list[tuple[DefectCode, str]] = _NO_SEG
        carry_env: list[TrailFinding] = _NO_ENV
        counts, registered = counter.counts, counter.registered
        parents, dirty = counter.parents, counter.dirty
        blank = ele + sub
        plain_tags = self.plain_tags
        walk: list[WalkFinding] | None = None
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
                        replayed: list[WalkFinding] | None = None
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
                        (tag in plain_tags or tag in NUMBERED)
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
                                numbered = hl_numbering(els, sub, hl_count, hl_stack)
                            elif check_lx and tag == "CLM":
                                lx_count = 0
                            elif check_lx and tag == "LX":
                                lx_count += 1
                                lx01 = els[0].rstrip(sub)
                                if lx01 != str(lx_count):
                                    numbered = [lx_finding(lx01, lx_count)]
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
                            ) and tag not in NUMBERED:  # fmt: skip
                                # nothing to report: the text replays its plan from now on
                                # (numbered segments never do: their numbers are checked live)
                                seen = orig.trans.get(memo_mode)
                                if seen is None:
                                    seen = orig.trans[memo_mode] = {}
                                if len(seen) < CACHE_LIMIT:
                                    seen[text] = plan
                            continue
                # the full path: reader findings, for the segment cursor and for ISA / GS / ST;
                # those of a segment the walk cannot place wait for the next placed one (as
                # pyx12's error list does)
                read = self._read_segment(text, ele, sub, blank, carry_seg)
                x_env = carry_env
                carry_seg, carry_env = _NO_SEG, _NO_ENV
                if read is None:
                    continue
                text, tag, els, x_seg = read
                is_env = tag in ENVELOPE_TAGS
                # the reader's envelope trail and numbering checks (x12file)
                if is_env:
                    found = trail.check(tag, els, sub, seg_count + 1)
                    if found:
                        x_env = [*x_env, *found]
                    if tag == "ST":  # a set starts: its segments and HLs are counted afresh
                        hl_stack = []
                        hl_count = 0
                        seg_count = 1
                else:
                    if tag == "HL":
                        hl_count += 1
                        x_seg = [*x_seg, *hl_numbering(els, sub, hl_count, hl_stack)]
                    elif check_lx and tag == "CLM":
                        lx_count = 0
                    elif check_lx and tag == "LX":
                        lx_count += 1
                        lx01 = els[0].rstrip(sub) if els else ""
                        if lx01 != str(lx_count):
                            x_seg = [*x_seg, lx_finding(lx01, lx_count)]
                    seg_count += 1
                # the walk (map_walker)
                orig = node
                placed, node, plan, cacheable, walk = self._place(
                    tag, els, sub, node, program, qual_one, is_env, check_lx
                )
                if walk:
                    cursor = self._walk_findings(
                        walk, cur_st, cursor, seg_count, index, offset, line, tag
                    )
                if placed is None:  # pyx12 leaves the segment unplaced: no checks, findings wait
                    carry_seg, carry_env = x_seg, x_env
                    continue
                # the error handler's bookkeeping (x12n_document)
                env_target: list[Defect] | None = None  # where element findings of envelopes go
                if is_env:
                    self.program = program
                    env_target, moved = self._envelope_segment(
                        tag, els, sub, x_seg, x_env, cursor, seg_count, index, offset, line
                    )
                    node = moved or node
                    cursor = None
                    cur_st, program = self.cur_st, self.program
                    qual_one, check_lx = self.qual_one, self.check_lx
                else:
                    cursor = (cur_st, seg_count, index, offset, line, tag) if cur_st else None
                    if x_seg:
                        self._cursor_findings(x_seg, cursor, index, offset, line, tag)
                # the element checks (map_if.segment_if.is_valid)
                if program is None and tag != "ISA" and tag != "GS":
                    continue
                if node.spec is not None:
                    self._check_elements(
                        node, orig, plan if cacheable and not x_seg else None, text, tag, els, sub,
                        memo_mode, is_env, env_target, cursor, seg_count, index, offset, line,
                    )  # fmt: skip

            if reading:
                more = next(source, None)
                if more is None:
                    reading = False
                else:
                    buffer += more
        self._end_of_input(carry_seg, carry_env, cursor, index, offset + len(text), line)
        return self._result(index + 1, offset + len(text), (term, ele, sub, rep))

    # -- the steps ------------------------------------------------------------------------------
    def _refuse(self, head: str, lead: str) -> ValidationResult | None:
        """Report what stands before the ISA; refuse a file without a 5010 ISA (a result)."""
        if lead:
            self._warn(
                DefectCode.TEXT_BEFORE_ISA,
                f"{len(lead)} characters (a byte order mark or blank lines) stand before the ISA.",
                self._loc(0, 0, 1, "ISA"),
            )
        isa = fixed_isa_header(head)
        if isa is None:
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
        icvn = isa.version
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
                (), tuple(self.defects), len(head), 0, self.file, isa.delimiters
            )
        return None

    def _read_segment(
        self, text: str, ele: str, sub: str, blank: str, x_seg: list[tuple[DefectCode, str]]
    ) -> _ReadSegment | None:
        """The reader's checks of one segment text (None: nothing left after a leading space)."""
        if text[0] == " ":
            x_seg = [*x_seg, (DefectCode.IK304_1, "The segment starts with a space.")]
            text = text.lstrip()
            if not text:
                return None
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
        if tag not in self.good_tags:
            if _SEG_ID.match(tag):
                self.good_tags.add(tag)
                if tag not in ENVELOPE_TAGS and tag not in NUMBERED:
                    self.plain_tags.add(tag)
            else:
                x_seg = [
                    *x_seg,
                    (DefectCode.IK304_1, f"{tag[:3]!r} is not a valid segment identifier."),
                ]
        return text, tag, els, x_seg

    def _place(
        self,
        tag: str,
        els: list[str],
        sub: str,
        node: Node,
        program: Program | None,
        qual_one: dict[str, tuple[int, int | None, frozenset[str]]],
        is_env: bool,
        check_lx: bool,
    ) -> tuple[Node | None, Node, Plan | None, bool, list[WalkFinding] | None]:
        """The walk from ``node`` for a segment: where it was placed (None: nowhere), the new map
        position, the plan taken, whether a clean text may replay it, and the walk's findings."""
        counter = self.counter
        if tag == "ISA":
            node = self.isa_node
            counter.reset(self.isa_loop_slot)
            counter.increment(self.isa_loop_slot)
            counter.increment(node.slot)
            return node, node, None, False, None
        if tag == "GS":
            node = self.gs_node
            counter.reset(self.gs_loop_slot)
            counter.increment(self.gs_loop_slot)
            counter.increment(node.slot)
            return node, node, None, False, None
        if program is None:
            return node, node, None, False, None
        one = qual_one.get(tag)
        key: object
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
            and plan.outcome in (SEG_MATCH, ENTER)
            and tag != "HL"
            and not (check_lx and (tag == "LX" or tag == "CLM"))
        )
        counts = counter.counts
        walk: list[WalkFinding] | None = None
        if plan.simple:  # a segment of the current loop: check the misses, count it
            for slot, missing in plan.checks:
                if counts[slot] < 1:
                    if walk is None:
                        walk = []
                    walk.append(self._missing(missing))
            target = plan.target
            assert target is not None
            count = counter.increment(target.slot)
            if count > target.limit:
                walk = [self._too_many(target, tag, count), *(walk or ())]
            return target, target, plan, cacheable, walk
        if plan.enter:  # a used loop entered: restart its counts
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
            return target, target, plan, cacheable, walk
        placed, walk = self._follow(plan, tag, node, counter)
        return placed, placed or node, plan, cacheable, walk

    def _envelope_segment(
        self,
        tag: str,
        els: list[str],
        sub: str,
        x_seg: list[tuple[DefectCode, str]],
        x_env: list[TrailFinding],
        cursor: Cursor | None,
        seg_count: int,
        index: int,
        offset: int,
        line: int,
    ) -> tuple[list[Defect] | None, Node | None]:
        """Open or close an interchange, group or set and file its findings; returns where the
        segment's element findings go and the new map position (a group's GS), if it moved."""
        moved: Node | None = None
        env_target: list[Defect] | None = None
        if tag == "ISA":
            self.cur_isa = OpenInterchange(els, index)
            self.interchanges.append(self.cur_isa)
            self.map_icvn = els[11] if len(els) > 11 else ""
            self._file_trail(x_env, index, offset, line, tag)
            env_target = self.cur_isa.defects
        elif tag == "IEA":
            self._file_trail(x_env, index, offset, line, tag)
            self._cursor_findings(x_seg, cursor, index, offset, line, tag)
            x_seg = []
            env_target = self.cur_isa.defects if self.cur_isa else None
        elif tag == "GS":
            moved = self._open_group(els, sub, index, offset, line)
            self._file_trail(x_env, index, offset, line, tag)
            assert self.cur_gs is not None
            env_target = self.cur_gs.defects
        elif tag == "GE":
            self._file_trail(x_env, index, offset, line, tag)
            self._cursor_findings(x_seg, cursor, index, offset, line, tag)
            x_seg = []
            env_target = self.cur_gs.defects if self.cur_gs else None
        elif tag == "ST":
            cur_st = self.cur_st = OpenSet([e.rstrip(sub) for e in els], self.cur_gs, index)
            if self.cur_gs is not None:
                self.cur_gs.sets.append(cur_st)
                if not self.cur_gs.supported:
                    where = self._loc(index, offset, line, "ST", 1)
                    cur_st.counted += 1
                    self._add(
                        Defect(
                            DefectCode.IK502_1,
                            f"Transaction set {cur_st.transaction} {cur_st.version} is not "
                            "supported.",
                            where,
                            Severity.ERROR,
                            "",
                        ),
                        cur_st.defects,
                    )
            self._file_trail(x_env, index, offset, line, tag)
            env_target = cur_st.defects
        else:  # SE
            self._file_trail(x_env, index, offset, line, tag)
            self._cursor_findings(x_seg, cursor, index, offset, line, tag)
            x_seg = []
            if self.cur_st is not None:
                self.cur_st.verdict = self.cur_st.counted == 0
                self.cur_st.segments = seg_count + 1
                env_target = self.cur_st.defects
        for code, message in x_seg:  # findings pyx12 files under an envelope node are lost there
            self._warn(code, message, self._loc(index, offset, line, tag))
        return env_target, moved

    def _open_group(
        self, els: list[str], sub: str, index: int, offset: int, line: int
    ) -> Node | None:
        """A GS: the group's guide looked up (None: no guide, its sets are not checked)."""
        group = OpenGroup([e.rstrip(sub) for e in els], index)
        found = self.rt.program_for_group(self.map_icvn, group.version, group.fid)
        moved: Node | None = None
        if found is None:
            group.supported = False
            self.program = None
            where = self._loc(index, offset, line, "GS", element=8)
            self._add(
                Defect(
                    DefectCode.AK905_2,
                    f"No implementation guide is available for GS08 {group.version!r} with GS01 "
                    f"{group.fid!r}; the group's sets are not checked.",
                    where,
                    Severity.ERROR,
                    "Check GS01 and GS08.",
                ),
                group.defects,
            )
        else:
            if found is not self.program:
                self.check_lx = found.id == "837"
            self.program = found
            self.qual_one = found.qual_one
            moved = found.node("ISA_LOOP/GS_LOOP/GS")
        if self.cur_isa is not None:
            self.cur_isa.groups.append(group)
        self.cur_gs = group
        return moved

    def _file_trail(
        self, found: list[TrailFinding], index: int, offset: int, line: int, tag: str
    ) -> None:
        """File the envelope trail's findings under the open interchange, group or set."""
        self._envelope(found, self.cur_isa, self.cur_gs, self.cur_st, index, offset, line, tag)

    def _check_elements(
        self,
        node: Node,
        orig: Node,
        replayable: Plan | None,
        text: str,
        tag: str,
        els: list[str],
        sub: str,
        memo_mode: str,
        is_env: bool,
        env_target: list[Defect] | None,
        cursor: Cursor | None,
        seg_count: int,
        index: int,
        offset: int,
        line: int,
    ) -> None:
        """The element checks of a placed segment (memoised per node and text), filed; a clean
        text with a ``replayable`` plan is remembered at ``orig`` to replay it next time."""
        spec = node.spec
        assert spec is not None
        checker = self.checker
        if replayable is not None and checker.clean(spec, els, sub):
            # clean and placed: remember the text's plan for a replay, nothing else
            seen = orig.trans.get(memo_mode)
            if seen is None:
                seen = orig.trans[memo_mode] = {}
            if len(seen) < CACHE_LIMIT:
                seen[text] = replayable
            return
        memo = node.memo.get(memo_mode)
        if memo is None:
            memo = node.memo[memo_mode] = {}
        findings = memo.get(text)
        if findings is None:
            if not is_env and checker.clean(spec, els, sub):
                findings = ()
            else:
                findings = tuple(checker.segment(spec, tag, els, None if tag == "ISA" else sub))
            if len(memo) >= CACHE_LIMIT:
                memo.clear()
            memo[text] = findings
        if not findings:
            return
        loop_id = node.loop_id
        if is_env:
            position = (
                None if tag != "SE" and tag != "ST" else (1 if tag == "ST" else seg_count + 1)
            )
            for f in findings:
                where = self._loc(
                    index, offset, line, tag, position, f.element, f.component, loop_id
                )
                if f.element is None or env_target is None:
                    self._warn(f.code, f.message, where)
                else:
                    self._add(Defect(f.code, f.message, where, Severity.ERROR, RESEND), env_target)
        elif cursor is not None:
            target_set, position = cursor[0], cursor[1]
            target_set.counted += len(findings)
            kept, everything, file = target_set.defects, self.defects, self.file
            for f in findings:  # inline: error-heavy files make thousands of these
                defect = fast_defect(
                    (
                        f.code,
                        f.message,
                        fast_location(
                            (index, offset, line, tag, position, f.element, f.component,
                             None, loop_id, file)
                        ),
                        Severity.ERROR,
                        RESEND,
                    )
                )  # fmt: skip
                kept.append(defect)
                everything.append(defect)
        else:
            for f in findings:
                self._warn(
                    f.code,
                    f.message,
                    self._loc(index, offset, line, tag, None, f.element, f.component, loop_id),
                )

    def _end_of_input(
        self,
        carry_seg: list[tuple[DefectCode, str]],
        carry_env: list[TrailFinding],
        cursor: Cursor | None,
        index: int,
        offset: int,
        line: int,
    ) -> None:
        """The input ended: findings still waiting, envelopes left open (x12file.cleanup)."""
        if carry_env:
            self._file_trail(carry_env, index, offset, line, "")
        if carry_seg:
            self._cursor_findings(carry_seg, cursor, index, offset, line, "")
        cur_isa, cur_gs, cur_st = self.cur_isa, self.cur_gs, self.cur_st
        for kind, ident in self.trail.open:
            if kind == "ST" and cur_st is not None:
                where = self._loc(index, offset, line, "SE")
                self._add(
                    Defect(
                        DefectCode.IK502_2,
                        f"Transaction set {ident!r} has no SE trailer.",
                        where,
                        Severity.ERROR,
                        RESEND,
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
                        RESEND,
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
