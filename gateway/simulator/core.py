"""The simulator's pure core: one 837 file in, its TA1 / 999 / 277CA / 835 answers out.

``respond(data, rules, state, now=...)`` validates the 837 with our own validator and answers
with a TA1 (when ISA14 asks for one, or the interchange is broken) and the 999 our
acknowledgement writer makes; the claims of accepted sets (read by
``transactions.claim837_reader``) then meet the rejection rules (``config/simulator.toml``) in a
clearinghouse 277CA and, optionally, a payer 277CA (A2 with REF*1K payer claim control numbers,
line STCs with REF*FJ); accepted claims are adjudicated into an 835 (paid, contractual CO 45,
deductible / coinsurance / copay, a line bundled away, denied with CARC and RARC, PLB interest and
recoveries) and, for a few, a later 835 that reverses the payment (CLP02 22) and pays the
corrected claim. It plays several payers: a claim to a secondary or tertiary (2000B SBR01 S or T)
is paid from its 2320/2430 data by ``secondary.adjudicate_secondary`` (never more than the balance
the payers ahead left), and a primary Medicare claim naming a secondary in 2320 is now and then
forwarded by the payer itself (CLP02 19 with NM1*TT), the secondary's own 835 following later.
Every draw comes from a random generator seeded with the rules' seed and the claim's own content,
so the same claim gets the same answer whatever file or order it comes in.
``state`` (``SimulatorState``) hands out the control numbers and remembers which interchanges
were answered. All X12 is written by ``gateway.transactions`` (``claim_ack_writer``,
``remittance_writer``, ``response_writer``) and the acknowledgement writers.

>>> answer = respond(data, load_rules(), SimulatorState(), now=datetime.now(UTC))  # doctest: +SKIP
>>> [(r.stage, r.name) for r in answer.responses]            # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from gateway.models.remittance import ProviderAdjustment
from gateway.simulator.adjudication import adjudicate_claim, corrected_claim
from gateway.simulator.rules import Rule, SimulatorRules
from gateway.simulator.secondary import (
    adjudicate_secondary,
    crossover_claim,
    crossover_target,
    is_secondary,
)
from gateway.transactions.claim837_reader import (
    LooseHeader,
    Submission,
    SubmittedClaim,
    read_loose_header,
    read_submission,
)
from gateway.transactions.claim_ack_writer import AckClaim, AckSet, write_claim_acks
from gateway.transactions.remittance_writer import (
    PaidClaim,
    RemittanceSet,
    provider_adjustment,
    write_remittances,
)
from gateway.transactions.response_writer import (
    Addressing,
    cents,
    write_interchange_rejection,
)
from gateway.validation.acks import AckError, AckHeader, ack_999, ack_ta1
from gateway.validation.validator import InterchangeResult, validate
from gateway.x12 import Severity

__all__ = [
    "Answer",
    "ClaimDecision",
    "ResponseFile",
    "SimulatorState",
    "Stage",
    "respond",
]

_REMEMBERED = 10_000  # answered interchanges kept in the state (for duplicate detection)


class Stage(StrEnum):
    """The responses in the order a clearinghouse sends them."""

    INTERCHANGE_ACK = "ta1"
    IMPLEMENTATION_ACK = "999"
    CLEARINGHOUSE_ACK = "277ca"
    PAYER_ACK = "277ca-payer"
    REMITTANCE = "835"
    ADJUSTMENT = "835-adjustment"
    CROSSOVER = "835-crossover"  # the secondary's 835 for a claim the primary forwarded


@dataclass(frozen=True, slots=True)
class ResponseFile:
    """One response: its file name, stage, X12 bytes and delay (seconds after pickup).

    Names start with the response's ISA13 (``000000012.277ca.<837 name>.x12``), so sorting by
    name gives the order they were made in.
    """

    name: str
    stage: Stage
    data: bytes
    delay: float


@dataclass(frozen=True, slots=True)
class ClaimDecision:
    """What the simulator decided for one claim (for tests, logs and reports).

    ``outcome`` is ``rejected-ta1``, ``rejected-999``, ``rejected-clearinghouse``,
    ``rejected-payer``, ``voided`` (a frequency-8 claim, answered with a reversal) or one of
    ``rules.OUTCOMES`` (``paid_in_full``, ``contractual``, ``patient_share``,
    ``line_denied``, ``denied``); for a claim to a secondary or tertiary one of
    ``rules.SECONDARY_OUTCOMES`` (``pays_balance``, ``coinsurance``, ``denied``). A claim the
    payer forwarded names the payer in ``crossed_over_to``, with what that payer decided.
    """

    claim_id: str
    outcome: str
    status: str = ""  # the rejecting STC01, or the 277CA STC01 that accepted it
    rule: str = ""  # the name of the rule that rejected it
    payer_claim_control_number: str = ""
    paid: Decimal | None = None
    reversed: bool = False
    rejected_lines: tuple[str, ...] = ()  # REF*6R of the lines a line rule hit
    crossed_over_to: str = ""  # the payer id of NM1*TT when the payer forwarded it (CLP02 19)
    secondary_outcome: str = ""  # what that payer decided, in its own later 835
    secondary_paid: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """The simulator's answer to one 837 file."""

    source: str  # the 837 file name
    isa13: str  # of the 837
    outcome: str  # answered, rejected (TA1 R or every set 999 R), duplicate, unreadable
    responses: tuple[ResponseFile, ...]
    claims: tuple[ClaimDecision, ...]
    message: str = ""


