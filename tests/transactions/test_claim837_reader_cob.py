"""The 837 reader's coordination of benefits: SBR01, the 2320/2330A/2330B and the 2430 loops."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from gateway.transactions.claim837_reader import read_submission
from gateway.validation.validator import validate
from tests.support.cob837 import Line, LineDecision, Other, claim, interchange

MEDICARE = Other(
    "P",
    "00952",
    "MEDICARE PART B ILLINOIS",
    "MB",
    member_id="1EG4TE5MK73",
    paid="80",
    patient_responsibility="48",
    date="20261116",
    control_number="2026320000123",
    remarks=("MA01", "N130"),
)
MEDICAID = Other("T", "77027", "ILLINOIS MEDICAID", "MC", member_id="IL0099887")
LINES = (
    Line(
        "99213",
        "125",
        decisions={"00952": LineDecision("80", (("CO", "45", "25"), ("PR", "2", "20")))},
    ),
    Line("87880", "28", decisions={"00952": LineDecision("0", (("PR", "1", "28"),), "20261117")}),
)


def _secondary(kind: str) -> bytes:
    segs = claim(kind, "COB-1", lines=LINES, others=(MEDICARE, MEDICAID))
    return interchange(kind, [segs])


@pytest.mark.parametrize("kind", ["professional", "institutional"])
def test_hand_written_secondary_claims_are_tr3_valid(kind: str) -> None:
    """The hand-written secondary claims the COB tests read pass our own TR3 validator."""
    result = validate(_secondary(kind), file="cob.x12")
    assert [True] == [s.accepted for g in result.groups for s in g.sets]


@pytest.mark.parametrize("kind", ["professional", "institutional"])
def test_each_2320_loop_is_read_with_its_2330a_and_2330b(kind: str) -> None:
    """Per other payer: place, filing indicator, payer, subscriber, AMT*D/EAF, DTP*573, REF*F8."""
    (c,) = read_submission(_secondary(kind)).claims
    assert "S" == c.payer_responsibility
    primary, tertiary = c.other_payers
    assert ("P", "MB", "00952", "MEDICARE PART B ILLINOIS") == (
        primary.responsibility,
        primary.filing_indicator,
        primary.payer_id,
        primary.payer_name,
    )
    assert ("1EG4TE5MK73", "DOE", "JOHN", "18") == (
        primary.member_id,
        primary.subscriber_last,
        primary.subscriber_first,
        primary.relationship,
    )
    assert Decimal("80") == primary.paid_amount
    assert Decimal("48") == primary.patient_responsibility
    assert date(2026, 11, 16) == primary.adjudication_date
    assert "2026320000123" == primary.claim_control_number
    assert primary.adjudicated
    assert ("T", "MC", "77027", "IL0099887") == (
        tertiary.responsibility,
        tertiary.filing_indicator,
        tertiary.payer_id,
        tertiary.member_id,
    )
    assert (None, None, "", False) == (
        tertiary.paid_amount,
        tertiary.adjudication_date,
        tertiary.claim_control_number,
        tertiary.adjudicated,
    )
    assert "" == c.original_reference  # 2330B REF*F8 is not the claim's own REF*F8


def test_moa_remarks_are_kept_on_the_837p() -> None:
    """MOA03-07 of a 2320 loop are that payer's remark codes."""
    (c,) = read_submission(_secondary("professional")).claims
    assert ("MA01", "N130") == c.other_payers[0].remark_codes


@pytest.mark.parametrize("kind", ["professional", "institutional"])
def test_each_2430_loop_is_read_on_its_line(kind: str) -> None:
    """SVD paid, procedure, units, line CAS and DTP*573 land on the line they follow."""
    (c,) = read_submission(_secondary(kind)).claims
    first, second = (ln.other_payers for ln in c.lines)
    (svd,) = first
    assert ("00952", Decimal("80"), "HC", "99213", Decimal(1)) == (
        svd.payer_id,
        svd.paid_amount,
        svd.qualifier,
        svd.procedure,
        svd.units,
    )
    assert [("CO", "45", Decimal("25")), ("PR", "2", Decimal("20"))] == [
        (a.group, a.reason, a.amount) for a in svd.adjustments
    ]
    assert date(2026, 11, 16) == svd.adjudication_date
    assert "Coinsurance Amount" == svd.adjustments[1].reason_meaning
    (svd2,) = second
    assert (Decimal(0), "87880", date(2026, 11, 17)) == (
        svd2.paid_amount,
        svd2.procedure,
        svd2.adjudication_date,
    )
    # the lines balance per other payer: charge = SVD02 + line CAS
    for ln in c.lines:
        for d in ln.other_payers:
            assert ln.charge == d.paid_amount + sum((a.amount for a in d.adjustments), Decimal(0))


