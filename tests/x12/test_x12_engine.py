"""The X12 engine: delimiters, tokenizer, envelopes, writer, and their round trip."""

from __future__ import annotations

import contextlib
import io
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.x12 import (
    STRICT,
    DefectCode,
    Delimiters,
    Policy,
    Segment,
    Severity,
    Tokenizer,
    Writer,
    X12Error,
    detect_isa,
    read_segments,
    serialize,
)
from gateway.x12 import tokenizer as tokenizer_module
from gateway.x12.tokenizer import SegmentReader


@pytest.fixture(autouse=True, scope="module", params=["c", "python"])
def implementation(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs on the C hot path and on the pure-Python reference."""
    if request.param == "c" and not tokenizer_module.ACCELERATED:
        pytest.skip("gateway.x12._speedups was not built")
    saved = tokenizer_module._split_regular
    if request.param == "python":
        tokenizer_module._split_regular = None
    yield request.param
    tokenizer_module._split_regular = saved


ISA_T = (
    "ISA{e}00{e}          {e}00{e}          {e}ZZ{e}SENDER         {e}ZZ{e}RECEIVER       "
    "{e}261120{e}0930{e}{r}{e}00501{e}000000101{e}0{e}T{e}{c}{s}"
)


def isa(d: Delimiters) -> str:
    """A regular 106-character ISA written with ``d``."""
    return ISA_T.format(e=d.element, r=d.repetition or "U", c=d.component, s=d.segment)


def interchange(d: Delimiters, body: list[str], newline: str = "") -> bytes:
    """A whole interchange around ``body`` (segments without terminators) with right counts."""
    e, s = d.element, d.segment + newline
    segs = [
        isa(d)[:-1],
        f"GS{e}HC{e}SENDER{e}RECEIVER{e}20261120{e}0930{e}7{e}X{e}005010X222A1",
        f"ST{e}837{e}0001{e}005010X222A1",
        *body,
        f"SE{e}{len(body) + 2}{e}0001",
        f"GE{e}1{e}7",
        f"IEA{e}1{e}000000101",
    ]
    return (s.join(segs) + s).encode("utf-8")


@dataclass(frozen=True)
class Case:
    """One row of the table that drives both the tokenizer and the writer."""

    name: str
    delimiters: Delimiters
    tag: str
    elements: list[str | list[str] | list[list[str]]]
    text: str  # the segment as written with those delimiters (no terminator)


CASES = [
    Case("plain", Delimiters(), "NM1", ["85", "2", "VALLEY"], "NM1*85*2*VALLEY"),
    Case("empty inner", Delimiters(), "NM1", ["85", "", "X"], "NM1*85**X"),
    Case("composite", Delimiters(), "SV1", [["HC", "99213", "25"], "125"], "SV1*HC:99213:25*125"),
    Case(
        "repetition",
        Delimiters(),
        "HI",
        [[["ABK", "E119"], ["ABF", "I10"]]],
        "HI*ABK:E119^ABF:I10",
    ),
    Case("pipes", Delimiters("|", "^", ">", "!"), "CLM", ["A1", ["11", "B", "1"]], "CLM|A1|11>B>1"),
    Case("newline terminator", Delimiters("*", "^", ">", "\n"), "REF", ["6R", "L1"], "REF*6R*L1"),
    Case("caret terminator", Delimiters("*", None, ":", "^"), "DTP", ["472", "D8"], "DTP*472*D8"),
    Case(
        "control characters",
        Delimiters("\x1d", "\x1f", "\x1c", "\x1e"),
        "SV1",
        [["HC", "99213"], "10"],
        "SV1\x1dHC\x1c99213\x1d10",
    ),
    Case("tag only", Delimiters(), "LE", [], "LE"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_table_tokenizes(case: Case) -> None:
    """Each table row's text reads back as its tag and element tree."""
    data = interchange(case.delimiters, [case.text])
    segments = list(read_segments(data))
    segment = segments[3]
    assert (segment.tag, segment.element_tree()) == (case.tag, case.elements)
    assert segments[0].delimiters == case.delimiters


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_table_serializes(case: Case) -> None:
    """Each table row's tag and elements write as its text."""
    writer = Writer(case.delimiters)
    assert writer.segment(case.tag, *case.elements) == case.text + case.delimiters.segment


@pytest.mark.parametrize(
    ("name", "data", "tags"),
    [
        ("utf-8 bom", "\ufeff", None),
        ("crlf", "\r\n", None),
        ("lf", "\n", None),
    ],
)
def test_tolerates_bom_and_line_breaks(name: str, data: str, tags: None) -> None:
    """A BOM and CR/LF or LF after terminators read the same segments with no error."""
    d = Delimiters()
    body = interchange(
        d, ["BHT*0019*00*1*20261120*0930*CH"], newline="\r\n" if name == "crlf" else "\n"
    )
    raw = (data.encode("utf-8") if name == "utf-8 bom" else b"") + body
    reader = read_segments(raw)
    segments = list(reader)
    assert [s.tag for s in segments] == ["ISA", "GS", "ST", "BHT", "SE", "GE", "IEA"]
    assert [d for d in reader.defects if d.severity is Severity.ERROR] == []
    assert segments[3].line == 4


def test_indented_and_blank_lines_are_tolerated() -> None:
    """Indentation and blank lines between segments change nothing but the line numbers."""
    d = Delimiters()
    text = interchange(d, ["BHT*0019*00*1*20261120*0930*CH"], newline="\n").decode()
    text = text.replace("ST*", "\n\n   ST*").replace("BHT*", "\t\tBHT*")
    reader = read_segments(text.encode())
    segments = list(reader)
    assert [s.tag for s in segments] == ["ISA", "GS", "ST", "BHT", "SE", "GE", "IEA"]
    assert reader.defects == []
    assert segments[2].line == 5
    assert text.encode()[segments[2].offset :].startswith(b"ST*")


def test_text_before_isa_is_reported_and_skipped() -> None:
    """A banner before the ISA is one located warning; the interchange is still read."""
    data = b"From: mailer\r\nSubject: claims\r\n\r\n" + interchange(Delimiters(), ["BHT*0019"])
    reader = read_segments(data)
    segments = list(reader)
    assert segments[0].tag == "ISA"
    assert segments[0].offset == data.index(b"ISA")
    assert [(d.code, d.location.line) for d in reader.defects] == [(DefectCode.TEXT_BEFORE_ISA, 1)]


def test_several_interchanges_with_different_delimiters() -> None:
    """Each ISA in a file sets the delimiters for its own interchange."""
    first = interchange(Delimiters(), ["BHT*0019"], newline="\n")
    second = interchange(Delimiters("|", "^", ">", "!"), ["BHT|0019"], newline="\n")
    second = second.replace(b"000000101", b"000000102")
    reader = read_segments(first + second)
    segments = list(reader)
    assert [s.tag for s in segments].count("ISA") == 2
    assert segments[7].delimiters.element == "|"
    assert segments[10].elements == ["0019"]
    assert reader.defects == []


def test_line_break_before_terminator_layout() -> None:
    """Files that start every line with the terminator ('...\\n~GS') are read with '~'."""
    d = Delimiters("|", None, "^", "~")
    body = interchange(d, ["BHT|0019"]).decode().replace("~", "\n~")
    reader = read_segments(body.encode())
    segments = list(reader)
    assert [s.tag for s in segments] == ["ISA", "GS", "ST", "BHT", "SE", "GE", "IEA"]
    assert segments[0].delimiters.segment == "~"
    assert [d for d in reader.defects if d.severity is Severity.ERROR] == []


def test_irregular_isa_is_read_with_a_warning() -> None:
    """An ISA whose fields were not padded is read by counting separators, with a warning."""
    text = interchange(Delimiters(), ["BHT*0019"]).decode().replace("SENDER         ", "SENDER", 1)
    reader = read_segments(text.encode())
    segments = list(reader)
    assert segments[0].elements[5] == "SENDER"
    assert [d.code for d in reader.defects] == [DefectCode.ISA_LENGTH]
    assert reader.defects[0].severity is Severity.WARNING


def test_4010_isa11_is_not_a_repetition_separator() -> None:
    """Before version 00402 ISA11 is a standards identifier ('U'), not a delimiter."""
    header = detect_isa(isa(Delimiters()).replace("*^*00501*", "*U*00401*"))
    assert header is not None
    assert header.delimiters.repetition is None


def test_locations_are_exact() -> None:
    """Segments know their index, byte offset and line."""
    data = interchange(Delimiters(), ["BHT*0019", "NM1*41*2"], newline="\r\n")
    for segment in read_segments(data):
        assert data[segment.offset :].startswith(segment.tag.encode())
        assert data.count(b"\n", 0, segment.offset) + 1 == segment.line
        assert segment.location.segment_index == segment.index


def _mutate(old: str, new: str, body: list[str] | None = None) -> bytes:
    return interchange(Delimiters(), body or ["BHT*0019"]).decode().replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("name", "data", "code", "tag", "element"),
    [
        ("IEA02", _mutate("IEA*1*000000101", "IEA*1*000000102"), DefectCode.TA1_001, "IEA", 2),
        ("IEA01", _mutate("IEA*1*", "IEA*2*"), DefectCode.TA1_021, "IEA", 1),
        ("GE02", _mutate("GE*1*7", "GE*1*8"), DefectCode.AK905_4, "GE", 2),
        ("GE01", _mutate("GE*1*7", "GE*3*7"), DefectCode.AK905_5, "GE", 1),
        ("SE02", _mutate("SE*3*0001", "SE*3*0002"), DefectCode.IK502_3, "SE", 2),
        ("SE01", _mutate("SE*3*0001", "SE*9*0001"), DefectCode.IK502_4, "SE", 1),
        ("ISA13", _mutate("000000101*0*T", "00000010A*0*T"), DefectCode.TA1_018, "ISA", 13),
        ("ISA15", _mutate("*0*T*", "*0*X*"), DefectCode.TA1_020, "ISA", 15),
        ("ISA09", _mutate("261120", "261320"), DefectCode.TA1_014, "ISA", 9),
        ("GS06", _mutate("0930*7*X", "0930*7A*X"), DefectCode.AK905_6, "GS", 6),
        ("bad tag", _mutate("BHT*0019", "bh!*0019"), DefectCode.IK304_1, "bh!", None),
    ],
)
def test_envelope_defects(
    name: str, data: bytes, code: DefectCode, tag: str, element: int | None
) -> None:
    """Each envelope fault gives its TA1/999 code at the right segment and element."""
    reader = read_segments(data)
    list(reader)
    matching = [d for d in reader.defects if d.code is code]
    assert len(matching) == 1, [str(d) for d in reader.defects]
    assert matching[0].location.tag == tag
    assert matching[0].location.element == element
    assert matching[0].message


