"""Writing segments with chosen delimiters, refusing data that would break the file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.x12.defects import Defect, DefectCode, X12Error
from gateway.x12.delimiters import DEFAULT, Delimiters
from gateway.x12.location import Location
from gateway.x12.segment import Segment

Element = str | Sequence[str] | Sequence[Sequence[str]]
"""A simple element (str), a composite (sequence of components) or repetitions of composites."""


class Writer:
    """Serializes segments; computes nothing, trusts nothing.

    Trailing empty elements and components are left out, as X12 requires. A value holding a
    delimiter
    raises ``X12Error`` naming the segment, element and component, never the value (it may be PHI).

    >>> w = Writer()
    >>> w.segment("NM1", "85", "2", "VALLEY FAMILY PRACTICE", "", "", "", "", "XX", "1234567893")
    'NM1*85*2*VALLEY FAMILY PRACTICE*****XX*1234567893~'
    >>> w.segment("SV1", ["HC", "99213", "25", ""], "125", "UN", "1", "", "", ["1", "2"])
    'SV1*HC:99213:25*125*UN*1***1:2~'
    """

    __slots__ = ("_bad", "_comp", "_end", "_rep", "_sep", "delimiters", "segments_written")

    def __init__(self, delimiters: Delimiters = DEFAULT, *, newline: bool = False) -> None:
        problems = delimiters.conflicts()
        if problems:
            raise X12Error(
                Defect(DefectCode.TA1_026, "Unusable delimiters: " + "; ".join(problems) + ".")
            )
        self.delimiters = delimiters
        self._sep = delimiters.element
        self._comp = delimiters.component
        self._rep = delimiters.repetition or ""
        self._end = delimiters.segment + ("\n" if newline and delimiters.segment != "\n" else "")
        self._bad = delimiters.characters()
        self.segments_written = 0

    def segment(self, tag: str, *elements: Element) -> str:
        """One segment as text, terminator included."""
        index = self.segments_written
        fields: list[str] = []
        bad = self._bad
        for position, value in enumerate(elements, 1):
            if isinstance(value, str):
                if not bad.isdisjoint(value):
                    self._refuse(tag, index, position, None)
                fields.append(value)
            else:
                fields.append(self._composite(tag, index, position, value))
        while fields and not fields[-1]:
            fields.pop()
        self.segments_written = index + 1
        if not fields:
            return tag + self._end
        return tag + self._sep + self._sep.join(fields) + self._end

    def isa(self, *elements: str) -> str:
        """The fixed-width ISA header; ISA11 and ISA16 hold the repetition and component separators.

        ``elements`` are ISA01..ISA16 with ISA11 and ISA16 left out; fields are padded to their
        widths.
        """
        if len(elements) != 14:
            raise ValueError("isa() takes ISA01-ISA10 and ISA12-ISA15 (14 values)")
        widths = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 5, 9, 1, 1)
        padded = [v.ljust(w)[:w] if w > 1 else v for v, w in zip(elements, widths, strict=True)]
        for position, value in enumerate(padded, 1):
            if not self._bad.isdisjoint(value):
                self._refuse("ISA", self.segments_written, position, None)
        rep = self._rep or "U"
        fields = [*padded[:10], rep, *padded[10:], self._comp]
        self.segments_written += 1
        return "ISA" + self._sep + self._sep.join(fields) + self._end

    def _composite(
        self, tag: str, index: int, position: int, value: Sequence[str] | Sequence[Sequence[str]]
    ) -> str:
        if value and not isinstance(value[0], str):
            if not self._rep:
                raise X12Error(
                    Defect(
                        DefectCode.IK403_12,
                        "This interchange has no repetition separator (ISA11).",
                        Location(segment_index=index, tag=tag, element=position),
                    )
                )
            reps = [self._components(tag, index, position, list(r)) for r in value]
            return self._rep.join(reps)
        return self._components(tag, index, position, [str(v) for v in value])

    def _components(self, tag: str, index: int, position: int, parts: list[str]) -> str:
        bad = self._bad
        for number, part in enumerate(parts, 1):
            if not bad.isdisjoint(part):
                self._refuse(tag, index, position, number)
        while parts and not parts[-1]:
            parts.pop()
        return self._comp.join(parts)

    def _refuse(self, tag: str, index: int, position: int, component: int | None) -> None:
        where = Location(segment_index=index, tag=tag, element=position, component=component)
        raise X12Error(
            Defect(
                DefectCode.DELIMITER_IN_DATA,
                f"The value for {where.element_ref} contains a delimiter character "
                f"({' '.join(repr(c) for c in sorted(self._bad))}) and cannot be written.",
                where,
                hint="Remove that character from the value at its source and try again.",
            )
        )


def serialize(
    segments: Iterable[Segment | tuple[str, Sequence[Element]]],
    delimiters: Delimiters = DEFAULT,
    *,
    newline: bool = False,
) -> bytes:
    """Write segments (``Segment`` objects, or ``(tag, elements)`` pairs) as X12 bytes.

    A ``Segment``'s elements are raw text in the delimiters it was read with; they are re-split into
    components and repetitions so that they come out right in ``delimiters``.
    """
    writer = Writer(delimiters, newline=newline)
    out: list[str] = []
    for item in segments:
        if isinstance(item, Segment):
            if item.tag == "ISA":
                e = item.elements
                out.append(writer.isa(*e[0:10], *e[11:15]))
                continue
            out.append(writer.segment(item.tag, *item.element_tree()))
        else:
            tag, elements = item
            out.append(writer.segment(tag, *elements))
    return "".join(out).encode("utf-8")
