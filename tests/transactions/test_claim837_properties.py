"""Properties: any valid encounter builds into an 837 that pyx12 finds no error in, and any mix
of them splits into interchanges with consistent counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.models import Encounter
from gateway.partners import Partners, load_partners
from gateway.transactions.claim837 import build_837
from gateway.transactions.control_numbers import MemoryAllocator
from gateway.validation.pyx12_adapter import check
from gateway.validation.validator import validate
from tests.support.claim837 import hl_checks
from tests.support.strategies import (
    cob_encounters,
    institutional_encounters,
    professional_encounters,
)

PARTNERS = load_partners(Path(__file__).resolve().parents[2] / "config" / "partners")
CREATED = datetime(2026, 11, 20, 9, 30)
# pyx12 is slow (tens of milliseconds per small file): keep the example counts modest
PYX12_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def assert_pyx12_accepts(batch: list[Encounter]) -> None:
    result = build_837(batch, PARTNERS, MemoryAllocator(), created=CREATED)
    assert [str(x) for x in result.left_out] == []
    assert sum(len(b.sent.claims) for b in result.interchanges) == len(batch)
    for built in result.interchanges:
        report = check(built.data)
        assert [str(d) for d in report.defects] == []
        hl_checks(built.data)


@PYX12_SETTINGS
@given(professional_encounters())
def test_any_professional_encounter_passes_pyx12(encounter: Encounter) -> None:
    """A generated 837P claim is TR3-conformant as pyx12 judges it."""
    assert_pyx12_accepts([encounter])


# generated institutional encounters bill under an EIN: an SSN on an 837I is a scrubber error
# (E-TAX-ID-TYPE-INSTITUTIONAL) that the builder also refuses (tested in test_claim837.py)
SENDABLE_INSTITUTIONAL = institutional_encounters()


@PYX12_SETTINGS
@given(SENDABLE_INSTITUTIONAL)
def test_any_institutional_encounter_passes_pyx12(encounter: Encounter) -> None:
    """A generated 837I claim is TR3-conformant as pyx12 judges it."""
    assert_pyx12_accepts([encounter])


@PYX12_SETTINGS
@given(st.one_of(cob_encounters("professional"), cob_encounters("institutional")))
def test_any_claim_with_other_payers_passes_our_validator_and_pyx12(encounter: Encounter) -> None:
    """A generated primary, secondary or tertiary claim naming the patient's other payers (with
    their adjudications, line by line or claim level) is accepted by our validator and pyx12."""
    result = build_837([encounter], PARTNERS, MemoryAllocator(), created=CREATED)
    assert [str(x) for x in result.left_out] == []
    (built,) = result.interchanges
    assert [str(d) for d in validate(built.data).defects] == []
    assert [str(d) for d in check(built.data).defects] == []
    tags = [s.split("*", 1)[0].strip() for s in built.data.decode("ascii").split("~")]
    assert tags.count("SBR") == 1 + len(encounter.other_payers)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(professional_encounters(), SENDABLE_INSTITUTIONAL), min_size=2, max_size=5)
)
def test_any_mix_builds_into_valid_interchanges(batch: list[Encounter]) -> None:
    """Several encounters of both kinds: one interchange per kind, all claims in, counts right."""
    unique = list({e.claim_id: e for e in batch}.values())
    assert_pyx12_accepts(unique)


def two_partner_config(max_claims: int) -> Partners:
    demo = replace(PARTNERS.get(None), max_claims_per_transaction=max_claims)
    other = replace(demo, name="other-ch", isa_receiver_id="OTHERCH", default=False)
    return Partners({demo.name: demo, other.name: other}, demo.name)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.one_of(professional_encounters(), SENDABLE_INSTITUTIONAL),
            st.sampled_from([None, "demo-clearinghouse", "OTHER-CH"]),
        ),
        min_size=1,
        max_size=10,
    ),
    st.integers(1, 4),
)
def test_mixed_partners_and_kinds_always_split_correctly(
    batch: list[tuple[Encounter, str | None]], max_claims: int
) -> None:
    """Random partners, kinds and set sizes: every claim lands exactly once, in the interchange
    of its partner and kind, in sets of at most max_claims, with counts and HL parents right and
    no control number used twice for a partner."""
    encounters = [
        e.model_copy(update={"claim_id": f"P{i}", "partner": p}) for i, (e, p) in enumerate(batch)
    ]
    result = build_837(
        encounters, two_partner_config(max_claims), MemoryAllocator(), created=CREATED
    )
    assert result.left_out == ()
    placed = {
        c.claim_id: (b.sent.partner, b.sent.kind)
        for b in result.interchanges
        for c in b.sent.claims
    }
    expected = {
        e.claim_id: ((e.partner or "demo-clearinghouse").lower(), e.kind) for e in encounters
    }
    assert placed == expected
    numbers: set[tuple[str, str, str]] = set()
    for built in result.interchanges:
        assert all(t.claim_count <= max_claims for t in built.sent.transactions)
        hl_checks(built.data)
        for key in [("isa13", built.sent.isa13), ("gs06", built.sent.gs06)] + [
            ("st02", t.st02) for t in built.sent.transactions
        ]:
            assert (built.sent.partner, *key) not in numbers
            numbers.add((built.sent.partner, *key))
