"""Acknowledgements as plain data: TA1 (interchange), 999/997 (implementation) and 277CA (claims).

- ``InterchangeAcknowledgement``: one TA1, answering one interchange we sent (by ISA13).
- ``ImplementationAcknowledgement``: one 999 (or 4010 997) transaction set: per functional group
  (AK1) and per transaction set (AK2) the verdict (IK5/AK5) with every segment error (IK3) and
  element error (IK4), and the group verdict (AK9).
- ``ClaimAcknowledgement``: one 277CA transaction set: the HL tree (information source, receiver,
  billing provider) and every claim's status (STC) classified accepted / rejected / pending.

Every code is kept with its meaning in words (``unknown code`` when the code list lacks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from gateway.models.responses import DOC_CONFIG, CodedValue, Envelope, ResponseFinding

# -- TA1 -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class InterchangeAcknowledgement:
    """One TA1 segment: the receiver's verdict on the envelope of one interchange."""

    __pydantic_config__ = DOC_CONFIG

    control_number: str
    """TA101: the ISA13 of the interchange being acknowledged (ours)."""
    interchange_date: date | None
    """TA102: the ISA09 date of that interchange."""
    interchange_time: str
    """TA103: the ISA10 time (HHMM) of that interchange."""
    status: str
    """TA104 acknowledgement code: ``A`` accepted, ``E`` accepted with errors, ``R`` rejected."""
    status_meaning: str
    """What TA104 means."""
    note_code: str
    """TA105 interchange note code (``000`` no error)."""
    note_meaning: str
    """What TA105 means."""
    envelope: Envelope
    """The interchange the TA1 itself arrived in."""
    segment_index: int | None = None
    """Position of the TA1 segment in the file (segments counted from 0)."""


@dataclass(slots=True)
class InterchangeAcknowledgementSummary:
    """Counts over the TA1s of a file."""

    __pydantic_config__ = DOC_CONFIG

    acknowledgements: int = 0
    """Number of TA1 segments."""
    accepted: int = 0
    """TA104 ``A``."""
    accepted_with_errors: int = 0
    """TA104 ``E``."""
    rejected: int = 0
    """TA104 ``R``."""


@dataclass(slots=True)
class InterchangeAcknowledgementDocument:
    """What ``gateway parse`` prints for a file of TA1s."""

    __pydantic_config__ = DOC_CONFIG

    transaction: Literal["TA1"] = "TA1"
    """Always ``TA1``."""
    acknowledgements: list[InterchangeAcknowledgement] = field(default_factory=list)
    """Every TA1 of the file, in order."""
    summary: InterchangeAcknowledgementSummary = field(
        default_factory=InterchangeAcknowledgementSummary
    )
    """Counts."""
    findings: list[ResponseFinding] = field(default_factory=list)
    """Problems found reading the file."""


# -- 999 / 997 -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ErrorContext:
    """A CTX segment: the business unit or segment context of an error (999 only)."""

    __pydantic_config__ = DOC_CONFIG

    context_name: str
    """CTX01-1 context name (``SITUATIONAL TRIGGER``, ``CLM01`` ...)."""
    context_reference: str = ""
    """CTX01-2 context reference (e.g. the CLM01 value of the claim in error)."""
    segment_id: str = ""
    """CTX02 segment id of the trigger."""
    segment_position: int | None = None
    """CTX03 segment position in the transaction set."""
    loop_id: str = ""
    """CTX04 loop identifier."""
    element_position: int | None = None
    """CTX05-1 element position in the segment (C030, split on the interchange's ISA16)."""
    component_position: int | None = None
    """CTX05-2 component position in the composite."""
    repetition: int | None = None
    """CTX05-3 repeating data element position."""
    data_element_reference: str = ""
    """CTX06-1 data element reference number (C999) of the element in context."""
    component_data_element_reference: str = ""
    """CTX06-2 data element reference number of the component in context."""


@dataclass(slots=True)
class ElementError:
    """An IK4 (999) or AK4 (997): an error in one data element."""

    __pydantic_config__ = DOC_CONFIG

    element_position: int | None
    """IK401-1 element position in the segment."""
    component_position: int | None
    """IK401-2 component position in the composite."""
    repetition: int | None
    """IK401-3 repeating data element position."""
    data_element_reference: str
    """IK402 data element reference number."""
    error_code: str
    """IK403 implementation data element syntax error code."""
    error_meaning: str
    """What IK403 means."""
    bad_value: str = ""
    """IK404 copy of the bad data element (as the receiver sent it)."""
    contexts: list[ErrorContext] = field(default_factory=list)
    """CTX segments following the IK4."""


