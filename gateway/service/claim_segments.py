"""One claim's part of an archived X12 file: the segments it was sent in and answered by.

An 837 holds the claim's CLM loop (2300, with its 2400 lines) among thousands of others; a 277CA
its 2200D loop (from TRN*2 with our CLM01); an 835 its CLP loop (2100 and its 2110 lines); a 999
the AK2..IK5 response to the transaction set it went in; a TA1 the TA1 segment. The file is
streamed through :func:`gateway.x12.read_segments` (never read whole) and reading stops once the
claim's part is behind it, so a large archive costs only the bytes up to the claim.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.x12 import Segment, read_segments, serialize

__all__ = ["MAX_SEGMENTS", "ClaimSegments", "SegmentLine", "claim_segments"]

#: At most this many segments are shown of one file (a claim's loop is far smaller).
MAX_SEGMENTS = 2000


@dataclass(frozen=True)
class SegmentLine:
    """One segment as text (``~`` terminated, default delimiters), its 1-based position among
    the file's segments and its 1-based line (files often hold every segment on line 1)."""

    position: int
    line: int
    text: str


@dataclass(frozen=True)
class ClaimSegments:
    """The claim's segments in one file; ``problem`` says why there are none, when so."""

    segments: tuple[SegmentLine, ...]
    truncated: bool = False
    problem: str = ""


def _number(value: str) -> str:
    text = value.strip()
    return (text.lstrip("0") or "0") if text.isdigit() else text


def _starts(kind: str, seg: Segment, claim_id: str, st02s: Collection[str]) -> bool:
    if kind in ("837P", "837I"):
        return seg.tag == "CLM" and seg[1] == claim_id
    if kind == "277CA":
        return seg.tag == "TRN" and seg[1] == "2" and seg[2] == claim_id
    if kind == "835":
        return seg.tag == "CLP" and seg[1] == claim_id
    if kind == "999":
        return seg.tag == "AK2" and _number(seg[2]) in st02s
    if kind == "TA1":
        return seg.tag == "TA1"
    return False


#: The segments that end a claim's part (exclusive), by file kind.
_ENDS = {
    "837P": frozenset({"CLM", "HL", "SE"}),
    "837I": frozenset({"CLM", "HL", "SE"}),
    "277CA": frozenset({"TRN", "HL", "SE"}),
    "835": frozenset({"CLP", "LX", "SE", "PLB"}),
    "999": frozenset({"AK2", "AK9", "SE"}),
    "TA1": frozenset({"TA1", "GS", "IEA"}),
}


def _parts(
    segments: Iterator[Segment], kind: str, claim_id: str, st02s: Collection[str]
) -> Iterator[Segment]:
    """Every segment of every part of the file that concerns the claim, in file order."""
    ends = _ENDS[kind]
    inside = False
    for seg in segments:
        if inside and seg.tag in ends:
            inside = False
        if not inside and _starts(kind, seg, claim_id, st02s):
            inside = True
        if inside:
            yield seg


def claim_segments(
    path: Path,
    kind: str,
    claim_id: str,
    *,
    st02s: Collection[str] = (),
    limit: int = MAX_SEGMENTS,
) -> ClaimSegments:
    """The segments of ``path`` (an 837P/837I, 277CA, 835, 999 or TA1) that concern ``claim_id``;
    for a 999 the set responses (AK2) of the ``st02s`` the claim went in. Blocking: call it in a
    thread."""
    if kind not in _ENDS:
        return ClaimSegments((), problem=f"a {kind} file holds no claim segments")
    wanted = {_number(s) for s in st02s}
    found: list[SegmentLine] = []
    try:
        with path.open("rb") as handle:
            for seg in _parts(iter(read_segments(handle)), kind, claim_id, wanted):
                if len(found) >= limit:
                    return ClaimSegments(tuple(found), truncated=True)
                text = serialize([seg]).decode("utf-8", "replace").rstrip("\r\n")
                found.append(SegmentLine(seg.index + 1, seg.line, text))
    except FileNotFoundError:
        return ClaimSegments((), problem=f"{path.name} is no longer in the archive")
    except OSError as exc:
        return ClaimSegments((), problem=f"{path.name} cannot be read: {exc.strerror}")
    if not found:
        return ClaimSegments((), problem=f"{path.name} holds no segment of claim {claim_id}")
    return ClaimSegments(tuple(found))
