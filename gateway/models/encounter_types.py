"""Code lists and lenient scalar types of the encounter contract.

The enums hold the X12 code lists the contract names by value (frequency, unit type, gender...);
the annotated string types clean what billing staff commonly type (spaces, dots in ICD-10 codes,
hyphens in ZIP codes and tax ids) so the model holds the form X12 needs. Syntax checks of codes and
identifiers (NPI check digit, ICD-10 shape...) belong to the scrubber, which reports them by code.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, StringConstraints, WithJsonSchema

# ---------------------------------------------------------------------------------------- enums


class CodeEnum(StrEnum):
    """A code list that forgives how a value is typed: case, spaces, a number for a string.

    ``Gender("f")`` is ``Gender.FEMALE``, ``Frequency(1)`` is ``Frequency.ORIGINAL`` and
    ``Relationship("1")`` is ``Relationship.SPOUSE`` (``01``); anything else is still refused.
    """

    @classmethod
    def _missing_(cls, value: object) -> CodeEnum | None:
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        text = str(value).strip().lower()
        for member in cls:
            code = member.value.lower()
            if text == code or (
                text.isascii()
                and text.isdigit()
                and code.isascii()
                and code.isdigit()
                and text.zfill(len(code)) == code
            ):
                return member
        return None


class Kind(CodeEnum):
    """Which claim the encounter becomes: 837P (professional) or 837I (institutional)."""

    PROFESSIONAL = "professional"
    INSTITUTIONAL = "institutional"

    @property
    def label(self) -> str:
        """The transaction's name in file names and messages: ``837P`` or ``837I``."""
        return "837P" if self is Kind.PROFESSIONAL else "837I"


class Frequency(CodeEnum):
    """Claim frequency (CLM05-3): original, replacement of a prior claim, or void of one."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class UnitType(CodeEnum):
    """Unit of measure of a service line (SV103 / SV204)."""

    UNITS = "UN"
    MINUTES = "MJ"  # anesthesia time
    DAYS = "DA"  # institutional room and board


class Gender(CodeEnum):
    """Administrative gender (DMG03)."""

    MALE = "M"
    FEMALE = "F"
    UNKNOWN = "U"


class Relationship(CodeEnum):
    """Patient's relationship to the subscriber (SBR02 / PAT01 individual relationship codes)."""

    SPOUSE = "01"
    SELF = "18"
    CHILD = "19"
    EMPLOYEE = "20"
    UNKNOWN = "21"
    ORGAN_DONOR = "39"
    CADAVER_DONOR = "40"
    LIFE_PARTNER = "53"
    OTHER = "G8"


class ClaimFilingIndicator(CodeEnum):
    """Claim filing indicator (SBR09): the kind of insurance plan."""

    OTHER_NON_FEDERAL = "11"
    PPO = "12"
    POS = "13"
    EPO = "14"
    INDEMNITY = "15"
    HMO_MEDICARE_RISK = "16"
    DENTAL_MAINTENANCE = "17"
    AUTOMOBILE_MEDICAL = "AM"
    BLUE_CROSS_BLUE_SHIELD = "BL"
    CHAMPUS = "CH"
    COMMERCIAL = "CI"
    DISABILITY = "DS"
    FEDERAL_EMPLOYEES = "FI"
    HMO = "HM"
    LIABILITY_MEDICAL = "LM"
    MEDICARE_PART_A = "MA"
    MEDICARE_PART_B = "MB"
    MEDICAID = "MC"
    OTHER_FEDERAL = "OF"
    TITLE_V = "TV"
    VETERANS_AFFAIRS = "VA"
    WORKERS_COMPENSATION = "WC"
    MUTUALLY_DEFINED = "ZZ"


class PayerResponsibility(CodeEnum):
    """The payer's place in the order of payment (SBR01); ``x12_code`` is the SBR01 letter."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"
    FOURTH = "fourth"
    FIFTH = "fifth"
    SIXTH = "sixth"
    SEVENTH = "seventh"
    EIGHTH = "eighth"
    NINTH = "ninth"
    TENTH = "tenth"
    ELEVENTH = "eleventh"
    UNKNOWN = "unknown"

    @property
    def x12_code(self) -> str:
        """The SBR01 payer responsibility sequence number code (P, S, T, A-H, U)."""
        return _RESPONSIBILITY_CODES[self]


_RESPONSIBILITY_CODES: dict[PayerResponsibility, str] = dict(
    zip(
        PayerResponsibility,
        ["P", "S", "T", "A", "B", "C", "D", "E", "F", "G", "H", "U"],
        strict=True,
    )
)


class AdjustmentGroup(CodeEnum):
    """Claim adjustment group code (CAS01) of another payer's adjudication."""

    CONTRACTUAL = "CO"  # contractual obligation: the provider writes it off
    CORRECTION = "CR"  # correction and reversal (not used in 5010, accepted on input)
    OTHER = "OA"  # other adjustment
    PAYER_INITIATED = "PI"  # payer-initiated reduction
    PATIENT = "PR"  # patient responsibility: deductible, coinsurance, copay


