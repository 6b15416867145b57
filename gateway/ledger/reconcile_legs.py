"""Which leg of a claim a response is about, and what an 835 means for the next leg (pure).

Coordination of benefits: a claim has one leg per payer, in order of responsibility (1 primary,
2 secondary, 3 tertiary...). :func:`leg_view` picks the leg an 835 claim payment (or a payer's
277CA) is about; :func:`coordination` says what the ledger must do about the next leg.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from gateway.ledger.lifecycle import ClaimState
from gateway.models.encounter_types import PayerResponsibility
from gateway.models.remittance import Claim
from gateway.transactions.crossover import FORWARDED, PROCESSED_AS, settles_for_crossover

if TYPE_CHECKING:
    from gateway.ledger.reconcile import SentClaim

__all__ = ["SentLeg", "coordination", "leg_name", "leg_view"]

S = ClaimState


@dataclass(frozen=True)
class SentLeg:
    """Another leg of a claim (an earlier payer's): its latest version and where it stands."""

    leg: int
    version: int
    state: ClaimState
    frequency: str
    total_charge: Decimal
    payer_id: str
    payer_claim_control_number: str | None = None


def leg_name(leg: int) -> str:
    """``primary``, ``secondary``, ``tertiary``, ... for a leg number."""
    order = [r.value for r in PayerResponsibility if r is not PayerResponsibility.UNKNOWN]
    return order[leg - 1] if 0 < leg <= len(order) else f"leg {leg}"


def leg_view(
    claim: SentClaim, status_code: str, payer_id: str, payer_claim_control_number: str = ""
) -> SentClaim:
    """The leg an 835 claim payment (or a 277CA) is about, as a :class:`SentClaim`.

    CLP02 says the place the payer processed the claim in (1/19 primary, 2/20 secondary, 3/21
    tertiary); otherwise (22 reversal, 4 denial, 23, 25) the leg whose claim control number is
    CLP07 (a reversal repeats the payment's), or whose payer id is the 835's (N1*PR; it also
    decides when two legs fit); else the claim's current leg. An 835 from the next payer of a
    claim the previous one forwarded (no leg recorded for it yet) opens that leg.
    """
    legs = {leg.leg: leg for leg in claim.legs if leg.leg != claim.leg}
    control = payer_claim_control_number.strip()
    by_number = [
        number
        for number, known in [(claim.leg, claim.payer_claim_control_number)]
        + [(leg.leg, leg.payer_claim_control_number) for leg in legs.values()]
        if control and known == control
    ]
    if status_code not in PROCESSED_AS and len(by_number) == 1:
        return claim if by_number[0] == claim.leg else _known(claim, legs[by_number[0]])
    payer = payer_id.strip().upper()
    candidates = [(claim.leg, claim.payer_id)] + [(leg.leg, leg.payer_id) for leg in legs.values()]
    if claim.next_leg is not None and claim.next_leg not in legs and claim.next_payer_id:
        # the next payer named by the encounter, whose answer may come before the current
        # payer's (a claim the current payer forwarded, both 835s read at once)
        candidates.append((claim.next_leg, claim.next_payer_id))
    by_payer = [
        number for number, leg_payer in candidates if payer and leg_payer.strip().upper() == payer
    ]
    wanted = PROCESSED_AS.get(status_code)
    if wanted is None or (by_payer and wanted not in by_payer and len(by_payer) == 1):
        wanted = by_payer[0] if len(by_payer) == 1 else claim.leg
    if wanted == claim.leg:
        return claim
    known = legs.get(wanted)
    if known is not None:
        return _known(claim, known)
    if wanted == claim.next_leg and wanted > claim.leg and claim.state in _SETTLED:
        return replace(
            claim,
            version=claim.version + 1,
            state=S.CROSSED_OVER,
            frequency="1",
            payer_claim_control_number=None,
            sent_version=None,
            leg=wanted,
            payer_id=payer_id,
            next_leg=None,
            next_payer_id=None,
            opens_leg=True,
        )
    return claim


def _known(claim: SentClaim, known: SentLeg) -> SentClaim:
    """The claim as seen from one of its earlier legs (its latest version, state and payer)."""
    return replace(
        claim,
        version=known.version,
        state=known.state,
        frequency=known.frequency,
        total_charge=known.total_charge,
        payer_claim_control_number=known.payer_claim_control_number,
        sent_version=None,
        leg=known.leg,
        payer_id=known.payer_id,
        next_leg=None,
    )


#: Where a leg may stand when the next payer answers: settled, or at its payer (whose own 835
#: may come late, or never when it forwarded the claim).
_SETTLED = frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED, S.SUBMITTED, S.ACKNOWLEDGED, S.ACCEPTED})


def coordination(
    current: SentClaim,
    claim: SentClaim,
    clp: Claim,
    before: ClaimState,
    target: ClaimState | None,
) -> str:
    """What this 835 claim payment means for the next leg (the ledger acts on it):

    ``bill``: it settles the claim's current leg and the encounter names a next payer, so the
    next leg is built from it; ``forwarded``: the same, but the payer forwarded the claim itself
    (CLP02 19/20/21); ``reversed``: an earlier leg's payment was reversed after the next leg
    was recorded; ``corrected``: an earlier leg was paid again after a reversal (the next leg's
    replacement is offered); empty: nothing.
    """
    if claim.leg != current.leg and not claim.opens_leg:
        if target == S.REVERSED:
            return "reversed"
        if before == S.REVERSED and target in (S.PAID, S.PARTIALLY_PAID):
            return "corrected"
        return ""
    if claim.next_leg is None or target is None or claim.opens_leg:
        return ""
    if PROCESSED_AS.get(clp.status_code) != claim.leg or not settles_for_crossover(clp):
        return ""
    return "forwarded" if clp.status_code in FORWARDED else "bill"
