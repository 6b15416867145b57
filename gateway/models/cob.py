"""Coordination of benefits, the arithmetic: the order of the payers and how another payer's
adjudication balances, in one place for the scrubber (which reports an imbalance), the 837
builders (which write 2320/2330/2430 from it) and the crossover from an 835.

Pure: no I/O, nothing changed. The balancing rules are the TR3's (837P X222A1 and 837I X223A2,
loops 2320 and 2430), per other payer:

- a line it adjudicated: the line's charge (SV102 / SV203) equals its paid amount (SVD02) plus
  its line adjustments (2430 CAS);
- with line detail: the sum of the lines' paid amounts less the claim-level adjustments (2320
  CAS) equals the claim's paid amount (AMT*D);
- without line detail: the claim's charge (CLM02) less the claim-level adjustments equals the
  paid amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.models.encounter import (
    Adjudication,
    AdjudicationAdjustment,
    Encounter,
    LineAdjudication,
    OtherPayer,
)
from gateway.models.encounter_types import AdjustmentGroup, ClaimFilingIndicator
from gateway.models.encounter_types import PayerResponsibility as R

__all__ = [
    "MAX_REMARK_CODES",
    "MEDICARE",
    "MEDICARE_SECONDARY_TYPES",
    "ClaimBalance",
    "LineBalance",
    "adjustment_total",
    "claim_balance",
    "line_adjudication_date",
    "line_balances",
    "line_index",
    "line_indexes",
    "needs_insurance_type",
    "next_payer",
    "patient_responsibility_total",
    "payers_after",
    "payers_ahead",
    "rank",
    "remaining_patient_liability",
]

# the places in order of payment: every responsibility but ``unknown``, as the enum lists them
_RANKS: dict[R, int] = {place: i for i, place in enumerate(p for p in R if p is not R.UNKNOWN)}

MEDICARE = frozenset({ClaimFilingIndicator.MEDICARE_PART_A, ClaimFilingIndicator.MEDICARE_PART_B})
"""The claim filing indicators (SBR09) of Medicare."""

MEDICARE_SECONDARY_TYPES: dict[str, str] = {
    "12": "working aged beneficiary or spouse with an employer group health plan",
    "13": "end-stage renal disease beneficiary in the coordination period",
    "14": "no-fault insurance, including auto, is primary",
    "15": "workers' compensation",
    "16": "public health service or other federal agency",
    "41": "black lung",
    "42": "veterans administration",
    "43": "disabled beneficiary under 65 with a large group health plan",
    "47": "other liability insurance is primary",
}
"""SBR05 insurance type codes of the 837P/837I: why Medicare is not the primary payer."""

MAX_REMARK_CODES = 5
"""MOA03-MOA07: the Medicare outpatient remark codes of one other payer's adjudication."""


def rank(responsibility: R) -> int | None:
    """0 for the primary payer, 1 for the secondary...; None for ``unknown``."""
    return _RANKS.get(responsibility)


def _ranked(encounter: Encounter, keep: int) -> tuple[OtherPayer, ...]:
    """Other payers before (``keep`` -1) or after (+1) the claim's own, in order of payment."""
    own = rank(encounter.subscriber.payer_responsibility)
    if own is None:
        return ()
    found = [
        (place, payer)
        for payer in encounter.other_payers
        if (place := rank(payer.responsibility)) is not None
        and (place < own if keep < 0 else place > own)
    ]
    return tuple(payer for _, payer in sorted(found, key=lambda pair: pair[0]))


def payers_ahead(encounter: Encounter) -> tuple[OtherPayer, ...]:
    """The other payers that pay before the claim's own payer, primary first (empty for a
    claim to the primary payer or of unknown responsibility)."""
    return _ranked(encounter, -1)


def payers_after(encounter: Encounter) -> tuple[OtherPayer, ...]:
    """The other payers that pay after the claim's own payer, nearest first."""
    return _ranked(encounter, +1)


def next_payer(encounter: Encounter) -> OtherPayer | None:
    """The payer to bill once the claim's own payer has paid: the next in responsibility."""
    after = payers_after(encounter)
    return after[0] if after else None


def needs_insurance_type(filing: ClaimFilingIndicator, responsibility: R) -> bool:
    """Whether SBR05 (insurance type) is required: Medicare, and not as the primary payer."""
    return filing in MEDICARE and responsibility is not R.PRIMARY


# ------------------------------------------------------------------------------------ lines


def line_index(encounter: Encounter, line: LineAdjudication) -> int | None:
    """The 0-based index in ``service_lines`` of the line ``line`` decides, or None.

    A line is named by its ``line_id``; a line without one by its REF*6R line control number
    (``<claim_id>-<n>``, what an 835 answers with) or by its 1-based position.
    """
    return _index(encounter, _line_ids(encounter), line.line_id)


def line_indexes(encounter: Encounter, adjudication: Adjudication) -> tuple[int | None, ...]:
    """``line_index`` of every line of ``adjudication``, in order."""
    ids = _line_ids(encounter)
    return tuple(_index(encounter, ids, line.line_id) for line in adjudication.lines)


