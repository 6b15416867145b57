"""The clearinghouse and payer simulator: 837 files in, TA1 / 999 / 277CA / 835 responses out.

Two layers:

- ``respond(data, rules, state, now=...)`` is the pure core. It validates the 837 with our own
  validator and answers with a TA1 (when ISA14 asks for one, or the interchange is broken) and the
  999 our acknowledgement writer makes; the claims of accepted sets then meet the rejection rules
  (``config/simulator.toml``) in a clearinghouse 277CA and, optionally, a payer 277CA (A2 with
  REF*1K payer claim control numbers, line STCs with REF*FJ); accepted claims are adjudicated
  into an 835 (paid, contractual CO 45, deductible / coinsurance / copay, a line bundled away,
  denied with CARC and RARC, PLB interest and recoveries) and, for a few, a later 835 that
  reverses the payment (CLP02 22) and pays the corrected claim. Every draw comes from a random
  generator seeded with the rules' seed and the claim's own content, so the same claim gets the
  same answer whatever file or order it comes in. ``state`` (``SimulatorState``) hands out the
  control numbers and remembers which interchanges were answered.
- ``Simulator`` is the async runner (``gateway simulate``, ``gateway demo``): it takes each
  complete 837 from the pickup folder once (atomic rename into ``<work>/processed``), keeps the
  answer as a pending bundle, and drops each response atomically into the drop folder when its
  delay has passed. ``run_once()`` answers what is waiting and delivers everything at once.

>>> answer = respond(data, load_rules(), SimulatorState(), now=datetime.now(UTC))  # doctest: +SKIP
>>> [(r.stage, r.name) for r in answer.responses]            # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import structlog

from gateway.config import ConfigError, Settings
from gateway.service.files import (
    SettleTracker,
    atomic_write,
    ensure_private_dir,
    move_no_overwrite,
    read_file_sync,
    write_new_file,
)
from gateway.service.simulator_claims import Submission, SubmittedClaim, read_submission
from gateway.service.simulator_rules import (
    OUTCOMES,
    Rule,
    SimulatorRules,
    load_rules,
)
from gateway.service.simulator_x12 import (
    AckClaim,
    AckSet,
    Addressing,
    LineAdjustment,
    PaidClaim,
    PaidLine,
    ProviderAdjustment,
    RemittanceSet,
    cents,
    write_claim_acks,
    write_remittances,
)
from gateway.service.transports import DirectoryTransport, transport_from_config
from gateway.validation.acks import AckError, AckHeader, ack_999, ack_ta1
from gateway.validation.validator import InterchangeResult, validate
from gateway.x12 import Delimiters, Severity, Writer

__all__ = [
    "Answer",
    "ClaimDecision",
    "ResponseFile",
    "Simulator",
    "SimulatorState",
    "Stage",
    "folders_from_settings",
    "load_rules",
    "respond",
]

_log = structlog.stdlib.get_logger("gateway.simulator")
HUNDRED = Decimal(100)
MAX_837_BYTES = 100 * 1024 * 1024
_REMEMBERED = 10_000  # answered interchanges kept in the state (for duplicate detection)


class Stage(StrEnum):
    """The responses in the order a clearinghouse sends them."""

    INTERCHANGE_ACK = "ta1"
    IMPLEMENTATION_ACK = "999"
    CLEARINGHOUSE_ACK = "277ca"
    PAYER_ACK = "277ca-payer"
    REMITTANCE = "835"
    ADJUSTMENT = "835-adjustment"


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
    ``simulator_rules.OUTCOMES`` (``paid_in_full``, ``contractual``, ``patient_share``,
    ``line_denied``, ``denied``).
    """

    claim_id: str
    outcome: str
    status: str = ""  # the rejecting STC01, or the 277CA STC01 that accepted it
    rule: str = ""  # the name of the rule that rejected it
    payer_claim_control_number: str = ""
    paid: Decimal | None = None
    reversed: bool = False
    rejected_lines: tuple[str, ...] = ()  # REF*6R of the lines a line rule hit


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


