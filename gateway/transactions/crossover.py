"""Crossover: the claim to the next payer, built from the previous payer's 835 claim payment.

Pure code. :func:`next_payer_encounter` takes the encounter a payer adjudicated and that payer's
835 claim payment (CLP, its CAS, its SVC lines) and returns the encounter for the next payer in
order of responsibility: that payer and its subscriber in place of the claim's own (with
``payer_responsibility`` its place), and ``other_payers`` holding the payers ahead of it, the one
that just paid with its adjudication from the 835 (claim-level CAS, CLP04 as ``AMT*D``, each SVC
matched to its line by REF*6R with SVC03 as ``SVD02`` and its CAS, the payment date as
``DTP*573``, CLP07 as its claim control number, CLP05 as ``AMT*EAF``), and the payers after it
without any. The 837 builders write the 2320/2330/2430 loops from that.

An 835 that cannot be carried over honestly (a charge that is not the billed one, a line that
matches none we sent, no payment date) raises :class:`CrossoverError` saying where and what to
do; amounts are never made up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.models.cob import next_payer, rank
from gateway.models.encounter import Encounter, OtherPayer
from gateway.models.encounter_types import PayerResponsibility, Relationship
from gateway.models.remittance import Adjustment, Claim, RemittanceHeader, ServiceLine
from gateway.transactions.claim837_common import line_control_number

__all__ = [
    "SETTLING_OUTCOMES",
    "CrossoverError",
    "crossover_payer_id",
    "forwarded_encounter",
    "left_for_next_payer",
    "leg_of",
    "legs_named",
    "next_payer_encounter",
    "next_payer_named",
    "settles_for_crossover",
]

#: CLP02 codes by the place they say the payer processed the claim in (1/19 primary...).
PROCESSED_AS: dict[str, int] = {"1": 1, "2": 2, "3": 3, "19": 1, "20": 2, "21": 3}
#: CLP02 codes saying the payer forwarded the claim to the next payer itself.
FORWARDED = frozenset({"19", "20", "21"})
#: The 835 outcomes (the reader's ``claim_outcome``) that settle a payer's share.
SETTLING_OUTCOMES = frozenset({"paid", "partially_paid", "patient_responsibility"})


class CrossoverError(ValueError):
    """The next payer's claim cannot be built from this 835 (the message says where and why)."""


def leg_of(responsibility: str | PayerResponsibility) -> int:
    """The leg number of a payer's place: primary 1, secondary 2, tertiary 3 ... (unknown: 1)."""
    try:
        place = PayerResponsibility(str(responsibility))
    except ValueError:
        return 1
    return (rank(place) or 0) + 1


def legs_named(encounter: Mapping[str, Any]) -> tuple[int, int | None]:
    """The leg of an encounter's own payer and of the next payer it names (None: none), read
    from the encounter as JSON (what the ledger stores), without validating it."""
    subscriber = encounter.get("subscriber") or {}
    own = leg_of(str(subscriber.get("payer_responsibility", "primary")))
    after = [
        leg_of(str(p.get("responsibility", "")))
        for p in encounter.get("other_payers") or ()
        if isinstance(p, Mapping)
    ]
    later = [leg for leg in after if leg > own]
    return own, (min(later) if later else None)


def next_payer_named(encounter: Mapping[str, Any]) -> str | None:
    """The payer id of the next payer an encounter (as JSON) names after its own, else None: an
    answer from that payer may come before the previous payer's (it forwarded the claim)."""
    _, following = legs_named(encounter)
    if following is None:
        return None
    for payer in encounter.get("other_payers") or ():
        if isinstance(payer, Mapping) and leg_of(str(payer.get("responsibility", ""))) == following:
            found = (payer.get("payer") or {}).get("id")
            return str(found) if found else None
    return None


def settles_for_crossover(claim: Claim) -> bool:
    """Whether an 835 claim payment settles the payer's share so that the next payer is billed:
    paid, partly paid, nothing payable because the patient owes it, or denied with patient
    responsibility (CLP05 above zero) -- and, unless the payer forwarded the claim itself,
    something is left for the next payer (``left_for_next_payer``): a primary that paid the
    whole charge, or paid all but its contractual write-off, leaves a secondary nothing to pay,
    and billing it would only bring back a zero payment."""
    outcome = str(claim.outcome.value)
    owed = claim.patient_responsibility or Decimal(0)
    settles = outcome in SETTLING_OUTCOMES or (
        outcome == "denied" and claim.status_code in PROCESSED_AS and owed > 0
    )
    if not settles:
        return False
    return claim.status_code in FORWARDED or left_for_next_payer(claim) > 0


