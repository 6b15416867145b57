"""Loop 2300 (claim) and 2400 (service lines) of the 837P, 005010X222A1.

One call per encounter; the envelope module puts the result under the right HL loops. Example of
what ``claim_segments`` writes::

    CLM*VFP-20261101-0001*227.5***11:B:1*Y*A*Y*Y~
    HI*ABK:E119*ABF:I10*ABF:Z7984~
    NM1*82*1*CARTER*ANNA****XX*1645123450~
    PRV*PE*PXC*207Q00000X~
    LX*1~
    SV1*HC:99214:25*185*UN*1***1:2~
    DTP*472*D8*20261101~
    REF*6R*VFP0001-1~
"""

from __future__ import annotations

from decimal import Decimal

from gateway.models import Encounter, Frequency, Kind, limits
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

__all__ = ["IMPLEMENTATION", "MAX_DIAGNOSES", "MAX_LINES", "claim_segments"]

IMPLEMENTATION = "005010X222A1"
MAX_LINES = limits.MAX_LINES[Kind.PROFESSIONAL]  # 2400 repeats at most 50 times per claim
MAX_DIAGNOSES = limits.MAX_DIAGNOSES[Kind.PROFESSIONAL]  # HI01-HI12
MAX_POINTERS = limits.MAX_POINTERS  # SV107-1..4