class TaxIdType(CodeEnum):
    """Which tax identifier the billing provider reports (REF*EI or REF*SY)."""

    EIN = "EIN"
    SSN = "SSN"

    @property
    def x12_qualifier(self) -> str:
        """The REF01 qualifier: ``EI`` for an EIN, ``SY`` for an SSN."""
        return "EI" if self is TaxIdType.EIN else "SY"


class ReleaseOfInformation(CodeEnum):
    """Release of information code (CLM09): signed statement on file, or informed consent only."""

    YES = "Y"
    INFORMED_CONSENT = "I"


class NdcUnit(CodeEnum):
    """Unit of the NDC drug quantity (CTP05-1)."""

    UNITS = "UN"
    MILLILITERS = "ML"
    GRAMS = "GR"
    INTERNATIONAL_UNITS = "F2"
    MILLIGRAMS = "ME"


class RelatedCause(CodeEnum):
    """Why the condition is related to an accident or employment (CLM11)."""

    AUTO_ACCIDENT = "AA"
    EMPLOYMENT = "EM"
    OTHER_ACCIDENT = "OA"


# ------------------------------------------------------------------------------ lenient scalars

# str.split() without an argument splits at exactly the characters regular expressions call \s
# (str.isspace), and is several times faster than a regular expression substitution


def _text(value: Any) -> Any:
    """Strip surrounding spaces and fold runs of inner white space into one space."""
    if isinstance(value, str):
        return " ".join(value.split())
    return value


def _optional_text(value: Any) -> Any:
    """Like ``_text``; an empty or blank string means the value is absent."""
    value = _text(value)
    return None if value == "" else value


def _code(value: Any) -> Any:
    """A code: no white space at all, upper case."""
    if isinstance(value, str):
        return "".join(value.split()).upper()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _identifier(value: Any) -> Any:
    """An identifier: surrounding white space removed, case and inner characters kept."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _optional_identifier(value: Any) -> Any:
    value = _identifier(value)
    return None if value == "" else value


def _optional_code(value: Any) -> Any:
    value = _code(value)
    return None if value == "" else value


def _icd(value: Any) -> Any:
    """An ICD-10 code: upper case, no spaces, no dot (``E11.9`` -> ``E119``)."""
    value = _code(value)
    if isinstance(value, str):
        return value.replace(".", "")
    return value


def _digits_only(separators: str) -> Any:
    def clean(value: Any) -> Any:
        value = _code(value)
        if isinstance(value, str):
            for ch in separators:
                value = value.replace(ch, "")
        return value

    return clean


_NDC_SEGMENTS = (5, 4, 2)


def _ndc(value: Any) -> Any:
    """An NDC: the hyphenated package forms (4-4-2, 5-3-2, 5-4-1, 5-4-2) become 11 digits."""
    value = _code(value)
    if isinstance(value, str) and value.count("-") == 2:
        parts = value.split("-")
        if all(p.isascii() and p.isdigit() for p in parts) and all(
            0 < len(p) <= width for p, width in zip(parts, _NDC_SEGMENTS, strict=True)
        ):
            padded = [p.zfill(width) for p, width in zip(parts, _NDC_SEGMENTS, strict=True)]
            # a 10-digit NDC is padded in exactly one segment; more padding means a mistyped code
            if sum(len(p) for p in parts) >= 10:
                return "".join(padded)
    return value


def _revenue_code(value: Any) -> Any:
    """A revenue code: 4 digits; the 3-digit form (``450``) means a leading zero (``0450``)."""
    value = _optional_code(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) == 3:
        return "0" + value
    return value


def _pointer(value: Any) -> Any:
    """A diagnosis pointer: 1-12, or the CMS-1500 letter A-L (``B`` is 2)."""
    if isinstance(value, str):
        text = value.strip().upper()
        if len(text) == 1 and "A" <= text <= "L":
            return ord(text) - ord("A") + 1
        return text
    return value


def _one_or_many(value: Any) -> Any:
    """A list field given a single value (``"diagnoses": "E119"``) holds that one value."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return [value]
    return value


