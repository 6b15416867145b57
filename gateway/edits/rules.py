"""The scrubber's rules: pure functions from an encounter to the findings they raise.

Each rule takes the encounter and a ``Context`` (today's date) and yields ``Finding``s; ``RULES``
lists them in the order their findings are reported. A rule never changes the encounter.
"""

from __future__ import annotations

from gateway.edits import diagnosis_codes, procedure_codes
from gateway.edits.context import (
    MAX_DIAGNOSES_INSTITUTIONAL,
    MAX_DIAGNOSES_PROFESSIONAL,
    OLD_SERVICE,
    PERSON_ROLES,
    STILL_A_PATIENT,
    Context,
    Rule,
)
from gateway.edits.rules_claim import (
    accident,
    claim_shape,
    date_ranges,
    dates,
    delay_reason,
    frequency,
    institutional_codes,
    place_of_service,
    subscriber_patient,
)
from gateway.edits.rules_cob import COB_RULES
from gateway.edits.rules_lines import (
    amounts,
    diagnoses,
    diagnosis_dots,
    institutional_diagnoses,
    line_count,
    modifiers,
    pointers,
    procedures,
)
from gateway.edits.rules_parties import (
    addresses,
    billing_address,
    billing_provider,
    claim_id,
    line_ids,
    medicare_id,
    npis,
    references,
    taxonomies,
    text,
)
from gateway.models.limits import (
    MAX_LINES,
    MAX_MODIFIERS,
    MAX_POINTERS,
    MAX_REASONS_FOR_VISIT,
    MAX_UB_CODES,
)

__all__ = [
    "MAX_DIAGNOSES_INSTITUTIONAL",
    "MAX_DIAGNOSES_PROFESSIONAL",
    "MAX_LINES",
    "MAX_MODIFIERS",
    "MAX_POINTERS",
    "MAX_REASONS_FOR_VISIT",
    "MAX_UB_CODES",
    "OLD_SERVICE",
    "PERSON_ROLES",
    "RULES",
    "STILL_A_PATIENT",
    "Context",
    "Rule",
]

RULES: tuple[Rule, ...] = (
    claim_id,
    text,
    claim_shape,
    frequency,
    npis,
    billing_provider,
    taxonomies,
    addresses,
    billing_address,
    references,
    medicare_id,
    subscriber_patient,
    *COB_RULES,  # the other payers: order, adjudications, balances (gateway.models.cob)
    diagnosis_dots,
    diagnoses,
    institutional_diagnoses,
    *diagnosis_codes.CODE_SET_RULES,  # after the shape checks: the code sets, by date of service
    institutional_codes,
    place_of_service,
    accident,
    delay_reason,
    line_count,
    line_ids,
    procedures,
    modifiers,
    procedure_codes.procedure_code_sets,
    procedure_codes.cpt_codes,
    amounts,
    pointers,
    dates,
    date_ranges,
)
"""Every rule, in the order its findings are reported."""
