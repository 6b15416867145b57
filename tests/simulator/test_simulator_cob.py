"""The simulator as several payers: secondaries paid from 2320/2430, and Medicare's crossover."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config import ConfigError
from gateway.models.remittance import Claim, RemittanceDocument
from gateway.simulator import Answer, SimulatorState, Stage, respond
from gateway.simulator.rules import SimulatorRules, load_rules, parse_rules
from gateway.simulator.secondary import payers_ahead, remaining_balance
from gateway.transactions.claim837_reader import read_submission
from gateway.transactions.reader import read_documents
from gateway.validation.pyx12_adapter import check
from tests.support.cob837 import Line, LineDecision, Other, claim, interchange

NOW = datetime(2026, 11, 21, 8, 0)
RULES = load_rules()
MEDICARE_ID, MEDICARE_NAME = "00952", "MEDICARE PART B ILLINOIS"


def rules(
    *,
    outcomes: dict[str, int] | None = None,
    secondary: dict[str, int] | None = None,
    crossover: str | None = None,
) -> SimulatorRules:
    """The embedded rules with the primary's and the secondary's weights and crossover changed."""
    adj = RULES.adjudication
    second = adj.secondary
    if secondary is not None:
        second = replace(second, outcomes=dict.fromkeys(second.outcomes, 0) | secondary)
    if crossover is not None:
        second = replace(second, crossover_percent=Decimal(crossover))
    if outcomes is not None:
        adj = replace(adj, outcomes=dict.fromkeys(adj.outcomes, 0) | outcomes)
    return replace(RULES, adjudication=replace(adj, secondary=second))


def medicare_decided(paid: str, co: str, pr: str, reason: str = "2") -> LineDecision:
    """Medicare's decision on a line: paid, CO 45 and PR (coinsurance by default)."""
    cas = [("CO", "45", co)] if Decimal(co) else []
    if Decimal(pr):
        cas.append(("PR", reason, pr))
    return LineDecision(paid, tuple(cas))


MEDICARE = Other(
    "P",
    MEDICARE_ID,
    MEDICARE_NAME,
    "MB",
    paid="80",
    patient_responsibility="48",
    date="20261116",
    control_number="2026320000123",
)
LINES = (
    Line("99213", "125", decisions={MEDICARE_ID: medicare_decided("80", "25", "20")}),
    Line("87880", "28", decisions={MEDICARE_ID: medicare_decided("0", "0", "28", "1")}),
)


def secondary_claims(kind: str, count: int, **changes: Any) -> bytes:
    """``count`` claims to Humana as secondary after Medicare, with Medicare's 2320/2430."""
    found = [
        claim(kind, f"SEC-{kind[0].upper()}{n:03d}", lines=LINES, others=(MEDICARE,), **changes)
        for n in range(count)
    ]
    return interchange(kind, found)


def medicare_claims(count: int, kind: str = "professional", **changes: Any) -> bytes:
    """``count`` primary Medicare claims naming Humana as secondary in 2320."""
    found = [
        claim(
            kind,
            f"MCR-{n:03d}",
            responsibility="P",
            payer=(MEDICARE_ID, MEDICARE_NAME),
            filing="MB",
            others=(Other("S", "61101", "HUMANA", "CI", member_id="HUM555"),),
            **changes,
        )
        for n in range(count)
    ]
    return interchange(kind, found)


def remitted(answer: Answer, stage: Stage) -> list[tuple[str, Claim]]:
    """(payer name, 835 claim) of every claim in the responses of ``stage``."""
    out = []
    for r in answer.responses:
        if r.stage is not stage:
            continue
        for doc in read_documents(r.data):
            assert isinstance(doc, RemittanceDocument)
            assert [] == [str(f) for f in doc.findings]
            for rem in doc.remittances:
                payer = rem.header.payer.name if rem.header.payer else ""
                out += [(payer, c) for c in rem.claims]
    return out


