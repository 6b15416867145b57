"""The 999 and TA1 we write for a validated file."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.ledger.reconcile import element_error_position, segment_error_claim
from gateway.transactions.ack999 import read_implementation_acknowledgement
from gateway.validation import pyx12_adapter
from gateway.validation.acks import AckError, AckHeader, ack_999, ack_ta1
from gateway.validation.validator import validate
from gateway.x12 import read_segments
from tests.support.x12_files import claims_837p

HEADER = AckHeader(interchange_control=7, group_control=70, when=datetime(2026, 1, 16, 9, 30))
CLEAN = claims_837p(1)
ISA_BACK = (
    "ISA*00*          *00*          *ZZ*RECEIVER01     *ZZ*SUBMITTER01    *260116*0930*^*00501"
    "*000000007*0*T*:~"
)


def _body(text: str) -> list[str]:
    return [s for s in text.split("~") if s][2:-2]  # between GS and GE


def test_999_for_an_accepted_file() -> None:
    """An accepted 837P: AK1 names the group, IK5 and AK9 accept it."""
    text = ack_999(validate(CLEAN), HEADER)
    assert text.startswith(
        ISA_BACK + "GS*FA*RECEIVER01*SUBMITTER01*20260116*0930*70*X*005010X231A1~"
    )
    assert _body(text) == [
        "ST*999*0001*005010X231A1",
        "AK1*HC*1*005010X222A1",
        "AK2*837*0001*005010X222A1",
        "IK5*A",
        "AK9*A*1*1*1",
        "SE*6*0001",
    ]


def test_999_for_a_rejected_file() -> None:
    """Findings become IK3 (segment, position, loop, code) and IK4 (element, data element number
    from the guide, code) lines; without the file's bytes no claim is named."""
    broken = CLEAN.replace(b"*XX*1234567893~", b"*ZZ*1234567893~", 1).replace(
        b"DMG*D8*19500110*M~", b"DMG*D8*19501310*M~"
    )
    lines = _body(ack_999(validate(broken), HEADER))
    assert lines[2:-1] == [
        "AK2*837*0001*005010X222A1",
        "IK3*NM1*7*2010*8",
        "IK4*8*66*7",
        "IK3*DMG*16*2010*8",
        "IK4*2*1251*8",
        "IK5*R*5",
        "AK9*R*1*1*0",
    ]


def test_our_999_passes_the_999_guide() -> None:
    """The 999 we write for a broken file is itself valid against X231A1."""
    broken = CLEAN.replace(b"*11:B:1*", b"*11:B*", 1)
    result = validate(ack_999(validate(broken), HEADER).encode("ascii"))
    assert (
        [str(d) for d in result.defects],
        [s.verdict for s in result.sets],
    ) == ([], ["accepted"])


THREE = claims_837p(3)
# one finding per place a claim can be told from: the CLM itself (CLM05-3 missing), a 2300 HI
# code, a 2400 DTP date, a line's DTP and REF missing (reported at the next subscriber's HL), and
# the subscriber's DMG (2010BA: in no claim)
THREE_BROKEN = (
    THREE.replace(b"CLM*CLAIM0000001*150***11:B:1*", b"CLM*CLAIM0000001*150***11:B*", 1)
    .replace(b"DTP*472*D8*20260103~REF*6R*L000000202~", b"DTP*472*D8*20261303~REF*6R*L000000202~")
    .replace(b"DTP*472*D8*20260101~REF*6R*L000000002~", b"")
    .replace(b"DMG*D8*19510211*F", b"DMG*D8*19511311*F")
    .replace(b"HI*ABK:J069*ABF:R05~LX*1~SV1*HC:99213*75*UN*1***1:2~DTP*472*D8*20260103",
             b"HI*ABK:J069*ZZZ:R05~LX*1~SV1*HC:99213*75*UN*1***1:2~DTP*472*D8*20260103")
)  # fmt: skip
THREE_EXPECTED = [
    "AK2*837*0001*005010X222A1",
    "IK3*DTP*26*2400*3",
    "CTX*CLM01:CLAIM0000000",
    "IK3*DMG*31*2010*8",
    "IK4*2*1251*8",
    "IK3*CLM*33*2300*8",
    "CTX*CLM01:CLAIM0000001",
    "IK4*5:3*1325*1",
    "IK3*HI*51*2300*8",
    "CTX*CLM01:CLAIM0000002",
    "IK4*2:1*1270*7",
    "IK3*DTP*58*2400*8",
    "CTX*CLM01:CLAIM0000002",
    "IK4*3*1251*8",
    "IK5*R*4*5",
    "AK9*R*1*1*0",
]


