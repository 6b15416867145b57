"""Response models (``gateway.models``) built by hand, for reconciliation tests.

Each factory takes the few values reconciliation looks at, in the order a test writes them, and
fills the rest of the model as a reader would leave it (empty envelope, no dates). A
``remittance_claim`` gets its outcome from the reader's own rule (``claim_outcome``) unless the
test names one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from gateway import codes as code_lists
from gateway.models.acknowledgements import (
    ClaimAcknowledgement,
    ClaimStatus,
    ElementError,
    ErrorContext,
    FunctionalGroupResponse,
    ImplementationAcknowledgement,
    InterchangeAcknowledgement,
    LineStatus,
    SegmentError,
    StatusClass,
    StatusCode,
    StatusEntity,
    StatusInformation,
    TransactionSetResponse,
)
from gateway.models.remittance import (
    Adjustment,
    Claim,
    ClaimOutcome,
    Party,
    Procedure,
    RemarkCode,
    Remittance,
    RemittanceHeader,
    ServiceLine,
)
from gateway.models.responses import CodedValue, Envelope
from gateway.transactions.remittance import claim_outcome

__all__ = [
    "ack277",
    "ack999",
    "adjustment",
    "claim_status",
    "element_error",
    "group_ack",
    "line_status",
    "remittance",
    "remittance_claim",
    "remittance_line",
    "segment_error",
    "set_ack",
    "status_code",
    "ta1",
]


def ta1(
    control_number: str, status: str, note_code: str = "", note_meaning: str = ""
) -> InterchangeAcknowledgement:
    """A TA1 for our ISA13 ``control_number``: TA104 ``status``, TA105 note."""
    return InterchangeAcknowledgement(
        control_number=control_number,
        interchange_date=None,
        interchange_time="",
        status=status,
        status_meaning="",
        note_code=note_code,
        note_meaning=note_meaning,
        envelope=Envelope(),
    )


def element_error(
    position: str, code: str, meaning: str = "", data_element: str = ""
) -> ElementError:
    """An IK4 at ``position`` (``5`` or ``5-3``: IK401 and its component)."""
    element, _, component = position.partition("-")
    return ElementError(
        element_position=int(element) if element else None,
        component_position=int(component) if component else None,
        repetition=None,
        data_element_reference=data_element,
        error_code=code,
        error_meaning=meaning,
    )


def segment_error(
    tag: str,
    position: str,
    code: str,
    meaning: str = "",
    loop: str = "",
    elements: Iterable[ElementError] = (),
    claim_id: str = "",
) -> SegmentError:
    """An IK3 with its IK4s; ``claim_id`` adds the CTX*CLM01 context naming the claim."""
    return SegmentError(
        segment_id=tag,
        segment_position=int(position) if position else None,
        loop_id=loop,
        error_code=code,
        error_meaning=meaning,
        contexts=[ErrorContext("CLM01", claim_id)] if claim_id else [],
        element_errors=list(elements),
    )


def set_ack(
    st02: str,
    status: str,
    codes: Iterable[tuple[str, str]] = (),
    errors: Iterable[SegmentError] = (),
) -> TransactionSetResponse:
    """An AK2 loop: our ST02, the IK5 verdict, IK502.. (code, meaning) and the IK3s."""
    return TransactionSetResponse(
        transaction_set_id="837",
        control_number=st02,
        implementation_reference="",
        status=status,
        status_meaning="",
        error_codes=[CodedValue(code, meaning) for code, meaning in codes],
        segment_errors=list(errors),
    )


def group_ack(
    gs06: str, status: str, sets: Iterable[TransactionSetResponse] = ()
) -> FunctionalGroupResponse:
    """An AK1 loop: our GS06, its sets, the AK9 verdict."""
    return FunctionalGroupResponse(
        functional_id="HC",
        group_control_number=gs06,
        version="005010X222A1",
        transaction_sets=list(sets),
        status=status,
    )


def ack999(groups: Iterable[FunctionalGroupResponse]) -> ImplementationAcknowledgement:
    """A 999 with these groups."""
    return ImplementationAcknowledgement(envelope=Envelope(), groups=list(groups))


def status_code(
    category: str,
    status: str = "",
    entity: str = "",
    category_meaning: str = "",
    status_meaning: str = "",
    entity_meaning: str = "",
    classification: str = "",
) -> StatusCode:
    """One STC composite; its classification as the 277CA reader gives it (by category)."""
    return StatusCode(
        category=category,
        category_meaning=category_meaning,
        status=status,
        status_meaning=status_meaning,
        entity=entity,
        entity_meaning=entity_meaning,
        classification=StatusClass(classification or code_lists.category_class(category)),
    )


def _information(statuses: Iterable[StatusCode], effective: date | None) -> StatusInformation:
    return StatusInformation(
        codes=list(statuses),
        effective_date=effective,
        action_code="",
        action_meaning="",
        amount=None,
    )


def line_status(
    line_control_number: str, statuses: Iterable[StatusCode], procedure: str = ""
) -> LineStatus:
    """A 2220D line: REF*FJ, its STCs, and ``procedure`` as reconciliation shows it (the code
    and its modifiers joined by ``:``)."""
    parts = procedure.split(":") if procedure else [""]
    return LineStatus(
        procedure_qualifier="",
        procedure_code=parts[0],
        modifiers=parts[1:],
        charge=None,
        line_control_number=line_control_number,
        statuses=[_information(statuses, None)],
    )


def claim_status(
    claim_id: str,
    statuses: Iterable[StatusCode],
    payer_claim_control_number: str | None = None,
    clearinghouse_claim_id: str | None = None,
    total_charge: Decimal | None = None,
    status_date: str = "",
    lines: Iterable[LineStatus] = (),
) -> ClaimStatus:
    """A 2200D claim status: TRN02, its STCs (effective ``status_date``), REF*1K, REF*D9."""
    effective = date.fromisoformat(status_date) if status_date else None
    return ClaimStatus(
        claim_id=claim_id,
        payer_claim_control_number=payer_claim_control_number or "",
        clearinghouse_claim_id=clearinghouse_claim_id or "",
        total_charge=total_charge,
        statuses=[_information(statuses, effective)],
        lines=list(lines),
    )


def ack277(source: str, claims: Iterable[ClaimStatus]) -> ClaimAcknowledgement:
    """A 277CA from information source ``source`` with these claim statuses."""
    sources = [StatusEntity(hl_id="1", parent_id="", level_code="20", name=source)]
    return ClaimAcknowledgement(
        envelope=Envelope(), information_sources=sources if source else [], claims=list(claims)
    )


def adjustment(group: str, reason: str, amount: Decimal, meaning: str = "") -> Adjustment:
    """A CAS triplet: group code, CARC, amount, the CARC's meaning."""
    return Adjustment(
        group=group, group_meaning="", reason=reason, reason_meaning=meaning, amount=amount
    )