def _ta1_for_fields(isa: dict[str, str], number: int, when: datetime, note: str) -> bytes:
    """A TA1 rejecting the interchange whose ISA fields are ``isa`` with ``note`` (TA105)."""
    w = Writer(Delimiters())
    return (
        w.isa(
            "00", "", "00", "", isa["receiver_qualifier"], isa["receiver"],
            isa["sender_qualifier"], isa["sender"], when.strftime("%y%m%d"),
            when.strftime("%H%M"), "00501", f"{number:09d}", "0", isa["usage"] or "P",
        )
        + w.segment("TA1", isa["control"], isa["date"], isa["time"], "R", note)
        + w.segment("IEA", "0", f"{number:09d}")
    ).encode()  # fmt: skip


def _ta1_duplicate(isa: InterchangeResult, number: int, when: datetime) -> bytes:
    """A TA1 rejecting a reused ISA13 with different content (note 025: duplicate)."""
    fields = {
        "sender_qualifier": isa.sender_qualifier,
        "sender": isa.sender,
        "receiver_qualifier": isa.receiver_qualifier,
        "receiver": isa.receiver,
        "control": isa.control,
        "date": isa.date,
        "time": isa.time,
        "usage": isa.usage,
    }
    return _ta1_for_fields(fields, number, when, "025")


_QUALIFIER = re.compile(r"[0-9A-Z]{2}")
_ISA_ID = re.compile(r"[0-9A-Za-z .,&'()/-]{1,15}")


def _loose_isa(data: bytes) -> dict[str, str] | None:
    """The ISA fields of a header that is not fixed-length, when they are good enough to answer.

    Many senders trim the padding of ISA06/ISA08; a clearinghouse still knows who sent it and
    rejects the interchange with a TA1 instead of staying silent.
    """
    text = data[:512].decode("latin-1").lstrip("\ufeff \r\n\t")
    if len(text) < 4 or not text.startswith("ISA") or text[3].isalnum():
        return None
    fields = text.split(text[3])
    if len(fields) < 17:
        return None
    found = {
        "sender_qualifier": fields[5].strip(),
        "sender": fields[6].strip(),
        "receiver_qualifier": fields[7].strip(),
        "receiver": fields[8].strip(),
        "date": fields[9].strip(),
        "time": fields[10].strip(),
        "control": fields[13].strip(),
        "usage": fields[15].strip()[:1],
    }
    good = (
        _QUALIFIER.fullmatch(found["sender_qualifier"])
        and _QUALIFIER.fullmatch(found["receiver_qualifier"])
        and _ISA_ID.fullmatch(found["sender"])
        and _ISA_ID.fullmatch(found["receiver"])
        and re.fullmatch(r"[0-9]{6}", found["date"])
        and re.fullmatch(r"[0-9]{4}", found["time"])
        and re.fullmatch(r"[0-9]{9}", found["control"])
        and found["usage"] in ("P", "T", "I")
    )
    return found if good else None


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
        loose = _loose_isa(data)
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
        payload = _ta1_for_fields(loose, number, now, "022")
        response = ResponseFile(
            f"{number:09d}.{Stage.INTERCHANGE_ACK.value}.{stem}.x12",
            Stage.INTERCHANGE_ACK,
            payload,
            delays.interchange_ack,
        )
        return Answer(
            name, loose["control"], "rejected", (response,), (),
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
    for c in adjudicate:
        rng = _rng(rules.seed, c.claim_id, c.digest)
        payer_key = (c.payer_id, c.billing_npi)
        if c.frequency == "8":
            # a void takes back the earlier payment (CLP02 22, the original claim number)
            _, paid = _adjudicate(c, rules, rng, c.original_reference or pcns[id(c)], "contractual")
            voided = replace(paid, status="22", sign=-1)
            paid_claims.setdefault(payer_key, []).append(voided)
            decisions[id(c)] = ClaimDecision(
                c.claim_id, "voided", "A2:20", payer_claim_control_number=pcns[id(c)],
                paid=voided.paid,
            )  # fmt: skip
            continue
        outcome, paid = _adjudicate(c, rules, rng, pcns[id(c)])
        reverse = (
            outcome in ("contractual", "patient_share")
            and any(a.group == "CO" and a.amount > 0 for ln in paid.lines for a in ln.adjustments)
            and Decimal(rng.random() * 100) < rules.adjudication.reversal_percent
        )
        paid_claims.setdefault(payer_key, []).append(paid)
        if reverse:
            corrected = _corrected(paid, f"{day}{state.next_claim_number():08d}")
            adjustments.setdefault(payer_key, []).extend(
                [replace(paid, status="22", sign=-1), corrected]
            )
        decisions[id(c)] = ClaimDecision(
            c.claim_id, outcome, "A2:20", payer_claim_control_number=pcns[id(c)],
            paid=(corrected if reverse else paid).paid, reversed=reverse,
        )  # fmt: skip
    if paid_claims:
        sets = []
        for (payer_id, npi), claims in paid_claims.items():
            rng = _rng(rules.seed, digest, "remittance", payer_id, npi)
            total = sum((pc.paid for pc in claims), Decimal(0))
            plb: list[ProviderAdjustment] = []
            adj = rules.adjudication
            if total > 0 and Decimal(rng.random() * 100) < adj.interest_percent:
                interest = max(Decimal("0.01"), cents(total * Decimal("0.01")))
                plb.append(
                    ProviderAdjustment("L6", claims[0].payer_claim_control_number, -interest)
                )
            if total >= 1 and Decimal(rng.random() * 100) < adj.recovery_percent:
                recovery = min(cents(total * Decimal("0.05")), Decimal("25.00"))
                plb.append(ProviderAdjustment("WO", f"OVP{state.next_trace():08d}", recovery))
            sets.append(_remittance(c_first=claims[0], claims=claims, rules=rules, state=state,
                                    plb=plb))  # fmt: skip
        number = state.next_interchange()
        add(Stage.REMITTANCE, write_remittances(to, number, sets), number, delays.remittance)
    if adjustments:
        sets = []
        for claims in adjustments.values():
            corrected_paid = sum((pc.paid for pc in claims), Decimal(0))
            interest = max(Decimal("0.01"), cents(corrected_paid * Decimal("0.02")))
            plb = [ProviderAdjustment("L6", claims[-1].payer_claim_control_number, -interest)]
            sets.append(_remittance(c_first=claims[0], claims=claims, rules=rules, state=state,
                                    plb=plb))  # fmt: skip
        number = state.next_interchange()
        add(Stage.ADJUSTMENT, write_remittances(to, number, sets), number, delays.adjustment)

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
    )
    if s.payment < 0:  # a negative balance is carried forward (PLB FB), never paid out
        carried = ProviderAdjustment("FB", s.trace, s.payment)
        s = replace(s, provider_adjustments=(*s.provider_adjustments, carried))
    return s


