"""The scrubber's ICD-10-CM rules: every diagnosis judged against the code set on its date.

Runs after the shape checks of ``rules.diagnoses`` (a code that is not shaped like ICD-10-CM is
left to them). Dates of service: an institutional claim is judged on its statement "through"
date; a professional claim's diagnoses on the date of each line that points to them, and on the
claim's first date for what concerns the claim as a whole (sequencing, age, sex) and for a
diagnosis no line points to.

What the Medicare Code Editor makes an inpatient edit (an unacceptable principal diagnosis, a
questionable admission) is applied to inpatient 837I claims only: ``Z00.00`` is a correct first
code for a wellness visit on an 837P. Sequencing edits that are coding conventions (a
manifestation code or an external cause code is never first) apply to every claim.

Pure: the code sets are read through ``gateway.codes.icd10cm`` (loaded once, lazily).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from gateway.codes import icd10cm
from gateway.edits import codelists as cl
from gateway.edits.context import Context
from gateway.edits.findings import Finding, finding
from gateway.edits.findings import FindingCode as C
from gateway.models.encounter import Encounter

SHOWN_CODES = 10  # codes listed in a fix before "and N more"
EXTERNAL_CAUSE_CHAPTER = ("V", "W", "X", "Y")  # V00-Y99


@dataclass(slots=True)
class _Slot:
    """One diagnosis to judge: where it is, the code, its role, and the dates it is judged on."""

    path: str
    code: str
    first: bool  # principal / first-listed, admitting or reason for visit
    principal: bool  # the principal (first-listed) diagnosis itself
    dates: tuple[date, ...]


def _show(code: str) -> str:
    """``E11.65 (Type 2 diabetes mellitus with hyperglycemia)``; new codes say they are new."""
    words = icd10cm.description(code)
    if words is None:
        return f"{icd10cm.dotted(code)} (added after the {_edition()} tabular: no description yet)"
    return f"{icd10cm.dotted(code)} ({words})"


def _edition() -> str:
    return icd10cm.tabular().edition


def _listed(codes: list[str], limit: int = SHOWN_CODES) -> str:
    """Codes with dots, at most ``limit``, then "and N more"."""
    shown = ", ".join(icd10cm.dotted(c) for c in codes[:limit])
    more = len(codes) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _sevenths(code: str) -> str:
    return ", ".join(f"{ch} {meaning}" for ch, meaning in icd10cm.seventh_characters(code))


def _quiet(enc: Encounter) -> bool:
    """Whether every diagnosis is judged on one date within the data and nothing is to be said
    about any of them: the common case, checked with one look-up a code."""
    block = enc.institutional
    firsts: tuple[str, ...]
    if block is not None:
        day = block.statement_to
        firsts = enc.diagnoses[:1] + block.reason_for_visit_diagnoses
        if block.admitting_diagnosis is not None:
            firsts += (block.admitting_diagnosis,)
    else:
        lines = enc.service_lines
        if not lines:
            return False
        day = lines[0].service_date
        if any(line.service_date != day for line in lines):
            return False
        firsts = enc.diagnoses[:1]
    born, gender = _person(enc)
    age = _patient_age(enc, born, day)
    other_sex = _OTHER_SEX.get(gender)
    valid_shape = cl.ICD10_CM.fullmatch
    known = icd10cm.known_profiles(day)
    inpatient = _is_inpatient(enc)
    leading = len(firsts)  # the codes listed first (principal, admitting, reasons) come first
    for i, code in enumerate(firsts + enc.diagnoses[1:]):
        found = known.get(code)
        if found is None:
            if not valid_shape(code):
                return False
            found = icd10cm.profile(code, day)
            if found is None:
                return False
        if not found.valid:
            return False
        if i < leading and found.principal_edits:
            # every first code: a manifestation; an inpatient principal: any MCE principal edit
            if i == 0 and inpatient:
                return False
            if "MANIFESTATION_AS_PDX" in found.principal_edits:
                return False
        if i < leading and code[0] in "VWXY":
            return False
        ages = found.ages
        if ages is not None and (age is None or not ages[0] <= age <= ages[1]):
            return False
        if other_sex is not None and (found.sex == other_sex or (gender == "M" and code[0] == "O")):
            return False
    return True


def _slots(enc: Encounter) -> tuple[date | None, list[_Slot]]:
    """The claim's date for diagnosis-level checks, and every diagnosis to judge."""
    block = enc.institutional
    lines = enc.service_lines
    if block is not None:
        claim_date = block.statement_to
    elif lines:
        claim_date = min(line.service_date for line in lines)
    else:
        return None, []
    on_claim_date = (claim_date,)
    by_index: dict[int, set[date]] = {}
    if block is None and any(line.service_date != claim_date for line in lines):
        # lines on several dates: each diagnosis is judged on the dates of the lines pointing to it
        for line in lines:
            for pointer in line.diagnosis_pointers:
                by_index.setdefault(pointer - 1, set()).add(line.service_date)
    valid_shape = cl.ICD10_CM.fullmatch  # rules.diagnoses reports a code of the wrong shape
    slots = [
        _Slot(
            f"diagnoses[{i}]",
            code,
            i == 0,
            i == 0,
            tuple(sorted(by_index[i])) if i in by_index else on_claim_date,
        )
        for i, code in enumerate(enc.diagnoses)
        if valid_shape(code)
    ]
    if block is not None:
        if block.admitting_diagnosis is not None and valid_shape(block.admitting_diagnosis):
            slots.append(
                _Slot(
                    "institutional.admitting_diagnosis",
                    block.admitting_diagnosis,
                    True,
                    False,
                    on_claim_date,
                )
            )
        slots.extend(
            _Slot(
                f"institutional.reason_for_visit_diagnoses[{i}]", code, True, False, on_claim_date
            )
            for i, code in enumerate(block.reason_for_visit_diagnoses)
            if valid_shape(code)
        )
    return claim_date, slots


