"""Crossover: the next payer's encounter built from the primary's 835 (real-shaped 835 text)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from gateway.edits import scrub
from gateway.models.cob import next_payer
from gateway.models.encounter import Encounter
from gateway.transactions.crossover import (
    CrossoverError,
    crossover_payer_id,
    left_for_next_payer,
    leg_of,
    next_payer_encounter,
    settles_for_crossover,
)
from tests.support.cob835 import TERTIARY, clp, cob_encounter, remittance_of, svc, x835

ID = "COB-1"
L1, L2 = f"{ID}-L1", f"{ID}-L2"

# Each case: the 835's claim payment, then what the secondary's other_payers[0].adjudication says.
CASES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "line level, paid with contractual and coinsurance": (
        clp(
            ID, "1", "227.50", "150.00", "20.00", "PCN100",
            *svc("99214", "185.00", "120.00", L1, "CAS*CO*45*45.00", "CAS*PR*2*20.00"),
            *svc("83036", "42.50", "30.00", L2, "CAS*CO*45*12.50"),
        ),
        {
            "paid_amount": "150.00", "patient_responsibility": "20.00", "adjustments": [],
            "lines": [
                (L1, "120.00", [("CO", "45", "45.00"), ("PR", "2", "20.00")]),
                (L2, "30.00", [("CO", "45", "12.50")]),
            ],
        },
    ),
    "claim level only (no SVC)": (
        clp(ID, "1", "227.50", "180.00", "25.00", "PCN101",
            "CAS*CO*45*22.50", "CAS*PR*3*25.00"),
        {
            "paid_amount": "180.00", "patient_responsibility": "25.00",
            "adjustments": [("CO", "45", "22.50"), ("PR", "3", "25.00")], "lines": [],
        },
    ),
    "partial payment: one line denied": (
        clp(
            ID, "1", "227.50", "140.00", "15.00", "PCN102",
            *svc("99214", "185.00", "140.00", L1, "CAS*CO*45*30.00", "CAS*PR*2*15.00"),
            *svc("83036", "42.50", "0", L2, "CAS*CO*97*42.50"),
        ),
        {
            "paid_amount": "140.00", "patient_responsibility": "15.00", "adjustments": [],
            "lines": [
                (L1, "140.00", [("CO", "45", "30.00"), ("PR", "2", "15.00")]),
                (L2, "0", [("CO", "97", "42.50")]),
            ],
        },
    ),
    "denied, all to the patient (deductible)": (
        clp(
            ID, "1", "227.50", "0", "200.00", "PCN103",
            *svc("99214", "185.00", "0", L1, "CAS*CO*45*15.00", "CAS*PR*1*170.00"),
            *svc("83036", "42.50", "0", L2, "CAS*CO*45*12.50", "CAS*PR*1*30.00"),
        ),
        {
            "paid_amount": "0", "patient_responsibility": "200.00", "adjustments": [],
            "lines": [
                (L1, "0", [("CO", "45", "15.00"), ("PR", "1", "170.00")]),
                (L2, "0", [("CO", "45", "12.50"), ("PR", "1", "30.00")]),
            ],
        },
    ),
}  # fmt: skip


def _money(value: str) -> Decimal:
    return Decimal(value)


@pytest.mark.parametrize("case", list(CASES))
def test_the_secondary_claim_carries_the_primary_adjudication(case: str) -> None:
    """The primary's CLP/CAS/SVC become the secondary's other_payers adjudication, line by line."""
    payment, expected = CASES[case]
    encounter = Encounter.model_validate(cob_encounter(ID))
    remit = remittance_of(x835([payment]))
    (claim,) = remit.claims
    assert settles_for_crossover(claim)

    secondary = next_payer_encounter(encounter, claim, remit.header)

    assert (
        secondary.payer.id,
        str(secondary.subscriber.payer_responsibility),
        secondary.subscriber.member_id,
    ) == ("60054", "secondary", "W123456789")
    assert str(secondary.frequency) == "1"
    (primary,) = secondary.other_payers
    assert (
        str(primary.responsibility),
        primary.payer.id,
        primary.subscriber.member_id,
    ) == ("primary", "87726", "UH4471829001")
    adj = primary.adjudication
    assert adj is not None
    got = {
        "paid_amount": str(adj.paid_amount),
        "patient_responsibility": str(adj.patient_responsibility),
        "adjustments": [(a.group.value, a.reason, str(a.amount)) for a in adj.adjustments],
        "lines": [
            (ln.line_id, str(ln.paid_amount),
             [(a.group.value, a.reason, str(a.amount)) for a in ln.adjustments])
            for ln in adj.lines
        ],
    }  # fmt: skip
    normalized = expected | {
        "paid_amount": str(_money(expected["paid_amount"])),
        "patient_responsibility": str(_money(expected["patient_responsibility"])),
    }
    assert normalized == got
    assert date(2026, 11, 20) == adj.paid_date  # BPR16
    assert claim.payer_claim_control_number == adj.payer_claim_control_number  # CLP07
    # The secondary claim is a clean claim for the scrubber too.
    assert [f for f in scrub(secondary) if f.is_error] == []


def test_balances_per_line_and_claim() -> None:
    """Every line's charge is its paid amount plus its CAS; AMT*D is the sum of the lines paid."""
    payment, _ = CASES["line level, paid with contractual and coinsurance"]
    encounter = Encounter.model_validate(cob_encounter(ID))
    remit = remittance_of(x835([payment]))
    secondary = next_payer_encounter(encounter, remit.claims[0], remit.header)
    adj = secondary.other_payers[0].adjudication
    assert adj is not None
    for line, billed in zip(adj.lines, secondary.service_lines, strict=True):
        assert billed.charge == line.paid_amount + sum(a.amount for a in line.adjustments)
    assert adj.paid_amount == sum(line.paid_amount for line in adj.lines)


