"""A segment as read from a file: its tag, its elements, and where it was."""

from __future__ import annotations

from collections import _tuplegetter  # type: ignore[attr-defined]  # namedtuple's C accessor
from dataclasses import dataclass
from functools import partial
from itertools import accumulate, repeat
from operator import add
from typing import Any

from gateway.x12.delimiters import Delimiters
from gateway.x12.location import Location

_DEFAULT = Delimiters()


@dataclass(frozen=True, slots=True)
class Wrap:
    """A file cut into fixed-width lines (80-column records) with segments running over them.

    The tokenizer reads such a file with its line breaks removed; this maps positions in that
    text back to the file's own byte offsets and lines. ``origin`` is where the first record
    starts (the same in both), ``width`` the characters per line, ``newline`` the line break.
    """

    width: int
    newline: str
    origin: int = 0
    origin_line: int = 1

    def offset(self, logical: int) -> int:
        """The file's byte offset of a position in the unwrapped text."""
        rel = logical - self.origin
        return logical + (rel // self.width) * len(self.newline) if rel > 0 else logical

    def line(self, logical: int) -> int:
        """The file's 1-based line of a position in the unwrapped text."""
        rel = logical - self.origin
        return self.origin_line + rel // self.width if rel > 0 else self.origin_line


class Span:
    """Where the segments of one stretch of a file are, worked out only when someone asks.

    The tokenizer makes one span per chunk of regular text (first index, offset and line, and the
    text of each piece), so building a segment costs nothing for its location; offsets are summed
    on the first request. Irregular text and hand-made segments carry explicit offsets and lines.
    """

    __slots__ = (
        "_first_line",
        "_first_offset",
        "_joined",
        "_line_step",
        "_lines",
        "_offsets",
        "_pieces",
        "_step",
        "_text",
        "delimiters",
        "index",
        "wrap",
    )

    def __init__(
        self,
        delimiters: Delimiters,
        index: int,
        offsets: list[int] | None = None,
        lines: list[int] | None = None,
        *,
        pieces: list[str] | None = None,
        text: str | None = None,
        joined: str = "",
        step: int = 0,
        first_offset: int = 0,
        first_line: int = 1,
        line_step: int = 0,
        wrap: Wrap | None = None,
    ) -> None:
        self.delimiters = delimiters
        self.wrap = wrap
        self.index = index
        self._offsets = offsets
        self._lines = lines
        self._pieces = pieces
        self._text = text
        self._joined = joined
        self._step = len(joined) if text is not None else step
        self._first_offset = first_offset
        self._first_line = first_line
        self._line_step = line_step

    def offset(self, k: int) -> int:
        """Byte offset of the k-th segment of the span."""
        if self.wrap is not None:
            return self.wrap.offset(self._offset(k))
        return self._offset(k)

    def _offset(self, k: int) -> int:
        offsets = self._offsets
        if offsets is None:
            pieces = self._pieces
            if pieces is None and self._text is not None:
                # cut from text where each segment ends with the same terminator and line break
                # (``joined``): the pieces between them are the segments' bodies
                pieces = self._text.split(self._joined)
            lengths = map(len, pieces or ())
            offsets = list(
                accumulate(map(add, lengths, repeat(self._step)), initial=self._first_offset)
            )
            self._offsets = offsets
            self._pieces = self._text = None
        return offsets[k]

    def line(self, k: int) -> int:
        """1-based line of the k-th segment of the span."""
        if self.wrap is not None:
            return self.wrap.line(self._offset(k))
        lines = self._lines
        if lines is not None:
            return lines[k]
        return self._first_line + k * self._line_step


def new_segment(fields: tuple[str, list[str], Span, int]) -> Segment:
    """Build a segment from (tag, elements, span, position in span) in C (see ``_NEW``)."""
    return _NEW(fields)


class Segment(tuple[Any, ...]):
    """One X12 segment.

    ``elements`` holds the raw element strings after the tag (``elements[0]`` is ``XX01``);
    positions past the end read as empty, which is how X12 treats omitted trailing elements.
    Composites and repetitions are split on request with the interchange's delimiters, so callers
    never split strings. ``index`` counts segments from 0 across the file, ``offset`` is the byte
    offset of the segment's first character and ``line`` its 1-based line.

    A tuple underneath because the tokenizer builds millions of them and tuples are built in C;
    indexing, ``len`` and iteration speak of elements, as X12 does (``seg[1]`` is the first
    element), never of the tuple's fields. Treat ``elements`` as read-only: the C tokenizer keeps
    segments and their element lists out of the cycle collector (they hold only strings), so an
    element list made to hold itself would never be freed.

    >>> seg = Segment("CLM", ["A1", "100", "", "", "11:B:1"])
    >>> seg[5], seg.component(5, 3), seg[9], len(seg)
    ('11:B:1', '1', '', 5)
    """

    __slots__ = ()

    tag: str = _tuplegetter(0, "The segment identifier, e.g. ``CLM``.")
    elements: list[str] = _tuplegetter(1, "The raw elements after the tag.")
    _span: Span = _tuplegetter(2, "Where the segment's stretch of the file is.")
    _k: int = _tuplegetter(3, "The segment's position in its span.")

    def __new__(
        cls,
        tag: str,
        elements: list[str],
        index: int = 0,
        offset: int = 0,
        line: int = 1,
        delimiters: Delimiters | None = None,
    ) -> Segment:
        span = Span(delimiters if delimiters is not None else _DEFAULT, index, [offset], [line])
        return tuple.__new__(cls, (tag, elements, span, 0))

    @property
    def index(self) -> int:  # type: ignore[override]  # a position, not tuple.index()
        """Position in the file, counting segments from 0 across every interchange."""
        return self._span.index + self._k

    @property
    def offset(self) -> int:
        """Byte offset of the segment's first character."""
        return self._span.offset(self._k)

    @property
    def line(self) -> int:
        """1-based line of the segment's first character."""
        return self._span.line(self._k)

    @property
    def delimiters(self) -> Delimiters:
        """The delimiters of the interchange the segment was read from."""
        return self._span.delimiters

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            Segment,
            (self.tag, self.elements, self.index, self.offset, self.line, self.delimiters),
        )

    def __iter__(self) -> Any:
        return iter(self.elements)

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

    def __getitem__(self, position: int) -> str:  # type: ignore[override]
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
        """Segments are equal when their tags and elements are, wherever they were read."""
        if not isinstance(other, Segment):
            return NotImplemented
        return self.tag == other.tag and self.elements == other.elements

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]  # elements are a list

    def __repr__(self) -> str:
        return f"Segment({self.tag!r}, {self.elements!r}, index={self.index})"


_NEW = partial(tuple.__new__, Segment)
