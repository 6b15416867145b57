"""The 837P/837I builder: TR3-conformant files, derived counts, shared HL loops, batching."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.models import Encounter, Kind
from gateway.partners import Partners, load_partners
from gateway.transactions.claim837 import BuildResult, build_837
from gateway.transactions.claim837_common import ClaimWriter
from gateway.transactions.control_numbers import MemoryAllocator
from gateway.validation.pyx12_adapter import check
from gateway.x12 import Writer, X12Error
from tests.support.claim837 import hl_checks, segments

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "encounters"
CREATED = datetime(2026, 11, 20, 9, 30)


def sample_dicts() -> dict[str, dict[str, Any]]:
    """The contract examples, by file name, as decoded JSON."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(SAMPLES.glob("*.json"))}


def encounter(name: str, **changes: Any) -> Encounter:
    """One sample encounter, with top-level fields changed."""
    data = sample_dicts()[name]
    data.update(changes)
    return Encounter.model_validate(data)


def demo_partners(**changes: Any) -> Partners:
    """The demo partner, with fields changed (e.g. ``max_claims_per_transaction``)."""
    partners = load_partners(ROOT / "config" / "partners")
    demo = replace(partners.get("demo-clearinghouse"), **changes)
    return Partners({demo.name: demo}, demo.name)


def build(encounters: list[Encounter], partners: Partners | None = None) -> BuildResult:
    return build_837(encounters, partners or demo_partners(), MemoryAllocator(), created=CREATED)


def claim_copy(base: Encounter, claim_id: str, **changes: Any) -> Encounter:
    return base.model_copy(update={"claim_id": claim_id, **changes})


def test_every_sample_builds_into_files_pyx12_accepts() -> None:
    """The contract examples become one 837P and one 837I file with zero pyx12 findings."""
    result = build([encounter(n) for n in sample_dicts()])
    assert result.left_out == ()
    kinds = sorted(b.sent.kind.value for b in result.interchanges)
    assert kinds == ["institutional", "professional"]
    for built in result.interchanges:
        report = check(built.data)
        assert [str(d) for d in report.defects] == []


def test_round_trip_claim_data_matches_the_encounters() -> None:
    """Tokenizing the output gives back each claim's id, total, diagnoses, lines and dates."""
    encounters = [encounter(n) for n in sample_dicts()]
    result = build(encounters)
    # a replacement or void reuses the claim id of the claim it corrects: key by frequency too
    by_id = {(e.claim_id, e.frequency.value): e for e in encounters}
    seen: list[tuple[str, str]] = []
    for built in result.interchanges:
        current: Encounter | None = None
        line = -1
        for seg in segments(built.data):
            if seg.tag == "CLM":
                current = by_id[(seg[1], seg.component(5, 3))]
                seen.append((current.claim_id, current.frequency.value))
                line = -1
                assert Decimal(seg[2]) == current.computed_total_charge
                assert seg.component(5, 3) == current.frequency.value
            elif seg.tag == "HI" and seg.component(1, 1) == "ABK":
                assert current is not None
                assert seg.component(1, 2) == current.diagnoses[0]
                if current.kind is Kind.PROFESSIONAL:
                    codes = [seg.component(i, 2) for i in range(1, len(seg.elements) + 1)]
                    assert codes == list(current.diagnoses)
            elif seg.tag in ("SV1", "SV2"):
                assert current is not None
                line += 1
                expected = current.service_lines[line]
                charge = seg[2] if seg.tag == "SV1" else seg[3]
                assert Decimal(charge) == expected.charge
                procedure = seg.component(1, 2) if seg.tag == "SV1" else seg.component(2, 2)
                assert procedure == (expected.procedure_code or "")
            elif seg.tag == "DTP" and seg[1] == "472":
                assert current is not None
                service = current.service_lines[line]
                dates = [service.service_date, service.service_date_to or service.service_date]
                text = "-".join(sorted({d.strftime("%Y%m%d") for d in dates}))
                assert (seg[2], seg[3]) == ("RD8" if "-" in text else "D8", text)
            elif seg.tag == "REF" and seg[1] == "6R":
                assert current is not None
                assert seg[2] == current.service_lines[line].line_id
            elif seg.tag == "HL":
                current = None  # a new subscriber or patient loop: its claims follow
    assert sorted(seen) == sorted(by_id)


