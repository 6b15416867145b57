"""The pure 837 reader (transactions.claim837_reader) and the simulator's response writers."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.encounters import read_encounter_file
from gateway.models import Encounter
from gateway.models.acknowledgements import (
    ClaimAcknowledgementDocument,
    InterchangeAcknowledgementDocument,
)
from gateway.models.remittance import RemittanceDocument
from gateway.transactions.claim837_reader import (
    LooseHeader,
    read_loose_header,
    read_submission,
)
from gateway.transactions.claim_ack_writer import AckClaim, AckSet, write_claim_acks
from gateway.transactions.reader import read_documents
from gateway.transactions.remittance_writer import (
    PaidClaim,
    PaidLine,
    RemittanceSet,
    line_adjustment,
    provider_adjustment,
    write_remittances,
)
from gateway.transactions.response_writer import Addressing, write_interchange_rejection

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
WHEN = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
TO = Addressing(
    "ZZ", "DEMOCLEARING", "ZZ", "VALLEYGATEWAY", "DEMOCLEARING", "VALLEYGATEWAY", "T", WHEN
)


def sample_encounters(kind: str) -> dict[str, list[Encounter]]:
    """The single-encounter samples of one kind, by claim id (a replacement repeats an id)."""
    found: dict[str, list[Encounter]] = {}
    paths = sorted((SAMPLES / "encounters").glob("*.*"))
    for path in [p for p in paths if "batch" not in p.name]:
        for record in read_encounter_file(path):
            assert record.encounter is not None
            if record.encounter.kind.value == kind:
                found.setdefault(record.encounter.claim_id, []).append(record.encounter)
    return found


@pytest.mark.parametrize(
    ("file", "kind"),
    [("837P-samples.x12", "professional"), ("837I-samples.x12", "institutional")],
)
def test_reader_finds_every_sample_claim_with_its_lines_and_amounts(file: str, kind: str) -> None:
    """Each claim of a sample 837 is read with the charges and line ids its encounter had."""
    submission = read_submission((SAMPLES / "x12" / file).read_bytes())
    encounters = sample_encounters(kind)
    claims = {c.claim_id for c in submission.claims}
    # every claim of the golden file is a sample's, and every sample without other payers is in
    # it (the coordination-of-benefits samples join the goldens with the 2320/2330/2430 loops)
    assert claims <= set(encounters)
    plain = {claim_id for claim_id, found in encounters.items() if not found[0].other_payers}
    assert plain <= claims
    for claim in submission.claims:
        assert kind == claim.kind
        assert claim.total_charge == sum((ln.charge for ln in claim.lines), Decimal(0))
        candidates = encounters[claim.claim_id]
        assert any(
            [ln.line_id for ln in e.service_lines] == [ln.control_number for ln in claim.lines]
            and [ln.charge for ln in e.service_lines] == [ln.charge for ln in claim.lines]
            for e in candidates
        ), claim.claim_id
        assert len(claim.digest) == 64
    assert [s.set_control for s in submission.sets] == sorted(
        {c.set_control for c in submission.claims}
    )
    assert "VALLEYGATEWAY" == submission.sender_id


def test_reader_keeps_the_patient_apart_from_the_subscriber() -> None:
    """A dependant's claim names the patient (2010CA) and the subscriber separately."""
    submission = read_submission((SAMPLES / "x12" / "837P-samples.x12").read_bytes())
    dependants = [c for c in submission.claims if not c.patient_is_subscriber]
    assert dependants
    for claim in dependants:
        assert claim.patient_last
        assert claim.member_id
        assert (claim.patient_last, claim.patient_first) != ("", "")


def test_reader_is_lenient_with_a_claim_without_lines() -> None:
    """A CLM with no LX is read with no lines, never an error (the validator judges the file)."""
    data = (
        b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261121*0800*^*00501"
        b"*000000001*0*T*:~GS*HC*A*B*20261121*0800*1*X*005010X222A1~ST*837*0001*005010X222A1~"
        b"BHT*0019*00*B1*20261121*0800*CH~HL*1**20*1~NM1*85*2*CLINIC*****XX*1234567893~"
        b"HL*2*1*22*0~SBR*P*18*******CI~NM1*IL*1*DOE*JANE****MI*M1~NM1*PR*2*PAYER*****PI*60054~"
        b"CLM*C1*12.5***11:B:1~SE*9*0001~GE*1*1~IEA*1*000000001~"
    )
    (claim,) = read_submission(data).claims
    assert ("C1", Decimal("12.5"), [], "60054", "1234567893") == (
        claim.claim_id, claim.total_charge, claim.lines, claim.payer_id, claim.billing_npi,
    )  # fmt: skip


