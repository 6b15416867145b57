"""The 999/997, TA1 and 277CA readers: fields, meanings, classification, corpus files."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest

from gateway.models.acknowledgements import StatusClass
from gateway.transactions.ack999 import combined_status, read_implementation_acknowledgement
from gateway.transactions.claim_ack import classify, read_claim_acknowledgement, status_code
from gateway.transactions.ta1 import read_interchange_acknowledgement
from gateway.x12 import read_segments
from tests.conftest import CorpusFile
from tests.support.x12_files import plain_segments

ISA = (
    "ISA*00*          *00*          *ZZ*CLEARING       *ZZ*CLINIC         "
    "*261102*0930*^*00501*000000009*0*T*:~"
)


def interchange(functional_id: str, version: str, st01: str, body: Sequence[str]) -> bytes:
    """One interchange with one group holding one transaction set of ``body``."""
    segments = [f"ST*{st01}*0001*{version}", *body]
    segments.append(f"SE*{len(segments) + 1}*0001")
    lines = [ISA, f"GS*{functional_id}*CLEARING*CLINIC*20261102*0930*9*X*{version}~"]
    lines += [s + "~" for s in segments]
    lines += ["GE*1*9~", "IEA*1*000000009~"]
    return "\n".join(lines).encode()


# -- 999 ------------------------------------------------------------------------------------------

REJECTED_999 = [
    "AK1*HC*17*005010X222A1",
    "AK2*837*0031*005010X222A1",
    "IK5*A",
    "AK2*837*0032*005010X222A1",
    "IK3*CLM*18*2300*8",
    "CTX*CLM01:CLAIM-7",
    "IK4*5:3*1325*7*9",
    "CTX*SITUATIONAL TRIGGER*CLM*18*2300*5:3",
    "IK3*DTP*25*2400*3",
    "IK5*R*5",
    "AK9*P*2*2*1",
]


def test_999_sets_errors_and_meanings() -> None:
    """AK1/AK2/IK3/IK4/CTX/IK5/AK9 are read with every code's meaning."""
    doc = read_implementation_acknowledgement(
        read_segments(interchange("FA", "005010X231A1", "999", REJECTED_999))
    )
    group = doc.acknowledgements[0].groups[0]
    rejected = group.transaction_sets[1]
    clm, dtp = rejected.segment_errors
    element = clm.element_errors[0]
    actual = (
        (group.functional_id, group.group_control_number, group.version),
        (group.status, group.sets_included, group.sets_received, group.sets_accepted),
        [(s.control_number, s.status, s.accepted) for s in group.transaction_sets],
        [(c.code, c.meaning) for c in rejected.error_codes],
        (clm.segment_id, clm.segment_position, clm.loop_id, clm.error_code, clm.error_meaning),
        [(c.context_name, c.context_reference) for c in clm.contexts],
        (element.element_position, element.component_position, element.data_element_reference),
        (element.error_code, element.error_meaning, element.bad_value),
        [(c.context_name, c.segment_id, c.segment_position) for c in element.contexts],
        (dtp.error_code, dtp.error_meaning),
    )
    expected = (
        ("HC", "17", "005010X222A1"),
        ("P", 2, 2, 1),
        [("0031", "A", True), ("0032", "R", False)],
        [("5", "One or more segments in error")],
        ("CLM", 18, "2300", "8", "Segment has data element errors"),
        [("CLM01", "CLAIM-7")],
        (5, 3, "1325"),
        ("7", "Invalid code value", "9"),
        [("SITUATIONAL TRIGGER", "CLM", 18)],
        ("3", "Required segment missing"),
    )
    assert expected == actual
    assert (2, 1, 1, "P") == (
        doc.summary.sets,
        doc.summary.accepted,
        doc.summary.rejected,
        doc.summary.group_status,
    )


def test_997_is_read_with_ak3_ak4_ak5() -> None:
    """A 4010-style 997 uses AK3/AK4/AK5 in place of IK3/IK4/IK5 and reads the same way."""
    body = ["AK1*HC*1", "AK2*837*0001", "AK3*NM1*8**8", "AK4*2*98*7*XX", "AK5*R*5", "AK9*R*1*1*0"]
    doc = read_implementation_acknowledgement(
        read_segments(interchange("FA", "004010", "997", body))
    )
    response = doc.acknowledgements[0].groups[0].transaction_sets[0]
    actual = (
        doc.transaction,
        response.status,
        response.segment_errors[0].segment_id,
        response.segment_errors[0].element_errors[0].error_meaning,
    )
    assert ("997", "R", "NM1", "Invalid code value") == actual


