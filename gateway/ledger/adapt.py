"""Between the ledger and ``gateway.transactions``: the builder's record of what it wrote as a
``SubmissionIntent``, and the readers' typed models narrowed to the views reconciliation uses.

``views_of(document)`` takes whatever ``gateway.transactions`` read from a response file (a TA1,
999, 277CA or 835 document, or one 835 ``Remittance`` streamed on its own) and returns the
:mod:`gateway.ledger.reconcile` views, one per acknowledgement or remittance in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gateway.ledger import reconcile as rc
from gateway.ledger.records import ClaimSent, GroupSent, Reason, SetSent, SubmissionIntent
from gateway.models.acknowledgements import (
    ClaimAcknowledgement,
    ClaimAcknowledgementDocument,
    ErrorContext,
    ImplementationAcknowledgement,
    ImplementationAcknowledgementDocument,
    InterchangeAcknowledgement,
    InterchangeAcknowledgementDocument,
    StatusInformation,
)
from gateway.models.acknowledgements import StatusCode as ModelStatusCode
from gateway.models.remittance import Adjustment as ModelAdjustment
from gateway.models.remittance import Remittance, RemittanceDocument
from gateway.models.responses import Envelope
from gateway.transactions.claim837_envelope import ClaimLeftOut, InterchangeSent

if TYPE_CHECKING:
    from gateway.edits import Finding
    from gateway.partners import Partners

__all__ = [
    "Document",
    "from_claim_acknowledgement",
    "from_implementation_acknowledgement",
    "from_interchange_acknowledgement",
    "from_remittance",
    "intent_from_sent",
    "kind_of",
    "partner_for",
    "reasons_from_findings",
    "views_of",
]

Document = (
    InterchangeAcknowledgementDocument
    | ImplementationAcknowledgementDocument
    | ClaimAcknowledgementDocument
    | RemittanceDocument
    | Remittance
)


def kind_of(document: Document) -> str:
    """``TA1``, ``999``, ``277CA`` or ``835``: the response kind the ledger records."""
    if isinstance(document, InterchangeAcknowledgementDocument):
        return "TA1"
    if isinstance(document, ImplementationAcknowledgementDocument):
        return "999"
    if isinstance(document, ClaimAcknowledgementDocument):
        return "277CA"
    return "835"


def views_of(document: Document) -> list[rc.Response]:
    """The reconciliation views of every acknowledgement or remittance in ``document``."""
    if isinstance(document, InterchangeAcknowledgementDocument):
        return [from_interchange_acknowledgement(a) for a in document.acknowledgements]
    if isinstance(document, ImplementationAcknowledgementDocument):
        return [from_implementation_acknowledgement(a) for a in document.acknowledgements]
    if isinstance(document, ClaimAcknowledgementDocument):
        return [from_claim_acknowledgement(a) for a in document.acknowledgements]
    if isinstance(document, RemittanceDocument):
        return [from_remittance(r) for r in document.remittances]
    return [from_remittance(document)]


def from_interchange_acknowledgement(ack: InterchangeAcknowledgement) -> rc.InterchangeAck:
    """A TA1 segment as the reconciliation view."""
    return rc.InterchangeAck(ack.control_number, ack.status, ack.note_code, ack.note_meaning)


def from_implementation_acknowledgement(ack: ImplementationAcknowledgement) -> rc.ImplementationAck:
    """A 999 (every AK1 group, AK2 set, IK3/IK4 error) as the reconciliation view."""
    groups = []
    for group in ack.groups:
        sets = []
        for tx in group.transaction_sets:
            errors = tuple(
                rc.SegmentError(
                    err.segment_id,
                    "" if err.segment_position is None else str(err.segment_position),
                    err.error_code,
                    err.error_meaning,
                    err.loop_id,
                    tuple(
                        rc.ElementError(
                            _element_position(el.element_position, el.component_position),
                            el.error_code,
                            el.error_meaning,
                            el.data_element_reference,
                        )
                        for el in err.element_errors
                    ),
                    _claim_in(err.contexts),
                )
                for err in tx.segment_errors
            )
            codes = tuple((c.code, c.meaning) for c in tx.error_codes)
            sets.append(rc.SetAck(tx.control_number, tx.status, codes, errors))
        groups.append(rc.GroupAck(group.group_control_number, group.status, tuple(sets)))
    return rc.ImplementationAck(tuple(groups))


def _claim_in(contexts: list[ErrorContext]) -> str:
    """The claim id of a CTX*CLM01:<id> business-unit context, if the 999 gave one."""
    for context in contexts:
        if context.context_name.upper() == "CLM01" and context.context_reference:
            return context.context_reference
    return ""


def _element_position(element: int | None, component: int | None) -> str:
    if element is None:
        return ""
    return f"{element}" if component is None else f"{element}-{component}"


def from_claim_acknowledgement(ack: ClaimAcknowledgement) -> rc.ClaimAcknowledgement:
    """A 277CA (claim and line statuses, REF*1K, REF*FJ) as the reconciliation view."""
    source = ""
    if ack.information_sources:
        first = ack.information_sources[0]
        source = first.name or first.identifier
    claims = []
    for claim in ack.claims:
        status_date = ""
        for info in claim.statuses:
            if info.effective_date is not None:
                status_date = info.effective_date.isoformat()
                break
        lines = tuple(
            rc.LineStatus(
                line.line_control_number,
                _codes(line.statuses),
                ":".join([line.procedure_code, *line.modifiers]) if line.procedure_code else "",
            )
            for line in claim.lines
        )
        claims.append(
            rc.ClaimStatus(
                claim.claim_id,
                _codes(claim.statuses),
                claim.payer_claim_control_number or None,
                claim.clearinghouse_claim_id or None,
                claim.total_charge,
                status_date,
                lines,
            )
        )
    return rc.ClaimAcknowledgement(source, tuple(claims))


def _codes(statuses: list[StatusInformation]) -> tuple[rc.StatusCode, ...]:
    return tuple(_code(code) for info in statuses for code in info.codes)


def _code(code: ModelStatusCode) -> rc.StatusCode:
    return rc.StatusCode(
        code.category,
        code.status,
        code.entity,
        code.category_meaning,
        code.status_meaning,
        code.entity_meaning,
        str(code.classification.value),
    )


def from_remittance(remittance: Remittance) -> rc.Remittance:
    """An 835 transaction set (claims, lines, adjustments, outcomes) as the reconciliation view."""
    header = remittance.header
    payer_id = header.payer.identifier if header.payer is not None else ""
    claims = []
    for clp in remittance.claims:
        lines = tuple(
            rc.RemittanceLine(
                line.line_control_number,
                ":".join([line.procedure.code, *line.procedure.modifiers])
                if line.procedure is not None
                else line.revenue_code,
                line.charge,
                line.paid,
                tuple(_adjustment(a) for a in line.adjustments),
                tuple((r.code, r.meaning) for r in line.remarks),
            )
            for line in clp.lines
        )
        claims.append(
            rc.RemittanceClaim(
                clp.claim_id,
                clp.status_code,
                clp.total_charge,
                clp.paid_amount,
                clp.patient_responsibility,
                clp.payer_claim_control_number or None,
                tuple(_adjustment(a) for a in clp.adjustments),
                lines,
                tuple((r.code, r.meaning) for r in clp.remarks),
                clp.status_meaning,
                str(clp.outcome.value),
            )
        )
    return rc.Remittance(header.trace_number, payer_id, tuple(claims))


def _adjustment(adj: ModelAdjustment) -> rc.Adjustment:
    return rc.Adjustment(adj.group, adj.reason, adj.amount, adj.reason_meaning)


def intent_from_sent(sent: InterchangeSent, file_name: str) -> SubmissionIntent:
    """The write-ahead record of an interchange the 837 builder produced (claims at their
    current versions, with their REF*6R line control numbers)."""
    sets = tuple(
        SetSent(
            tx.st02,
            tuple(ClaimSent(c.claim_id, None, tuple(c.line_control_numbers)) for c in tx.claims),
        )
        for tx in sent.transactions
    )
    return SubmissionIntent(
        sent.partner,
        _kind_label(str(sent.kind)),
        sent.isa13,
        file_name,
        (GroupSent(sent.gs06, sets),),
    )


def _kind_label(kind: str) -> str:
    return {"professional": "837P", "institutional": "837I"}.get(kind, kind)


def reasons_from_findings(findings: Iterable[Finding | ClaimLeftOut]) -> tuple[Reason, ...]:
    """Scrubber findings (errors only) or builder left-outs as correction reasons."""
    reasons: list[Reason] = []
    for found in findings:
        if isinstance(found, ClaimLeftOut):
            reasons.append(
                Reason("BUILD", found.reason, found.path, "correct the encounter and resubmit")
            )
        elif found.is_error:
            reasons.append(Reason(str(found.code), found.message, found.path, found.hint))
    return tuple(reasons)


def partner_for(document: Document, partners: Partners) -> str | None:
    """The trading partner a response came from: the one whose ISA08 receiver id (where our files
    go) is the response's ISA06 sender id. None when no partner, or more than one, matches.

    Pass it to ``Ledger.apply_response(partner=...)``: control numbers are unique per partner
    only, so with several partners a GS06 or ISA13 alone can name two different files.
    """
    senders = {e.sender_id.strip().upper() for e in _envelopes(document) if e.sender_id.strip()}
    if len(senders) != 1:
        return None
    (sender,) = senders
    names = [p.name for p in partners if p.isa_receiver_id.strip().upper() == sender]
    return names[0] if len(names) == 1 else None


def _envelopes(document: Document) -> list[Envelope]:
    if isinstance(document, InterchangeAcknowledgementDocument):
        return [a.envelope for a in document.acknowledgements]
    if isinstance(document, (ImplementationAcknowledgementDocument, ClaimAcknowledgementDocument)):
        return [a.envelope for a in document.acknowledgements]
    if isinstance(document, RemittanceDocument):
        return [r.header.envelope for r in document.remittances]
    return [document.header.envelope]