@pytest.mark.parametrize(
    ("name", "cut", "code"),
    [
        ("no SE", "SE*3*0001~", DefectCode.IK502_2),
        ("no GE", "GE*1*7~", DefectCode.AK905_3),
        ("no IEA", "IEA*1*000000101~", DefectCode.TA1_023),
    ],
)
def test_missing_trailers(name: str, cut: str, code: DefectCode) -> None:
    """A missing trailer is reported where it should have been."""
    reader = read_segments(_mutate(cut, ""))
    list(reader)
    assert code in {d.code for d in reader.defects}


def test_segment_outside_a_set_is_reported() -> None:
    """A data segment between GS and ST is outside any transaction set."""
    reader = read_segments(_mutate("ST*837", "NM1*41~ST*837"))
    list(reader)
    assert [d.code for d in reader.defects] == [DefectCode.TA1_024]


def test_duplicate_interchange_control_number() -> None:
    """Two interchanges with one ISA13 in one file is TA1 note 025."""
    data = interchange(Delimiters(), ["BHT*0019"])
    reader = read_segments(data + data)
    list(reader)
    assert [d.code for d in reader.defects] == [DefectCode.TA1_025]


def test_trailing_separators_are_a_warning() -> None:
    """Empty trailing elements are read and reported as a warning."""
    reader = read_segments(_mutate("BHT*0019", "BHT*0019**"))
    segments = list(reader)
    assert segments[3].elements == ["0019", "", ""]
    assert [(d.code, d.severity) for d in reader.defects] == [
        (DefectCode.TRAILING_SEPARATOR, Severity.WARNING)
    ]


