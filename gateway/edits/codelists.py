"""Code lists and identifier syntax the scrubber checks against (CMS, NUBC, USPS, CDC).

Pure data and small predicates; the 837 builder may reuse them (``is_valid_npi`` for example).
"""

from __future__ import annotations

import re
from functools import lru_cache

from gateway.models import cob

# ------------------------------------------------------------------------------- identifiers


@lru_cache(maxsize=4096)  # claims name the same few providers over and over
def npi_check_digit(first_nine: str) -> int:
    """The NPI check digit: Luhn over the card-issuer prefix ``80840`` + the first 9 digits."""
    digits = [int(ch) for ch in "80840" + first_nine]
    total = 0
    # double every second digit from the right of the payload (the check digit is not there yet)
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


_NPI = re.compile(r"[12]\d{9}")


def is_npi_format(npi: str) -> bool:
    """Whether ``npi`` is 10 digits, the first 1 or 2 (NPPES issues no other)."""
    return _NPI.fullmatch(npi) is not None


@lru_cache(maxsize=4096)
def is_valid_npi(npi: str) -> bool:
    """Whether ``npi`` has the NPI format and a correct check digit."""
    return is_npi_format(npi) and npi_check_digit(npi[:9]) == int(npi[9])


ICD10_CM = re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}")
"""ICD-10-CM without the dot: letter, digit, alphanumeric, then up to 4 more (3-7 characters)."""
ICD10_PCS = re.compile(r"[0-9A-HJ-NP-Z]{7}")
"""ICD-10-PCS: 7 characters, digits and letters except I and O."""
CPT = re.compile(r"\d{4}[0-9FTU]")
"""CPT: 5 digits, or 4 digits and F (category II), T (category III) or U (PLA)."""
HCPCS = re.compile(r"[A-V]\d{4}")
"""HCPCS Level II: a letter A-V and 4 digits."""
MODIFIER = re.compile(r"[0-9A-Z]{2}")
REVENUE_CODE = re.compile(r"\d{4}")
NDC11 = re.compile(r"\d{11}")
TAXONOMY = re.compile(r"[0-9A-Z]{9}X")
CLAIM_ID = re.compile(r"[A-Za-z0-9-]{1,20}")
LINE_ID = re.compile(r"[A-Za-z0-9-]{1,50}")
REFERENCE = re.compile(r"[^\s]{1,50}")
HOUR = re.compile(r"([01]\d|2[0-3])[0-5]\d")
UB_CODE = re.compile(r"[0-9A-Z]{2}")
PO_BOX = re.compile(
    r"\b(P\.?\s*O\.?\s*(BOX\b|B\b\.?)|POST\s+OFFICE\s+BOX|LOCK\s*BOX|(BOX|DRAWER)\s*#?\s*\d)",
    re.IGNORECASE,
)


_MBI_LETTER = "AC-HJKMNP-RT-Y"  # letters an MBI may hold: no S, L, O, I, B or Z
MBI = re.compile(
    rf"[1-9][{_MBI_LETTER}][{_MBI_LETTER}0-9]\d[{_MBI_LETTER}][{_MBI_LETTER}0-9]\d"
    rf"[{_MBI_LETTER}]{{2}}\d{{2}}"
)
"""Medicare Beneficiary Identifier: 11 characters in the CMS pattern (no hyphens)."""
MEDICARE_FILING = cob.MEDICARE
"""Claim filing indicators of Medicare Part A and B, whose member ids are MBIs."""


def is_procedure_code(code: str) -> bool:
    """Whether ``code`` is shaped like a CPT or HCPCS Level II code."""
    return bool(CPT.fullmatch(code) or HCPCS.fullmatch(code))


def is_po_box(line: str) -> bool:
    """Whether a street line is a post office box (or lock box, drawer)."""
    return bool(PO_BOX.search(line))


# ------------------------------------------------------------------------------- code lists


def _codes(text: str) -> frozenset[str]:
    """A code list written as white-space separated codes."""
    return frozenset(text.split())


INPATIENT_PLACES: frozenset[str] = frozenset({"21", "51", "61"})
"""Places of service of an inpatient visit: the 837P needs the admission date (DTP*435)."""

FACILITY_TYPES: frozenset[str] = _codes(
    """11 12 13 14 18 21 22 23 28 32 33 34 41 43 65 66
    71 72 73 74 75 76 77 79 81 82 83 84 85 86 89"""
)
"""Type of bill, first two digits (facility type + bill classification) in NUBC use."""

INPATIENT_FACILITY_TYPES: frozenset[str] = frozenset({"11", "18", "21", "41", "65", "66", "86"})
"""Types of bill for an inpatient stay: these claims need the admission date and hour."""

ADMISSION_TYPES: frozenset[str] = frozenset({"1", "2", "3", "4", "5", "9"})
"""CL101 priority (type) of admission or visit."""

ADMISSION_SOURCES: frozenset[str] = frozenset(
    {"1", "2", "4", "5", "6", "7", "8", "9", "B", "C", "D", "E", "F", "G"}
)
"""CL102 point of origin for admission or visit (7 is retired by NUBC but still sent)."""

PATIENT_STATUSES: frozenset[str] = _codes(
    """01 02 03 04 05 06 07 09 20 21 30 40 41 42 43 50 51 61 62 63 64 65 66 69 70
    81 82 83 84 85 86 87 88 89 90 91 92 93 94 95"""
)
"""CL103 patient discharge status."""

US_STATES: frozenset[str] = _codes(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV
    NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
    AS GU MP PR VI FM MH PW AA AE AP"""
)
"""USPS state, territory and military codes."""

DELAY_REASONS: frozenset[str] = _codes("1 2 3 4 5 6 7 8 9 10 11 15")
"""CLM20 delay reason codes."""

PATIENT_RELATIONSHIPS = frozenset({"01", "19", "20", "21", "39", "40", "53", "G8"})
"""PAT01 codes for a patient who is not the subscriber."""
