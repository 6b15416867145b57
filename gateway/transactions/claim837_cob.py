"""Coordination of benefits in the 837P and 837I: the claim's other payers (loops 2320, 2330A,
2330B) and their decisions on each service line (loop 2430).

The builders call ``cob_plan`` first (it refuses what the TR3s cannot carry), write
``other_payer_loops`` after the last 2310 loop and ``line_adjudication_loops`` at the end of each
2400 loop. Amounts are written exactly as the adjudication gives them: nothing is computed but the
sum of a line's patient-responsibility adjustments (2430 AMT*EAF), and nothing is balanced here
(the scrubber says which amounts disagree). Example, a secondary claim after a primary that paid
line by line::

    SBR*P*18*GRP00451******CI~              2320 the primary (SBR01 its place)
    AMT*D*120~                              what it paid
    OI***Y***Y~
    NM1*IL*1*DOE*JANE****MI*UH4471829001~   2330A its subscriber
    NM1*PR*2*UNITED HEALTHCARE*****PI*87726~
    REF*F8*UHC20261101777~                  2330B its claim control number
    ...
    SVD*87726*120*HC:99214:25**1~           2430 under the line's 2400
    CAS*CO*45*40~
    CAS*PR*2*25~
    DTP*573*D8*20261120~
    AMT*EAF*25~

Rules of the TR3s followed here (005010X222A1 and 005010X223A2 agree unless said):

* each payer responsibility code (P, S, T, A-H) appears once in a claim, 2000B and 2320 together
  (``U`` may repeat); at most 10 other payers;
* CAS holds one group code and up to 6 adjustments; at most 5 CAS in a 2320 or a 2430;
* 2330B DTP*573 only when the payer's decision comes without line detail (with line detail the
  date is in each 2430); AMT*EAF at the claim level (2320) or the line level (2430), never both;
* MOA carries remark codes on the 837P and an outpatient 837I; an inpatient 837I reports them in
  MIA, whose covered days (MIA01, required) the contract does not hold, so they are left out;
* SBR05 (insurance type) is written on the 837P only, and only for a payer that is not primary;
* 2430 repeats at most 15 times per line; SVD03 is the procedure as adjudicated (837P: required;
  837I: when there is one), SVD04 the revenue code (837I only), SVD05 the paid units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from gateway.edits.codelists import INPATIENT_FACILITY_TYPES
from gateway.models import (
    Adjudication,
    AdjudicationAdjustment,
    AdjustmentGroup,
    Encounter,
    LineAdjudication,
    OtherPayer,
    PayerResponsibility,
    ServiceLine,
    limits,
)
from gateway.models.cob import service_line_index
from gateway.transactions.claim837_common import (
    ClaimBuildError,
    ClaimWriter,
    address,
    amount,
    d8,
)

__all__ = [
    "CobPlan",
    "LineDecision",
    "cob_plan",
    "line_adjudication_loops",
    "other_payer_loops",
]


@dataclass(frozen=True, slots=True)
class LineDecision:
    """One other payer's decision on one service line: what its 2430 loop carries."""

    payer: OtherPayer
    adjudication: Adjudication
    line: LineAdjudication


@dataclass(frozen=True, slots=True)
class CobPlan:
    """What the COB loops of one claim hold, checked before anything is written."""

    lines: tuple[tuple[LineDecision, ...], ...]  # per service line (0-based), in payer order;
    # empty when the claim names no other payer
    remarks: bool  # whether MOA may carry remark codes (837P, outpatient 837I)
    professional: bool


