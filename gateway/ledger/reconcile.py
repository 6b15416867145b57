"""Reconciliation: what a TA1, 999, 277CA or 835 says about the claims we sent, as events.

Pure code, no database: the ledger fills a :class:`SentView` with what it sent (and the event keys
it has already applied), and :func:`reconcile` returns a :class:`Reconciliation` of claim events and
``unmatched`` references. Matching follows DESIGN.md section 5:

- TA1 by ISA13 of our interchange; every claim in a rejected interchange is rejected.
- 999 by AK1 GS06 and AK2 ST02; AK9 ``P`` means each IK5 decides; IK3/IK4 become the reasons.
- 277CA by TRN02 (our CLM01), keeping REF*1K; line STCs matched by REF*FJ to our REF*6R.
- 835 by CLP01 (our CLM01), keeping CLP07; denial is judged from CLP04 and the adjustment codes, not
  from CLP02 alone; CLP02 22 is a reversal (of a void, it makes the claim ``voided``).

A response that would move a claim backwards (a 999 after the 835) is recorded without a state
change. Every event carries a key built from what it says, so the same answer applied twice, in the
same file or a re-sent copy, is recognised and skipped.

The inputs are the readers' models of ``gateway.models`` (a ``Response``: one TA1, 999, 277CA or
835 transaction set); :func:`responses_in` takes them out of a parsed file (a ``Document``),
:func:`partner_for` names the trading partner a file came from. The claim outcome of an 835 claim
is the reader's (``gateway.transactions.remittance.claim_outcome``), and so is the test of what
counts as a denial (``is_denial``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from gateway import codes
from gateway.ledger.lifecycle import ClaimState, is_allowed
from gateway.ledger.reconcile_legs import SentLeg, coordination, leg_name, leg_view
from gateway.ledger.records import ClaimEvent, Reason, Unmatched
from gateway.models.acknowledgements import (
    ClaimAcknowledgement,
    ClaimAcknowledgementDocument,
    ClaimStatus,
    ElementError,
    ImplementationAcknowledgement,
    ImplementationAcknowledgementDocument,
    InterchangeAcknowledgement,
    InterchangeAcknowledgementDocument,
    SegmentError,
    StatusCode,
    StatusInformation,
    TransactionSetResponse,
)
from gateway.models.remittance import Adjustment, Claim, Remittance, RemittanceDocument, ServiceLine
from gateway.models.responses import Envelope
from gateway.transactions.crossover import crossover_payer_id
from gateway.transactions.remittance import is_denial

if TYPE_CHECKING:
    from gateway.models.partner import Partners

__all__ = [
    "Document",
    "Reconciliation",
    "Response",
    "SentClaim",
    "SentLeg",
    "SentSnapshot",
    "SentView",
    "element_error_position",
    "kind_of",
    "leg_name",
    "leg_view",
    "normalize_control_number",
    "partner_for",
    "reconcile",
    "references",
    "responses_in",
    "segment_error_claim",
]

S = ClaimState
ZERO = Decimal("0")
_KEY_LIMIT = 200


# --------------------------------------------------------------------------- what we sent


@dataclass(frozen=True)
class SentClaim:
    """What the ledger knows of one claim: its state and the version a response may concern."""

    claim_id: str
    version: int  # the claim's current version
    state: ClaimState
    frequency: str
    total_charge: Decimal
    payer_claim_control_number: str | None = None
    line_control_numbers: tuple[str, ...] = ()
    #: The version that went in the set/interchange this entry was found under (else current).
    sent_version: int | None = None
    #: Coordination of benefits: the leg of ``version`` (1 primary, 2 secondary...), its payer,
    #: the leg of the next payer its encounter names (None: none), and the claim's other legs.
    leg: int = 1
    payer_id: str = ""
    next_leg: int | None = None
    next_payer_id: str | None = None
    legs: tuple[SentLeg, ...] = ()
    #: This view is of a leg not recorded yet: the event that uses it opens it.
    opens_leg: bool = False


class SentView(Protocol):
    """The read-only view of what we sent, filled by the ledger for one response."""

    def interchange(self, isa13: str) -> Sequence[SentClaim] | None:
        """The claims of our interchange ISA13, or None when we never sent it."""
        ...

    def group(self, gs06: str) -> Mapping[str, Sequence[SentClaim]] | None:
        """ST02 -> claims for our functional group GS06, or None when we never sent it."""
        ...

    def claim(self, claim_id: str) -> SentClaim | None:
        """The claim with CLM01 ``claim_id``, or None when we never had it."""
        ...

    def has_event(self, key: str) -> bool:
        """Whether an event with this key was already applied."""
        ...

    def ambiguous(self, number: str) -> bool:
        """Whether this ISA13/GS06 went to several partners (the response's is not known)."""
        ...


@dataclass
class SentSnapshot:
    """A :class:`SentView` held in dictionaries (what the ledger builds; handy in tests)."""

    interchanges: dict[str, list[SentClaim]] = field(default_factory=dict)
    groups: dict[str, dict[str, list[SentClaim]]] = field(default_factory=dict)
    claims: dict[str, SentClaim] = field(default_factory=dict)
    event_keys: set[str] = field(default_factory=set)
    ambiguous_numbers: set[str] = field(default_factory=set)

    def interchange(self, isa13: str) -> Sequence[SentClaim] | None:
        """The claims of interchange ``isa13``."""
        return self.interchanges.get(_number(isa13))

    def group(self, gs06: str) -> Mapping[str, Sequence[SentClaim]] | None:
        """The sets of group ``gs06``."""
        return self.groups.get(_number(gs06))

    def claim(self, claim_id: str) -> SentClaim | None:
        """The claim ``claim_id``."""
        return self.claims.get(claim_id)

    def has_event(self, key: str) -> bool:
        """Whether ``key`` was applied."""
        return key in self.event_keys

    def ambiguous(self, number: str) -> bool:
        """Whether ``number`` was sent to several partners."""
        return _number(number) in self.ambiguous_numbers


# --------------------------------------------------------------------------- responses

Response = (
    InterchangeAcknowledgement | ImplementationAcknowledgement | ClaimAcknowledgement | Remittance
)
"""One answer reconciled at a time: a TA1, a 999, a 277CA, or one 835 transaction set."""

Document = (
    InterchangeAcknowledgementDocument
    | ImplementationAcknowledgementDocument
    | ClaimAcknowledgementDocument
    | RemittanceDocument
    | Remittance
)
"""What the readers of ``gateway.transactions`` return for a response file (or one 835 set)."""


def kind_of(document: Document) -> str:
    """``TA1``, ``999``, ``277CA`` or ``835``: the response kind the ledger records."""
    if isinstance(document, InterchangeAcknowledgementDocument):
        return "TA1"
    if isinstance(document, ImplementationAcknowledgementDocument):
        return "999"
    if isinstance(document, ClaimAcknowledgementDocument):
        return "277CA"
    return "835"


def responses_in(document: Document) -> list[Response]:
    """Every acknowledgement or remittance in ``document``, in file order."""
    if isinstance(
        document,
        (
            InterchangeAcknowledgementDocument,
            ImplementationAcknowledgementDocument,
            ClaimAcknowledgementDocument,
        ),
    ):
        return list(document.acknowledgements)
    if isinstance(document, RemittanceDocument):
        return list(document.remittances)
    return [document]


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
    if isinstance(
        document,
        (
            InterchangeAcknowledgementDocument,
            ImplementationAcknowledgementDocument,
            ClaimAcknowledgementDocument,
        ),
    ):
        return [a.envelope for a in document.acknowledgements]
    if isinstance(document, RemittanceDocument):
        return [r.header.envelope for r in document.remittances]
    return [document.header.envelope]


@dataclass(frozen=True)
class Reconciliation:
    """The events to apply, in order, and what matched nothing."""

    kind: str
    events: tuple[ClaimEvent, ...]
    unmatched: tuple[Unmatched, ...]
    skipped: int = 0  # events already applied before (by key)


# --------------------------------------------------------------------------- reconcile


class _Run:
    """Collects events while tracking each claim's state within one response."""

    def __init__(self, kind: str, view: SentView) -> None:
        self.kind = kind
        self.view = view
        self.events: list[ClaimEvent] = []
        self.unmatched: list[Unmatched] = []
        self.skipped = 0
        self.states: dict[tuple[str, int], ClaimState] = {}
        self.keys: set[str] = set()

    def state_of(self, claim: SentClaim) -> ClaimState:
        return self.states.get((claim.claim_id, claim.leg), claim.state)

    def add(
        self, claim: SentClaim, wanted: ClaimState | None, cause: str, key: str, **extra: Any
    ) -> None:
        key = _key(key)
        if key in self.keys or self.view.has_event(key):
            self.skipped += 1
            return
        self.keys.add(key)
        version = claim.sent_version if claim.sent_version is not None else claim.version
        current = self.state_of(claim)
        target: ClaimState | None = None
        if wanted is not None:
            if version != claim.version:
                cause += f" (for version {version}; the claim is now at version {claim.version})"
            elif current in (S.RECEIVED, S.INVALID, S.QUEUED, S.BATCHED):
                cause += f" (arrived while the claim is {current}: recorded, state unchanged)"
            elif is_allowed(current, wanted):
                target = wanted
            else:
                cause += f" (the claim is already {current}: recorded, state unchanged)"
        if target is not None:
            self.states[(claim.claim_id, claim.leg)] = target
        self.events.append(
            ClaimEvent(
                claim.claim_id,
                version,
                self.kind.lower(),
                target,
                cause,
                key,
                leg=claim.leg,
                opens_leg=claim.opens_leg,
                **extra,
            )
        )

    def result(self) -> Reconciliation:
        return Reconciliation(self.kind, tuple(self.events), tuple(self.unmatched), self.skipped)


def reconcile(response: Response, view: SentView) -> Reconciliation:
    """The events ``response`` implies for the claims in ``view``, and what matched nothing."""
    if isinstance(response, InterchangeAcknowledgement):
        return _ta1(response, view)
    if isinstance(response, ImplementationAcknowledgement):
        return _999(response, view)
    if isinstance(response, ClaimAcknowledgement):
        return _277ca(response, view)
    return _835(response, view)


def _ta1(ack: InterchangeAcknowledgement, view: SentView) -> Reconciliation:
    run = _Run("TA1", view)
    isa13 = _number(ack.control_number)
    claims = view.interchange(isa13)
    if claims is None:
        run.unmatched.append(
            Unmatched(
                isa13,
                _unknown(view, isa13, "TA1 for an interchange we never sent (ISA13)"),
                _ta1d(ack),
            )
        )
        return run.result()
    status = ack.status.upper()
    note = f"TA105 {ack.note_code} {ack.note_meaning}".strip()
    for claim in claims:
        key = f"TA1:{isa13}:{claim.claim_id}:{claim.sent_version}:{status}:{ack.note_code}"
        if status == "R":
            reason = Reason(
                f"TA1-{ack.note_code or 'R'}",
                ack.note_meaning or "interchange rejected",
                f"interchange ISA13 {isa13}",
                "fix the envelope or partner settings, then resubmit the claim (frequency 1)",
            )
            cause = f"interchange {isa13} rejected by TA1 ({note})"
            run.add(claim, S.REJECTED, cause, key, isa13=isa13, reasons=(reason,))
        else:
            cause = f"interchange {isa13} acknowledged by TA1 {status} ({note})"
            run.add(claim, None, cause, key, isa13=isa13, detail=_ta1d(ack))
    return run.result()


def _unknown(view: SentView, number: str, reason: str) -> str:
    if view.ambiguous(number):
        return (
            f"control number {number} was sent to several partners and the response's partner "
            "is not known: apply it with its partner"
        )
    return reason


def _ta1d(ack: InterchangeAcknowledgement) -> dict[str, Any]:
    return {"status": ack.status, "note_code": ack.note_code, "note": ack.note_meaning}


def _999(ack: ImplementationAcknowledgement, view: SentView) -> Reconciliation:
    run = _Run("999", view)
    for group in ack.groups:
        gs06 = _number(group.group_control_number)
        sent_sets = view.group(gs06)
        if sent_sets is None:
            run.unmatched.append(
                Unmatched(gs06, _unknown(view, gs06, "999 AK1 for a group we never sent (GS06)"))
            )
            continue
        answered: set[str] = set()
        for set_ack in group.transaction_sets:
            st02 = _number(set_ack.control_number)
            answered.add(st02)
            claims = sent_sets.get(st02)
            if claims is None:
                run.unmatched.append(
                    Unmatched(
                        f"{gs06}/{st02}",
                        "999 AK2 for a transaction set we never sent in that group (ST02)",
                        {"gs06": gs06, "st02": st02, "status": set_ack.status},
                    )
                )
                continue
            _999_set(run, gs06, st02, set_ack.status, set_ack, claims)
        # Sets the 999 does not list follow the group verdict (AK9 A/E/R); with P they stay.
        group_status = group.status.upper()
        for st02, claims in sent_sets.items():
            if st02 in answered:
                continue
            if group_status in ("A", "E", "R"):
                reasons = (
                    Reason(
                        f"AK9-{group_status}",
                        "functional group rejected",
                        f"group GS06 {gs06}",
                        "fix the file's envelope, then resubmit the claim (frequency 1)",
                    ),
                )
                _999_set(run, gs06, st02, group_status, reasons, claims)
            else:
                for claim in claims:
                    cause = f"999 group {gs06} partially accepted; set {st02} not mentioned"
                    key = f"999:{gs06}:{st02}:{claim.claim_id}:{claim.sent_version}:unlisted"
                    run.add(claim, None, cause, key, gs06=gs06, st02=st02)
    return run.result()


def _999_set(
    run: _Run,
    gs06: str,
    st02: str,
    status: str,
    answer: TransactionSetResponse | tuple[Reason, ...],
    claims: Sequence[SentClaim],
) -> None:
    """Events for the claims of one set; ``answer`` is its AK2 loop, or the group's reasons."""
    status = status.upper()
    by_group = not isinstance(answer, TransactionSetResponse)
    via = f"AK9 {status} for group {gs06}" if by_group else f"IK5 {status}"
    for claim in claims:
        key = f"999:{gs06}:{st02}:{claim.claim_id}:{claim.sent_version}:{status}"
        extra: dict[str, Any] = {"gs06": gs06, "st02": st02}
        reasons = answer if isinstance(answer, tuple) else _set_reasons(answer, claim.claim_id)
        if status in ("A", "E"):
            cause = f"set {st02} of group {gs06} accepted by 999 ({via})"
            if status == "E":
                extra["detail"] = {"warnings": [r.as_dict() for r in reasons]}
            run.add(claim, S.ACKNOWLEDGED, cause, key, **extra)
        else:
            cause = f"set {st02} of group {gs06} rejected by 999 ({via})"
            run.add(claim, S.REJECTED, cause, key, reasons=reasons, **extra)


def _set_reasons(set_ack: TransactionSetResponse, claim_id: str) -> tuple[Reason, ...]:
    """The reasons for one claim of a rejected set: the errors in this claim (or in no named
    claim), and one line naming the other claims whose errors took this one down with the set."""
    reasons: list[Reason] = []
    others: list[str] = []
    action = "correct the claim data named here, then resubmit the claim (frequency 1)"
    st02 = set_ack.control_number
    for error in set_ack.segment_errors:
        in_claim = segment_error_claim(error)
        if in_claim and in_claim != claim_id:
            if in_claim not in others:
                others.append(in_claim)
            continue
        position = "" if error.segment_position is None else str(error.segment_position)
        place = f"position {position} in the set" if position else "the set"
        if error.loop_id:
            place += f", loop {error.loop_id}"
        tag = error.segment_id
        where = f"segment {tag} ({place})"
        if error.error_code:
            reasons.append(Reason(f"IK304-{error.error_code}", error.error_meaning, where, action))
        for element in error.element_errors:
            at = element_error_position(element)
            elem_where = f"{_element_name(tag, at)} in {where}"
            if element.data_element_reference:
                elem_where += f", data element {element.data_element_reference}"
            reasons.append(
                Reason(f"IK403-{element.error_code}", element.error_meaning, elem_where, action)
            )
    if others:
        reasons.append(
            Reason(
                "IK5-SET",
                "rejected with its transaction set because of errors in another claim",
                "claim " + ", ".join(others) + f" of transaction set {st02}",
                "nothing to correct in this claim: resubmit it as it is (frequency 1)",
            )
        )
    for coded in set_ack.error_codes:
        where = f"transaction set {st02}"
        reasons.append(Reason(f"IK502-{coded.code}", coded.meaning, where, action))
    if not reasons and set_ack.status.upper() not in ("A", "E"):
        reasons.append(Reason(f"IK501-{set_ack.status}", "transaction set rejected", "", action))
    return tuple(reasons)


def segment_error_claim(error: SegmentError) -> str:
    """The claim a 999 segment error is in: its CTX*CLM01:<id> business-unit context, if the
    999 gave one (else empty)."""
    for context in error.contexts:
        if context.context_name.upper() == "CLM01" and context.context_reference:
            return context.context_reference
    return ""


def element_error_position(error: ElementError) -> str:
    """IK401 (and its component): ``5`` or ``5-3``; empty when the 999 gave none."""
    element, component = error.element_position, error.component_position
    if element is None:
        return ""
    return f"{element}" if component is None else f"{element}-{component}"


def _element_name(tag: str, position: str) -> str:
    """``CLM`` + ``5-3`` -> ``CLM05-3`` (the guide's way of naming an element and component)."""
    element, _, component = position.partition("-")
    if not (element.isascii() and element.isdigit()):
        return f"{tag}{position}"
    return f"{tag}{int(element):02d}" + (f"-{component}" if component else "")


def _277ca(ack: ClaimAcknowledgement, view: SentView) -> Reconciliation:
    run = _Run("277CA", view)
    source = _source(ack)
    source_id = ack.information_sources[0].identifier if ack.information_sources else ""
    for status in ack.claims:
        statuses = _codes(status.statuses)
        found = view.claim(status.claim_id)
        # A payer's 277CA about an earlier leg (its information source is that leg's payer).
        claim = None if found is None else leg_view(found, "", source_id)
        if claim is None:
            run.unmatched.append(
                Unmatched(
                    status.claim_id,
                    "277CA claim status for a claim id (TRN02) we never sent",
                    {"statuses": [_stc_text(s) for s in statuses], "source": source},
                )
            )
            continue
        verdicts = {_stc_class(s) for s in statuses}
        line_reasons, line_detail = _277_lines(status, claim)
        codes = ",".join(sorted(_stc_text(s) for s in statuses))
        lines_key = ",".join(
            f"{ln.line_control_number}={'/'.join(_stc_text(s) for s in _codes(ln.statuses))}"
            for ln in status.lines
        )
        key = (
            # No version in the key: the same status re-sent after a resubmission (same source,
            # codes, date and payer number) is the old fact again, not news about the new version.
            f"277CA:{claim.claim_id}:{source}:{codes}:"
            f"{status.payer_claim_control_number}:{_status_date(status)}:{lines_key}"
        )
        detail: dict[str, Any] = {
            "statuses": [_stc_dict(s) for s in statuses],
            "source": source,
        }
        if status.clearinghouse_claim_id:
            detail["clearinghouse_claim_id"] = status.clearinghouse_claim_id
        if line_detail:
            detail["lines"] = line_detail
        extra: dict[str, Any] = {
            "payer_claim_control_number": status.payer_claim_control_number or None,
            "detail": detail,
        }
        who = f" from {source}" if source else ""
        if "rejected" in verdicts:
            reasons = tuple(
                _stc_reason(s) for s in statuses if _stc_class(s) == "rejected"
            ) + tuple(line_reasons)
            cause = f"rejected by 277CA{who} ({codes})"
            run.add(claim, S.PAYER_REJECTED, cause, key, reasons=reasons, **extra)
        elif "accepted" in verdicts:
            cause = f"accepted by 277CA{who} ({codes})"
            if line_reasons:
                detail["line_rejections"] = [r.as_dict() for r in line_reasons]
            run.add(claim, S.ACCEPTED, cause, key, **extra)
        else:
            cause = f"277CA{who} status {codes or 'none'} (pending or informational)"
            run.add(claim, None, cause, key, **extra)
    return run.result()


def _277_lines(status: ClaimStatus, claim: SentClaim) -> tuple[list[Reason], list[Any]]:
    reasons: list[Reason] = []
    detail: list[Any] = []
    known = set(claim.line_control_numbers)
    for line in status.lines:
        entry: dict[str, Any] = {
            "line_control_number": line.line_control_number,
            "statuses": [_stc_dict(s) for s in _codes(line.statuses)],
        }
        if known and line.line_control_number not in known:
            entry["unmatched"] = "line control number (REF*FJ) not among the lines we sent"
        detail.append(entry)
        procedure = ":".join([line.procedure_code, *line.modifiers]) if line.procedure_code else ""
        for stc in _codes(line.statuses):
            if _stc_class(stc) == "rejected":
                reason = _stc_reason(stc)
                reasons.append(
                    Reason(
                        reason.code,
                        reason.meaning,
                        f"service line {line.line_control_number}"
                        + (f" ({procedure})" if procedure else ""),
                        reason.action,
                    )
                )
    return reasons, detail


def _source(ack: ClaimAcknowledgement) -> str:
    """Who sent the statuses: the first information source's name (else its id)."""
    if not ack.information_sources:
        return ""
    first = ack.information_sources[0]
    return first.name or first.identifier


def _codes(statuses: Sequence[StatusInformation]) -> list[StatusCode]:
    """Every STC composite of a claim's (or line's) statuses, in order."""
    return [code for info in statuses for code in info.codes]


def _status_date(status: ClaimStatus) -> str:
    """The first STC02 effective date of the claim's statuses (ISO 8601), else empty."""
    for info in status.statuses:
        if info.effective_date is not None:
            return info.effective_date.isoformat()
    return ""


def _stc_text(stc: StatusCode) -> str:
    """``A7:562:85`` style code."""
    return ":".join(p for p in (stc.category, stc.status, stc.entity) if p)


def _stc_class(stc: StatusCode) -> str:
    """The reader's verdict for the status (``accepted``, ``rejected``, ``pending`` ...)."""
    return str(stc.classification.value)


def _stc_dict(stc: StatusCode) -> dict[str, str]:
    return {
        "code": _stc_text(stc),
        "category": stc.category_meaning,
        "status": stc.status_meaning,
        "entity": stc.entity_meaning,
    }


def _stc_reason(stc: StatusCode) -> Reason:
    meaning = "; ".join(
        m for m in (stc.category_meaning, stc.status_meaning, stc.entity_meaning) if m
    )
    where = f"entity {stc.entity}" + (f" ({stc.entity_meaning})" if stc.entity_meaning else "")
    return Reason(
        f"STC-{_stc_text(stc)}",
        meaning or "rejected by the payer or clearinghouse",
        where if stc.entity else "claim",
        "correct what the status names, then resubmit the claim (frequency 1)",
    )


def _reductions() -> frozenset[str]:
    """CARCs that lower the payment without denying anything (``gateway/codes/outcome_rules``)."""
    return frozenset(codes.table("outcome_rules"))


def _procedure(line: ServiceLine) -> str:
    """``99213:25`` (the procedure and its modifiers), else the revenue code."""
    if line.procedure is not None:
        return ":".join([line.procedure.code, *line.procedure.modifiers])
    return line.revenue_code


def _835(remit: Remittance, view: SentView) -> Reconciliation:
    run = _Run("835", view)
    trace = remit.header.trace_number
    payer = remit.header.payer
    payer_id = payer.identifier if payer is not None else ""
    reductions = _reductions()
    # BPR16: the check issue or EFT effective date (what days to payment runs to).
    paid_on = remit.header.payment_date.isoformat() if remit.header.payment_date else None
    for clp in remit.claims:
        found = view.claim(clp.claim_id)
        if found is None:
            run.unmatched.append(
                Unmatched(
                    clp.claim_id,
                    "835 claim payment for a claim id (CLP01) we never sent",
                    {"status": clp.status_code, "paid": str(clp.paid_amount), "trace": trace},
                )
            )
            continue
        claim = leg_view(found, clp.status_code, payer_id, clp.payer_claim_control_number)
        reasons = tuple(_denials(clp, reductions))
        line_detail = _835_lines(clp, claim)
        code = clp.status_code
        paid, charge = clp.paid_amount, clp.total_charge
        payer_claim = clp.payer_claim_control_number or None
        outcome = str(clp.outcome.value)  # the reader's claim_outcome
        target: ClaimState | None
        if outcome == "reversed":
            target = S.VOIDED if claim.frequency == "8" else S.REVERSED
            what = "reversal of an earlier payment (CLP02 22)"
            reasons = ()
        elif outcome == "predetermination":
            target, what = None, "predetermination only (CLP02 25), no payment"
        elif outcome == "not_our_claim":
            target, what = S.DENIED, "not this payer's claim (CLP02 23)"
        elif outcome == "denied":
            target, what = S.DENIED, f"denied: paid {paid} (CLP02 {code})"
        elif outcome == "patient_responsibility":
            target = S.PAID
            what = f"adjudicated: nothing payable by the payer, the patient owes (CLP02 {code})"
        elif outcome == "partially_paid":
            target, what = S.PARTIALLY_PAID, f"partially paid {paid} of {charge}"
        else:
            target, what = S.PAID, f"paid {paid} of {charge}"
        if target == S.DENIED and not reasons:
            meaning = clp.status_meaning or outcome.replace("_", " ")
            reasons = (
                Reason(
                    f"CLP02-{code}",
                    meaning,
                    "claim",
                    "review the remittance, correct and resubmit or appeal",
                ),
            )
        key = f"835:{trace}:{clp.claim_id}:{code}:{paid}:{charge}:{clp.payer_claim_control_number}"
        detail: dict[str, Any] = {
            "outcome": outcome,
            "status_code": code,
            "status": clp.status_meaning,
            "charge": str(charge),
            "paid": str(paid),
            "trace_number": trace,
            "payer_id": payer_id,
            "adjustments": [_adj_dict(a) for a in clp.adjustments],
            "remarks": [{"code": r.code, "meaning": r.meaning} for r in clp.remarks],
        }
        if paid_on:
            detail["payment_date"] = paid_on
        if clp.patient_responsibility is not None:
            detail["patient_responsibility"] = str(clp.patient_responsibility)
        if line_detail:
            detail["lines"] = line_detail
        if charge != claim.total_charge and code != "22":
            detail["charge_differs"] = f"we billed {claim.total_charge}, the 835 shows {charge}"
        if claim.legs or claim.next_leg is not None or claim.leg != 1:
            detail["leg"] = claim.leg
            what += f" [{leg_name(claim.leg)} payer {payer_id or '?'}]"
        step = coordination(found, claim, clp, run.state_of(claim), target)
        if step:
            detail["coordination"] = step
            forwarded_to = crossover_payer_id(clp)
            if forwarded_to is not None:
                detail["forwarded_to"] = forwarded_to
        run.add(
            claim,
            target,
            f"835 {what}",
            key,
            amount=paid,
            paid_amount=paid,
            patient_responsibility=clp.patient_responsibility,
            payer_claim_control_number=payer_claim,
            reasons=reasons if target == S.DENIED else (),
            detail=detail,
        )
    return run.result()


def _denials(clp: Claim, reductions: frozenset[str]) -> list[Reason]:
    action = "correct the claim and resubmit (7 with the payer claim number), or appeal"
    found: list[Reason] = []
    for adj in clp.adjustments:
        if is_denial(adj, reductions):
            found.append(_carc_reason(adj, "claim", action))
    for line in clp.lines:
        for adj in line.adjustments:
            if is_denial(adj, reductions):
                where = f"service line {line.line_control_number or '?'} ({_procedure(line)})"
                found.append(_carc_reason(adj, where, action))
    return found


def _carc_reason(adj: Adjustment, where: str, action: str) -> Reason:
    meaning = adj.reason_meaning or "claim adjustment reason"
    return Reason(f"{adj.group}-{adj.reason}", f"{meaning} ({adj.amount})", where, action)


def _adj_dict(adj: Adjustment) -> dict[str, str]:
    return {
        "group": adj.group,
        "reason": adj.reason,
        "amount": str(adj.amount),
        "meaning": adj.reason_meaning,
    }


def _835_lines(clp: Claim, claim: SentClaim) -> list[dict[str, Any]]:
    known = set(claim.line_control_numbers)
    out: list[dict[str, Any]] = []
    for line in clp.lines:
        entry: dict[str, Any] = {
            "line_control_number": line.line_control_number,
            "procedure": _procedure(line),
            "charge": str(line.charge),
            "paid": str(line.paid),
            "adjustments": [_adj_dict(a) for a in line.adjustments],
        }
        if line.allowed_amount is not None:
            entry["allowed"] = str(line.allowed_amount)  # AMT*B6
        if line.remarks:
            entry["remarks"] = [{"code": r.code, "meaning": r.meaning} for r in line.remarks]
        if known and line.line_control_number and line.line_control_number not in known:
            entry["unmatched"] = "line control number (REF*6R) not among the lines we sent"
        out.append(entry)
    return out


def _number(value: str) -> str:
    """Control numbers compare as numbers: ``000000123`` and ``123`` are the same interchange."""
    text = value.strip()
    return text.lstrip("0") or "0" if text.isascii() and text.isdigit() else text


def _key(text: str) -> str:
    if len(text) <= _KEY_LIMIT:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()
    return text[: _KEY_LIMIT - 65] + "#" + digest


def references(response: Response) -> tuple[list[str], list[str], list[str]]:
    """The ISA13s, GS06s and claim ids a response refers to (what the ledger must load)."""
    isa13s: list[str] = []
    gs06s: list[str] = []
    claim_ids: list[str] = []
    if isinstance(response, InterchangeAcknowledgement):
        isa13s.append(_number(response.control_number))
    elif isinstance(response, ImplementationAcknowledgement):
        gs06s.extend(_number(g.group_control_number) for g in response.groups)
    elif isinstance(response, ClaimAcknowledgement):
        claim_ids.extend(c.claim_id for c in response.claims)
    else:
        claim_ids.extend(c.claim_id for c in response.claims)
    return isa13s, gs06s, claim_ids


def normalize_control_number(value: str) -> str:
    """The form control numbers are stored and compared in (no leading zeros)."""
    return _number(value)
