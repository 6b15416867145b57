"""The five X12 syntax-note rules, as the standard (and pyx12) define them.

A note names a rule and element positions, e.g. ``P0304`` (paired: if either of 03 and 04 is
present, both are). Each rule is a function of "which of these positions hold a value".

>>> paired((True, False))
False
>>> conditional((False, False))
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gateway.validation.spec import SyntaxNote


def paired(present: Sequence[bool]) -> bool:
    """P: if any of the elements is present, all are."""
    count = sum(present)
    return count in (0, len(present))


def required(present: Sequence[bool]) -> bool:
    """R: at least one of the elements is present."""
    return any(present)


def exclusion(present: Sequence[bool]) -> bool:
    """E: at most one of the elements is present."""
    return sum(present) <= 1


def conditional(present: Sequence[bool]) -> bool:
    """C: if the first element is present, all the others are."""
    return not present[0] or all(present[1:])


def list_conditional(present: Sequence[bool]) -> bool:
    """L: if the first element is present, at least one of the others is."""
    return not present[0] or any(present[1:])


RULES: dict[str, Callable[[Sequence[bool]], bool]] = {
    "P": paired,
    "R": required,
    "E": exclusion,
    "C": conditional,
    "L": list_conditional,
}

_WHAT = {
    "P": "if any of {all} is present, all are required",
    "R": "at least one of {all} is required",
    "E": "at most one of {all} may be present",
    "C": "if {first} is present, {rest} {verb} required",
    "L": "if {first} is present, at least one of {rest} is required",
}


def holds(note: SyntaxNote, present: Callable[[int], bool]) -> bool:
    """Whether a segment satisfies a note; ``present(n)`` says whether element n has a value."""
    return RULES[note.kind]([present(p) for p in note.positions])


def describe(note: SyntaxNote, tag: str) -> str:
    """The note in words, e.g. ``P0304: if any of NM103 or NM104 is present, all are required``."""
    names = [f"{tag}{p:02d}" for p in note.positions]

    def join(items: list[str]) -> str:
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]

    text = _WHAT[note.kind].format(
        all=join(names),
        first=names[0],
        rest=join(names[1:]) if len(names) > 1 else "",
        verb="are" if len(names) > 2 else "is",
    )
    return f"{note.text}: {text}"
