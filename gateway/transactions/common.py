"""Helpers the response readers share: the envelope a set arrived in, amounts, dates, locations.

Amounts and dates are parsed through small bounded caches: remittances repeat the same amounts and
dates thousands of times, and a dictionary hit is far cheaper than building a ``Decimal`` or a
``date`` again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from gateway import codes
from gateway.models.remittance import Adjustment
from gateway.models.responses import Envelope, FindingSeverity, ResponseFinding, SourceLocation
from gateway.x12 import Defect, Location, Segment
from gateway.x12.envelope import read_isa

_CACHE_LIMIT = 8192
AMOUNTS: dict[str, Decimal] = {}
"""Amounts already parsed, by their text (readers may look here first: ``AMOUNTS.get(text)``)."""
DATES: dict[str, date] = {}
"""Dates already parsed, by their text."""


def parse_amount(text: str) -> Decimal | None:
    """An X12 numeric value (R or N type, optional sign) as a Decimal; None when it is not one."""
    value = AMOUNTS.get(text)
    if value is not None:
        return value
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or "_" in text or text != text.strip():
        return None
    if len(AMOUNTS) >= _CACHE_LIMIT:
        AMOUNTS.clear()
    AMOUNTS[text] = value
    return value


def parse_date(text: str) -> date | None:
    """A CCYYMMDD (or YYMMDD, read as 20YY) date; None when it is not a valid date."""
    value = DATES.get(text)
    if value is not None:
        return value
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        if len(text) == 8:
            value = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        elif len(text) == 6:
            value = date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
        else:
            return None
    except ValueError:
        return None
    if len(DATES) >= _CACHE_LIMIT:
        DATES.clear()
    DATES[text] = value
    return value


def cas_adjustment(
    group: str, reason: str, amount: Decimal, quantity: Decimal | None = None
) -> Adjustment:
    """A CAS triplet as the remittance model holds it, with the meanings from the code lists."""
    return Adjustment(
        group,
        codes.meaning("cas_group", group),
        reason,
        codes.meaning("carc", reason),
        amount,
        quantity,
    )


def source(location: Location) -> SourceLocation:
    """The model's copy of an engine ``Location``."""
    return SourceLocation(
        segment_index=location.segment_index,
        line=location.line,
        offset=location.offset,
        tag=location.tag,
        element=location.element,
        component=location.component,
    )


def at(seg: Segment, element: int | None = None, component: int | None = None) -> SourceLocation:
    """Where segment ``seg`` (or one of its elements) is."""
    return SourceLocation(
        segment_index=seg.index,
        line=seg.line,
        offset=seg.offset,
        tag=seg.tag,
        element=element,
        component=component,
    )


def from_defect(defect: Defect) -> ResponseFinding:
    """An X12 engine defect (envelope, syntax) as a response finding."""
    return ResponseFinding(
        code=str(defect.code),
        message=defect.message,
        severity=FindingSeverity(str(defect.severity)),
        location=source(defect.location),
        hint=defect.hint,
    )


class EnvelopeTracker:
    """Follows ISA and GS headers so each transaction set knows the envelope it arrived in."""

    __slots__ = ("_group", "_interchange")

    def __init__(self) -> None:
        self._interchange: tuple[str, str, str, str, str, date | None, str, str] = (
            "",
            "",
            "",
            "",
            "",
            None,
            "",
            "",
        )
        self._group: tuple[str, str, str, str, str] = ("", "", "", "", "")

    def update(self, seg: Segment) -> None:
        """Take note of an ISA or GS segment (other segments are ignored)."""
        tag = seg.tag
        if tag == "ISA":
            isa = read_isa(seg.elements)
            self._interchange = (
                isa.control_number.strip(),
                isa.sender_id.strip(),
                isa.sender_qualifier.strip(),
                isa.receiver_id.strip(),
                isa.receiver_qualifier.strip(),
                parse_date(isa.date.strip()),
                isa.time.strip(),
                isa.usage_indicator.strip(),
            )
            self._group = ("", "", "", "", "")
        elif tag == "GS":
            self._group = (seg.get(1), seg.get(2), seg.get(3), seg.get(6), seg.get(8))

    @property
    def interchange_control_number(self) -> str:
        """ISA13 of the current interchange."""
        return self._interchange[0]

    @property
    def functional_id(self) -> str:
        """GS01 of the current group."""
        return self._group[0]

    @property
    def version(self) -> str:
        """GS08 of the current group."""
        return self._group[4]

    def envelope(self, st: Segment | None = None) -> Envelope:
        """The envelope of the transaction set that ``st`` opens (or of the interchange alone)."""
        isa = self._interchange
        gs = self._group
        return Envelope(
            interchange_control_number=isa[0],
            sender_id=isa[1],
            sender_qualifier=isa[2],
            receiver_id=isa[3],
            receiver_qualifier=isa[4],
            interchange_date=isa[5],
            interchange_time=isa[6],
            usage_indicator=isa[7],
            functional_id=gs[0],
            application_sender=gs[1],
            application_receiver=gs[2],
            group_control_number=gs[3],
            version=gs[4],
            transaction_set_id=st.get(1) if st is not None else "",
            transaction_control_number=st.get(2) if st is not None else "",
            implementation_reference=st.get(3) if st is not None else "",
        )


def warning(code: str, message: str, location: SourceLocation, hint: str = "") -> ResponseFinding:
    """A warning finding."""
    return ResponseFinding(code, message, FindingSeverity.WARNING, location, hint=hint)