def _line_balances(c: Claim) -> None:
    for ln in c.lines:
        adjusted = sum((a.amount for a in ln.adjustments), Decimal(0))
        assert ln.charge == ln.paid + adjusted


# --- the remaining balance ------------------------------------------------------------------------


def _one(kind: str = "professional", **changes: Any) -> Any:
    (c,) = read_submission(interchange(kind, [claim(kind, "RB-1", **changes)])).claims
    return c


BALANCES = [
    pytest.param({"lines": LINES, "others": (MEDICARE,)}, ("20", "28"), id="per-line-2430"),
    pytest.param(
        {
            "others": (
                Other(
                    "P",
                    MEDICARE_ID,
                    MEDICARE_NAME,
                    "MB",
                    paid="100",
                    adjustments=(("CO", "45", "30"), ("PR", "1", "23")),
                ),
            )
        },
        ("23", "0"),
        id="claim-level-only-spread-in-order",
    ),
    pytest.param(
        {
            "responsibility": "T",
            "lines": (
                Line(
                    "99213",
                    "125",
                    decisions={
                        MEDICARE_ID: medicare_decided("80", "25", "20"),
                        "61101": LineDecision("15", (("OA", "23", "105"), ("PR", "2", "5"))),
                    },
                ),
                Line(
                    "87880",
                    "28",
                    decisions={
                        MEDICARE_ID: medicare_decided("0", "0", "28", "1"),
                        "61101": LineDecision("28", (("OA", "23", "0"),)),
                    },
                ),
            ),
            "others": (MEDICARE, Other("S", "61101", "HUMANA", "CI", paid="43")),
        },
        ("5", "0"),
        id="tertiary-after-two",
    ),
    pytest.param(
        {
            "lines": (Line("99213", "125", decisions={MEDICARE_ID: LineDecision("200")}),),
            "others": (MEDICARE,),
        },
        ("0",),
        id="overpaid-never-below-zero",
    ),
    pytest.param(
        {"responsibility": "P", "others": (Other("S", "61101", "HUMANA", "CI"),)},
        ("125", "28"),
        id="primary-nobody-ahead",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), BALANCES)
def test_remaining_balance(changes: dict[str, Any], expected: tuple[str, ...]) -> None:
    """Charge less what the payers ahead paid and wrote off (CO/PI), per line when 2430 is given."""
    assert tuple(Decimal(e) for e in expected) == remaining_balance(_one(**changes))


def test_only_payers_ahead_count() -> None:
    """A tertiary named in a secondary claim is not ahead of it."""
    c = _one(lines=LINES, others=(MEDICARE, Other("T", "77027", "ILLINOIS MEDICAID", "MC")))
    assert [MEDICARE_ID] == [o.payer_id for o in payers_ahead(c)]


# --- secondary claims -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["professional", "institutional"])
def test_a_secondary_pays_at_most_the_balance_and_says_clp02_2(kind: str) -> None:
    """Each secondary claim is answered with CLP02 2 (or 4), OA 23 for what Medicare settled,
    never more than the balance per line, lines balanced, CLP05 what the patient still owes."""
    data = secondary_claims(kind, 30)
    answer = respond(data, RULES, SimulatorState(), now=NOW)
    found = remitted(answer, Stage.REMITTANCE)
    assert 30 == len(found)
    outcomes = Counter(d.outcome for d in answer.claims)
    assert (
        {"pays_balance", "coinsurance"}
        <= set(outcomes)
        <= {"pays_balance", "coinsurance", "denied"}
    )
    for payer, c in found:
        assert "HUMANA" == payer
        assert c.status_code in ("2", "4")
        _line_balances(c)
        first, second = c.lines
        assert first.paid <= Decimal(20)
        assert second.paid <= Decimal(28)
        assert [("OA", "23", Decimal(105))] == [
            (a.group, a.reason, a.amount) for a in first.adjustments if a.group == "OA"
        ]
        patient = sum(
            (a.amount for ln in c.lines for a in ln.adjustments if a.group == "PR"), Decimal(0)
        )
        assert patient == (c.patient_responsibility or 0)
        assert c.paid_amount + patient <= Decimal(48)
    for r in answer.responses:
        assert [] == [str(d) for d in check(r.data).defects], r.name


