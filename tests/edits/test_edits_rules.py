"""Table-driven tests of the scrubber rules: for every finding code a passing and a failing case."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gateway.edits import CATALOGUE, FindingCode, Severity, scrub
from gateway.edits.codelists import is_po_box, is_valid_npi, npi_check_digit
from gateway.models import Encounter
from tests.support.cob_cases import CASES as COB_CASES
from tests.support.code_set_cases import ALL_CASES as CODE_SET_CASES
from tests.support.strategies import DELETE, sample_dict, with_changes

TODAY = date(2026, 11, 23)

SELF = "professional-self"
# ICD-10-CM codes valid and billable in 2025-2026 with no MCE edit (for the diagnosis-count cases)
BILLABLE = [f"M250{joint}{side}" for joint in "1234567" for side in "129"]
BILLABLE += ["M2500", "M2508", "M25073", "M25074", "M25075", "M25076"]
BILLABLE.remove("M25079")  # the ankle and foot have their own six codes
DEPENDENT = "professional-dependent"
DRUG = "professional-replacement-drug"
INPATIENT = "institutional-inpatient"
OUTPATIENT = "institutional-outpatient"

PERSON = {"npi": "1987654328", "last_name": "OKAFOR", "first_name": "ADA"}
FACILITY = {
    "name": "EAST CLINIC",
    "address": {
        "line1": "2200 E SANGAMON AVE",
        "city": "SPRINGFIELD",
        "state": "IL",
        "zip": "62702",
    },
}
STREET = "800 E CARPENTER ST"


def _line(i: int) -> dict[str, Any]:
    return {
        "line_id": f"L{i}",
        "procedure_code": "99213",
        "modifiers": [],
        "charge": "1.00",
        "units": "1",
        "unit_type": "UN",
        "service_date": "2026-11-01",
        "diagnosis_pointers": [1],
    }


def _inst_line(i: int) -> dict[str, Any]:
    return {
        "line_id": f"L{i}",
        "revenue_code": "0250",
        "charge": "1.00",
        "units": "1",
        "unit_type": "UN",
        "service_date": "2026-10-12",
    }


# (code, sample, passing changes, failing changes, path of the failing finding)
CASES: list[tuple[FindingCode, str, dict[str, Any], dict[str, Any], str]] = [
    (FindingCode.CLAIM_ID_FORMAT, SELF, {"claim_id": "A" * 20}, {"claim_id": "A" * 21}, "claim_id"),
    (FindingCode.CLAIM_ID_FORMAT, SELF, {"claim_id": "ab-12"}, {"claim_id": "A" * 38}, "claim_id"),
    (
        FindingCode.NPI_FORMAT,
        SELF,
        {"billing_provider.npi": "1987654328"},
        {"billing_provider.npi": "198765432"},
        "billing_provider.npi",
    ),
    (
        FindingCode.NPI_FORMAT,
        SELF,
        {"rendering_provider.npi": " 1645123450 "},
        {"rendering_provider.npi": "3645123450"},
        "rendering_provider.npi",
    ),
    (
        FindingCode.NPI_CHECKDIGIT,
        SELF,
        {"rendering_provider.npi": "1645123450"},
        {"rendering_provider.npi": "1645123451"},
        "rendering_provider.npi",
    ),
    (
        FindingCode.NPI_CHECKDIGIT,
        DEPENDENT,
        {"referring_provider.npi": "1765432103"},
        {"referring_provider.npi": "1765432130"},
        "referring_provider.npi",
    ),
    (
        FindingCode.NPI_CHECKDIGIT,
        INPATIENT,
        {"operating_provider": PERSON},
        {"operating_provider": {**PERSON, "npi": "1987654329"}},
        "operating_provider.npi",
    ),
    (
        FindingCode.NPI_CHECKDIGIT,
        SELF,
        {"service_lines[1].rendering_provider": PERSON},
        {"service_lines[1].rendering_provider": {**PERSON, "npi": "1987654320"}},
        "service_lines[1].rendering_provider.npi",
    ),
    (
        FindingCode.NPI_CHECKDIGIT,
        SELF,
        {"service_facility": {**FACILITY, "npi": "1432156788"}},
        {"service_facility": {**FACILITY, "npi": "1432156787"}},
        "service_facility.npi",
    ),
    (
        FindingCode.TAX_ID_FORMAT,
        SELF,
        {"billing_provider.tax_id": "37-1234567"},
        {"billing_provider.tax_id": "3712345"},
        "billing_provider.tax_id",
    ),
    (
        FindingCode.TAX_ID_TYPE_INSTITUTIONAL,
        INPATIENT,
        {"billing_provider.tax_id_type": "EIN"},
        {"billing_provider.tax_id_type": "SSN"},
        "billing_provider.tax_id_type",
    ),
    (
        FindingCode.TAX_ID_TYPE_INSTITUTIONAL,
        OUTPATIENT,
        {"billing_provider.tax_id": "37-1234567", "billing_provider.tax_id_type": "ein"},
        {"billing_provider.tax_id_type": "ssn"},
        "billing_provider.tax_id_type",
    ),
    (
        FindingCode.TAXONOMY_FORMAT,
        SELF,
        {"billing_provider.taxonomy": "363LF0000X"},
        {"billing_provider.taxonomy": "207Q0000"},
        "billing_provider.taxonomy",
    ),
    (
        FindingCode.BILLING_NAME_MISSING,
        SELF,
        {"billing_provider.organization_name": DELETE, "billing_provider.last_name": "CARTER"},
        {"billing_provider.organization_name": DELETE},
        "billing_provider.organization_name",
    ),
    (
        FindingCode.MEDICARE_ID_FORMAT,
        SELF,
        {"subscriber.claim_filing_indicator": "MB", "subscriber.member_id": "1EG4TE5MK73"},
        {"subscriber.claim_filing_indicator": "MB", "subscriber.member_id": "1EG4-TE5-MK73"},
        "subscriber.member_id",
    ),
    (
        FindingCode.MEDICARE_ID_FORMAT,
        SELF,
        {"subscriber.claim_filing_indicator": "CI", "subscriber.member_id": "123456789A"},
        {"subscriber.claim_filing_indicator": "MA", "subscriber.member_id": "123456789A"},
        "subscriber.member_id",
    ),
    (
        FindingCode.PHONE_FORMAT,
        SELF,
        {"billing_provider.contact.phone": "(217) 555-0100"},
        {"billing_provider.contact.phone": "555-0100"},
        "billing_provider.contact.phone",
    ),
    (
        FindingCode.TEXT_CHARACTERS,
        SELF,
        {"subscriber.last_name": "O'BRIEN-SMITH"},
        {"subscriber.last_name": "O*BRIEN"},
        "subscriber.last_name",
    ),
    (
        FindingCode.TEXT_CHARACTERS,
        SELF,
        {"note": "PATIENT SEEN AT 10 AM"},
        {"note": "SEEN AT 10:30"},
        "note",
    ),
    (
        FindingCode.TEXT_NON_ASCII,
        SELF,
        {"subscriber.last_name": "MUNOZ"},
        {"subscriber.last_name": "MUÑOZ"},
        "subscriber.last_name",
    ),
    (
        FindingCode.TEXT_TOO_LONG,
        SELF,
        {"subscriber.address.line1": "1" * 55},
        {"subscriber.address.line1": "1" * 56},
        "subscriber.address.line1",
    ),
    (
        FindingCode.TEXT_TOO_LONG,
        SELF,
        {"subscriber.first_name": "A" * 35},
        {"subscriber.first_name": "A" * 36},
        "subscriber.first_name",
    ),
    (
        FindingCode.BILLING_PO_BOX,
        SELF,
        {"billing_provider.address.line1": "100 BOXWOOD LN"},
        {"billing_provider.address.line1": "P.O. Box 12"},
        "billing_provider.address.line1",
    ),
    (
        FindingCode.BILLING_PO_BOX,
        SELF,
        {"billing_provider.address.line2": "SUITE 200"},
        {"billing_provider.address.line2": "PO BOX 77"},
        "billing_provider.address.line2",
    ),
    (
        FindingCode.FACILITY_PO_BOX,
        SELF,
        {"service_facility": FACILITY},
        {"service_facility": {**FACILITY, "address": {**FACILITY["address"], "line1": "POB 9"}}},
        "service_facility.address.line1",
    ),
    (
        FindingCode.BILLING_ZIP9,
        SELF,
        {"billing_provider.address.zip": "62701-1234"},
        {"billing_provider.address.zip": "62701"},
        "billing_provider.address.zip",
    ),
    (
        FindingCode.ZIP_FORMAT,
        SELF,
        {"subscriber.address.zip": "62704"},
        {"subscriber.address.zip": "6270"},
        "subscriber.address.zip",
    ),
    (
        FindingCode.STATE_CODE,
        SELF,
        {"subscriber.address.state": "wi"},
        {"subscriber.address.state": "XX"},
        "subscriber.address.state",
    ),
    (
        FindingCode.REFERENCE_FORMAT,
        DRUG,
        {"prior_authorization": "AUTH-551/20"},
        {"prior_authorization": "AUTH 551"},
        "prior_authorization",
    ),
    (
        FindingCode.ICD_DOT,
        SELF,
        {"diagnoses[0]": "E119"},
        {"diagnoses[0]": "E11.9"},
        "diagnoses[0]",
    ),
    (
        FindingCode.ICD_DOT,
        INPATIENT,
        {"institutional.admitting_diagnosis": "R0789"},
        {"institutional.admitting_diagnosis": "R07.89"},
        "institutional.admitting_diagnosis",
    ),
    (
        FindingCode.ICD_SYNTAX,
        SELF,
        {"diagnoses[1]": "U071"},
        {"diagnoses[1]": "1100"},
        "diagnoses[1]",
    ),
    (
        FindingCode.ICD_SYNTAX,
        SELF,
        {"diagnoses[1]": "S8261XA"},
        {"diagnoses[1]": "S8261XAB"},
        "diagnoses[1]",
    ),
    (
        FindingCode.ICD_SYNTAX,
        OUTPATIENT,
        {"institutional.reason_for_visit_diagnoses": ["R079", "R0602"]},
        {"institutional.reason_for_visit_diagnoses": ["R079", "R0"]},
        "institutional.reason_for_visit_diagnoses[1]",
    ),
    (
        FindingCode.ICD_PCS_SYNTAX,
        INPATIENT,
        {"institutional.principal_procedure": {"code": "02703ZZ", "date": "2026-10-13"}},
        {"institutional.principal_procedure": {"code": "0270IZZ", "date": "2026-10-13"}},
        "institutional.principal_procedure.code",
    ),
    (
        FindingCode.DIAGNOSIS_MISSING,
        INPATIENT,
        {"diagnoses": ["I214"]},
        {"diagnoses": []},
        "diagnoses",
    ),
    (
        FindingCode.DIAGNOSIS_COUNT,
        SELF,
        {"diagnoses": list(BILLABLE[:12])},
        {"diagnoses": list(BILLABLE[:13])},
        "diagnoses[12]",
    ),
    (
        FindingCode.DIAGNOSIS_COUNT,
        INPATIENT,
        {"diagnoses": list(BILLABLE[:25])},
        {"diagnoses": list(BILLABLE[:26])},
        "diagnoses[25]",
    ),
    (
        FindingCode.DIAGNOSIS_DUPLICATE,
        SELF,
        {"diagnoses": ["E119", "I10", "E1165"]},
        {"diagnoses": ["E119", "I10", "E11.9"]},
        "diagnoses[2]",
    ),
    (
        FindingCode.REASON_FOR_VISIT_COUNT,
        OUTPATIENT,
        {"institutional.reason_for_visit_diagnoses": ["R079", "R0602", "R42"]},
        {"institutional.reason_for_visit_diagnoses": ["R079", "R0602", "R42", "R55"]},
        "institutional.reason_for_visit_diagnoses[3]",
    ),
    (
        FindingCode.LINES_MISSING,
        SELF,
        {"service_lines": [_line(1)]},
        {"service_lines": []},
        "service_lines",
    ),
    (
        FindingCode.LINE_COUNT,
        SELF,
        {"service_lines": [_line(i) for i in range(50)]},
        {"service_lines": [_line(i) for i in range(51)]},
        "service_lines[50]",
    ),
    (
        FindingCode.LINE_COUNT,
        INPATIENT,
        {"service_lines": [_inst_line(i) for i in range(999)]},
        {"service_lines": [_inst_line(i) for i in range(1000)]},
        "service_lines[999]",
    ),
    (
        FindingCode.LINE_ID_DUPLICATE,
        SELF,
        {"service_lines[1].line_id": "VFP0001-9"},
        {"service_lines[1].line_id": "VFP0001-1"},
        "service_lines[1].line_id",
    ),
    (
        FindingCode.LINE_ID_FORMAT,
        SELF,
        {"service_lines[1].line_id": "X" * 50},
        {"service_lines[1].line_id": "LINE 2"},
        "service_lines[1].line_id",
    ),
    (
        FindingCode.PROCEDURE_MISSING,
        SELF,
        {"service_lines[1].procedure_code": "83036"},
        {"service_lines[1].procedure_code": DELETE},
        "service_lines[1].procedure_code",
    ),
    (
        FindingCode.PROCEDURE_SYNTAX,
        SELF,
        {"service_lines[1].procedure_code": "0042T"},
        {"service_lines[1].procedure_code": "9921"},
        "service_lines[1].procedure_code",
    ),
    (
        FindingCode.PROCEDURE_SYNTAX,
        SELF,
        {"service_lines[1].procedure_code": "G0439"},
        {"service_lines[1].procedure_code": "W0439"},
        "service_lines[1].procedure_code",
    ),
    (
        FindingCode.MODIFIER_SYNTAX,
        SELF,
        {"service_lines[0].modifiers": ["59"]},
        {"service_lines[0].modifiers": ["5"]},
        "service_lines[0].modifiers[0]",
    ),
    (
        FindingCode.MODIFIER_COUNT,
        SELF,
        {"service_lines[0].modifiers": ["25", "59", "RT", "GT"]},
        {"service_lines[0].modifiers": ["25", "59", "RT", "GT", "XU"]},
        "service_lines[0].modifiers[4]",
    ),
    (
        FindingCode.MODIFIER_DUPLICATE,
        SELF,
        {"service_lines[0].modifiers": ["25", "59"]},
        {"service_lines[0].modifiers": ["25", "25"]},
        "service_lines[0].modifiers[1]",
    ),
    (
        FindingCode.REVENUE_CODE,
        OUTPATIENT,
        {"service_lines[1].revenue_code": "730"},
        {"service_lines[1].revenue_code": "73"},
        "service_lines[1].revenue_code",
    ),
    (
        FindingCode.REVENUE_CODE,
        OUTPATIENT,
        {"service_lines[1].revenue_code": "0730"},
        {"service_lines[1].revenue_code": DELETE},
        "service_lines[1].revenue_code",
    ),
    (
        FindingCode.UNITS_NOT_POSITIVE,
        SELF,
        {"service_lines[1].units": "0.5"},
        {"service_lines[1].units": "0"},
        "service_lines[1].units",
    ),
    (
        FindingCode.UNIT_TYPE_FOR_KIND,
        SELF,
        {"service_lines[1].unit_type": "MJ"},
        {"service_lines[1].unit_type": "DA"},
        "service_lines[1].unit_type",
    ),
    (
        FindingCode.UNIT_TYPE_FOR_KIND,
        INPATIENT,
        {"service_lines[1].unit_type": "DA"},
        {"service_lines[1].unit_type": "MJ"},
        "service_lines[1].unit_type",
    ),
    (
        FindingCode.CHARGE_NEGATIVE,
        SELF,
        {"service_lines[1].charge": "0.00"},
        {"service_lines[1].charge": "-1.00"},
        "service_lines[1].charge",
    ),
    (
        FindingCode.AMOUNT_PRECISION,
        SELF,
        {"service_lines[1].charge": "42.5"},
        {"service_lines[1].charge": "42.505"},
        "service_lines[1].charge",
    ),
    (
        FindingCode.TOTAL_MISMATCH,
        SELF,
        {"total_charge": "227.50"},
        {"total_charge": "227.00"},
        "total_charge",
    ),
    (
        FindingCode.POINTER_MISSING,
        SELF,
        {"service_lines[1].diagnosis_pointers": [3]},
        {"service_lines[1].diagnosis_pointers": []},
        "service_lines[1].diagnosis_pointers",
    ),
    (
        FindingCode.POINTER_RANGE,
        SELF,
        {"service_lines[0].diagnosis_pointers": [1, 3]},
        {"service_lines[0].diagnosis_pointers": [1, 4]},
        "service_lines[0].diagnosis_pointers[1]",
    ),
    (
        FindingCode.POINTER_RANGE,
        SELF,
        {"service_lines[0].diagnosis_pointers": [1]},
        {"service_lines[0].diagnosis_pointers": [0]},
        "service_lines[0].diagnosis_pointers[0]",
    ),
    (
        FindingCode.POINTER_COUNT,
        SELF,
        {
            "diagnoses": ["E119", "I10", "Z7984", "E785", "R519"],
            "service_lines[0].diagnosis_pointers": [1, 2, 3, 4],
        },
        {
            "diagnoses": ["E119", "I10", "Z7984", "E785", "R519"],
            "service_lines[0].diagnosis_pointers": [1, 2, 3, 4, 5],
        },
        "service_lines[0].diagnosis_pointers[4]",
    ),
    (
        FindingCode.POINTER_DUPLICATE,
        SELF,
        {"service_lines[0].diagnosis_pointers": [2, 1]},
        {"service_lines[0].diagnosis_pointers": [1, 1]},
        "service_lines[0].diagnosis_pointers[1]",
    ),
    (
        FindingCode.NDC_FORMAT,
        DRUG,
        {"service_lines[1].ndc.code": "0003-0293-05"},
        {"service_lines[1].ndc.code": "0003029305"},
        "service_lines[1].ndc.code",
    ),
    (
        FindingCode.NDC_QUANTITY,
        DRUG,
        {"service_lines[1].ndc.quantity": "0.25"},
        {"service_lines[1].ndc.quantity": "0"},
        "service_lines[1].ndc.quantity",
    ),
    (
        FindingCode.DATE_FUTURE,
        SELF,
        {"service_lines[1].service_date": "2026-11-23"},
        {"service_lines[1].service_date": "2026-11-24"},
        "service_lines[1].service_date",
    ),
    (
        FindingCode.DATE_FUTURE,
        OUTPATIENT,
        {"institutional.statement_to": "2026-11-23"},
        {"institutional.statement_to": "2026-12-01"},
        "institutional.statement_to",
    ),
    (
        FindingCode.DATE_FUTURE,
        SELF,
        {"onset_date": "2026-10-01"},
        {"onset_date": "2027-01-01"},
        "onset_date",
    ),
    (
        FindingCode.DATE_BEFORE_BIRTH,
        DEPENDENT,
        {"patient.birth_date": "2026-11-02"},
        {"patient.birth_date": "2026-11-03"},
        "service_lines[0].service_date",
    ),
    (
        FindingCode.DATE_AFTER_DEATH,
        DEPENDENT,
        {"patient.death_date": "2026-11-02"},
        {"patient.death_date": "2026-11-01"},
        "service_lines[0].service_date",
    ),
    (
        FindingCode.BIRTH_DATE_FUTURE,
        SELF,
        {"subscriber.birth_date": "1980-04-12"},
        {"subscriber.birth_date": "2027-04-12"},
        "subscriber.birth_date",
    ),
    (
        FindingCode.DATE_RANGE_ORDER,
        SELF,
        {"service_lines[1].service_date_to": "2026-11-01"},
        {"service_lines[1].service_date_to": "2026-10-31"},
        "service_lines[1].service_date_to",
    ),
    (
        FindingCode.DATE_RANGE_ORDER,
        INPATIENT,
        {"institutional.statement_from": "2026-10-12"},
        {"institutional.statement_from": "2026-10-16"},
        "institutional.statement_to",
    ),
    (
        FindingCode.STATEMENT_PERIOD,
        INPATIENT,
        {"service_lines[2].service_date": "2026-10-15"},
        {"service_lines[2].service_date": "2026-10-16"},
        "service_lines[2].service_date",
    ),
    (
        FindingCode.STATEMENT_PERIOD,
        INPATIENT,
        {"service_lines[0].service_date_to": "2026-10-14"},
        {"service_lines[0].service_date": "2026-10-11"},
        "service_lines[0].service_date",
    ),
    (
        FindingCode.ADMISSION_AFTER_DISCHARGE,
        INPATIENT,
        {"institutional.admission_date": "2026-10-14"},
        {"institutional.admission_date": "2026-10-16"},
        "institutional.admission_date",
    ),
    (
        FindingCode.ADMISSION_AFTER_DISCHARGE,
        INPATIENT,
        {
            "institutional.statement_to": "2026-10-12",
            "institutional.discharge_hour": "2300",
            **{f"service_lines[{i}].service_date": "2026-10-12" for i in range(3)},
        },
        {
            "institutional.statement_to": "2026-10-12",
            "institutional.discharge_hour": "0900",
            **{f"service_lines[{i}].service_date": "2026-10-12" for i in range(3)},
        },
        "institutional.discharge_hour",
    ),
    (
        FindingCode.ADMISSION_AFTER_DISCHARGE,
        SELF,
        {"hospitalized_from": "2026-10-01", "hospitalized_to": "2026-10-01"},
        {"hospitalized_from": "2026-10-02", "hospitalized_to": "2026-10-01"},
        "hospitalized_to",
    ),
    (
        FindingCode.ADMISSION_DATE_MISSING,
        OUTPATIENT,
        {"institutional.facility_type": "13"},
        {"institutional.facility_type": "11"},
        "institutional.admission_date",
    ),
    (
        FindingCode.ADMISSION_DATE_MISSING,
        SELF,
        {"place_of_service": "21", "hospitalized_from": "2026-10-30"},
        {"place_of_service": "21"},
        "hospitalized_from",
    ),
    (
        FindingCode.ADMISSION_SOURCE,
        INPATIENT,
        {"institutional.admission_source": "1"},
        {"institutional.admission_source": DELETE},
        "institutional.admission_source",
    ),
    (
        FindingCode.HOUR_FORMAT,
        INPATIENT,
        {"institutional.admission_hour": "0000"},
        {"institutional.admission_hour": "2460"},
        "institutional.admission_hour",
    ),
    (
        FindingCode.DATE_OLD,
        SELF,
        {**{f"service_lines[{i}].service_date": "2025-11-23" for i in range(2)}},
        {**{f"service_lines[{i}].service_date": "2025-11-22" for i in range(2)}},
        "service_lines[0].service_date",
    ),
    (
        FindingCode.PLACE_OF_SERVICE,
        SELF,
        {"place_of_service": "22"},
        {"place_of_service": "30"},
        "place_of_service",
    ),
    (
        FindingCode.PLACE_OF_SERVICE,
        SELF,
        {"place_of_service": "02"},
        {"place_of_service": DELETE},
        "place_of_service",
    ),
    (
        FindingCode.PLACE_OF_SERVICE,
        SELF,
        {"service_lines[1].place_of_service": "81"},
        {"service_lines[1].place_of_service": "1"},
        "service_lines[1].place_of_service",
    ),
    (
        FindingCode.FACILITY_TYPE,
        OUTPATIENT,
        {"institutional.facility_type": "83"},
        {"institutional.facility_type": "19"},
        "institutional.facility_type",
    ),
    (
        FindingCode.ADMISSION_TYPE,
        INPATIENT,
        {"institutional.admission_type": "3"},
        {"institutional.admission_type": "6"},
        "institutional.admission_type",
    ),
    (
        FindingCode.ADMISSION_TYPE,
        OUTPATIENT,
        {"institutional.admission_type": DELETE},
        {
            "institutional.admission_type": DELETE,
            "institutional.facility_type": "11",
            "institutional.admission_date": "2026-10-28",
        },
        "institutional.admission_type",
    ),
    (
        FindingCode.ADMISSION_SOURCE,
        INPATIENT,
        {"institutional.admission_source": "2"},
        {"institutional.admission_source": "3"},
        "institutional.admission_source",
    ),
    (
        FindingCode.PATIENT_STATUS,
        INPATIENT,
        {"institutional.patient_status": "20"},
        {"institutional.patient_status": "08"},
        "institutional.patient_status",
    ),
    (
        FindingCode.PATIENT_STATUS,
        INPATIENT,
        {"institutional.patient_status": "01"},
        {"institutional.patient_status": "30", "institutional.discharge_hour": DELETE},
        "institutional.patient_status",
    ),
    (
        FindingCode.UB_CODE_SYNTAX,
        INPATIENT,
        {"institutional.condition_codes": ["A1"]},
        {"institutional.condition_codes": ["3"]},
        "institutional.condition_codes[0]",
    ),
    (
        FindingCode.UB_CODE_SYNTAX,
        INPATIENT,
        {"institutional.value_codes[0].code": "A1"},
        {"institutional.value_codes[0].code": "800"},
        "institutional.value_codes[0].code",
    ),
    (
        FindingCode.UB_CODE_COUNT,
        INPATIENT,
        {"institutional.condition_codes": [f"{n:02d}" for n in range(24)]},
        {"institutional.condition_codes": [f"{n:02d}" for n in range(25)]},
        "institutional.condition_codes[24]",
    ),
    (
        FindingCode.INSTITUTIONAL_MISSING,
        OUTPATIENT,
        {},
        {"institutional": None},
        "institutional",
    ),
    (
        FindingCode.INSTITUTIONAL_ON_PROFESSIONAL,
        SELF,
        {},
        {"institutional": sample_dict(OUTPATIENT)["institutional"]},
        "institutional",
    ),
    (
        FindingCode.ATTENDING_MISSING,
        OUTPATIENT,
        {"attending_provider": PERSON},
        {"attending_provider": None},
        "attending_provider",
    ),
    (
        FindingCode.FIELD_NOT_USED,
        OUTPATIENT,
        {},
        {"place_of_service": "22"},
        "place_of_service",
    ),
    (
        FindingCode.FIELD_NOT_USED,
        SELF,
        {},
        {"service_lines[0].revenue_code": "0450"},
        "service_lines[0].revenue_code",
    ),
    (
        FindingCode.FREQUENCY_NEEDS_ORIGINAL,
        SELF,
        {"frequency": "8", "original_payer_claim_number": "2026305118877"},
        {"frequency": "8"},
        "original_payer_claim_number",
    ),
    (
        FindingCode.FREQUENCY_ORIGINAL_NOT_ALLOWED,
        DRUG,
        {"frequency": "7"},
        {"frequency": "1"},
        "original_payer_claim_number",
    ),
    (
        FindingCode.ACCIDENT_DETAILS,
        SELF,
        {"related_causes": ["AA"], "accident_date": "2026-10-30", "accident_state": "IL"},
        {"related_causes": ["AA"], "accident_date": "2026-10-30"},
        "accident_state",
    ),
    (
        FindingCode.ACCIDENT_DETAILS,
        SELF,
        {"related_causes": ["EM"]},
        {"related_causes": ["OA"]},
        "accident_date",
    ),
    (
        FindingCode.STATE_CODE,
        SELF,
        {"related_causes": ["AA"], "accident_date": "2026-10-30", "accident_state": "WI"},
        {"related_causes": ["AA"], "accident_date": "2026-10-30", "accident_state": "ZZ"},
        "accident_state",
    ),
    (
        FindingCode.DELAY_REASON,
        SELF,
        {"delay_reason_code": "15"},
        {"delay_reason_code": "12"},
        "delay_reason_code",
    ),
    (
        FindingCode.PATIENT_IS_SELF,
        DEPENDENT,
        {"patient.relationship_to_subscriber": "G8"},
        {"patient.relationship_to_subscriber": "18"},
        "patient.relationship_to_subscriber",
    ),
    (
        FindingCode.SUBSCRIBER_DEMOGRAPHICS,
        DEPENDENT,
        {"subscriber.birth_date": DELETE},
        {"patient": None, "subscriber.birth_date": DELETE},
        "subscriber.birth_date",
    ),
    (
        FindingCode.SUBSCRIBER_DEMOGRAPHICS,
        SELF,
        {"subscriber.gender": "U"},
        {"subscriber.gender": None},
        "subscriber.gender",
    ),
    (
        FindingCode.PATIENT_LOOKS_LIKE_SUBSCRIBER,
        DEPENDENT,
        {"patient.first_name": "ROBERT"},
        {"patient.first_name": "Robert", "patient.birth_date": "1975-09-30"},
        "patient",
    ),
    (
        FindingCode.COB_PAYER_AHEAD_MISSING,
        SELF,
        {"subscriber.payer_responsibility": "unknown"},
        {"subscriber.payer_responsibility": "secondary"},
        "other_payers",
    ),
    (
        FindingCode.CHILD_OLDER_THAN_SUBSCRIBER,
        DEPENDENT,
        {"patient.birth_date": "1975-10-01"},
        {"patient.birth_date": "1975-09-29"},
        "patient.birth_date",
    ),
]


def _on(day: str) -> dict[str, Any]:
    """Both lines of the professional-self sample on ``day``."""
    return {"service_lines[0].service_date": day, "service_lines[1].service_date": day}


# the ICD-10-CM code-set rules, with real codes and the day before and the day of an update
CASES += [
    (
        FindingCode.ICD_UNKNOWN,
        SELF,
        {"diagnoses[2]": "Q999"},
        {"diagnoses[2]": "Q9999"},
        "diagnoses[2]",
    ),
    (
        FindingCode.ICD_NOT_BILLABLE,
        SELF,
        {"diagnoses[0]": "E1165"},
        {"diagnoses[0]": "E116"},
        "diagnoses[0]",
    ),
    (
        FindingCode.ICD_SEVENTH_CHARACTER,
        SELF,
        {"diagnoses[2]": "T50901A"},
        {"diagnoses[2]": "T50901"},
        "diagnoses[2]",
    ),
    (
        FindingCode.ICD_DELETED,
        SELF,
        {"diagnoses[2]": "I420", **_on("2026-09-30")},
        {"diagnoses[2]": "I420", **_on("2026-10-01")},
        "diagnoses[2]",
    ),
    (
        FindingCode.ICD_NOT_YET_VALID,
        SELF,
        {"diagnoses[2]": "I4200", **_on("2026-10-01")},
        {"diagnoses[2]": "I4200", **_on("2026-09-30")},
        "diagnoses[2]",
    ),
    (
        FindingCode.ICD_MANIFESTATION_FIRST,
        SELF,
        {"diagnoses": ["E859", "G63"]},
        {"diagnoses": ["G63", "E859"]},
        "diagnoses[0]",
    ),
    (
        FindingCode.ICD_EXTERNAL_CAUSE_FIRST,
        SELF,
        {"diagnoses": ["S82101A", "V4352XA"]},
        {"diagnoses": ["V4352XA", "S82101A"]},
        "diagnoses[0]",
    ),
    (
        FindingCode.ICD_EXTERNAL_CAUSE_FIRST,
        INPATIENT,
        {"institutional.admitting_diagnosis": "S82101A"},
        {"institutional.admitting_diagnosis": "W010XXA"},
        "institutional.admitting_diagnosis",
    ),
    (
        FindingCode.ICD_NOT_BILLABLE,
        OUTPATIENT,
        {"institutional.reason_for_visit_diagnoses": ["R0789"]},
        {"institutional.reason_for_visit_diagnoses": ["R078"]},
        "institutional.reason_for_visit_diagnoses[0]",
    ),
    (
        FindingCode.ICD_UNACCEPTABLE_PRINCIPAL,
        INPATIENT,
        {"diagnoses[2]": "Z0000"},
        {"diagnoses[0]": "Z0000"},
        "diagnoses[0]",
    ),
    (
        FindingCode.ICD_QUESTIONABLE_ADMISSION,
        INPATIENT,
        {"diagnoses": ["I214", "I10"]},
        {"diagnoses": ["I10", "I214"]},
        "diagnoses[0]",
    ),
    (
        FindingCode.ICD_AGE_CONFLICT,
        SELF,
        {"diagnoses[2]": "O80", "subscriber.birth_date": "1962-11-02"},
        {"diagnoses[2]": "O80", "subscriber.birth_date": "1961-11-01"},
        "diagnoses[2]",
    ),
    (
        FindingCode.ICD_AGE_CONFLICT,
        SELF,
        {"diagnoses[2]": "Z3830", "subscriber.birth_date": "2026-10-30"},
        {"diagnoses[2]": "Z3830"},
        "diagnoses[2]",
    ),
    (
        FindingCode.ICD_AGE_ATYPICAL,
        DEPENDENT,
        {"diagnoses[1]": "Z00129"},
        {"diagnoses[1]": "Z0000"},
        "diagnoses[1]",
    ),
    (
        FindingCode.ICD_SEX_CONFLICT,
        SELF,
        {"diagnoses[2]": "N401", "subscriber.gender": "M"},
        {"diagnoses[2]": "N401"},
        "diagnoses[2]",
    ),
    (
        FindingCode.ICD_DATA_COVERAGE,
        SELF,
        _on("2026-11-01"),
        _on("2027-04-01"),
        "service_lines[0].service_date",
    ),
]


def _codes(sample: str, changes: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    encounter = Encounter.model_validate(with_changes(sample_dict(sample), changes))
    found = scrub(encounter, today=TODAY)
    return [(f.code, f.path) for f in found], [f"{f.code} {f.path}" for f in found if f.is_error]


@pytest.mark.parametrize(
    ("code", "sample", "passing", "failing", "path"),
    CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)],
)
def test_rule_passes_and_fails(
    code: FindingCode, sample: str, passing: dict[str, Any], failing: dict[str, Any], path: str
) -> None:
    """The passing variant has neither this finding nor any error; the failing one has it here."""
    passed, passed_errors = _codes(sample, passing)
    assert [c for c in passed if c[0] == code] == []
    assert passed_errors == []
    failed, _ = _codes(sample, failing)
    assert (code, path) in failed


def test_every_scrubber_code_has_a_failing_case() -> None:
    """Every code a rule can raise (not the file/contract codes) is covered by the table."""
    reading = {
        "FILE",
        "JSON",
        "XML",
        "NOT",
        "FIELD-MISSING",
        "FIELD-UNKNOWN",
        "FIELD-TYPE",
        "DATE-FORMAT",
        "AMOUNT-FORMAT",
        "CODE-NOT-IN-LIST",
        "KIND",
        "FREQUENCY",
        "GENDER",
        "RELATIONSHIP-CODE",
        "UNIT-TYPE",
        "CLAIM-FILING-INDICATOR",
        "PAYER-RESPONSIBILITY",
        "TAX-ID-TYPE",
    }

    def is_reading(code: FindingCode) -> bool:
        body = code.value[2:]
        return body in reading or body.split("-")[0] in {"FILE", "JSON", "XML", "NOT"}

    expected = sorted(c.value for c in FindingCode if not is_reading(c))
    code_sets = [c for case in CODE_SET_CASES for c, _ in case[2]]
    cob = {case[0].value for case in COB_CASES}  # run by test_edits_cob.py
    covered = sorted({case[0].value for case in CASES} | {c.value for c in code_sets} | cob)
    assert expected == covered


def test_the_samples_scrub_clean() -> None:
    """The contract examples raise no finding at all (their dates are after the HCPCS data's
    last quarter, and their codes are valid at its end)."""
    cob = ("professional-secondary", "institutional-secondary")
    for name in (SELF, DEPENDENT, DRUG, INPATIENT, OUTPATIENT, *cob):
        found, errors = _codes(name, {})
        assert (found, errors) == ([], [])


def test_professional_billing_provider_may_bill_under_an_ssn() -> None:
    """An individual billing a professional claim (837P, REF*SY) under an SSN raises nothing."""
    found, errors = _codes(SELF, {"billing_provider.tax_id_type": "SSN"})
    assert (found, errors) == ([], [])


def test_non_ascii_text_blocks_the_claim() -> None:
    """Letters outside ASCII are an error: receivers reject them (999 IK403-6)."""
    _, errors = _codes(SELF, {"billing_provider.address.city": "SÃO PAULO"})
    assert errors == ["E-TEXT-NON-ASCII billing_provider.address.city"]


def test_catalogue_severity_matches_the_code_prefix() -> None:
    """``E-`` codes are errors and ``W-`` codes warnings, each with advice."""
    for code, entry in CATALOGUE.items():
        expected = Severity.ERROR if code.value.startswith("E-") else Severity.WARNING
        assert expected == entry.severity
        assert entry.hint
    assert set(FindingCode) == set(CATALOGUE)


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),
        ("1111111112", True),
        ("1045678905", True),
        ("1234567890", False),
        ("2234567890", False),
        ("123456789", False),
        ("123456789X", False),
    ],
)
def test_npi_check_digit(npi: str, valid: bool) -> None:
    """The NPI check digit is Luhn over 80840 and the first nine digits."""
    assert valid == is_valid_npi(npi)


def test_npi_check_digit_of_known_prefix() -> None:
    """The CMS worked example 123456789 has check digit 3."""
    assert npi_check_digit("123456789") == 3


@pytest.mark.parametrize(
    ("line", "is_box"),
    [
        ("PO BOX 12", True),
        ("P.O. Box 5", True),
        ("POB 7", True),
        ("Post Office Box 3", True),
        ("LOCKBOX 99", True),
        ("BOX 55", True),
        ("100 MAIN ST", False),
        ("1 BOX ELDER ST", False),
        ("12 POBLANO ST", False),
        ("100 BOXWOOD LN", False),
    ],
)
def test_po_box_detection(line: str, is_box: bool) -> None:
    """Post office boxes are told from street names containing similar words."""
    assert is_box == is_po_box(line)


def test_scrub_does_not_change_the_encounter() -> None:
    """Scrubbing leaves the (frozen) encounter exactly as it was."""
    encounter = Encounter.model_validate(with_changes(sample_dict(SELF), {"diagnoses[0]": "E11.9"}))
    before = encounter.model_dump()
    scrub(encounter, today=TODAY)
    assert before == encounter.model_dump()


def test_today_defaults_to_the_real_date() -> None:
    """Without ``today``, a service date far in the future is still caught."""
    data = with_changes(sample_dict(SELF), {"service_lines[1].service_date": "2999-01-01"})
    codes = [f.code for f in scrub(Encounter.model_validate(data))]
    assert FindingCode.DATE_FUTURE in codes


def test_findings_never_carry_patient_values() -> None:
    """Names, birth dates and member ids are never copied into a message."""
    data = with_changes(
        sample_dict(DEPENDENT),
        {
            "patient.birth_date": "2026-11-03",
            "subscriber.address.zip": "123",
            "patient.relationship_to_subscriber": "18",
        },
    )
    messages = " ".join(f.message for f in scrub(Encounter.model_validate(data), today=TODAY))
    for secret in (
        "SMITH",
        "LILY",
        "ROBERT",
        "W123987650",
        "2026-11-03",
        "2015-06-03",
        "ELM ST",
        "123",
    ):
        assert secret not in messages
