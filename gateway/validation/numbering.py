"""The numbering pyx12's reader checks inside a set: HL01/HL02 (the HL tree) and LX01 (service
lines of a claim)."""

from __future__ import annotations

from gateway.x12 import DefectCode


def as_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


NUMBERED = frozenset({"HL", "LX", "CLM"})  # segments pyx12's reader numbers (x12file)


def hl_numbering(
    els: list[str], sub: str, count: int, stack: list[int]
) -> list[tuple[DefectCode, str]]:
    """pyx12's HL checks: HL01 counts the HLs of the set, HL02 names an open earlier HL01."""
    found: list[tuple[DefectCode, str]] = []
    hl01 = els[0].rstrip(sub) if els else ""
    if as_int(hl01) != count:
        found.append(
            (DefectCode.IK304_8, f"HL01 is {hl01!r}; this is HL number {count} in the set.")
        )
    hl02 = els[1].rstrip(sub) if len(els) > 1 else ""
    if hl02 != "":
        parent = as_int(hl02)
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


def lx_finding(lx01: str, count: int) -> tuple[DefectCode, str]:
    return (DefectCode.IK304_8, f"LX01 is {lx01!r}; this is service line {count} of the claim.")
