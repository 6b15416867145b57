"""Real-world X12 variations: delimiters, line breaks, padding, wrapping, chunking, typed readers.

Every file here is synthetic and built from segment lists, so one interchange can be written with
every delimiter set and line-break style seen in practice. The central properties:

- the same bytes give the same segments, locations and defects whatever the read chunk size;
- the same interchange written with other delimiters or line breaks gives the same elements and,
  through the typed readers (835, 277CA, 999, TA1), the same documents.
"""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.transactions.ack999 import read_implementation_acknowledgement
from gateway.transactions.claim_ack import read_claim_acknowledgement
from gateway.transactions.detect import detect_transactions
from gateway.transactions.reader import read_documents, to_data
from gateway.transactions.remittance import read_remittance
from gateway.transactions.ta1 import read_interchange_acknowledgement
from gateway.x12 import DefectCode, Delimiters, Severity, read_segments
from gateway.x12.tokenizer import SegmentReader

# -- building files -----------------------------------------------------------------------------

Element = str | list[str] | tuple[str, ...]
"""A plain element, a composite (list of components) or a repeating element (tuple)."""
Seg = list[Element]

STAR = Delimiters("*", "^", ":", "~")
DELIMITER_SETS = {
    "star-tilde": STAR,
    "star-tilde-gt": Delimiters("*", "^", ">", "~"),
    "pipe-tilde": Delimiters("|", "^", ":", "~"),
    "pipe-caret-component": Delimiters("|", "~", "^", "!"),
    "caret-element": Delimiters("^", "~", ">", "\\"),
    "bang-gt": Delimiters("!", "^", ">", "~"),
    "semicolon-pipe": Delimiters(";", "^", ":", "|"),
    "star-apostrophe": Delimiters("*", "^", ":", "'"),
    "star-newline": Delimiters("*", "^", ":", "\n"),
    "star-cr": Delimiters("*", "^", ":", "\r"),
    "control-chars": Delimiters("\x1d", "\x1f", "\x1e", "\x1c"),
    "4010-U": Delimiters("*", None, ":", "~"),
}
LINE_STYLES = {"none": "", "lf": "\n", "crlf": "\r\n", "cr": "\r"}


def isa(d: Delimiters, control: str = "000000001", version: str = "00501") -> str:
    """A fixed-width ISA with the given delimiters (ISA11 'U' when there is no repetition)."""
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        "PAYERSYNTH".ljust(15),
        "ZZ",
        "PROVSYNTH".ljust(15),
        "261201",
        "0800",
        d.repetition or "U",
        version,
        control,
        "0",
        "T",
        d.component,
    ]
    text = d.element.join(fields) + d.segment
    assert 106 == len(text)
    return text


def element(value: Element, d: Delimiters) -> str:
    if isinstance(value, tuple):
        assert d.repetition is not None
        return d.repetition.join(element(v, d) for v in value)
    if isinstance(value, list):
        return d.component.join(value)
    return value


def interchange(
    body: Sequence[Seg],
    d: Delimiters = STAR,
    *,
    line: str = "\n",
    control: str = "000000001",
    groups: int = 1,
) -> str:
    """ISA + ``body`` (GS..GE) + IEA, each segment followed by ``line``."""
    if d.segment in "\r\n":
        line = ""
    version = "00401" if d.repetition is None else "00501"
    out = [isa(d, control, version) + line]
    for seg in body:
        out.append(d.element.join(element(v, d) for v in seg) + d.segment + line)
    out.append(d.element.join(["IEA", str(groups), control]) + d.segment + line)
    return "".join(out)


def transaction_set(st01: str, control: str, body: Sequence[Seg], version: str = "") -> list[Seg]:
    head: Seg = ["ST", st01, control]
    if version:
        head.append(version)
    return [head, *body, ["SE", str(len(body) + 2), control]]


def group(gs01: str, version: str, sets: Sequence[list[Seg]], control: str = "1") -> list[Seg]:
    out: list[Seg] = [
        ["GS", gs01, "PAYERSYNTH", "PROVSYNTH", "20261201", "0800", control, "X", version]
    ]
    for one in sets:
        out += one
    out.append(["GE", str(len(sets)), control])
    return out


# -- synthetic transactions ---------------------------------------------------------------------