def test_unterminated_last_segment() -> None:
    """A file cut after its last segment's data still yields that segment, with a warning."""
    data = interchange(Delimiters(), ["BHT*0019"]).rstrip(b"~")
    reader = read_segments(data)
    segments = list(reader)
    assert segments[-1].tag == "IEA"
    assert DefectCode.UNTERMINATED_SEGMENT in {d.code for d in reader.defects}


def test_a_non_ascii_digit_in_the_isa_version_is_not_a_crash() -> None:
    """'²'.isdigit() is true but int('²') fails: ISA12 must be read as ASCII digits."""
    header = isa(Delimiters()).replace("00501", "\u00b200501"[:5])
    assert detect_isa(header) is not None
    reader = read_segments(header.encode("latin-1") + b"IEA*0*000000101~")
    assert [s.tag for s in reader] == ["ISA", "IEA"]


@pytest.mark.parametrize(
    "padding",
    [b"\0" * 60, b"\x1a", b"\r\n\r\n   ", b"\xef\xbb\xbf"],
    ids=["nul-records", "dos-eof", "blank-lines", "bom"],
)
def test_padding_between_and_after_interchanges_is_not_a_defect(padding: bytes) -> None:
    """NUL padding to fixed-size records, ^Z, blank lines and a joined file's BOM mean nothing."""
    first = interchange(Delimiters(), ["BHT*0019"])
    second = interchange(Delimiters("|", "!", "^", ">"), ["BHT|0019"]).replace(
        b"000000101", b"000000102"
    )
    reader = read_segments(first + padding + second + padding)
    assert [s.tag for s in reader].count("ISA") == 2
    assert reader.defects == []


