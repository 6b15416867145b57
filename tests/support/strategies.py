"""Hypothesis strategies that generate valid encounters (the scrubber finds no error in them).

``encounters()`` draws professional and institutional encounters; ``professional_encounters()``
and ``institutional_encounters()`` one kind each; ``cob_encounters()`` adds the patient's other
payers (the payers before the claim's own with a balanced adjudication, line by line or for the
claim as a whole; those after it named only). Every NPI passes its check digit, every code is
from a real code list or has the right shape, every date of care lies between ``EARLIEST_SERVICE``
and ``LATEST_SERVICE`` (in the past), after every birth date. Names and ids are synthetic.
``sample_dict`` and ``with_changes`` make hand-made variations of the samples for table tests.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from gateway.edits.codelists import npi_check_digit
from gateway.models import Encounter

__all__ = [
    "DELETE",
    "EARLIEST_SERVICE",
    "LATEST_SERVICE",
    "cob_encounter_dicts",
    "cob_encounters",
    "encounter_dicts",
    "encounters",
    "institutional_encounters",
    "npis",
    "professional_encounters",
    "sample_dict",
    "with_changes",
]

EARLIEST_SERVICE = date(2025, 1, 1)
LATEST_SERVICE = date(2026, 11, 1)
LATEST_BIRTH = date(2024, 12, 31)

ICD10_CM = [
    "E119",
    "I10",
    "Z7984",
    "J069",
    "R509",
    "M1711",
    "I214",
    "R0789",
    "R079",
    "I209",
    "E785",
    "K219",
    "F419",
    "M5450",
    "N390",
    "J189",
    "E039",
    "G4733",
    "R519",
    "Z1331",
    "S8261XA",
    "S52501A",
    "K5900",
    "L309",
    "U071",
    "H6690",
    "L03115",
    "B349",
    "R1084",
    "Z23",
]
# every code above is valid and billable from EARLIEST_SERVICE to LATEST_SERVICE with no age or sex
# edit; an inpatient principal diagnosis is one the Medicare Code Editor accepts without comment
# (the Z codes are unacceptable principal diagnoses, E11.9 and I10 questionable admissions)
ICD10_CM_INSTITUTIONAL = ICD10_CM
ICD10_CM_INPATIENT_PRINCIPAL = [c for c in ICD10_CM if c[0] != "Z" and c not in ("E119", "I10")]
ICD10_PCS = ["02703ZZ", "0SRC0J9", "0DTJ4ZZ", "5A1955Z", "10E0XZZ", "0FT44ZZ", "3E0234Z", "B2111ZZ"]
CPT_HCPCS = [
    "99213",
    "99214",
    "99203",
    "99284",
    "93000",
    "93005",
    "93458",
    "36415",
    "80053",
    "83036",
    "85025",
    "87880",
    "20610",
    "71046",
    "97110",
    "90471",
    "90686",
    "J3301",
    "J1100",
    "G0439",
    "A4550",
    "0001U",
    "3074F",
    "0042T",
]
MODIFIERS = ["25", "59", "RT", "LT", "QW", "26", "TC", "GT", "95", "XU", "76", "91"]
REVENUE_CODES = [
    "0120",
    "0250",
    "0260",
    "0300",
    "0320",
    "0360",
    "0370",
    "0450",
    "0481",
    "0636",
    "0730",
    "0760",
    "0810",
]
PLACES = ["11", "12", "19", "21", "22", "23", "02", "10", "31", "49", "51", "81"]
STATES = ["IL", "IN", "WI", "MO", "IA", "OH", "MI", "KY", "TN", "MN"]
LAST_NAMES = [
    "ALDER",
    "BIRCH",
    "CEDAR",
    "DOGWOOD",
    "ELM",
    "FIR",
    "HAZEL",
    "JUNIPER",
    "LARCH",
    "MAPLE",
    "OAK",
    "PINE",
]
FIRST_NAMES = [
    "AVERY",
    "BLAIR",
    "CASEY",
    "DREW",
    "EMERY",
    "FINLEY",
    "HARPER",
    "JORDAN",
    "KENDALL",
    "LOGAN",
    "MORGAN",
]
STREETS = [
    "MAIN ST",
    "OAK AVE",
    "ELM ST",
    "LAKE SHORE DR",
    "MILL RD",
    "2ND ST",
    "PARK PL",
    "HILL CT",
]
CITIES = ["SPRINGFIELD", "CHATHAM", "ROCHESTER", "PEORIA", "DECATUR", "NORMAL", "URBANA", "QUINCY"]
TAXONOMIES = ["207Q00000X", "207R00000X", "208D00000X", "363LF0000X", "282N00000X", "261QP2300X"]
FILING = ["CI", "MB", "MA", "MC", "BL", "HM", "12", "13", "WC", "CH", "VA"]
RESPONSIBILITY = ["primary", "secondary", "tertiary"]
DEPENDENT_RELATIONSHIPS = ["01", "19", "20", "21", "39", "40", "53", "G8"]
CONDITION_CODES = ["01", "02", "39", "40", "A1", "07", "17", "20"]
OCCURRENCE_CODES = ["01", "02", "04", "05", "11", "24", "31", "42"]
OCCURRENCE_SPAN_CODES = ["70", "71", "72", "74", "M0"]
VALUE_CODES = ["01", "02", "14", "37", "45", "80", "81", "A1"]


DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _text(alphabet: str, low: int, high: int | None = None) -> st.SearchStrategy[str]:
    """Strings of ``low``..``high`` characters of ``alphabet`` (faster than ``from_regex``)."""
    return st.text(alphabet, min_size=low, max_size=low if high is None else high)


def _hours() -> st.SearchStrategy[str]:
    return st.builds(lambda h, m: f"{h:02d}{m:02d}", st.integers(0, 23), st.integers(0, 59))


@st.composite
def npis(draw: st.DrawFn) -> str:
    """A 10-digit NPI with a correct Luhn check digit."""
    first = draw(st.sampled_from("12"))
    rest = draw(st.text("0123456789", min_size=8, max_size=8))
    nine = first + rest
    return nine + str(npi_check_digit(nine))


MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def _member_ids() -> st.SearchStrategy[str]:
    return st.builds(str.__add__, _text(UPPER, 1, 3), _text(DIGITS, 6, 12))


def _mbis() -> st.SearchStrategy[str]:
    """Medicare Beneficiary Identifiers in the CMS pattern (synthetic)."""
    letter, either = st.sampled_from(MBI_LETTERS), st.sampled_from(MBI_LETTERS + DIGITS)
    digit = st.sampled_from(DIGITS)
    parts = [st.sampled_from("123456789"), letter, either, digit, letter, either, digit]
    parts += [letter, letter, digit, digit]
    return st.tuples(*parts).map("".join)


def _dates(low: date, high: date) -> st.SearchStrategy[date]:
    return st.dates(min_value=low, max_value=max(low, high))


def _money(low: str = "0.00", high: str = "9999.99") -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=2)


@st.composite
def _address(draw: st.DrawFn, *, zip9: bool = False) -> dict[str, Any]:
    address: dict[str, Any] = {
        "line1": f"{draw(st.integers(1, 9999))} {draw(st.sampled_from(STREETS))}",
        "city": draw(st.sampled_from(CITIES)),
        "state": draw(st.sampled_from(STATES)),
        "zip": draw(
            _text(DIGITS, 9).map(lambda z: "6" + z[1:])
            if zip9
            else st.sampled_from([5, 9])
            .flatmap(lambda n: _text(DIGITS, n))
            .map(lambda z: "6" + z[1:])
        ),
    }
    if draw(st.booleans()):
        address["line2"] = f"SUITE {draw(st.integers(1, 400))}"
    return address


@st.composite
def _person(draw: st.DrawFn, *, taxonomy: bool = False) -> dict[str, Any]:
    provider: dict[str, Any] = {
        "npi": draw(npis()),
        "last_name": draw(st.sampled_from(LAST_NAMES)),
        "first_name": draw(st.sampled_from(FIRST_NAMES)),
    }
    if taxonomy and draw(st.booleans()):
        provider["taxonomy"] = draw(st.sampled_from(TAXONOMIES))
    return provider


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def _parties(draw: st.DrawFn, *, institutional: bool = False) -> dict[str, Any]:
    """Billing provider, payer, subscriber and (maybe) a dependent patient.

    An institutional billing provider has an EIN (837I 2010AA REF01 is EI only); a professional
    one an EIN or, billing as an individual, an SSN.
    """
    billing: dict[str, Any] = {
        "npi": draw(npis()),
        "organization_name": f"{draw(st.sampled_from(LAST_NAMES))} MEDICAL GROUP",
        "tax_id": draw(_text(DIGITS, 9)),
        "tax_id_type": "EIN" if institutional else draw(st.sampled_from(["EIN", "EIN", "SSN"])),
        "address": draw(_address(zip9=True)),
    }
    if draw(st.booleans()):
        billing["taxonomy"] = draw(st.sampled_from(TAXONOMIES))
    if draw(st.booleans()):
        billing["contact"] = {
            "name": "BILLING OFFICE",
            "phone": draw(
                st.builds(lambda a, b: f"{a}555{b}", st.integers(200, 999), _text(DIGITS, 4))
            ),
        }
    subscriber_birth = draw(_dates(date(1935, 1, 1), date(2006, 12, 31)))
    filing = draw(st.sampled_from(FILING))
    subscriber: dict[str, Any] = {
        "member_id": draw(_mbis() if filing in ("MA", "MB") else _member_ids()),
        "last_name": draw(st.sampled_from(LAST_NAMES)),
        "first_name": draw(st.sampled_from(FIRST_NAMES)),
        "birth_date": subscriber_birth,
        "gender": draw(st.sampled_from(["M", "F", "U"])),
        "address": draw(_address()),
        "payer_responsibility": draw(st.sampled_from(RESPONSIBILITY)),
        "claim_filing_indicator": filing,
    }
    if draw(st.booleans()):
        subscriber["group_number"] = draw(
            st.builds(str.__add__, _text(UPPER, 0, 3), _text(DIGITS, 3, 8))
        )
    patient = None
    if draw(st.booleans()):
        relationship = draw(st.sampled_from(DEPENDENT_RELATIONSHIPS))
        low = subscriber_birth + timedelta(days=1) if relationship == "19" else date(1935, 1, 1)
        patient = {
            "last_name": subscriber["last_name"],
            # a different first name: the same name and birth date would look like the subscriber
            "first_name": draw(
                st.sampled_from([n for n in FIRST_NAMES if n != subscriber["first_name"]])
            ),
            "birth_date": draw(_dates(low, LATEST_BIRTH)),
            "gender": draw(st.sampled_from(["M", "F", "U"])),
            "relationship_to_subscriber": relationship,
            "address": subscriber["address"],
        }
    payer = {
        "id": draw(_text(DIGITS, 5)),
        "name": f"{draw(st.sampled_from(LAST_NAMES))} HEALTH PLAN",
    }
    return {
        "billing_provider": billing,
        "payer": payer,
        "subscriber": subscriber,
        "patient": patient,
    }


@st.composite
def _claim_header(draw: st.DrawFn) -> dict[str, Any]:
    frequency = draw(st.sampled_from(["1", "1", "1", "7", "8"]))
    header: dict[str, Any] = {
        "claim_id": draw(
            st.builds(str.__add__, _text(UPPER + DIGITS, 1), _text(UPPER + DIGITS + "-", 0, 19))
        ),
        "frequency": frequency,
        "signature_on_file": draw(st.booleans()),
        "accept_assignment": draw(st.booleans()),
        "benefits_assigned": draw(st.booleans()),
        "release_of_information": draw(st.sampled_from(["Y", "I"])),
    }
    if frequency != "1":
        header["original_payer_claim_number"] = draw(_text(DIGITS, 10, 15))
    if draw(st.booleans()):
        header["partner"] = "demo-clearinghouse"
    for name in ("prior_authorization", "referral_number", "medical_record_number"):
        if draw(st.booleans()):
            header[name] = draw(_text(UPPER + DIGITS, 4, 15))
    return header


def _finish(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    if draw(st.booleans()):
        data["total_charge"] = str(sum(Decimal(line["charge"]) for line in data["service_lines"]))
    subscriber = data["subscriber"]
    own = subscriber["payer_responsibility"]
    if subscriber["claim_filing_indicator"] in ("MA", "MB") and own != "primary":
        subscriber["insurance_type"] = draw(st.sampled_from(MEDICARE_SECONDARY_TYPES))
    data["other_payers"] = draw(_other_payers(data))
    return data


MEDICARE_SECONDARY_TYPES = ["12", "13", "14", "15", "16", "41", "42", "43", "47"]


def _cents(amount: int) -> str:
    return f"{Decimal(amount) / 100:.2f}"


@st.composite
def _split(draw: st.DrawFn, cents: int) -> tuple[int, list[dict[str, Any]]]:
    """Paid cents and the CO/PR adjustments that make up the rest of ``cents``."""
    paid = draw(st.integers(0, cents))
    contractual = draw(st.integers(0, cents - paid))
    patient = cents - paid - contractual
    adjustments = []
    if contractual:
        adjustments.append({"group": "CO", "reason": "45", "amount": _cents(contractual)})
    if patient:
        reason = draw(st.sampled_from(["1", "2", "3"]))
        adjustments.append({"group": "PR", "reason": reason, "amount": _cents(patient)})
    return paid, adjustments


@st.composite
def _adjudication(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """A balanced adjudication of the claim, line by line or for the claim as a whole."""
    lines = data["service_lines"]
    first = min(line["service_date"] for line in lines)
    adjudication: dict[str, Any] = {"paid_date": draw(_dates(first, LATEST_SERVICE))}
    if draw(st.booleans()):
        decided, paid_total, owed = [], 0, 0
        for i, line in enumerate(lines):
            paid, adjustments = draw(_split(int(Decimal(line["charge"]) * 100)))
            paid_total += paid
            owed += sum(int(Decimal(a["amount"]) * 100) for a in adjustments if a["group"] == "PR")
            decided.append(
                {
                    "line_id": line.get("line_id") or str(i + 1),
                    "paid_amount": _cents(paid),
                    "adjustments": adjustments,
                }
            )
        adjudication |= {"paid_amount": _cents(paid_total), "lines": decided}
    else:
        total = sum(int(Decimal(line["charge"]) * 100) for line in lines)
        paid, adjustments = draw(_split(total))
        owed = sum(int(Decimal(a["amount"]) * 100) for a in adjustments if a["group"] == "PR")
        adjudication |= {"paid_amount": _cents(paid), "adjustments": adjustments}
    if draw(st.booleans()):
        adjudication["patient_responsibility"] = _cents(owed)
    if draw(st.booleans()):
        adjudication["payer_claim_control_number"] = draw(_text(DIGITS, 10, 15))
    return adjudication


@st.composite
def _other_payers(draw: st.DrawFn, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The payers ahead of the claim's own (with their adjudication), and maybe the next one."""
    rank = RESPONSIBILITY.index(data["subscriber"]["payer_responsibility"])
    places = RESPONSIBILITY[:rank]
    if rank + 1 < len(RESPONSIBILITY) and draw(st.booleans()):
        places.append(RESPONSIBILITY[rank + 1])
    found = []
    for place in places:
        filing = draw(st.sampled_from(FILING))
        subscriber: dict[str, Any] = {
            "member_id": draw(_mbis() if filing in ("MA", "MB") else _member_ids()),
            "last_name": draw(st.sampled_from(LAST_NAMES)),
            "first_name": draw(st.sampled_from(FIRST_NAMES)),
            "claim_filing_indicator": filing,
            "relationship_to_patient": draw(st.sampled_from(["18", "01", "19", "G8"])),
        }
        if filing in ("MA", "MB") and place != "primary":
            subscriber["insurance_type"] = draw(st.sampled_from(MEDICARE_SECONDARY_TYPES))
        payer: dict[str, Any] = {
            "responsibility": place,
            # a letter first: never the claim's own payer id (five digits)
            "payer": {"id": f"{place[0].upper()}{draw(_text(DIGITS, 4))}", "name": "OTHER PLAN"},
            "subscriber": subscriber,
        }
        if RESPONSIBILITY.index(place) < rank:
            payer["adjudication"] = draw(_adjudication(data))
        found.append(payer)
    return found