def service_line_index(encounter: Encounter, line_id: str) -> int | None:
    """``line_index`` for a bare ``line_id``."""
    return _index(encounter, _line_ids(encounter), line_id)


def _line_ids(encounter: Encounter) -> dict[str, int]:
    """Service line index by ``line_id`` (the first line of an id: ids are unique anyway)."""
    ids: dict[str, int] = {}
    for i, service_line in enumerate(encounter.service_lines):
        if service_line.line_id is not None:
            ids.setdefault(service_line.line_id, i)
    return ids


def _index(encounter: Encounter, ids: dict[str, int], named: str) -> int | None:
    found = ids.get(named)
    if found is not None:
        return found
    lines = encounter.service_lines
    prefix = f"{encounter.claim_id}-"
    if named.startswith(prefix):  # the REF*6R of a line without line_id
        named = named[len(prefix) :]
    if named.isascii() and named.isdigit():
        position = int(named)
        if 1 <= position <= len(lines) and lines[position - 1].line_id is None:
            return position - 1
    return None


def adjustment_total(
    adjustments: Iterable[AdjudicationAdjustment], group: AdjustmentGroup | None = None
) -> Decimal:
    """The sum of the adjustments' amounts (of one group only, when ``group`` is given)."""
    return sum((a.amount for a in adjustments if group is None or a.group is group), Decimal(0))


def line_adjudication_date(adjudication: Adjudication, line: LineAdjudication) -> date:
    """When the payer decided the line (2430 DTP*573): its own date, else the claim's."""
    return line.adjudication_date or adjudication.paid_date


@dataclass(frozen=True)
class LineBalance:
    """One adjudicated line against the service line it names (TR3: SV102 = SVD02 + CAS)."""

    position: int  # index in ``adjudication.lines``
    line: int  # index in ``encounter.service_lines``
    charge: Decimal  # the service line's charge
    paid: Decimal  # SVD02
    adjusted: Decimal  # the sum of the line's CAS amounts

    @property
    def difference(self) -> Decimal:
        """What the charge leaves unexplained: charge - paid - adjusted (0 when balanced)."""
        return self.charge - self.paid - self.adjusted

    @property
    def balanced(self) -> bool:
        """Whether the line balances."""
        return self.difference == 0


def line_balances(encounter: Encounter, adjudication: Adjudication) -> tuple[LineBalance, ...]:
    """The balance of every adjudicated line that names a service line (those that name none
    have no charge to balance against: see ``line_index``)."""
    found: list[LineBalance] = []
    indexes = line_indexes(encounter, adjudication)
    for position, line in enumerate(adjudication.lines):
        index = indexes[position]
        if index is None:
            continue
        charge = encounter.service_lines[index].charge
        adjusted = adjustment_total(line.adjustments)
        found.append(LineBalance(position, index, charge, line.paid_amount, adjusted))
    return tuple(found)


# ------------------------------------------------------------------------------------ claim


@dataclass(frozen=True)
class ClaimBalance:
    """One other payer's claim-level balance (TR3 2320 AMT*D).

    With line detail ``basis`` is the sum of the lines' paid amounts (SVD02), else the claim's
    charge (CLM02); ``basis - adjusted`` must equal ``paid``.
    """

    line_level: bool
    basis: Decimal
    adjusted: Decimal  # the sum of the claim-level CAS amounts
    paid: Decimal  # AMT*D

    @property
    def expected_paid(self) -> Decimal:
        """What AMT*D must be for the claim to balance."""
        return self.basis - self.adjusted

    @property
    def difference(self) -> Decimal:
        """expected - paid (0 when balanced)."""
        return self.expected_paid - self.paid

    @property
    def balanced(self) -> bool:
        """Whether the claim balances."""
        return self.difference == 0


def claim_balance(encounter: Encounter, adjudication: Adjudication) -> ClaimBalance:
    """The claim-level balance of one other payer's adjudication of this claim."""
    adjusted = adjustment_total(adjudication.adjustments)
    if adjudication.lines:
        basis = sum((line.paid_amount for line in adjudication.lines), Decimal(0))
        return ClaimBalance(True, basis, adjusted, adjudication.paid_amount)
    return ClaimBalance(False, encounter.computed_total_charge, adjusted, adjudication.paid_amount)


def patient_responsibility_total(adjudication: Adjudication) -> Decimal:
    """The patient-responsibility (``PR``) adjustments, claim and line level together."""
    claim = adjustment_total(adjudication.adjustments, AdjustmentGroup.PATIENT)
    lines = sum(
        (adjustment_total(ln.adjustments, AdjustmentGroup.PATIENT) for ln in adjudication.lines),
        Decimal(0),
    )
    return claim + lines


def remaining_patient_liability(adjudication: Adjudication) -> Decimal:
    """What the patient still owes after this payer (AMT*EAF): ``patient_responsibility`` when
    given, else the sum of its ``PR`` adjustments."""
    if adjudication.patient_responsibility is not None:
        return adjudication.patient_responsibility
    return patient_responsibility_total(adjudication)