def test_bytes_that_are_not_utf8_are_read_as_windows_1252_with_one_warning() -> None:
    body = ["NM1*QC*1*NU\xd1EZ*JOS\xc9", "NM1*IL*1*O\x92BRIEN*ANN", "N3*CALLE M\xc1S"]
    data = interchange(Delimiters(), []).replace(
        b"SE*2", ("~".join(body) + "~SE*5").encode("latin-1")
    )
    reader = read_segments(data)
    names = [s.elements[2:4] for s in reader if s.tag == "NM1"]
    assert names == [["NU\xd1EZ", "JOS\xc9"], ["O\u2019BRIEN", "ANN"]]
    (defect,) = reader.defects
    assert (defect.code, defect.severity) == (DefectCode.ENCODING, Severity.WARNING)
    assert defect.location is not None
    assert defect.location.segment_index == 3


def test_utf8_names_are_read_without_a_defect() -> None:
    data = interchange(Delimiters(), ["NM1*QC*1*M\u00dcLLER*J\u00d6RG".encode().decode("latin-1")])
    data = data.decode("utf-8").encode("latin-1")
    reader = read_segments(data)
    assert [s.elements[2] for s in reader if s.tag == "NM1"] == ["M\u00dcLLER"]
    assert reader.defects == []


def test_a_line_starting_with_digits_continues_a_wrapped_segment() -> None:
    """``BPR*I*1`` then ``00*C`` on the next line is one amount (100), not a segment ``00``."""
    data = interchange(Delimiters(), ["BPR*I*1\n00*C*ACH", "NM1*QC\n*1*DOE"])
    reader = read_segments(data)
    segments = {s.tag: s.elements for s in reader}
    assert segments["BPR"] == ["I", "100", "C", "ACH"]
    assert segments["NM1"] == ["QC", "1", "DOE"]
    assert "00" not in segments


@pytest.mark.parametrize("newline", ["", "\n"])
def test_an_iea_without_its_terminator_does_not_swallow_the_next_interchange(
    newline: str,
) -> None:
    first = interchange(Delimiters(), ["BHT*0019"], newline).rstrip(b"~\n")
    second = interchange(Delimiters("|", "!", "^", ">"), ["BHT|0019"], newline).replace(
        b"000000101", b"000000102"
    )
    reader = read_segments(first + second)
    segments = list(reader)
    assert [s.tag for s in segments].count("ISA") == 2
    iea = next(s for s in segments if s.tag == "IEA")
    assert iea.elements == ["1", "000000101"]
    assert segments[-1].elements == ["1", "000000102"]
    (defect,) = reader.defects
    assert defect.code is DefectCode.UNTERMINATED_SEGMENT
    assert defect.message == "Segment IEA has no segment terminator before the next ISA."


def _wrapped_sample() -> bytes:
    body = []
    for n in range(40):
        body += [
            f"CLP*PCN{n}*1*{n}25.50*{n}00.00**MC*ICN{n:08d}*11*1",
            f"NM1*QC*1*DOE{n}*JANE****MI*M{n:07d}",
            f"SVC*HC:99213:25*{n}25.50*{n}00.00**1",
            "DTM*472*20261101",
            "CAS*CO*45*25.50",
        ]
    return interchange(Delimiters(), body)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("width", [40, 73, 80, 104, 132])
