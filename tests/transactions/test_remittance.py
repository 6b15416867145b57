"""The 835 reader: models, streaming order, balancing findings, outcomes, leniency, properties."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.models.remittance import Claim, ClaimOutcome, RemittanceHeader
from gateway.transactions import remittance
from gateway.transactions.remittance import (
    AMOUNT_INVALID,
    CLAIM_BALANCE,
    CLAIM_LINES_BALANCE,
    LINE_BALANCE,
    TRANSACTION_BALANCE,
    RemittanceEnd,
    claim_outcome,
    iter_remittance,
    read_remittance,
)
from gateway.x12 import read_segments

ISA = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVIDER       "
    "*261201*0800*^*00501*000000001*0*T*:~"
)
HEADER = [
    "BPR*I*{payment}*C*ACH*CCP*01*071000013*DA*123456789*1512345678**01*111000025*DA*987654321"
    "*20261201",
    "TRN*1*EFT0001*1512345678",
    "N1*PR*EXAMPLE PLAN",
    "N1*PE*EXAMPLE CLINIC*XX*1234567893",
    "LX*1",
]


def x835(body: Sequence[str], payment: str, *, sets: int = 1) -> bytes:
    """An interchange holding ``sets`` copies of one 835 with ``body`` after its header."""
    out = [ISA, "GS*HP*PAYER*PROVIDER*20261201*0800*1*X*005010X221A1~"]
    for number in range(1, sets + 1):
        segments = [f"ST*835*{number:04d}"]
        segments += [s.format(payment=payment) for s in HEADER]
        segments += list(body)
        segments.append(f"SE*{len(segments) + 1}*{number:04d}")
        out += [s + "~" for s in segments]
    out += [f"GE*{sets}*1~", "IEA*1*000000001~"]
    return "\n".join(out).encode()


PAID = [
    "CLP*C1*1*100.00*70.00*10.00*12*PCN1",
    "NM1*QC*1*DOE*JANE****MI*M1",
    "SVC*HC:99213:25*100.00*70.00**1",
    "DTM*472*20261101",
    "CAS*CO*45*20.00",
    "CAS*PR*2*10.00",
    "REF*6R*L1",
    "AMT*B6*80.00",
    "LQ*HE*N130",
]


def test_claim_fields_are_read_into_the_model() -> None:
    """A paid claim's CLP, names, line, adjustments, references and remarks land in their fields."""
    doc = read_remittance(read_segments(x835(PAID, "70.00")))
    claim = doc.remittances[0].claims[0]
    line = claim.lines[0]
    actual = (
        claim.claim_id,
        claim.status_code,
        claim.total_charge,
        claim.paid_amount,
        claim.patient_responsibility,
        claim.claim_filing_indicator,
        claim.payer_claim_control_number,
        claim.patient.last_name if claim.patient else None,
        line.procedure.code if line.procedure else None,
        line.procedure.modifiers if line.procedure else None,
        line.line_control_number,
        line.allowed_amount,
        line.service_date,
        [(a.group, a.reason, a.amount) for a in line.adjustments],
        [(r.code, r.source) for r in line.remarks],
        claim.outcome,
    )
    expected = (
        "C1",
        "1",
        Decimal("100.00"),
        Decimal("70.00"),
        Decimal("10.00"),
        "12",
        "PCN1",
        "DOE",
        "99213",
        ["25"],
        "L1",
        Decimal("80.00"),
        date(2026, 11, 1),
        [("CO", "45", Decimal("20.00")), ("PR", "2", Decimal("10.00"))],
        [("N130", "LQ*HE")],
        ClaimOutcome.PAID,
    )
    assert expected == actual
    assert doc.summary.balanced
    assert [] == doc.findings


def test_header_comes_before_claims_and_end_after() -> None:
    """The stream yields the header, each claim as its loop ends, then the set's end."""
    body = [*PAID, "CLP*C2*4*50.00*0*0*12*PCN2", "CAS*CO*50*50.00"]
    kinds = [type(item).__name__ for item in iter_remittance(read_segments(x835(body, "70.00")))]
    assert ["RemittanceHeader", "Claim", "Claim", "RemittanceEnd"] == kinds


