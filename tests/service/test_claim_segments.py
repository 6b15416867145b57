"""One claim's part of an archived X12 file (``gateway.service.claim_segments``), read from the
golden sample files."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from pathlib import Path

from gateway.service.claim_segments import claim_segments
from tests.support.env import ROOT

X12 = ROOT / "samples" / "x12"


def tags(path: Path, kind: str, claim_id: str, st02s: tuple[str, ...] = ()) -> list[str]:
    """The tags of the claim's segments in the file."""
    found = claim_segments(path, kind, claim_id, st02s=st02s)
    return [s.text.split("*", 1)[0].rstrip("~") for s in found.segments]


def test_837_gives_the_clm_loop_with_its_lines_only() -> None:
    """From CLM to the next claim's CLM (or HL, SE): REF*F8, HI, the lines, nothing else."""
    found = claim_segments(X12 / "837P-samples.x12", "837P", "VFP-20261105-0012")
    texts = [s.text for s in found.segments]
    assert texts[0].startswith("CLM*VFP-20261105-0012*246")
    assert "REF*F8*2026299004411~" in texts
    assert 2 == sum(t.startswith("LX*") for t in texts)
    assert not any(t.startswith(("HL*", "SE*", "NM1*IL")) for t in texts)
    assert found.segments[0].line < found.segments[-1].line
    assert [s.position for s in found.segments] == list(range(51, 51 + len(found.segments)))


def test_a_claim_sent_twice_in_one_file_gives_both_loops() -> None:
    """Two CLM loops with the same CLM01 (an original and its replacement) are both shown."""
    assert 2 == tags(X12 / "837P-samples.x12", "837P", "VFP-20261101-0001").count("CLM")


def test_responses_give_the_claims_loops() -> None:
    """277CA: TRN*2 to the next TRN/HL; 835: each CLP loop (a reversal and its repayment);
    999: the AK2..IK5 of the set; TA1: the TA1 segment."""
    status = tags(X12 / "277CA-accepted-rejected.x12", "277CA", "VFP-20261101-0002")
    remit = tags(X12 / "835-paid-denied-partial-reversal.x12", "835", "VFP-20261001-0009")
    ack = tags(X12 / "999-rejected-set.x12", "999", "X", st02s=("32",))
    ta1 = tags(X12 / "TA1-rejected.x12", "TA1", "X")
    assert "TRN" == status[0]
    assert "STC" in status
    assert "HL" not in status
    assert 2 == remit.count("CLP")
    assert "LX" not in remit
    assert ["AK2", "IK5"] == [ack[0], ack[-1]]
    assert 1 == ack.count("AK2")
    assert ["TA1"] == ta1


def test_missing_files_and_claims_say_so() -> None:
    """A file gone from the archive, a claim not in the file, a kind with no claims: a problem."""
    gone = claim_segments(X12 / "nope.x12", "835", "A")
    absent = claim_segments(X12 / "835-sample.x12", "835", "NOT-THERE")
    encounters = claim_segments(X12 / "835-sample.x12", "encounters", "A")
    assert "no longer in the archive" in gone.problem
    assert "holds no segment of claim NOT-THERE" in absent.problem
    assert "holds no claim segments" in encounters.problem
    assert () == gone.segments


def test_the_number_of_segments_shown_is_bounded() -> None:
    """Past ``limit`` segments the excerpt stops and says it was cut."""
    found = claim_segments(X12 / "837P-samples.x12", "837P", "VFP-20261105-0012", limit=3)
    assert (3, True) == (len(found.segments), found.truncated)