def test_fixed_width_records_are_unwrapped(width: int, newline: str) -> None:
    """80-column records (any width) with segments running over the line breaks read like the
    unwrapped file, with one warning, and locations point into the file as it is."""
    flat = _wrapped_sample().decode()
    lines = [flat[i : i + width] for i in range(0, len(flat), width)]
    data = (newline.join(lines) + newline).encode()
    expected = [(s.tag, s.elements) for s in read_segments(flat.encode())]
    for chunk in (1, 7, 100, 1 << 16):
        reader = SegmentReader(data, chunk_size=chunk)
        segments = list(reader)
        assert [(s.tag, s.elements) for s in segments] == expected, chunk
        assert [d.code for d in reader.defects] == [DefectCode.WRAPPED_LINES]
        text = data.decode()
        for seg in segments:
            assert text[seg.offset] == seg.tag[0]
            assert seg.line == text.count("\n", 0, seg.offset) + 1


def test_one_segment_per_line_of_equal_length_is_not_wrapped() -> None:
    body = ["REF*EA*AAAA", "REF*EA*BBBB", "REF*EA*CCCC"]
    data = interchange(Delimiters(), body, newline="\n")
    reader = read_segments(data)
    assert [s.tag for s in reader].count("REF") == 3
    assert reader.defects == []


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty", b""),
        ("text", b"Dear billing office, please find attached\n"),
        ("utf-16", "ISA*00*".encode("utf-16")),
        ("binary", bytes(range(256)) * 4),
    ],
)
def test_not_x12_is_one_clear_defect(name: str, data: bytes) -> None:
    """Input that is not X12 at all gives one NOT_X12 defect and no segments."""
    reader = read_segments(data)
    assert list(reader) == []
    assert [d.code for d in reader.defects] == [DefectCode.NOT_X12]
    assert reader.defects[0].hint


def test_headless_group_is_read() -> None:
    """X12 missing its ISA header is read from its GS, and the missing header reported."""
    text = interchange(Delimiters(), ["BHT*0019"]).decode()
    text = text[text.index("GS*") :].replace("IEA*1*000000101~", "")
    reader = read_segments(text.encode())
    segments = list(reader)
    assert [s.tag for s in segments][:3] == ["GS", "ST", "BHT"]
    assert DefectCode.TA1_024 in {d.code for d in reader.defects}


def test_strict_policy_raises_the_first_error() -> None:
    """With Policy(strict=True) the first error-severity defect raises X12Error."""
    with pytest.raises(X12Error) as info:
        list(read_segments(_mutate("SE*3*0001", "SE*9*0001"), STRICT))
    assert info.value.defect.code is DefectCode.IK502_4


def test_feed_byte_by_byte_equals_whole() -> None:
    """The sans-I/O tokenizer gives the same segments whatever the chunking."""
    data = interchange(Delimiters(), ["BHT*0019", "NM1*41*2*X"], newline="\r\n")
    tokenizer = Tokenizer()
    fed: list[Segment] = []
    for byte in data:
        tokenizer.feed(bytes([byte]))
        fed.extend(tokenizer)
    tokenizer.close()
    fed.extend(tokenizer)
    whole = list(read_segments(data))
    assert [(s.tag, s.elements, s.offset, s.line) for s in fed] == [
        (s.tag, s.elements, s.offset, s.line) for s in whole
    ]


def test_file_objects_are_streamed_in_bounded_memory() -> None:
    """Reading a file 4x larger does not take 4x the memory: only a chunk is held."""
    d = Delimiters()

    def peak(claims: int) -> int:
        body = ["CLP*C1*1*100*80*20*12*P1*11*1", "SVC*HC:99213*100*80**1"] * claims
        stream = io.BytesIO(interchange(d, body, newline="\n"))
        tracemalloc.start()
        for _ in read_segments(stream):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(5_000), peak(20_000)
    assert large < small * 1.5


def test_a_file_without_its_terminator_is_read_in_bounded_memory() -> None:
    """An ISA naming '~' over a file that ends its segments with line breaks only: the text is
    reported and skipped a megabyte at a time instead of being held whole as one segment."""
    body = "\n".join(["CLP*C1*1*100*80*20*12*P1*11*1", "SVC*HC:99213*100*80**1"] * 150_000)
    data = (isa(Delimiters()) + "\n" + body).encode()  # about 8 MB, no '~' after the ISA
    tracemalloc.start()
    reader = SegmentReader(io.BytesIO(data))
    tags = [s.tag for s in reader]
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert tags == ["ISA"]
    assert top < 6 * (1 << 20)
    codes = [d.code for d in reader.defects]
    assert codes[0] is DefectCode.SEGMENT_TOO_LONG
    assert reader.defects[0].location is not None
    assert reader.defects[0].location.offset == 107  # where the unterminated text starts