R835_HEADER: list[Seg] = [
    [
        "BPR",
        "I",
        "150.00",
        "C",
        "ACH",
        "CCP",
        "01",
        "011000015",
        "DA",
        "123456",
        "1512345678",
        "",
        "01",
        "011000015",
        "DA",
        "654321",
        "20261201",
    ],
    ["TRN", "1", "EFTSYNTH01", "1512345678"],
    ["DTM", "405", "20261130"],
    ["N1", "PR", "SYNTHETIC HEALTH PLAN"],
    ["N3", "1 PLAN WAY"],
    ["N4", "SPRINGFIELD", "IL", "627010000"],
    ["REF", "2U", "99999"],
    ["N1", "PE", "SYNTHETIC CLINIC", "XX", "1234567893"],
    ["LX", "1"],
]
R835_CLAIMS: list[Seg] = [
    ["CLP", "CLAIMA1", "1", "200.00", "120.00", "30.00", "12", "PCNA1", "11", "1"],
    ["NM1", "QC", "1", "TESTER", "PAT", "", "", "", "MI", "MEMBER01"],
    ["DTM", "232", "20261101"],
    ["SVC", ["HC", "99213", "25"], "120.00", "80.00", "", "1"],
    ["DTM", "472", "20261101"],
    ["CAS", "CO", "45", "20.00", "", "", "", ""],
    ["CAS", "PR", "1", "20.00"],
    ["REF", "6R", "LINE0001"],
    ["AMT", "B6", "100.00"],
    ["LQ", "HE", "N130"],
    ["SVC", ["HC", "85025"], "80.00", "40.00", "", "1"],
    ["DTM", "472", "20261101"],
    ["CAS", "CO", "45", "30.00"],
    ["CAS", "PR", "2", "10.00"],
    ["REF", "6R", "LINE0002"],
    ["CLP", "CLAIMB2", "4", "50.00", "0", "", "12", "PCNB2"],
    ["CAS", "CO", "29", "50.00"],
    ["NM1", "QC", "1", "SAMPLE", "KIM"],
    ["CLP", "CLAIMC3", "22", "-40.00", "-40.00", "", "12", "PCNC3"],
    ["NM1", "QC", "1", "SAMPLE", "LEE"],
]
R835_PLB: Seg = ["PLB", "1512345678", "20261231", ["WO", "OVERPAY1"], "-10.00", ["L6"], "-60.00"]


def remittance_body() -> list[Seg]:
    set1 = transaction_set("835", "0001", [*R835_HEADER, *R835_CLAIMS, R835_PLB])
    header2 = [list(s) for s in R835_HEADER]
    header2[0][2] = "0"
    header2[1][2] = "EFTSYNTH02"
    set2 = transaction_set(
        "835",
        "0002",
        [*header2, ["CLP", "CLAIMD4", "4", "10", "0", "", "12"], ["CAS", "CO", "29", "10"]],
    )
    return group("HP", "005010X221A1", [set1, set2])


CA277_BODY: list[Seg] = [
    ["BHT", "0085", "08", "BATCHSYNTH1", "20261202", "1200", "TH"],
    ["HL", "1", "", "20", "1"],
    ["NM1", "AY", "2", "SYNTHETIC CLEARINGHOUSE", "", "", "", "", "46", "CH0001"],
    ["TRN", "1", "RCPT0001"],
    ["DTP", "050", "D8", "20261202"],
    ["DTP", "009", "D8", "20261202"],
    ["HL", "2", "1", "21", "1"],
    ["NM1", "41", "2", "SYNTHETIC CLINIC", "", "", "", "", "46", "SUB0001"],
    ["TRN", "2", "OURBATCH01"],
    ["STC", ["A1", "19", "PR"], "20261202", "WQ", "230.00"],
    ["QTY", "90", "2"],
    ["QTY", "AA", "1"],
    ["AMT", "YU", "200.00"],
    ["AMT", "YY", "30.00"],
    ["HL", "3", "2", "19", "1"],
    ["NM1", "85", "2", "SYNTHETIC CLINIC", "", "", "", "", "XX", "1234567893"],
    ["HL", "4", "3", "PT"],
    ["NM1", "QC", "1", "TESTER", "PAT", "", "", "", "MI", "MEMBER01"],
    ["TRN", "2", "CLAIMA1"],
    ["STC", ["A1", "19", "PR"], "20261202", "WQ", "200.00"],
    ["STC", ["A2", "20", "PR"], "20261202", "WQ", "200.00"],
    ["REF", "1K", "PAYERCCN01"],
    ["REF", "D9", "CHCLAIM01"],
    ["DTP", "472", "RD8", "20261101-20261102"],
    ["SVC", ["HC", "99213", "25", "59"], "120.00", "", "", "", "", "1"],
    ["STC", ["A1", "19"], "20261202", "WQ"],
    ["REF", "FJ", "LINE0001"],
    ["DTP", "472", "D8", "20261101"],
    ["HL", "5", "3", "PT"],
    ["NM1", "QC", "1", "SAMPLE", "KIM", "", "", "", "MI", "MEMBER02"],
    ["TRN", "2", "CLAIMB2"],
    [
        "STC",
        ["A3", "21", "85"],
        "20261202",
        "U",
        "30.00",
        "",
        "",
        "",
        "",
        "",
        ["A7", "562", "85"],
        ["A7", "128"],
    ],
    ["STC", ["A6", "35"], "20261202", "U"],
    ["REF", "1K", "PAYERCCN02"],
    ["DTP", "472", "D8", "20261101"],
]