def test_lines_match_by_ref_6r_not_by_order() -> None:
    """An 835 listing the lines in another order still pays each its own line (REF*6R)."""
    payment = clp(
        ID, "1", "227.50", "150.00", "0", "PCN9",
        *svc("83036", "42.50", "30.00", L2, "CAS*CO*45*12.50"),
        *svc("99214", "185.00", "120.00", L1, "CAS*CO*45*65.00"),
    )  # fmt: skip
    remit = remittance_of(x835([payment]))
    secondary = next_payer_encounter(
        Encounter.model_validate(cob_encounter(ID)), remit.claims[0], remit.header
    )
    adj = secondary.other_payers[0].adjudication
    assert adj is not None
    assert [(L1, Decimal("120.00")), (L2, Decimal("30.00"))] == [
        (ln.line_id, ln.paid_amount) for ln in adj.lines
    ]


def test_the_tertiary_follows_without_adjudication() -> None:
    """With three payers, the secondary's claim names the primary (adjudicated) and the tertiary
    (not yet); the tertiary's claim, from the secondary's 835, names both before it."""
    encounter = Encounter.model_validate(
        cob_encounter(ID, cob_encounter(ID)["other_payers"][0], TERTIARY)
    )
    payment, _ = CASES["claim level only (no SVC)"]
    remit = remittance_of(x835([payment]))
    secondary = next_payer_encounter(encounter, remit.claims[0], remit.header)
    assert [
        (str(p.responsibility), p.adjudication is not None) for p in secondary.other_payers
    ] == [("primary", True), ("tertiary", False)]
    second = remittance_of(
        x835(
            [clp(ID, "2", "227.50", "20.00", "5.00", "SEC1",
                 "CAS*OA*23*180.00", "CAS*CO*45*2.50", "CAS*PR*3*25.00")],
            payer_id="60054", payer_name="AETNA",
        )
    )  # fmt: skip
    tertiary = next_payer_encounter(secondary, second.claims[0], second.header)
    where = (tertiary.payer.id, str(tertiary.subscriber.payer_responsibility))
    assert where == ("77027", "tertiary")
    assert [
        (str(p.responsibility), str(p.adjudication.paid_amount) if p.adjudication else None)
        for p in tertiary.other_payers
    ] == [("primary", "180.00"), ("secondary", "20.00")]
    assert next_payer(tertiary) is None