def test_837i_svd_carries_the_revenue_code() -> None:
    """837I SVD03 is the procedure and SVD04 the revenue code."""
    (c,) = read_submission(_secondary("institutional")).claims
    svd = c.lines[0].other_payers[0]
    assert ("99213", "0510") == (svd.procedure, svd.revenue_code)


def test_claim_level_cas_amounts_and_quantities() -> None:
    """A 2320 CAS with several triplets (and a quantity), AMT*A8 and AMT*EAF are kept."""
    other = Other(
        "P",
        "87726",
        "UNITED HEALTHCARE",
        "CI",
        paid="100",
        adjustments=(("CO", "45", "33"), ("PR", "1", "20")),
        patient_responsibility="20",
        date="20261110",
    )
    segs = claim("professional", "COB-2", others=(other,))
    at = segs.index("AMT*D*100")
    segs[at + 1 : at + 1] = ["AMT*A8*5"]
    segs = [s.replace("CAS*CO*45*33", "CAS*CO*45*33*1*253*0") for s in segs]
    (c,) = read_submission(interchange("professional", [segs])).claims
    (o,) = c.other_payers
    assert [("CO", "45", Decimal("33"), Decimal(1)), ("CO", "253", Decimal(0), None)] == [
        (a.group, a.reason, a.amount, a.quantity) for a in o.adjustments if a.group == "CO"
    ]
    assert ("PR", "1", Decimal("20")) == (
        o.adjustments[-1].group,
        o.adjustments[-1].reason,
        o.adjustments[-1].amount,
    )
    assert (Decimal("5"), Decimal("20")) == (o.noncovered_amount, o.patient_responsibility)
    assert all(not ln.other_payers for ln in c.lines)


def test_a_primary_claim_names_its_other_payers_without_adjudication() -> None:
    """A claim to the primary keeps SBR01 P and its 2320 loops, none adjudicated."""
    segs = claim(
        "professional",
        "COB-3",
        responsibility="P",
        payer=("00952", "MEDICARE PART B ILLINOIS"),
        filing="MB",
        others=(Other("S", "61101", "HUMANA", "CI"),),
    )
    (c,) = read_submission(interchange("professional", [segs])).claims
    assert ("P", "MB") == (c.payer_responsibility, c.filing_indicator)
    assert [("S", "61101", False)] == [
        (o.responsibility, o.payer_id, o.adjudicated) for o in c.other_payers
    ]


def test_other_payer_referring_provider_is_not_the_claims() -> None:
    """A 2330C NM1*DN (that payer's referring provider) does not mark a 2310A referral."""
    segs = claim("professional", "COB-4", others=(MEDICARE,), lines=LINES)
    at = segs.index("REF*F8*2026320000123")
    segs[at + 1 : at + 1] = ["NM1*DN*1", "REF*G2*REF0001"]
    (c,) = read_submission(interchange("professional", [segs])).claims
    assert not c.has_referring_provider
    assert "2026320000123" == c.other_payers[0].claim_control_number


def test_the_secondary_claim_draws_anew() -> None:
    """The claim to the secondary has another digest than the same claim to the primary."""
    primary = claim("professional", "COB-5", responsibility="P", lines=LINES[:1])
    secondary = claim("professional", "COB-5", lines=LINES, others=(MEDICARE,))
    first = read_submission(interchange("professional", [primary])).claims[0]
    second = read_submission(interchange("professional", [secondary])).claims[0]
    assert first.digest != second.digest
    assert () == first.other_payers


def test_mia_remarks_are_kept_on_the_837i() -> None:
    """An inpatient 837I carries Medicare's remarks in MIA (MIA05, MIA20-23)."""
    segs = claim("institutional", "COB-6", lines=LINES, others=(replace(MEDICARE, remarks=()),))
    at = segs.index("OI***Y***Y")
    segs[at + 1 : at + 1] = ["MIA*0****MA01" + "*" * 15 + "N130*M80"]
    (c,) = read_submission(interchange("institutional", [segs])).claims
    assert ("MA01", "N130", "M80") == c.other_payers[0].remark_codes