def claim_ack_body() -> list[Seg]:
    return group("HN", "005010X214", [transaction_set("277", "0001", CA277_BODY, "005010X214")])


ACK999_BODY: list[Seg] = [
    ["AK1", "HC", "17", "005010X222A1"],
    ["AK2", "837", "0001", "005010X222A1"],
    ["IK3", "NM1", "8", "2010BA", "8"],
    ["CTX", ["SITUATIONAL TRIGGER"], "CLM", "23", "2300", ["5", "2"]],
    ["IK4", "3", "1035", "6", "BAD#NAME"],
    ["CTX", ["CLM01", "CLAIMA1"]],
    ["IK4", ["9"], "67", "7"],
    ["IK3", "REF", "30", "2300", "3"],
    ["IK5", "R", "5"],
    ["AK2", "837", "0002", "005010X222A1"],
    ["IK5", "A"],
    ["AK2", "837", "0003", "005010X222A1"],
    ["IK3", "SV1", "41", "2400", "8"],
    ["IK4", ["1", "2"], "234", "7", "99999"],
    ["IK5", "E", "5"],
    ["AK9", "P", "3", "3", "2"],
]


def ack999_body() -> list[Seg]:
    return group(
        "FA", "005010X231A1", [transaction_set("999", "0001", ACK999_BODY, "005010X231A1")]
    )


TA1_ONLY: list[Seg] = [["TA1", "000000017", "261130", "2359", "R", "022"]]

# -- reading helpers ----------------------------------------------------------------------------


def snapshot(data: bytes, chunk_size: int | None = None) -> tuple[list[Any], list[Any]]:
    """Segments (tag, elements, index, offset, line) and defects (code, severity, location)."""
    if chunk_size is None:
        reader = read_segments(data)
    else:
        reader = SegmentReader(io.BytesIO(data), chunk_size=chunk_size)
    segments = [(s.tag, list(s.elements), s.index, s.offset, s.line) for s in reader]
    defects = [
        (
            d.code.value,
            d.severity.value,
            d.location.segment_index,
            d.location.offset,
            d.location.line,
            d.location.element,
        )
        for d in reader.defects
    ]
    return segments, defects


def elements_of(data: bytes) -> list[tuple[str, list[str]]]:
    """Tags and elements with separators masked; ISA11, ISA12 and ISA16 left out (they vary)."""
    out = []
    for seg in read_segments(data):
        d = seg.delimiters
        values = []
        for value in seg.elements if seg.tag != "ISA" else seg.elements[:10] + seg.elements[12:15]:
            if d.repetition:
                value = value.replace(d.repetition, "\x00")
            values.append(value.replace(d.component, "\x01"))
        out.append((seg.tag, values))
    return out


def codes_of(data: bytes) -> list[str]:
    return [d.code.value for d in read_segments_done(data).defects]


def read_segments_done(data: bytes) -> SegmentReader:
    reader = read_segments(data)
    for _ in reader:
        pass
    return reader


def _strip_locations(value: Any) -> Any:
    """A document's data without byte offsets and lines (which differ between layouts)."""
    if isinstance(value, dict):
        return {k: _strip_locations(v) for k, v in value.items() if k not in ("offset", "line")}
    if isinstance(value, list):
        return [_strip_locations(v) for v in value]
    return value


def documents(data: bytes) -> Any:
    return _strip_locations(to_data(read_documents(data)))


SAMPLES: dict[str, tuple[list[Seg], int]] = {
    "835": (remittance_body(), 1),
    "277CA": (claim_ack_body(), 1),
    "999": (ack999_body(), 1),
    "TA1": (TA1_ONLY, 0),
}
"""Each sample's GS..GE body and its IEA01 group count."""


def sample(kind: str, d: Delimiters = STAR, line: str = "\n", control: str = "000000001") -> bytes:
    body, groups = SAMPLES[kind]
    return interchange(body, d, line=line, control=control, groups=groups).encode("latin-1")


# -- the baseline documents: what an EDI engineer reads in each sample ---------------------------


