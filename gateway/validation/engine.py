"""The engine: one validation run, pyx12's ``x12n_document`` loop over the compiled maps."""

from __future__ import annotations

import re
from collections.abc import Iterable

from gateway.validation.mapwalk import ENTER, NOT_FOUND, SEG_MATCH, Node, NodeCounter, Plan, Program
from gateway.validation.numbering import NUMBERED, as_int, hl_numbering, lx_finding
from gateway.validation.results import (
    Cursor,
    GroupResult,
    InterchangeResult,
    OpenGroup,
    OpenInterchange,
    OpenSet,
    Options,
    SetResult,
    ValidationResult,
    fast_defect,
    fast_location,
)
from gateway.validation.runtime import Runtime
from gateway.x12 import Defect, DefectCode, Location, Severity

_CACHE_LIMIT = 20_000  # memo entries kept per map node before a cache is cleared (bounds memory)
_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_SEG_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_BREAKS = ("\n", "\r")
_BLANK = " \t\r\n\x0b\x0c"
_BOM = "\xef\xbb\xbf"  # UTF-8's byte order mark, read as Latin-1

_RESEND = "Correct the file at its source and send it again."
_NO_SEG: list[tuple[DefectCode, str]] = []  # shared empty lists: never mutated, only rebound
_NO_ENV: list[tuple[str, DefectCode, str]] = []


class Engine:
    """One validation run: pyx12's ``x12n_document`` loop over our compiled maps."""

    def __init__(self, runtime: Runtime, options: Options, file: str | None) -> None:
        self.rt = runtime
        self.file = file
        self.counter = NodeCounter(runtime.parents)
        self.external = options.external_codes
        self.checker = runtime.checker(options.external_codes)
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
        hint: str = _RESEND,
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
        cur_isa: OpenInterchange | None = None
        cur_gs: OpenGroup | None = None
        cur_st: OpenSet | None = None
        cursor: Cursor | None = None
        # pyx12's walker state
        program: Program | None = control
        node: Node = isa_node
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
                            if as_int(iea[0]) != gs_count:
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
                            if as_int(ge[0]) != st_count:
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
                            if as_int(se[0]) != seg_count + 1:
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
                        x_seg = [*x_seg, *hl_numbering(els, sub, hl_count, hl_stack)]
                    elif check_lx and tag == "CLM":
                        lx_count = 0
                    elif check_lx and tag == "LX":
                        lx_count += 1
                        lx01 = els[0].rstrip(sub) if els else ""
                        if lx01 != str(lx_count):
                            x_seg = [*x_seg, lx_finding(lx01, lx_count)]
                    seg_count += 1

                # -- the walk (map_walker) -------------------------------------------------------
                orig = node
                placed: Node | None = node
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
                        and plan.outcome in (SEG_MATCH, ENTER)
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
                env_counted: OpenSet | None = None
                if is_env:
                    if tag == "ISA":
                        cur_isa = OpenInterchange(els, index)
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
                        group = OpenGroup([e.rstrip(sub) for e in els], index)
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
                        cur_st = OpenSet([e.rstrip(sub) for e in els], cur_gs, index)
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
                        defect = fast_defect(
                            (
                                f.code,
                                f.message,
                                fast_location(
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
            defect = fast_defect((f.code, f.message, fast_location(where), Severity.ERROR, _RESEND))
            kept.append(defect)
            everything.append(defect)
        return True

    def _follow(
        self, plan: Plan, tag: str, orig: Node, counter: NodeCounter
    ) -> tuple[Node | None, list[tuple[DefectCode, str, bool, str, str]] | None]:
        """Carry out a plan other than a plain match: a loop entered, a Not Used segment, or no
        place at all. Returns the new map position (None: the segment stays unplaced) and the
        walk's findings."""
        counts = counter.counts
        walk: list[tuple[DefectCode, str, bool, str, str]]
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
        walk: list[tuple[DefectCode, str, bool, str, str]],
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
    def _loop_too_many(loop: Node, tag: str, count: int) -> tuple[DefectCode, str, bool, str, str]:
        return (
            DefectCode.IK304_4,
            f"Loop {loop.tag} ({loop.name}) occurs {count} times; at most {loop.limit} allowed.",
            True,
            tag,
            loop.tag,
        )

    @staticmethod
    def _too_many(target: Node, tag: str, count: int) -> tuple[DefectCode, str, bool, str, str]:
        return (
            DefectCode.IK304_5,
            f"{target.name} ({tag}) is used {count} times; at most {target.limit} allowed.",
            True,
            tag,
            target.loop_id,
        )

    def _missing(self, m: Node) -> tuple[DefectCode, str, bool, str, str]:
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