def left_for_next_payer(claim: Claim) -> Decimal:
    """What an 835 claim payment leaves unpaid beyond the payer's contractual write-offs: the
    charge (CLP03) less the payment (CLP04) less every CO adjustment, claim and line level."""
    contractual = sum((a.amount for a in claim.adjustments if a.group == "CO"), Decimal(0)) + sum(
        (a.amount for line in claim.lines for a in line.adjustments if a.group == "CO"),
        Decimal(0),
    )
    return claim.total_charge - claim.paid_amount - contractual


def crossover_payer_id(claim: Claim) -> str | None:
    """The payer a CLP02 19/20/21 claim was forwarded to (NM1*TT NM109, else its name); None when
    the claim was not forwarded."""
    if claim.status_code not in FORWARDED:
        return None
    for entity in claim.other_entities:
        if entity.entity == "TT":
            return entity.identifier or entity.last_name or ""
    return ""


def next_payer_encounter(
    encounter: Encounter,
    claim: Claim,
    header: RemittanceHeader,
    *,
    paid_date: date | None = None,
) -> Encounter:
    """The encounter for the next payer after the one whose 835 claim payment is ``claim``.

    ``header`` gives the payment date (BPR16, else DTM*405 production date); ``paid_date`` is
    used when the 835 has neither. Raises :class:`CrossoverError` when the encounter names no
    next payer or the 835 cannot be carried over.
    """
    following = next_payer(encounter)
    if following is None:
        raise CrossoverError(
            f"claim {encounter.claim_id}: the encounter names no payer after its "
            f"{encounter.subscriber.payer_responsibility} payer (other_payers)"
        )
    when = header.payment_date or header.production_date or paid_date
    if when is None:
        raise CrossoverError(
            f"835 claim {claim.claim_id}: no payment date (BPR16) nor production date (DTM*405) "
            "to send as DTP*573; post the adjudication by hand (other_payers[].adjudication)"
        )
    return _next_encounter(encounter, following, _adjudication(encounter, claim, when))


def forwarded_encounter(encounter: Encounter) -> Encounter:
    """The next payer's encounter when the previous payer's decision is not known to us (it
    forwarded the claim itself and its 835 never came): the previous payer without adjudication.
    Raises :class:`CrossoverError` when the encounter names no next payer."""
    following = next_payer(encounter)
    if following is None:
        raise CrossoverError(
            f"claim {encounter.claim_id}: the encounter names no payer after its "
            f"{encounter.subscriber.payer_responsibility} payer (other_payers)"
        )
    return _next_encounter(encounter, following, None)


def _next_encounter(
    encounter: Encounter, following: OtherPayer, adjudication: dict[str, Any] | None
) -> Encounter:
    data = encounter.model_dump(mode="json")
    own = encounter.subscriber.payer_responsibility
    this_payer: dict[str, Any] = {
        "responsibility": str(own),
        "payer": data["payer"],
        "subscriber": _as_other_subscriber(data["subscriber"], encounter.patient_relationship),
        "partner": encounter.partner,
        "adjudication": adjudication,
    }
    others: list[dict[str, Any]] = []
    for other, dumped in zip(encounter.other_payers, data["other_payers"], strict=True):
        if other is following:
            continue
        if leg_of(other.responsibility) > leg_of(own):
            dumped = dumped | {"adjudication": None}  # not adjudicated yet: after the next one
        others.append(dumped)
    others.append(this_payer)
    others.sort(key=lambda p: leg_of(p["responsibility"]))
    patient, subscriber = _parties(encounter, data, following)
    data.update(
        payer=following.payer.model_dump(mode="json"),
        subscriber=subscriber,
        patient=patient,
        other_payers=others,
        partner=following.partner or encounter.partner,
        frequency="1",
        original_payer_claim_number=None,
    )
    return Encounter.model_validate(data)