def test_835_sample_reads_as_expected() -> None:
    """Two 835s in one GS; PLB with two adjustments; a paid, a denied and a reversed claim."""
    doc = read_remittance(read_segments(sample("835")))
    assert 2 == len(doc.remittances)
    first, second = doc.remittances
    assert Decimal("150.00") == first.header.payment_amount
    assert "EFTSYNTH01" == first.header.trace_number
    assert first.header.payer is not None
    assert "SYNTHETIC HEALTH PLAN" == first.header.payer.name
    assert ["CLAIMA1", "CLAIMB2", "CLAIMC3"] == [c.claim_id for c in first.claims]
    paid = first.claims[0]
    assert ["99213", "85025"] == [ln.procedure.code for ln in paid.lines if ln.procedure]
    assert paid.lines[0].procedure is not None
    assert ["25"] == paid.lines[0].procedure.modifiers
    assert "LINE0001" == paid.lines[0].line_control_number
    assert Decimal("100.00") == paid.lines[0].allowed_amount
    assert ["N130"] == [r.code for r in paid.lines[0].remarks]
    assert first.claims[2].is_reversal
    assert [("WO", "OVERPAY1", Decimal("-10.00")), ("L6", "", Decimal("-60.00"))] == [
        (p.reason, p.reference, p.amount) for p in first.provider_adjustments
    ]
    assert first.summary.balanced
    assert second.summary.balanced
    assert ["CLAIMD4"] == [c.claim_id for c in second.claims]
    assert 4 == doc.summary.claims
    assert {"paid": 1, "denied": 2, "reversed": 1} == doc.summary.outcomes


def test_277ca_sample_reads_as_expected() -> None:
    """Several STC per claim, extra status composites in STC10/STC11, a line under a claim."""
    doc = read_claim_acknowledgement(read_segments(sample("277CA")))
    assert "277CA" == doc.transaction
    (ack,) = doc.acknowledgements
    accepted, rejected = ack.claims
    assert ("CLAIMA1", "accepted", "PAYERCCN01", "CHCLAIM01") == (
        accepted.claim_id,
        accepted.classification.value,
        accepted.payer_claim_control_number,
        accepted.clearinghouse_claim_id,
    )
    assert [["A1"], ["A2"]] == [[c.category for c in s.codes] for s in accepted.statuses]
    (line,) = accepted.lines
    assert ("99213", ["25", "59"], "LINE0001") == (
        line.procedure_code,
        line.modifiers,
        line.line_control_number,
    )
    assert "rejected" == rejected.classification.value
    assert [("A3", "21", "85"), ("A7", "562", "85"), ("A7", "128", "")] == [
        (c.category, c.status, c.entity) for c in rejected.statuses[0].codes
    ]
    assert 2 == len(rejected.statuses)
    assert (2, 1, 1) == (doc.summary.claims, doc.summary.accepted, doc.summary.rejected)
    assert ["OURBATCH01"] == ack.receivers[0].trace_numbers


def test_999_sample_reads_as_expected() -> None:
    """IK3 with CTX, IK4 with and without composites, a partially accepted group."""
    doc = read_implementation_acknowledgement(read_segments(sample("999")))
    (ack,) = doc.acknowledgements
    (grp,) = ack.groups
    assert ("HC", "17", "P", 3, 3, 2) == (
        grp.functional_id,
        grp.group_control_number,
        grp.status,
        grp.sets_included,
        grp.sets_received,
        grp.sets_accepted,
    )
    assert ["R", "A", "E"] == [s.status for s in grp.transaction_sets]
    nm1, ref = grp.transaction_sets[0].segment_errors
    assert ("NM1", 8, "2010BA", "8") == (
        nm1.segment_id,
        nm1.segment_position,
        nm1.loop_id,
        nm1.error_code,
    )
    (ctx,) = nm1.contexts
    assert ("SITUATIONAL TRIGGER", "CLM", 23, "2300") == (
        ctx.context_name,
        ctx.segment_id,
        ctx.segment_position,
        ctx.loop_id,
    )
    assert [(3, "1035", "6", "BAD#NAME"), (9, "67", "7", "")] == [
        (e.element_position, e.data_element_reference, e.error_code, e.bad_value)
        for e in nm1.element_errors
    ]
    assert [("CLM01", "CLAIMA1")] == [
        (c.context_name, c.context_reference) for c in nm1.element_errors[0].contexts
    ]
    assert "3" == ref.error_code
    (sv1,) = grp.transaction_sets[2].segment_errors
    assert [(1, 2)] == [(e.element_position, e.component_position) for e in sv1.element_errors]
    assert (3, 2, 1) == (doc.summary.sets, doc.summary.accepted, doc.summary.rejected)


def test_ta1_only_file_reads_without_defects() -> None:
    data = sample("TA1")
    reader = read_segments_done(data)
    assert [] == reader.defects
    doc = read_interchange_acknowledgement(read_segments(data))
    (ack,) = doc.acknowledgements
    assert ("000000017", "R", "022") == (ack.control_number, ack.status, ack.note_code)
    assert {"TA1": 1} == detect_transactions(read_segments(data)).kinds


def test_ta1_counted_in_iea01_is_only_a_warning() -> None:
    """Many receivers write IEA*1 for an interchange holding just a TA1."""
    data = sample("TA1").replace(b"IEA*0*", b"IEA*1*")
    defects = read_segments_done(data).defects
    assert [("TA1-021", Severity.WARNING)] == [(d.code.value, d.severity) for d in defects]


# -- the same interchange in every delimiter set and line style ----------------------------------

