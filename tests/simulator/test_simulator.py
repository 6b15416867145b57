"""The simulator core: 837 bytes in, TA1 / 999 / 277CA / 835 out, by the rules, seeded."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.config import ConfigError
from gateway.models import Encounter
from gateway.models.acknowledgements import (
    ClaimAcknowledgementDocument,
    ImplementationAcknowledgementDocument,
    InterchangeAcknowledgementDocument,
)
from gateway.models.remittance import RemittanceDocument
from gateway.partners import Partners, load_partners
from gateway.simulator import Answer, SimulatorState, Stage, respond
from gateway.simulator.rules import load_rules, parse_rules
from gateway.transactions.claim837 import build_837
from gateway.transactions.control_numbers import MemoryAllocator
from gateway.transactions.reader import read_documents
from gateway.transactions.response_writer import clean
from gateway.validation.pyx12_adapter import check
from gateway.x12 import read_segments
from tests.support import cob837

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "encounters"
CREATED = datetime(2026, 11, 20, 9, 30)
NOW = datetime(2026, 11, 21, 8, 0)
RULES = load_rules()


def sample(name: str) -> dict[str, Any]:
    """One sample encounter as decoded JSON."""
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return data


def all_samples() -> list[Encounter]:
    """Every sample encounter (the JSON files and the JSON Lines batch)."""
    found = [Encounter.model_validate_json(p.read_text()) for p in sorted(SAMPLES.glob("*.json"))]
    for line in (SAMPLES / "batch.jsonl").read_text().splitlines():
        found.append(Encounter.model_validate_json(line))
    return found


def partners(**changes: Any) -> Partners:
    """The demo partner, with fields changed."""
    demo = replace(load_partners(ROOT / "config" / "partners").get("demo-clearinghouse"), **changes)
    return Partners({demo.name: demo}, demo.name)


def build(encounters: list[Encounter], **changes: Any) -> list[bytes]:
    """837 files for ``encounters`` (one per kind), built by our builder."""
    result = build_837(encounters, partners(**changes), MemoryAllocator(), created=CREATED)
    assert () == result.left_out
    return [b.data for b in result.interchanges]


def variant(n: int, base: str = "professional-self", **changes: Any) -> Encounter:
    """A copy of a sample with its own claim id and line ids, and fields changed."""
    data = sample(base)
    data["claim_id"] = f"SIM-{n:04d}"
    for i, line in enumerate(data["service_lines"], 1):
        line["line_id"] = f"S{n:04d}-{i}"
    for key, value in changes.items():
        if callable(value):
            value(data)
        else:
            data[key] = value
    return Encounter.model_validate(data)


def answer_all(
    files: list[bytes], rules: Any = RULES, state: SimulatorState | None = None
) -> list[Answer]:
    """Answer each file in turn with one state."""
    state = state or SimulatorState()
    return [respond(f, rules, state, now=NOW, name=f"f{i}.x12") for i, f in enumerate(files)]


def documents(answer: Answer, stage: Stage) -> list[Any]:
    """The documents our readers make of the responses of ``stage``."""
    return [d for r in answer.responses if r.stage is stage for d in read_documents(r.data)]


def remitted(answer: Answer, stage: Stage) -> list[Any]:
    """Every 835 claim of the responses of ``stage``, in file order."""
    out = []
    for doc in documents(answer, stage):
        assert isinstance(doc, RemittanceDocument)
        out += [c for r in doc.remittances for c in r.claims]
    return out


def claim_statuses(answer: Answer, stage: Stage) -> dict[str, list[str]]:
    """Claim id -> the STC01 texts of the 277CA of ``stage``."""
    out: dict[str, list[str]] = {}
    for doc in documents(answer, stage):
        assert isinstance(doc, ClaimAcknowledgementDocument)
        for ack in doc.acknowledgements:
            for status in ack.claims:
                out[status.claim_id] = [
                    ":".join(p for p in (c.category, c.status, c.entity) if p)
                    for info in status.statuses
                    for c in info.codes
                ]
    return out


# --- every response is readable, balanced, valid -----------------------------------------------


def test_sample_responses_parse_with_no_findings_and_in_order() -> None:
    """Every response to the sample 837s is read by our readers with zero findings, in order
    of stage and of name."""
    answers = answer_all(build(all_samples()))
    assert ["answered", "answered"] == [a.outcome for a in answers]
    for a in answers:
        stages = [r.stage for r in a.responses]
        assert stages == sorted(stages, key=list(Stage).index)
        assert [Stage.INTERCHANGE_ACK, Stage.IMPLEMENTATION_ACK] == stages[:2]
        names = [r.name for r in a.responses]
        assert sorted(names) == names  # a folder listed by name shows them in order
        for r in a.responses:
            for doc in read_documents(r.data):
                assert [] == [f"{f.code}: {f.message}" for f in doc.findings], r.name


def test_remittances_balance_at_line_claim_and_transaction_level() -> None:
    """SVC02 - CAS = SVC03, CLP03 - CAS = CLP04, sum(CLP04) - PLB = BPR02 in every 835 set."""
    rules = replace(RULES, adjudication=replace(RULES.adjudication, reversal_percent=Decimal(50)))
    files = build([variant(n) for n in range(40)] + all_samples())
    for a in answer_all(files, rules):
        for r in a.responses:
            if r.stage not in (Stage.REMITTANCE, Stage.ADJUSTMENT):
                continue
            segments = list(read_segments(r.data))
            sets: list[list[Any]] = []
            for seg in segments:
                if seg.tag == "ST":
                    sets.append([])
                if sets:
                    sets[-1].append(seg)
            for body in sets:
                bpr = Decimal(body[1][2])
                paid = sum(Decimal(s[4]) for s in body if s.tag == "CLP")
                plb = sum(
                    Decimal(s[i]) for s in body if s.tag == "PLB" for i in range(4, len(s) + 1, 2)
                )
                assert bpr == paid - plb
                claim_rows: list[list[Any]] = []
                for s in body:
                    if s.tag == "CLP":
                        claim_rows.append([s])
                    elif claim_rows and s.tag in ("SVC", "CAS"):
                        claim_rows[-1].append(s)
                for rows in claim_rows:
                    clp = rows[0]
                    cas = sum(Decimal(s[i] or 0) for s in rows if s.tag == "CAS" for i in (3, 6, 9))
                    svc_paid = sum(Decimal(s[3]) for s in rows if s.tag == "SVC")
                    assert Decimal(clp[3]) - cas == Decimal(clp[4]) == svc_paid


def test_pyx12_accepts_every_kind_of_response() -> None:
    """pyx12 finds nothing in the TA1, 999, both 277CAs, the 835, the adjustment 835 and the
    crossover 835 (a Medicare claim forwarded to its supplement: NM1*TT, then CLP02 2)."""
    rules = replace(RULES, adjudication=replace(RULES.adjudication, reversal_percent=Decimal(100)))
    secondary = replace(RULES.adjudication.secondary, crossover_percent=Decimal(100))
    outcomes = dict.fromkeys(RULES.adjudication.outcomes, 0) | {"patient_share": 1}
    forwarding = replace(
        RULES, adjudication=replace(RULES.adjudication, outcomes=outcomes, secondary=secondary)
    )
    medicare = cob837.claim(
        "professional",
        "SIM-MCR-1",
        responsibility="P",
        payer=("00952", "MEDICARE PART B ILLINOIS"),
        filing="MB",
        others=(cob837.Other("S", "61101", "HUMANA", "CI"),),
    )
    encounters = [
        variant(1),
        variant(2, x=_member_x),
        variant(3, "professional-dependent"),
        variant(4, "institutional-outpatient"),
        variant(5, x=_unlisted),
        variant(6, "institutional-inpatient"),
    ]
    seen: set[Stage] = set()
    state = SimulatorState()
    answers = answer_all(build(encounters), rules, state)
    forwarded = cob837.interchange("professional", [medicare], isa13=900)
    answers.append(respond(forwarded, forwarding, state, now=NOW, name="medicare.x12"))
    for a in answers:
        for r in a.responses:
            seen.add(r.stage)
            assert [] == [str(d) for d in check(r.data).defects], r.name
    assert set(Stage) == seen


# --- the rules ------------------------------------------------------------------------------------


def _member_x(data: dict[str, Any]) -> None:
    data["subscriber"]["member_id"] = "XYZ123456789"


def _unknown_payer(data: dict[str, Any]) -> None:
    data["payer"] = {"id": "99999", "name": "NOBODY HEALTH"}


def _aetna(data: dict[str, Any]) -> None:
    data["payer"] = {"id": "60054", "name": "AETNA"}


def _aetna_referral(data: dict[str, Any]) -> None:
    _aetna(data)
    data["referral_number"] = "REF-1"


def _unlisted(data: dict[str, Any]) -> None:
    data["service_lines"][1]["procedure_code"] = "99499"


def _big_line(data: dict[str, Any]) -> None:
    data["service_lines"][0]["charge"] = "26000.00"


RULE_CASES: list[tuple[str, Callable[[dict[str, Any]], None] | None, str, str, list[int]]] = [
    # (case, change, outcome, STC01 of the rejecting 277CA, the lines rejected (REF*FJ))
    ("member id X", _member_x, "rejected-clearinghouse", "A7:164:IL", []),
    ("unknown payer", _unknown_payer, "rejected-clearinghouse", "A3:116:PR", []),
    ("Aetna without referral", _aetna, "rejected-payer", "A6:94:DN", []),
    ("Aetna with referral", _aetna_referral, "accepted", "A2:20", []),
    ("unlisted procedure", _unlisted, "rejected-payer", "A7:454", [2]),
    ("line over the limit", _big_line, "rejected-payer", "A7:178", [1]),
    ("nothing wrong", None, "accepted", "A2:20", []),
]


@pytest.mark.parametrize(
    ("case", "change", "outcome", "status", "lines"),
    [(c[0], c[1], c[2], c[3], c[4]) for c in RULE_CASES],
    ids=[c[0] for c in RULE_CASES],
)
def test_rules_reject_exactly_the_configured_claims(
    case: str,
    change: Callable[[dict[str, Any]], None] | None,
    outcome: str,
    status: str,
    lines: list[int],
) -> None:
    """Each rule rejects its claim with its STC at its level; REF*FJ names the lines hit."""
    n = [c[0] for c in RULE_CASES].index(case) + 2
    target = variant(n, **({"x": change} if change else {}))
    (a,) = answer_all(build([variant(1), target]))
    decisions = {d.claim_id: d for d in a.claims}
    actual_outcome = decisions[target.claim_id].outcome
    assert outcome == ("accepted" if not actual_outcome.startswith("rejected") else actual_outcome)
    stage = Stage.CLEARINGHOUSE_ACK if outcome.endswith("clearinghouse") else Stage.PAYER_ACK
    assert [status] == claim_statuses(a, stage)[target.claim_id]
    assert ["A1:19"] == claim_statuses(a, Stage.CLEARINGHOUSE_ACK)["SIM-0001"]
    assert ["A2:20"] == claim_statuses(a, Stage.PAYER_ACK)["SIM-0001"]
    rejected_lines = [
        line.line_control_number
        for doc in documents(a, stage)
        for ack in doc.acknowledgements
        for claim in ack.claims
        if claim.claim_id == target.claim_id
        for line in claim.lines
    ]
    assert [f"S{n:04d}-{i}" for i in lines] == rejected_lines
    paid = {
        c.claim_id for d in documents(a, Stage.REMITTANCE) for r in d.remittances for c in r.claims
    }
    assert ("SIM-0001" in paid, target.claim_id in paid) == (True, outcome == "accepted")


def test_accepted_claims_carry_payer_claim_numbers_into_the_835() -> None:
    """REF*1K of the payer 277CA is CLP07 of the 835; REF*6R of every line is echoed."""
    (a,) = answer_all(build([variant(n) for n in range(1, 6)]))
    pcns = {
        s.claim_id: s.payer_claim_control_number
        for d in documents(a, Stage.PAYER_ACK)
        for ack in d.acknowledgements
        for s in ack.claims
    }
    claims = remitted(a, Stage.REMITTANCE)
    assert pcns == {c.claim_id: c.payer_claim_control_number for c in claims}
    lines = {ln.line_control_number for c in claims for ln in c.lines}
    assert {f"S{n:04d}-{i}" for n in range(1, 6) for i in (1, 2)} == lines


def test_one_level_of_277ca_when_payer_acknowledgements_are_off() -> None:
    """Without payer 277CAs, the clearinghouse answers A2:20 with REF*1K and applies every rule."""
    rules = replace(RULES, payer_acknowledgements=False)
    (a,) = answer_all(build([variant(1), variant(2, x=_aetna)]), rules)
    assert [] == documents(a, Stage.PAYER_ACK)
    assert {"SIM-0001": ["A2:20"], "SIM-0002": ["A6:94:DN"]} == claim_statuses(
        a, Stage.CLEARINGHOUSE_ACK
    )


# --- adjudication ---------------------------------------------------------------------------------


def test_every_outcome_occurs_and_reversals_come_with_a_corrected_claim() -> None:
    """Over many claims every outcome occurs; a reversal negates the payment, then pays more."""
    rules = replace(RULES, adjudication=replace(RULES.adjudication, reversal_percent=Decimal(30)))
    (a,) = answer_all(build([variant(n) for n in range(120)]), rules)
    outcomes = Counter(d.outcome for d in a.claims)
    assert {"paid_in_full", "contractual", "patient_share", "line_denied", "denied"} == set(
        outcomes
    )
    adjusted = remitted(a, Stage.ADJUSTMENT)
    claims = remitted(a, Stage.REMITTANCE)
    first = {c.claim_id: c for c in claims}
    pairs = list(zip(adjusted[::2], adjusted[1::2], strict=True))
    assert pairs
    for reversal, corrected in pairs:
        original = first[reversal.claim_id]
        assert ("22", -original.paid_amount, -original.total_charge) == (
            reversal.status_code,
            reversal.paid_amount,
            reversal.total_charge,
        )
        assert corrected.claim_id == reversal.claim_id
        assert corrected.paid_amount > original.paid_amount
        assert corrected.payer_claim_control_number != original.payer_claim_control_number
    reasons = {(adj.group, adj.reason) for c in claims for ln in c.lines
               for adj in ln.adjustments}  # fmt: skip
    assert {("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3"), ("CO", "97")} <= reasons


def test_a_void_is_answered_with_a_reversal_of_the_original_claim() -> None:
    """A frequency-8 claim comes back as CLP02 22 with negated amounts and the REF*F8 number."""
    void = Encounter.model_validate(sample("professional-void"))
    (a,) = answer_all(build([void]))
    (claim,) = remitted(a, Stage.REMITTANCE)
    assert ("22", void.original_payer_claim_number) == (
        claim.status_code,
        claim.payer_claim_control_number,
    )
    assert claim.paid_amount < 0


# --- determinism and control numbers --------------------------------------------------------------


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_outcomes() -> None:
    """Same seed, state and clock: identical responses; another seed: other decisions."""
    files = build([variant(n) for n in range(30)])
    first = answer_all(files)
    again = answer_all(files)
    other = answer_all(files, replace(RULES, seed=RULES.seed + 1))
    assert [r.data for a in first for r in a.responses] == [
        r.data for a in again for r in a.responses
    ]
    assert [d.outcome for d in first[0].claims] != [d.outcome for d in other[0].claims]


def test_a_claim_gets_the_same_outcome_in_any_file() -> None:
    """Outcomes depend on the seed and the claim, not on the batch it arrives in."""
    alone = answer_all(build([variant(7)]))[0].claims[0]
    crowd = {d.claim_id: d for d in answer_all(build([variant(n) for n in range(10)]))[0].claims}
    assert (alone.outcome, alone.paid) == (crowd["SIM-0007"].outcome, crowd["SIM-0007"].paid)


def test_response_control_numbers_are_unique_and_continue_from_the_state() -> None:
    """Every ISA13 the simulator writes is new; a restored state continues the count."""
    state = SimulatorState()
    answers = answer_all(build(all_samples()), state=state)
    restored = SimulatorState.from_json(state.to_json())
    more = answer_all(
        build([variant(n) for n in range(3)], max_claims_per_transaction=1), state=restored
    )
    isa13s = [next(iter(read_segments(r.data)))[13] for a in answers + more for r in a.responses]
    assert len(isa13s) == len(set(isa13s))
    assert len(isa13s) == restored.interchange


# --- broken input and duplicates ------------------------------------------------------------------


def test_a_broken_interchange_gets_a_rejecting_ta1_and_nothing_else() -> None:
    """IEA02 differing from ISA13: a TA1 with R and note 001, no 999 or 277CA."""
    (data,) = build([variant(1)])
    broken = data.replace(b"IEA*1*000000001", b"IEA*1*000000077")
    (a,) = answer_all([broken])
    assert ("rejected", [Stage.INTERCHANGE_ACK]) == (a.outcome, [r.stage for r in a.responses])
    (doc,) = documents(a, Stage.INTERCHANGE_ACK)
    assert isinstance(doc, InterchangeAcknowledgementDocument)
    assert [("R", "001")] == [(t.status, t.note_code) for t in doc.acknowledgements]
    assert ["rejected-ta1"] == [d.outcome for d in a.claims]


def test_a_rejected_set_is_answered_by_the_999_only() -> None:
    """A set with a bad date is rejected in the 999; the other set's claims go on to the 277CA."""
    (data,) = build([variant(1), variant(2)], max_claims_per_transaction=1)
    text = data.decode()
    second_set = text.index("CLM*SIM-0002")
    date_at = text.index("DTP*472*D8*", second_set) + len("DTP*472*D8*")
    bad = (text[:date_at] + "20261341" + text[date_at + 8 :]).encode()
    (a,) = answer_all([bad])
    (ack,) = documents(a, Stage.IMPLEMENTATION_ACK)
    assert isinstance(ack, ImplementationAcknowledgementDocument)
    verdicts = [s.status for g in ack.acknowledgements[0].groups for s in g.transaction_sets]
    assert ["A", "R"] == verdicts
    assert {"SIM-0001": True, "SIM-0002": False} == {
        d.claim_id: d.outcome != "rejected-999" for d in a.claims
    }
    assert ["SIM-0001"] == list(claim_statuses(a, Stage.CLEARINGHOUSE_ACK))


