"""Properties: whatever valid claims come in, the simulator's responses are valid, readable X12
that answers every claim exactly once, and every 835 balances."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.models import Encounter
from gateway.partners import load_partners
from gateway.simulator import SimulatorState, Stage, respond
from gateway.simulator.rules import load_rules
from gateway.transactions.claim837 import build_837
from gateway.transactions.control_numbers import MemoryAllocator
from gateway.transactions.reader import read_documents
from gateway.validation.pyx12_adapter import check
from gateway.validation.validator import validate
from tests.support.strategies import institutional_encounters, professional_encounters

PARTNERS = load_partners(Path(__file__).resolve().parents[2] / "config" / "partners")
NOW = datetime(2026, 11, 21, 8, 0)
RULES = load_rules()
RULES = replace(RULES, adjudication=replace(RULES.adjudication, reversal_percent=Decimal(50)))

# an SSN cannot be sent on an 837I: such claims are left out by the builder, not answered here
ENCOUNTERS = st.one_of(
    professional_encounters(),
    institutional_encounters().filter(lambda e: e.billing_provider.tax_id_type.value == "EIN"),
)


def batches() -> st.SearchStrategy[list[Encounter]]:
    """One to four encounters with distinct claim ids."""

    def renumber(items: list[Encounter]) -> list[Encounter]:
        return [e.model_copy(update={"claim_id": f"P{n}-{e.claim_id}"[:38]}) for n, e in
                enumerate(items)]  # fmt: skip

    return st.lists(ENCOUNTERS, min_size=1, max_size=4).map(renumber)


def answer(batch: list[Encounter]) -> list[tuple[bytes, list[tuple[Stage, bytes]]]]:
    """Each 837 built from ``batch`` with the responses the simulator gives it."""
    result = build_837(batch, PARTNERS, MemoryAllocator(), created=NOW)
    state = SimulatorState()
    out = []
    for built in result.interchanges:
        a = respond(built.data, RULES, state, now=NOW, name="p.x12")
        assert "answered" == a.outcome, a.message
        assert sorted(c.claim_id for c in built.sent.claims) == sorted(d.claim_id for d in a.claims)
        out.append((built.data, [(r.stage, r.data) for r in a.responses]))
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_responses_are_valid_readable_and_balanced(batch: list[Encounter]) -> None:
    """Our validator and readers find nothing in any response; 835s balance (reader findings)."""
    for _, responses in answer(batch):
        for stage, data in responses:
            result = validate(data)
            errors = [str(d) for d in result.defects if str(d.severity) == "error"]
            assert [] == errors, stage
            for doc in read_documents(data):
                assert [] == [f"{f.code}: {f.message}" for f in doc.findings], stage


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_pyx12_accepts_the_responses(batch: list[Encounter]) -> None:
    """pyx12, the reference, finds nothing in the 277CAs and 835s of generated claims."""
    for _, responses in answer(batch):
        for stage, data in responses:
            if stage in (Stage.INTERCHANGE_ACK, Stage.IMPLEMENTATION_ACK):
                continue
            assert [] == [str(d) for d in check(data).defects], stage