LAYOUTS = [(dn, ln) for dn in DELIMITER_SETS for ln in LINE_STYLES]


@pytest.mark.parametrize("kind", list(SAMPLES))
@pytest.mark.parametrize(("delims", "line"), LAYOUTS)
def test_layout_does_not_change_what_is_read(kind: str, delims: str, line: str) -> None:
    d = DELIMITER_SETS[delims]
    data = sample(kind, d, LINE_STYLES[line])
    baseline = sample(kind)
    assert elements_of(baseline) == elements_of(data)
    assert codes_of(baseline) == codes_of(data)
    read = read_segments_done(data)
    assert d == read.tokenizer.delimiters or read.tokenizer.delimiters is None
    assert documents(baseline) == documents(data)


@pytest.mark.parametrize(("delims", "line"), LAYOUTS)
def test_delimiters_are_detected_and_carried_by_segments(delims: str, line: str) -> None:
    d = DELIMITER_SETS[delims]
    segments = list(read_segments(sample("835", d, LINE_STYLES[line])))
    assert {d} == {s.delimiters for s in segments}
    svc = next(s for s in segments if s.tag == "SVC")
    assert ["HC", "99213", "25"] == svc.components(1)


def test_4010_repetition_u_does_not_split_on_caret() -> None:
    """ISA11 is a standards id ('U') before 00402: '^' is then data, not a separator."""
    d = Delimiters("*", None, ":", "~")
    data = interchange(
        [
            ["GS", "HP", "A", "B", "20261201", "0800", "1", "X", "004010X091A1"],
            ["ST", "835", "0001"],
            ["REF", "EV", "A^B"],
            ["SE", "3", "0001"],
            ["GE", "1", "1"],
        ],
        d,
    ).encode()
    segments = list(read_segments(data))
    assert None is segments[0].delimiters.repetition
    assert "U" == segments[0][11]
    ref = next(s for s in segments if s.tag == "REF")
    assert ["A^B"] == ref.repetitions(2)


def test_5010_repetition_separator_splits() -> None:
    data = sample("835").replace(b"REF*2U*99999", b"REF*2U*99999^88888")
    ref = next(s for s in read_segments(data) if s.tag == "REF" and s[1] == "2U")
    assert ["99999", "88888"] == ref.repetitions(2)


# -- chunk boundaries ---------------------------------------------------------------------------


def _assert_chunk_invariant(data: bytes, sizes: Sequence[int]) -> None:
    expected = snapshot(data)
    for size in sizes:
        assert expected == snapshot(data, size), f"chunk size {size}"


@pytest.mark.parametrize("kind", list(SAMPLES))
@pytest.mark.parametrize(
    "layout", ["star-tilde", "pipe-caret-component", "star-newline", "control-chars", "star-cr"]
)
@pytest.mark.parametrize("line", ["none", "crlf"])
def test_every_chunk_size_reads_the_same(kind: str, layout: str, line: str) -> None:
    data = sample(kind, DELIMITER_SETS[layout], LINE_STYLES[line])
    _assert_chunk_invariant(data, [*range(1, 40), 105, 106, 107, 108, 4095, 4096, 4097])


_VARIANT_SEGMENTS: list[Seg] = [
    ["NM1", "QC", "1", "MÜLLER", "JOSÉ"],
    ["REF", "EA", "X" * 700],
    ["CAS", "CO", "45", "1.00", "", ""],
    ["SVC", ["HC", "99213", ""], "1", "1"],
    ["PLB", "1512345678", "20261231", ["WO", "R1"], "-1", ["L6"], "2"],
    ["bpr", "i", "1"],
    ["AMT", "B6", ""],
]
_JUNK_BEFORE = [
    "",
    "\ufeff",
    "From: edi@example.invalid\nSubject: remit\n\n",
    "\r\n  \n",
    "$$ADD ID=SYNTH BID='SYNTH'\n",
]
_JUNK_AFTER = ["", "\n\n  ", " " * 40, "\r\n"]
_BREAKS = ["", "\n", "\r\n", "\r", "\n\n", "\n  ", "\r\n\t"]


@st.composite
def x12_files(draw: st.DrawFn) -> bytes:
    """One to three interchanges in assorted delimiters, line breaks, junk and encodings."""
    text = draw(st.sampled_from(_JUNK_BEFORE))
    for number in range(1, draw(st.integers(1, 3)) + 1):
        d = draw(st.sampled_from(list(DELIMITER_SETS.values())))
        extra = draw(st.lists(st.sampled_from(_VARIANT_SEGMENTS), max_size=6))
        control = f"{number:09d}"
        segs: list[Seg] = group("HP", "005010X221A1", [transaction_set("835", "0001", extra)])
        breaks = st.sampled_from(_BREAKS) if d.segment not in "\r\n" else st.just("")
        piece = isa(d, control, "00501" if d.repetition else "00401") + draw(breaks)
        trailer: Seg = ["IEA", "1", control]
        for seg in [*segs, trailer]:
            piece += d.element.join(element(v, d) for v in seg) + d.segment + draw(breaks)
        if draw(st.booleans()) and number > 1:
            piece = piece.rstrip("\r\n\t ")[:-1]  # the last segment loses its terminator
        text += piece
    text += draw(st.sampled_from(_JUNK_AFTER))
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    return text.encode(encoding, "replace")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x12_files(), st.lists(st.integers(1, 300), min_size=1, max_size=4))
def test_chunking_never_changes_segments_locations_or_defects(
    data: bytes, sizes: list[int]
) -> None:
    _assert_chunk_invariant(data, [1, 2, 3, *sizes])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 64))
