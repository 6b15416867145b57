"""The one ISA reader, the one envelope writer and pyx12's envelope trail in ``gateway.x12``."""

from __future__ import annotations

import pytest

from gateway.x12 import DefectCode as Code
from gateway.x12 import Delimiters, Writer, read_segments
from gateway.x12.delimiters import fixed_isa_header
from gateway.x12.envelope import (
    ControlTrail,
    GroupHeader,
    InterchangeHeader,
    ge_segment,
    gs_segment,
    iea_segment,
    isa_segment,
    read_isa,
)

HEADER = InterchangeHeader(
    sender_qualifier="ZZ",
    sender_id="SENDER",
    receiver_qualifier="ZZ",
    receiver_id="RECEIVER",
    date="261120",
    time="0930",
    control_number="000000101",
    acknowledgment_requested="1",
    usage_indicator="T",
)
GROUP = GroupHeader("HC", "SENDERAPP", "RECEIVERAPP", "20261120", "0930", "7", "005010X222A1")


def test_written_envelope_reads_back_the_same_values() -> None:
    """An ISA written from values is 106 characters and reads back (padding stripped) unchanged."""
    w = Writer(Delimiters())
    text = (
        isa_segment(w, HEADER)
        + gs_segment(w, GROUP)
        + w.segment("ST", "837", "0001", "005010X222A1")
        + w.segment("SE", "2", "0001")
        + ge_segment(w, 1, GROUP.control_number)
        + iea_segment(w, 1, HEADER.control_number)
    )
    assert text.index("GS*") == 106
    segments = list(read_segments(text.encode()))
    isa = read_isa(segments[0].elements)
    assert isa.sender_id.strip() == "SENDER"
    assert isa.receiver_id.strip() == "RECEIVER"
    assert (isa.control_number, isa.acknowledgment_requested, isa.usage_indicator) == (
        "000000101",
        "1",
        "T",
    )
    assert (isa.version, isa.date, isa.time) == ("00501", "261120", "0930")
    assert segments[1].elements == ["HC", "SENDERAPP", "RECEIVERAPP", "20261120", "0930", "7", "X",
                                    "005010X222A1"]  # fmt: skip
    assert [s.elements for s in segments[-2:]] == [["1", "7"], ["1", "000000101"]]


def test_short_isa_reads_absent_elements_as_empty() -> None:
    """A cut ISA gives empty values for the elements it lacks, never an IndexError."""
    isa = read_isa(["00", "", "00", "", "ZZ", "SENDER"])
    assert (isa.sender_id, isa.control_number, isa.usage_indicator) == ("SENDER", "", "")


def test_fixed_isa_header_reads_the_fixed_positions() -> None:
    """The validator's reading: delimiters at 105, 3, 104, 82 and ISA12 at 84-88."""
    text = isa_segment(Writer(Delimiters()), HEADER)
    found = fixed_isa_header(text)
    assert found is not None
    assert found.delimiters == ("~", "*", ":", "^")
    assert found.version == "00501"
    assert fixed_isa_header(text[:105]) is None
    assert fixed_isa_header("GS" + text[2:]) is None


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # a clean interchange: nothing found, nothing left open
        ([("ISA", 16), ("GS", 0), ("ST", 0), ("SE", 3), ("GE", 0), ("IEA", 0)], []),
        # SE01 counts one segment too many
        ([("ISA", 16), ("GS", 0), ("ST", 0), ("SE", 4)], [("st", Code.IK502_4)]),
        # the GE closes before the SE: the set is dropped (AK905 3), the GE matches its GS
        ([("ISA", 16), ("GS", 0), ("ST", 0), ("GE", 0)], [("gs", Code.AK905_3)]),
        # an IEA with no ISA open
        ([("IEA", 0)], [("isa", Code.TA1_024)]),
    ],
)
def test_control_trail_finds_what_pyx12s_reader_finds(
    steps: list[tuple[str, int]], expected: list[tuple[str, Code]]
) -> None:
    """pyx12's reader bookkeeping: trailers checked against the open header, in stack order."""
    trail = ControlTrail()
    values = {
        "ISA": ["00", "", "00", "", "ZZ", "A", "ZZ", "B", "261120", "0930", "^", "00501",
                "000000101", "0", "T", ":"],
        "GS": ["HC", "A", "B", "20261120", "0930", "7", "X", "005010X222A1"],
        "ST": ["837", "0001", "005010X222A1"],
        "SE": ["3", "0001"],
        "GE": ["1", "7"],
        "IEA": ["1", "000000101"],
    }  # fmt: skip
    found = []
    for tag, segments in steps:
        found += [(level, code) for level, code, _ in trail.check(tag, values[tag], ":", segments)]
    assert found == expected


def test_control_trail_reports_duplicate_control_numbers() -> None:
    """A second ST with the same ST02 in one group is reported (IK502 23)."""
    trail = ControlTrail()
    trail.check("GS", ["HC", "A", "B", "20261120", "0930", "7", "X", "V"], ":", 0)
    assert trail.check("ST", ["837", "0001"], ":", 0) == []
    assert trail.check("SE", ["2", "0001"], ":", 2) == []
    found = trail.check("ST", ["837", "0001"], ":", 0)
    assert [(level, code) for level, code, _ in found] == [("st", Code.IK502_23)]
    assert trail.open[-1] == ("ST", "0001")
