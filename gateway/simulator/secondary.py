"""The simulated payers after the first: secondaries paid from the 2320/2430 data, and crossover.

``remaining_balance(claim)`` is what the payers ahead of the claim's payer left, line by line:
the charge less what they paid (AMT*D, SVD02) and less what they wrote off (CO and PI
adjustments of their 2320 and 2430 CAS); per line when they gave 2430 loops, else spread over
the lines in order. ``adjudicate_secondary`` pays at most that balance (``pays_balance``,
``coinsurance``, ``denied``, drawn by the weights of ``[adjudication.secondary.outcomes]``), and
lays each line out so it balances: OA 23 for what the payers ahead settled, then what it does not
pay (PR 2 coinsurance, or the denial); CLP05 is what the patient still owes.

``crossover_target(claim)`` is the secondary a primary Medicare claim names in 2320, and
``crossover_claim(paid, target, day)`` the claim Medicare forwards to it: the same claim with the
secondary as its payer and Medicare's adjudication as its 2320/2430 data, so the secondary
decides on it as on any secondary claim. Pure; the 835s are written by
``transactions.remittance_writer``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from decimal import Decimal

from gateway.models.remittance import Adjustment
from gateway.simulator.rules import SECONDARY_OUTCOMES, SimulatorRules
from gateway.transactions.claim837_reader import (
    OtherPayerClaim,
    OtherPayerLine,
    SubmittedClaim,
)
from gateway.transactions.remittance_writer import PaidClaim, PaidLine, line_adjustment
from gateway.transactions.response_writer import cents

__all__ = [
    "adjudicate_secondary",
    "crossover_claim",
    "crossover_target",
    "is_secondary",
    "payers_ahead",
    "remaining_balance",
]

ZERO = Decimal(0)
#: SBR01 in order of responsibility: primary, secondary, tertiary, then payers 4 to 11 (any
#: other code, such as U unknown, is answered as the primary).
_ORDER = "PSTABCDEFGH"
#: Adjustment groups the provider writes off: the patient never owes them.
_WRITTEN_OFF = frozenset({"CO", "PI"})
#: SBR09 of Medicare (Part A, Part B): the payers that forward claims to a supplement themselves.
_MEDICARE = frozenset({"MA", "MB"})


def _rank(responsibility: str) -> int:
    found = _ORDER.find(responsibility) if len(responsibility) == 1 else -1
    return max(found, 0)


def is_secondary(claim: SubmittedClaim) -> bool:
    """Whether the claim goes to a payer after the first (2000B SBR01 other than P)."""
    return _rank(claim.payer_responsibility) > 0


def payers_ahead(claim: SubmittedClaim) -> tuple[OtherPayerClaim, ...]:
    """The other payers (2320) responsible before the claim's own payer."""
    own = _rank(claim.payer_responsibility)
    return tuple(o for o in claim.other_payers if _rank(o.responsibility) < own)


def _written_off(adjustments: Iterable[Adjustment]) -> Decimal:
    return sum((a.amount for a in adjustments if a.group in _WRITTEN_OFF), ZERO)


def remaining_balance(claim: SubmittedClaim) -> tuple[Decimal, ...]:
    """Per line, what the payers ahead left unpaid and not written off (never below zero)."""
    ahead = payers_ahead(claim)
    ids = {o.payer_id for o in ahead}
    caps = []
    for ln in claim.lines:
        settled = sum(
            (d.paid_amount + _written_off(d.adjustments))
            for d in ln.other_payers
            if d.payer_id in ids
        )
        caps.append(min(max(ln.charge - settled, ZERO), ln.charge))
    left = sum((ln.charge for ln in claim.lines), ZERO)
    for o in ahead:
        decided = [d for ln in claim.lines for d in ln.other_payers if d.payer_id == o.payer_id]
        paid = o.paid_amount
        if paid is None:
            paid = sum((d.paid_amount for d in decided), ZERO)
        left -= paid + _written_off(o.adjustments)
        left -= sum((_written_off(d.adjustments) for d in decided), ZERO)
    left = max(left, ZERO)
    out = []
    for cap in caps:  # the claim's balance, spread over the lines in order within their caps
        take = min(cap, left)
        out.append(take)
        left -= take
    return tuple(out)