def test_record_of_what_was_sent_matches_the_file() -> None:
    """InterchangeSent carries the ISA13/GS06/ST02 in the file, the claims of each set, and
    their REF*6R line control numbers."""
    result = build([encounter("professional-self"), encounter("professional-dependent")])
    (built,) = result.interchanges
    segs = segments(built.data)
    tags = {s.tag: s for s in segs}
    sent = built.sent
    assert (sent.isa13, sent.gs06) == (tags["ISA"][13], tags["GS"][6])
    assert [t.st02 for t in sent.transactions] == [s[2] for s in segs if s.tag == "ST"]
    (transaction,) = sent.transactions
    assert transaction.claim_ids == tuple(s[1] for s in segs if s.tag == "CLM")
    controls = {c.claim_id: c.line_control_numbers for c in sent.claims}
    assert controls["VFP-20261101-0001"] == ("VFP0001-1", "VFP0001-2")
    assert sent.total_charge == Decimal("380.50")
    assert sent.claims[0].st02 == transaction.st02


def test_claims_of_one_provider_and_subscriber_share_their_hl_loops() -> None:
    """Three claims of one subscriber: one 2000A, one 2000B, three CLM; counts derived."""
    base = encounter("professional-self")
    claims = [claim_copy(base, f"SHARE-{i}") for i in range(3)]
    (built,) = build(claims).interchanges
    tags = [s.tag for s in segments(built.data)]
    hls = [s for s in segments(built.data) if s.tag == "HL"]
    assert [(s[1], s[2], s[3], s[4]) for s in hls] == [("1", "", "20", "1"), ("2", "1", "22", "0")]
    assert tags.count("CLM") == 3
    hl_checks(built.data)


def test_dependents_get_2000c_and_self_claims_do_not() -> None:
    """A subscriber's own claim sits in 2000B (SBR02 18); a dependent's in 2000C under a 2000B
    without SBR02; two claims of one dependent share their 2000C."""
    own = encounter("professional-dependent", patient=None, claim_id="OWN-1")
    child = encounter("professional-dependent")
    child_again = claim_copy(child, "CHILD-2")
    (built,) = build([own, child, child_again]).interchanges
    segs = segments(built.data)
    shape = [(s[3], s[4]) for s in segs if s.tag == "HL"]
    assert shape == [("20", "1"), ("22", "0"), ("22", "1"), ("23", "0")]
    assert [s[2] for s in segs if s.tag == "SBR"] == ["18", ""]
    assert [s[1] for s in segs if s.tag == "PAT"] == ["19"]
    # DMG for the subscriber only when the subscriber is the patient ("do not send" otherwise)
    loops = [s[1] if s.tag == "NM1" else s.tag for s in segs if s.tag in ("NM1", "DMG")]
    assert [a for a, b in pairwise(loops) if b == "DMG"] == ["IL", "QC"]
    hl_checks(built.data)
    assert check(built.data).ok


def test_more_than_100_claims_of_one_subscriber_repeat_the_loop() -> None:
    """Loop 2300 repeats at most 100 times per HL: 205 claims make three 2000B loops."""
    base = encounter("professional-self")
    claims = [claim_copy(base, f"MANY-{i}") for i in range(205)]
    (built,) = build(claims).interchanges
    segs = segments(built.data)
    subscriber_hls = [s for s in segs if s.tag == "HL" and s[3] == "22"]
    assert len(subscriber_hls) == 3
    clm_per_hl = Counter[str]()
    current = ""
    for s in segs:
        if s.tag == "HL":
            current = s[1]
        elif s.tag == "CLM":
            clm_per_hl[current] += 1
    assert sorted(clm_per_hl.values()) == [5, 100, 100]
    hl_checks(built.data)


def test_sets_hold_at_most_the_partners_claims_per_transaction() -> None:
    """Five claims with two per transaction: one interchange, one GS, three ST sets (2, 2, 1)."""
    base = encounter("professional-self")
    claims = [claim_copy(base, f"SET-{i}") for i in range(5)]
    (built,) = build(claims, demo_partners(max_claims_per_transaction=2)).interchanges
    assert [len(t.claims) for t in built.sent.transactions] == [2, 2, 1]
    segs = segments(built.data)
    assert [s.tag for s in segs].count("GS") == 1
    st02s = [s[2] for s in segs if s.tag == "ST"]
    assert len(set(st02s)) == 3
    hl_checks(built.data)
    assert check(built.data).ok


