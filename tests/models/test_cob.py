"""The coordination-of-benefits arithmetic (``gateway.models.cob``): payer order, which line an
adjudication names, and the TR3 balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from gateway.models import Encounter, LineAdjudication, cob
from gateway.models.encounter_types import ClaimFilingIndicator as F
from gateway.models.encounter_types import PayerResponsibility as R
from tests.support.strategies import DELETE, sample_dict, with_changes

A = "other_payers[0].adjudication"


def _encounter(name: str, changes: dict[str, Any] | None = None) -> Encounter:
    return Encounter.model_validate(with_changes(sample_dict(name), changes or {}))


def _payer(place: str, payer_id: str) -> dict[str, Any]:
    return {
        "responsibility": place,
        "payer": {"id": payer_id, "name": "OTHER PLAN"},
        "subscriber": {
            "member_id": f"M{payer_id}",
            "last_name": "DOE",
            "claim_filing_indicator": "CI",
        },
    }


@pytest.mark.parametrize(
    ("place", "expected"),
    [(R.PRIMARY, 0), (R.SECONDARY, 1), (R.TERTIARY, 2), (R.ELEVENTH, 10), (R.UNKNOWN, None)],
)
def test_rank(place: R, expected: int | None) -> None:
    """Places rank in order of payment; unknown has no rank."""
    assert expected == cob.rank(place)


@pytest.mark.parametrize(
    ("own", "listed", "ahead", "after"),
    [
        ("secondary", ["primary"], ["P"], []),
        ("secondary", ["tertiary", "primary"], ["P"], ["T"]),  # listed out of order
        ("tertiary", ["secondary", "primary"], ["P", "S"], []),
        ("primary", ["tertiary", "secondary"], [], ["S", "T"]),
        ("primary", [], [], []),
        ("unknown", ["primary", "secondary"], [], []),
        ("secondary", ["unknown", "primary"], ["P"], []),
    ],
)
def test_payers_ahead_and_after(
    own: str, listed: list[str], ahead: list[str], after: list[str]
) -> None:
    """Payers ahead come primary first, payers after nearest first; unknown places are neither."""
    others = [_payer(place, f"{place[0].upper()}1") for place in listed]
    enc = _encounter(
        "professional-self", {"subscriber.payer_responsibility": own, "other_payers": others}
    )
    assert ahead == [p.payer.id[0] for p in cob.payers_ahead(enc)]
    assert after == [p.payer.id[0] for p in cob.payers_after(enc)]
    nxt = cob.next_payer(enc)
    assert (after[0] if after else None) == (nxt.payer.id[0] if nxt else None)


def test_the_next_payer_of_the_primary_sample_is_its_secondary() -> None:
    """The primary claim that names its secondary: that secondary is billed next."""
    nxt = cob.next_payer(_encounter("professional-primary-with-secondary"))
    assert nxt is not None
    assert (nxt.payer.id, nxt.responsibility) == ("60054", R.SECONDARY)


NO_IDS = {"service_lines[0].line_id": DELETE}


@pytest.mark.parametrize(
    ("changes", "named", "expected"),
    [
        ({}, "VFP0001-2", 1),
        ({}, "VFP0001-9", None),
        ({}, "2", None),  # a position, but line 2 has a line_id
        (NO_IDS, "1", 0),  # line 1 has none: by position
        (NO_IDS, "01", 0),
        (NO_IDS, "0", None),
        (NO_IDS, "3", None),
        ({"service_lines[1].line_id": "1"}, "1", 1),  # a line_id wins over a position
    ],
)
def test_line_index(changes: dict[str, Any], named: str, expected: int | None) -> None:
    """A line adjudication names a line by line_id, else by the position of a line without one."""
    enc = _encounter("professional-self", changes)
    line = LineAdjudication(line_id=named, paid_amount=Decimal(0))
    assert expected == cob.line_index(enc, line)


def test_line_balances_of_the_secondary_sample() -> None:
    """Each line: charge 185.00 = 104.96 + 80.04, and 42.50 = 13.32 + 29.18."""
    enc = _encounter("professional-secondary")
    adjudication = enc.other_payers[0].adjudication
    assert adjudication is not None
    found = [
        (b.position, b.line, b.charge, b.paid, b.adjusted, b.balanced)
        for b in cob.line_balances(enc, adjudication)
    ]
    assert found == [
        (0, 0, Decimal("185.00"), Decimal("104.96"), Decimal("80.04"), True),
        (1, 1, Decimal("42.50"), Decimal("13.32"), Decimal("29.18"), True),
    ]


@pytest.mark.parametrize(
    ("name", "changes", "line_level", "expected", "difference"),
    [
        ("professional-secondary", {}, True, "118.28", "0"),
        ("professional-secondary", {f"{A}.paid_amount": "120.00"}, True, "118.28", "-1.72"),
        (
            "professional-secondary",
            {f"{A}.adjustments": [{"group": "OA", "reason": "23", "amount": "8.28"}]},
            True,
            "110.00",
            "-8.28",
        ),
        ("institutional-secondary", {}, False, "1210.40", "0"),
        (
            "institutional-secondary",
            {f"{A}.adjustments[0].amount": "400.00"},
            False,
            "1223.00",
            "12.60",
        ),
    ],
)
def test_claim_balance(
    name: str, changes: dict[str, Any], line_level: bool, expected: str, difference: str
) -> None:
    """With lines: sum(SVD02) - claim CAS = AMT*D; without: charge - claim CAS = AMT*D."""
    enc = _encounter(name, changes)
    adjudication = enc.other_payers[0].adjudication
    assert adjudication is not None
    balance = cob.claim_balance(enc, adjudication)
    assert (line_level, Decimal(expected), Decimal(difference)) == (
        balance.line_level,
        balance.expected_paid,
        balance.difference,
    )
    assert balance.balanced is (Decimal(difference) == 0)


def test_patient_liability() -> None:
    """PR adjustments of claim and lines add up; a given patient_responsibility wins."""
    enc = _encounter(
        "professional-secondary",
        {
            f"{A}.adjustments": [{"group": "PR", "reason": "1", "amount": "10.00"}],
            f"{A}.patient_responsibility": "50.00",
        },
    )
    adjudication = enc.other_payers[0].adjudication
    assert adjudication is not None
    assert Decimal("36.24") == cob.patient_responsibility_total(adjudication)
    assert Decimal("50.00") == cob.remaining_patient_liability(adjudication)
    given = adjudication.model_copy(update={"patient_responsibility": None})
    assert Decimal("36.24") == cob.remaining_patient_liability(given)


def test_line_adjudication_date_defaults_to_the_claims() -> None:
    """DTP*573 of a line: its own date, else the claim's paid date."""
    enc = _encounter("professional-secondary", {f"{A}.lines[1].adjudication_date": "2026-11-16"})
    adjudication = enc.other_payers[0].adjudication
    assert adjudication is not None
    days = [cob.line_adjudication_date(adjudication, ln) for ln in adjudication.lines]
    assert [date(2026, 11, 15), date(2026, 11, 16)] == days


@pytest.mark.parametrize(
    ("filing", "place", "needed"),
    [
        (F.MEDICARE_PART_B, R.SECONDARY, True),
        (F.MEDICARE_PART_A, R.TERTIARY, True),
        (F.MEDICARE_PART_A, R.UNKNOWN, True),
        (F.MEDICARE_PART_B, R.PRIMARY, False),
        (F.COMMERCIAL, R.SECONDARY, False),
    ],
)
def test_needs_insurance_type(filing: F, place: R, needed: bool) -> None:
    """SBR05 is required for Medicare when it is not the primary payer."""
    assert needed is cob.needs_insurance_type(filing, place)