def test_header_fields() -> None:
    """BPR, TRN and the N1 loops fill the header."""
    items = list(iter_remittance(read_segments(x835(PAID, "70.00"))))
    header = items[0]
    assert isinstance(header, RemittanceHeader)
    actual = (
        header.payment_amount,
        header.payment_method,
        header.payment_date,
        header.trace_number,
        header.payer.name if header.payer else None,
        header.payee.identifier if header.payee else None,
        header.envelope.transaction_control_number,
        header.envelope.version,
    )
    expected = (
        Decimal("70.00"),
        "ACH",
        date(2026, 12, 1),
        "EFT0001",
        "EXAMPLE PLAN",
        "1234567893",
        "0001",
        "005010X221A1",
    )
    assert expected == actual


@pytest.mark.parametrize(
    ("body", "payment", "expected"),
    [
        pytest.param(PAID, "70.00", ClaimOutcome.PAID, id="paid"),
        pytest.param(
            ["CLP*C*4*50*0*0*12*P", "CAS*CO*50*50"], "0", ClaimOutcome.DENIED, id="denied-clp02-4"
        ),
        pytest.param(
            ["CLP*C*1*50*0*0*12*P", "CAS*CO*16*50"],
            "0",
            ClaimOutcome.DENIED,
            id="zero-pay-denied-by-codes",
        ),
        pytest.param(
            ["CLP*C*1*50*0*40*12*P", "CAS*CO*45*10", "CAS*PR*1*40"],
            "0",
            ClaimOutcome.PATIENT_RESPONSIBILITY,
            id="deductible",
        ),
        pytest.param(
            [
                "CLP*C*1*150*80*0*12*P",
                "SVC*HC:99213*100*80**1",
                "CAS*CO*45*20",
                "SVC*HC:36415*50*0**1",
                "CAS*CO*97*50",
            ],
            "80",
            ClaimOutcome.PARTIALLY_PAID,
            id="partially-paid",
        ),
        pytest.param(
            ["CLP*C*22*-50*-40*0*12*P", "CAS*CO*45*-10"],
            "-40",
            ClaimOutcome.REVERSED,
            id="reversal",
        ),
        pytest.param(["CLP*C*23*50*0*0*12*P", "CAS*OA*109*50"], "0", ClaimOutcome.NOT_OUR_CLAIM),
        pytest.param(["CLP*C*25*50*0*0*12*P", "CAS*OA*101*50"], "0", ClaimOutcome.PREDETERMINATION),
    ],
)
def test_outcome_is_judged_from_amounts_and_codes(
    body: list[str], payment: str, expected: ClaimOutcome
) -> None:
    """Each outcome comes from status, amounts and adjustment codes together."""
    doc = read_remittance(read_segments(x835(body, payment.lstrip("-"))))
    claim = doc.remittances[0].claims[0]
    assert expected == claim.outcome
    assert (expected is ClaimOutcome.REVERSED) == claim.is_reversal


