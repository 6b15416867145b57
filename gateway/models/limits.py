"""How much one claim may hold: the TR3 limits of the 837P (005010X222A1) and the 837I
(005010X223A2), in one place for the scrubber (which reports them) and the builders (which refuse
a claim past them)."""

from __future__ import annotations

from gateway.models.encounter_types import Kind

__all__ = [
    "MAX_CAS_ADJUSTMENTS",
    "MAX_CAS_SEGMENTS",
    "MAX_DIAGNOSES",
    "MAX_LINES",
    "MAX_LINE_ADJUDICATIONS",
    "MAX_MODIFIERS",
    "MAX_OTHER_PAYERS",
    "MAX_POINTERS",
    "MAX_REASONS_FOR_VISIT",
    "MAX_REMARK_CODES",
    "MAX_UB_CODES",
]

MAX_LINES = {Kind.PROFESSIONAL: 50, Kind.INSTITUTIONAL: 999}
"""Loop 2400 (service lines) repeats at most 50 times on an 837P, 999 on an 837I."""
MAX_DIAGNOSES = {Kind.PROFESSIONAL: 12, Kind.INSTITUTIONAL: 25}
"""HI01-HI12 on an 837P; on an 837I the principal (HI*ABK) and 24 others (two HI*ABF of 12)."""
MAX_POINTERS = 4
"""SV107-1..4: diagnosis pointers of one 837P line."""
MAX_MODIFIERS = 4
"""SV101-3..6 / SV202-3..6: procedure modifiers of one line."""
MAX_UB_CODES = 24
"""HI01-HI24 of an 837I code list (occurrence, value, condition codes...)."""
MAX_REASONS_FOR_VISIT = 3
"""HI*APR01-03: an 837I's patient reasons for visit."""
MAX_OTHER_PAYERS = 10
"""Loop 2320 (other subscriber and payer) repeats at most 10 times per claim."""
MAX_LINE_ADJUDICATIONS = 15
"""Loop 2430 (another payer's decision on a line) repeats at most 15 times per service line."""
MAX_CAS_SEGMENTS = 5
"""CAS repeats at most 5 times in a 2320 (claim-level) or a 2430 (line-level) loop."""
MAX_CAS_ADJUSTMENTS = 6
"""One CAS holds one group code and up to 6 reason/amount/quantity triplets."""
MAX_REMARK_CODES = 5
"""MOA03-MOA07: the remark codes of another payer's outpatient adjudication."""
