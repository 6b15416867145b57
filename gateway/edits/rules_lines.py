"""Scrubber rules about the diagnoses and the service lines: diagnosis shape and counts, line
counts, procedures, modifiers, amounts and diagnosis pointers."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from gateway.edits import codelists as cl
from gateway.edits.context import MAX_DIAGNOSES_INSTITUTIONAL, MAX_DIAGNOSES_PROFESSIONAL, Context
from gateway.edits.findings import Finding, finding
from gateway.edits.findings import FindingCode as C
from gateway.models.encounter import Encounter
from gateway.models.encounter_types import Kind, UnitType
from gateway.models.limits import (
    MAX_LINES,
    MAX_MODIFIERS,
    MAX_POINTERS,
    MAX_REASONS_FOR_VISIT,
    MAX_UB_CODES,
)

# ------------------------------------------------------------------------------- diagnoses


def diagnosis_dots(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """ICD-10 codes written with a dot were accepted and the dot removed: a warning."""
    for correction in enc.corrections:
        if correction.kind == "icd-dot":
            yield finding(
                C.ICD_DOT,
                correction.path,
                "The ICD-10 code was written with a dot; it was removed.",
            )


def diagnoses(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Diagnoses: at least one, valid ICD-10-CM, no duplicates, at most 12 (837P) / 25 (837I)."""
    if not enc.diagnoses:
        yield finding(C.DIAGNOSIS_MISSING, "diagnoses", "The encounter has no diagnosis.")
    limit = MAX_DIAGNOSES_PROFESSIONAL if enc.is_professional else MAX_DIAGNOSES_INSTITUTIONAL
    if len(enc.diagnoses) > limit:
        yield finding(
            C.DIAGNOSIS_COUNT,
            f"diagnoses[{limit}]",
            f"{len(enc.diagnoses)} diagnoses; a {enc.kind} claim carries at most {limit}.",
        )
    seen: dict[str, int] = {}
    for i, code in enumerate(enc.diagnoses):
        if not cl.ICD10_CM.fullmatch(code):
            yield finding(C.ICD_SYNTAX, f"diagnoses[{i}]", f"{code!r} is not an ICD-10-CM code.")
        if code in seen:
            yield finding(
                C.DIAGNOSIS_DUPLICATE,
                f"diagnoses[{i}]",
                f"{code} is listed twice (also diagnoses[{seen[code]}]).",
            )
        else:
            seen[code] = i