def test_chunking_invariant_on_arbitrary_bytes_after_a_header(tail: bytes, size: int) -> None:
    """Garbage after a valid ISA: whatever is made of it, chunking must not change it."""
    data = isa(STAR).encode() + tail
    _assert_chunk_invariant(data, [1, size])


def test_long_segment_across_many_chunks() -> None:
    data = sample("835").replace(b"REF*2U*99999", b"REF*2U*" + b"9" * 200_000)
    expected = snapshot(data)
    assert expected == snapshot(data, 4096)
    assert expected == snapshot(data, 65_537)
    ref = next(s for s in read_segments(data) if s.tag == "REF")
    assert 200_000 == len(ref[2])


# -- what surrounds the interchange -------------------------------------------------------------


def test_utf8_bom_is_skipped_and_offsets_stay_byte_offsets() -> None:
    data = b"\xef\xbb\xbf" + sample("835")
    segments, defects = snapshot(data)
    assert [] == [d for d in defects if d[0] != "X12-TRAILING-SEPARATOR"]
    assert ("ISA", 0, 3, 1) == (segments[0][0], segments[0][2], segments[0][3], segments[0][4])
    assert ("GS", 110, 2) == (segments[1][0], segments[1][3], segments[1][4])


def test_mail_header_before_isa_is_a_warning_and_locations_count_it() -> None:
    banner = b"From: edi@example.invalid\r\nSubject: VISA remittance\r\n\r\n"
    data = banner + sample("999")
    segments, defects = snapshot(data)
    assert [("X12-TEXT-BEFORE-ISA", "warning", 0, 0, 1, None)] == defects
    assert ("ISA", 0, len(banner), 4) == (
        segments[0][0],
        segments[0][2],
        segments[0][3],
        segments[0][4],
    )
    assert elements_of(sample("999")) == elements_of(data)


@pytest.mark.parametrize("tail", [b"\n", b"\r\n\r\n", b"   \n\t\n", b" " * 100])
def test_whitespace_after_the_last_iea_is_not_a_defect(tail: bytes) -> None:
    data = sample("277CA") + tail
    assert [] == codes_of(data)


def test_space_padding_to_fixed_records_is_not_a_defect() -> None:
    data = sample("999", line="")
    data += b" " * (-len(data) % 128)
    assert 0 == len(data) % 128
    assert [] == codes_of(data)


def test_leading_blank_lines_before_isa_are_not_a_defect() -> None:
    data = b"\r\n\n   \n" + sample("TA1")
    segments, defects = snapshot(data)
    assert [] == defects
    assert (7, 4) == (segments[0][3], segments[0][4])


def test_not_x12_and_empty_files() -> None:
    assert ["X12-NOT-X12"] == codes_of(b"")
    assert ["X12-NOT-X12"] == codes_of(b"hello, this is a PDF, not X12\n")
    assert ["X12-NOT-X12"] == codes_of(sample("835").decode().encode("utf-16"))


def test_file_starting_at_gs_is_read_with_a_ta1_024() -> None:
    text = sample("835").decode()
    headless = text[text.index("GS*") : text.index("IEA*")]
    reader = read_segments_done(headless.encode())
    assert "TA1-024" == reader.defects[0].code.value
    assert elements_of(sample("835"))[1:-1] == elements_of(headless.encode())


# -- several interchanges -----------------------------------------------------------------------


def test_interchanges_with_different_delimiters_in_one_file() -> None:
    first = sample("835", STAR, "\n", control="000000001")
    second = sample("999", DELIMITER_SETS["pipe-caret-component"], "\r\n", control="000000002")
    third = sample("TA1", DELIMITER_SETS["star-newline"], "", control="000000003")
    data = first + second + third
    segments = list(read_segments(data))
    isas = [s for s in segments if s.tag == "ISA"]
    assert ["000000001", "000000002", "000000003"] == [s[13] for s in isas]
    assert ["~", "!", "\n"] == [s.delimiters.segment for s in isas]
    assert len(first) == isas[1].offset
    assert len(first) + len(second) == isas[2].offset
    assert first.count(b"\n") + 1 == isas[1].line
    assert list(range(len(segments))) == [s.index for s in segments]
    assert [] == [c for c in codes_of(data) if c != "X12-TRAILING-SEPARATOR"]
    kinds = detect_transactions(read_segments(data)).kinds
    assert {"835": 2, "999": 1, "TA1": 1} == kinds
    docs = read_documents(data)
    assert ["835", "999", "TA1"] == [d.transaction for d in docs]


