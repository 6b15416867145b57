"""The claim scrubber: run every rule over an encounter and collect the findings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from gateway.codes.dated import DatedCodes
from gateway.edits.findings import Finding
from gateway.edits.rules import RULES, Context, Rule
from gateway.models.encounter import Encounter


def scrub(
    encounter: Encounter,
    *,
    today: date | None = None,
    rules: Iterable[Rule] = RULES,
    cpt: DatedCodes | None = None,
) -> list[Finding]:
    """Every finding the rules raise for ``encounter`` (errors and warnings, in rule order).

    ``today`` is the date "in the future" is judged against (``date.today()`` by default);
    ``cpt`` the practice's CPT list (``gateway.codes.procedures.cpt_codes``), when it has one.
    The encounter is not changed.
    """
    context = Context(today=today or date.today(), cpt=cpt)
    found: list[Finding] = []
    for rule in rules:
        found.extend(rule(encounter, context))
    return found


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding blocks the claim."""
    return any(f.is_error for f in findings)