def two_partners() -> Partners:
    demo = demo_partners().get(None)
    other = replace(demo, name="other-ch", isa_receiver_id="OTHERCH", default=False)
    return Partners({demo.name: demo, other.name: other}, demo.name)


def test_mixed_partners_and_kinds_split_into_one_interchange_each() -> None:
    """Claims for two partners, of both kinds, interleaved: four interchanges, each holding only
    its own partner's claims of its own kind, with distinct ISA13 per partner."""
    names = list(sample_dicts())
    claims: list[Encounter] = []
    for i in range(12):
        name = names[i % len(names)]
        partner = "other-ch" if i % 3 == 0 else None
        claims.append(claim_copy(encounter(name), f"MIX-{i}", partner=partner))
    result = build(claims, two_partners())
    assert result.left_out == ()
    groups = {(b.sent.partner, b.sent.kind): b for b in result.interchanges}
    assert len(groups) == len(result.interchanges) == 4
    for (partner, kind), built in groups.items():
        for claim in built.sent.claims:
            source = next(c for c in claims if c.claim_id == claim.claim_id)
            assert source.kind is kind
            assert (source.partner or "demo-clearinghouse").lower() == partner
        receiver = segments(built.data)[0][8].strip()
        assert receiver == ("OTHERCH" if partner == "other-ch" else "DEMOCLEARING")
        hl_checks(built.data)
    assert sum(len(b.sent.claims) for b in result.interchanges) == 12
    numbers = Counter((b.sent.partner, b.sent.isa13) for b in result.interchanges)
    assert max(numbers.values()) == 1


@pytest.mark.parametrize(
    ("name", "changes", "expected_path"),
    [
        ("professional-self", {"diagnoses": [f"E11{i}" for i in range(13)]}, "diagnoses"),
        ("professional-self", {"place_of_service": None}, "place_of_service"),
        ("professional-self", {"total_charge": "1.00"}, "total_charge"),
        ("institutional-outpatient", {"institutional": None}, "institutional"),
        ("professional-self", {"frequency": "7"}, "original_payer_claim_number"),
        ("institutional-outpatient", {"frequency": "8"}, "original_payer_claim_number"),
    ],
)
def test_claims_the_guide_cannot_carry_are_left_out(
    name: str, changes: dict[str, Any], expected_path: str
) -> None:
    """A claim the TR3 cannot express is reported with its field path; the others still go."""
    bad = encounter(name, claim_id="BAD-1", **changes)
    good = encounter(name)
    result = build([bad, good])
    assert [(x.claim_id, x.path) for x in result.left_out] == [("BAD-1", expected_path)]
    assert [c.claim_id for c in result.claims] == [good.claim_id]


@pytest.mark.parametrize(
    ("last_name", "expected_path"),
    [("DO*E", "subscriber NM103"), ("MÜLLER", "subscriber NM103"), ("O~NEIL", "subscriber NM103")],
)
def test_a_name_x12_cannot_carry_leaves_only_that_claim_out(
    last_name: str, expected_path: str
) -> None:
    """A delimiter or a non-ASCII letter in a name: that claim is left out (reason names the
    element, not the value), the other claims are built into a file pyx12 accepts."""
    data = sample_dicts()["professional-self"]
    data["subscriber"]["last_name"] = last_name
    data["subscriber"]["member_id"] = "OTHER1"
    result = build([Encounter.model_validate(data), encounter("professional-dependent")])
    (item,) = result.left_out
    assert (item.claim_id, item.path) == ("VFP-20261101-0001", expected_path)
    assert last_name not in str(item)
    (built,) = result.interchanges
    assert [c.claim_id for c in built.sent.claims] == ["VFP-20261102-0007"]
    assert check(built.data).ok


def test_frequency_1_only_partner_refuses_replacements() -> None:
    """A partner that accepts only originals gets no frequency-7 claim."""
    result = build(
        [encounter("professional-replacement-drug"), encounter("professional-self")],
        demo_partners(frequency_1_only=True),
    )
    assert [x.path for x in result.left_out] == ["frequency"]
    assert [c.frequency for c in result.claims] == ["1"]


