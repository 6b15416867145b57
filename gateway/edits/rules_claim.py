"""Scrubber rules about the claim as a whole: its dates, the code lists of its fields (place of
service, institutional codes) and its shape (frequency, accident, delay, subscriber and
patient). The other payers have their own module, ``rules_cob``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from gateway.codes import procedures as code_sets
from gateway.codes.dated import DatedCodes, Validity
from gateway.edits import codelists as cl
from gateway.edits.context import OLD_SERVICE, STILL_A_PATIENT, Context
from gateway.edits.findings import Finding, finding
from gateway.edits.findings import FindingCode as C
from gateway.models.encounter import Encounter, Institutional
from gateway.models.encounter_types import Kind
from gateway.models.limits import MAX_UB_CODES

# ------------------------------------------------------------------------------------ dates


def _patient_birth(enc: Encounter) -> tuple[str, date | None]:
    if enc.patient is not None:
        return "patient.birth_date", enc.patient.birth_date
    return "subscriber.birth_date", enc.subscriber.birth_date


def _claim_dates(enc: Encounter) -> Iterator[tuple[str, date]]:
    """(path, date) of every date of care in the encounter (not birth or death dates)."""
    for name in (
        "accident_date",
        "onset_date",
        "initial_treatment_date",
        "last_seen_date",
        "acute_manifestation_date",
        "last_menstrual_period_date",
        "hospitalized_from",
        "hospitalized_to",
    ):
        value: date | None = getattr(enc, name)
        if value is not None:
            yield name, value
    block = enc.institutional
    if block is not None:
        yield "institutional.statement_from", block.statement_from
        yield "institutional.statement_to", block.statement_to
        if block.admission_date is not None:
            yield "institutional.admission_date", block.admission_date
        if block.principal_procedure is not None:
            yield "institutional.principal_procedure.date", block.principal_procedure.date
        for i, proc in enumerate(block.other_procedures):
            yield f"institutional.other_procedures[{i}].date", proc.date
        for i, occ in enumerate(block.occurrence_codes):
            yield f"institutional.occurrence_codes[{i}].date", occ.date
        for i, span in enumerate(block.occurrence_span_codes):
            yield f"institutional.occurrence_span_codes[{i}].from_date", span.from_date
            yield f"institutional.occurrence_span_codes[{i}].to_date", span.to_date
    for i, line in enumerate(enc.service_lines):
        yield f"service_lines[{i}].service_date", line.service_date
        if line.service_date_to is not None:
            yield f"service_lines[{i}].service_date_to", line.service_date_to


_BEFORE_BIRTH_EXEMPT = ("last_menstrual_period_date", "occurrence_codes", "occurrence_span_codes")


def dates(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Dates of care are not in the future, not before birth, not after death; old ones warn."""
    birth_path, birth = _patient_birth(enc)
    death = enc.patient.death_date if enc.patient is not None else None
    births: list[tuple[str, date | None]] = [("subscriber.birth_date", enc.subscriber.birth_date)]
    if enc.patient is not None:
        births.append(("patient.birth_date", enc.patient.birth_date))
    for who, born in births:
        if born is not None and born > ctx.today:
            yield finding(C.BIRTH_DATE_FUTURE, who, f"{who} is after today.")
    for path, when in _claim_dates(enc):
        if when > ctx.today:
            yield finding(C.DATE_FUTURE, path, f"{path} is after today ({ctx.today.isoformat()}).")
        # the mother's last period and some occurrence codes (e.g. a birth) predate a newborn
        if birth is not None and when < birth and not any(x in path for x in _BEFORE_BIRTH_EXEMPT):
            yield finding(C.DATE_BEFORE_BIRTH, path, f"{path} is before the {birth_path}.")
        if death is not None and when > death and path.startswith("service_lines"):
            yield finding(C.DATE_AFTER_DEATH, path, f"{path} is after the patient.death_date.")
    if enc.service_lines:
        first = enc.first_service_date
        if first <= ctx.today and ctx.today - first > OLD_SERVICE:
            index = next(
                i for i, line in enumerate(enc.service_lines) if line.service_date == first
            )
            yield finding(
                C.DATE_OLD,
                f"service_lines[{index}].service_date",
                f"The earliest service is {(ctx.today - first).days} days old.",
            )