def _procedure(text: str) -> Procedure | None:
    if not text:
        return None
    code, *modifiers = text.split(":")
    return Procedure(qualifier="HC", code=code, modifiers=modifiers)


def remittance_line(
    line_control_number: str,
    procedure: str,
    charge: Decimal,
    paid: Decimal,
    adjustments: Iterable[Adjustment] = (),
    remarks: Iterable[tuple[str, str]] = (),
) -> ServiceLine:
    """A 2110 line: REF*6R, ``99213`` or ``99213:25``, charge, paid, CAS, LQ remark codes."""
    return ServiceLine(
        line_number=0,  # numbered by remittance_claim
        procedure=_procedure(procedure),
        charge=charge,
        paid=paid,
        line_control_number=line_control_number,
        adjustments=list(adjustments),
        remarks=[RemarkCode(code, meaning, "LQ") for code, meaning in remarks],
    )


def remittance_claim(
    claim_id: str,
    status_code: str,
    charge: Decimal,
    paid: Decimal,
    patient_responsibility: Decimal | None = None,
    payer_claim_control_number: str | None = None,
    adjustments: Iterable[Adjustment] = (),
    lines: Iterable[ServiceLine] = (),
    remarks: Iterable[tuple[str, str]] = (),
    status_meaning: str = "",
    outcome: str = "",
) -> Claim:
    """A 2100 claim payment (CLP and what hangs under it); its outcome is ``outcome`` when
    given, else what the 835 reader judges (``claim_outcome``)."""
    claim = Claim(
        claim_id=claim_id,
        status_code=status_code,
        status_meaning=status_meaning,
        total_charge=charge,
        paid_amount=paid,
        patient_responsibility=patient_responsibility,
        payer_claim_control_number=payer_claim_control_number or "",
        adjustments=list(adjustments),
        remarks=[RemarkCode(code, meaning, "MOA") for code, meaning in remarks],
        lines=list(lines),
    )
    for number, line in enumerate(claim.lines, start=1):
        line.line_number = number
    claim.outcome = ClaimOutcome(outcome) if outcome else claim_outcome(claim)
    return claim


def remittance(trace_number: str, payer_id: str, claims: Iterable[Claim]) -> Remittance:
    """One 835 transaction set: TRN02, the payer's id (N1*PR), the claims in file order."""
    payer = Party(entity="PR", identifier=payer_id) if payer_id else None
    header = RemittanceHeader(envelope=Envelope(), trace_number=trace_number, payer=payer)
    return Remittance(header=header, claims=list(claims))