def test_interchanges_joined_without_line_break() -> None:
    data = sample("999", line="") + sample("277CA", line="", control="000000002")
    assert [] == codes_of(data)
    assert {"999": 1, "277CA": 1} == detect_transactions(read_segments(data)).kinds


def test_duplicate_interchange_control_number_in_one_file() -> None:
    data = sample("999") + sample("999")
    assert ["TA1-025"] == codes_of(data)


# -- the segments themselves --------------------------------------------------------------------


def test_line_break_before_the_terminator() -> None:
    """Some writers end each line with '\\n~' or '\\r\\n~' instead of '~\\n'."""
    flat = sample("835", line="")
    for before in (b"\n~", b"\r\n~"):
        data = flat.replace(b"~", before)
        assert elements_of(flat) == elements_of(data)
        assert codes_of(flat) == codes_of(data)


def test_mixed_and_blank_lines_and_indentation() -> None:
    flat = sample("277CA", line="").decode()
    pieces = flat.split("~")[:-1]
    breaks = ["\n", "\r\n", "", "\n\n", "\r\n   ", "\n\t", "\r"]
    text = "".join(p + "~" + breaks[i % len(breaks)] for i, p in enumerate(pieces))
    data = text.encode()
    assert elements_of(flat.encode()) == elements_of(data)
    assert [] == codes_of(data)
    segments = list(read_segments(data))
    for seg in segments:
        assert data[seg.offset : seg.offset + len(seg.tag)].decode() == seg.tag
        assert data[: seg.offset].count(b"\n") + 1 == seg.line


def test_offsets_and_lines_point_at_each_segment() -> None:
    for line in LINE_STYLES.values():
        data = sample("835", line=line)
        for seg in read_segments(data):
            assert data[seg.offset : seg.offset + len(seg.tag)].decode() == seg.tag
            assert data[: seg.offset].count(b"\n") + 1 == seg.line


def test_trailing_element_separators_are_a_warning_and_kept() -> None:
    data = sample("999").replace(b"IK5*A~", b"IK5*A***~")
    reader = read_segments(data)
    ik5 = [s for s in reader if s.tag == "IK5"][1]
    assert ["A", "", "", ""] == ik5.elements
    assert [("X12-TRAILING-SEPARATOR", Severity.WARNING, ik5.index)] == [
        (d.code.value, d.severity, d.location.segment_index) for d in reader.defects
    ]


def test_empty_trailing_components_are_kept() -> None:
    data = sample("835").replace(b"SVC*HC:85025*", b"SVC*HC:85025::*")
    svc = [s for s in read_segments(data) if s.tag == "SVC"][1]
    assert ["HC", "85025", "", ""] == svc.components(1)
    doc = read_remittance(read_segments(data))
    line = doc.remittances[0].claims[0].lines[1]
    assert line.procedure is not None
    assert [] == line.procedure.modifiers


def test_lowercase_tag_is_unrecognized_but_lowercase_data_is_kept() -> None:
    data = sample("835").replace(b"N1*PR*SYNTHETIC HEALTH PLAN", b"N1*PR*synthetic health plan")
    data = data.replace(b"LQ*HE*N130", b"lq*HE*N130")
    reader = read_segments(data)
    segments = list(reader)
    assert "synthetic health plan" == next(s for s in segments if s.tag == "N1")[2]
    lq = next(s for s in segments if s.tag == "lq")
    assert ["IK304-1"] == [
        d.code.value for d in reader.defects if d.location.segment_index == lq.index
    ]


def test_unterminated_last_segment_is_a_warning() -> None:
    data = sample("999", line="").rstrip(b"~")
    reader = read_segments(data)
    segments = list(reader)
    assert ("IEA", ["1", "000000001"]) == (segments[-1].tag, segments[-1].elements)
    assert ["X12-UNTERMINATED-SEGMENT"] == [d.code.value for d in reader.defects]


def test_utf8_names_are_decoded_and_offsets_stay_in_bytes() -> None:
    data = sample("835").replace(b"NM1*QC*1*TESTER*PAT", "NM1*QC*1*MÜLLER*JOSÉ".encode())
    segments = list(read_segments(data))
    nm1 = next(s for s in segments if s.tag == "NM1" and s[3] == "MÜLLER")
    assert "JOSÉ" == nm1[4]
    for seg in segments:
        assert data[seg.offset : seg.offset + len(seg.tag)].decode() == seg.tag
    doc = read_remittance(read_segments(data))
    patient = doc.remittances[0].claims[0].patient
    assert patient is not None
    assert ("MÜLLER", "JOSÉ") == (patient.last_name, patient.first_name)