def cob_plan(enc: Encounter, *, professional: bool) -> CobPlan:
    """Check what the 2320/2330/2430 loops of ``enc`` need and match each line decision to its
    service line. Raises ``ClaimBuildError`` naming the field for what the TR3 cannot carry."""
    payers = enc.other_payers
    if not payers:
        return _NO_OTHER_PAYERS[professional]  # the common case, on the builder's hot path
    cid = enc.claim_id
    if len(payers) > limits.MAX_OTHER_PAYERS:
        raise ClaimBuildError(
            cid,
            "other_payers",
            f"a claim names at most {limits.MAX_OTHER_PAYERS} other payers (loop 2320)",
        )
    seen = {enc.subscriber.payer_responsibility: "the claim's own payer (2000B SBR01)"}
    per_line: list[list[LineDecision]] = [[] for _ in enc.service_lines]
    for i, other in enumerate(payers):
        where = f"other_payers[{i}]"
        place = other.responsibility
        if place is not PayerResponsibility.UNKNOWN:
            if place in seen:
                raise ClaimBuildError(
                    cid,
                    f"{where}.responsibility",
                    f"{place.value} ({place.x12_code}) is already {seen[place]}: each place in "
                    "the order of payment appears once in a claim",
                )
            seen[place] = where
        decision = other.adjudication
        if decision is None:
            continue
        if len(decision.remark_codes) > limits.MAX_REMARK_CODES:
            raise ClaimBuildError(
                cid,
                f"{where}.adjudication.remark_codes",
                f"MOA carries at most {limits.MAX_REMARK_CODES} remark codes",
            )
        _cas_count(cid, f"{where}.adjudication.adjustments", decision.adjustments)
        for j, line in enumerate(decision.lines):
            path = f"{where}.adjudication.lines[{j}]"
            index = service_line_index(enc, line.line_id)
            if index is None:
                raise ClaimBuildError(
                    cid,
                    f"{path}.line_id",
                    "names no service line: give a line's line_id, or its 1-based position when "
                    "the lines have no line_id",
                )
            if len(line.modifiers) > limits.MAX_MODIFIERS:
                raise ClaimBuildError(
                    cid,
                    f"{path}.modifiers",
                    f"at most {limits.MAX_MODIFIERS} modifiers fit in SVD03",
                )
            _cas_count(cid, f"{path}.adjustments", line.adjustments)
            per_line[index].append(LineDecision(other, decision, line))
    for index, decisions in enumerate(per_line):
        if len(decisions) > limits.MAX_LINE_ADJUDICATIONS:
            raise ClaimBuildError(
                cid,
                f"service_lines[{index}]",
                f"a line carries at most {limits.MAX_LINE_ADJUDICATIONS} other payers' decisions "
                "(loop 2430)",
            )
    inst = enc.institutional
    inpatient = inst is not None and inst.facility_type in INPATIENT_FACILITY_TYPES
    return CobPlan(tuple(tuple(d) for d in per_line), professional or not inpatient, professional)


_NO_OTHER_PAYERS = {kind: CobPlan((), True, kind) for kind in (True, False)}


