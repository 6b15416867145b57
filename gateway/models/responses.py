"""Pieces every response model shares: where a value came from, findings, and the envelope.

Response models are plain standard-library dataclasses with ``slots`` (a 1 GB remittance builds
millions of them, and a dataclass is ten times cheaper to make than a validated pydantic model);
pydantic reads them through ``TypeAdapter`` for JSON output, JSON Schema and validation at the
edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict

DOC_CONFIG = ConfigDict(use_attribute_docstrings=True)


class FindingSeverity(StrEnum):
    """How bad a finding is: ``error``, the response is wrong; ``warning``, it is odd."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(slots=True)
class SourceLocation:
    """Where in the file a value or a problem is (positions as the X12 engine reports them)."""

    __pydantic_config__ = DOC_CONFIG

    segment_index: int | None = None
    """Segment number counted from 0 across the whole file."""
    line: int | None = None
    """Line number (1-based) where the segment starts."""
    offset: int | None = None
    """Byte offset of the segment in the file."""
    tag: str | None = None
    """Segment identifier, e.g. ``CLP``."""
    element: int | None = None
    """Element position (1-based), e.g. 4 for ``CLP04``."""
    component: int | None = None
    """Component position (1-based) inside a composite element."""

    def __str__(self) -> str:
        parts: list[str] = []
        if self.segment_index is not None:
            parts.append(
                f"segment {self.segment_index + 1}" + (f" ({self.tag})" if self.tag else "")
            )
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.element is not None:
            ref = f"{self.tag or ''}{self.element:02d}"
            if self.component is not None:
                ref += f"-{self.component}"
            parts.append(f"element {ref}")
        return ", ".join(parts) if parts else "(no location)"


@dataclass(slots=True)
class ResponseFinding:
    """One problem found while reading a response: a stable code, where it is, and the amounts.

    Balancing findings carry the amount the file states (``actual``), the amount its parts add up to
    (``expected``) and the ``difference``; the file is never "fixed" to make it balance.
    """

    __pydantic_config__ = DOC_CONFIG

    code: str
    """Stable code, e.g. ``835-CLAIM-BALANCE`` or an X12 engine defect code such as ``IK502-4``."""
    message: str
    """What is wrong, in words (never PHI: names where a value is, not the value)."""
    severity: FindingSeverity = FindingSeverity.ERROR
    """``error`` or ``warning``."""
    location: SourceLocation | None = None
    """Where the problem is."""
    claim_id: str | None = None
    """CLP01 / TRN02 of the claim concerned, when there is one."""
    line_number: int | None = None
    """Service line number (1-based within its claim), when a line is concerned."""
    expected: Decimal | None = None
    """For balancing: what the parts add up to."""
    actual: Decimal | None = None
    """For balancing: the amount the file states."""
    difference: Decimal | None = None
    """For balancing: ``actual - expected``."""
    hint: str = ""
    """What to do about it."""

    def __str__(self) -> str:
        where = str(self.location) if self.location is not None else "(no location)"
        return f"{self.severity}: {where}: [{self.code}] {self.message}" + (
            f" -- {self.hint}" if self.hint else ""
        )


@dataclass(slots=True)
class CodedValue:
    """A code together with what it means (``unknown code`` when the code list does not have it)."""

    __pydantic_config__ = DOC_CONFIG

    code: str
    """The code as written in the file."""
    meaning: str
    """Its meaning in words, from the gateway's code lists."""


@dataclass(slots=True)
class Envelope:
    """The interchange, group and transaction set headers a response arrived in."""

    __pydantic_config__ = DOC_CONFIG

    interchange_control_number: str = ""
    """ISA13."""
    sender_id: str = ""
    """ISA06 (trimmed)."""
    sender_qualifier: str = ""
    """ISA05."""
    receiver_id: str = ""
    """ISA08 (trimmed)."""
    receiver_qualifier: str = ""
    """ISA07."""
    interchange_date: date | None = None
    """ISA09."""
    interchange_time: str = ""
    """ISA10 (HHMM)."""
    usage_indicator: str = ""
    """ISA15: ``P`` production, ``T`` test."""
    functional_id: str = ""
    """GS01, e.g. ``HP`` for an 835."""
    application_sender: str = ""
    """GS02."""
    application_receiver: str = ""
    """GS03."""
    group_control_number: str = ""
    """GS06."""
    version: str = ""
    """GS08, e.g. ``005010X221A1``."""
    transaction_set_id: str = ""
    """ST01, e.g. ``835``."""
    transaction_control_number: str = ""
    """ST02."""
    implementation_reference: str = ""
    """ST03 (when present)."""


__all__ = [
    "DOC_CONFIG",
    "CodedValue",
    "Envelope",
    "FindingSeverity",
    "ResponseFinding",
    "SourceLocation",
]
