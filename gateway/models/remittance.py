"""The remittance (835 health care claim payment advice) as plain data.

One ``Remittance`` per 835 transaction set: the payment (``RemittanceHeader``: BPR, TRN, payer,
payee), every adjudicated ``Claim`` (CLP loop) with its ``ServiceLine``s and ``Adjustment``s, the
provider-level adjustments (PLB) and a ``RemittanceSummary``. ``RemittanceDocument`` is what
``gateway parse`` prints for a whole file. Field names say what a value is in the domain; the X12
position is in each field's description (``claim_id`` is CLP01, our CLM01).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from gateway.models.responses import DOC_CONFIG, Envelope, ResponseFinding


class ClaimOutcome(StrEnum):
    """What the payer did with a claim, judged from the amounts and codes, not from CLP02 alone.

    ``paid``: paid, nothing denied (contractual reductions and patient responsibility aside).
    ``partially_paid``: paid, but part of the charge (a line, or a denial-type adjustment) denied.
    ``denied``: nothing paid and not because the patient owes it (CLP02 4, or zero pay with
    denial-type adjustments). ``patient_responsibility``: nothing paid because everything allowed
    is the patient's (deductible, coinsurance). ``reversed``: CLP02 22, a reversal of an earlier
    payment. ``not_our_claim``: CLP02 23. ``predetermination``: CLP02 25, pricing only.
    """

    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    PATIENT_RESPONSIBILITY = "patient_responsibility"
    REVERSED = "reversed"
    NOT_OUR_CLAIM = "not_our_claim"
    PREDETERMINATION = "predetermination"


@dataclass(slots=True)
class Adjustment:
    """One CAS triplet: a group code, a reason (CARC), an amount and maybe a quantity."""

    __pydantic_config__ = DOC_CONFIG

    group: str
    """CAS01 claim adjustment group code: CO, PR, OA, PI (CR in 4010)."""
    group_meaning: str
    """What the group code means."""
    reason: str
    """CAS02/05/08/... claim adjustment reason code (CARC)."""
    reason_meaning: str
    """What the CARC means (``unknown code`` when the code list lacks it)."""
    amount: Decimal
    """CAS03/06/09/... adjustment amount; positive reduces payment, negative increases it."""
    quantity: Decimal | None = None
    """CAS04/07/10/... adjustment quantity (units or days), when present."""


@dataclass(slots=True)
class RemarkCode:
    """A remark: RARC from MOA/MIA (claim) or LQ*HE (line), or an NCPDP reject code (LQ*RX)."""

    __pydantic_config__ = DOC_CONFIG

    code: str
    """The remark code, e.g. ``N130``."""
    meaning: str
    """What it means (``unknown code`` when the code list lacks it)."""
    source: str
    """Where it came from: ``MOA``, ``MIA``, ``LQ*HE`` or ``LQ*RX``."""


@dataclass(slots=True)
class Reference:
    """A REF segment: qualifier and value."""

    __pydantic_config__ = DOC_CONFIG

    qualifier: str
    """REF01, e.g. ``6R`` line item control number, ``1K`` payer claim number, ``EA`` record."""
    value: str
    """REF02."""


@dataclass(slots=True)
class QualifiedAmount:
    """An AMT or QTY segment: qualifier and amount (or quantity)."""

    __pydantic_config__ = DOC_CONFIG

    qualifier: str
    """AMT01 / QTY01, e.g. ``B6`` allowed, ``AU`` coverage amount, ``I`` interest."""
    amount: Decimal
    """AMT02 / QTY02."""


@dataclass(slots=True)
class QualifiedDate:
    """A DTM segment not given its own field: qualifier and date."""

    __pydantic_config__ = DOC_CONFIG

    qualifier: str
    """DTM01, e.g. ``036`` coverage expiration, ``050`` received."""
    value: date | None
    """DTM02 as a date (None when the file's date is not a valid CCYYMMDD)."""


@dataclass(slots=True)
class Procedure:
    """A composite medical procedure identifier (SVC01 / SVC06)."""

    __pydantic_config__ = DOC_CONFIG

    qualifier: str
    """-1 product/service ID qualifier: ``HC`` HCPCS/CPT, ``NU`` revenue code, ``N4`` NDC, ..."""
    code: str
    """-2 the procedure code."""
    modifiers: list[str] = field(default_factory=list)
    """-3..-6 procedure modifiers."""
    description: str = ""
    """-7 description, when present."""


@dataclass(slots=True)
class NamedEntity:
    """An NM1 person or organisation in a claim: patient, insured, rendering provider, ..."""

    __pydantic_config__ = DOC_CONFIG

    entity: str
    """NM101 entity identifier: ``QC`` patient, ``IL`` insured, ``74`` corrected insured,
    ``82`` rendering provider, ``TT`` crossover carrier, ``PR`` corrected priority payer."""
    last_name: str = ""
    """NM103 (organisation name when NM102 is 2)."""
    first_name: str = ""
    """NM104."""
    middle_name: str = ""
    """NM105."""
    suffix: str = ""
    """NM107."""
    id_qualifier: str = ""
    """NM108, e.g. ``MI`` member id, ``XX`` NPI."""
    identifier: str = ""
    """NM109."""


@dataclass(slots=True)
class Party:
    """The payer (N1*PR, loop 1000A) or payee (N1*PE, loop 1000B) of the payment."""

    __pydantic_config__ = DOC_CONFIG

    entity: str
    """N101: ``PR`` payer, ``PE`` payee."""
    name: str = ""
    """N102."""
    id_qualifier: str = ""
    """N103, e.g. ``XX`` NPI, ``FI`` tax id, ``XV`` CMS plan id."""
    identifier: str = ""
    """N104."""
    address_lines: list[str] = field(default_factory=list)
    """N301, N302."""
    city: str = ""
    """N401."""
    state: str = ""
    """N402."""
    postal_code: str = ""
    """N403."""
    country: str = ""
    """N404."""
    references: list[Reference] = field(default_factory=list)
    """REF segments of the loop (e.g. ``2U`` payer id, ``TJ`` tax id)."""
    contacts: list[str] = field(default_factory=list)
    """PER segments as written (contact function, name, then communication numbers)."""


@dataclass(slots=True)
class ServiceLine:
    """One adjudicated service line (loop 2110: SVC and what follows it)."""

    __pydantic_config__ = DOC_CONFIG

    line_number: int
    """Position of the line in its claim, from 1."""
    procedure: Procedure | None
    """SVC01 the procedure as adjudicated."""
    charge: Decimal
    """SVC02 line item charge amount."""
    paid: Decimal
    """SVC03 line item provider payment amount."""
    revenue_code: str = ""
    """SVC04 national uniform billing committee revenue code."""
    units: Decimal | None = None
    """SVC05 units of service paid."""
    original_procedure: Procedure | None = None
    """SVC06 the procedure as submitted, when the payer changed it."""
    original_units: Decimal | None = None
    """SVC07 original units of service."""
    service_date: date | None = None
    """DTM*472 (or the start, DTM*150)."""
    service_date_end: date | None = None
    """DTM*151 service period end."""
    line_control_number: str = ""
    """REF*6R: our line item control number from the 837."""
    allowed_amount: Decimal | None = None
    """AMT*B6 allowed (actual) amount."""
    adjustments: list[Adjustment] = field(default_factory=list)
    """CAS adjustments of the line."""
    remarks: list[RemarkCode] = field(default_factory=list)
    """LQ remark codes of the line."""
    references: list[Reference] = field(default_factory=list)
    """Other REF segments of the line."""
    amounts: list[QualifiedAmount] = field(default_factory=list)
    """Other AMT segments of the line."""
    quantities: list[QualifiedAmount] = field(default_factory=list)
    """QTY segments of the line."""


@dataclass(slots=True)
class Claim:
    """One adjudicated claim (loop 2100: CLP and what follows it, with its service lines)."""

    __pydantic_config__ = DOC_CONFIG

    claim_id: str
    """CLP01 patient control number: our CLM01."""
    status_code: str
    """CLP02 claim status code (1 primary, 4 denied, 22 reversal, ...)."""
    status_meaning: str
    """What CLP02 means."""
    total_charge: Decimal
    """CLP03 total claim charge amount."""
    paid_amount: Decimal
    """CLP04 claim payment amount."""
    patient_responsibility: Decimal | None = None
    """CLP05 patient responsibility amount."""
    claim_filing_indicator: str = ""
    """CLP06 claim filing indicator code (e.g. ``12`` PPO, ``MB`` Medicare Part B)."""
    claim_filing_meaning: str = ""
    """What CLP06 means ('' when absent)."""
    payer_claim_control_number: str = ""
    """CLP07 the payer's claim control number (use it with frequency 7/8 resubmissions)."""
    facility_type_code: str = ""
    """CLP08 facility type (place of service or type of bill first digits)."""
    frequency_code: str = ""
    """CLP09 claim frequency code."""
    drg_code: str = ""
    """CLP11 diagnosis related group code."""
    is_reversal: bool = False
    """True when CLP02 is 22: this claim reverses an earlier payment (amounts are negated)."""
    outcome: ClaimOutcome = ClaimOutcome.PAID
    """Paid, partially paid, denied, ... judged from the amounts and codes."""
    adjustments: list[Adjustment] = field(default_factory=list)
    """Claim-level CAS adjustments."""
    patient: NamedEntity | None = None
    """NM1*QC patient name."""
    insured: NamedEntity | None = None
    """NM1*IL insured name (when the patient is not the insured)."""
    corrected_insured: NamedEntity | None = None
    """NM1*74 corrected patient/insured name."""
    other_entities: list[NamedEntity] = field(default_factory=list)
    """Other NM1 of the claim: rendering provider (82), crossover carrier (TT), payer (PR)."""
    statement_from: date | None = None
    """DTM*232 claim statement period start."""
    statement_to: date | None = None
    """DTM*233 claim statement period end."""
    received_date: date | None = None
    """DTM*050 claim received date."""
    dates: list[QualifiedDate] = field(default_factory=list)
    """Other DTM segments of the claim."""
    remarks: list[RemarkCode] = field(default_factory=list)
    """MOA / MIA remark codes."""
    references: list[Reference] = field(default_factory=list)
    """Claim REF segments (``EA`` medical record, ``F8`` original claim number, ...)."""
    amounts: list[QualifiedAmount] = field(default_factory=list)
    """Claim AMT segments (``AU`` coverage amount, ``I`` interest, ``D8`` discount, ...)."""
    quantities: list[QualifiedAmount] = field(default_factory=list)
    """Claim QTY segments."""
    lines: list[ServiceLine] = field(default_factory=list)
    """Service lines (loop 2110)."""
    segment_index: int | None = None
    """Position of the CLP segment in the file (segments counted from 0)."""


@dataclass(slots=True)
class ProviderAdjustment:
    """One provider-level adjustment (a PLB reason/amount pair)."""

    __pydantic_config__ = DOC_CONFIG

    provider_identifier: str
    """PLB01 provider identifier."""
    fiscal_period_date: date | None
    """PLB02 fiscal period date."""
    reason: str
    """PLB03-1 (05-1, ...) reason code, e.g. ``WO`` overpayment recovery, ``L6`` interest."""
    reason_meaning: str
    """What the reason code means."""
    reference: str
    """PLB03-2 reference identifier (often the claim the adjustment concerns)."""
    amount: Decimal
    """PLB04 (06, ...) amount; positive reduces the payment, negative increases it."""


@dataclass(slots=True)
class RemittanceHeader:
    """The payment of one 835: BPR, TRN, DTM*405, REF, payer (1000A) and payee (1000B)."""

    __pydantic_config__ = DOC_CONFIG

    envelope: Envelope
    """ISA/GS/ST the transaction set arrived in."""
    handling_code: str = ""
    """BPR01 transaction handling code (``I`` remittance only, ``C`` payment with advice, ...)."""
    handling_meaning: str = ""
    """What BPR01 means."""
    payment_amount: Decimal = Decimal(0)
    """BPR02 total actual provider payment amount."""
    credit_debit: str = ""
    """BPR03 ``C`` credit, ``D`` debit."""
    payment_method: str = ""
    """BPR04 ``ACH``, ``CHK``, ``BOP``, ``FWT`` or ``NON``."""
    payment_method_meaning: str = ""
    """What BPR04 means."""
    payment_format: str = ""
    """BPR05 payment format (``CCP``, ``CTX``)."""
    payment_date: date | None = None
    """BPR16 check issue or EFT effective date."""
    trace_type: str = ""
    """TRN01 trace type code."""
    trace_number: str = ""
    """TRN02 check or EFT trace number (what the bank deposit carries)."""
    originating_company_id: str = ""
    """TRN03 payer identifier (1 + tax id)."""
    production_date: date | None = None
    """DTM*405 production date."""
    references: list[Reference] = field(default_factory=list)
    """Header REF segments (``EV`` receiver id, ``F2`` version)."""
    payer: Party | None = None
    """N1*PR loop 1000A."""
    payee: Party | None = None
    """N1*PE loop 1000B."""


@dataclass(slots=True)
class RemittanceSummary:
    """Totals of one 835 (or of a whole file), computed while reading."""

    __pydantic_config__ = DOC_CONFIG

    claims: int = 0
    """Number of CLP loops."""
    service_lines: int = 0
    """Number of SVC loops."""
    reversals: int = 0
    """Claims with CLP02 22."""
    total_charge: Decimal = Decimal(0)
    """Sum of CLP03."""
    total_paid: Decimal = Decimal(0)
    """Sum of CLP04."""
    patient_responsibility: Decimal = Decimal(0)
    """Sum of CLP05."""
    plb_total: Decimal = Decimal(0)
    """Sum of PLB amounts (positive reduces the payment)."""
    payment_amount: Decimal = Decimal(0)
    """BPR02 (summed over transaction sets for a file)."""
    balanced: bool = True
    """True when no balancing finding (line, claim or transaction) was made."""
    imbalances: int = 0
    """Number of balancing findings."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """Claims counted by outcome (paid, partially_paid, denied, ...)."""


@dataclass(slots=True)
class Remittance:
    """One 835 transaction set, whole (the streaming reader yields its parts one at a time)."""

    __pydantic_config__ = DOC_CONFIG

    header: RemittanceHeader
    """The payment, payer and payee."""
    claims: list[Claim] = field(default_factory=list)
    """The claims, in file order."""
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    """PLB adjustments."""
    summary: RemittanceSummary = field(default_factory=RemittanceSummary)
    """Totals and the balancing verdict of this transaction set."""
    findings: list[ResponseFinding] = field(default_factory=list)
    """Balancing and reading findings of this transaction set."""


@dataclass(slots=True)
class RemittanceDocument:
    """What ``gateway parse`` prints for an 835 file: every transaction set, totals, findings."""

    __pydantic_config__ = DOC_CONFIG

    transaction: Literal["835"] = "835"
    """Always ``835``."""
    remittances: list[Remittance] = field(default_factory=list)
    """One per ST/SE, across every interchange and group of the file."""
    summary: RemittanceSummary = field(default_factory=RemittanceSummary)
    """Totals over the whole file."""
    findings: list[ResponseFinding] = field(default_factory=list)
    """Every finding of the file: envelope defects, reading problems, imbalances."""


__all__ = [
    "Adjustment",
    "Claim",
    "ClaimOutcome",
    "NamedEntity",
    "Party",
    "Procedure",
    "ProviderAdjustment",
    "QualifiedAmount",
    "QualifiedDate",
    "Reference",
    "RemarkCode",
    "Remittance",
    "RemittanceDocument",
    "RemittanceHeader",
    "RemittanceSummary",
    "ServiceLine",
]
