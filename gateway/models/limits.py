"""How much one claim may hold: the TR3 limits of the 837P (005010X222A1) and the 837I
(005010X223A2), in one place for the scrubber (which reports them) and the builders (which refuse
a claim past them)."""

from __future__ import annotations

from gateway.models.encounter_types import Kind

__all__ = [
    "MAX_DIAGNOSES",
    "MAX_LINES",
    "MAX_MODIFIERS",
    "MAX_POINTERS",
    "MAX_REASONS_FOR_VISIT",
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
