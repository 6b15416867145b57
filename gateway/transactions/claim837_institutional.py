"""Loop 2300 (claim) and 2400 (service lines) of the 837I, 005010X223A2.

One call per encounter; the envelope module puts the result under the right HL loops. Example of
what ``claim_segments`` writes for an inpatient stay::

    CLM*SMH-IP-2026-10077*21942.3***11:A:1**A*Y*Y~
    DTP*096*TM*1130~
    DTP*434*RD8*20261012-20261015~
    DTP*435*DT*202610122215~
    CL1*1*7*01~
    HI*ABK:I214~
    HI*ABJ:R0789~
    HI*ABF:E119*ABF:I10~
    HI*BH:11:D8:20261012~
    HI*BE:80:::3~
    HI*BG:39~
    NM1*71*1*PATEL*RAVI****XX*1045678905~
    LX*1~
    SV2*0120**6300*DA*3~
    DTP*472*D8*20261012~
    REF*6R*SMH10077-1~

A line's ``prior_authorization`` has no place in the 837I (2400 carries no REF*G1); send it at the
claim level.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from gateway.models import Encounter, Frequency, Kind, UnitType, limits
from gateway.transactions import claim837_cob as cob
from gateway.transactions.claim837_common import (
    ClaimBuildError,
    ClaimWriter,
    address,
    amount,
    check_original_claim_number,
    check_total,
    d8,
    line_control_number,
    provider_nm1,
)
from gateway.x12 import Element

__all__ = ["IMPLEMENTATION", "MAX_DIAGNOSES", "MAX_LINES", "claim_segments"]

IMPLEMENTATION = "005010X223A2"
MAX_LINES = limits.MAX_LINES[Kind.INSTITUTIONAL]  # 2400 repeats at most 999 times per claim
MAX_DIAGNOSES = limits.MAX_DIAGNOSES[Kind.INSTITUTIONAL]  # HI*ABK + two HI*ABF segments of 12
_PER_HI = 12  # composites per HI segment
_HI_REPEATS = 2  # BBQ, BI, BH, BE, BG and ABF HI segments may each appear twice


def claim_segments(
    w: ClaimWriter, enc: Encounter, out: list[str]
) -> tuple[Decimal, tuple[str, ...]]:
    """Append the 2300/2400 segments of ``enc``; return CLM02 and the REF*6R line numbers.

    Raises ``ClaimBuildError`` for what the 837I cannot carry (no ``institutional`` block, no
    revenue code on a line, more codes of a kind than two HI segments hold...).
    """
    cid = enc.claim_id
    inst = enc.institutional
    if inst is None:
        raise ClaimBuildError(cid, "institutional", "an institutional claim needs this block")
    lines = enc.service_lines
    if not lines:
        raise ClaimBuildError(cid, "service_lines", "a claim needs at least one service line")
    if len(lines) > MAX_LINES:
        raise ClaimBuildError(
            cid, "service_lines", f"an 837I claim carries at most {MAX_LINES} lines"
        )
    diagnoses = enc.diagnoses
    if not diagnoses:
        raise ClaimBuildError(cid, "diagnoses", "a claim needs a principal diagnosis (HI*ABK)")
    if len(diagnoses) > MAX_DIAGNOSES:
        raise ClaimBuildError(
            cid, "diagnoses", f"an 837I claim carries at most {MAX_DIAGNOSES} diagnoses"
        )
    total = sum((line.charge for line in lines), Decimal(0))  # CLM02 = sum of SV203
    check_total(enc, total)
    check_original_claim_number(enc)
    plan = cob.cob_plan(enc, professional=False)

    # CLM01 patient control number, CLM02 total claim charge, CLM05-1 facility type code (first
    # two digits of the type of bill), CLM05-2 A (uniform billing claim form bill type),
    # CLM05-3 claim frequency code, CLM07 assignment, CLM08 benefits assignment, CLM09 release of
    # information, CLM20 delay reason code (CLM06 is not used on the 837I)
    out.append(
        w.segment(
            "CLM",
            cid,
            amount(total),
            "",
            "",
            [inst.facility_type, "A", enc.frequency.value],
            "",
            "A" if enc.accept_assignment else "C",
            "Y" if enc.benefits_assigned else "N",
            enc.release_of_information.value,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            enc.delay_reason_code or "",
        )
    )
    if inst.discharge_hour:
        out.append(w.segment("DTP", "096", "TM", inst.discharge_hour))  # discharge hour HHMM
    # DTP*434 statement covers period, always a range (RD8)
    out.append(w.segment("DTP", "434", "RD8", f"{d8(inst.statement_from)}-{d8(inst.statement_to)}"))
    if inst.admission_date is not None:
        # DTP*435 admission date (D8) or date and hour (DT, CCYYMMDDHHMM)
        if inst.admission_hour:
            out.append(w.segment("DTP", "435", "DT", d8(inst.admission_date) + inst.admission_hour))
        else:
            out.append(w.segment("DTP", "435", "D8", d8(inst.admission_date)))
    # CL101 priority (type) of admission, CL102 point of origin (source), CL103 patient status
    out.append(
        w.segment(
            "CL1", inst.admission_type or "", inst.admission_source or "", inst.patient_status
        )
    )
    # REF in the guide's order: 9F referral, G1 prior authorization, F8 payer claim control number
    # (frequency 7/8 only), EA medical record number
    if enc.referral_number:
        out.append(w.segment("REF", "9F", enc.referral_number))
    if enc.prior_authorization:
        out.append(w.segment("REF", "G1", enc.prior_authorization))
    if enc.frequency is not Frequency.ORIGINAL and enc.original_payer_claim_number:
        out.append(w.segment("REF", "F8", enc.original_payer_claim_number))
    if enc.medical_record_number:
        out.append(w.segment("REF", "EA", enc.medical_record_number))
    if enc.note:
        out.append(w.segment("NTE", "ADD", enc.note))  # billing note

    # HI segments in the guide's order: ABK principal, ABJ admitting, APR reason for visit, DR
    # diagnosis related group, ABF other diagnoses, BBR principal procedure, BBQ other procedures,
    # BI occurrence spans, BH occurrences, BE values, BG conditions
    out.append(w.segment("HI", ["ABK", diagnoses[0]]))
    if inst.admitting_diagnosis:
        out.append(w.segment("HI", ["ABJ", inst.admitting_diagnosis]))
    if inst.reason_for_visit_diagnoses:
        if len(inst.reason_for_visit_diagnoses) > 3:
            raise ClaimBuildError(
                cid, "institutional.reason_for_visit_diagnoses", "at most 3 fit in HI*APR"
            )
        out.append(w.segment("HI", *(["APR", c] for c in inst.reason_for_visit_diagnoses)))
    if inst.drg_code:
        out.append(w.segment("HI", ["DR", inst.drg_code]))
    _hi(w, out, cid, "diagnoses", [["ABF", c] for c in diagnoses[1:]])
    if inst.principal_procedure is not None:
        proc = inst.principal_procedure
        out.append(w.segment("HI", ["BBR", proc.code, "D8", d8(proc.date)]))
    _hi(
        w,
        out,
        cid,
        "institutional.other_procedures",
        [["BBQ", p.code, "D8", d8(p.date)] for p in inst.other_procedures],
    )
    _hi(
        w,
        out,
        cid,
        "institutional.occurrence_span_codes",
        [
            ["BI", s.code, "RD8", f"{d8(s.from_date)}-{d8(s.to_date)}"]
            for s in inst.occurrence_span_codes
        ],
    )
    _hi(
        w,
        out,
        cid,
        "institutional.occurrence_codes",
        [["BH", o.code, "D8", d8(o.date)] for o in inst.occurrence_codes],
    )
    _hi(
        w,
        out,
        cid,
        "institutional.value_codes",
        [["BE", v.code, "", "", amount(v.amount)] for v in inst.value_codes],  # HI0n-5 amount
    )
    _hi(w, out, cid, "institutional.condition_codes", [["BG", c] for c in inst.condition_codes])

    # 2310A attending (71, PRV*AT), 2310B operating (72), 2310C other operating (ZZ), 2310D
    # rendering (82), 2310E service facility (77), 2310F referring (DN)
    if enc.attending_provider is not None:
        provider_nm1(w, out, "71", enc.attending_provider)
        if enc.attending_provider.taxonomy:
            out.append(w.segment("PRV", "AT", "PXC", enc.attending_provider.taxonomy))
    if enc.operating_provider is not None:
        provider_nm1(w, out, "72", enc.operating_provider)
    if enc.other_operating_provider is not None:
        provider_nm1(w, out, "ZZ", enc.other_operating_provider)
    if enc.rendering_provider is not None:
        provider_nm1(w, out, "82", enc.rendering_provider)
    facility = enc.service_facility
    if facility is not None:
        npi = facility.npi or ""
        out.append(
            w.segment("NM1", "77", "2", facility.name, "", "", "", "", "XX" if npi else "", npi)
        )
        address(w, out, facility.address)
    if enc.referring_provider is not None:
        provider_nm1(w, out, "DN", enc.referring_provider)
    # 2320/2330A/2330B: the other payers, after the last 2310 loop
    cob.other_payer_loops(w, enc, plan, out)

    controls: list[str] = []
    for index, line in enumerate(lines):
        if not line.revenue_code:
            raise ClaimBuildError(
                cid, f"service_lines[{index}].revenue_code", "an 837I line needs a revenue code"
            )
        if line.unit_type is UnitType.MINUTES:
            raise ClaimBuildError(
                cid, f"service_lines[{index}].unit_type", "SV204 takes only UN or DA on an 837I"
            )
        if len(line.modifiers) > 4:
            raise ClaimBuildError(
                cid, f"service_lines[{index}].modifiers", "at most 4 modifiers fit in SV202"
            )
        out.append(w.known("LX", str(index + 1)))  # LX01 assigned number, 1..n
        procedure: list[str] = []
        if line.procedure_code:
            mods = list(line.modifiers) + [""] * (4 - len(line.modifiers))
            procedure = ["HC", line.procedure_code, *mods, line.description or ""]
        # SV201 revenue code, SV202 HC:procedure:modifiers, SV203 line charge, SV204 unit basis
        # (UN units / DA days), SV205 quantity, SV207 non-covered charge
        noncovered = line.non_covered_charge
        out.append(
            w.segment(
                "SV2",
                line.revenue_code,
                procedure,
                amount(line.charge),
                line.unit_type.value,
                amount(line.units),
                "",
                amount(noncovered) if noncovered is not None else "",
            )
        )
        if line.service_date_to is not None and line.service_date_to != line.service_date:
            out.append(
                w.known("DTP", "472", "RD8", f"{d8(line.service_date)}-{d8(line.service_date_to)}")
            )
        else:
            out.append(w.known("DTP", "472", "D8", d8(line.service_date)))
        control = line_control_number(enc, index)
        controls.append(control)
        out.append(w.segment("REF", "6R", control))  # line item control number
        if line.ndc is not None:
            ndc = line.ndc
            out.append(w.segment("LIN", "", "N4", ndc.code))
            out.append(w.known("CTP", "", "", "", amount(ndc.quantity), ndc.unit.value))
            if ndc.prescription_number:
                out.append(w.segment("REF", "XZ", ndc.prescription_number))
        if line.rendering_provider is not None:
            provider_nm1(w, out, "82", line.rendering_provider)  # 2420C line rendering provider
        # 2430: the other payers' decisions on this line, after the 2420 loops
        cob.line_adjudication_loops(w, plan, index, line, out)
    return total, tuple(controls)


def _hi(
    w: ClaimWriter, out: list[str], claim_id: str, path: str, composites: Sequence[Element]
) -> None:
    """Up to two HI segments of twelve composites each, for one code set."""
    if not composites:
        return
    if len(composites) > _PER_HI * _HI_REPEATS:
        raise ClaimBuildError(
            claim_id, path, f"at most {_PER_HI * _HI_REPEATS} codes of this kind fit in the 837I"
        )
    for start in range(0, len(composites), _PER_HI):
        out.append(w.segment("HI", *composites[start : start + _PER_HI]))
