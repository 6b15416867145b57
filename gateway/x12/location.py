"""Where something is in an X12 file: segment position, byte offset, line, element, component."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """A place in an X12 file.

    ``segment_index`` counts segments from 0 across the whole file (every interchange);
    ``segment_position`` counts from 1 inside the transaction set, ST being 1, as a 999 IK302
    does. Element, component and repetition positions are 1-based as the guides write them
    (``CLM05-3`` is element 5, component 3).
    """

    segment_index: int | None = None
    offset: int | None = None
    line: int | None = None
    tag: str | None = None
    segment_position: int | None = None
    element: int | None = None
    component: int | None = None
    repetition: int | None = None
    loop: str | None = None
    file: str | None = None

    def with_element(
        self, element: int, component: int | None = None, repetition: int | None = None
    ) -> Location:
        """The same segment, narrowed to one element (and component or repetition)."""
        return Location(
            self.segment_index,
            self.offset,
            self.line,
            self.tag,
            self.segment_position,
            element,
            component,
            repetition,
            self.loop,
            self.file,
        )

    def in_file(self, file: str) -> Location:
        """The same place, naming the file it is in."""
        return Location(
            self.segment_index,
            self.offset,
            self.line,
            self.tag,
            self.segment_position,
            self.element,
            self.component,
            self.repetition,
            self.loop,
            file,
        )

    @property
    def element_ref(self) -> str | None:
        """The guide's name for the element, e.g. ``CLM05-3``, or None when no element is set."""
        if self.element is None:
            return None
        ref = f"{self.tag or ''}{self.element:02d}"
        if self.component is not None:
            ref += f"-{self.component}"
        return ref

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.segment_index is not None:
            seg = f"segment {self.segment_index + 1}"
            if self.tag:
                seg += f" ({self.tag})"
            parts.append(seg)
        elif self.tag:
            parts.append(self.tag)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.loop:
            parts.append(f"loop {self.loop}")
        ref = self.element_ref
        if ref:
            if self.repetition is not None:
                ref += f" repetition {self.repetition}"
            parts.append(f"element {ref}")
        return ", ".join(parts) if parts else "(no location)"

    def as_dict(self) -> dict[str, object]:
        """The location as a JSON-ready dict, leaving out what is unknown."""
        out: dict[str, object] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out