def test_pays_balance_leaves_the_patient_nothing_and_coinsurance_some() -> None:
    """``pays_balance`` pays the balance Medicare left in full; ``coinsurance`` leaves 20% of it."""
    full = respond(
        secondary_claims("professional", 1),
        rules(secondary={"pays_balance": 1}),
        SimulatorState(),
        now=NOW,
    )
    ((_, c),) = remitted(full, Stage.REMITTANCE)
    assert ("2", Decimal(48), Decimal(0)) == (
        c.status_code,
        c.paid_amount,
        c.patient_responsibility,
    )
    part = respond(
        secondary_claims("professional", 1),
        rules(secondary={"coinsurance": 1}),
        SimulatorState(),
        now=NOW,
    )
    ((_, c),) = remitted(part, Stage.REMITTANCE)
    assert (Decimal("38.40"), Decimal("9.60")) == (c.paid_amount, c.patient_responsibility)


def test_a_denying_secondary_leaves_the_balance_as_the_denial_says() -> None:
    """``denied``: CLP02 4, nothing paid, the balance adjusted with a configured denial."""
    answer = respond(
        secondary_claims("professional", 3),
        rules(secondary={"denied": 1}),
        SimulatorState(),
        now=NOW,
    )
    for _, c in remitted(answer, Stage.REMITTANCE):
        assert ("4", Decimal(0)) == (c.status_code, c.paid_amount)
        _line_balances(c)
        denial = [a for ln in c.lines for a in ln.adjustments if a.group != "OA"]
        assert Decimal(48) == sum((a.amount for a in denial), Decimal(0))
        assert {(d.group, d.reason) for d in RULES.adjudication.denials} >= {
            (a.group, a.reason) for a in denial
        }


def test_a_tertiary_claim_is_processed_as_tertiary() -> None:
    """SBR01 T: CLP02 3, paid from what the primary and the secondary left."""
    lines = (
        Line(
            "99213",
            "125",
            decisions={
                MEDICARE_ID: medicare_decided("80", "25", "20"),
                "61101": LineDecision("16", (("OA", "23", "105"), ("PR", "2", "4"))),
            },
        ),
    )
    others = (MEDICARE, Other("S", "61101", "HUMANA", "CI", paid="16", date="20261118"))
    data = interchange(
        "professional",
        [
            claim(
                "professional",
                "TER-1",
                responsibility="T",
                payer=("77027", "ILLINOIS MEDICAID"),
                filing="MC",
                lines=lines,
                others=others,
            )
        ],
    )
    answer = respond(data, rules(secondary={"pays_balance": 1}), SimulatorState(), now=NOW)
    ((payer, c),) = remitted(answer, Stage.REMITTANCE)
    assert ("ILLINOIS MEDICAID", "3", Decimal(4)) == (payer, c.status_code, c.paid_amount)


def test_secondary_answers_are_the_same_on_every_run() -> None:
    """The same secondary claims and seed give the same bytes."""
    data = secondary_claims("professional", 5)
    first = respond(data, RULES, SimulatorState(), now=NOW)
    again = respond(data, RULES, SimulatorState(), now=NOW)
    assert [r.data for r in first.responses] == [r.data for r in again.responses]


@st.composite
def _primary_lines(draw: st.DrawFn) -> tuple[Line, ...]:
    """One to three lines, each decided by Medicare: paid + CO 45 + PR (1 or 2) = charge."""
    cents = st.integers(min_value=0, max_value=500_00)
    lines = []
    for n in range(draw(st.integers(min_value=1, max_value=3))):
        paid, co, pr = (Decimal(draw(cents)) / 100 for _ in range(3))
        if paid + co + pr == 0:
            paid = Decimal("10.00")
        charge = paid + co + pr
        reason = draw(st.sampled_from(["1", "2"]))
        decision = medicare_decided(f"{paid:.2f}", f"{co:.2f}", f"{pr:.2f}", reason)
        lines.append(
            Line(["99213", "87880", "36415"][n], f"{charge:.2f}", decisions={MEDICARE_ID: decision})
        )
    return tuple(lines)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_primary_lines(), st.sampled_from(["pays_balance", "coinsurance", "denied"]))
