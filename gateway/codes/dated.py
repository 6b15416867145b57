"""Code sets whose codes are valid between dates: HCPCS Level II, modifiers, places of service, CPT.

A ``DatedCodes`` holds, per code, the spans it is valid in and the dates its data covers. ``judge``
answers one question in O(1) (a dict lookup and a few date comparisons): is this code valid on this
date of service, and if not, what the data says (ended on, starts on, not in the data). A date
outside the coverage is never judged harder than the data allows: a code the data does not know
on such a date is "unverified", not invalid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

__all__ = ["DatedCodes", "Span", "Validity", "Verdict", "quarter_name"]


@dataclass(frozen=True, slots=True)
class Span:
    """One validity span: from ``start`` (None: before the data begins) to ``end`` (None: open)."""

    start: date | None
    end: date | None

    def holds(self, when: date) -> bool:
        """Whether ``when`` falls in this span."""
        return (self.start is None or self.start <= when) and (self.end is None or when <= self.end)


class Validity(StrEnum):
    """What the data says about a code on a date."""

    VALID = "valid"
    ENDED = "ended"  # the data shows it ended before the date (and nothing reopens it)
    NOT_YET = "not-yet-valid"  # the data shows it starts after the date
    GAP = "not-valid-in-gap"  # valid before and after the date, not on it
    UNKNOWN = "unknown"  # not in the data, and the date is inside the coverage
    UNVERIFIED = "unverified"  # not in the data, but the date is outside the coverage


@dataclass(frozen=True, slots=True)
class Verdict:
    """A code judged on a date: the validity, and the spans the data holds for the code."""

    validity: Validity
    spans: tuple[Span, ...] = ()

    @property
    def is_valid(self) -> bool:
        """Whether the code may be billed on the date, as far as the data knows."""
        return self.validity is Validity.VALID


def quarter_name(day: date) -> str:
    """The calendar quarter a date falls in, e.g. ``2026-Q2``."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class DatedCodes:
    """A dated code set: ``spans`` by code, ``descriptions`` by code, and the dates covered.

    ``covers_from`` is the first date the data speaks for (None: no lower bound; a span starting
    on it means "on or before"); ``covers_to`` the last (None: no upper bound).
    """

    name: str
    spans: Mapping[str, tuple[Span, ...]]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    covers_from: date | None = None
    covers_to: date | None = None

    @classmethod
    def from_rows(
        cls,
        name: str,
        rows: Iterable[tuple[str, date | None, date | None, str]],
        *,
        covers_from: date | None = None,
        covers_to: date | None = None,
    ) -> DatedCodes:
        """Build from ``(code, start, end, description)`` rows; a code may have several rows.

        A start on ``covers_from`` is read as "on or before" (the data begins there).
        """
        spans: dict[str, list[Span]] = {}
        descriptions: dict[str, str] = {}
        for code, start, end, description in rows:
            if covers_from is not None and start is not None and start <= covers_from:
                start = None
            spans.setdefault(code, []).append(Span(start, end))
            if description:
                descriptions[code] = description  # rows come oldest first: the latest wording wins
        ordered = {
            code: tuple(sorted(items, key=lambda s: s.start or date.min))
            for code, items in spans.items()
        }
        return cls(name, ordered, descriptions, covers_from, covers_to)

    def __contains__(self, code: object) -> bool:
        return code in self.spans

    def __len__(self) -> int:
        return len(self.spans)

    def covers(self, when: date) -> bool:
        """Whether ``when`` is inside the dates the data speaks for."""
        return (self.covers_from is None or self.covers_from <= when) and (
            self.covers_to is None or when <= self.covers_to
        )

    def valid_on(self, code: str, when: date) -> bool:
        """Whether ``code`` is valid on ``when`` (the fast path of ``judge``, no allocation)."""
        spans = self.spans.get(code)
        if spans is None:
            return False
        for span in spans:
            start = span.start
            end = span.end
            if (start is None or start <= when) and (end is None or when <= end):
                return True
        return False

    def judge(self, code: str, when: date) -> Verdict:
        """What the data says about ``code`` on ``when`` (see ``Validity``)."""
        spans = self.spans.get(code)
        if spans is None:
            return Verdict(Validity.UNKNOWN if self.covers(when) else Validity.UNVERIFIED)
        for span in spans:
            if span.holds(when):
                return Verdict(Validity.VALID, spans)
        first = spans[0].start
        last = spans[-1].end
        if first is not None and when < first:
            return Verdict(Validity.NOT_YET, spans)
        if last is not None and when > last:
            return Verdict(Validity.ENDED, spans)
        return Verdict(Validity.GAP, spans)

    def span_text(self, code: str) -> str:
        """The spans of ``code`` in words, e.g. ``2019-07-01 or earlier to 2024-12-31``."""
        return "; ".join(_span_words(span, self.covers_from) for span in self.spans.get(code, ()))


def _span_words(span: Span, covers_from: date | None) -> str:
    if span.start is None:
        start = f"{covers_from.isoformat()} or earlier" if covers_from else "always"
    else:
        start = span.start.isoformat()
    end = span.end.isoformat() if span.end is not None else "no end date"
    return f"{start} to {end}"
