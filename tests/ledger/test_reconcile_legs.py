"""Which leg an 835 claim payment is about (pure): CLP02 first, then the payer id, else the
claim's current leg; an 835 from the next payer opens its leg."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.reconcile import SentClaim, SentLeg, leg_view

S = ClaimState
CHARGE = Decimal("227.50")
PRIMARY = SentLeg(1, 1, S.PAID, "1", CHARGE, "87726", "PCN1")
# A claim at its secondary leg (version 2, payer 60054), its primary leg paid.
AT_SECONDARY = SentClaim("C1", 2, S.SUBMITTED, "1", CHARGE, leg=2, payer_id="60054",
                         legs=(PRIMARY,))  # fmt: skip
# A claim at its primary leg (paid) whose encounter names a secondary.
AT_PRIMARY = SentClaim("C1", 1, S.PAID, "1", CHARGE, leg=1, payer_id="87726", next_leg=2)

CASES = [
    # (claim, CLP02, 835 payer id) -> (leg, version, opens the leg)
    (AT_SECONDARY, "2", "60054", (2, 2, False)),
    (AT_SECONDARY, "1", "87726", (1, 1, False)),  # a late primary answer: its own leg
    (AT_SECONDARY, "19", "", (1, 1, False)),
    (AT_SECONDARY, "22", "87726", (1, 1, False)),  # reversal: the payer id decides
    (AT_SECONDARY, "22", "60054", (2, 2, False)),
    (AT_SECONDARY, "22", "", (2, 2, False)),  # nothing to go by: the current leg
    (AT_SECONDARY, "1", "60054", (2, 2, False)),  # a secondary that says "primary": its payer id
    (AT_SECONDARY, "4", "99999", (2, 2, False)),
    (AT_PRIMARY, "2", "60054", (2, 2, True)),  # the next payer's 835: opens leg 2
    (AT_PRIMARY, "1", "87726", (1, 1, False)),
    (AT_PRIMARY, "3", "77027", (1, 1, False)),  # no tertiary named: the current leg
]


@pytest.mark.parametrize(("claim", "code", "payer", "expected"), CASES)
def test_the_leg_of_an_835(
    claim: SentClaim, code: str, payer: str, expected: tuple[int, int, bool]
) -> None:
    """Each CLP02 and payer id lands on the leg the table says."""
    found = leg_view(claim, code, payer)
    assert expected == (found.leg, found.version, found.opens_leg)


def test_a_reversal_goes_to_the_leg_of_its_claim_control_number() -> None:
    """CLP02 22 repeats the payment's CLP07: that number finds the leg, whatever the 835's
    payer id (often not the id the claim was sent under)."""
    secondary = AT_SECONDARY.__class__(
        **{**AT_SECONDARY.__dict__, "payer_claim_control_number": "SEC9"}
    )
    assert _leg(leg_view(secondary, "22", "PAYERTIN", "PCN1")) == (1, 1)
    assert _leg(leg_view(secondary, "22", "PAYERTIN", "SEC9")) == (2, 2)
    assert _leg(leg_view(secondary, "22", "PAYERTIN", "OTHER")) == (2, 2)


def _leg(claim: SentClaim) -> tuple[int, int]:
    return claim.leg, claim.version