@pytest.mark.parametrize(
    ("body", "payment", "expected"),
    [
        pytest.param(PAID, "70.00", [], id="balanced"),
        pytest.param(
            [
                s.replace("SVC*HC:99213:25*100.00*70.00", "SVC*HC:99213:25*100.00*71.00")
                for s in PAID
            ],
            "70.00",
            [
                (LINE_BALANCE, "SVC", 3, "70.00", "71.00"),
                (CLAIM_LINES_BALANCE, "CLP", 4, "71.00", "70.00"),
            ],
            id="line-paid",
        ),
        pytest.param(
            [s.replace("CAS*CO*45*20.00", "CAS*CO*45*21.00") for s in PAID],
            "70.00",
            [
                (LINE_BALANCE, "SVC", 3, "69.00", "70.00"),
                (CLAIM_BALANCE, "CLP", 4, "69.00", "70.00"),
            ],
            id="line-adjustment",
        ),
        pytest.param(
            [s.replace("CLP*C1*1*100.00", "CLP*C1*1*101.00") for s in PAID],
            "70.00",
            [(CLAIM_BALANCE, "CLP", 4, "71.00", "70.00")],
            id="claim-charge",
        ),
        pytest.param(
            PAID,
            "70.01",
            [(TRANSACTION_BALANCE, "BPR", 2, "70.00", "70.01")],
            id="transaction",
        ),
        pytest.param(
            [*PAID, "PLB*1234567893*20261231*WO:PCN9*5.00"],
            "65.00",
            [],
            id="plb-balances",
        ),
    ],
)
def test_balancing_findings_are_located_with_amounts(
    body: list[str], payment: str, expected: list[tuple[str, str, int, str, str]]
) -> None:
    """Every imbalance is a finding at the right element with the expected and stated amounts."""
    doc = read_remittance(read_segments(x835(body, payment)))
    actual = [
        (
            f.code,
            f.location.tag if f.location else None,
            f.location.element if f.location else None,
            str(f.expected),
            str(f.actual),
        )
        for f in doc.findings
    ]
    assert expected == actual
    assert (not expected) == doc.summary.balanced


def test_debit_payment_balances_against_negative_total() -> None:
    """BPR03 D (a debit) states a negative payment: claims taking money back balance against it."""
    body = ["CLP*C*22*-50*-40*0*12*P", "CAS*CO*45*-10"]
    data = x835(body, "40.00").replace(b"BPR*I*40.00*C*", b"BPR*I*40.00*D*")
    doc = read_remittance(read_segments(data))
    assert [] == doc.findings


def test_invalid_amount_is_a_finding_and_reads_as_zero() -> None:
    """A non-numeric CLP04 is reported where it is and counted as 0; the reader does not stop."""
    body = ["CLP*C*1*50*ABC*0*12*P", "CAS*CO*45*50"]
    doc = read_remittance(read_segments(x835(body, "0")))
    codes = [(f.code, f.location.element if f.location else None) for f in doc.findings]
    assert [(AMOUNT_INVALID, 4)] == codes
    assert Decimal(0) == doc.remittances[0].claims[0].paid_amount


def test_unknown_codes_are_shown_as_unknown() -> None:
    """Codes missing from the code lists read as 'unknown code' and never fail the file."""
    body = ["CLP*C*77*50*0*0*12*P", "CAS*ZZ*Q999*50"]
    doc = read_remittance(read_segments(x835(body, "0")))
    claim = doc.remittances[0].claims[0]
    actual = (
        claim.status_meaning,
        claim.adjustments[0].group_meaning,
        claim.adjustments[0].reason_meaning,
    )
    assert ("unknown code", "unknown code", "unknown code") == actual


def test_every_transaction_set_is_read_and_summed() -> None:
    """Several ST/SE in one file are read one after the other; the file summary adds them up."""
    doc = read_remittance(read_segments(x835(PAID, "70.00", sets=3)))
    actual = (
        len(doc.remittances),
        doc.summary.claims,
        doc.summary.total_paid,
        doc.summary.payment_amount,
    )
    assert (3, 3, Decimal("210.00"), Decimal("210.00")) == actual


def test_every_interchange_is_read_with_its_envelope() -> None:
    """Two interchanges in one file give two remittances, each with its own ISA13."""
    second = x835(PAID, "70.00").replace(b"000000001", b"000000002")
    doc = read_remittance(read_segments(x835(PAID, "70.00") + b"\n" + second))
    numbers = [r.header.envelope.interchange_control_number for r in doc.remittances]
    assert (["000000001", "000000002"], 2) == (numbers, doc.summary.claims)