def claim_segments(
    w: ClaimWriter, enc: Encounter, out: list[str]
) -> tuple[Decimal, tuple[str, ...]]:
    """Append the 2300/2400 segments of ``enc``; return CLM02 and the REF*6R line numbers.

    Raises ``ClaimBuildError`` for what the 837P cannot carry (no place of service, more than 50
    lines or 12 diagnoses, a pointer to no diagnosis).
    """
    cid = enc.claim_id
    lines = enc.service_lines
    if not lines:
        raise ClaimBuildError(cid, "service_lines", "a claim needs at least one service line")
    if len(lines) > MAX_LINES:
        raise ClaimBuildError(
            cid, "service_lines", f"an 837P claim carries at most {MAX_LINES} lines"
        )
    if not enc.place_of_service:
        raise ClaimBuildError(cid, "place_of_service", "a professional claim needs CLM05-1")
    diagnoses = enc.diagnoses
    if not diagnoses:
        raise ClaimBuildError(cid, "diagnoses", "a claim needs a principal diagnosis (HI*ABK)")
    if len(diagnoses) > MAX_DIAGNOSES:
        raise ClaimBuildError(
            cid, "diagnoses", f"an 837P claim carries at most {MAX_DIAGNOSES} diagnoses"
        )
    total = sum((line.charge for line in lines), Decimal(0))  # CLM02 = sum of SV102
    check_total(enc, total)
    check_original_claim_number(enc)
    plan = cob.cob_plan(enc, professional=True)

    # CLM01 patient control number, CLM02 total claim charge, CLM05-1 place of service,
    # CLM05-2 B (facility code qualifier), CLM05-3 claim frequency code, CLM06 provider
    # signature, CLM07 assignment (A accepted / C not), CLM08 benefits assignment, CLM09 release
    # of information, CLM11 related causes (-1, -2, -4 auto accident state), CLM20 delay reason
    causes = [c.value for c in enc.related_causes[:2]]
    related: list[str] = []
    if causes:
        related = [causes[0], causes[1] if len(causes) > 1 else "", "", enc.accident_state or ""]
    out.append(
        w.segment(
            "CLM",
            cid,
            amount(total),
            "",
            "",
            [enc.place_of_service, "B", enc.frequency.value],
            "Y" if enc.signature_on_file else "N",
            "A" if enc.accept_assignment else "C",
            "Y" if enc.benefits_assigned else "N",
            enc.release_of_information.value,
            "",
            related,
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
    # DTP in the guide's order: 431 onset, 454 initial treatment, 304 last seen, 453 acute
    # manifestation, 439 accident, 484 last menstrual period, 435 admission, 096 discharge
    for qualifier, when in (
        ("431", enc.onset_date),
        ("454", enc.initial_treatment_date),
        ("304", enc.last_seen_date),
        ("453", enc.acute_manifestation_date),
        ("439", enc.accident_date),
        ("484", enc.last_menstrual_period_date),
        ("435", enc.hospitalized_from),
        ("096", enc.hospitalized_to),
    ):
        if when is not None:
            out.append(w.known("DTP", qualifier, "D8", d8(when)))
    if enc.patient_amount_paid is not None:
        out.append(w.known("AMT", "F5", amount(enc.patient_amount_paid)))
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
        out.append(w.segment("NTE", "ADD", enc.note))
    # HI01 ABK principal diagnosis (ICD-10-CM), HI02-HI12 ABF other diagnoses
    out.append(
        w.segment(
            "HI",
            *(["ABK" if i == 0 else "ABF", code] for i, code in enumerate(diagnoses)),
        )
    )
    # 2310A referring (DN), 2310B rendering (82, PRV*PE), 2310C service facility (77),
    # 2310D supervising (DQ)
    if enc.referring_provider is not None:
        provider_nm1(w, out, "DN", enc.referring_provider)
    if enc.rendering_provider is not None:
        provider_nm1(w, out, "82", enc.rendering_provider)
        if enc.rendering_provider.taxonomy:
            out.append(w.segment("PRV", "PE", "PXC", enc.rendering_provider.taxonomy))
    facility = enc.service_facility
    if facility is not None:
        npi = facility.npi or ""
        out.append(
            w.segment("NM1", "77", "2", facility.name, "", "", "", "", "XX" if npi else "", npi)
        )
        address(w, out, facility.address)
    if enc.supervising_provider is not None:
        provider_nm1(w, out, "DQ", enc.supervising_provider)
    # 2320/2330A/2330B: the other payers, after the last 2310 loop
    cob.other_payer_loops(w, enc, plan, out)

    controls: list[str] = []
    count = len(diagnoses)
    for index, line in enumerate(lines):
        pointers = line.diagnosis_pointers or (1,)
        if len(pointers) > MAX_POINTERS or any(p < 1 or p > count for p in pointers):
            raise ClaimBuildError(
                cid,
                f"service_lines[{index}].diagnosis_pointers",
                f"pointers must be 1 to {MAX_POINTERS} positions in diagnoses (1..{count})",
            )
        if not line.procedure_code:
            raise ClaimBuildError(
                cid, f"service_lines[{index}].procedure_code", "an 837P line needs a procedure"
            )
        if len(line.modifiers) > 4:
            raise ClaimBuildError(
                cid, f"service_lines[{index}].modifiers", "at most 4 modifiers fit in SV101"
            )
        out.append(w.known("LX", str(index + 1)))  # LX01 assigned number, 1..n
        mods = list(line.modifiers) + [""] * (4 - len(line.modifiers))
        pos = line.place_of_service or ""
        # SV101 HC:procedure:modifiers 1-4[:description], SV102 line charge, SV103 unit basis
        # (UN units / MJ minutes), SV104 quantity, SV105 place of service when it differs from
        # CLM05-1, SV107 diagnosis code pointers, SV109 emergency indicator
        out.append(
            w.segment(
                "SV1",
                ["HC", line.procedure_code, *mods, line.description or ""],
                amount(line.charge),
                line.unit_type.value,
                amount(line.units),
                pos if pos != enc.place_of_service else "",
                "",
                [str(p) for p in pointers],
                "",
                "Y" if line.emergency else "",
            )
        )
        # DTP*472 service date: D8 one day, RD8 a range
        if line.service_date_to is not None and line.service_date_to != line.service_date:
            out.append(
                w.known("DTP", "472", "RD8", f"{d8(line.service_date)}-{d8(line.service_date_to)}")
            )
        else:
            out.append(w.known("DTP", "472", "D8", d8(line.service_date)))
        if line.prior_authorization:
            out.append(w.segment("REF", "G1", line.prior_authorization))
        control = line_control_number(enc, index)
        controls.append(control)
        out.append(w.segment("REF", "6R", control))  # line item control number
        if line.ndc is not None:
            ndc = line.ndc
            # 2410 LIN02 N4 (NDC 5-4-2), LIN03 the code; CTP04 quantity, CTP05-1 unit
            out.append(w.segment("LIN", "", "N4", ndc.code))
            out.append(w.known("CTP", "", "", "", amount(ndc.quantity), ndc.unit.value))
            if ndc.prescription_number:
                out.append(w.segment("REF", "XZ", ndc.prescription_number))
        if line.rendering_provider is not None:
            # 2420A rendering provider of this line
            provider_nm1(w, out, "82", line.rendering_provider)
            if line.rendering_provider.taxonomy:
                out.append(w.segment("PRV", "PE", "PXC", line.rendering_provider.taxonomy))
        # 2430: the other payers' decisions on this line, after the 2420 loops
        cob.line_adjudication_loops(w, plan, index, line, out)
    return total, tuple(controls)