def test_unknown_ack_codes_are_shown_as_unknown() -> None:
    """An IK304 or IK502 code not in the lists reads as 'unknown code'."""
    body = ["AK1*HC*1*005010X222A1", "AK2*837*0001", "IK3*NM1*8**Z9", "IK5*R*Z8", "AK9*R*1*1*0"]
    doc = read_implementation_acknowledgement(
        read_segments(interchange("FA", "005010X231A1", "999", body))
    )
    response = doc.acknowledgements[0].groups[0].transaction_sets[0]
    actual = (response.segment_errors[0].error_meaning, response.error_codes[0].meaning)
    assert ("unknown code", "unknown code") == actual


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], ""),
        (["A"], "A"),
        (["A", "A"], "A"),
        (["A", "R"], "P"),
        (["E", "A"], "E"),
        (["R", "R"], "R"),
        (["P", "A"], "P"),
    ],
)
def test_combined_group_status(statuses: list[str], expected: str) -> None:
    """Several groups' AK901 combine into one file status."""
    assert expected == combined_status(statuses)


# -- TA1 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ta1", "expected"),
    [
        (
            "TA1*000000017*261102*0930*R*006",
            ("000000017", date(2026, 11, 2), "0930", "R", "006", "Invalid interchange sender ID"),
        ),
        (
            "TA1*000000018*261102*0931*A*000",
            ("000000018", date(2026, 11, 2), "0931", "A", "000", "No error"),
        ),
        (
            "TA1*000000019*261102*0932*E*099",
            ("000000019", date(2026, 11, 2), "0932", "E", "099", "unknown code"),
        ),
    ],
)
def test_ta1_fields_and_note_meaning(ta1: str, expected: tuple[object, ...]) -> None:
    """A TA1 gives the acknowledged ISA13, its date and time, the verdict and the note's meaning."""
    data = f"{ISA}\n{ta1}~\nIEA*0*000000009~".encode()
    ack = read_interchange_acknowledgement(read_segments(data)).acknowledgements[0]
    actual = (
        ack.control_number,
        ack.interchange_date,
        ack.interchange_time,
        ack.status,
        ack.note_code,
        ack.note_meaning,
    )
    assert expected == actual


# -- 277CA ----------------------------------------------------------------------------------------

CA_277 = [
    "BHT*0085*08*BATCH1*20261102*1015*TH",
    "HL*1**20*1",
    "NM1*PR*2*CLEARING*****46*CH1",
    "HL*2*1*21*1",
    "NM1*41*2*CLINIC*****46*CL1",
    "TRN*2*FILE-17",
    "STC*A1:19*20261102*WQ*300.00",
    "QTY*90*1",
    "QTY*AA*1",
    "HL*3*2*19*1",
    "NM1*85*2*CLINIC*****XX*1234567893",
    "TRN*1*PRV1",
    "STC*A1:19:85**WQ*300.00",
    "HL*4*3*PT",
    "NM1*QC*1*DOE*JANE****MI*M1",
    "TRN*2*CLAIM-1",
    "STC*A2:20*20261102*WQ*100.00",
    "REF*1K*PCN1",
    "REF*D9*CH-1",
    "DTP*472*D8*20261101",
    "HL*5*3*PT",
    "NM1*QC*1*ROE*RICH****MI*M2",
    "TRN*2*CLAIM-2",
    "STC*A7:562:85*20261102*U*200.00",
    "REF*D9*CH-2",
    "DTP*472*RD8*20261030-20261031",
    "SVC*HC:36415*50",
    "STC*A7:454*20261102*U",
    "REF*FJ*LINE-2-1",
    "DTP*472*D8*20261030",
]


def test_277ca_claims_statuses_and_lines() -> None:
    """Each claim has our id, payer and clearinghouse ids, dates, STCs with meanings and lines."""
    doc = read_claim_acknowledgement(read_segments(interchange("HN", "005010X214", "277", CA_277)))
    ack = doc.acknowledgements[0]
    first, second = ack.claims
    stc = second.statuses[0].codes[0]
    line = second.lines[0]
    actual = (
        (first.claim_id, first.payer_claim_control_number, first.clearinghouse_claim_id),
        (first.total_charge, first.service_date, first.classification, first.provider_id),
        (second.claim_id, second.classification, second.service_date, second.service_date_end),
        (stc.category, stc.status, stc.entity, stc.entity_meaning, stc.classification),
        stc.status_meaning,
        second.statuses[0].action_meaning,
        (line.procedure_code, line.charge, line.line_control_number, line.classification),
        [(q.qualifier, q.value) for q in ack.receivers[0].quantities],
        ack.receivers[0].trace_numbers,
        doc.transaction,
    )
    expected = (
        ("CLAIM-1", "PCN1", "CH-1"),
        (Decimal("100.00"), date(2026, 11, 1), StatusClass.ACCEPTED, "1234567893"),
        ("CLAIM-2", StatusClass.REJECTED, date(2026, 10, 30), date(2026, 10, 31)),
        ("A7", "562", "85", "Billing provider", StatusClass.REJECTED),
        "Entity's National Provider Identifier (NPI). "
        "Usage: This code requires use of an Entity Code.",
        "Reject",
        ("36415", Decimal("50"), "LINE-2-1", StatusClass.REJECTED),
        [("90", Decimal("1")), ("AA", Decimal("1"))],
        ["FILE-17"],
        "277CA",
    )
    assert expected == actual
    assert (2, 1, 1, 0) == (
        doc.summary.claims,
        doc.summary.accepted,
        doc.summary.rejected,
        doc.summary.pending,
    )