def adjudicate_secondary(
    c: SubmittedClaim,
    rules: SimulatorRules,
    rng: random.Random,
    pcn: str,
    outcome: str | None = None,
) -> tuple[str, PaidClaim]:
    """Decide a secondary (or tertiary) claim: at most the balance the payers ahead left."""
    secondary = rules.adjudication.secondary
    weights = [secondary.outcomes[o] for o in SECONDARY_OUTCOMES]
    outcome = outcome or rng.choices(SECONDARY_OUTCOMES, weights)[0]
    denial = rng.choice(rules.adjudication.denials) if outcome == "denied" else None
    coinsurance_percent = rules.adjudication.coinsurance_percent
    lines = []
    for ln, balance in zip(c.lines, remaining_balance(c), strict=True):
        cas = []
        if ln.charge - balance:  # settled by the payers ahead (paid or written off)
            cas.append(line_adjustment("OA", "23", ln.charge - balance))
        paid = balance
        remarks: tuple[str, ...] = ()
        if denial is not None:
            paid = ZERO
            if balance:
                cas.append(line_adjustment(denial.group, denial.reason, balance))
                remarks = (denial.remark,) if denial.remark else ()
        elif outcome == "coinsurance":
            share = cents(balance * coinsurance_percent / 100)
            paid = balance - share
            if share:
                cas.append(line_adjustment("PR", "2", share))
        lines.append(PaidLine(ln, paid, tuple(cas), remarks=remarks))
    processed_as = {"S": "2", "T": "3"}.get(c.payer_responsibility, "3")
    status = "4" if denial is not None else processed_as
    return outcome, PaidClaim(c, status, pcn, tuple(lines))


def crossover_target(c: SubmittedClaim) -> OtherPayerClaim | None:
    """The secondary a primary Medicare claim names in 2320 (the payer it may forward to)."""
    if c.payer_responsibility != "P" or c.filing_indicator not in _MEDICARE:
        return None
    return next((o for o in c.other_payers if o.responsibility == "S" and o.payer_id), None)


def crossover_claim(primary: PaidClaim, target: OtherPayerClaim, day: date) -> SubmittedClaim:
    """The claim the primary forwards to ``target``: its own decision as the 2320/2430 data."""
    c = primary.claim
    decided = OtherPayerClaim(
        responsibility="P",
        relationship="18",
        group_number="",
        filing_indicator=c.filing_indicator,
        payer_id=c.payer_id,
        payer_name=c.payer_name,
        member_id=c.member_id,
        subscriber_last=c.subscriber_last,
        subscriber_first=c.subscriber_first,
        paid_amount=primary.paid,
        patient_responsibility=primary.patient_responsibility,
        adjudication_date=day,
        claim_control_number=primary.payer_claim_control_number,
    )
    lines = [
        replace(
            pl.line,
            other_payers=(
                OtherPayerLine(
                    payer_id=c.payer_id,
                    paid_amount=pl.paid,
                    qualifier=pl.line.qualifier,
                    procedure=pl.line.procedure,
                    modifiers=pl.line.modifiers,
                    revenue_code=pl.line.revenue_code,
                    units=pl.line.units,
                    bundled_line="",
                    adjustments=pl.adjustments,
                    adjudication_date=day,
                ),
            ),
        )
        for pl in primary.lines
    ]
    others = tuple(o for o in c.other_payers if o is not target)
    return replace(
        c,
        payer_id=target.payer_id,
        payer_name=target.payer_name,
        payer_responsibility="S",
        filing_indicator=target.filing_indicator,
        member_id=target.member_id or c.member_id,
        subscriber_last=target.subscriber_last or c.subscriber_last,
        subscriber_first=target.subscriber_first or c.subscriber_first,
        lines=lines,
        other_payers=(decided, *others),
    )