def test_garbage_is_unreadable_and_gets_no_response() -> None:
    """Bytes without an ISA cannot be answered: no responses, a message that says why."""
    (a,) = answer_all([b"this is not X12 at all"])
    assert ("unreadable", ()) == (a.outcome, a.responses)
    assert "ISA" in a.message


def test_the_same_interchange_twice_is_answered_once() -> None:
    """Identical bytes again: a duplicate with no responses; a reused ISA13: TA1 R 025."""
    (data,) = build([variant(1)])
    state = SimulatorState()
    first, second = answer_all([data, data], state=state)
    assert ("answered", "duplicate", ()) == (first.outcome, second.outcome, second.responses)
    (other,) = build([variant(2)])
    (reused,) = answer_all([other], state=state)
    (doc,) = documents(reused, Stage.INTERCHANGE_ACK)
    assert [("R", "025")] == [(t.status, t.note_code) for t in doc.acknowledgements]


def test_no_ta1_unless_asked() -> None:
    """ISA14 = 0 gets no TA1 (the 999 comes first); ``always_ta1`` sends one anyway."""
    (data,) = build([variant(1)], acknowledgment_requested="0")
    (a,) = answer_all([data])
    assert Stage.IMPLEMENTATION_ACK == a.responses[0].stage
    (b,) = answer_all([data], replace(RULES, always_ta1=True))
    assert Stage.INTERCHANGE_ACK == b.responses[0].stage