@dataclass(slots=True)
class SegmentError:
    """An IK3 (999) or AK3 (997): an error in one segment, with its element errors."""

    __pydantic_config__ = DOC_CONFIG

    segment_id: str
    """IK301 segment id code."""
    segment_position: int | None
    """IK302 position of the segment in the transaction set (ST is 1)."""
    loop_id: str
    """IK303 loop identifier code."""
    error_code: str
    """IK304 implementation segment syntax error code ('' when only element errors follow)."""
    error_meaning: str
    """What IK304 means."""
    contexts: list[ErrorContext] = field(default_factory=list)
    """CTX segments following the IK3 (business unit, segment context)."""
    element_errors: list[ElementError] = field(default_factory=list)
    """IK4 element errors in this segment."""


@dataclass(slots=True)
class TransactionSetResponse:
    """AK2 ... IK5: the verdict on one transaction set we sent."""

    __pydantic_config__ = DOC_CONFIG

    transaction_set_id: str
    """AK201 transaction set identifier (e.g. ``837``)."""
    control_number: str
    """AK202: the ST02 of our transaction set."""
    implementation_reference: str
    """AK203: the ST03 of our transaction set (e.g. ``005010X222A1``)."""
    status: str
    """IK501 acknowledgement code: ``A``, ``E``, ``R`` (``M``, ``W``, ``X``)."""
    status_meaning: str
    """What IK501 means."""
    error_codes: list[CodedValue] = field(default_factory=list)
    """IK502-IK506 transaction set syntax error codes with their meanings."""
    segment_errors: list[SegmentError] = field(default_factory=list)
    """IK3 segment errors (with their IK4 element errors)."""

    @property
    def accepted(self) -> bool:
        """Whether the set was accepted (``A``, or ``E`` accepted with errors noted)."""
        return self.status in ("A", "E")


@dataclass(slots=True)
class FunctionalGroupResponse:
    """AK1 ... AK9: the verdict on one functional group we sent."""

    __pydantic_config__ = DOC_CONFIG

    functional_id: str
    """AK101: the GS01 of our group (``HC`` for claims)."""
    group_control_number: str
    """AK102: the GS06 of our group."""
    version: str
    """AK103: the GS08 of our group."""
    transaction_sets: list[TransactionSetResponse] = field(default_factory=list)
    """One per AK2."""
    status: str = ""
    """AK901 group acknowledgement code: ``A``, ``E``, ``P`` (look at each set), ``R``."""
    status_meaning: str = ""
    """What AK901 means."""
    sets_included: int | None = None
    """AK902 number of transaction sets included (as we sent them)."""
    sets_received: int | None = None
    """AK903 number of transaction sets received."""
    sets_accepted: int | None = None
    """AK904 number of transaction sets accepted."""
    error_codes: list[CodedValue] = field(default_factory=list)
    """AK905-AK909 functional group syntax error codes with their meanings."""


@dataclass(slots=True)
class ImplementationAcknowledgement:
    """One 999 (or 997) transaction set."""

    __pydantic_config__ = DOC_CONFIG

    envelope: Envelope
    """ISA/GS/ST the acknowledgement arrived in."""
    groups: list[FunctionalGroupResponse] = field(default_factory=list)
    """One per AK1 (a 999 answers one functional group)."""


@dataclass(slots=True)
class ImplementationAcknowledgementSummary:
    """Counts over the 999s of a file."""

    __pydantic_config__ = DOC_CONFIG

    sets: int = 0
    """Transaction sets answered (AK2 loops)."""
    accepted: int = 0
    """Of those, accepted (IK501 ``A`` or ``E``)."""
    rejected: int = 0
    """Of those, rejected (any other IK501)."""
    group_status: str = ""
    """AK901 of the group; with several groups, the worst of them (R, P, E, A)."""


@dataclass(slots=True)
class ImplementationAcknowledgementDocument:
    """What ``gateway parse`` prints for a 999 (or 997) file."""

    __pydantic_config__ = DOC_CONFIG

    transaction: Literal["999", "997"] = "999"
    """``999`` (or ``997`` for a 4010-style functional acknowledgement)."""
    acknowledgements: list[ImplementationAcknowledgement] = field(default_factory=list)
    """One per ST/SE, across every interchange and group of the file."""
    summary: ImplementationAcknowledgementSummary = field(
        default_factory=ImplementationAcknowledgementSummary
    )
    """Counts."""
    findings: list[ResponseFinding] = field(default_factory=list)
    """Problems found reading the file."""


# -- 277CA -----------------------------------------------------------------------------------------


