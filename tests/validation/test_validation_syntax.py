"""The five X12 syntax-note rules, and notes as the guides write them."""

from __future__ import annotations

import pytest

from gateway.validation.spec import SyntaxNote
from gateway.validation.syntax import describe, holds


@pytest.mark.parametrize(
    ("kind", "present", "expected"),
    [
        ("P", (False, False), True),
        ("P", (True, True), True),
        ("P", (True, False), False),
        ("P", (False, True), False),
        ("R", (False, False, False), False),
        ("R", (False, True, False), True),
        ("E", (True, True), False),
        ("E", (True, False), True),
        ("E", (False, False), True),
        ("C", (True, False), False),
        ("C", (True, True), True),
        ("C", (False, True), True),
        ("C", (True, True, False), False),
        ("L", (True, False, False), False),
        ("L", (True, False, True), True),
        ("L", (False, False, False), True),
    ],
)
def test_rule(kind: str, present: tuple[bool, ...], expected: bool) -> None:
    """Each rule holds or fails exactly as the X12 standard defines it."""
    note = SyntaxNote(kind, tuple(range(1, len(present) + 1)))
    assert expected == holds(note, lambda position: present[position - 1])


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (SyntaxNote("P", (3, 4)), "P0304: if any of NM103 or NM104 is present, all are required"),
        (SyntaxNote("C", (11, 10)), "C1110: if NM111 is present, NM110 is required"),
        (SyntaxNote("L", (1, 2, 3)), "L010203: if NM101 is present, at least one of NM102 or "
         "NM103 is required"),
        (SyntaxNote("E", (5, 6)), "E0506: at most one of NM105 or NM106 may be present"),
        (SyntaxNote("R", (2, 3, 4)), "R020304: at least one of NM102, NM103 or NM104 is required"),
    ],
)  # fmt: skip
def test_describe(note: SyntaxNote, expected: str) -> None:
    """A note is described in words with the guide's element names."""
    assert expected == describe(note, "NM1")