def date_ranges(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Ranges run forward; the statement period covers the lines; admission precedes discharge."""
    for i, line in enumerate(enc.service_lines):
        if line.service_date_to is not None and line.service_date_to < line.service_date:
            yield finding(
                C.DATE_RANGE_ORDER,
                f"service_lines[{i}].service_date_to",
                "The line's last service date is before its first.",
            )
    if (
        enc.hospitalized_from is not None
        and enc.hospitalized_to is not None
        and enc.hospitalized_from > enc.hospitalized_to
    ):
        yield finding(
            C.ADMISSION_AFTER_DISCHARGE,
            "hospitalized_to",
            "The hospital discharge date is before the admission date.",
        )
    block = enc.institutional
    if block is None:
        return
    for i, span in enumerate(block.occurrence_span_codes):
        if span.to_date < span.from_date:
            yield finding(
                C.DATE_RANGE_ORDER,
                f"institutional.occurrence_span_codes[{i}].to_date",
                "The span ends before it begins.",
            )
    if block.statement_to < block.statement_from:
        yield finding(
            C.DATE_RANGE_ORDER,
            "institutional.statement_to",
            "The statement period ends before it begins.",
        )
    else:
        for i, line in enumerate(enc.service_lines):
            last = line.service_date_to or line.service_date
            if line.service_date < block.statement_from or last > block.statement_to:
                yield finding(
                    C.STATEMENT_PERIOD,
                    f"service_lines[{i}].service_date",
                    "The line's service date is outside the statement period.",
                )
    yield from _admission(block)


def _admission(block: Institutional) -> Iterator[Finding]:
    for name in ("admission_hour", "discharge_hour"):
        hour: str | None = getattr(block, name)
        if hour is not None and not cl.HOUR.fullmatch(hour):
            yield finding(C.HOUR_FORMAT, f"institutional.{name}", f"{name} {hour!r} is not HHMM.")
    if block.admission_date is None:
        if block.facility_type in cl.INPATIENT_FACILITY_TYPES:
            yield finding(
                C.ADMISSION_DATE_MISSING,
                "institutional.admission_date",
                f"Type of bill {block.facility_type}x is inpatient and needs the admission date.",
            )
        return
    if block.admission_date > block.statement_to:
        yield finding(
            C.ADMISSION_AFTER_DISCHARGE,
            "institutional.admission_date",
            "The admission date is after the end of the statement period (the discharge).",
        )
    elif (
        block.admission_date == block.statement_to
        and block.admission_hour is not None
        and block.discharge_hour is not None
        and cl.HOUR.fullmatch(block.admission_hour)
        and cl.HOUR.fullmatch(block.discharge_hour)
        and block.discharge_hour < block.admission_hour
    ):
        yield finding(
            C.ADMISSION_AFTER_DISCHARGE,
            "institutional.discharge_hour",
            "Admitted and discharged the same day, but the discharge hour is before admission.",
        )


# ------------------------------------------------------------------------------- code lists


def place_of_service(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Professional claims carry a CMS place of service code in effect on the date of service;
    inpatient visits an admission date."""
    if not enc.is_professional:
        return
    places = code_sets.places_of_service()
    first = enc.first_service_date if enc.service_lines else None
    if enc.place_of_service is None:
        yield finding(C.PLACE_OF_SERVICE, "place_of_service", "The claim has no place of service.")
    else:
        yield from _place(places, enc.place_of_service, "place_of_service", first)
    if enc.place_of_service in cl.INPATIENT_PLACES and enc.hospitalized_from is None:
        yield finding(
            C.ADMISSION_DATE_MISSING,
            "hospitalized_from",
            f"Place of service {enc.place_of_service} is an inpatient visit: the admission date "
            "(hospitalized_from) is required.",
        )
    for i, line in enumerate(enc.service_lines):
        if line.place_of_service is not None:
            path = f"service_lines[{i}].place_of_service"
            yield from _place(places, line.place_of_service, path, line.service_date)


def _place(places: DatedCodes, code: str, path: str, when: date | None) -> Iterator[Finding]:
    """A place of service code: listed by CMS (an error if not), in effect on ``when`` (a
    warning if not: the effective dates of the list are less certain than its codes)."""
    if code not in places:
        yield finding(
            C.PLACE_OF_SERVICE,
            path,
            f"{code!r} is not a CMS place of service code (the list as of "
            f"{code_sets.POS_AS_OF.isoformat()}).",
        )
        return
    if when is None:
        return
    verdict = places.judge(code, when)
    if verdict.validity is Validity.NOT_YET:
        start = verdict.spans[0].start
        assert start is not None
        yield finding(
            C.PLACE_OF_SERVICE_DATE,
            path,
            f"Place of service {code} ({places.descriptions.get(code, '')}) is effective from "
            f"{start.isoformat()}; the date of service {when.isoformat()} is before it.",
        )


def institutional_codes(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Type of bill, admission type and source, patient status and UB-04 codes are valid."""
    block = enc.institutional
    if block is None:
        return
    if block.facility_type not in cl.FACILITY_TYPES:
        tob = block.facility_type.lstrip("0")
        hint = (
            f" It looks like a whole type of bill: give its first two digits ({tob[:2]}); "
            "the claim frequency completes it."
            if len(tob) == 3 and tob[:2] in cl.FACILITY_TYPES
            else ""
        )
        yield finding(
            C.FACILITY_TYPE,
            "institutional.facility_type",
            f"{block.facility_type!r} is not a facility type and bill classification.{hint}",
        )
    inpatient = block.facility_type in cl.INPATIENT_FACILITY_TYPES
    if block.admission_type is None:
        if inpatient:
            yield finding(
                C.ADMISSION_TYPE,
                "institutional.admission_type",
                "Inpatient claims need the admission type.",
            )
    elif block.admission_type not in cl.ADMISSION_TYPES:
        yield finding(
            C.ADMISSION_TYPE,
            "institutional.admission_type",
            f"{block.admission_type!r} is not an admission type code.",
        )
    if block.admission_source is None:
        if inpatient:
            yield finding(
                C.ADMISSION_SOURCE,
                "institutional.admission_source",
                "Inpatient claims need the point of origin (admission source).",
            )
    elif block.admission_source not in cl.ADMISSION_SOURCES:
        yield finding(
            C.ADMISSION_SOURCE,
            "institutional.admission_source",
            f"{block.admission_source!r} is not a point-of-origin code.",
        )
    if block.patient_status not in cl.PATIENT_STATUSES:
        yield finding(
            C.PATIENT_STATUS,
            "institutional.patient_status",
            f"{block.patient_status!r} is not a patient discharge status code.",
        )
    elif inpatient and block.patient_status == STILL_A_PATIENT:
        # an admit-through-discharge bill (type of bill xx1, xx7, xx8) ends with a discharge;
        # "still a patient" belongs to interim bills (xx2-xx4), which the contract does not carry
        yield finding(
            C.PATIENT_STATUS,
            "institutional.patient_status",
            f"Status 30 (still a patient) contradicts type of bill {block.facility_type}"
            f"{enc.frequency}, which covers a whole stay ending in a discharge.",
        )
    groups: list[tuple[str, Iterable[str]]] = [
        ("condition_codes", block.condition_codes),
        ("occurrence_codes", (o.code for o in block.occurrence_codes)),
        ("occurrence_span_codes", (o.code for o in block.occurrence_span_codes)),
        ("value_codes", (v.code for v in block.value_codes)),
    ]
    for name, codes in groups:
        listed = list(codes)
        if len(listed) > MAX_UB_CODES:
            yield finding(
                C.UB_CODE_COUNT,
                f"institutional.{name}[{MAX_UB_CODES}]",
                f"{len(listed)} {name.replace('_', ' ')}; at most {MAX_UB_CODES}.",
            )
        for i, code in enumerate(listed):
            path = f"institutional.{name}[{i}]" + ("" if name == "condition_codes" else ".code")
            if not cl.UB_CODE.fullmatch(code):
                yield finding(C.UB_CODE_SYNTAX, path, f"{code!r} is not a 2-character code.")


# ------------------------------------------------------------------------------ claim shape


def claim_shape(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """The kind matches the blocks present; fields the other kind uses are flagged."""
    unused: dict[str, Any]
    if enc.kind is Kind.INSTITUTIONAL:
        if enc.institutional is None:
            yield finding(
                C.INSTITUTIONAL_MISSING, "institutional", "An institutional claim needs this block."
            )
        if enc.attending_provider is None:
            yield finding(
                C.ATTENDING_MISSING, "attending_provider", "The attending provider is missing."
            )
        unused = {
            "place_of_service": enc.place_of_service,
            "supervising_provider": enc.supervising_provider,
            "related_causes": enc.related_causes or None,
            "hospitalized_from": enc.hospitalized_from,
            "hospitalized_to": enc.hospitalized_to,
        }
        for i, line in enumerate(enc.service_lines):
            # a path is only made for a field that is set (most lines set none of them)
            if line.diagnosis_pointers:
                unused[f"service_lines[{i}].diagnosis_pointers"] = line.diagnosis_pointers
            if line.place_of_service is not None:
                unused[f"service_lines[{i}].place_of_service"] = line.place_of_service
            if line.emergency:
                unused[f"service_lines[{i}].emergency"] = line.emergency
    else:
        if enc.institutional is not None:
            yield finding(
                C.INSTITUTIONAL_ON_PROFESSIONAL,
                "institutional",
                "A professional claim has an institutional block.",
            )
        unused = {
            "attending_provider": enc.attending_provider,
            "operating_provider": enc.operating_provider,
            "other_operating_provider": enc.other_operating_provider,
        }
        for i, line in enumerate(enc.service_lines):
            if line.revenue_code is not None:
                unused[f"service_lines[{i}].revenue_code"] = line.revenue_code
            if line.non_covered_charge is not None:
                unused[f"service_lines[{i}].non_covered_charge"] = line.non_covered_charge
    for path, value in unused.items():
        if value is not None:
            yield finding(C.FIELD_NOT_USED, path, f"{path} is not sent on a {enc.kind} claim.")


def frequency(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Frequency 7/8 needs the payer's original claim number; frequency 1 must not have one."""
    if enc.frequency in ("7", "8") and enc.original_payer_claim_number is None:
        yield finding(
            C.FREQUENCY_NEEDS_ORIGINAL,
            "original_payer_claim_number",
            f"Frequency {enc.frequency} (replacement or void) needs the payer's claim number.",
        )
    if enc.frequency == "1" and enc.original_payer_claim_number is not None:
        yield finding(
            C.FREQUENCY_ORIGINAL_NOT_ALLOWED,
            "original_payer_claim_number",
            "An original claim (frequency 1) must not name a claim it replaces.",
        )


def accident(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """An accident cause needs the accident date; an auto accident also needs the state."""
    causes = set(enc.related_causes)
    if ("AA" in causes or "OA" in causes) and enc.accident_date is None:
        yield finding(C.ACCIDENT_DETAILS, "accident_date", "An accident claim needs its date.")
    if "AA" in causes and enc.accident_state is None:
        yield finding(C.ACCIDENT_DETAILS, "accident_state", "An auto accident needs the state.")
    if enc.accident_state is not None and enc.accident_state not in cl.US_STATES:
        yield finding(
            C.STATE_CODE, "accident_state", f"State {enc.accident_state!r} is not a US postal code."
        )


def delay_reason(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """A late claim's delay reason is a CLM20 code."""
    if enc.delay_reason_code is not None and enc.delay_reason_code not in cl.DELAY_REASONS:
        yield finding(
            C.DELAY_REASON,
            "delay_reason_code",
            f"{enc.delay_reason_code!r} is not a delay reason code.",
        )


def subscriber_patient(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Patient present only when not the subscriber; the patient's demographics are complete."""
    sub = enc.subscriber
    patient = enc.patient
    if patient is None:
        missing = [
            name
            for name, value in (
                ("birth_date", sub.birth_date),
                ("gender", sub.gender),
                ("address", sub.address),
            )
            if value is None
        ]
        for name in missing:
            yield finding(
                C.SUBSCRIBER_DEMOGRAPHICS,
                f"subscriber.{name}",
                f"The subscriber is the patient (patient is null) but has no {name}.",
            )
        return
    if patient.relationship_to_subscriber == "18":
        yield finding(
            C.PATIENT_IS_SELF,
            "patient.relationship_to_subscriber",
            "Relationship 18 (self) means the patient is the subscriber: patient must be null.",
        )
        return
    same_person = (
        patient.last_name.upper() == sub.last_name.upper()
        and (patient.first_name or "").upper() == (sub.first_name or "").upper()
        and sub.birth_date is not None
        and patient.birth_date == sub.birth_date
    )
    if same_person:
        yield finding(
            C.PATIENT_LOOKS_LIKE_SUBSCRIBER,
            "patient",
            "The patient has the subscriber's name and birth date but is not self (18).",
        )
    if (
        patient.relationship_to_subscriber == "19"
        and sub.birth_date is not None
        and patient.birth_date < sub.birth_date
    ):
        yield finding(
            C.CHILD_OLDER_THAN_SUBSCRIBER,
            "patient.birth_date",
            "The patient is the subscriber's child (19) but was born before the subscriber.",
        )