def _parties(
    encounter: Encounter, data: dict[str, Any], following: OtherPayer
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The next claim's patient (None when its subscriber is the patient) and subscriber."""
    insured = following.subscriber.model_dump(mode="json")
    relationship = following.subscriber.relationship_to_patient
    # The patient's own demographics: the patient block, or the subscriber when self.
    person = data["patient"] if data["patient"] is not None else data["subscriber"]
    subscriber = {
        key: insured.get(key)
        for key in (
            "member_id", "last_name", "first_name", "middle_name", "suffix", "birth_date",
            "gender", "address", "group_number", "group_name", "claim_filing_indicator",
        )
    }  # fmt: skip
    subscriber["payer_responsibility"] = str(following.responsibility)
    if relationship is Relationship.SELF:
        for key in ("birth_date", "gender", "address"):
            subscriber[key] = subscriber[key] or person.get(key)
        return None, subscriber
    patient = {
        key: person.get(key)
        for key in ("last_name", "first_name", "middle_name", "suffix", "birth_date", "gender")
    }
    patient["address"] = person.get("address")
    patient["death_date"] = person.get("death_date")
    patient["relationship_to_subscriber"] = str(relationship)
    if None in (patient["birth_date"], patient["gender"], patient["address"]):
        raise CrossoverError(
            f"claim {encounter.claim_id}: the next payer's subscriber is not the patient, and "
            "the patient's birth date, gender or address is not known (subscriber)"
        )
    return patient, subscriber


def _as_other_subscriber(subscriber: dict[str, Any], relationship: Relationship) -> dict[str, Any]:
    kept = {k: v for k, v in subscriber.items() if k != "payer_responsibility"}
    return kept | {"relationship_to_patient": str(relationship)}


def _adjudication(encounter: Encounter, claim: Claim, when: date) -> dict[str, Any]:
    billed = encounter.computed_total_charge
    if claim.total_charge != billed:
        raise CrossoverError(
            f"835 claim {claim.claim_id} CLP03: the charge {claim.total_charge} is not the "
            f"{billed} billed; the next payer's amounts would not balance: ask the payer, or "
            "post its adjudication by hand"
        )
    return {
        "paid_amount": str(claim.paid_amount),
        "paid_date": when.isoformat(),
        "payer_claim_control_number": claim.payer_claim_control_number or None,
        "patient_responsibility": (
            str(claim.patient_responsibility) if claim.patient_responsibility is not None else None
        ),
        "adjustments": _adjustments(claim.adjustments),
        "lines": _lines(encounter, claim),
        "remark_codes": [r.code for r in claim.remarks if r.source in ("MOA", "MIA")][:5],
    }


def _lines(encounter: Encounter, claim: Claim) -> list[dict[str, Any]]:
    if not claim.lines:
        return []
    numbers = {line_control_number(encounter, i): i for i in range(len(encounter.service_lines))}
    matched: dict[int, ServiceLine] = {}
    for position, svc in enumerate(claim.lines):
        index = _line_index(encounter, claim, svc, position, numbers)
        if index in matched:
            raise CrossoverError(
                f"835 claim {claim.claim_id} SVC {position + 1}: line {index + 1} is paid twice; "
                "post its adjudication by hand (other_payers[].adjudication.lines)"
            )
        billed = encounter.service_lines[index].charge
        if svc.charge != billed:
            raise CrossoverError(
                f"835 claim {claim.claim_id} SVC {position + 1} SVC02: the charge {svc.charge} is "
                f"not the {billed} billed on line {index + 1}"
            )
        matched[index] = svc
    missing = [i + 1 for i in range(len(encounter.service_lines)) if i not in matched]
    if missing:
        raise CrossoverError(
            f"835 claim {claim.claim_id}: no SVC for line(s) {missing}; the next payer needs "
            "every line's adjudication (2430): post it by hand"
        )
    return [_line(encounter, i, matched[i]) for i in sorted(matched)]


def _line_index(
    encounter: Encounter, claim: Claim, svc: ServiceLine, position: int, numbers: dict[str, int]
) -> int:
    """The 0-based encounter line an SVC pays: by REF*6R, else by position when every line was
    answered in order (no REF*6R at all)."""
    if svc.line_control_number:
        found = numbers.get(svc.line_control_number)
        if found is None:
            raise CrossoverError(
                f"835 claim {claim.claim_id} SVC {position + 1} REF*6R "
                f"{svc.line_control_number}: not a line control number we sent"
            )
        return found
    if len(claim.lines) == len(encounter.service_lines) and not any(
        s.line_control_number for s in claim.lines
    ):
        return position
    raise CrossoverError(
        f"835 claim {claim.claim_id} SVC {position + 1}: no REF*6R, and the lines cannot be "
        "matched by position; post the adjudication by hand"
    )


def _line(encounter: Encounter, index: int, svc: ServiceLine) -> dict[str, Any]:
    line = encounter.service_lines[index]
    procedure = svc.procedure
    code = modifiers = revenue = None
    if procedure is not None and procedure.qualifier == "NU":
        revenue = procedure.code
    elif procedure is not None:
        code, modifiers = procedure.code, list(procedure.modifiers)
    return {
        "line_id": line.line_id or str(index + 1),
        "paid_amount": str(svc.paid),
        "procedure_code": code,
        "modifiers": modifiers or [],
        "revenue_code": revenue or (svc.revenue_code or None),
        "units": str(svc.units) if svc.units is not None else None,
        "adjustments": _adjustments(svc.adjustments),
        "adjudication_date": None,
    }


def _adjustments(adjustments: Sequence[Adjustment]) -> list[dict[str, Any]]:
    return [
        {
            "group": a.group,
            "reason": a.reason,
            "amount": str(a.amount),
            "quantity": str(a.quantity) if a.quantity is not None else None,
        }
        for a in adjustments
    ]