@dataclass
class SimulatorState:
    """Control numbers handed out so far, and the interchanges already answered.

    Persisted as JSON by the runner (``to_json`` / ``from_json``) so numbers stay unique across
    restarts.
    """

    interchange: int = 0  # the last ISA13 / GS06 of a response
    claim_number: int = 0  # the last payer claim control number / clearinghouse trace
    trace: int = 0  # the last 835 TRN02 / 277CA batch trace
    answered: dict[str, str] = field(default_factory=dict)  # "sender:ISA13" -> sha256

    def next_interchange(self) -> int:
        """A fresh ISA13 (1..999999999, wrapping)."""
        self.interchange = self.interchange % 999_999_999 + 1
        return self.interchange

    def next_claim_number(self) -> int:
        """A fresh claim number."""
        self.claim_number += 1
        return self.claim_number

    def next_trace(self) -> int:
        """A fresh trace number."""
        self.trace += 1
        return self.trace

    def remember(self, key: str, digest: str) -> None:
        """Record an answered interchange (the oldest are forgotten past a bound)."""
        self.answered[key] = digest
        while len(self.answered) > _REMEMBERED:
            del self.answered[next(iter(self.answered))]

    def to_json(self) -> str:
        """The state as JSON text."""
        return json.dumps(
            {
                "interchange": self.interchange,
                "claim_number": self.claim_number,
                "trace": self.trace,
                "answered": self.answered,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> SimulatorState:
        """The state from ``to_json`` text."""
        data = json.loads(text)
        return cls(
            interchange=int(data.get("interchange", 0)),
            claim_number=int(data.get("claim_number", 0)),
            trace=int(data.get("trace", 0)),
            answered={str(k): str(v) for k, v in dict(data.get("answered", {})).items()},
        )


# --- the pure core -------------------------------------------------------------------------------


def _rng(seed: int, *parts: str) -> random.Random:
    """A generator seeded with the rules' seed and ``parts`` (stable across runs and platforms)."""
    # not for secrets: a reproducible simulation is the point
    key = hashlib.sha256("|".join((str(seed), *parts)).encode()).digest()
    return random.Random(key)  # noqa: S311


def _addressing(isa: InterchangeResult, when: datetime) -> Addressing:
    """Our responses go back the way the 837 came: its receiver sends, its sender receives."""
    group = next(iter(isa.groups), None)
    return Addressing(
        sender_qualifier=isa.receiver_qualifier,
        sender_id=isa.receiver,
        receiver_qualifier=isa.sender_qualifier,
        receiver_id=isa.sender,
        gs_sender=group.receiver if group else isa.receiver,
        gs_receiver=group.sender if group else isa.sender,
        usage=isa.usage or "P",
        when=when,
    )


def _stem(name: str) -> str:
    stem = Path(name).name
    for suffix in (".x12", ".edi", ".837", ".txt", ".dat"):
        if stem.lower().endswith(suffix):
            return stem[: -len(suffix)]
    return stem


def _ta1_for_header(isa: LooseHeader, number: int, when: datetime, note: str) -> bytes:
    """A TA1 rejecting the interchange whose header is ``isa`` with ``note`` (TA105)."""
    to = Addressing(
        sender_qualifier=isa.receiver_qualifier,
        sender_id=isa.receiver,
        receiver_qualifier=isa.sender_qualifier,
        receiver_id=isa.sender,
        gs_sender=isa.receiver,
        gs_receiver=isa.sender,
        usage=isa.usage,
        when=when,
    )
    return write_interchange_rejection(to, number, isa.control, isa.date, isa.time, note)


def _ta1_duplicate(isa: InterchangeResult, number: int, when: datetime) -> bytes:
    """A TA1 rejecting a reused ISA13 with different content (note 025: duplicate)."""
    to = _addressing(isa, when)
    return write_interchange_rejection(to, number, isa.control, isa.date, isa.time, "025")


def _first_rule(
    rules: Iterable[Rule], claim: SubmittedClaim, known: frozenset[str]
) -> tuple[Rule, tuple[str, ...]] | None:
    """The first rule that rejects ``claim``, with the control numbers of the lines it hit."""
    for rule in rules:
        if not rule.matches_claim(claim, known):
            continue
        if rule.is_line_rule:
            lines = rule.matching_lines(claim)
            if lines:
                return rule, tuple(ln.control_number for ln in lines)
            continue
        return rule, ()
    return None


def _out_of_balance(claim: SubmittedClaim) -> bool:
    return bool(claim.lines) and sum((ln.charge for ln in claim.lines), Decimal(0)) != (
        claim.total_charge
    )


def respond(
    data: bytes,
    rules: SimulatorRules,
    state: SimulatorState,
    *,
    now: datetime,
    name: str = "claims.x12",
) -> Answer:
    """Answer one 837 file; ``state`` hands out control numbers (see the module docstring)."""
    digest = hashlib.sha256(data).hexdigest()
    stem = _stem(name)
    result = validate(data, file=name)
    delays = rules.delays
    if not result.interchanges:
        loose = read_loose_header(data)
        if loose is None:
            return Answer(
                name,
                "",
                "unreadable",
                (),
                (),
                "no readable ISA interchange header: no one to answer",
            )
        number = state.next_interchange()
        payload = _ta1_for_header(loose, number, now, "022")
        response = ResponseFile(
            f"{number:09d}.{Stage.INTERCHANGE_ACK.value}.{stem}.x12",
            Stage.INTERCHANGE_ACK,
            payload,
            delays.interchange_ack,
        )
        return Answer(
            name, loose.control, "rejected", (response,), (),
            "the ISA is not a valid fixed-length 5010 header: rejected with a TA1 (note 022)",
        )  # fmt: skip
    isa = result.interchanges[0]
    to = _addressing(isa, now)
    responses: list[ResponseFile] = []

    def add(stage: Stage, payload: bytes, number: int, delay: float) -> None:
        responses.append(
            ResponseFile(f"{number:09d}.{stage.value}.{stem}.x12", stage, payload, delay)
        )

    key = f"{isa.sender.strip()}:{isa.control}"
    seen = state.answered.get(key)
    if seen == digest:
        return Answer(
            name, isa.control, "duplicate", (), (), "this interchange was answered before"
        )
    if seen is not None:
        number = state.next_interchange()
        add(
            Stage.INTERCHANGE_ACK,
            _ta1_duplicate(isa, number, now),
            number,
            delays.interchange_ack,
        )
        return Answer(
            name, isa.control, "rejected", tuple(responses), (),
            f"ISA13 {isa.control} was used before for a different interchange (TA1 note 025)",
        )  # fmt: skip
    state.remember(key, digest)

    broken = any(
        d.severity is Severity.ERROR and d.code.vocabulary == "TA1"
        for i in result.interchanges
        for d in i.defects
    )
    if broken or isa.ack_requested or rules.always_ta1:
        number = state.next_interchange()
        header = AckHeader(number, number, now, isa.usage or None)
        add(Stage.INTERCHANGE_ACK, ack_ta1(result, header).encode(), number, delays.interchange_ack)
    submission = read_submission(data)
    if broken:
        return Answer(
            name, isa.control, "rejected", tuple(responses),
            tuple(ClaimDecision(c.claim_id, "rejected-ta1") for c in submission.claims),
            "the interchange envelope is broken: rejected with a TA1",
        )  # fmt: skip
    number = state.next_interchange()
    try:
        text = ack_999(result, AckHeader(number, number, now, isa.usage or None), source=data)
    except AckError as exc:
        return Answer(name, isa.control, "rejected", tuple(responses), (), str(exc))
    add(Stage.IMPLEMENTATION_ACK, text.encode(), number, delays.implementation_ack)

    accepted_sets = {
        (g.control, s.control)
        for g in result.groups
        if g.functional_id == "HC" and not g.defects
        for s in g.sets
        if s.accepted
    }
    decisions: dict[int, ClaimDecision] = {}
    forwarded: list[SubmittedClaim] = []
    for c in submission.claims:
        if (c.group_control, c.set_control) in accepted_sets:
            forwarded.append(c)
        else:
            decisions[id(c)] = ClaimDecision(c.claim_id, "rejected-999")
    if not forwarded:
        return Answer(
            name, isa.control, "rejected", tuple(responses),
            tuple(decisions[id(c)] for c in submission.claims),
            "every transaction set was rejected by the 999",
        )  # fmt: skip

    known = rules.known_payers
    two_levels = rules.payer_acknowledgements
    clearinghouse_rules = [r for r in rules.rules if r.level == "clearinghouse" or not two_levels]
    payer_rules = [r for r in rules.rules if r.level == "payer"] if two_levels else []
    traces = {id(c): f"CH{state.next_claim_number():010d}" for c in forwarded}
    day = now.strftime("%y%j")

    def rejection(c: SubmittedClaim, rule: Rule, lines: tuple[str, ...], level: str) -> AckClaim:
        decisions[id(c)] = ClaimDecision(
            c.claim_id, f"rejected-{level}", rule.status, rule.name, rejected_lines=lines
        )
        hit = tuple((ln, rule.status) for ln in c.lines if lines and ln.control_number in lines)
        return AckClaim(c, rule.status, False, traces[id(c)], rejected_lines=hit)

    # The clearinghouse: its rules, then A1 (received, forwarded) or A2 + REF*1K in one step.
    first: list[AckClaim] = []
    to_payer: list[SubmittedClaim] = []
    pcns: dict[int, str] = {}
    for c in forwarded:
        found = _first_rule(clearinghouse_rules, c, known)
        if found is None and _out_of_balance(c):
            out_of_balance = Rule("claim total differs from its lines", "clearinghouse", "A7:400")
            found = (out_of_balance, ())
        if found is not None:
            first.append(rejection(c, *found, "clearinghouse"))
            continue
        to_payer.append(c)
        if two_levels:
            first.append(AckClaim(c, "A1:19", True, traces[id(c)]))
        else:
            pcns[id(c)] = f"{day}{state.next_claim_number():08d}"
            first.append(AckClaim(c, "A2:20", True, traces[id(c)], pcns[id(c)]))
    ack_sets = _ack_sets(
        first,
        submission,
        state,
        lambda c: ("AY", rules.clearinghouse_name, "46", rules.clearinghouse_id),
    )
    number = state.next_interchange()
    add(Stage.CLEARINGHOUSE_ACK, write_claim_acks(to, number, ack_sets), number,
        delays.clearinghouse_ack)  # fmt: skip

    adjudicate: list[SubmittedClaim] = to_payer
    if two_levels and to_payer:
        second: list[AckClaim] = []
        adjudicate = []
        for c in to_payer:
            found = _first_rule(payer_rules, c, known)
            if found is not None:
                second.append(rejection(c, *found, "payer"))
                continue
            pcns[id(c)] = f"{day}{state.next_claim_number():08d}"
            second.append(AckClaim(c, "A2:20", True, traces[id(c)], pcns[id(c)]))
            adjudicate.append(c)
        ack_sets = _ack_sets(
            second,
            submission,
            state,
            lambda c: ("PR", rules.payer_name(c.payer_id, c.payer_name), "PI", c.payer_id),
        )
        number = state.next_interchange()
        add(Stage.PAYER_ACK, write_claim_acks(to, number, ack_sets), number, delays.payer_ack)

    # The payer: adjudicate into 835s, one set per (payer, payee); a few reversed later.
    paid_claims: dict[tuple[str, str], list[PaidClaim]] = {}
    adjustments: dict[tuple[str, str], list[PaidClaim]] = {}
    crossovers: dict[tuple[str, str], list[PaidClaim]] = {}
    for c in adjudicate:
        rng = _rng(rules.seed, c.claim_id, c.digest)
        payer_key = (c.payer_id, c.billing_npi)
        secondary = is_secondary(c)
        decide = adjudicate_secondary if secondary else adjudicate_claim
        if c.frequency == "8":
            # a void takes back the earlier payment (CLP02 22, the original claim number)
            _, paid = decide(
                c, rules, rng, c.original_reference or pcns[id(c)],
                "pays_balance" if secondary else "contractual",
            )  # fmt: skip
            voided = replace(paid, status="22", sign=-1)
            paid_claims.setdefault(payer_key, []).append(voided)
            decisions[id(c)] = ClaimDecision(
                c.claim_id, "voided", "A2:20", payer_claim_control_number=pcns[id(c)],
                paid=voided.paid,
            )  # fmt: skip
            continue
        outcome, paid = decide(c, rules, rng, pcns[id(c)])
        crossed: PaidClaim | None = None
        target = crossover_target(c)
        if target is not None and paid.status == "1" and paid.patient_responsibility > 0:
            # Medicare forwards the claim to the supplement itself, now and then (seeded)
            draw = _rng(rules.seed, c.claim_id, c.digest, "crossover")
            if Decimal(draw.random() * 100) < rules.adjudication.secondary.crossover_percent:
                carrier = (rules.payer_name(target.payer_id, target.payer_name), target.payer_id)
                paid = replace(paid, status="19", forwarded_to=carrier)
                claim = crossover_claim(paid, target, now.date())
                pcn = f"{day}{state.next_claim_number():08d}"
                second_outcome, crossed = adjudicate_secondary(claim, rules, draw, pcn)
                crossovers.setdefault((claim.payer_id, c.billing_npi), []).append(crossed)
        reverse = (
            crossed is None
            and outcome in ("contractual", "patient_share")
            and any(a.group == "CO" and a.amount > 0 for ln in paid.lines for a in ln.adjustments)
            and Decimal(rng.random() * 100) < rules.adjudication.reversal_percent
        )
        paid_claims.setdefault(payer_key, []).append(paid)
        if reverse:
            corrected = corrected_claim(paid, f"{day}{state.next_claim_number():08d}")
            adjustments.setdefault(payer_key, []).extend(
                [replace(paid, status="22", sign=-1), corrected]
            )
        decisions[id(c)] = ClaimDecision(
            c.claim_id, outcome, "A2:20", payer_claim_control_number=pcns[id(c)],
            paid=(corrected if reverse else paid).paid, reversed=reverse,
        )  # fmt: skip
        if crossed is not None:
            decisions[id(c)] = replace(
                decisions[id(c)], crossed_over_to=crossed.claim.payer_id,
                secondary_outcome=second_outcome, secondary_paid=crossed.paid,
            )  # fmt: skip
    fiscal = date(now.year, 12, 31)  # PLB02: the end of the payer's fiscal year
    if paid_claims:
        sets = []
        for (payer_id, npi), claims in paid_claims.items():
            rng = _rng(rules.seed, digest, "remittance", payer_id, npi)
            total = sum((pc.paid for pc in claims), Decimal(0))
            plb: list[ProviderAdjustment] = []
            pcn = claims[0].payer_claim_control_number
            adj = rules.adjudication
            if total > 0 and Decimal(rng.random() * 100) < adj.interest_percent:
                interest = max(Decimal("0.01"), cents(total * Decimal("0.01")))
                plb.append(provider_adjustment(npi, fiscal, "L6", pcn, -interest))
            if total >= 1 and Decimal(rng.random() * 100) < adj.recovery_percent:
                recovery = min(cents(total * Decimal("0.05")), Decimal("25.00"))
                reference = f"OVP{state.next_trace():08d}"
                plb.append(provider_adjustment(npi, fiscal, "WO", reference, recovery))
            sets.append(_remittance(c_first=claims[0], claims=claims, rules=rules, state=state,
                                    plb=plb, fiscal=fiscal))  # fmt: skip
        number = state.next_interchange()
        add(Stage.REMITTANCE, write_remittances(to, number, sets), number, delays.remittance)
    if adjustments:
        sets = []
        for claims in adjustments.values():
            corrected_paid = sum((pc.paid for pc in claims), Decimal(0))
            interest = max(Decimal("0.01"), cents(corrected_paid * Decimal("0.02")))
            npi, pcn = claims[0].claim.billing_npi, claims[-1].payer_claim_control_number
            plb = [provider_adjustment(npi, fiscal, "L6", pcn, -interest)]
            sets.append(_remittance(c_first=claims[0], claims=claims, rules=rules, state=state,
                                    plb=plb, fiscal=fiscal))  # fmt: skip
        number = state.next_interchange()
        add(Stage.ADJUSTMENT, write_remittances(to, number, sets), number, delays.adjustment)
    if crossovers:  # each secondary pays the claims forwarded to it, in an 835 of its own
        sets = [
            _remittance(c_first=claims[0], claims=claims, rules=rules, state=state, plb=[],
                        fiscal=fiscal)
            for claims in crossovers.values()
        ]  # fmt: skip
        number = state.next_interchange()
        add(Stage.CROSSOVER, write_remittances(to, number, sets), number, delays.crossover)

    rejected = sum(1 for d in decisions.values() if d.outcome.startswith("rejected"))
    return Answer(
        name, isa.control, "answered", tuple(responses),
        tuple(decisions[id(c)] for c in submission.claims),
        f"{len(submission.claims)} claims: {rejected} rejected, {len(adjudicate)} adjudicated",
    )  # fmt: skip


def _ack_sets(
    answers: list[AckClaim],
    submission: Submission,
    state: SimulatorState,
    source: Callable[[SubmittedClaim], tuple[str, str, str, str]],
) -> list[AckSet]:
    """277CA sets: one per (source, 837 set), in the order the claims came."""
    batches = {(s.group_control, s.set_control): s for s in submission.sets}
    grouped: dict[tuple[Any, ...], list[AckClaim]] = {}
    for a in answers:
        c = a.claim
        grouped.setdefault((*source(c), c.group_control, c.set_control), []).append(a)
    sets = []
    for (qualifier, name, id_qualifier, ident, gs06, st02), claims in grouped.items():
        batch = batches.get((gs06, st02))
        sets.append(
            AckSet(
                source_qualifier=qualifier,
                source_name=name,
                source_id_qualifier=id_qualifier,
                source_id=ident,
                receiver_name=batch.submitter_name if batch else "",
                receiver_id=batch.submitter_id if batch else "",
                batch_id=batch.batch_id if batch else "",
                trace=f"T{state.next_trace():010d}",
                claims=tuple(claims),
            )
        )
    return sets


def _remittance(
    *,
    c_first: PaidClaim,
    claims: list[PaidClaim],
    rules: SimulatorRules,
    state: SimulatorState,
    plb: list[ProviderAdjustment],
    fiscal: date,
) -> RemittanceSet:
    c = c_first.claim
    s = RemittanceSet(
        payer_id=c.payer_id,
        payer_name=rules.payer_name(c.payer_id, c.payer_name),
        payee_npi=c.billing_npi,
        payee_name=c.billing_name,
        trace=f"EFT{state.next_trace():010d}",
        claims=tuple(claims),
        provider_adjustments=tuple(plb),
        # a payer of claims with several payers names itself (N1*PR N104): which leg it answers
        identify_payer=any(pc.claim.other_payers or is_secondary(pc.claim) for pc in claims),
    )
    if s.payment < 0:  # a negative balance is carried forward (PLB FB), never paid out
        carried = provider_adjustment(c.billing_npi, fiscal, "FB", s.trace, s.payment)
        s = replace(s, provider_adjustments=(*s.provider_adjustments, carried))
    return s