def test_a_secondary_never_pays_more_than_the_primary_left(
    lines: tuple[Line, ...], outcome: str
) -> None:
    """Whatever Medicare decided, the secondary pays per line at most charge - paid - CO, every
    line balances, and CLP05 is the PR the secondary leaves."""
    paid = sum((Decimal(ln.decisions[MEDICARE_ID].paid) for ln in lines), Decimal(0))
    medicare = replace(MEDICARE, paid=f"{paid:.2f}", patient_responsibility="")
    data = interchange(
        "professional", [claim("professional", "PROP-1", lines=lines, others=(medicare,))]
    )
    answer = respond(data, rules(secondary={outcome: 1}), SimulatorState(), now=NOW)
    ((_, c),) = remitted(answer, Stage.REMITTANCE)
    _line_balances(c)
    for ln, sent in zip(c.lines, lines, strict=True):
        decided = sent.decisions[MEDICARE_ID]
        settled = Decimal(decided.paid) + sum(
            (Decimal(a) for g, _, a in decided.adjustments if g == "CO"), Decimal(0)
        )
        assert Decimal(0) <= ln.paid <= Decimal(sent.charge) - settled
    patient = sum(
        (a.amount for ln in c.lines for a in ln.adjustments if a.group == "PR"), Decimal(0)
    )
    assert patient == (c.patient_responsibility or 0)


# --- crossover ------------------------------------------------------------------------------------


def test_medicare_forwards_a_claim_with_patient_responsibility_to_the_secondary() -> None:
    """CLP02 19 with NM1*TT naming the secondary; later the secondary's own 835 (CLP02 2)."""
    answer = respond(
        medicare_claims(1),
        rules(outcomes={"patient_share": 1}, secondary={"coinsurance": 1}, crossover="100"),
        SimulatorState(),
        now=NOW,
    )
    ((payer, primary),) = remitted(answer, Stage.REMITTANCE)
    assert (MEDICARE_NAME, "19") == (payer, primary.status_code)
    (tt,) = [e for e in primary.other_entities if e.entity == "TT"]
    assert ("HUMANA", "PI", "61101") == (tt.last_name, tt.id_qualifier, tt.identifier)
    ((payer, second),) = remitted(answer, Stage.CROSSOVER)
    assert ("HUMANA", "2", "MCR-000") == (payer, second.status_code, second.claim_id)
    assert second.insured is None
    assert second.patient is not None
    assert "HUM555" == second.patient.identifier
    _line_balances(second)
    for ln_second, ln_primary in zip(second.lines, primary.lines, strict=True):
        left = sum((a.amount for a in ln_primary.adjustments if a.group == "PR"), Decimal(0))
        assert ln_second.paid <= left
    (decision,) = answer.claims
    assert ("61101", second.paid_amount) == (decision.crossed_over_to, decision.secondary_paid)
    delays = {r.stage: r.delay for r in answer.responses}
    assert delays[Stage.CROSSOVER] > delays[Stage.REMITTANCE]
    for r in answer.responses:
        assert [] == [str(d) for d in check(r.data).defects], r.name


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"crossover": "0"}, "crossover_percent 0"),
        ({"outcomes": {"contractual": 1}, "crossover": "100"}, "nothing left for the patient"),
        ({"outcomes": {"denied": 1}, "crossover": "100"}, "denied"),
    ],
)
def test_no_crossover(changes: dict[str, Any], why: str) -> None:
    """No forwarding when the rules say never, the patient owes nothing, or it was denied."""
    base: dict[str, Any] = {"outcomes": {"patient_share": 1}} | changes
    answer = respond(medicare_claims(1), rules(**base), SimulatorState(), now=NOW)
    assert [] == remitted(answer, Stage.CROSSOVER), why
    ((_, primary),) = remitted(answer, Stage.REMITTANCE)
    assert primary.status_code in ("1", "4")
    assert [] == [e for e in primary.other_entities if e.entity == "TT"]