def _date_path(enc: Encounter, day: date) -> str:
    if enc.institutional is not None:
        return "institutional.statement_to"
    for i, line in enumerate(enc.service_lines):
        if line.service_date == day:
            return f"service_lines[{i}].service_date"
    return "service_lines[0].service_date"


def code_sets(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Diagnoses are ICD-10-CM codes valid and billable on their dates of service, sequenced as
    the coding conventions and the Medicare Code Editor require, fitting the patient's age and
    sex."""
    if _quiet(enc):
        return
    claim_date, slots = _slots(enc)
    if claim_date is None or not slots:
        return
    first, last = icd10cm.coverage()
    outside = sorted({d for s in slots for d in s.dates if not first <= d <= last})
    if outside:
        yield _coverage_finding(enc, outside[0], first, last)
    judged = first <= claim_date <= last
    valid: list[tuple[_Slot, icd10cm.Profile]] = []
    for slot in slots:
        problem = None
        for day in slot.dates:
            found = icd10cm.profile(slot.code, day)
            if found is not None and not found.valid:
                problem = _invalid(slot, day)
                break
        if problem is not None:
            yield problem
        elif judged:
            at_claim = icd10cm.profile(slot.code, claim_date)
            if at_claim is not None and at_claim.valid:
                valid.append((slot, at_claim))
    if valid:
        yield from _sequencing(enc, valid, claim_date)
        yield from _demographics(enc, valid, claim_date)


def _coverage_finding(enc: Encounter, day: date, first: date, last: date) -> Finding:
    if day > last:
        message = (
            f"The installed ICD-10-CM data covers service dates up to {last.isoformat()}: "
            f"the diagnoses of a service on {day.isoformat()} were checked for shape only. "
            "Upgrade x12-claim-gateway."
        )
    else:
        message = (
            f"ICD-10-CM applies to services from {first.isoformat()}: a service on "
            f"{day.isoformat()} is coded in ICD-9-CM, which the gateway does not check."
        )
    return finding(C.ICD_DATA_COVERAGE, _date_path(enc, day), message)


# ------------------------------------------------------------------------------- validity


def _invalid(slot: _Slot, day: date) -> Finding:
    """The finding for a code that is not valid on ``day``: why, and what to send instead."""
    code, path, on = slot.code, slot.path, day.isoformat()
    changes = icd10cm.history(code)
    before = [c for c in changes if c.on <= day]
    added_later = [c for c in changes if c.added and c.on > day]
    if before and not before[-1].added:
        when = before[-1].on
        instead = icd10cm.replacements(code, day)
        fix = (
            f"Use {_listed(instead)} (in force from {when.isoformat()})."
            if instead
            else "Look up the code in force on the date of service (gateway codes search)."
        )
        if instead and len(instead) <= 3:
            fix = "Use " + ", ".join(_show(c) for c in instead) + f", in force from {when}."
        return finding(
            C.ICD_DELETED,
            path,
            f"{icd10cm.dotted(code)} is not valid on {on}: it was deleted on {when} "
            f"(valid through the day before).",
            hint=fix,
        )
    if added_later:
        when = added_later[0].on
        instead = icd10cm.replacements(code, day)
        fix = (
            f"For a service before {when}, use {_listed(instead)}."
            if instead
            else f"For a service before {when}, look up the code in force then."
        )
        return finding(
            C.ICD_NOT_YET_VALID,
            path,
            f"{icd10cm.dotted(code)} is not valid on {on} yet: it takes effect on {when}.",
            hint=fix,
        )
    if icd10cm.needs_seventh(code):
        example = icd10cm.tabular().children[code][0]
        return finding(
            C.ICD_SEVENTH_CHARACTER,
            path,
            f"{_show(code)} needs a 7th character.",
            hint=f"Add the 7th character: {_sevenths(code)} (e.g. {icd10cm.dotted(example)}).",
        )
    seventh = _seventh_problem(slot, day)
    if seventh is not None:
        return seventh
    if icd10cm.is_header(code):
        under = icd10cm.billable_under(code, day)
        what = "category" if len(code) == 3 else "subcategory"
        return finding(
            C.ICD_NOT_BILLABLE,
            path,
            f"{_show(code)} is a {what}, not a billable code: it needs more characters.",
            hint=f"Use one of the billable codes under it: {_listed(under)}." if under else None,
        )
    return _unknown(slot, day)


def _seventh_problem(slot: _Slot, day: date) -> Finding | None:
    """A 7th character that is not one the code takes, or a missing placeholder X."""
    code, path = slot.code, slot.path
    children = icd10cm.tabular().children
    if len(code) == 7:
        for base in (code[:6], code[:6].rstrip("X")):  # V43.52XA's parent is V43.52
            if icd10cm.needs_seventh(base):
                example = children[base][0]
                return finding(
                    C.ICD_SEVENTH_CHARACTER,
                    path,
                    f"{code[6]} is not a 7th character of {_show(base)}.",
                    hint=f"Use one of: {_sevenths(base)} (e.g. {icd10cm.dotted(example)}).",
                )
    # a 7th character written without the placeholder X: S00.83A for S00.83XA
    for size in range(len(code) - 1, 2, -1):
        base = code[:size]
        candidate = icd10cm.with_placeholders(base) + code[size:]
        if (
            candidate != code
            and len(candidate) == 7
            and icd10cm.needs_seventh(base)
            and candidate in children.get(base, ())
        ):
            return finding(
                C.ICD_SEVENTH_CHARACTER,
                path,
                f"{icd10cm.dotted(code)} lacks the placeholder X before its 7th character.",
                hint=f"Write it {icd10cm.dotted(candidate)}: the 7th character is always the "
                "7th, padded with X.",
            )
    return None


def _unknown(slot: _Slot, day: date) -> Finding:
    code = slot.code
    near = icd10cm.nearest_known(code)
    hint = None
    if near is not None and near != code:
        if icd10cm.is_header(near):
            under = icd10cm.billable_under(near, day)
            if under:
                hint = (
                    f"The nearest heading is {_show(near)}; its billable codes: {_listed(under)}."
                )
        elif icd10cm.is_valid(near, day):
            hint = f"Did you mean {_show(near)}?"
    return finding(
        C.ICD_UNKNOWN,
        slot.path,
        f"{icd10cm.dotted(code)} is not an ICD-10-CM code (on {day.isoformat()}).",
        hint=hint,
    )


# ------------------------------------------------------------------------------- sequencing


def _is_inpatient(enc: Encounter) -> bool:
    block = enc.institutional
    return block is not None and block.facility_type in cl.INPATIENT_FACILITY_TYPES


def _sequencing(
    enc: Encounter, valid: list[tuple[_Slot, icd10cm.Profile]], claim_date: date
) -> Iterator[Finding]:
    inpatient = _is_inpatient(enc)
    others = [c for c in enc.diagnoses[1:] if cl.ICD10_CM.fullmatch(c)]
    for slot, found in valid:
        if not slot.first:
            continue
        role = "principal" if enc.institutional is not None else "first-listed"
        if not slot.principal:
            role = "admitting" if "admitting" in slot.path else "reason-for-visit"
        code = slot.code
        if code.startswith(EXTERNAL_CAUSE_CHAPTER):
            underlying = [c for c in others if not c.startswith(EXTERNAL_CAUSE_CHAPTER)]
            fix = (
                f"List {_show(underlying[0])} first and keep {icd10cm.dotted(code)} as a "
                "secondary diagnosis."
                if underlying and slot.principal
                else None
            )
            yield finding(
                C.ICD_EXTERNAL_CAUSE_FIRST,
                slot.path,
                f"{_show(code)} is an external cause code (V00-Y99): it tells how an injury "
                f"happened and is never the {role} diagnosis.",
                hint=fix,
            )
            continue
        if not found.principal_edits:
            continue
        if "MANIFESTATION_AS_PDX" in found.principal_edits:
            yield finding(
                C.ICD_MANIFESTATION_FIRST,
                slot.path,
                f'{_show(code)} is a manifestation code ("in diseases classified elsewhere"): '
                f"it cannot be the {role} diagnosis; the underlying condition comes first.",
                hint=_underlying_fix(code, others, claim_date),
            )
        if inpatient and slot.principal and "UNACCEPTABLE_PDX" in found.principal_edits:
            yield finding(
                C.ICD_UNACCEPTABLE_PRINCIPAL,
                slot.path,
                f"{_show(code)} is not acceptable as the principal diagnosis of an inpatient "
                "claim (Medicare Code Editor: unacceptable principal diagnosis).",
            )
        if inpatient and slot.principal and "QUESTIONABLE_ADMISSION" in found.principal_edits:
            yield finding(
                C.ICD_QUESTIONABLE_ADMISSION,
                slot.path,
                f"{_show(code)} as the principal diagnosis rarely justifies an inpatient "
                "admission (Medicare Code Editor: questionable admission).",
            )


def _underlying_fix(code: str, others: list[str], claim_date: date) -> str:
    """Which condition to code first: one already on the claim when the notes name it."""
    note = icd10cm.notes(code).get("code_first", "")
    combinations = icd10cm.combination_codes(code, claim_date)
    combined = {c for _, codes in combinations for c in codes}
    on_claim = [c for c in others if c in combined or (note and icd10cm.in_note_ranges(c, note))]
    if on_claim:
        return f"Code first the underlying condition: move {_show(on_claim[0])} before it."
    parts: list[str] = []
    if note:
        flat = "; ".join(line.strip() for line in note.splitlines() if line.strip())
        flat = flat.replace(":; ", ": ")
        parts.append(f"Code first the underlying condition ({flat})")
    parts.extend(
        f"for {condition}, use the combination code alone instead ({_listed(codes)})"
        for condition, codes in combinations
    )
    if not parts:
        return "Code first the underlying condition, then this code."
    return "; ".join(parts) + "."


# ------------------------------------------------------------------------------- age and sex


_OTHER_SEX: dict[str | None, str] = {"M": "F", "F": "M"}


def _person(enc: Encounter) -> tuple[date | None, str | None]:
    """The patient's birth date and gender (``M``, ``F``, ``U``: a ``Gender`` is a ``str``)."""
    patient = enc.patient
    if patient is not None:
        return patient.birth_date, patient.gender
    subscriber = enc.subscriber
    return subscriber.birth_date, subscriber.gender


def _patient_age(enc: Encounter, born: date | None, claim_date: date) -> int | None:
    """The patient's age in years as the MCE takes it: on admission (or the statement's first
    day) for an 837I, on the claim's first date of service for an 837P."""
    block = enc.institutional
    on = (block.admission_date or block.statement_from) if block is not None else claim_date
    return _age(born, on) if born is not None and born <= on else None


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


_AGE_WORDS = {
    "newborn": "a newborn diagnosis",
    "pediatric": "a pediatric diagnosis",
    "maternity": "a maternity diagnosis",
    "adult": "an adult diagnosis",
}


def _demographics(
    enc: Encounter, valid: list[tuple[_Slot, icd10cm.Profile]], claim_date: date
) -> Iterator[Finding]:
    born, gender = _person(enc)
    age = _patient_age(enc, born, claim_date)
    for slot, found in valid:
        code = slot.code
        if age is not None and found.ages is not None:
            youngest, oldest = found.ages
            if not youngest <= age <= oldest:
                yield _age_finding(enc, slot, found.ages, age < youngest)
        if gender in ("M", "F"):
            listed = found.sex
            if listed is not None and listed != gender:
                sex = "female" if listed == "F" else "male"
                yield finding(
                    C.ICD_SEX_CONFLICT,
                    slot.path,
                    f"{_show(code)} was listed by the FY2024 Medicare Code Editor for {sex} "
                    f"patients only, and the patient's gender is {gender}. CMS dropped the sex "
                    "edits on 2024-10-01, but payers still deny on them.",
                )
            elif gender == "M" and code.startswith("O"):
                yield finding(
                    C.ICD_SEX_CONFLICT,
                    slot.path,
                    f"{_show(code)} is a pregnancy code (chapter 15) and the patient's gender "
                    "is M.",
                )


def _age_finding(enc: Encounter, slot: _Slot, ages: tuple[int, int], younger: bool) -> Finding:
    category = icd10cm.age_category(ages)
    youngest, oldest = ages
    if oldest == 0:
        span = "age 0"
    elif oldest < icd10cm.MAX_AGE:
        span = f"ages {youngest}-{oldest}"
    else:
        span = f"ages {youngest} and up"
    side = "younger" if younger else "older"
    # newborn and maternity ranges are facts of life; pediatric and adult ones are payer policy
    blocks = enc.institutional is not None or category in ("newborn", "maternity")
    return finding(
        C.ICD_AGE_CONFLICT if blocks else C.ICD_AGE_ATYPICAL,
        slot.path,
        f"{_show(slot.code)} is {_AGE_WORDS[category]} ({span}, Medicare Code Editor), "
        f"but the patient is {side} on the date of service.",
    )


CODE_SET_RULES = (code_sets,)
"""The rules that need the code sets (``bench/scrub.py`` runs with and without them)."""