def test_a_spouse_subscriber_makes_the_patient_block() -> None:
    """When the secondary's subscriber is the patient's spouse, the patient moves to 2000C."""
    data = cob_encounter(ID)
    data["other_payers"][0]["subscriber"] |= {
        "member_id": "SP0001", "first_name": "JOHN", "relationship_to_patient": "01",
    }  # fmt: skip
    payment, _ = CASES["claim level only (no SVC)"]
    remit = remittance_of(x835([payment]))
    secondary = next_payer_encounter(Encounter.model_validate(data), remit.claims[0], remit.header)
    assert secondary.patient is not None
    assert (
        secondary.patient.first_name,
        str(secondary.patient.relationship_to_subscriber),
    ) == ("JANE", "01")
    assert secondary.subscriber.member_id == "SP0001"


@pytest.mark.parametrize(
    ("payment", "message"),
    [
        (clp(ID, "1", "200.00", "150.00", "0", "X", "CAS*CO*45*50.00"), "CLP03"),
        (
            clp(ID, "1", "227.50", "120.00", "0", "X",
                *svc("99214", "185.00", "120.00", "NOT-OURS", "CAS*CO*45*65.00"),
                *svc("83036", "42.50", "0", L2, "CAS*CO*45*42.50")),
            "REF*6R NOT-OURS",
        ),
        (
            clp(ID, "1", "227.50", "120.00", "0", "X",
                *svc("99214", "185.00", "120.00", L1, "CAS*CO*45*65.00"),
                "CAS*CO*45*42.50"),
            "no SVC for line(s) [2]",
        ),
    ],
    ids=["charge differs", "unknown line", "line missing"],
)  # fmt: skip
def test_an_835_that_cannot_be_carried_over_says_where(payment: list[str], message: str) -> None:
    """Amounts are never made up: the error names the 835 element that does not fit."""
    remit = remittance_of(x835([payment]))
    with pytest.raises(CrossoverError, match=re.escape(message)):
        next_payer_encounter(
            Encounter.model_validate(cob_encounter(ID)), remit.claims[0], remit.header
        )


def test_forwarded_and_settling_codes() -> None:
    """CLP02 19 with NM1*TT names the crossover payer; a plain denial does not settle."""
    forwarded = remittance_of(
        x835([clp(ID, "19", "227.50", "180.00", "0", "F1", "CAS*CO*45*47.50",
                  "NM1*TT*2*AETNA*****PI*60054")])
    ).claims[0]  # fmt: skip
    assert crossover_payer_id(forwarded) == "60054"
    denied = remittance_of(
        x835([clp(ID, "4", "227.50", "0", "0", "D1", "CAS*CO*50*227.50")])
    ).claims[0]
    assert (settles_for_crossover(denied), crossover_payer_id(denied)) == (False, None)
    assert [leg_of(r) for r in ("primary", "secondary", "tertiary", "unknown")] == [1, 2, 3, 1]


@pytest.mark.parametrize(
    ("charge", "paid", "owed", "cas", "expected"),
    [
        ("227.50", "227.50", "0", [], False),  # paid in full: nothing left
        ("227.50", "180.00", "0", ["CAS*CO*45*47.50"], False),  # the rest written off
        ("227.50", "180.00", "25.00", ["CAS*CO*45*22.50", "CAS*PR*3*25.00"], True),
        ("227.50", "180.00", "0", ["CAS*OA*23*47.50"], True),  # not a write-off
    ],
)
def test_a_primary_that_leaves_nothing_is_not_crossed_over(
    charge: str, paid: str, owed: str, cas: list[str], expected: bool
) -> None:
    """The next payer is billed only for a balance beyond the primary's CO write-offs."""
    (claim,) = remittance_of(x835([clp(ID, "1", charge, paid, owed, "PCN9", *cas)])).claims
    assert expected == settles_for_crossover(claim)
    assert expected == (left_for_next_payer(claim) > 0)