def institutional_diagnoses(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Admitting and reason-for-visit diagnoses are ICD-10-CM; procedures are ICD-10-PCS."""
    block = enc.institutional
    if block is None:
        return
    if block.admitting_diagnosis is not None and not cl.ICD10_CM.fullmatch(
        block.admitting_diagnosis
    ):
        yield finding(
            C.ICD_SYNTAX,
            "institutional.admitting_diagnosis",
            f"{block.admitting_diagnosis!r} is not an ICD-10-CM code.",
        )
    reasons = block.reason_for_visit_diagnoses
    if len(reasons) > MAX_REASONS_FOR_VISIT:
        yield finding(
            C.REASON_FOR_VISIT_COUNT,
            f"institutional.reason_for_visit_diagnoses[{MAX_REASONS_FOR_VISIT}]",
            f"{len(reasons)} reasons for visit; at most {MAX_REASONS_FOR_VISIT}.",
        )
    for i, code in enumerate(reasons):
        if not cl.ICD10_CM.fullmatch(code):
            yield finding(
                C.ICD_SYNTAX,
                f"institutional.reason_for_visit_diagnoses[{i}]",
                f"{code!r} is not an ICD-10-CM code.",
            )
    procedures = (
        [("institutional.principal_procedure", block.principal_procedure)]
        if block.principal_procedure
        else []
    )
    procedures += [
        (f"institutional.other_procedures[{i}]", p) for i, p in enumerate(block.other_procedures)
    ]
    for path, proc in procedures:
        if proc is not None and not cl.ICD10_PCS.fullmatch(proc.code):
            yield finding(
                C.ICD_PCS_SYNTAX, f"{path}.code", f"{proc.code!r} is not an ICD-10-PCS code."
            )
    if len(block.other_procedures) > MAX_UB_CODES:
        yield finding(
            C.UB_CODE_COUNT,
            f"institutional.other_procedures[{MAX_UB_CODES}]",
            f"{len(block.other_procedures)} other procedures; at most {MAX_UB_CODES}.",
        )


# ------------------------------------------------------------------------------------ lines


def line_count(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """At least one line; at most 50 (837P) or 999 (837I)."""
    if not enc.service_lines:
        yield finding(C.LINES_MISSING, "service_lines", "The encounter has no service line.")
    limit = MAX_LINES[enc.kind]
    if len(enc.service_lines) > limit:
        yield finding(
            C.LINE_COUNT,
            f"service_lines[{limit}]",
            f"{len(enc.service_lines)} service lines; a {enc.kind} claim carries at most {limit}.",
        )


_CENT = Decimal("0.01")
_UNIT_TYPES = {
    Kind.PROFESSIONAL: frozenset({UnitType.UNITS, UnitType.MINUTES}),
    Kind.INSTITUTIONAL: frozenset({UnitType.UNITS, UnitType.DAYS}),
}
"""The unit types each kind of claim's lines may use."""


def _past_cents(amount: Decimal | None) -> bool:
    """Whether an amount has more than 2 decimal places (``1.000`` has not)."""
    return amount is not None and amount.is_finite() and amount != amount.quantize(_CENT)


def _money_precision(path: str, amount: Decimal | None) -> Iterator[Finding]:
    if _past_cents(amount):
        yield finding(C.AMOUNT_PRECISION, path, f"{path} has more than 2 decimal places.")


def procedures(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Procedure codes are CPT/HCPCS (required on professional lines); revenue codes on 837I."""
    for i, line in enumerate(enc.service_lines):
        path = f"service_lines[{i}]"
        if line.procedure_code is None:
            if enc.is_professional:
                yield finding(
                    C.PROCEDURE_MISSING, f"{path}.procedure_code", "The line has no procedure code."
                )
        elif not cl.is_procedure_code(line.procedure_code):
            yield finding(
                C.PROCEDURE_SYNTAX,
                f"{path}.procedure_code",
                f"{line.procedure_code!r} is not a CPT or HCPCS code.",
            )
        if enc.kind is Kind.PROFESSIONAL:
            continue
        if line.revenue_code is None:
            yield finding(C.REVENUE_CODE, f"{path}.revenue_code", "The line has no revenue code.")
        elif not cl.REVENUE_CODE.fullmatch(line.revenue_code):
            yield finding(
                C.REVENUE_CODE,
                f"{path}.revenue_code",
                f"Revenue code {line.revenue_code!r} is not 4 digits.",
            )


def modifiers(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Modifiers are 2 characters, at most 4 per line, not repeated."""
    for i, line in enumerate(enc.service_lines):
        if not line.modifiers:
            continue
        path = f"service_lines[{i}].modifiers"
        if len(line.modifiers) > MAX_MODIFIERS:
            yield finding(
                C.MODIFIER_COUNT,
                f"{path}[{MAX_MODIFIERS}]",
                f"{len(line.modifiers)} modifiers; at most {MAX_MODIFIERS}.",
            )
        if line.procedure_code is None:
            yield finding(
                C.PROCEDURE_MISSING,
                f"service_lines[{i}].procedure_code",
                "The line has modifiers but no procedure code to modify.",
            )
        seen: set[str] = set()
        for j, mod in enumerate(line.modifiers):
            if not cl.MODIFIER.fullmatch(mod):
                yield finding(
                    C.MODIFIER_SYNTAX, f"{path}[{j}]", f"Modifier {mod!r} is not 2 characters."
                )
            if mod in seen:
                yield finding(C.MODIFIER_DUPLICATE, f"{path}[{j}]", f"Modifier {mod} is repeated.")
            seen.add(mod)


def amounts(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Charges are >= 0 in cents, units > 0, and the claim total is the sum of the lines."""
    allowed = _UNIT_TYPES[enc.kind]
    for i, line in enumerate(enc.service_lines):
        path = f"service_lines[{i}]"
        if line.charge < 0:
            yield finding(C.CHARGE_NEGATIVE, f"{path}.charge", "The line charge is negative.")
        if _past_cents(line.charge):
            yield from _money_precision(f"{path}.charge", line.charge)
        if _past_cents(line.non_covered_charge):
            yield from _money_precision(f"{path}.non_covered_charge", line.non_covered_charge)
        if line.non_covered_charge is not None and line.non_covered_charge < 0:
            yield finding(
                C.CHARGE_NEGATIVE,
                f"{path}.non_covered_charge",
                "The non-covered charge is negative.",
            )
        if line.units <= 0:
            yield finding(C.UNITS_NOT_POSITIVE, f"{path}.units", f"Units are {line.units}.")
        if line.unit_type not in allowed:
            yield finding(
                C.UNIT_TYPE_FOR_KIND,
                f"{path}.unit_type",
                f"Unit type {line.unit_type} is not used on {enc.kind} lines.",
            )
        if line.ndc is not None:
            if not cl.NDC11.fullmatch(line.ndc.code):
                yield finding(
                    C.NDC_FORMAT, f"{path}.ndc.code", f"NDC {line.ndc.code!r} is not 11 digits."
                )
            if line.ndc.quantity <= 0:
                yield finding(
                    C.NDC_QUANTITY, f"{path}.ndc.quantity", "The drug quantity is not above zero."
                )
    yield from _money_precision("total_charge", enc.total_charge)
    yield from _money_precision("patient_amount_paid", enc.patient_amount_paid)
    if enc.patient_amount_paid is not None and enc.patient_amount_paid < 0:
        yield finding(C.CHARGE_NEGATIVE, "patient_amount_paid", "The amount paid is negative.")
    if enc.total_charge is not None and enc.total_charge != enc.computed_total_charge:
        yield finding(
            C.TOTAL_MISMATCH,
            "total_charge",
            f"total_charge is {enc.total_charge} but the lines add up to "
            f"{enc.computed_total_charge}.",
        )


def pointers(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Professional lines point to 1-4 distinct diagnoses that exist."""
    if not enc.is_professional:
        return
    count = len(enc.diagnoses)
    for i, line in enumerate(enc.service_lines):
        path = f"service_lines[{i}].diagnosis_pointers"
        if not line.diagnosis_pointers:
            yield finding(C.POINTER_MISSING, path, "The line points to no diagnosis.")
            continue
        if len(line.diagnosis_pointers) > MAX_POINTERS:
            yield finding(
                C.POINTER_COUNT,
                f"{path}[{MAX_POINTERS}]",
                f"{len(line.diagnosis_pointers)} diagnosis pointers; at most {MAX_POINTERS}.",
            )
        seen: set[int] = set()
        for j, pointer in enumerate(line.diagnosis_pointers):
            if not 1 <= pointer <= min(count, MAX_DIAGNOSES_PROFESSIONAL):
                yield finding(
                    C.POINTER_RANGE,
                    f"{path}[{j}]",
                    f"Pointer {pointer} is outside 1..{min(count, MAX_DIAGNOSES_PROFESSIONAL)} "
                    f"(the claim has {count} diagnoses).",
                )
            if pointer in seen:
                yield finding(
                    C.POINTER_DUPLICATE, f"{path}[{j}]", f"Pointer {pointer} is repeated."
                )
            seen.add(pointer)