def test_irregular_isa_without_padding_is_read_with_a_warning() -> None:
    text = sample("999").decode()
    head, rest = text[:106], text[106:]
    short = head.replace("*          *", "**").replace("PAYERSYNTH     ", "PAYERSYNTH")
    data = (short + rest).encode()
    reader = read_segments(data)
    segments = list(reader)
    assert "PAYERSYNTH" == segments[0][6]
    assert ["X12-ISA-LENGTH"] == [d.code.value for d in reader.defects]
    assert elements_of(sample("999"))[1:] == elements_of(data)[1:]


def test_strict_policy_raises_on_the_first_error() -> None:
    from gateway.x12 import STRICT, X12Error

    data = sample("999").replace(b"IEA*1*000000001", b"IEA*1*000000009")
    with pytest.raises(X12Error) as caught:
        list(read_segments(data, STRICT))
    assert DefectCode.TA1_001 == caught.value.defect.code


# -- typed readers on real-world shapes ---------------------------------------------------------


def test_835_missing_se_between_sets_still_reads_both() -> None:
    data = sample("835").replace(b"SE*32*0001~\n", b"")
    assert b"SE*32*0001" not in data
    assert "IK502-2" in codes_of(data)
    doc = read_remittance(read_segments(data))
    assert [3, 1] == [len(r.claims) for r in doc.remittances]
    assert [2, 0] == [len(r.provider_adjustments) for r in doc.remittances]
    (document,) = read_documents(data)
    assert "IK502-2" in [f.code for f in document.findings]


def test_835_cut_short_mid_claim_keeps_what_was_read() -> None:
    data = sample("835")
    data = data[: data.index(b"CLP*CLAIMB2")]
    assert ["X12-TRAILING-SEPARATOR", "IK502-2", "AK905-3", "TA1-023"] == codes_of(data)
    doc = read_remittance(read_segments(data))
    assert ["CLAIMA1"] == [c.claim_id for r in doc.remittances for c in r.claims]
    assert not doc.summary.balanced


@pytest.mark.parametrize(
    ("text", "amount"),
    [("100", "100"), (".50", "0.50"), ("-.5", "-0.5"), ("0", "0"), ("-0", "0")],
)
def test_835_amount_forms(text: str, amount: str) -> None:
    data = sample("835").replace(b"BPR*I*150.00*", b"BPR*I*" + text.encode() + b"*")
    header = read_remittance(read_segments(data)).remittances[0].header
    assert Decimal(amount) == header.payment_amount


@pytest.mark.parametrize("text", ["1,000.00", " 5", "5 ", "NaN", "12.3.4", ""])
def test_835_bad_amount_is_a_finding(text: str) -> None:
    data = sample("835").replace(b"BPR*I*150.00*", b"BPR*I*" + text.encode() + b"*")
    remittance = read_remittance(read_segments(data)).remittances[0]
    assert "835-AMOUNT-INVALID" in [f.code for f in remittance.findings]


def test_ta1_beside_a_999_in_one_interchange() -> None:
    for body in (TA1_ONLY + ack999_body(), ack999_body() + TA1_ONLY):
        data = interchange(body, groups=1).encode()
        assert [] == codes_of(data)
        kinds = [d.transaction for d in read_documents(data)]
        assert {"TA1", "999"} == set(kinds)


def test_4010_997_with_ak3_ak4() -> None:
    sets = [
        transaction_set(
            "997",
            "0001",
            [
                ["AK1", "HC", "17"],
                ["AK2", "837", "0001"],
                ["AK3", "NM1", "8", "2010BA", "8"],
                ["AK4", "3", "1035", "6", "X"],
                ["AK5", "R", "5"],
                ["AK9", "R", "1", "1", "0"],
            ],
        )
    ]
    data = interchange(group("FA", "004010", sets), Delimiters("*", None, ":", "~")).encode()
    assert [] == codes_of(data)
    (doc,) = read_documents(data)
    assert "997" == doc.transaction
    (tset,) = doc.acknowledgements[0].groups[0].transaction_sets
    assert ("R", "NM1", 3) == (
        tset.status,
        tset.segment_errors[0].segment_id,
        tset.segment_errors[0].element_errors[0].element_position,
    )


def test_277ca_line_with_several_statuses_is_judged_by_the_worst() -> None:
    data = sample("277CA").replace(
        b"STC*A1:19*20261202*WQ~", b"STC*A1:19*20261202*WQ~\nSTC*A7:453*20261202*U~"
    )
    doc = read_claim_acknowledgement(read_segments(data))
    claim = doc.acknowledgements[0].claims[0]
    assert "rejected" == claim.lines[0].classification.value
    assert 2 == len(claim.lines[0].statuses)
