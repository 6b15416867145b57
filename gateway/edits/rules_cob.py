"""Scrubber rules about the other payers (coordination of benefits: 837 loops 2320/2330/2430).

The order of responsibility, the adjudication of every payer ahead of the claim's own, the TR3
balancing of each adjudication (the arithmetic is ``gateway.models.cob``'s), its codes and dates,
and SBR05 for Medicare as a secondary payer. The 837 builders never make an amount up: these rules
are what keeps an unbalanced claim from being sent. Messages name amounts, codes and payer ids,
never a member's name or id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal

from gateway.codes import published
from gateway.edits import codelists as cl
from gateway.edits.context import Context
from gateway.edits.findings import Finding, finding
from gateway.edits.findings import FindingCode as C
from gateway.models import cob
from gateway.models.encounter import (
    Adjudication,
    AdjudicationAdjustment,
    Encounter,
    OtherPayer,
)
from gateway.models.encounter_types import ClaimFilingIndicator, PayerResponsibility

__all__ = [
    "COB_RULES",
    "adjudication_codes",
    "adjudication_dates",
    "adjudication_lines",
    "adjudications_present",
    "balances",
    "insurance_types",
    "responsibility_order",
]

MAX_ADJUSTMENTS_PER_GROUP = 6
"""CAS02-CAS19: six reason/amount/quantity triplets in the one CAS segment of a group."""
_CENT = Decimal("0.01")


def _who(payer: OtherPayer, *, first: bool = False) -> str:
    """How a message names another payer: its place, name and id (payer data, not PHI);
    ``first`` for the start of a sentence."""
    article = "The" if first else "the"
    return f"{article} {payer.responsibility} payer {payer.payer.name} ({payer.payer.id})"


def _adjudicated(enc: Encounter) -> Iterator[tuple[str, OtherPayer, Adjudication]]:
    """(path of the adjudication, payer, adjudication) of every other payer that has one."""
    for i, payer in enumerate(enc.other_payers):
        if payer.adjudication is not None:
            yield f"other_payers[{i}].adjudication", payer, payer.adjudication


# ------------------------------------------------------------------------------------ order


def responsibility_order(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Each place of responsibility is held once (the claim's own included), each coverage is
    listed once, and every place ahead of the claim's own is named in ``other_payers``."""
    own = enc.subscriber.payer_responsibility
    own_rank = cob.rank(own)
    if not enc.other_payers and not own_rank:  # 0 (primary) or None (unknown)
        return  # a primary (or unknown) claim naming no other payer: the common case
    held: dict[PayerResponsibility, str] = {}
    if own_rank is not None:
        held[own] = "subscriber.payer_responsibility (the claim's own payer)"
    coverages = {(enc.payer.id, enc.subscriber.member_id): "the claim's own payer"}
    for i, payer in enumerate(enc.other_payers):
        path = f"other_payers[{i}]"
        place = payer.responsibility
        if cob.rank(place) is not None:
            if place in held:
                yield finding(
                    C.COB_RESPONSIBILITY_REPEATED,
                    f"{path}.responsibility",
                    f"{path} is the {place} payer, a place {held[place]} already holds.",
                )
            else:
                held[place] = path
        coverage = (payer.payer.id, payer.subscriber.member_id)
        if coverage in coverages:
            yield finding(
                C.COB_PAYER_REPEATED,
                path,
                f"{path} names payer {payer.payer.id} with the same member id as "
                f"{coverages[coverage]}: the same coverage twice.",
            )
        else:
            coverages[coverage] = path
    if own_rank:
        named = {cob.rank(payer.responsibility) for payer in enc.other_payers}
        missing = [
            p for p in PayerResponsibility if (r := cob.rank(p)) is not None and r < own_rank
        ]
        missing = [p for p in missing if cob.rank(p) not in named]
        if missing:
            yield finding(
                C.COB_PAYER_AHEAD_MISSING,
                "other_payers",
                f"The claim goes to its {own} payer, but other_payers names no "
                f"{' and no '.join(missing)} payer: the {own} payer needs to know what each "
                "payer ahead of it paid.",
            )