# --- the rules file -------------------------------------------------------------------------------


def test_config_file_holds_the_embedded_rules() -> None:
    """config/simulator.toml documents exactly the embedded defaults."""
    assert replace(load_rules(ROOT / "config" / "simulator.toml"), source="") == replace(
        load_rules(), source=""
    )


BAD_RULES = [
    ('[clearinghouse]\nnmae = "X"\n', "[clearinghouse] nmae"),
    ('[[rules]]\nname = "r"\nstatus = "A2:20"\nmember_id_prefix = "X"\n', "[rules[0]] status"),
    ('[[rules]]\nname = "r"\nstatus = "A7:1"\n', "[rules[0]] name"),
    ('[adjudication]\nallowed_percent = "180"\n', "[adjudication] allowed_percent"),
    ("[delays]\nremittance = -1\n", "[delays] remittance"),
    ("seed = 'x'\n", "seed"),
    ("[[adjudication.denials]]\ngroup = 'XX'\nreason = '1'\n", "[adjudication.denials[0]] group"),
]


@pytest.mark.parametrize(("text", "key"), BAD_RULES)
def test_a_mistake_in_the_rules_names_its_key(text: str, key: str) -> None:
    """A bad rules file raises ConfigError naming the key."""
    with pytest.raises(ConfigError) as info:
        parse_rules(text, "rules.toml")
    assert key == info.value.key