class StatusClass(StrEnum):
    """How a claim status reads for the claim's lifecycle."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PENDING = "pending"
    FINALIZED = "finalized"
    REQUEST = "request"
    ERROR = "error"
    UNKNOWN = "unknown"


@dataclass(slots=True)
class StatusCode:
    """One health care claim status composite (STC01, STC10 or STC11)."""

    __pydantic_config__ = DOC_CONFIG

    category: str
    """-1 claim status category code (A1, A2, A3, A7, P1, F1 ...)."""
    category_meaning: str
    """What the category means."""
    status: str
    """-2 claim status code (e.g. ``21`` missing or invalid information)."""
    status_meaning: str
    """What the status code means."""
    entity: str = ""
    """-3 entity identifier code the status concerns (e.g. ``85`` billing provider)."""
    entity_meaning: str = ""
    """What the entity code means ('' when there is no entity)."""
    code_list_qualifier: str = ""
    """-4 code list qualifier (NCPDP reject codes), when present."""
    classification: StatusClass = StatusClass.UNKNOWN
    """accepted / rejected / pending / ... from the category code."""


@dataclass(slots=True)
class StatusInformation:
    """One STC segment."""

    __pydantic_config__ = DOC_CONFIG

    codes: list[StatusCode]
    """STC01 and, when present, STC10 and STC11."""
    effective_date: date | None
    """STC02 status information effective date."""
    action_code: str
    """STC03 action code (``WQ`` accept, ``U`` reject)."""
    action_meaning: str
    """What STC03 means ('' when absent)."""
    amount: Decimal | None
    """STC04 total claim charge amount (claim level) or line charge."""
    message: str = ""
    """STC12 free-form message text."""
    classification: StatusClass = StatusClass.UNKNOWN
    """The most telling classification of its codes (rejected over pending over accepted)."""


@dataclass(slots=True)
class QualifiedQuantity:
    """A QTY or AMT of an HL level (277CA receiver and provider totals)."""

    __pydantic_config__ = DOC_CONFIG

    qualifier: str
    """QTY01 / AMT01: ``90`` accepted, ``AA`` rejected quantity, ``YU`` / ``YY`` amounts."""
    meaning: str
    """What the qualifier means."""
    value: Decimal
    """QTY02 / AMT02."""


@dataclass(slots=True)
class StatusEntity:
    """An HL level above the claims: information source (20), receiver (21) or provider (19)."""

    __pydantic_config__ = DOC_CONFIG

    hl_id: str
    """HL01."""
    parent_id: str
    """HL02."""
    level_code: str
    """HL03: ``20`` information source, ``21`` information receiver, ``19`` provider."""
    entity: str = ""
    """NM101 entity identifier (``PR`` payer, ``41`` submitter, ``85`` billing provider)."""
    name: str = ""
    """NM103 (organisation or last name)."""
    first_name: str = ""
    """NM104."""
    id_qualifier: str = ""
    """NM108 (``46`` ETIN, ``XX`` NPI, ``FI`` tax id, ``PI`` payer id)."""
    identifier: str = ""
    """NM109."""
    trace_numbers: list[str] = field(default_factory=list)
    """TRN02 values (receiver level: our batch / file id)."""
    statuses: list[StatusInformation] = field(default_factory=list)
    """STC segments at this level (e.g. the receiver's acceptance of the whole file)."""
    quantities: list[QualifiedQuantity] = field(default_factory=list)
    """QTY and AMT segments: accepted and rejected counts and amounts."""
    dates: list[CodedValue] = field(default_factory=list)
    """DTP segments (``050`` received, ``009`` processed) as qualifier and date text."""


@dataclass(slots=True)
class LineStatus:
    """A service line status (loop 2220D/2220E: SVC, STC, REF*FJ, DTP*472)."""

    __pydantic_config__ = DOC_CONFIG

    procedure_qualifier: str
    """SVC01-1 (``HC``, ``NU`` ...)."""
    procedure_code: str
    """SVC01-2."""
    modifiers: list[str]
    """SVC01-3..6."""
    charge: Decimal | None
    """SVC02 line item charge amount."""
    paid: Decimal | None = None
    """SVC03 line item paid amount (claim status responses)."""
    revenue_code: str = ""
    """SVC04."""
    units: Decimal | None = None
    """SVC07 units of service."""
    line_control_number: str = ""
    """REF*FJ: our line item control number (REF*6R of the 837)."""
    service_date: date | None = None
    """DTP*472 start (or only) date."""
    service_date_end: date | None = None
    """DTP*472 end date (RD8)."""
    statuses: list[StatusInformation] = field(default_factory=list)
    """STC segments of the line."""
    classification: StatusClass = StatusClass.UNKNOWN
    """The line's verdict from its STCs."""


@dataclass(slots=True)
class ClaimStatus:
    """One claim in a 277CA (loop 2200D/2200E: TRN, STC, REF, DTP and its lines)."""

    __pydantic_config__ = DOC_CONFIG

    claim_id: str
    """TRN02: our claim id (CLM01 of the 837)."""
    payer_claim_control_number: str = ""
    """REF*1K: the payer's claim control number (keep it for replacements)."""
    clearinghouse_claim_id: str = ""
    """REF*D9: the clearinghouse's claim id."""
    bill_type: str = ""
    """REF*BLT institutional type of bill."""
    medical_record_number: str = ""
    """REF*EA."""
    total_charge: Decimal | None = None
    """STC04 of the first STC: the total claim charge as received."""
    service_date: date | None = None
    """DTP*472 start (or only) date."""
    service_date_end: date | None = None
    """DTP*472 end date (RD8)."""
    statuses: list[StatusInformation] = field(default_factory=list)
    """STC segments of the claim."""
    classification: StatusClass = StatusClass.UNKNOWN
    """accepted / rejected / pending from its STCs (rejected wins)."""
    patient_last_name: str = ""
    """NM103 of the patient (or subscriber) level."""
    patient_first_name: str = ""
    """NM104."""
    member_id: str = ""
    """NM109 of the patient (or subscriber) level."""
    provider_id: str = ""
    """NM109 of the billing provider level the claim is under (NPI)."""
    lines: list[LineStatus] = field(default_factory=list)
    """Service line statuses."""
    segment_index: int | None = None
    """Position of the claim's TRN segment in the file (segments counted from 0)."""


@dataclass(slots=True)
class ClaimAcknowledgement:
    """One 277CA (or 277 claim status response) transaction set."""

    __pydantic_config__ = DOC_CONFIG

    envelope: Envelope
    """ISA/GS/ST the acknowledgement arrived in."""
    reference_id: str = ""
    """BHT03 originator application transaction identifier."""
    created: date | None = None
    """BHT04 transaction set creation date."""
    information_sources: list[StatusEntity] = field(default_factory=list)
    """HL 20: the payer or clearinghouse that sends the statuses."""
    receivers: list[StatusEntity] = field(default_factory=list)
    """HL 21: us (the submitter), with accepted/rejected totals."""
    providers: list[StatusEntity] = field(default_factory=list)
    """HL 19: billing providers, with their totals."""
    claims: list[ClaimStatus] = field(default_factory=list)
    """Every claim (HL PT, or 22/23 in a claim status response)."""


@dataclass(slots=True)
class ClaimAcknowledgementSummary:
    """Counts over the 277CAs of a file."""

    __pydantic_config__ = DOC_CONFIG

    claims: int = 0
    """Number of claims."""
    accepted: int = 0
    """Claims classified accepted."""
    rejected: int = 0
    """Claims classified rejected."""
    pending: int = 0
    """Claims classified pending."""
    other: int = 0
    """Claims with another classification (finalized, request, error, unknown)."""


@dataclass(slots=True)
class ClaimAcknowledgementDocument:
    """What ``gateway parse`` prints for a 277CA file."""

    __pydantic_config__ = DOC_CONFIG

    transaction: Literal["277CA", "277"] = "277CA"
    """``277CA`` (005010X214), or ``277`` for a claim status response read leniently."""
    acknowledgements: list[ClaimAcknowledgement] = field(default_factory=list)
    """One per ST/SE, across every interchange and group of the file."""
    summary: ClaimAcknowledgementSummary = field(default_factory=ClaimAcknowledgementSummary)
    """Counts."""
    findings: list[ResponseFinding] = field(default_factory=list)
    """Problems found reading the file."""


__all__ = [
    "ClaimAcknowledgement",
    "ClaimAcknowledgementDocument",
    "ClaimAcknowledgementSummary",
    "ClaimStatus",
    "ElementError",
    "ErrorContext",
    "FunctionalGroupResponse",
    "ImplementationAcknowledgement",
    "ImplementationAcknowledgementDocument",
    "ImplementationAcknowledgementSummary",
    "InterchangeAcknowledgement",
    "InterchangeAcknowledgementDocument",
    "InterchangeAcknowledgementSummary",
    "LineStatus",
    "QualifiedQuantity",
    "SegmentError",
    "StatusClass",
    "StatusCode",
    "StatusEntity",
    "StatusInformation",
    "TransactionSetResponse",
]