def adjudications_present(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Every payer ahead of the claim's own has its adjudication; a payer after it has none."""
    if not enc.other_payers:
        return
    own_rank = cob.rank(enc.subscriber.payer_responsibility)
    if own_rank is None:
        return
    for i, payer in enumerate(enc.other_payers):
        rank = cob.rank(payer.responsibility)
        if rank is None:
            continue
        path = f"other_payers[{i}].adjudication"
        if rank < own_rank and payer.adjudication is None:
            yield finding(
                C.COB_ADJUDICATION_MISSING,
                path,
                f"{_who(payer, first=True)} pays before this claim's "
                f"{enc.subscriber.payer_responsibility} payer, and its adjudication is not "
                "given: the claim must carry what it paid and adjusted (2320 AMT*D, CAS).",
            )
        elif rank > own_rank and payer.adjudication is not None:
            yield finding(
                C.COB_ADJUDICATION_NOT_AHEAD,
                path,
                f"{_who(payer, first=True)} pays after this claim's "
                f"{enc.subscriber.payer_responsibility} payer, yet an adjudication is given "
                "for it.",
            )


# ------------------------------------------------------------------------------------ lines


def adjudication_lines(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Each line adjudication names one service line, at most one per line; when a payer
    decided line by line, every service line has its decision (a warning)."""
    for path, payer, adjudication in _adjudicated(enc):
        if not adjudication.lines:
            continue
        decided: dict[int, int] = {}
        indexes = cob.line_indexes(enc, adjudication)
        for k, line in enumerate(adjudication.lines):
            line_path = f"{path}.lines[{k}].line_id"
            index = indexes[k]
            if index is None:
                yield finding(
                    C.COB_LINE_UNKNOWN,
                    line_path,
                    f"line_id {line.line_id!r} names no service line: no line has that line_id, "
                    "and it is not the position of a line without one.",
                )
            elif index in decided:
                yield finding(
                    C.COB_LINE_REPEATED,
                    line_path,
                    f"service_lines[{index}] is adjudicated again: {path}.lines[{decided[index]}] "
                    "already decides it.",
                )
            else:
                decided[index] = k
        for index, service_line in enumerate(enc.service_lines):
            if index not in decided:
                named = f" ({service_line.line_id})" if service_line.line_id else ""
                yield finding(
                    C.COB_LINE_NOT_ADJUDICATED,
                    f"{path}.lines",
                    f"service_lines[{index}]{named} has no decision from {_who(payer)}, which "
                    "decided the other lines one by one.",
                )


# --------------------------------------------------------------------------------- balances


def _amount(amount: Decimal) -> str:
    """An amount as a message shows it: in cents (``0.00``), or as written when finer."""
    exponent = amount.as_tuple().exponent
    return str(amount.quantize(_CENT) if isinstance(exponent, int) and exponent > -2 else amount)


def _past_cents(amount: Decimal | None) -> bool:
    """Whether an amount has more than 2 decimal places (``1.000`` has not)."""
    if amount is None or not amount.is_finite():
        return False
    exponent = amount.as_tuple().exponent
    # most amounts are written with 2 decimals or fewer: no need to quantize them
    return not (isinstance(exponent, int) and exponent >= -2) and amount != amount.quantize(_CENT)


def _precision(adjudication: Adjudication, path: str) -> Iterator[Finding]:
    """Every amount of the adjudication is in cents (paths built only for the rare finding)."""
    amounts: list[tuple[str, Decimal | None]] = [
        ("paid_amount", adjudication.paid_amount),
        ("patient_responsibility", adjudication.patient_responsibility),
    ]
    amounts += [
        (f"adjustments[{j}].amount", a.amount) for j, a in enumerate(adjudication.adjustments)
    ]
    for k, line in enumerate(adjudication.lines):
        if _past_cents(line.paid_amount) or any(_past_cents(a.amount) for a in line.adjustments):
            amounts.append((f"lines[{k}].paid_amount", line.paid_amount))
            amounts += [
                (f"lines[{k}].adjustments[{j}].amount", a.amount)
                for j, a in enumerate(line.adjustments)
            ]
    for name, amount in amounts:
        if _past_cents(amount):
            yield finding(
                C.AMOUNT_PRECISION,
                f"{path}.{name}",
                f"{path}.{name} has more than 2 decimal places.",
            )


def balances(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Each adjudication balances by the TR3 (``gateway.models.cob``): every line's charge is
    its paid amount plus its adjustments; the claim's paid amount is the lines' paid amounts (or
    the claim's charge) less the claim-level adjustments. Amounts are in cents."""
    for path, payer, adjudication in _adjudicated(enc):
        yield from _precision(adjudication, path)
        for balance in cob.line_balances(enc, adjudication):
            if balance.balanced:
                continue
            service_line = enc.service_lines[balance.line]
            named = f" ({service_line.line_id})" if service_line.line_id else ""
            gap = balance.difference
            yield finding(
                C.COB_LINE_UNBALANCED,
                f"{path}.lines[{balance.position}].paid_amount",
                f"service_lines[{balance.line}]{named}: its charge {_amount(balance.charge)} is "
                f"not what {_who(payer)} paid, {_amount(balance.paid)}, plus its line "
                f"adjustments, {_amount(balance.adjusted)} (together "
                f"{_amount(balance.paid + balance.adjusted)}): "
                + (
                    f"{_amount(gap)} of the charge is unaccounted for."
                    if gap > 0
                    else f"they exceed the charge by {_amount(-gap)}."
                ),
            )
        claim = cob.claim_balance(enc, adjudication)
        if not claim.balanced:
            basis = "the lines' paid amounts" if claim.line_level else "the claim's charge"
            gap = claim.difference
            yield finding(
                C.COB_CLAIM_UNBALANCED,
                f"{path}.paid_amount",
                f"paid_amount {_amount(claim.paid)} of {_who(payer)} is not {basis}, "
                f"{_amount(claim.basis)}, less the claim-level adjustments, "
                f"{_amount(claim.adjusted)}, which is {_amount(claim.expected_paid)}: it is "
                + (f"{_amount(gap)} short." if gap > 0 else f"{_amount(-gap)} too much."),
            )
        if adjudication.patient_responsibility is not None:
            owed = cob.patient_responsibility_total(adjudication)
            if owed != adjudication.patient_responsibility:
                yield finding(
                    C.COB_PATIENT_RESPONSIBILITY,
                    f"{path}.patient_responsibility",
                    f"patient_responsibility {_amount(adjudication.patient_responsibility)} is "
                    f"not the sum of the PR adjustments of {_who(payer)}, {_amount(owed)}.",
                )


# ------------------------------------------------------------------------- codes and dates


def _carc(
    path: str, adjustments: tuple[AdjudicationAdjustment, ...], known: Mapping[str, object]
) -> Iterator[Finding]:
    for j, adjustment in enumerate(adjustments):
        if adjustment.reason not in known:
            yield finding(
                C.COB_CARC_UNKNOWN,
                f"{path}.adjustments[{j}].reason",
                f"{adjustment.reason!r} is not in the claim adjustment reason code list (CARC).",
            )


def _group_counts(path: str, adjustments: tuple[AdjudicationAdjustment, ...]) -> Iterator[Finding]:
    counts: dict[str, int] = {}
    for adjustment in adjustments:
        counts[adjustment.group] = counts.get(adjustment.group, 0) + 1
    for group, count in counts.items():
        if count > MAX_ADJUSTMENTS_PER_GROUP:
            yield finding(
                C.COB_ADJUSTMENT_COUNT,
                f"{path}.adjustments",
                f"{count} adjustments of group {group}; one CAS segment carries "
                f"{MAX_ADJUSTMENTS_PER_GROUP}.",
            )


def adjudication_codes(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Adjustment reasons are known CARCs (a warning), at most 6 per group; remark codes are
    at most 5 (MOA) and known RARCs (a warning)."""
    for path, _, adjudication in _adjudicated(enc):
        carcs = published.entries("carc")
        yield from _group_counts(path, adjudication.adjustments)
        yield from _carc(path, adjudication.adjustments, carcs)
        for k, line in enumerate(adjudication.lines):
            if len(line.adjustments) > MAX_ADJUSTMENTS_PER_GROUP:
                yield from _group_counts(f"{path}.lines[{k}]", line.adjustments)
            if any(a.reason not in carcs for a in line.adjustments):
                yield from _carc(f"{path}.lines[{k}]", line.adjustments, carcs)
        remarks = adjudication.remark_codes
        if len(remarks) > cob.MAX_REMARK_CODES:
            yield finding(
                C.COB_REMARK_COUNT,
                f"{path}.remark_codes",
                f"{len(remarks)} remark codes; the 837 carries at most {cob.MAX_REMARK_CODES}.",
            )
        if remarks:
            known = published.entries("rarc")
            for j, remark in enumerate(remarks):
                if remark not in known:
                    yield finding(
                        C.COB_RARC_UNKNOWN,
                        f"{path}.remark_codes[{j}]",
                        f"{remark!r} is not in the remittance advice remark code list (RARC).",
                    )


def _decided_on(path: str, day: date, first: date, today: date) -> Iterator[Finding]:
    if day < first:
        yield finding(
            C.COB_ADJUDICATION_DATE,
            path,
            f"{path} {day} is before the first date of service, {first}: a payer decides after "
            "the service.",
        )
    elif day > today:
        yield finding(C.COB_ADJUDICATION_DATE, path, f"{path} {day} is after today, {today}.")


def adjudication_dates(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """A payer's decision (claim and line) is dated on or after the first date of service and
    not in the future."""
    first: date | None = None
    for path, _, adjudication in _adjudicated(enc):
        first = first or enc.first_service_date
        yield from _decided_on(f"{path}.paid_date", adjudication.paid_date, first, ctx.today)
        for k, line in enumerate(adjudication.lines):
            if line.adjudication_date is not None:
                day_path = f"{path}.lines[{k}].adjudication_date"
                yield from _decided_on(day_path, line.adjudication_date, first, ctx.today)


# ---------------------------------------------------------------------------- Medicare (SBR05)


def _insurance_type(
    path: str, code: str | None, filing: ClaimFilingIndicator, responsibility: PayerResponsibility
) -> Iterator[Finding]:
    needed = cob.needs_insurance_type(filing, responsibility)
    if code is None:
        if needed:
            yield finding(
                C.COB_INSURANCE_TYPE_MISSING,
                path,
                f"Medicare ({filing}) is the {responsibility} payer here: SBR05 must say why "
                "Medicare is not primary.",
            )
    elif not needed:
        yield finding(
            C.FIELD_NOT_USED,
            path,
            f"{path} is sent only when Medicare is not the primary payer; it is left out here.",
        )
    elif code not in cob.MEDICARE_SECONDARY_TYPES:
        yield finding(
            C.COB_INSURANCE_TYPE,
            path,
            f"{code!r} is not a Medicare secondary payer type (SBR05).",
        )


def insurance_types(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Medicare (MA/MB) as a secondary or later payer needs SBR05 (insurance type), from the
    claim's subscriber or the other payer's; other payers that are Medicare name the member by
    an MBI."""
    sub = enc.subscriber
    yield from _insurance_type(
        "subscriber.insurance_type",
        sub.insurance_type,
        sub.claim_filing_indicator,
        sub.payer_responsibility,
    )
    for i, payer in enumerate(enc.other_payers):
        other = payer.subscriber
        path = f"other_payers[{i}].subscriber"
        yield from _insurance_type(
            f"{path}.insurance_type",
            other.insurance_type,
            other.claim_filing_indicator,
            payer.responsibility,
        )
        if other.claim_filing_indicator in cob.MEDICARE and not cl.MBI.fullmatch(other.member_id):
            yield finding(
                C.MEDICARE_ID_FORMAT,
                f"{path}.member_id",
                "The Medicare member id is not shaped like an MBI (11 characters, e.g. "
                "1EG4TE5MK73).",
            )


COB_RULES = (
    responsibility_order,
    adjudications_present,
    adjudication_lines,
    balances,
    adjudication_codes,
    adjudication_dates,
    insurance_types,
)
"""The coordination-of-benefits rules, in the order their findings are reported."""
