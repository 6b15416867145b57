"""The 999 and TA1 we write for a validated file."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.validation.acks import AckError, AckHeader, ack_999, ack_ta1
from gateway.validation.validator import validate
from tests.test_validation_samples import claims_837p

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
    """Findings become IK3 (segment, position, loop, code) and IK4 (element, code) lines."""
    broken = CLEAN.replace(b"*XX*1234567893~", b"*ZZ*1234567893~", 1).replace(
        b"DMG*D8*19500110*M~", b"DMG*D8*19501310*M~"
    )
    lines = _body(ack_999(validate(broken), HEADER))
    assert lines[2:-1] == [
        "AK2*837*0001*005010X222A1",
        "IK3*NM1*7*2010*8",
        "IK4*8**7",
        "IK3*DMG*16*2010*8",
        "IK4*2**8",
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