def test_unknown_partner_is_left_out_with_the_known_ones_named() -> None:
    """An encounter naming a partner with no file is reported, not guessed."""
    result = build([encounter("professional-self", partner="nobody")])
    (item,) = result.left_out
    assert (item.path, "demo-clearinghouse" in item.reason) == ("partner", True)


def test_no_control_number_is_spent_on_a_file_never_written() -> None:
    """When every claim of a batch is left out, no ISA13 is allocated for it."""
    allocator = MemoryAllocator()
    bad = encounter("professional-self", place_of_service=None)
    build_837([bad], demo_partners(), allocator, created=CREATED)
    assert allocator.next_isa13("demo-clearinghouse") == 1


def test_partner_delimiters_and_line_breaks_are_used() -> None:
    """A partner with other delimiters and no line breaks gets exactly those."""
    from gateway.x12 import Delimiters

    partners = demo_partners(delimiters=Delimiters("|", "{", "}", "\\"), line_breaks=False)
    (built,) = build([encounter("professional-self")], partners).interchanges
    text = built.data.decode()
    assert text.startswith("ISA|")
    assert "\n" not in text
    assert "|HC}99214}25|" in text
    assert check(built.data).ok


_TEXT = st.text(alphabet="AB1 *:^~-", max_size=4)
_ELEMENT = st.one_of(_TEXT, st.lists(_TEXT, min_size=1, max_size=4))


@settings(max_examples=300, deadline=None)
@given(st.lists(_ELEMENT, max_size=6))
def test_claim_writer_writes_and_refuses_exactly_like_writer(elements: list[Any]) -> None:
    """The builder's fast writer gives Writer's bytes, or raises where Writer raises."""

    def run(writer: Writer) -> str:
        try:
            return writer.segment("REF", *elements)
        except X12Error as exc:
            return f"refused {exc.defect.location.element_ref}"

    assert run(ClaimWriter()) == run(Writer())


ADDRESS = {"line1": "5 FACILITY RD", "line2": "BLDG 2", "city": "SPRINGFIELD", "state": "IL"}
PERSON = {
    "npi": "1245319599",
    "last_name": "LEE",
    "first_name": "KIM",
    "middle_name": "J",
    "suffix": "JR",
    "taxonomy": "207R00000X",
}


def every_optional_professional() -> Encounter:
    """The replacement-drug sample with every optional field of the contract filled in."""
    data = sample_dicts()["professional-replacement-drug"]
    address = {**ADDRESS, "zip": "627011234"}
    data.update(
        pay_to_address={
            "line1": "PO BOX 100",
            "city": "SPRINGFIELD",
            "state": "IL",
            "zip": "627010100",
        },
        supervising_provider=PERSON,
        service_facility={"name": "VALLEY ANNEX", "npi": "1538243019", "address": address},
        related_causes=["AA", "EM"],
        accident_state="IL",
        accident_date="2026-10-30",
        onset_date="2026-10-30",
        initial_treatment_date="2026-10-31",
        last_seen_date="2026-10-01",
        acute_manifestation_date="2026-10-30",
        last_menstrual_period_date="2026-10-10",
        hospitalized_from="2026-11-01",
        hospitalized_to="2026-11-03",
        patient_amount_paid="20.00",
        referral_number="REF1234",
        medical_record_number="MRN77",
        delay_reason_code="1",
        note="PATIENT SEEN AFTER HOURS",
        patient={
            **{k: v for k, v in PERSON.items() if k in ("last_name", "first_name", "suffix")},
            "birth_date": "2010-02-02",
            "gender": "M",
            "relationship_to_subscriber": "19",
            "address": address,
            "death_date": "2026-11-06",
        },
    )
    data["billing_provider"]["contact"] = {
        "name": "BILLING",
        "phone": "2175550100",
        "phone_extension": "12",
        "email": "billing@example.org",
        "fax": "2175550101",
    }
    data["payer"]["address"] = {
        "line1": "PO BOX 740800",
        "city": "ATLANTA",
        "state": "GA",
        "zip": "303740800",
    }
    data["subscriber"].update(middle_name="A", suffix="SR", group_name="ACME CORP")
    line = data["service_lines"][1]
    line.update(
        service_date_to="2026-11-06",
        place_of_service="22",
        emergency=True,
        description="INJECTION DRUG",
        rendering_provider=PERSON,
        prior_authorization="LINEAUTH",
        modifiers=["JW", "59", "XS", "RT"],
    )
    line["ndc"]["prescription_number"] = "RX123"
    return Encounter.model_validate(data)