def test_an_overlong_segment_is_skipped_up_to_its_terminator() -> None:
    d = Delimiters()
    data = interchange(d, ["NM1*QC*1*" + "X" * 5000, "N3*1 MAIN ST"], newline="\n")
    reader = SegmentReader(data, Policy(max_segment_length=1000), chunk_size=512)
    tags = [s.tag for s in reader]
    assert tags == ["ISA", "GS", "ST", "N3", "SE", "GE", "IEA"]
    (defect, *_) = reader.defects
    assert defect.code is DefectCode.SEGMENT_TOO_LONG
    assert defect.location is not None
    assert defect.location.line == 4


def test_writer_refuses_a_delimiter_in_data() -> None:
    """A value holding a delimiter raises X12Error naming the element, not the value."""
    writer = Writer()
    with pytest.raises(X12Error) as info:
        writer.segment("NM1", "IL", "1", "O*BRIEN")
    defect = info.value.defect
    assert (defect.code, defect.location.tag, defect.location.element) == (
        DefectCode.DELIMITER_IN_DATA,
        "NM1",
        3,
    )
    assert "BRIEN" not in defect.message
    with pytest.raises(X12Error) as info:
        writer.segment("SV1", ["HC", "992~13"])
    assert (info.value.defect.location.element, info.value.defect.location.component) == (1, 2)


def test_writer_isa_is_fixed_width_and_newline_optional() -> None:
    """The ISA is 106 characters; newline=True adds a line break after each terminator."""
    writer = Writer(newline=True)
    text = writer.isa(
        "00", "", "00", "", "ZZ", "A", "ZZ", "B", "261120", "0930", "00501", "000000001", "0", "T"
    )
    assert len(text) == 107
    assert text.endswith("*:~\n")
    header = detect_isa(text)
    assert header is not None
    assert header.delimiters == Delimiters()


_VALUE = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N", "Zs")), max_size=8)
_DELIMITER_SETS = st.lists(
    st.sampled_from(list("*|~^:>!+`\x1c\x1d\x1e\x1f")), min_size=4, max_size=4, unique=True
).map(lambda c: Delimiters(c[0], c[1], c[2], c[3]))


@settings(max_examples=150, deadline=None)
@given(
    delimiters=_DELIMITER_SETS,
    rows=st.lists(
        st.tuples(
            st.from_regex(r"\A[A-Z][A-Z0-9]{1,2}\Z"),
            st.lists(st.one_of(_VALUE, st.lists(_VALUE, min_size=2, max_size=3)), max_size=6),
        ),
        max_size=8,
    ),
)
def test_serialize_then_tokenize_round_trips(
    delimiters: Delimiters, rows: list[tuple[str, list[str | list[str]]]]
) -> None:
    """Whatever the delimiters and data, writing then reading gives the same segments."""
    body_rows = [
        (tag, elems) for tag, elems in rows if tag not in {"ISA", "IEA", "GS", "GE", "ST", "SE"}
    ]
    writer = Writer(delimiters)
    body = [writer.segment(tag, *elems)[:-1] for tag, elems in body_rows]
    data = interchange(delimiters, body)
    segments = list(read_segments(data))[3:-3]
    expected = [serialize([(tag, elems)], delimiters) for tag, elems in body_rows]
    assert [serialize([s], delimiters) for s in segments] == expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    """Any bytes read leniently produce segments and defects, never an exception."""
    reader = read_segments(data)
    list(reader)
    assert all(d.location is not None for d in reader.defects)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=300))
def test_damaged_interchanges_raise_only_x12error_when_strict(data: bytes, at: int) -> None:
    """Strict reading of damaged X12 raises nothing but X12Error."""
    good = interchange(Delimiters(), ["BHT*0019*00", "NM1*41*2*X"])
    damaged = good[:at] + data + good[at:]
    with contextlib.suppress(X12Error):
        list(SegmentReader(damaged, STRICT, chunk_size=64))