@st.composite
def _professional_dict(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": "professional", **draw(_claim_header()), **draw(_parties())}
    births = [data["subscriber"]["birth_date"]]
    if data["patient"] is not None:
        births.append(data["patient"]["birth_date"])
    born = max(births)
    diagnoses = draw(st.lists(st.sampled_from(ICD10_CM), min_size=1, max_size=12, unique=True))
    data["diagnoses"] = diagnoses
    data["place_of_service"] = draw(st.sampled_from(PLACES))
    for role in ("rendering_provider", "referring_provider", "supervising_provider"):
        if draw(st.booleans()):
            data[role] = draw(_person(taxonomy=role == "rendering_provider"))
    if draw(st.booleans()):
        data["service_facility"] = {
            "name": f"{draw(st.sampled_from(LAST_NAMES))} CLINIC",
            "npi": draw(npis()),
            "address": draw(_address()),
        }
    if draw(st.booleans()):
        data["pay_to_address"] = {**draw(_address()), "line1": "PO BOX 4410"}
    first_day = draw(_dates(max(EARLIEST_SERVICE, born), LATEST_SERVICE))
    if data["place_of_service"] in ("21", "51", "61") or draw(st.integers(0, 5)) == 0:
        # an inpatient visit names the stay's admission date (DTP*435)
        data["hospitalized_from"] = draw(
            _dates(max(born, first_day - timedelta(days=20)), first_day)
        )
    if draw(st.booleans()):
        data["onset_date"] = draw(_dates(born, first_day))
    if draw(st.booleans()):
        data["related_causes"] = ["AA"]
        data["accident_date"] = draw(_dates(born, first_day))
        data["accident_state"] = draw(st.sampled_from(STATES))
    lines = []
    for i in range(draw(st.integers(1, 6))):
        line: dict[str, Any] = {
            "line_id": f"L{i + 1}-{draw(_text(UPPER + DIGITS, 1, 8))}",
            "procedure_code": draw(st.sampled_from(CPT_HCPCS)),
            "modifiers": draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True)),
            "charge": str(draw(_money())),
            "units": str(draw(st.integers(1, 12))),
            "unit_type": draw(st.sampled_from(["UN", "UN", "MJ"])),
            "service_date": draw(
                _dates(first_day, min(first_day + timedelta(days=5), LATEST_SERVICE))
            ),
            "diagnosis_pointers": draw(
                st.lists(st.integers(1, len(diagnoses)), min_size=1, max_size=4, unique=True)
            ),
        }
        if draw(st.integers(0, 4)) == 0:
            line["ndc"] = {
                "code": draw(_text(DIGITS, 11)),
                "quantity": str(draw(st.decimals(Decimal("0.1"), Decimal("50"), places=1))),
                "unit": draw(st.sampled_from(["UN", "ML", "GR", "F2", "ME"])),
            }
        if draw(st.integers(0, 4)) == 0:
            line["rendering_provider"] = draw(_person())
        if draw(st.integers(0, 4)) == 0:
            line["place_of_service"] = draw(st.sampled_from(PLACES))
        lines.append(line)
    data["service_lines"] = lines
    return _finish(draw, data)