def test_only_medicare_forwards_and_only_to_a_named_secondary() -> None:
    """A commercial primary naming a secondary, or Medicare naming none, is never forwarded."""
    commercial = interchange(
        "professional",
        [
            claim(
                "professional",
                "COM-1",
                responsibility="P",
                filing="CI",
                others=(Other("S", "77027", "ILLINOIS MEDICAID", "MC"),),
            ),
            claim(
                "professional",
                "MCR-ALONE",
                responsibility="P",
                filing="MB",
                payer=(MEDICARE_ID, MEDICARE_NAME),
            ),
        ],
    )
    answer = respond(
        commercial, rules(outcomes={"patient_share": 1}, crossover="100"), SimulatorState(), now=NOW
    )
    assert [] == remitted(answer, Stage.CROSSOVER)
    assert {"1"} == {c.status_code for _, c in remitted(answer, Stage.REMITTANCE)}


def test_some_medicare_claims_are_forwarded_by_the_default_rules() -> None:
    """Under the embedded rules, some but not all forwardable claims cross over (seeded)."""
    answer = respond(medicare_claims(40), RULES, SimulatorState(), now=NOW)
    crossed = [d for d in answer.claims if d.crossed_over_to]
    assert 0 < len(crossed) < len([d for d in answer.claims if d.outcome == "patient_share"])
    assert {"patient_share"} == {d.outcome for d in crossed}  # only with something left to pay
    assert len(crossed) == len(remitted(answer, Stage.CROSSOVER))


# --- the rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            '[adjudication.secondary]\ncrossover_percent = "101"\n',
            "[adjudication.secondary] crossover_percent",
        ),
        (
            "[adjudication.secondary.outcomes]\npays_all = 1\n",
            "[adjudication.secondary.outcomes] pays_all",
        ),
        (
            "[adjudication.secondary.outcomes]\npays_balance = 0\ncoinsurance = 0\ndenied = 0\n",
            "[adjudication.secondary.outcomes]",
        ),
        ("[delays]\ncrossover = -1\n", "[delays] crossover"),
    ],
)
def test_a_mistake_in_the_secondary_rules_names_its_key(text: str, key: str) -> None:
    """A bad [adjudication.secondary] raises ConfigError naming the key."""
    with pytest.raises(ConfigError) as info:
        parse_rules(text, "rules.toml")
    assert key == info.value.key


def test_payers_of_claims_with_several_payers_name_themselves() -> None:
    """N1*PR carries XV and the payer id when the claims name other payers (so the gateway can
    tell which payer's leg a denial or reversal is about); single-payer 835s stay as they were."""
    answer = respond(
        medicare_claims(1),
        rules(outcomes={"patient_share": 1}, crossover="100"),
        SimulatorState(),
        now=NOW,
    )
    found = {}
    for r in answer.responses:
        if r.stage in (Stage.REMITTANCE, Stage.CROSSOVER):
            (doc,) = read_documents(r.data)
            assert isinstance(doc, RemittanceDocument)
            payer = doc.remittances[0].header.payer
            assert payer is not None
            found[r.stage] = (payer.id_qualifier, payer.identifier)
    assert {Stage.REMITTANCE: ("XV", "00952"), Stage.CROSSOVER: ("XV", "61101")} == found
    single = claim("professional", "ONE-1", responsibility="P", payer=(MEDICARE_ID, MEDICARE_NAME))
    alone = respond(interchange("professional", [single]), RULES, SimulatorState(), now=NOW)
    (remit,) = [r for r in alone.responses if r.stage is Stage.REMITTANCE]
    assert b"N1*PR*MEDICARE PART B ILLINOIS~" in remit.data