PADDED = (
    b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    b"*261121*0800*^*00501*000000042*1*T*:~"
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*261121*0800*^*00501*000000042*1*T*:~",
            LooseHeader("ZZ", "SENDER", "ZZ", "RECEIVER", "261121", "0800", "000000042", "T"),
        ),
        (
            b"\xef\xbb\xbf" + PADDED,  # a byte-order mark is not a header, latin-1 sees 3 chars
            None,
        ),
        (PADDED, LooseHeader("ZZ", "SENDER", "ZZ", "RECEIVER", "261121", "0800", "000000042", "T")),
        (b"ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*261121*0800*^*00501*42*1*T*:~", None),
        (b"ISA*00**00**zz*SENDER*ZZ*RECEIVER*261121*0800*^*00501*000000042*1*T*:~", None),
        (b"ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*261121*0800*^*00501*000000042*1*X*:~", None),
        (b"GS*HC*A*B~", None),
        (b"ISA*00*short", None),
    ],
)
def test_loose_header_reads_only_plausible_headers(
    data: bytes, expected: LooseHeader | None
) -> None:
    """A trimmed ISA is read when every field has its shape, and refused otherwise."""
    assert expected == read_loose_header(data)


def test_interchange_rejection_is_a_ta1_our_reader_understands() -> None:
    """The TA1 rejecting a loosely read interchange names its control number and note."""
    data = write_interchange_rejection(TO, 7, "000000042", "261121", "0800", "022")
    (doc,) = read_documents(data)
    assert isinstance(doc, InterchangeAcknowledgementDocument)
    (ack,) = doc.acknowledgements
    assert ("000000042", "R", "022") == (ack.control_number, ack.status, ack.note_code)


def test_written_277ca_and_835_read_back_with_the_amounts_given() -> None:
    """The 277CA and 835 writers produce files our readers read back claim for claim."""
    submission = read_submission((SAMPLES / "x12" / "837P-samples.x12").read_bytes())
    first, second = submission.claims[:2]
    acks = AckSet("AY", "CH", "46", "CH01", "SUB", "S1", "B1", "T1", (
        AckClaim(first, "A1:19", True, "CH1"),
        AckClaim(second, "A7:164:IL", False, "CH2"),
    ))  # fmt: skip
    (ack_doc,) = read_documents(write_claim_acks(TO, 8, [acks]))
    assert isinstance(ack_doc, ClaimAcknowledgementDocument)
    (ack,) = ack_doc.acknowledgements
    statuses = {c.claim_id: c.statuses[0].codes[0].category for c in ack.claims}
    assert {first.claim_id: "A1", second.claim_id: "A7"} == statuses

    lines = tuple(
        PaidLine(ln, ln.charge - Decimal("10"), (line_adjustment("CO", "45", Decimal("10")),))
        for ln in first.lines
    )
    paid = PaidClaim(first, "1", "PCN1", lines)
    recovery = provider_adjustment("1234567893", date(2026, 12, 31), "WO", "OVP1", Decimal("5"))
    remit = RemittanceSet("60054", "AETNA", "1234567893", "CLINIC", "EFT1", (paid,), (recovery,))
    (remit_doc,) = read_documents(write_remittances(TO, 9, [remit]))
    assert isinstance(remit_doc, RemittanceDocument)
    (remittance,) = remit_doc.remittances
    (claim,) = remittance.claims
    assert first.claim_id == claim.claim_id
    assert first.total_charge - 10 * len(first.lines) == claim.paid_amount
    assert claim.paid_amount - 5 == remittance.header.payment_amount
    assert [("CO", "45")] == sorted(
        {(a.group, a.reason) for ln in claim.lines for a in ln.adjustments}
    )
    (plb,) = remittance.provider_adjustments
    assert ("1234567893", date(2026, 12, 31), "WO", "OVP1") == (
        plb.provider_identifier, plb.fiscal_period_date, plb.reason, plb.reference,
    )  # fmt: skip


def test_response_dates_keep_four_digit_years() -> None:
    """A service date in year 5 is written 00050101 (strftime once wrote 50101, not a D8)."""
    data = (
        b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261121*0800*^*00501"
        b"*000000001*0*T*:~GS*HC*A*B*20261121*0800*1*X*005010X222A1~ST*837*0001*005010X222A1~"
        b"BHT*0019*00*B1*20261121*0800*CH~HL*1**20*1~NM1*85*2*CLINIC*****XX*1234567893~"
        b"HL*2*1*22*0~SBR*P*18*******CI~NM1*IL*1*DOE*JANE****MI*M1~NM1*PR*2*PAYER*****PI*60054~"
        b"CLM*C1*12.5***11:B:1~LX*1~SV1*HC:99213*12.5*UN*1***1~DTP*472*D8*00050101~"
        b"SE*12*0001~GE*1*1~IEA*1*000000001~"
    )
    (claim,) = read_submission(data).claims
    acks = AckSet("AY", "CH", "46", "CH01", "SUB", "S1", "B1", "T1", (
        AckClaim(claim, "A1:19", True, "CH1"),
    ))  # fmt: skip
    assert b"DTP*472*D8*00050101~" in write_claim_acks(TO, 8, [acks])
    lines = (PaidLine(claim.lines[0], Decimal("12.5")),)
    remit = RemittanceSet(
        "60054", "P", "1234567893", "C", "EFT1", (PaidClaim(claim, "1", "P1", lines),)
    )
    assert b"DTM*472*00050101~" in write_remittances(TO, 9, [remit])
