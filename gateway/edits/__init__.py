"""The claim scrubber: pure rules over an ``Encounter``, each finding with a stable code.

>>> from gateway.edits import scrub
>>> findings = scrub(encounter)                     # doctest: +SKIP
>>> [f.code for f in findings if f.is_error]        # doctest: +SKIP
"""

from gateway.edits.findings import CATALOGUE, Finding, FindingCode, Severity, finding
from gateway.edits.rules import RULES, Context, Rule
from gateway.edits.scrubber import has_errors, scrub

__all__ = [
    "CATALOGUE",
    "RULES",
    "Context",
    "Finding",
    "FindingCode",
    "Rule",
    "Severity",
    "finding",
    "has_errors",
    "scrub",
]
