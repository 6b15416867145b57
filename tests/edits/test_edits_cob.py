"""The coordination-of-benefits rules (``gateway.edits.rules_cob``): the table of every finding,
and what the messages say about the amounts that disagree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

from gateway.edits import FindingCode, Severity, scrub
from gateway.edits.rules import RULES
from gateway.edits.rules_cob import COB_RULES
from gateway.models import Encounter
from tests.support.cob_cases import CASES, INSTITUTIONAL, PRIMARY, SECONDARY
from tests.support.strategies import encounter_dicts, sample_dict, with_changes

TODAY = date(2026, 11, 23)
A = "other_payers[0].adjudication"


def _scrub(sample: str, changes: dict[str, Any]) -> list[Any]:
    encounter = Encounter.model_validate(with_changes(sample_dict(sample), changes))
    return scrub(encounter, today=TODAY)


@pytest.mark.parametrize(
    ("code", "sample", "passing", "failing", "path"),
    CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)],
)
def test_cob_rule_passes_and_fails(
    code: FindingCode, sample: str, passing: dict[str, Any], failing: dict[str, Any], path: str
) -> None:
    """The passing variant has neither this finding nor any error; the failing one has it here."""
    passed = _scrub(sample, passing)
    assert [f for f in passed if f.code == code] == []
    assert [str(f) for f in passed if f.is_error] == []
    assert (code, path) in [(f.code, f.path) for f in _scrub(sample, failing)]


@pytest.mark.parametrize("sample", [SECONDARY, INSTITUTIONAL, PRIMARY])
def test_the_cob_samples_scrub_clean(sample: str) -> None:
    """The three coordination-of-benefits samples raise no finding at all."""
    assert [str(f) for f in _scrub(sample, {})] == []


def test_the_cob_rules_are_registered() -> None:
    """Every COB rule runs in the scrubber, once."""
    assert [r for r in RULES if r in COB_RULES] == list(COB_RULES)


def test_an_unbalanced_line_says_which_amounts_disagree() -> None:
    """The message names the line, its charge, the paid amount, the adjustments and the gap."""
    found = _scrub(SECONDARY, {f"{A}.lines[0].paid_amount": "100.00"})
    (line,) = [f for f in found if f.code is FindingCode.COB_LINE_UNBALANCED]
    assert line.severity is Severity.ERROR
    assert line.path == f"{A}.lines[0].paid_amount"
    for words in ("service_lines[0] (VFP0101-1)", "185.00", "100.00", "80.04", "(together 180.04)"):
        assert words in line.message
    assert "MEDICARE PART B (00952)" in line.message
    assert line.message.endswith("4.96 of the charge is unaccounted for.")
    found = _scrub(SECONDARY, {f"{A}.lines[0].paid_amount": "110.00"})
    (line,) = [f for f in found if f.code is FindingCode.COB_LINE_UNBALANCED]
    assert line.message.endswith("they exceed the charge by 5.04.")


def test_an_unbalanced_claim_says_what_paid_amount_it_expects() -> None:
    """With line detail, the expected AMT*D is the lines' paid amounts less the claim CAS."""
    found = _scrub(SECONDARY, {f"{A}.paid_amount": "120.00"})
    (claim,) = [f for f in found if f.code is FindingCode.COB_CLAIM_UNBALANCED]
    assert claim.path == f"{A}.paid_amount"
    for words in ("paid_amount 120.00", "the lines' paid amounts, 118.28", "1.72 too much"):
        assert words in claim.message


def test_without_line_detail_the_claim_charge_balances() -> None:
    """Without line detail, the expected AMT*D is the claim charge less the claim CAS."""
    found = _scrub(INSTITUTIONAL, {f"{A}.adjustments[1].amount": "200.00"})
    (claim,) = [f for f in found if f.code is FindingCode.COB_CLAIM_UNBALANCED]
    assert "the claim's charge, 1856.00" in claim.message
    assert "adjustments, 612.60, which is 1243.40: it is 33.00 short." in claim.message
    # the PR adjustment no longer matches patient_responsibility either: a warning
    (owed,) = [f for f in found if f.code is FindingCode.COB_PATIENT_RESPONSIBILITY]
    assert owed.severity is Severity.WARNING
    assert "233.00" in owed.message


