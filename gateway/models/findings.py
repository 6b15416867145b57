"""Findings: what is wrong with an encounter, where (a JSON path), and what to do about it.

Every finding has a stable code from ``FindingCode``; the catalogue (``CATALOGUE``) fixes each
code's severity and the advice a billing person can act on. A finding never carries PHI: messages
name the field, never a patient's name, birth date, member id or address. Codes, NPIs and claim ids
identify claims and providers and may appear.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from gateway.x12 import Severity

__all__ = ["CATALOGUE", "Finding", "FindingCode", "Severity", "finding"]


class FindingCode(StrEnum):
    """Stable finding codes: ``E-`` blocks the claim (error), ``W-`` does not (warning)."""

    # reading encounter files
    FILE_UNREADABLE = "E-FILE-UNREADABLE"
    FILE_ENCODING = "E-FILE-ENCODING"
    FILE_EMPTY = "E-FILE-EMPTY"
    FILE_TOO_LARGE = "E-FILE-TOO-LARGE"
    JSON_SYNTAX = "E-JSON-SYNTAX"
    JSON_DUPLICATE_KEY = "E-JSON-DUPLICATE-KEY"
    JSON_TOO_DEEP = "E-JSON-TOO-DEEP"
    ENCOUNTER_TOO_LARGE = "E-JSON-TOO-LARGE"
    XML_SYNTAX = "E-XML-SYNTAX"
    XML_SCHEMA = "E-XML-SCHEMA"
    NOT_AN_OBJECT = "E-NOT-AN-OBJECT"
    # the contract (schema) itself
    FIELD_MISSING = "E-FIELD-MISSING"
    FIELD_UNKNOWN = "E-FIELD-UNKNOWN"
    FIELD_TYPE = "E-FIELD-TYPE"
    DATE_FORMAT = "E-DATE-FORMAT"
    AMOUNT_FORMAT = "E-AMOUNT-FORMAT"
    CODE_NOT_IN_LIST = "E-CODE-NOT-IN-LIST"
    KIND = "E-KIND"
    FREQUENCY = "E-FREQUENCY"
    GENDER = "E-GENDER"
    RELATIONSHIP_CODE = "E-RELATIONSHIP-CODE"
    UNIT_TYPE = "E-UNIT-TYPE"
    CLAIM_FILING_INDICATOR = "E-CLAIM-FILING-INDICATOR"
    PAYER_RESPONSIBILITY = "E-PAYER-RESPONSIBILITY"
    TAX_ID_TYPE = "E-TAX-ID-TYPE"
    # identifiers
    CLAIM_ID_FORMAT = "E-CLAIM-ID-FORMAT"
    NPI_FORMAT = "E-NPI-FORMAT"
    NPI_CHECKDIGIT = "E-NPI-CHECKDIGIT"
    TAX_ID_FORMAT = "E-TAX-ID-FORMAT"
    TAX_ID_TYPE_INSTITUTIONAL = "E-TAX-ID-TYPE-INSTITUTIONAL"
    TAXONOMY_FORMAT = "E-TAXONOMY-FORMAT"
    BILLING_NAME_MISSING = "E-BILLING-NAME-MISSING"
    LINE_ID_FORMAT = "E-LINE-ID-FORMAT"
    LINE_ID_DUPLICATE = "E-LINE-ID-DUPLICATE"
    REFERENCE_FORMAT = "E-REFERENCE-FORMAT"
    MEDICARE_ID_FORMAT = "E-MEDICARE-ID-FORMAT"
    PHONE_FORMAT = "E-PHONE-FORMAT"
    TEXT_CHARACTERS = "E-TEXT-CHARACTERS"
    TEXT_NON_ASCII = "E-TEXT-NON-ASCII"
    TEXT_TOO_LONG = "E-TEXT-TOO-LONG"
    # addresses
    BILLING_PO_BOX = "E-BILLING-PO-BOX"
    FACILITY_PO_BOX = "E-FACILITY-PO-BOX"
    BILLING_ZIP9 = "E-BILLING-ZIP9"
    ZIP_FORMAT = "E-ZIP-FORMAT"
    STATE_CODE = "E-STATE-CODE"
    # diagnoses
    ICD_DOT = "W-ICD-DOT"
    ICD_SYNTAX = "E-ICD-SYNTAX"
    ICD_PCS_SYNTAX = "E-ICD-PCS-SYNTAX"
    DIAGNOSIS_MISSING = "E-DIAGNOSIS-MISSING"
    DIAGNOSIS_COUNT = "E-DIAGNOSIS-COUNT"
    DIAGNOSIS_DUPLICATE = "E-DIAGNOSIS-DUPLICATE"
    REASON_FOR_VISIT_COUNT = "E-REASON-FOR-VISIT-COUNT"
    # diagnoses against the ICD-10-CM code set and the Medicare Code Editor, by date of service
    ICD_UNKNOWN = "E-ICD-UNKNOWN"
    ICD_NOT_BILLABLE = "E-ICD-NOT-BILLABLE"
    ICD_SEVENTH_CHARACTER = "E-ICD-7TH-CHARACTER"
    ICD_DELETED = "E-ICD-DELETED"
    ICD_NOT_YET_VALID = "E-ICD-NOT-YET-VALID"
    ICD_MANIFESTATION_FIRST = "E-ICD-MANIFESTATION-FIRST"
    ICD_EXTERNAL_CAUSE_FIRST = "E-ICD-EXTERNAL-CAUSE-FIRST"
    ICD_UNACCEPTABLE_PRINCIPAL = "E-ICD-UNACCEPTABLE-PRINCIPAL"
    ICD_QUESTIONABLE_ADMISSION = "W-ICD-QUESTIONABLE-ADMISSION"
    ICD_AGE_CONFLICT = "E-ICD-AGE-CONFLICT"
    ICD_AGE_ATYPICAL = "W-ICD-AGE-CONFLICT"
    ICD_SEX_CONFLICT = "W-ICD-SEX-CONFLICT"
    ICD_DATA_COVERAGE = "W-ICD-DATA-COVERAGE"
    # lines
    LINES_MISSING = "E-LINES-MISSING"
    LINE_COUNT = "E-LINE-COUNT"
    PROCEDURE_MISSING = "E-PROCEDURE-MISSING"
    PROCEDURE_SYNTAX = "E-PROCEDURE-SYNTAX"
    MODIFIER_SYNTAX = "E-MODIFIER-SYNTAX"
    MODIFIER_COUNT = "E-MODIFIER-COUNT"
    MODIFIER_DUPLICATE = "W-MODIFIER-DUPLICATE"
    REVENUE_CODE = "E-REVENUE-CODE"
    UNITS_NOT_POSITIVE = "E-UNITS-NOT-POSITIVE"
    UNIT_TYPE_FOR_KIND = "E-UNIT-TYPE-FOR-KIND"
    CHARGE_NEGATIVE = "E-CHARGE-NEGATIVE"
    AMOUNT_PRECISION = "E-AMOUNT-PRECISION"
    TOTAL_MISMATCH = "E-TOTAL-MISMATCH"
    POINTER_MISSING = "E-POINTER-MISSING"
    POINTER_RANGE = "E-POINTER-RANGE"
    POINTER_COUNT = "E-POINTER-COUNT"
    POINTER_DUPLICATE = "E-POINTER-DUPLICATE"
    NDC_FORMAT = "E-NDC-FORMAT"
    NDC_QUANTITY = "E-NDC-QUANTITY"
    # dates
    DATE_FUTURE = "E-DATE-FUTURE"
    DATE_BEFORE_BIRTH = "E-DATE-BEFORE-BIRTH"
    DATE_AFTER_DEATH = "E-DATE-AFTER-DEATH"
    BIRTH_DATE_FUTURE = "E-BIRTH-DATE-FUTURE"
    DATE_RANGE_ORDER = "E-DATE-RANGE-ORDER"
    STATEMENT_PERIOD = "E-STATEMENT-PERIOD"
    ADMISSION_AFTER_DISCHARGE = "E-ADMISSION-AFTER-DISCHARGE"
    ADMISSION_DATE_MISSING = "E-ADMISSION-DATE-MISSING"
    HOUR_FORMAT = "E-HOUR-FORMAT"
    DATE_OLD = "W-DATE-OLD"
    # code lists
    PLACE_OF_SERVICE = "E-PLACE-OF-SERVICE"
    FACILITY_TYPE = "E-FACILITY-TYPE"
    ADMISSION_TYPE = "E-ADMISSION-TYPE"
    ADMISSION_SOURCE = "E-ADMISSION-SOURCE"
    PATIENT_STATUS = "E-PATIENT-STATUS"
    UB_CODE_SYNTAX = "E-UB-CODE-SYNTAX"
    UB_CODE_COUNT = "E-UB-CODE-COUNT"
    PLACE_OF_SERVICE_DATE = "W-PLACE-OF-SERVICE-DATE"
    # procedure code sets by date of service (HCPCS Level II, modifiers, CPT)
    HCPCS_UNKNOWN = "E-HCPCS-UNKNOWN"
    HCPCS_NOT_VALID_ON_DATE = "E-HCPCS-NOT-VALID-ON-DATE"
    HCPCS_UNVERIFIED = "W-HCPCS-UNVERIFIED"
    MODIFIER_UNKNOWN = "E-MODIFIER-UNKNOWN"
    MODIFIER_NOT_VALID_ON_DATE = "E-MODIFIER-NOT-VALID-ON-DATE"
    MODIFIER_UNVERIFIED = "W-MODIFIER-UNVERIFIED"
    CPT_UNKNOWN = "E-CPT-UNKNOWN"
    CPT_NOT_VALID_ON_DATE = "E-CPT-NOT-VALID-ON-DATE"
    CPT_UNVERIFIED = "W-CPT-UNVERIFIED"
    CODE_DATA_COVERAGE = "W-CODE-DATA-COVERAGE"
    # claim shape
    INSTITUTIONAL_MISSING = "E-INSTITUTIONAL-MISSING"
    INSTITUTIONAL_ON_PROFESSIONAL = "E-INSTITUTIONAL-ON-PROFESSIONAL"
    ATTENDING_MISSING = "E-ATTENDING-MISSING"
    FIELD_NOT_USED = "W-FIELD-NOT-USED"
    FREQUENCY_NEEDS_ORIGINAL = "E-FREQUENCY-NEEDS-ORIGINAL"
    FREQUENCY_ORIGINAL_NOT_ALLOWED = "E-FREQUENCY-ORIGINAL-NOT-ALLOWED"
    ACCIDENT_DETAILS = "E-ACCIDENT-DETAILS"
    DELAY_REASON = "E-DELAY-REASON"
    # subscriber and patient
    PATIENT_IS_SELF = "E-PATIENT-IS-SELF"
    SUBSCRIBER_DEMOGRAPHICS = "E-SUBSCRIBER-DEMOGRAPHICS"
    PATIENT_LOOKS_LIKE_SUBSCRIBER = "W-PATIENT-LOOKS-LIKE-SUBSCRIBER"
    CHILD_OLDER_THAN_SUBSCRIBER = "W-CHILD-OLDER-THAN-SUBSCRIBER"
    # other payers (coordination of benefits: 2320/2330/2430)
    COB_RESPONSIBILITY_REPEATED = "E-COB-RESPONSIBILITY-REPEATED"
    COB_PAYER_REPEATED = "E-COB-PAYER-REPEATED"
    COB_PAYER_AHEAD_MISSING = "E-COB-PAYER-AHEAD-MISSING"
    COB_ADJUDICATION_MISSING = "E-COB-ADJUDICATION-MISSING"
    COB_ADJUDICATION_NOT_AHEAD = "W-COB-ADJUDICATION-NOT-AHEAD"
    COB_LINE_UNKNOWN = "E-COB-LINE-UNKNOWN"
    COB_LINE_REPEATED = "E-COB-LINE-REPEATED"
    COB_LINE_NOT_ADJUDICATED = "W-COB-LINE-NOT-ADJUDICATED"
    COB_LINE_UNBALANCED = "E-COB-LINE-UNBALANCED"
    COB_CLAIM_UNBALANCED = "E-COB-CLAIM-UNBALANCED"
    COB_ADJUSTMENT_COUNT = "E-COB-ADJUSTMENT-COUNT"
    COB_CARC_UNKNOWN = "W-COB-CARC-UNKNOWN"
    COB_ADJUDICATION_DATE = "E-COB-ADJUDICATION-DATE"
    COB_PATIENT_RESPONSIBILITY = "W-COB-PATIENT-RESPONSIBILITY"
    COB_REMARK_COUNT = "E-COB-REMARK-COUNT"
    COB_RARC_UNKNOWN = "W-COB-RARC-UNKNOWN"
    COB_INSURANCE_TYPE_MISSING = "E-COB-INSURANCE-TYPE-MISSING"
    COB_INSURANCE_TYPE = "E-COB-INSURANCE-TYPE"


@dataclass(frozen=True)
class _Entry:
    severity: Severity
    hint: str


def _e(hint: str) -> _Entry:
    return _Entry(Severity.ERROR, hint)


def _w(hint: str) -> _Entry:
    return _Entry(Severity.WARNING, hint)


C = FindingCode
CATALOGUE: dict[FindingCode, _Entry] = {
    C.FILE_UNREADABLE: _e("Check that the file exists and the gateway may read it."),
    C.FILE_ENCODING: _e("Save the file as UTF-8 (plain ASCII is fine too)."),
    C.FILE_EMPTY: _e("The file holds no encounter: export it again from the billing system."),
    C.FILE_TOO_LARGE: _e("Split the file, or use JSON Lines (.jsonl) for large batches."),
    C.JSON_SYNTAX: _e("Fix the JSON at the line and column given (a missing comma or quote?)."),
    C.JSON_DUPLICATE_KEY: _e("Give each field once: which of the two values is meant is unclear."),
    C.JSON_TOO_DEEP: _e(
        "Objects and lists nest a few levels in an encounter: export it again from the billing "
        "system (the nesting at the line given is not part of the contract)."
    ),
    C.ENCOUNTER_TOO_LARGE: _e(
        "One encounter may hold at most 8 MiB of text: shorten the long field (notes and "
        "attachments do not travel in an 837), or split the claim."
    ),
    C.XML_SYNTAX: _e("Fix the XML at the line given; DTDs and entities are not accepted."),
    C.XML_SCHEMA: _e("Make the XML match schemas/encounter.xsd at the line given."),
    C.NOT_AN_OBJECT: _e("Each encounter must be a JSON object {...}."),
    C.FIELD_MISSING: _e("Add the field; see schemas/encounter.schema.json for what it holds."),
    C.FIELD_UNKNOWN: _e("Remove the field or correct its spelling (names are snake_case)."),
    C.FIELD_TYPE: _e("Write the value in the form the contract gives for this field."),
    C.DATE_FORMAT: _e("Write dates as YYYY-MM-DD, e.g. 2026-11-01."),
    C.AMOUNT_FORMAT: _e('Write amounts as decimal strings such as "185.00".'),
    C.CODE_NOT_IN_LIST: _e("Use one of the codes the contract lists for this field."),
    C.KIND: _e('Set kind to "professional" (837P) or "institutional" (837I).'),
    C.FREQUENCY: _e('Use "1" original, "7" replacement or "8" void.'),
    C.GENDER: _e('Use "M", "F" or "U".'),
    C.RELATIONSHIP_CODE: _e(
        "Use 01 spouse, 19 child, 20 employee, 21 unknown, 39, 40, 53 life partner or G8 other."
    ),
    C.UNIT_TYPE: _e('Use "UN" units, "MJ" minutes (anesthesia) or "DA" days.'),
    C.CLAIM_FILING_INDICATOR: _e(
        "Use the SBR09 code of the plan: CI commercial, MB Medicare Part B, MA Medicare Part A, "
        "MC Medicaid, BL Blue Cross, HM HMO, 12 PPO, WC workers' compensation..."
    ),
    C.PAYER_RESPONSIBILITY: _e('Use "primary", "secondary", "tertiary" ... or "unknown".'),
    C.TAX_ID_TYPE: _e('Use "EIN" or "SSN".'),
    C.CLAIM_ID_FORMAT: _e(
        "Use 1-20 characters: letters, digits and '-' only (the contract takes up to 38, "
        "starting with a letter or digit; payers return 20)."
    ),
    C.NPI_FORMAT: _e("An NPI is exactly 10 digits; look it up in the NPPES registry."),
    C.NPI_CHECKDIGIT: _e("The NPI is mistyped (its check digit is wrong); verify it in NPPES."),
    C.TAX_ID_FORMAT: _e("A tax id is 9 digits (an EIN is written 12-3456789 or 123456789)."),
    C.TAX_ID_TYPE_INSTITUTIONAL: _e(
        'Give the facility\'s EIN with tax_id_type "EIN": an 837I billing provider is an '
        "organization identified by its employer identification number (REF*EI)."
    ),
    C.TAXONOMY_FORMAT: _e("A taxonomy code is 10 characters ending in X, e.g. 207Q00000X."),
    C.BILLING_NAME_MISSING: _e("Give organization_name, or last_name for an individual provider."),
    C.LINE_ID_FORMAT: _e("Use a line_id of 1-50 letters, digits or '-'."),
    C.LINE_ID_DUPLICATE: _e("Give every line of the claim its own line_id."),
    C.REFERENCE_FORMAT: _e("Use 1-50 characters without spaces for reference numbers."),
    C.MEDICARE_ID_FORMAT: _e(
        "Give the 11-character Medicare Beneficiary Identifier from the card, without hyphens."
    ),
    C.PHONE_FORMAT: _e("Give a 10-digit phone number, area code first."),
    C.TEXT_CHARACTERS: _e(
        "Remove the character: ~ * : ^ | > and control characters separate X12 data."
    ),
    C.TEXT_NON_ASCII: _e(
        "Write the value in plain ASCII (e.g. MUNOZ for MUÑOZ): X12 receivers reject other "
        "characters (999 IK403-6, invalid character in data element)."
    ),
    C.TEXT_TOO_LONG: _e("Shorten the value to the length the 837 element allows."),
    C.BILLING_PO_BOX: _e(
        "The billing provider needs a street address; put a PO box in pay_to_address."
    ),
    C.FACILITY_PO_BOX: _e("The service facility needs the street address where care was given."),
    C.BILLING_ZIP9: _e("Give the billing provider's full 9-digit ZIP+4 (e.g. 62701-1234)."),
    C.ZIP_FORMAT: _e("Give a 5- or 9-digit ZIP code."),
    C.STATE_CODE: _e("Use the two-letter postal state code, e.g. IL."),
    C.ICD_DOT: _w("Nothing to do: the dot was removed. Send codes without dots to silence this."),
    C.ICD_SYNTAX: _e("Use a valid ICD-10-CM code: letter, digit, then 1-5 letters/digits."),
    C.ICD_PCS_SYNTAX: _e("Use a 7-character ICD-10-PCS code (letters and digits, no I or O)."),
    C.DIAGNOSIS_MISSING: _e("Add at least the principal diagnosis."),
    C.DIAGNOSIS_COUNT: _e("Keep the diagnoses that the lines point to, or split the claim."),
    C.DIAGNOSIS_DUPLICATE: _e("List each diagnosis once and point lines to that position."),
    C.REASON_FOR_VISIT_COUNT: _e("Give at most 3 reasons for visit."),
    C.ICD_UNKNOWN: _e("Look the code up (gateway codes search WORDS) and send a valid one."),
    C.ICD_NOT_BILLABLE: _e("Send one of the billable codes under the heading (gateway codes icd)."),
    C.ICD_SEVENTH_CHARACTER: _e("Complete the code with its 7th character (gateway codes icd)."),
    C.ICD_DELETED: _e("Use the code that replaced it on the date of service."),
    C.ICD_NOT_YET_VALID: _e("Use the code in force on the date of service."),
    C.ICD_MANIFESTATION_FIRST: _e("List the underlying condition first, then this code."),
    C.ICD_EXTERNAL_CAUSE_FIRST: _e(
        "List the injury or condition first; keep the external cause code as a secondary one."
    ),
    C.ICD_UNACCEPTABLE_PRINCIPAL: _e(
        "Make the condition chiefly responsible for the admission the principal diagnosis."
    ),
    C.ICD_QUESTIONABLE_ADMISSION: _w(
        "Check that the principal diagnosis justifies an inpatient admission."
    ),
    C.ICD_AGE_CONFLICT: _e("Check the diagnosis and the patient's birth date."),
    C.ICD_AGE_ATYPICAL: _w("Check the diagnosis and the patient's birth date."),
    C.ICD_SEX_CONFLICT: _w(
        "Check the diagnosis and the patient's gender: payers deny such claims (CARC 7)."
    ),
    C.ICD_DATA_COVERAGE: _w("Upgrade x12-claim-gateway for newer ICD-10-CM data."),
    C.LINES_MISSING: _e("Add at least one service line."),
    C.LINE_COUNT: _e("Split the encounter into claims of at most 50 (837P) / 999 (837I) lines."),
    C.PROCEDURE_MISSING: _e("Give the CPT or HCPCS code of the service."),
    C.PROCEDURE_SYNTAX: _e("Use a CPT code (5 digits, or 4 digits + F/T/U) or HCPCS (A1234)."),
    C.MODIFIER_SYNTAX: _e("Modifiers are 2 letters or digits, e.g. 25, RT, QW."),
    C.MODIFIER_COUNT: _e("Give at most 4 modifiers per line."),
    C.MODIFIER_DUPLICATE: _w("Remove the repeated modifier."),
    C.REVENUE_CODE: _e("Give the 4-digit revenue code of the line, e.g. 0450."),
    C.UNITS_NOT_POSITIVE: _e("Units must be greater than zero."),
    C.UNIT_TYPE_FOR_KIND: _e("Professional lines use UN or MJ; institutional lines use UN or DA."),
    C.CHARGE_NEGATIVE: _e("Charges cannot be negative; bill credits through a replacement claim."),
    C.AMOUNT_PRECISION: _e("Give amounts in dollars and cents (at most 2 decimals)."),
    C.TOTAL_MISMATCH: _e("Make total_charge the sum of the line charges, or leave it out."),
    C.POINTER_MISSING: _e("Point the line to at least one diagnosis (1 = first in diagnoses)."),
    C.POINTER_RANGE: _e("A pointer is a 1-based position in diagnoses."),
    C.POINTER_COUNT: _e("Point to at most 4 diagnoses per line; the first is the primary."),
    C.POINTER_DUPLICATE: _e("Point to each diagnosis once per line."),
    C.NDC_FORMAT: _e("Use the 11-digit NDC (5-4-2, zero-padded, no hyphens)."),
    C.NDC_QUANTITY: _e("The drug quantity must be greater than zero."),
    C.DATE_FUTURE: _e("Correct the date: claims are billed after the service."),
    C.DATE_BEFORE_BIRTH: _e("Correct the date or the patient's birth date."),
    C.DATE_AFTER_DEATH: _e("Correct the date or the patient's date of death."),
    C.BIRTH_DATE_FUTURE: _e("Correct the birth date."),
    C.DATE_RANGE_ORDER: _e("The first date of a range must not be after the last."),
    C.STATEMENT_PERIOD: _e("Widen the statement period or correct the line's service date."),
    C.ADMISSION_AFTER_DISCHARGE: _e("Correct the admission or discharge date/hour."),
    C.ADMISSION_DATE_MISSING: _e("Give the admission date of the inpatient stay."),
    C.HOUR_FORMAT: _e("Write hours as HHMM on a 24-hour clock, e.g. 2215."),
    C.DATE_OLD: _w("Check the payer's timely-filing limit before sending."),
    C.PLACE_OF_SERVICE: _e("Use a 2-digit CMS place of service code, e.g. 11 office."),
    C.FACILITY_TYPE: _e("Use the first two digits of the type of bill, e.g. 11, 13, 21, 71."),
    C.ADMISSION_TYPE: _e("Use 1 emergency, 2 urgent, 3 elective, 4 newborn, 5 trauma, 9 unknown."),
    C.ADMISSION_SOURCE: _e("Use a point-of-origin code: 1, 2, 4-9, B-G."),
    C.PATIENT_STATUS: _e("Use a 2-digit discharge status code, e.g. 01 home, 30 still patient."),
    C.UB_CODE_SYNTAX: _e("Condition, occurrence and value codes are 2 letters or digits."),
    C.UB_CODE_COUNT: _e("Give at most 24 codes of each kind."),
    C.PLACE_OF_SERVICE_DATE: _w(
        "Check the place of service: CMS lists it as effective only from the date given; use a "
        "code in effect on the date of service (e.g. 02 instead of 10 before 2022)."
    ),
    C.HCPCS_UNKNOWN: _e(
        "Check the code: it is not in CMS's HCPCS Level II list (a typo? a CPT code?). "
        "`gateway codes hcpcs CODE` shows what the data holds."
    ),
    C.HCPCS_NOT_VALID_ON_DATE: _e(
        "Bill the code in effect on the date of service (CMS's quarterly HCPCS update names "
        "what replaced a deleted code), or correct the date of service."
    ),
    C.HCPCS_UNVERIFIED: _w(
        "Check the code against CMS's current HCPCS quarterly update; upgrade x12-claim-gateway "
        "for newer data."
    ),
    C.MODIFIER_UNKNOWN: _e(
        "Check the modifier: it is not in CMS's modifier list (a typo?). "
        "`gateway codes modifier XX` shows what the data holds."
    ),
    C.MODIFIER_NOT_VALID_ON_DATE: _e(
        "Use a modifier in effect on the date of service, or correct the date of service."
    ),
    C.MODIFIER_UNVERIFIED: _w(
        "Check the modifier against CMS's current list; upgrade x12-claim-gateway for newer data."
    ),
    C.CPT_UNKNOWN: _e(
        "Check the code: it is not in the practice's CPT list ([codes] cpt_file), a typo, or the "
        "list needs this year's update."
    ),
    C.CPT_NOT_VALID_ON_DATE: _e(
        "Bill the CPT code in effect on the date of service, or correct the date of service."
    ),
    C.CPT_UNVERIFIED: _w(
        "Check the code: the practice's CPT list ([codes] cpt_file) does not cover this date."
    ),
    C.CODE_DATA_COVERAGE: _w(
        "Nothing to fix on the claim: codes were checked against the newest data installed. "
        "Upgrade x12-claim-gateway (or update [codes] cpt_file) for data that covers the date."
    ),
    C.INSTITUTIONAL_MISSING: _e("Add the institutional block (type of bill, statement dates...)."),
    C.INSTITUTIONAL_ON_PROFESSIONAL: _e(
        'Remove the institutional block, or set kind to "institutional".'
    ),
    C.ATTENDING_MISSING: _e("Institutional claims need the attending provider."),
    C.FIELD_NOT_USED: _w("Remove the field: this kind of claim does not carry it."),
    C.FREQUENCY_NEEDS_ORIGINAL: _e(
        "Give original_payer_claim_number (from the 835 or 277CA), or send frequency 1."
    ),
    C.FREQUENCY_ORIGINAL_NOT_ALLOWED: _e(
        "Remove original_payer_claim_number, or set frequency 7 (replace) or 8 (void)."
    ),
    C.ACCIDENT_DETAILS: _e("Give accident_date, and accident_state for an auto accident."),
    C.DELAY_REASON: _e(
        "Use a CLM20 delay reason: 1 eligibility unknown, 2 litigation, 3 authorization delay, "
        "4-11, 15 natural disaster."
    ),
    C.PATIENT_IS_SELF: _e("When the patient is the subscriber, set patient to null."),
    C.SUBSCRIBER_DEMOGRAPHICS: _e(
        "When the subscriber is the patient, give the subscriber's birth date, gender and address."
    ),
    C.PATIENT_LOOKS_LIKE_SUBSCRIBER: _w(
        "If the patient is the subscriber, set patient to null; otherwise check the names."
    ),
    C.CHILD_OLDER_THAN_SUBSCRIBER: _w("Check the relationship code and both birth dates."),
    C.COB_RESPONSIBILITY_REPEATED: _e(
        "Give each coverage its own place: one primary, one secondary, one tertiary..., and "
        "none in the place of the claim's own payer (subscriber.payer_responsibility)."
    ),
    C.COB_PAYER_REPEATED: _e(
        "List each coverage once: remove the repeated one, or correct its payer id or member id."
    ),
    C.COB_PAYER_AHEAD_MISSING: _e(
        "Add the payers that pay before this one to other_payers (a secondary claim needs the "
        "primary, a tertiary the primary and the secondary), each with its adjudication; or "
        "correct subscriber.payer_responsibility."
    ),
    C.COB_ADJUDICATION_MISSING: _e(
        "Add the adjudication of that payer from its EOB or 835 (paid amount, date, "
        "adjustments), or wait for its 835: the gateway bills the next payer from it."
    ),
    C.COB_ADJUDICATION_NOT_AHEAD: _w(
        "Check the order of responsibility: a payer after this claim's payer has not decided yet."
    ),
    C.COB_LINE_UNKNOWN: _e(
        "Give the line_id of the service line the payer decided (or its 1-based position when "
        "the lines carry no line_id)."
    ),
    C.COB_LINE_REPEATED: _e("Give each service line at most one adjudication per payer."),
    C.COB_LINE_NOT_ADJUDICATED: _w(
        "Add the payer's decision on that line (paid 0.00 with its adjustments, if denied): "
        "payers expect every line when the other payer decided line by line."
    ),
    C.COB_LINE_UNBALANCED: _e(
        "Copy the line's paid amount and adjustments exactly from the payer's EOB or 835: the "
        "line charge must equal paid plus adjustments (TR3 2430), or the claim is rejected."
    ),
    C.COB_CLAIM_UNBALANCED: _e(
        "Copy the claim's paid amount and claim-level adjustments exactly from the payer's EOB "
        "or 835 (TR3 2320 AMT*D), or the claim is rejected."
    ),
    C.COB_ADJUSTMENT_COUNT: _e(
        "Give at most 6 adjustments of each group (CO, PR...) per claim or line: one CAS "
        "segment carries 6; combine amounts of the same reason."
    ),
    C.COB_CARC_UNKNOWN: _w(
        "Check the reason code on the EOB (`gateway codes carc CODE`); update the list with "
        "`gateway codes update carc` if it is new."
    ),
    C.COB_ADJUDICATION_DATE: _e(
        "Give the date the payer decided the claim (its EOB or 835 date): after the service, "
        "and not in the future."
    ),
    C.COB_PATIENT_RESPONSIBILITY: _w(
        "Check the EOB: patient_responsibility is sent as given (AMT*EAF); it normally equals "
        "the PR adjustments."
    ),
    C.COB_REMARK_COUNT: _e("Keep at most 5 remark codes (MOA03-MOA07): the most specific ones."),
    C.COB_RARC_UNKNOWN: _w(
        "Check the remark code on the EOB (`gateway codes rarc CODE`); update the list with "
        "`gateway codes update rarc` if it is new."
    ),
    C.COB_INSURANCE_TYPE_MISSING: _e(
        "Give insurance_type (SBR05), why Medicare is not primary: 12 working aged, 13 ESRD, "
        "14 no-fault, 15 workers' compensation, 16 public health service, 41 black lung, "
        "42 veterans, 43 disabled with a large group plan, 47 other liability."
    ),
    C.COB_INSURANCE_TYPE: _e(
        "Use one of the SBR05 Medicare secondary payer codes: 12, 13, 14, 15, 16, 41, 42, 43, 47."
    ),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in an encounter (or in the file holding it).

    ``path`` is the JSON path of the field within the encounter (``service_lines[1].charge``),
    ``""`` for the encounter as a whole. ``file``, ``line`` and ``column`` say where in the file,
    when known (reading errors; XML elements).
    """

    code: FindingCode
    severity: Severity
    path: str
    message: str
    hint: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def is_error(self) -> bool:
        """Whether this finding blocks the claim."""
        return self.severity is Severity.ERROR

    def located(
        self, file: str | None = None, line: int | None = None, column: int | None = None
    ) -> Finding:
        """A copy with a file position filled in (keeps positions already known)."""
        return replace(
            self,
            file=self.file or file,
            line=self.line if self.line is not None else line,
            column=self.column if self.column is not None else column,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (absent positions left out)."""
        out: dict[str, Any] = {
            "code": str(self.code),
            "severity": str(self.severity),
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }
        for key in ("file", "line", "column"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.severity} {self.code} {where}{self.message}"


def finding(code: FindingCode, path: str, message: str, *, hint: str | None = None) -> Finding:
    """A finding with the severity and advice the catalogue gives its code."""
    entry = CATALOGUE[code]
    return Finding(code, entry.severity, path, message, hint or entry.hint)