def _share(amount: Decimal, percent: Decimal) -> Decimal:
    return cents(amount * percent / HUNDRED)


def _adjudicate(
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
            cas = (LineAdjustment(denial.group, denial.reason, ln.charge),) if ln.charge else ()
            remarks = (denial.remark,) if denial.remark else ()
            lines.append(PaidLine(ln, Decimal(0), cas, remarks=remarks))
        return outcome, PaidClaim(c, "4", pcn, tuple(lines))
    deductible = adj.deductible if outcome == "patient_share" else Decimal(0)
    for n, ln in enumerate(c.lines):
        if outcome == "paid_in_full":
            lines.append(PaidLine(ln, ln.charge, allowed=ln.charge))
            continue
        if outcome == "line_denied" and n == len(c.lines) - 1:
            cas = (LineAdjustment("CO", "97", ln.charge),) if ln.charge else ()
            lines.append(PaidLine(ln, Decimal(0), cas, remarks=("M15",)))
            continue
        allowed = _share(ln.charge, adj.allowed_percent)
        cas_list = []
        if ln.charge - allowed:
            cas_list.append(LineAdjustment("CO", "45", ln.charge - allowed))
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
                    cas_list.append(LineAdjustment("PR", reason, amount))
        lines.append(PaidLine(ln, paid, tuple(cas_list), allowed=allowed))
    return outcome, PaidClaim(c, processed_as, pcn, tuple(lines))


def _corrected(original: PaidClaim, pcn: str) -> PaidClaim:
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


# --- the runner ----------------------------------------------------------------------------------


def folders_from_settings(
    settings: Settings, partner_name: str = "demo-clearinghouse"
) -> tuple[Path, Path]:
    """The pickup and drop folders of a partner's directory transport in ``settings``.

    Without that partner: the workspace outbox and the responses inbox. A partner whose transport
    is not a folder (SFTP) is a ``ConfigError``: the simulator serves folders only.
    """
    transport: DirectoryTransport | None = None
    if settings.partners_dir.is_dir():
        partners = settings.load_partners()
        if partner_name in partners:
            partner = partners.get(partner_name)
            source = partner.source or settings.partners_dir / f"{partner.name}.toml"
            found = transport_from_config(
                partner.transport,
                workspace=settings.workspace,
                base_dir=source.parent,
                source=str(source),
            )
            if not isinstance(found, DirectoryTransport):
                raise ConfigError(
                    str(source), "[transport] kind", "is not a directory; give the folders instead"
                )
            transport = found
    pickup = transport.pickup_dir if transport else settings.workspace.outbox
    drop = (transport.drop_dir if transport else None) or settings.workspace.responses_inbox
    return pickup, drop


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Simulator:
    """The simulator as a process: watches ``pickup``, answers into ``drop`` (see module docs).

    ``work`` holds ``state.json`` (control numbers), ``incoming/`` (an 837 being answered),
    ``processed/`` (every 837 answered, kept), ``pending/`` (answers whose responses are not all
    delivered yet) and ``delivered/`` (answers fully delivered, kept). A crash at any point loses
    nothing: an 837 in ``incoming/`` without a pending answer is answered again on start, and a
    pending answer resumes its deliveries (a response already in the drop folder is not written
    twice).
    """

    def __init__(
        self,
        pickup: Path,
        drop: Path,
        work: Path,
        *,
        rules: SimulatorRules | None = None,
        settle_seconds: float = 0.0,
        poll_interval: float = 0.5,
        use_delays: bool = True,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.pickup = Path(pickup)
        self.drop = Path(drop)
        self.work = Path(work)
        self.rules = rules or load_rules()
        self.poll_interval = poll_interval
        self.use_delays = use_delays
        self.clock = clock
        self._tracker = SettleTracker(settle_seconds)
        self.answers: list[Answer] = []
        self._recovered = False
        for folder in (self.drop, self.incoming, self.processed, self.pending, self.delivered):
            ensure_private_dir(folder)
        self.state = self._load_state()

    @property
    def incoming(self) -> Path:
        """Where an 837 waits while it is answered."""
        return self.work / "incoming"

    @property
    def processed(self) -> Path:
        """Every 837 answered (never deleted)."""
        return self.work / "processed"

    @property
    def pending(self) -> Path:
        """Answers with responses still to deliver."""
        return self.work / "pending"

    @property
    def delivered(self) -> Path:
        """Answers fully delivered (never deleted)."""
        return self.work / "delivered"

    @property
    def state_file(self) -> Path:
        """The control-number state (JSON)."""
        return self.work / "state.json"

    def _load_state(self) -> SimulatorState:
        try:
            return SimulatorState.from_json(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return SimulatorState()
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{self.state_file}: not a simulator state file ({exc})") from exc

    def _save_state(self) -> None:
        atomic_write(self.state_file, self.state.to_json().encode())

    # -- taking and answering ------------------------------------------------------------------

    def _take(self, path: Path) -> Path | None:
        """Move an 837 from the pickup folder into ``incoming`` (None when someone was faster)."""
        try:
            return move_no_overwrite(path, self.incoming, path.name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        # the pickup folder is on another file system (a network share): copy, then remove
        data = read_file_sync(path, MAX_837_BYTES)
        held = write_new_file(self.incoming, path.name, data)
        path.unlink(missing_ok=True)
        return held

    def _answer(self, held: Path) -> Answer:
        """Answer the 837 at ``held`` (in ``incoming``), store the pending bundle, file it."""
        data = read_file_sync(held, MAX_837_BYTES)
        now = self.clock()
        state = SimulatorState.from_json(self.state.to_json())
        answer = respond(data, self.rules, state, now=now, name=held.name)
        bundle = {
            "source": held.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "picked_up": now.isoformat(),
            "outcome": answer.outcome,
            "message": answer.message,
            "state": json.loads(state.to_json()),
            "responses": [
                {
                    "name": r.name,
                    "stage": r.stage.value,
                    "due": (now.timestamp() + (r.delay if self.use_delays else 0.0)),
                    "data": r.data.decode("latin-1"),
                    "delivered": False,
                }
                for r in answer.responses
            ],
        }
        bundle_name = f"{now:%Y%m%dT%H%M%S%f}-{held.name}.json"
        atomic_write(self.pending / bundle_name, json.dumps(bundle).encode())
        self.state = state
        self._save_state()
        move_no_overwrite(held, self.processed, held.name)
        _log.info(
            "837 answered",
            file=held.name,
            isa13=answer.isa13,
            outcome=answer.outcome,
            responses=[r.name for r in answer.responses],
            summary=answer.message,
        )
        self.answers.append(answer)
        return answer

    def _recover(self) -> None:
        """After a crash: adopt the newest pending state, file or re-answer held 837s."""
        bundles = sorted(self.pending.glob("*.json"))
        for path in bundles:
            saved = SimulatorState.from_json(json.dumps(json.loads(path.read_text())["state"]))
            if saved.interchange > self.state.interchange or saved.trace > self.state.trace:
                self.state = saved
                self._save_state()
        answered = {json.loads(p.read_text())["source"] for p in bundles}
        for held in sorted(self.incoming.iterdir()):
            if not held.is_file():
                continue
            if held.name in answered:
                move_no_overwrite(held, self.processed, held.name)
            else:
                self._answer_or_set_aside(held)

    def _deliver_due(self, *, everything: bool) -> list[Path]:
        """Drop every response whose time has come (all of them with ``everything``)."""
        written: list[Path] = []
        now = self.clock().timestamp()
        for path in sorted(self.pending.glob("*.json")):
            bundle = json.loads(path.read_text())
            changed = False
            for r in bundle["responses"]:
                if r["delivered"] or (not everything and r["due"] > now):
                    continue
                data = r["data"].encode("latin-1")
                target = self.drop / r["name"]
                if not (target.exists() and target.read_bytes() == data):
                    target = write_new_file(self.drop, r["name"], data)
                    written.append(target)
                    _log.info("response dropped", file=r["name"], stage=r["stage"])
                r["delivered"] = True
                changed = True
            if all(r["delivered"] for r in bundle["responses"]):
                if changed:
                    atomic_write(path, json.dumps(bundle).encode())
                move_no_overwrite(path, self.delivered, path.name)
            elif changed:
                atomic_write(path, json.dumps(bundle).encode())
        return written

    def next_due(self) -> float | None:
        """Seconds until the next pending response is due (None when nothing is pending)."""
        dues = [
            r["due"]
            for path in self.pending.glob("*.json")
            for r in json.loads(path.read_text())["responses"]
            if not r["delivered"]
        ]
        return max(0.0, min(dues) - self.clock().timestamp()) if dues else None

    @property
    def failed(self) -> Path:
        """837s the simulator could not answer (too large, unreadable): kept for a look."""
        return self.work / "failed"

    def _answer_or_set_aside(self, held: Path) -> None:
        try:
            self._answer(held)
        except (OSError, ValueError, UnicodeError) as exc:
            target = move_no_overwrite(held, self.failed, held.name)
            _log.error("837 not answered", file=held.name, error=str(exc), kept_as=str(target))

    def _cycle(self, *, everything: bool) -> list[Path]:
        for path in self._tracker.scan(self.pickup):
            held = self._take(path)
            if held is not None:
                self._answer_or_set_aside(held)
        return self._deliver_due(everything=everything)

    async def step(self) -> list[Path]:
        """Answer every complete 837 waiting, drop the responses now due (no waiting)."""
        if not self._recovered:
            await asyncio.to_thread(self._recover)
            self._recovered = True
        return await asyncio.to_thread(self._cycle, everything=not self.use_delays)

    async def run_once(self) -> list[Path]:
        """Answer every complete 837 waiting and drop all its responses now; returns them."""
        if not self._recovered:
            await asyncio.to_thread(self._recover)
            self._recovered = True
        return await asyncio.to_thread(self._cycle, everything=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Answer and deliver until ``stop`` is set (finishing the file in hand)."""
        while not stop.is_set():
            try:
                await self.step()
            except OSError as exc:  # a full disk, a folder gone: say so, try again next time
                _log.error("simulator step failed", error=str(exc))
            wait = self.poll_interval
            due = await asyncio.to_thread(self.next_due)
            if due is not None:
                wait = min(wait, max(due, 0.01))
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except TimeoutError:
                continue