def test_a_tertiary_claim_needs_the_primary_and_the_secondary() -> None:
    """A tertiary claim naming only the primary is told the secondary is missing."""
    found = _scrub(SECONDARY, {"subscriber.payer_responsibility": "tertiary"})
    (missing,) = [f for f in found if f.code is FindingCode.COB_PAYER_AHEAD_MISSING]
    assert "no secondary payer" in missing.message
    found = _scrub(SECONDARY, {"subscriber.payer_responsibility": "tertiary", "other_payers": []})
    (missing,) = [f for f in found if f.code is FindingCode.COB_PAYER_AHEAD_MISSING]
    assert "no primary and no secondary payer" in missing.message


def test_the_claims_own_place_is_not_repeated() -> None:
    """An other payer in the claim's own place (secondary) is an error naming the subscriber."""
    found = _scrub(PRIMARY, {"other_payers[0].responsibility": "primary"})
    (repeated,) = [f for f in found if f.code is FindingCode.COB_RESPONSIBILITY_REPEATED]
    assert "subscriber.payer_responsibility" in repeated.message


def test_an_unknown_place_is_not_ordered() -> None:
    """A claim of unknown responsibility asks for no payer ahead and no adjudication."""
    changes = {"subscriber.payer_responsibility": "unknown", f"{A}": None}
    assert [str(f) for f in _scrub(SECONDARY, changes) if f.is_error] == []


def test_cob_findings_never_carry_member_values() -> None:
    """Other subscribers' names and member ids are never copied into a message."""
    changes = {
        "other_payers[0].responsibility": "secondary",
        f"{A}.paid_amount": "1.00",
        f"{A}.lines[0].paid_amount": "1.00",
        "other_payers[0].subscriber.member_id": "1EG4-TE5-MK73",
    }
    messages = " ".join(f.message for f in _scrub(SECONDARY, changes))
    assert messages
    for secret in ("DOE", "JOHN", "1EG4-TE5-MK73", "W123456789", "1951-02-03"):
        assert secret not in messages


def test_a_missing_adjudication_names_the_payer_ahead() -> None:
    """The message says which payer pays first and what the claim must carry."""
    found = _scrub(SECONDARY, {A: None})
    (missing,) = [f for f in found if f.code is FindingCode.COB_ADJUDICATION_MISSING]
    assert missing.message.startswith("The primary payer MEDICARE PART B (00952) pays before")
    assert "secondary payer" in missing.message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encounter_dicts())
def test_a_cent_off_anywhere_unbalances_a_generated_adjudication(data: dict[str, Any]) -> None:
    """Generated adjudications balance; one cent more on the claim's paid amount is a claim
    imbalance, one cent more on a line's is a line and a claim imbalance."""
    ahead = [i for i, p in enumerate(data["other_payers"]) if p.get("adjudication")]
    assume(ahead)
    path = f"other_payers[{ahead[-1]}].adjudication"
    adjudication = data["other_payers"][ahead[-1]]["adjudication"]

    def cent_more(where: str, amount: str) -> set[tuple[FindingCode, str]]:
        changed = with_changes(data, {where: str(Decimal(amount) + Decimal("0.01"))})
        found = scrub(Encounter.model_validate(changed), today=TODAY)
        return {(f.code, f.path) for f in found if f.is_error}

    claim = (FindingCode.COB_CLAIM_UNBALANCED, f"{path}.paid_amount")
    assert {claim} == cent_more(f"{path}.paid_amount", adjudication["paid_amount"])
    if adjudication.get("lines"):
        line = (FindingCode.COB_LINE_UNBALANCED, f"{path}.lines[0].paid_amount")
        paid = adjudication["lines"][0]["paid_amount"]
        assert {line, claim} == cent_more(f"{path}.lines[0].paid_amount", paid)
