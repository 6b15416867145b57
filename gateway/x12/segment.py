"""A segment as read from a file: its tag, its elements, and where it was."""

from __future__ import annotations

from gateway.x12.delimiters import Delimiters
from gateway.x12.location import Location


class Segment:
    """One X12 segment.

    ``elements`` holds the raw element strings after the tag (``elements[0]`` is ``XX01``);
    positions past the end read as empty, which is how X12 treats omitted trailing elements.
    Composites and repetitions are split on request with the interchange's delimiters, so callers
    never split strings. ``index`` counts segments from 0 across the file, ``offset`` is the byte
    offset of the segment's first character and ``line`` its 1-based line.

    >>> seg = Segment("CLM", ["A1", "100", "", "", "11:B:1"])
    >>> seg[5], seg.component(5, 3), seg[9]
    ('11:B:1', '1', '')
    """

    __slots__ = ("delimiters", "elements", "index", "line", "offset", "tag")

    def __init__(
        self,
        tag: str,
        elements: list[str],
        index: int = 0,
        offset: int = 0,
        line: int = 1,
        delimiters: Delimiters | None = None,
    ) -> None:
        self.tag = tag
        self.elements = elements
        self.index = index
        self.offset = offset
        self.line = line
        self.delimiters = delimiters if delimiters is not None else _DEFAULT

    @property
    def location(self) -> Location:
        """Where the segment is: index from 0 across the file, byte offset, 1-based line."""
        return Location(segment_index=self.index, offset=self.offset, line=self.line, tag=self.tag)

    def at(self, element: int, component: int | None = None) -> Location:
        """The location of one element (1-based) or component of it."""
        return Location(
            segment_index=self.index,
            offset=self.offset,
            line=self.line,
            tag=self.tag,
            element=element,
            component=component,
        )

    def __getitem__(self, position: int) -> str:
        """Element at 1-based ``position`` as raw text; '' when absent."""
        if position < 1:
            raise IndexError("X12 element positions start at 1")
        elements = self.elements
        return elements[position - 1] if position <= len(elements) else ""

    def __len__(self) -> int:
        return len(self.elements)

    def get(self, position: int, default: str = "") -> str:
        """Element at 1-based ``position``, or ``default`` when absent or empty."""
        elements = self.elements
        if 0 < position <= len(elements):
            value = elements[position - 1]
            if value:
                return value
        return default

    def components(self, position: int) -> list[str]:
        """The components of a composite element; [] when the element is absent."""
        value = self[position]
        if not value:
            return []
        return value.split(self.delimiters.component)

    def component(self, position: int, component: int) -> str:
        """One component (1-based) of a composite element; '' when absent."""
        parts = self.components(position)
        return parts[component - 1] if component <= len(parts) else ""

    def repetitions(self, position: int) -> list[str]:
        """The repetitions of a repeating element; [] when absent."""
        value = self[position]
        if not value:
            return []
        rep = self.delimiters.repetition
        return value.split(rep) if rep else [value]

    def element_tree(self) -> list[str | list[str] | list[list[str]]]:
        """Elements with composites as lists and repetitions as lists of those (for JSON output).

        ISA is fixed-format: its elements stay plain strings (ISA11 and ISA16 hold delimiters).
        """
        if self.tag == "ISA":
            return list(self.elements)
        comp = self.delimiters.component
        rep = self.delimiters.repetition
        out: list[str | list[str] | list[list[str]]] = []
        for value in self.elements:
            if rep and rep in value:
                out.append([r.split(comp) for r in value.split(rep)])
            elif comp in value:
                out.append(value.split(comp))
            else:
                out.append(value)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return self.tag == other.tag and self.elements == other.elements

    __hash__ = None  # type: ignore[assignment]  # mutable container semantics

    def __repr__(self) -> str:
        return f"Segment({self.tag!r}, {self.elements!r}, index={self.index})"


_DEFAULT = Delimiters()
