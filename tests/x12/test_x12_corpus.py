"""The X12 engine over the public corpus: no crash, independent counts, the manifest's anomalies."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from gateway.x12 import DefectCode, Severity, read_segments
from tests.conftest import CorpusFile, load_manifest

# What the manifest says is wrong with a file's envelope -> the defect code we must report.
ANOMALY_CODES: list[tuple[str, DefectCode]] = [
    (r"SE01 segment count wrong", DefectCode.IK502_4),
    (r"IEA02 != ISA13", DefectCode.TA1_001),
    (r"missing IEA at end", DefectCode.TA1_023),
    (r"ISA without preceding IEA", DefectCode.TA1_023),
    (r"missing SE at end", DefectCode.IK502_2),
    (r"ST without preceding SE", DefectCode.IK502_2),
    (r"missing GE at end", DefectCode.AK905_3),
    (r"GS without preceding GE", DefectCode.AK905_3),
    (r"GE02 != GS06", DefectCode.AK905_4),
    (r"IEA01 count != number of GS", DefectCode.TA1_021),
    (r"GE01 count != number of ST", DefectCode.AK905_5),
    (r"GS outside ISA/IEA", DefectCode.TA1_024),
    (r"IEA without ISA", DefectCode.TA1_024),
    (r"SE02 != ST02", DefectCode.IK502_3),
    (r"data after IEA", DefectCode.TEXT_AFTER_IEA),
    (r"text before ISA", DefectCode.TEXT_BEFORE_ISA),
    (r"ISA segment is \d+ chars", DefectCode.ISA_LENGTH),
]

# Files where the manifest's own (naive) reading and ours differ, each checked by hand:
# name -> (codes we must report instead, why)
EXPLAINED: dict[str, tuple[set[DefectCode], str]] = {
    "test__files__ele.txt": (
        {DefectCode.TA1_015, DefectCode.IK502_7, DefectCode.IK502_3},
        "pyx12's element-error fixture: ISA10 is 3339 (no such time) and ST02 has a trailing "
        "space, so it differs from SE02",
    ),
    "tests__835-example.txt": (
        {DefectCode.IK502_4},
        "line breaks stand before each '~': the manifest split on LF and missed that SE01 says 43 "
        "for 47 segments",
    ),
    "tests__835-example-2.txt": (
        {DefectCode.IK502_4},
        "same layout as 835-example.txt; SE01 says 28 for 29 segments",
    ),
    "tests__TEST 278_28 TXNS_SOA.txt": (
        {DefectCode.UNTERMINATED_SEGMENT},
        "one IEA lacks its '~' and runs into the next line's ISA: we read the line break as the "
        "terminator (with a warning), so the envelopes pair up instead of breaking",
    ),
}

_DELIMS = re.compile(r"FORMAT: delims elem=(\S+) comp=(\S+) rep=(\S+) seg=(\S+);")
_NAMED = {"LF": "\n", "CR": "\r", "none": None, "\\\\": "\\"}

MANIFEST = load_manifest()


def _ids(row: CorpusFile) -> str:
    return row.path.name[:80]


def _expected_codes(row: CorpusFile) -> set[DefectCode]:
    return {code for pattern, code in ANOMALY_CODES if re.search(pattern, row.anomalies)}


def _independent_tag_counts(data: bytes, terminator: str) -> Counter[str]:
    """Count segment tags with nothing but str.split (the manifest names the terminator)."""
    text = data.decode("latin-1")
    start = text.find("ISA")
    counts: Counter[str] = Counter()
    if start < 0:
        return counts
    element = text[start + 3]
    for piece in text[start:].split(terminator):
        body = piece.strip(" \t\r\n")
        if body:
            counts[body.split(element, 1)[0]] += 1
    return counts


@pytest.mark.parametrize("row", MANIFEST, ids=_ids)
def test_corpus_file_reads_and_reports_its_anomalies(
    corpus: list[CorpusFile], row: CorpusFile
) -> None:
    """Every corpus file reads without a crash and its envelope anomalies become located defects."""
    data = row.path.read_bytes()
    reader = read_segments(data)
    segments = list(reader)
    found = {d.code for d in reader.defects}
    if row.path.name in EXPLAINED:
        codes, _why = EXPLAINED[row.path.name]
        assert codes <= found
        return
    expected = _expected_codes(row)
    assert expected <= found, f"manifest anomalies {row.anomalies!r}; found {sorted(found)}"
    for defect in reader.defects:
        assert defect.location.segment_index is not None
        assert defect.location.offset is not None
        assert defect.location.line is not None
        assert defect.message
    if not row.anomalies and "text before ISA" not in row.notes:
        errors = [d for d in reader.defects if d.severity is Severity.ERROR]
        assert errors == [], f"clean per manifest, yet: {[str(d) for d in errors]}"
    fmt = _DELIMS.search(row.notes)
    if fmt and segments:
        element, component, repetition, terminator = (_NAMED.get(v, v) for v in fmt.groups())
        first = segments[0].delimiters
        assert (first.element, first.component, first.repetition, first.segment) == (
            element,
            component,
            repetition,
            terminator,
        )
        if "data after IEA" not in row.anomalies:
            assert Counter(s.tag for s in segments) == _independent_tag_counts(data, terminator)


@pytest.mark.parametrize("row", MANIFEST, ids=_ids)
def test_locations_point_at_the_segment(corpus: list[CorpusFile], row: CorpusFile) -> None:
    """Each segment's byte offset starts with its tag and its line counts the newlines before it."""
    data = row.path.read_bytes()
    line, counted_to = 1, 0
    for segment in read_segments(data):
        if segment.tag.isascii():
            assert data.startswith(segment.tag.encode("ascii"), segment.offset)
        line += data.count(b"\n", counted_to, segment.offset)
        counted_to = segment.offset
        assert line == segment.line


def test_invalid_files_without_envelope_anomalies_still_read(corpus: list[CorpusFile]) -> None:
    """Files invalid for their content (not their envelopes) still yield their segments."""
    rows = [r for r in corpus if not r.valid and not _expected_codes(r)]
    assert rows
    for row in rows:
        assert list(read_segments(row.path.read_bytes())) or any(
            d.code is DefectCode.NOT_X12 for d in read_segments(row.path.read_bytes()).defects
        )