def test_999_names_the_claim_of_each_error() -> None:
    """Given the file's bytes, every IK3 inside a claim is followed by CTX*CLM01:<its CLM01>; a
    segment missing at a claim's end is reported in that claim, not the next; a subscriber error
    names no claim."""
    lines = _body(ack_999(validate(THREE_BROKEN), HEADER, source=THREE_BROKEN))
    assert lines[2:-1] == THREE_EXPECTED


def test_a_missing_segment_before_the_next_clm_is_in_the_claim_before() -> None:
    """Two claims of one subscriber: a DTP missing at the end of the first is reported at the
    second's CLM, and named as the first claim."""
    two = claims_837p(2)
    second_subscriber = two[two.index(b"HL*3*1*22*0~") : two.index(b"CLM*CLAIM0000001")]
    shared = two.replace(second_subscriber, b"").replace(b"SE*45*", b"SE*38*")
    assert [str(d) for d in validate(shared).defects] == []
    broken = shared.replace(b"DTP*472*D8*20260101~REF*6R*L000000002~", b"")
    lines = _body(ack_999(validate(broken), HEADER, source=broken))
    assert lines[3:5] == ["IK3*DTP*26*2400*3", "CTX*CLM01:CLAIM0000000"]


def test_a_claim_id_that_cannot_be_written_is_left_out() -> None:
    """A CLM01 of 36 characters (valid: 1028 is 1/38) does not fit CTX01-2 (1/35): its errors
    get no CTX, never a cut claim id."""
    broken = THREE.replace(b"CLM*CLAIM0000001*", b"CLM*" + b"C" * 36 + b"*", 1).replace(
        b"DTP*472*D8*20260102~REF*6R*L000000102~", b"DTP*472*D8*20261302~REF*6R*L000000102~"
    )
    lines = _body(ack_999(validate(broken), HEADER, source=broken))
    assert [s for s in lines if s.startswith(("IK3", "CTX", "IK4"))] == [
        "IK3*DTP*43*2400*8",
        "IK4*3*1251*8",
    ]


def test_our_999_with_contexts_passes_pyx12_and_our_validator() -> None:
    """The 999 with CTX and IK402 is valid against X231A1 for pyx12 and for our validator."""
    text = ack_999(validate(THREE_BROKEN), HEADER, source=THREE_BROKEN)
    assert "CTX*CLM01:" in text
    report = pyx12_adapter.check(text.encode("ascii"))
    ours = validate(text.encode("ascii"))
    assert (
        report.ok,
        [str(d) for d in report.defects],
        [str(d) for d in ours.defects],
        [s.verdict for s in ours.sets],
    ) == (True, [], [], ["accepted"])


def test_our_999_read_back_puts_each_error_on_its_claim() -> None:
    """Our 999, read by our own reader, gives the ledger the claim of each segment error."""
    text = ack_999(validate(THREE_BROKEN), HEADER, source=THREE_BROKEN)
    document = read_implementation_acknowledgement(read_segments(text.encode("ascii")))
    errors = document.acknowledgements[0].groups[0].transaction_sets[0].segment_errors
    assert [
        (
            e.segment_id,
            segment_error_claim(e),
            tuple((element_error_position(x), x.data_element_reference) for x in e.element_errors),
        )
        for e in errors
    ] == [
        ("DTP", "CLAIM0000000", ()),
        ("DMG", "", (("2", "1251"),)),
        ("CLM", "CLAIM0000001", (("5-3", "1325"),)),
        ("HI", "CLAIM0000002", (("2-1", "1270"),)),
        ("DTP", "CLAIM0000002", (("3", "1251"),)),
    ]


def test_no_999_for_a_999() -> None:
    """A file of 999s is never acknowledged with another 999."""
    ack = ack_999(validate(CLEAN), HEADER).encode("ascii")
    with pytest.raises(AckError):
        ack_999(validate(ack), HEADER)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (CLEAN, "TA1*000000001*260115*1200*A*000"),
        (CLEAN.replace(b"IEA*1*000000001", b"IEA*1*000000002"), "TA1*000000001*260115*1200*R*001"),
    ],
)
def test_ta1(data: bytes, expected: str) -> None:
    """The TA1 accepts a sound interchange and rejects one with its note code."""
    text = ack_ta1(validate(data), HEADER)
    assert [ISA_BACK[:-1], expected, "IEA*0*000000007"] == [s for s in text.split("~") if s]
