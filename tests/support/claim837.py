"""Checks of a built 837 that a receiver makes: HL numbering and parents, LX, SE/GE/IEA counts."""

from __future__ import annotations

from collections import Counter

from gateway.x12 import Segment, read_segments


def segments(data: bytes) -> list[Segment]:
    """The file's segments, read without a defect."""
    reader = read_segments(data)
    out = list(reader)
    assert reader.defects == []
    return out


def hl_checks(data: bytes) -> None:
    """Assert every count a receiver checks: HL numbering, parents, child codes, LX, SE/GE/IEA."""
    segs = segments(data)
    hl_levels: dict[str, str] = {}
    children: Counter[str] = Counter()
    expected_hl = 0
    lx = 0
    st_index = 0
    sets = 0
    for seg in segs:
        if seg.tag == "ST":
            st_index, expected_hl, sets = seg.index, 0, sets + 1
            hl_levels = {}
            children = Counter()
        elif seg.tag == "HL":
            expected_hl += 1
            assert seg[1] == str(expected_hl)
            level, parent = seg[3], seg[2]
            wanted_parent = {"20": None, "22": "20", "23": "22"}[level]
            if wanted_parent is None:
                assert parent == ""
            else:
                assert hl_levels[parent] == wanted_parent
                children[parent] += 1
            hl_levels[seg[1]] = level
        elif seg.tag == "CLM":
            lx = 0
        elif seg.tag == "LX":
            lx += 1
            assert seg[1] == str(lx)
        elif seg.tag == "SE":
            assert int(seg[1]) == seg.index - st_index + 1
            hl_child_codes = {s[1]: s[4] for s in segs[st_index : seg.index] if s.tag == "HL"}
            for hl_id, code in hl_child_codes.items():
                assert code == ("1" if children[hl_id] else "0")
        elif seg.tag == "GE":
            assert int(seg[1]) == sets
        elif seg.tag == "IEA":
            assert seg[1] == "1"