def every_optional_institutional() -> Encounter:
    """The inpatient sample with every optional field of the contract filled in."""
    data = sample_dicts()["institutional-inpatient"]
    address = {**ADDRESS, "zip": "627011234"}
    data.update(
        operating_provider=PERSON,
        other_operating_provider=PERSON,
        rendering_provider=PERSON,
        referring_provider=PERSON,
        service_facility={"name": "ST MARY ANNEX", "address": address},
        pay_to_address=address,
        prior_authorization="PA9",
        referral_number="R9",
        medical_record_number="MR9",
        note="NOTE",
        delay_reason_code="7",
        diagnoses=[
            "I214",
            "E119",
            "I10",
            "E785",
            "K219",
            "F419",
            "M545",
            "N390",
            "J189",
            "E039",
            "G4733",
            "R51",
            "Z0000",
            "I209",
            "R079",
        ],
        patient={
            "last_name": "KOWALSKI",
            "first_name": "ANN",
            "birth_date": "1960-01-01",
            "gender": "F",
            "relationship_to_subscriber": "01",
            "address": address,
        },
    )
    data["institutional"].update(
        admission_hour=None,
        principal_procedure={"code": "02703ZZ", "date": "2026-10-13"},
        other_procedures=[{"code": "4A023N7", "date": "2026-10-13"}] * 13,
        occurrence_span_codes=[{"code": "74", "from_date": "2026-10-12", "to_date": "2026-10-13"}],
        drg_code="247",
        reason_for_visit_diagnoses=["R079"],
        condition_codes=["39", "40"],
        value_codes=[{"code": "80", "amount": "3"}, {"code": "A1", "amount": "250.00"}],
    )
    data["service_lines"][2].update(
        non_covered_charge="100.00",
        rendering_provider=PERSON,
        modifiers=["26"],
        description="CATH",
        ndc={"code": "00003029305", "quantity": "2.5", "unit": "ML"},
        service_date_to="2026-10-14",
    )
    return Encounter.model_validate(data)


@pytest.mark.parametrize("make", [every_optional_professional, every_optional_institutional])
def test_every_optional_field_builds_into_a_file_pyx12_accepts(make: Any) -> None:
    """All the optional loops and segments at once (pay-to, facility, dates, HI sets, NDC,
    line providers, two HI*ABF and HI*BBQ segments...) still give zero pyx12 findings."""
    result = build([make()])
    assert result.left_out == ()
    (built,) = result.interchanges
    assert [str(d) for d in check(built.data).defects] == []
    hl_checks(built.data)
    text = built.data.decode()
    expected = (
        ["NM1*87*2~", "LIN**N4*00003029305~", "NM1*77*2*"]
        if "005010X222A1" in text
        else ["HI*BBR:02703ZZ:D8:20261013~", "HI*DR:247~", "SV2*0481*HC:93458:26::::CATH*14800"]
    )
    assert [e for e in expected if e not in text] == []


def test_without_keeping_claims_the_record_keeps_counts_and_the_hook_gets_details() -> None:
    """keep_claims=False: interchange records hold counts and totals only; on_transaction
    receives every set's claim ids as it is written."""
    from gateway.transactions.batching import Batcher, MemoryOutputs

    base = encounter("professional-self")
    claims = [claim_copy(base, f"FLAT-{i}") for i in range(5)]
    seen: list[tuple[str, ...]] = []
    outputs = MemoryOutputs()
    batcher = Batcher(
        demo_partners(max_claims_per_transaction=2),
        MemoryAllocator(),
        outputs,
        created=CREATED,
        keep_claims=False,
        on_transaction=lambda sent: seen.append(sent.claim_ids),
    )
    batcher.add_all(claims)
    (sent,) = batcher.close()
    assert seen == [("FLAT-0", "FLAT-1"), ("FLAT-2", "FLAT-3"), ("FLAT-4",)]
    assert (sent.claims, sent.claim_count, sent.total_charge) == ((), 5, Decimal("1137.50"))