def test_set_without_se_is_closed_at_the_next_envelope() -> None:
    """A missing SE does not merge two sets: the next ST opens a new one."""
    data = x835(PAID, "70.00", sets=2).replace(b"SE*15*0001~\n", b"")
    doc = read_remittance(read_segments(data))
    assert [1, 1] == [len(r.claims) for r in doc.remittances]


def test_other_transaction_sets_are_skipped() -> None:
    """A 277 in the same group is counted as skipped, not read as an 835."""
    data = x835(PAID, "70.00").replace(b"ST*835*0001", b"ST*277*0001")
    reader = iter_remittance(read_segments(data))
    items = list(reader)
    assert ([], {"277": 1}) == (items, reader.skipped_sets)


def test_claims_are_not_kept_by_the_streaming_reader() -> None:
    """The streaming reader holds no list of claims: each is handed over and forgotten."""
    reader = iter_remittance(read_segments(x835(PAID * 50, "3500.00")))
    claims = sum(1 for item in reader if isinstance(item, Claim))
    assert 50 == claims
    assert not any(isinstance(v, list) and len(v) >= 50 for v in vars(reader).values())
    assert 50 == reader.summary.claims


def test_4010_remittance_is_read() -> None:
    """A 4010 (004010X091A1) 835 reads the same way, including the CR group code."""
    data = (
        x835(["CLP*C*22*-310*-210*0*HM*P", "SVC*HC:T1017*-310*-210**6", "CAS*CR*45*-100"], "210")
        .replace(b"00501", b"00401")
        .replace(b"005010X221A1", b"004010X091A1")
    )
    doc = read_remittance(read_segments(data))
    claim = doc.remittances[0].claims[0]
    adjustment = claim.lines[0].adjustments[0]
    assert ("CR", "Correction and reversal (4010 only)") == (
        adjustment.group,
        adjustment.group_meaning,
    )
    assert ClaimOutcome.REVERSED == claim.outcome


def test_end_event_carries_plb_and_set_summary() -> None:
    """The set's end carries its PLB adjustments (reason, reference, meaning) and totals."""
    body = [*PAID, "PLB*1234567893*20261231*WO:PCN9*5.00*L6*-1.00"]
    items = list(iter_remittance(read_segments(x835(body, "66.00"))))
    end = items[-1]
    assert isinstance(end, RemittanceEnd)
    actual = [(p.reason, p.reference, p.amount, p.reason_meaning) for p in end.provider_adjustments]
    expected = [
        ("WO", "PCN9", Decimal("5.00"), "Overpayment recovery"),
        ("L6", "", Decimal("-1.00"), "Interest owed"),
    ]
    assert expected == actual
    assert (Decimal("4.00"), True) == (end.summary.plb_total, end.summary.balanced)


def test_claim_outcome_agrees_with_the_reader() -> None:
    """``claim_outcome`` on a claim read back judges it as the reader did, claim by claim."""
    body = [
        *PAID,
        "CLP*D*4*50*0*0*12*P",
        "CAS*CO*50*50",
        "CLP*R*1*50*0*50*12*P",
        "CAS*PR*1*50",
        "CLP*S*1*80*40*0*12*P",
        "SVC*HC:99213*50*40**1",
        "CAS*CO*45*10",
        "SVC*HC:99214*30*0**1",
        "CAS*CO*97*30",
        "CLP*V*22*-50*-40*0*12*P",
        "CAS*CO*45*-10",
    ]
    doc = read_remittance(read_segments(x835(body, "70.00")))
    claims = doc.remittances[0].claims
    judged = [claim.outcome for claim in claims]
    assert [
        ClaimOutcome.PAID,
        ClaimOutcome.DENIED,
        ClaimOutcome.PATIENT_RESPONSIBILITY,
        ClaimOutcome.PARTIALLY_PAID,
        ClaimOutcome.REVERSED,
    ] == judged
    assert judged == [claim_outcome(claim) for claim in claims]