def other_payer_loops(w: ClaimWriter, enc: Encounter, plan: CobPlan, out: list[str]) -> None:
    """Append a 2320 loop, with its 2330A and 2330B, for each of ``enc.other_payers``.

    ``SBR*P*18*G77******CI~`` ``CAS*CO*45*40~`` ``AMT*D*120~`` ``AMT*EAF*25~`` ``OI***Y***Y~``
    ``MOA***N130~`` ``NM1*IL*1*DOE*JOHN****MI*W123456789~`` ``NM1*PR*2*AETNA*****PI*60054~``
    ``DTP*573*D8*20261120~`` ``REF*F8*AE991~``
    """
    benefits = "Y" if enc.benefits_assigned else "N"
    release = enc.release_of_information.value
    for other in enc.other_payers:
        sub = other.subscriber
        decision = other.adjudication
        sbr05 = ""
        if plan.professional and other.responsibility is not PayerResponsibility.PRIMARY:
            sbr05 = sub.insurance_type or ""
        # SBR01 that payer's place, SBR02 its subscriber's relationship to the patient, SBR03
        # group or policy number, SBR04 group name, SBR05 insurance type (837P), SBR09 claim
        # filing indicator
        out.append(
            w.segment(
                "SBR",
                other.responsibility.x12_code,
                sub.relationship_to_patient.value,
                sub.group_number or "",
                sub.group_name or "",
                sbr05,
                "",
                "",
                "",
                sub.claim_filing_indicator.value,
            )
        )
        line_detail = False
        if decision is not None:
            line_detail = bool(decision.lines)
            out.extend(_cas(w, decision.adjustments))  # claim-level adjustments
            out.append(w.known("AMT", "D", amount(decision.paid_amount)))  # payer paid amount
            if decision.patient_responsibility is not None and not line_detail:
                # remaining patient liability: here when the payer gave no line detail, else in
                # each 2430 (the TR3s allow one level, not both)
                out.append(w.known("AMT", "EAF", amount(decision.patient_responsibility)))
        # OI03 benefits assignment certification (CLM08), OI06 release of information (CLM09)
        out.append(w.known("OI", "", "", benefits, "", "", release))
        if decision is not None and decision.remark_codes and plan.remarks:
            # MOA03-MOA07 claim payment remark codes (MOA01 rate, MOA02 payable amount unknown)
            out.append(w.segment("MOA", "", "", *decision.remark_codes))
        # 2330A other subscriber: NM102 1 person, NM108 MI member identification number
        out.append(
            w.segment(
                "NM1",
                "IL",
                "1",
                sub.last_name,
                sub.first_name or "",
                sub.middle_name or "",
                "",
                sub.suffix or "",
                "MI",
                sub.member_id,
            )
        )
        if sub.address is not None:
            address(w, out, sub.address)
        # 2330B other payer: NM102 2, NM108 PI payer identification (SVD01 names it again)
        payer = other.payer
        out.append(w.segment("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.id))
        if payer.address is not None:
            address(w, out, payer.address)
        if decision is not None:
            if not line_detail:
                # DTP*573 adjudication or payment date, when there is no 2430 to carry it
                out.append(w.known("DTP", "573", "D8", d8(decision.paid_date)))
            if decision.payer_claim_control_number:
                out.append(w.segment("REF", "F8", decision.payer_claim_control_number))


def line_adjudication_loops(
    w: ClaimWriter, plan: CobPlan, index: int, line: ServiceLine, out: list[str]
) -> None:
    """Append the 2430 loops of service line ``index``: each other payer's decision on it.

    837P ``SVD*87726*120*HC:99214:25**1~``; 837I ``SVD*60054*800*HC:71046*0320*1~``;
    then ``CAS*CO*45*40~`` ``DTP*573*D8*20261120~`` ``AMT*EAF*25~``.
    """
    if not plan.lines:
        return
    for decision in plan.lines[index]:
        given = decision.line
        if given.procedure_code is None and not given.modifiers:
            code, modifiers = line.procedure_code, line.modifiers  # adjudicated as billed
        else:
            code, modifiers = given.procedure_code or line.procedure_code, given.modifiers
        procedure = ["HC", code, *modifiers] if code else []
        revenue = "" if plan.professional else given.revenue_code or line.revenue_code or ""
        units = given.units if given.units is not None else line.units
        # SVD01 other payer primary identifier (its 2330B NM109), SVD02 line paid amount, SVD03
        # procedure as adjudicated, SVD04 revenue code (837I only), SVD05 paid units
        out.append(
            w.segment(
                "SVD",
                decision.payer.payer.id,
                amount(given.paid_amount),
                procedure,
                revenue,
                amount(units),
            )
        )
        out.extend(_cas(w, given.adjustments))
        when = given.adjudication_date or decision.adjudication.paid_date
        out.append(w.known("DTP", "573", "D8", d8(when)))  # line adjudication or payment date
        patient = [a.amount for a in given.adjustments if a.group is AdjustmentGroup.PATIENT]
        if patient:
            # remaining patient liability of the line: its patient-responsibility adjustments
            out.append(w.known("AMT", "EAF", amount(sum(patient, Decimal(0)))))


def _cas(w: ClaimWriter, adjustments: Sequence[AdjudicationAdjustment]) -> list[str]:
    """CAS segments: one group code each, up to 6 reason/amount/quantity triplets, groups in the
    order they first appear. ``CAS*PR*1*20**2*5~``"""
    segments: list[str] = []
    for group, items in _grouped(adjustments).items():
        for start in range(0, len(items), limits.MAX_CAS_ADJUSTMENTS):
            triplets: list[str] = []
            for adj in items[start : start + limits.MAX_CAS_ADJUSTMENTS]:
                quantity = amount(adj.quantity) if adj.quantity is not None else ""
                triplets += [adj.reason, amount(adj.amount), quantity]
            # CAS01 group code, CAS02/05/08/11/14/17 reason, CAS03/06/... amount, CAS04/07/...
            # quantity
            segments.append(w.segment("CAS", group, *triplets))
    return segments


def _grouped(
    adjustments: Sequence[AdjudicationAdjustment],
) -> dict[str, list[AdjudicationAdjustment]]:
    groups: dict[str, list[AdjudicationAdjustment]] = {}
    for adj in adjustments:
        groups.setdefault(adj.group.value, []).append(adj)
    return groups


def _cas_count(cid: str, path: str, adjustments: Sequence[AdjudicationAdjustment]) -> None:
    """Refuse adjustments that need more than the 5 CAS segments a 2320 or 2430 may hold."""
    per = limits.MAX_CAS_ADJUSTMENTS
    needed = sum(-(-len(items) // per) for items in _grouped(adjustments).values())
    if needed > limits.MAX_CAS_SEGMENTS:
        raise ClaimBuildError(
            cid,
            path,
            f"these adjustments need {needed} CAS segments (one per group code, {per} "
            f"adjustments each); a loop holds at most {limits.MAX_CAS_SEGMENTS}",
        )