@st.composite
def _institutional_dict(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "institutional",
        **draw(_claim_header()),
        **draw(_parties(institutional=True)),
    }
    births = [data["subscriber"]["birth_date"]]
    if data["patient"] is not None:
        births.append(data["patient"]["birth_date"])
    born = max(births)
    inpatient = draw(st.booleans())
    facility_type = draw(
        st.sampled_from(["11", "21", "18"] if inpatient else ["13", "14", "71", "73", "83", "85"])
    )
    start = draw(_dates(max(EARLIEST_SERVICE, born), LATEST_SERVICE))
    end = draw(_dates(start, min(start + timedelta(days=12), LATEST_SERVICE)))
    principal = draw(
        st.sampled_from(ICD10_CM_INPATIENT_PRINCIPAL if inpatient else ICD10_CM_INSTITUTIONAL)
    )
    others = draw(
        st.lists(
            st.sampled_from([c for c in ICD10_CM_INSTITUTIONAL if c != principal]),
            max_size=11,
            unique=True,
        )
    )
    diagnoses = [principal, *others]
    data["diagnoses"] = diagnoses
    data["attending_provider"] = draw(_person(taxonomy=True))
    if draw(st.booleans()):
        data["operating_provider"] = draw(_person())
    # 30 "still a patient" only on outpatient bills: an inpatient xx1 bill ends in a discharge
    statuses = ["01", "02", "03", "06", "20", "50", "62"] + ([] if inpatient else ["30"])
    status = draw(st.sampled_from(statuses))
    block: dict[str, Any] = {
        "facility_type": facility_type,
        "statement_from": start,
        "statement_to": end,
        "admission_type": draw(st.sampled_from(["1", "2", "3", "4", "5", "9"])),
        "admission_source": draw(st.sampled_from(["1", "2", "4", "5", "6", "7", "9", "D"])),
        "patient_status": status,
        "condition_codes": draw(
            st.lists(st.sampled_from(CONDITION_CODES), max_size=4, unique=True)
        ),
        "occurrence_codes": [
            {"code": code, "date": draw(_dates(max(born, start - timedelta(days=30)), end))}
            for code in draw(st.lists(st.sampled_from(OCCURRENCE_CODES), max_size=3, unique=True))
        ],
        "value_codes": [
            {"code": code, "amount": str(draw(_money("0.00", "500.00")))}
            for code in draw(st.lists(st.sampled_from(VALUE_CODES), max_size=3, unique=True))
        ],
    }
    if draw(st.booleans()):
        block["occurrence_span_codes"] = [
            {
                "code": draw(st.sampled_from(OCCURRENCE_SPAN_CODES)),
                "from_date": start,
                "to_date": end,
            }
        ]
    if inpatient:
        block["admission_date"] = start
        block["admission_hour"] = draw(_hours())
        block["admitting_diagnosis"] = draw(st.sampled_from(ICD10_CM_INSTITUTIONAL))
        if status != "30":
            hour = draw(_hours())
            if start == end:  # same-day stay: discharged after admitted
                hour = max(hour, block["admission_hour"])
            block["discharge_hour"] = hour
        if draw(st.booleans()):
            block["principal_procedure"] = {
                "code": draw(st.sampled_from(ICD10_PCS)),
                "date": draw(_dates(start, end)),
            }
            block["other_procedures"] = [
                {"code": code, "date": draw(_dates(start, end))}
                for code in draw(st.lists(st.sampled_from(ICD10_PCS), max_size=3, unique=True))
            ]
    else:
        block["reason_for_visit_diagnoses"] = draw(
            st.lists(st.sampled_from(ICD10_CM), min_size=0, max_size=3, unique=True)
        )
    data["institutional"] = block
    lines = []
    for i in range(draw(st.integers(1, 8))):
        revenue = draw(st.sampled_from(REVENUE_CODES))
        line: dict[str, Any] = {
            "line_id": f"R{i + 1}",
            "revenue_code": revenue,
            "modifiers": [],
            "charge": str(draw(_money("0.00", "25000.00"))),
            "units": str(draw(st.integers(1, 10))),
            "unit_type": "DA" if revenue == "0120" else "UN",
            "service_date": draw(_dates(start, end)),
        }
        if revenue != "0120" and draw(st.booleans()):
            line["procedure_code"] = draw(st.sampled_from(CPT_HCPCS))
            line["modifiers"] = draw(st.lists(st.sampled_from(MODIFIERS), max_size=2, unique=True))
        lines.append(line)
    data["service_lines"] = lines
    return _finish(draw, data)


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def encounter_dicts(kind: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid encounters as the JSON form writes them (dicts of strings, numbers, lists)."""
    if kind == "professional":
        raw = _professional_dict()
    elif kind == "institutional":
        raw = _institutional_dict()
    else:
        raw = _professional_dict() | _institutional_dict()
    return raw.map(_json_ready)


# ------------------------------------------------------------------ coordination of benefits

PLACES_OF_PAYMENT = ["primary", "secondary", "tertiary"]
OTHER_RELATIONSHIPS = ["18", "01", "19", "20", "G8"]
PATIENT_REASONS = ["1", "2", "3"]  # deductible, coinsurance, copay


def _cob_split(draw: st.DrawFn, amount: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """``amount`` as paid + contractual adjustment + patient responsibility (each >= 0)."""
    paid = draw(_money("0.00", str(amount)))
    contractual = draw(_money("0.00", str(amount - paid)))
    return paid, contractual, amount - paid - contractual


@st.composite
def _cob_adjustments(
    draw: st.DrawFn, contractual: Decimal, patient: Decimal
) -> list[dict[str, Any]]:
    """CAS triplets for the two amounts: CO 45, and PR split over one or two reasons."""
    found: list[dict[str, Any]] = []
    if contractual:
        found.append({"group": "CO", "reason": "45", "amount": str(contractual)})
    if patient:
        reasons = draw(
            st.lists(st.sampled_from(PATIENT_REASONS), min_size=1, max_size=2, unique=True)
        )
        first = draw(_money("0.00", str(patient))) if len(reasons) == 2 else patient
        for reason, part in zip(reasons, [first, patient - first], strict=False):
            if part:
                found.append({"group": "PR", "reason": reason, "amount": str(part)})
    return draw(st.permutations(found))


@st.composite
def _cob_adjudication(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """A balanced decision on the claim: line by line (2430) or for the claim as a whole."""
    last_day = max(line["service_date"] for line in data["service_lines"])
    decision: dict[str, Any] = {"paid_date": draw(_dates(last_day, last_day + timedelta(days=25)))}
    if draw(st.booleans()):
        decision["payer_claim_control_number"] = draw(_text(DIGITS, 8, 16))
    if draw(st.integers(0, 3)) == 0:
        decision["remark_codes"] = draw(
            st.lists(st.sampled_from(["N130", "MA01", "M80", "N4"]), max_size=2, unique=True)
        )
    patient_total = Decimal(0)
    if draw(st.booleans()):  # line by line
        lines, paid_total = [], Decimal(0)
        for line in data["service_lines"]:
            paid, contractual, patient = _cob_split(draw, Decimal(line["charge"]))
            lines.append(
                {
                    "line_id": line["line_id"],
                    "paid_amount": str(paid),
                    "adjustments": draw(_cob_adjustments(contractual, patient)),
                }
            )
            paid_total += paid
            patient_total += patient
        decision.update(paid_amount=str(paid_total), lines=lines)
    else:
        total = sum((Decimal(line["charge"]) for line in data["service_lines"]), Decimal(0))
        paid, contractual, patient_total = _cob_split(draw, total)
        decision.update(
            paid_amount=str(paid), adjustments=draw(_cob_adjustments(contractual, patient_total))
        )
    if draw(st.booleans()):
        decision["patient_responsibility"] = str(patient_total)
    return decision


@st.composite
def _cob_other_payers(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``other_payers``: each place before the claim's own payer's adjudicated,
    maybe a later one named; ids distinct from each other and from the claim's payer."""
    data = copy.deepcopy(data)  # hypothesis may hand the same drawn value over again
    own = PLACES_OF_PAYMENT.index(data["subscriber"]["payer_responsibility"])
    before = PLACES_OF_PAYMENT[:own]
    after = [p for p in PLACES_OF_PAYMENT[own + 1 :] if draw(st.booleans())]
    # distinct by construction (the claim's payer id is all digits): no filter to satisfy
    ids = [f"OP{n}{draw(_text(DIGITS, 3))}" for n in range(1, 4)]
    payers = []
    for n, place in enumerate(before + after):
        filing = draw(st.sampled_from(FILING))
        subscriber: dict[str, Any] = {
            "member_id": draw(_mbis() if filing in ("MA", "MB") else _member_ids()),
            "last_name": draw(st.sampled_from(LAST_NAMES)),
            "first_name": draw(st.sampled_from(FIRST_NAMES)),
            "claim_filing_indicator": filing,
            "relationship_to_patient": draw(st.sampled_from(OTHER_RELATIONSHIPS)),
        }
        if draw(st.booleans()):
            subscriber["address"] = draw(_address())
        if draw(st.booleans()):
            subscriber["group_number"] = draw(_text(UPPER + DIGITS, 4, 10))
        if filing in ("MA", "MB") and place != "primary":
            subscriber["insurance_type"] = draw(st.sampled_from(["12", "13", "14", "43", "47"]))
        payer: dict[str, Any] = {
            "responsibility": place,
            "payer": {"id": ids[n], "name": f"{draw(st.sampled_from(LAST_NAMES))} HEALTH"},
            "subscriber": subscriber,
        }
        if place in before:
            payer["adjudication"] = draw(_cob_adjudication(data))
        payers.append(payer)
    data["other_payers"] = payers
    subscriber = data["subscriber"]
    if subscriber["claim_filing_indicator"] in ("MA", "MB") and own:
        subscriber["insurance_type"] = draw(st.sampled_from(["12", "13", "14", "43", "47"]))
    return data


def cob_encounter_dicts(kind: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid encounters with other payers, as the JSON form writes them."""
    if kind == "professional":
        raw = _professional_dict()
    elif kind == "institutional":
        raw = _institutional_dict()
    else:
        raw = _professional_dict() | _institutional_dict()
    return raw.flatmap(_cob_other_payers).map(_json_ready)


def cob_encounters(kind: str | None = None) -> st.SearchStrategy[Encounter]:
    """Valid encounters naming the patient's other payers, with their adjudications (primary,
    secondary and tertiary claims)."""
    return cob_encounter_dicts(kind).map(Encounter.model_validate)


def professional_encounters() -> st.SearchStrategy[Encounter]:
    """Valid professional (837P) encounters."""
    return encounter_dicts("professional").map(Encounter.model_validate)


def institutional_encounters() -> st.SearchStrategy[Encounter]:
    """Valid institutional (837I) encounters."""
    return encounter_dicts("institutional").map(Encounter.model_validate)


def encounters() -> st.SearchStrategy[Encounter]:
    """Valid encounters of both kinds."""
    return professional_encounters() | institutional_encounters()


# ------------------------------------------------------------------ hand-made variations

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "encounters"
DELETE = object()
"""A value for ``with_changes`` that removes the field."""


def sample_dict(name: str) -> dict[str, Any]:
    """A sample encounter of ``samples/encounters`` as decoded JSON (e.g. ``professional-self``)."""
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def with_changes(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``data`` with each JSON path (``service_lines[0].charge``) set or deleted."""
    out = copy.deepcopy(data)
    for path, value in changes.items():
        steps: list[str | int] = []
        for name, index in re.findall(r"([A-Za-z_]\w*)|\[(\d+)\]", path):
            steps.append(name if name else int(index))
        target: Any = out
        for step in steps[:-1]:
            target = target[step]
        last = steps[-1]
        if value is DELETE:
            del target[last]
        else:
            target[last] = copy.deepcopy(value)
    return out