def test_cas_with_one_triplet_reads_like_any_other() -> None:
    """A three-element CAS: a blank reason adds nothing, a bad amount is CAS03 read as 0."""
    body = [
        "CLP*C1*1*100.00*70.00*0*12*P",
        "SVC*HC:99213*100.00*70.00**1",
        "CAS*CO**20.00",
        "CAS*CO*45*ABC",
        "CAS*CO*45*30.00*2",
    ]
    doc = read_remittance(read_segments(x835(body, "70.00")))
    line = doc.remittances[0].claims[0].lines[0]
    adjustments = [(a.group, a.reason, a.amount, a.quantity) for a in line.adjustments]
    assert [
        ("CO", "45", Decimal(0), None),
        ("CO", "45", Decimal("30.00"), Decimal(2)),
    ] == adjustments
    invalid = [
        (f.location.tag, f.location.element)
        for f in doc.findings
        if f.code == AMOUNT_INVALID and f.location
    ]
    assert [("CAS", 3)] == invalid


def test_procedures_are_split_with_their_own_interchanges_separator() -> None:
    """The same SVC01 text reads by each interchange's component separator (ISA16), not the last."""
    first = x835(["CLP*C1*1*10*10*0*12*P", "SVC*HC:99213:25*10*10**1"], "10")
    second = x835(["CLP*C2*1*10*10*0*12*P", "SVC*HC:99213:25*10*10**1"], "10")
    second = second.replace(b"*0*T*:~", b"*0*T*>~").replace(b"000000001", b"000000002")
    doc = read_remittance(read_segments(first + b"\n" + second))
    procedures = [r.claims[0].lines[0].procedure for r in doc.remittances]
    actual = [(p.qualifier, p.code, p.modifiers) for p in procedures if p is not None]
    assert [("HC", "99213", ["25"]), ("HC:99213:25", "", [])] == actual


def test_many_procedures_are_each_read_and_never_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """More distinct SVC01s than the reader remembers all read right; no two lines share parts."""
    monkeypatch.setattr(remittance, "_PROCEDURE_CACHE_LIMIT", 2)
    composites = ["HC:99213:25", "HC:99214", "NU:0450", "HC:99213:25", "HC:J1885:LT:RT:::DRUG"]
    body = ["CLP*C1*1*50*50*0*12*P"] + [f"SVC*{c}*10*10**1" for c in composites]
    doc = read_remittance(read_segments(x835(body, "50")))
    lines = doc.remittances[0].claims[0].lines
    procedures = [line.procedure for line in lines if line.procedure is not None]
    actual = [(p.qualifier, p.code, p.modifiers, p.description) for p in procedures]
    assert [
        ("HC", "99213", ["25"], ""),
        ("HC", "99214", [], ""),
        ("NU", "0450", [], ""),
        ("HC", "99213", ["25"], ""),
        ("HC", "J1885", ["LT", "RT"], "DRUG"),
    ] == actual
    procedures[0].modifiers.append("59")
    assert ["25"] == procedures[3].modifiers


# -- property tests: generated balanced remittances, and one amount perturbed ---------------------

_money = st.integers(min_value=0, max_value=500_00).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def _claims(draw: st.DrawFn) -> list[tuple[list[tuple[Decimal, Decimal, Decimal]], Decimal]]:
    """Claims as (lines of (charge, contractual, coinsurance), claim-level adjustment)."""
    claims = []
    for _ in range(draw(st.integers(1, 4))):
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            charge = draw(_money)
            co = draw(st.integers(0, int(charge * 100))) / Decimal(100)
            pr = draw(st.integers(0, int((charge - co) * 100))) / Decimal(100)
            lines.append((charge, co, pr))
        claims.append((lines, draw(st.integers(0, 2000)) / Decimal(100)))
    return claims