_PHONE = re.compile(r"[\d\s().+-]+")
_NOT_DIGIT = re.compile(r"\D")
_X12_DATE = re.compile(r"\d{8}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phone(value: Any) -> Any:
    """A phone number: keep the digits of ``(217) 555-0100`` or ``217.555.0100``."""
    if isinstance(value, str) and _PHONE.fullmatch(value):
        digits = _NOT_DIGIT.sub("", value)
        # a leading US country code is not part of the 10-digit number X12 expects
        return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    return _text(value)


def _iso_date(value: Any) -> Any:
    """A date as ``YYYY-MM-DD`` (also ``YYYYMMDD``, the X12 form); any other type is refused."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _X12_DATE.fullmatch(text):
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        if not _ISO_DATE.fullmatch(text):
            raise ValueError("a date must be written YYYY-MM-DD")
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError("not a calendar date (a date must be written YYYY-MM-DD)") from None
    raise ValueError("a date must be a string written YYYY-MM-DD")


def _iso_date_out(value: date) -> str:
    return value.isoformat()


Text = Annotated[str, BeforeValidator(_text)]
"""Free text (names, street lines): white space tidied."""
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
Code = Annotated[str, BeforeValidator(_code)]
"""A code from a code list or coding system: no white space, upper case."""
Identifier = Annotated[str, BeforeValidator(_identifier)]
"""An identifier someone else assigned (claim id, member id...): trimmed, case kept."""
OptionalIdentifier = Annotated[str | None, BeforeValidator(_optional_identifier)]
CLAIM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,37}$"
"""The contract's claim id (CLM01, AN 1-38): letters, digits and '-', starting with a letter or
digit. A subset of the X12 basic character set that is also safe as a file name and in a log;
the scrubber further asks for 20 characters or fewer, which is what payers return."""
MAX_CLAIM_ID = 38
ClaimId = Annotated[
    str,
    # the constraints first: pydantic leaves a pattern out of the JSON schema when it follows
    # a BeforeValidator (the validator still runs first either way)
    StringConstraints(pattern=CLAIM_ID_PATTERN, max_length=MAX_CLAIM_ID),
    BeforeValidator(_identifier),
]
"""A claim id by the contract (``CLAIM_ID_PATTERN``), surrounding white space removed."""
OptionalCode = Annotated[str | None, BeforeValidator(_optional_code)]
IcdCode = Annotated[str, BeforeValidator(_icd)]
"""An ICD-10-CM/PCS code, stored without its dot."""
OptionalIcdCode = Annotated[str | None, BeforeValidator(lambda v: _icd(_optional_code(v)))]
RevenueCode = Annotated[str | None, BeforeValidator(_revenue_code)]
"""A 4-digit revenue code (``450`` is stored ``0450``)."""
Pointer = Annotated[int, BeforeValidator(_pointer)]
"""A 1-based diagnosis pointer (the CMS-1500 letters A-L are accepted)."""
NdcCode = Annotated[str, BeforeValidator(_ndc)]
"""A National Drug Code, 11 digits (``0003-0293-05`` is stored ``00003029305``)."""
ZipCode = Annotated[str, BeforeValidator(_digits_only("-"))]
"""A ZIP code, 5 or 9 digits (``62701-1234`` is stored ``627011234``)."""
TaxId = Annotated[str, BeforeValidator(_digits_only("-"))]
"""A tax id, 9 digits (``37-1234567`` is stored ``371234567``)."""
Phone = Annotated[str, BeforeValidator(_phone)]
"""A phone number, digits only."""
OptionalPhone = Annotated[str | None, BeforeValidator(lambda v: _optional_text(_phone(v)))]
CodeList = Annotated[tuple[Code, ...], BeforeValidator(_one_or_many)]
"""Codes (modifiers, condition codes); a single code is read as a list of one."""
IcdCodeList = Annotated[tuple[IcdCode, ...], BeforeValidator(_one_or_many)]
"""ICD-10 codes; a single code is read as a list of one."""
PointerList = Annotated[tuple[Pointer, ...], BeforeValidator(_one_or_many)]
"""Diagnosis pointers; a single pointer is read as a list of one."""
IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    PlainSerializer(_iso_date_out, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date"}),
]
"""A calendar date, written ``YYYY-MM-DD``."""
