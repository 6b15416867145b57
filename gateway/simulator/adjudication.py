"""The simulated payer's adjudication: how an accepted claim is paid, line by line.

``adjudicate_claim`` picks an outcome by the weights of ``[adjudication.outcomes]`` (from the seeded
generator it is given) and lays it out per line so that every line balances: paid in full, CO 45
contractual reductions, deductible / coinsurance / copay (PR 1 / 2 / 3), one line bundled away
(CO 97 with M15), or denied with a configured CARC and RARC. ``corrected_claim`` is the corrected
claim paid after a reversal. Pure; the 835 itself is written by ``transactions.remittance_writer``.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import ROUND_DOWN, Decimal

from gateway.simulator.rules import OUTCOMES, SimulatorRules
from gateway.transactions.claim837_reader import SubmittedClaim
from gateway.transactions.remittance_writer import PaidClaim, PaidLine, line_adjustment
from gateway.transactions.response_writer import cents

__all__ = ["adjudicate_claim", "corrected_claim"]

HUNDRED = Decimal(100)


def _share(amount: Decimal, percent: Decimal) -> Decimal:
    return cents(amount * percent / HUNDRED)


def adjudicate_claim(
    c: SubmittedClaim,
    rules: SimulatorRules,
    rng: random.Random,
    pcn: str,
    outcome: str | None = None,
) -> tuple[str, PaidClaim]:
    """Pick an outcome by weight (unless given) and lay it out line by line (lines balance)."""
    adj = rules.adjudication
    weights = [adj.outcomes[o] for o in OUTCOMES]
    outcome = outcome or rng.choices(OUTCOMES, weights)[0]
    if outcome == "line_denied" and len(c.lines) < 2:
        outcome = "contractual"
    processed_as = {"P": "1", "S": "2", "T": "3"}.get(c.payer_responsibility, "1")
    lines: list[PaidLine] = []
    if outcome == "denied":
        denial = rng.choice(adj.denials)
        for ln in c.lines:
            cas = (line_adjustment(denial.group, denial.reason, ln.charge),) if ln.charge else ()
            remarks = (denial.remark,) if denial.remark else ()
            lines.append(PaidLine(ln, Decimal(0), cas, remarks=remarks))
        return outcome, PaidClaim(c, "4", pcn, tuple(lines))
    deductible = adj.deductible if outcome == "patient_share" else Decimal(0)
    for n, ln in enumerate(c.lines):
        if outcome == "paid_in_full":
            lines.append(PaidLine(ln, ln.charge, allowed=ln.charge))
            continue
        if outcome == "line_denied" and n == len(c.lines) - 1:
            cas = (line_adjustment("CO", "97", ln.charge),) if ln.charge else ()
            lines.append(PaidLine(ln, Decimal(0), cas, remarks=("M15",)))
            continue
        allowed = _share(ln.charge, adj.allowed_percent)
        cas_list = []
        if ln.charge - allowed:
            cas_list.append(line_adjustment("CO", "45", ln.charge - allowed))
        paid = allowed
        if outcome == "patient_share":
            copay = min(adj.copay, paid) if c.kind == "professional" and n == 0 else Decimal(0)
            paid -= copay
            applied = min(deductible, paid)
            deductible -= applied
            paid -= applied
            coinsurance = _share(paid, adj.coinsurance_percent)
            paid -= coinsurance
            for reason, amount in (("1", applied), ("2", coinsurance), ("3", copay)):
                if amount:
                    cas_list.append(line_adjustment("PR", reason, amount))
        lines.append(PaidLine(ln, paid, tuple(cas_list), allowed=allowed))
    return outcome, PaidClaim(c, processed_as, pcn, tuple(lines))


def corrected_claim(original: PaidClaim, pcn: str) -> PaidClaim:
    """The corrected claim after a reversal: the payer gives back half its CO 45 reductions."""
    lines = []
    for pl in original.lines:
        extra = Decimal(0)
        cas = []
        for a in pl.adjustments:
            if a.group == "CO" and a.reason == "45" and a.amount > 0:
                extra = (a.amount / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
                if a.amount - extra:
                    cas.append(replace(a, amount=a.amount - extra))
            else:
                cas.append(a)
        allowed = pl.allowed + extra if pl.allowed is not None else None
        lines.append(replace(pl, paid=pl.paid + extra, adjustments=tuple(cas), allowed=allowed))
    return replace(original, payer_claim_control_number=pcn, lines=tuple(lines))