def test_an_isa_without_padding_gets_a_ta1_not_silence() -> None:
    """A trimmed (not fixed-length) ISA that names its sender is rejected with TA1 note 022."""
    (data,) = build([variant(1)])
    trimmed = data.replace(b"*VALLEYGATEWAY  *", b"*VALLEYGATEWAY*", 1)
    (a,) = answer_all([trimmed])
    assert ("rejected", [Stage.INTERCHANGE_ACK]) == (a.outcome, [r.stage for r in a.responses])
    (doc,) = documents(a, Stage.INTERCHANGE_ACK)
    assert [("000000001", "R", "022")] == [
        (t.control_number, t.status, t.note_code) for t in doc.acknowledgements
    ]
    assert [] == doc.findings
    (segment,) = [s for s in read_segments(a.responses[0].data) if s.tag == "ISA"]
    assert "VALLEYGATEWAY" == segment[8].strip()


def test_every_corpus_837_is_answered_with_readable_responses(corpus: list[Any]) -> None:
    """Real-world 837s (any version, broken or not) never crash it; what it writes reads clean."""
    answered = 0
    for row in corpus:
        if not row.transaction_set.startswith("837") or not row.path.is_file():
            continue
        a = respond(row.path.read_bytes(), RULES, SimulatorState(), now=NOW, name=row.path.name)
        answered += a.outcome == "answered"
        for r in a.responses:
            for doc in read_documents(r.data):
                assert [] == [f"{f.code}: {f.message}" for f in doc.findings], row.path.name
    assert answered >= 1  # most corpus 837s are rightly rejected (X222A2, X291, broken HI...)


CLEAN_CASES = [
    ("DOE", "DOE"),
    ("MÜLLER", "MULLER"),
    ("JOSÉ  MARÍA", "JOSE MARIA"),
    ("A*B~C:D^E", "A B C D E"),
    ("O'BRIEN-SMITH", "O'BRIEN-SMITH"),
    ("北京", ""),
]


@pytest.mark.parametrize(("text", "expected"), CLEAN_CASES)
def test_text_from_the_837_is_made_safe_to_write(text: str, expected: str) -> None:
    """Delimiters become spaces, accents are folded, other non-ASCII characters are dropped."""
    assert expected == clean(text)
