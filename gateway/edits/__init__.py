"""The claim scrubber: pure rules over an ``Encounter``, each finding with a stable code.

>>> from gateway.edits import scrub
>>> findings = scrub(encounter)                     # doctest: +SKIP
>>> [f.code for f in findings if f.is_error]        # doctest: +SKIP

``check_file``/``check_stream`` read an encounter file and scrub each record (``gateway check``).
"""

from gateway.edits.check import CheckResult, check_file, check_record, check_stream
from gateway.edits.findings import CATALOGUE, Finding, FindingCode, Severity, finding
from gateway.edits.rules import RULES, Context, Rule
from gateway.edits.scrubber import has_errors, scrub

__all__ = [
    "CATALOGUE",
    "RULES",
    "CheckResult",
    "Context",
    "Finding",
    "FindingCode",
    "Rule",
    "Severity",
    "check_file",
    "check_record",
    "check_stream",
    "finding",
    "has_errors",
    "scrub",
]