def _build(
    claims: list[tuple[list[tuple[Decimal, Decimal, Decimal]], Decimal]], plb: Decimal
) -> tuple[list[str], Decimal]:
    body: list[str] = []
    total = Decimal(0)
    for number, (lines, claim_adj) in enumerate(claims, 1):
        charge = sum((c for c, _, _ in lines), Decimal(0))
        line_paid = [c - co - pr for c, co, pr in lines]
        paid = sum(line_paid, Decimal(0)) - claim_adj
        total += paid
        body.append(f"CLP*C{number}*1*{charge}*{paid}*0*12*P{number}")
        body.append(f"CAS*OA*23*{claim_adj}")
        for (c, co, pr), lp in zip(lines, line_paid, strict=True):
            body += [f"SVC*HC:99213*{c}*{lp}**1", f"CAS*CO*45*{co}", f"CAS*PR*2*{pr}"]
    body.append(f"PLB*1234567893*20261231*WO:X*{plb}")
    return body, total - plb


@settings(max_examples=60, deadline=None)
@given(claims=_claims(), plb=_money)
def test_generated_balanced_remittances_are_balanced(
    claims: list[tuple[list[tuple[Decimal, Decimal, Decimal]], Decimal]], plb: Decimal
) -> None:
    """Any remittance whose amounts add up is reported balanced, with no finding."""
    body, payment = _build(claims, plb)
    data = x835(body, str(abs(payment)))
    if payment < 0:
        data = data.replace(f"*{abs(payment)}*C*".encode(), f"*{abs(payment)}*D*".encode(), 1)
    doc = read_remittance(read_segments(data))
    assert ([], True) == (doc.findings, doc.summary.balanced)


# Which findings one perturbed amount must produce (segment tag and element position in it).
_PERTURB = {
    ("SVC", 2): [LINE_BALANCE],
    ("SVC", 3): [LINE_BALANCE, CLAIM_LINES_BALANCE],
    ("CLP", 3): [CLAIM_BALANCE],
    ("CLP", 4): [CLAIM_BALANCE, CLAIM_LINES_BALANCE, TRANSACTION_BALANCE],
    ("CAS", 3): [LINE_BALANCE, CLAIM_BALANCE],
    ("PLB", 4): [TRANSACTION_BALANCE],
    ("BPR", 2): [TRANSACTION_BALANCE],
}


@settings(max_examples=80, deadline=None)
@given(
    claims=_claims(),
    plb=_money,
    target=st.sampled_from(sorted(_PERTURB)),
    which=st.integers(0, 50),
    delta=st.integers(1, 999).map(lambda c: Decimal(c).scaleb(-2)),
)
def test_perturbing_one_amount_gives_exactly_the_right_findings(
    claims: list[tuple[list[tuple[Decimal, Decimal, Decimal]], Decimal]],
    plb: Decimal,
    target: tuple[str, int],
    which: int,
    delta: Decimal,
) -> None:
    """Changing one amount makes exactly the findings that amount takes part in, with the delta."""
    body, payment = _build(claims, plb)
    segments = [f"BPR*I*{payment}*C*CHK************20261201", *HEADER[1:], *body]
    tag, position = target
    candidates = [
        i
        for i, s in enumerate(segments)
        if s.startswith(tag + "*") and not (tag == "CAS" and s.startswith("CAS*OA"))
    ]
    index = candidates[which % len(candidates)]
    elements = segments[index].split("*")
    elements[position] = str(Decimal(elements[position]) + delta)
    segments[index] = "*".join(elements)
    text = [ISA, "GS*HP*PAYER*PROVIDER*20261201*0800*1*X*005010X221A1~", "ST*835*0001~"]
    text += [s + "~" for s in segments]
    text += [f"SE*{len(segments) + 2}*0001~", "GE*1*1~", "IEA*1*000000001~"]
    doc = read_remittance(read_segments("\n".join(text).encode()))
    assert sorted(_PERTURB[target]) == sorted(f.code for f in doc.findings)
    assert all(abs(f.difference or 0) == delta for f in doc.findings)
    located = {(f.location.segment_index, f.location.element) for f in doc.findings if f.location}
    assert all(element in (2, 3, 4) for _, element in located)