@pytest.mark.parametrize(
    ("composite", "expected"),
    [
        (["A1", "19"], StatusClass.ACCEPTED),
        (["A2", "20"], StatusClass.ACCEPTED),
        (["A3", "21"], StatusClass.REJECTED),
        (["A4", "35"], StatusClass.REJECTED),
        (["A6", "21"], StatusClass.REJECTED),
        (["A7", "562", "85"], StatusClass.REJECTED),
        (["A8", "21"], StatusClass.REJECTED),
        (["P1", "20"], StatusClass.PENDING),
        (["F2", "88"], StatusClass.FINALIZED),
        (["Q9", "1"], StatusClass.UNKNOWN),
    ],
)
def test_status_category_classification(composite: list[str], expected: StatusClass) -> None:
    """Each claim status category reads as accepted, rejected, pending, finalized or unknown."""
    assert expected == status_code(composite).classification


def test_rejection_outweighs_acceptance() -> None:
    """A claim with an accepted and a rejected STC is rejected; pending outweighs accepted."""
    actual = (
        classify([StatusClass.ACCEPTED, StatusClass.REJECTED]),
        classify([StatusClass.ACCEPTED, StatusClass.PENDING]),
        classify([]),
    )
    assert (StatusClass.REJECTED, StatusClass.PENDING, StatusClass.UNKNOWN) == actual


def test_claim_status_response_is_read_leniently() -> None:
    """A 277 claim status response (X212, HL 22/23 levels) yields its claims too."""
    body = [
        "BHT*0010*08*X*20261102*0810*DG",
        "HL*1**20*1",
        "NM1*PR*2*PLAN*****PI*1",
        "HL*2*1*21*1",
        "NM1*41*2*CLINIC*****46*C",
        "HL*3*2*19*1",
        "NM1*1P*2*CLINIC*****XX*1234567893",
        "HL*4*3*22*0",
        "NM1*IL*1*DOE*JOHN****MI*M9",
        "TRN*2*CLAIM-9",
        "STC*F1:65*20261101**100.00*100.00",
        "REF*1K*PCN9",
    ]
    doc = read_claim_acknowledgement(read_segments(interchange("HN", "005010X212", "277", body)))
    claim = doc.acknowledgements[0].claims[0]
    actual = (doc.transaction, claim.claim_id, claim.member_id, claim.classification)
    assert ("277", "CLAIM-9", "M9", StatusClass.FINALIZED) == actual


# -- the corpus -----------------------------------------------------------------------------------


def _plain_counts(data: bytes) -> dict[str, int]:
    """AK2 loops in 999/997 sets, claim TRNs under patient-level HLs of 277s, and TA1 segments."""
    counts = {"sets": 0, "claims": 0, "ta1": 0}
    kind = ""
    level = ""
    for parts in plain_segments(data):
        tag = parts[0]
        if tag == "ST":
            kind = parts[1] if len(parts) > 1 else ""
        elif tag == "TA1":
            counts["ta1"] += 1
        elif tag == "AK2" and kind in ("999", "997"):
            counts["sets"] += 1
        elif tag == "HL" and kind == "277":
            level = parts[3] if len(parts) > 3 else ""
        elif tag == "TRN" and kind == "277" and level in ("PT", "22", "23"):
            counts["claims"] += 1
    return counts


def test_corpus_acknowledgements_read_and_agree_with_segment_counts(
    corpus: list[CorpusFile],
) -> None:
    """Each 277, 999, 997 and TA1 reads (no crash); sets, claims and TA1s match plain counts."""
    rows = [r for r in corpus if any(k in r.transaction_set for k in ("277", "999", "997", "TA1"))]
    assert len(rows) >= 45
    disagreements = []
    for row in rows:
        data = row.path.read_bytes()
        expected = _plain_counts(data)
        actual = {
            "sets": read_implementation_acknowledgement(read_segments(data)).summary.sets,
            "claims": read_claim_acknowledgement(read_segments(data)).summary.claims,
            "ta1": read_interchange_acknowledgement(read_segments(data)).summary.acknowledgements,
        }
        if expected != actual:
            disagreements.append((row.path.name, expected, actual))
    assert [] == disagreements
