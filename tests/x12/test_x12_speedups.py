"""The tokenizer's C hot path (gateway/x12/_speedups.c) against the pure-Python reference.

The C path must be invisible: the same segments (tags, elements, index, offset, line) and the same
defects as the Python tokenizer, for every input and every way of cutting it into chunks. The
Python path is the reference because it is the one a reader can check against the TR3 by eye.
"""

from __future__ import annotations

import gc
import io
import random
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.x12 import Delimiters, Segment
from gateway.x12 import tokenizer as tokenizer_module
from gateway.x12.segment import Span
from gateway.x12.tokenizer import SegmentReader
from tests.conftest import IN_CI, CorpusFile

try:
    from gateway.x12._speedups import split_regular
except ImportError:  # pragma: no cover  # built without a C compiler
    if IN_CI:  # CI builds the extension: a silent fallback there would hide a broken build
        raise
    pytest.skip("gateway.x12._speedups was not built", allow_module_level=True)

Row = tuple[str, list[str], int, int, int]


def read(data: bytes, *, accelerated: bool, chunk_size: int = 1 << 16) -> tuple[list[Row], Any]:
    """Every segment as (tag, elements, index, offset, line), and the defects."""
    reader = SegmentReader(io.BytesIO(data), chunk_size=chunk_size)
    if not accelerated:
        reader.tokenizer._accelerated = None
    rows = [(s.tag, list(s.elements), s.index, s.offset, s.line) for s in reader]
    defects = [(d.code, d.severity, d.message, d.location) for d in reader.defects]
    return rows, defects


def assert_same(data: bytes, *chunk_sizes: int) -> list[Row]:
    expected = read(data, accelerated=False)
    for size in chunk_sizes or (1 << 16,):
        assert read(data, accelerated=True, chunk_size=size) == expected, f"chunk size {size}"
    return expected[0]


def test_the_extension_is_in_use() -> None:
    assert tokenizer_module.ACCELERATED
    assert tokenizer_module.Tokenizer()._accelerated is split_regular


# -- split_regular itself ---------------------------------------------------------------------


def call(text: str, joined: str = "~\n", sep: str = "*") -> tuple[list[Segment], int, bool, int]:
    span = Span(Delimiters(), 0, text=text, joined=joined, line_step=1 if "\n" in joined else 0)
    return split_regular(text, joined, sep, span, Segment)


def test_cuts_regular_text_and_keeps_an_incomplete_segment() -> None:
    segments, end, trailing, status = call("NM1*85*2*X~\nN3*1 MAIN ST~\nN4*CI")
    assert [(s.tag, s.elements, s.index, s.offset, s.line) for s in segments] == [
        ("NM1", ["85", "2", "X"], 0, 0, 1),
        ("N3", ["1 MAIN ST"], 1, 12, 2),
    ]
    assert (end, trailing, status) == (26, False, 0)


def test_leaves_iea_to_the_python_path() -> None:
    segments, end, _, status = call("GE*1*7~\nIEA*1*000000101~\nISA*00")
    assert [s.tag for s in segments] == ["GE"]
    assert (end, status) == (8, 2)


@pytest.mark.parametrize(
    "text",
    [
        "NM1*A~\n  N3*B~\n",  # indented line
        "NM1*A~\n\nN3*B~\n",  # blank line
        "NM1*A~\nN3*B~N4*C~\n",  # a terminator without its line break
        "NM1*A~\nN3*B\nC~\n",  # a line break inside a segment
        "NM1*A~\nN3*M\xfcller~\n",  # non-ASCII
        "NM1*A~\n~\n",  # an empty segment
        "NM1*A~\n\x0bN3*B~\n",  # a vertical tab where a tag should start
    ],
)
def test_stops_before_an_irregular_segment(text: str) -> None:
    segments, end, _, status = call(text)
    assert [s.tag for s in segments] == ["NM1"]
    assert (end, status) == (7, 2)


def test_a_terminator_cut_off_from_its_line_break_waits_for_more() -> None:
    assert call("NM1*A~\r", "~\r\n")[1:] == (0, False, 0)
    assert call("NM1*A~\n", "~\r\n")[1:] == (0, False, 2)


def test_trailing_separators_and_empty_elements() -> None:
    segments, _, trailing, _ = call("REF*EA**~\nDTP~\n*~\n")
    assert [(s.tag, s.elements) for s in segments] == [
        ("REF", ["EA", "", ""]),
        ("DTP", []),
        ("", [""]),
    ]
    assert trailing


def test_tags_are_shared_interned_strings() -> None:
    first, second = call("NM1*A~\nNM1*B~\n")[0]
    assert first.tag is second.tag is "NM1"  # noqa: F632  # identity is the point


def test_segments_stay_out_of_the_cycle_collector() -> None:
    (segment,) = call("NM1*A*B~\n")[0]
    assert not gc.is_tracked(segment)
    assert not gc.is_tracked(segment.elements)


def test_nothing_to_cut() -> None:
    assert call("") == ([], 0, False, 0)
    assert call("ÿ", "~", "*")[3] == 2
    assert call("NM1*A~", "~", "\u0100")[3] == 2  # wider than one byte: not this path's


def test_wrong_arguments_raise() -> None:
    span = Span(Delimiters(), 0)
    with pytest.raises(TypeError):
        split_regular("NM1~", "~", "*", span)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        split_regular(b"NM1~", "~", "*", span, Segment)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        split_regular("NM1~", "~", "*", span, list)  # type: ignore[arg-type]


def test_long_segments_and_many_positions() -> None:
    text = "TS3*" + "*".join(str(n) for n in range(500)) + "~\n"
    segments, end, _, _ = call(text * 5000)
    assert (len(segments), end) == (5000, len(text) * 5000)
    assert (segments[-1].elements[-1], segments[-1]._k) == ("499", 4999)


def test_no_reference_leaks() -> None:
    text = "".join(f"CLP*C{n}*1*{n}.00*0**MC*ICN{n}~\nCAS*CO*45*{n}~\n" for n in range(300))
    for _ in range(50):
        call(text)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(200):
        call(text)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 64 * 1024


# -- the whole tokenizer, both ways ------------------------------------------------------------

ISA = (
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       "
    "*261123*1200*^*00501*{icn}*0*T*:~"
)


def interchange(body: list[str], icn: str = "000000101", newline: str = "\n") -> str:
    segs = [
        ISA.format(icn=icn)[:-1],
        "GS*HP*SENDER*RECEIVER*20261123*1200*7*X*005010X221A1",
        "ST*835*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*7",
        f"IEA*1*{icn}",
    ]
    return newline.join(s + "~" for s in segs) + newline


def generated_835(claims: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    yield "BPR*I*100*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999999999*DA*98765*20261123"
    yield "TRN*1*12345*1512345678"
    for n in range(claims):
        yield f"CLP*PCN{n}*{rng.choice('1234')}*{n}.00*{n // 2}.00**MC*ICN{n}*11*1"
        yield f"NM1*QC*1*DOE{n}*JANE****MI*M{n:07d}"
        for line in range(rng.randint(1, 3)):
            yield f"SVC*HC:99213:25*{line}.00*{line}.00**1"
            yield f"DTM*472*2026110{line}"
            if rng.random() < 0.3:
                yield f"CAS*CO*45*{line}.00**253*0.10"


def test_a_generated_835_is_read_alike_whatever_the_chunks() -> None:
    data = interchange(list(generated_835(300, 1))).encode()
    rows = assert_same(data, 1, 2, 7, 64, 1000, 1 << 16)
    assert len(rows) > 1000


def test_corpus_files_are_read_alike(corpus: list[CorpusFile]) -> None:
    """Every file of the public corpus: same segments, positions and defects both ways."""
    for entry in corpus:
        data = entry.path.read_bytes()
        try:
            assert_same(data, 97, 1 << 16)
        except AssertionError as exc:
            raise AssertionError(f"{entry.path.name}: {exc}") from None


# irregular pieces a file may hold, mixed into regular text by the property below
_ODDITIES = [
    "\n",  # a blank line
    "  ",  # indentation
    "\r\n",  # a different line break
    "~",  # an empty segment
    "N3*M\xfcller",  # a UTF-8 name
    "N3*M\xe9",  # Latin-1
    "NM1*A\nN4*B",  # a line break for a forgotten terminator
    "NM1*WRAP\nPED",  # a wrapped line
    "REF*EA**",  # trailing separators
    "bad tag*1",  # not a segment identifier
    "IEA*1*000000101~\nISA*00",  # an interchange cut short
    "\x0c",  # a form feed
]


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    newline=st.sampled_from(["", "\n", "\r\n", "\r"]),
    oddities=st.lists(st.tuples(st.integers(0, 400), st.sampled_from(_ODDITIES)), max_size=4),
    chunk=st.integers(1, 300),
)
def test_any_mix_of_regular_and_irregular_text_is_read_alike(
    seed: int, newline: str, oddities: list[tuple[int, str]], chunk: int
) -> None:
    body = list(generated_835(6, seed))
    text = interchange(body, newline=newline)
    for at, oddity in oddities:
        at %= len(text) + 1
        text = text[:at] + oddity + text[at:]
    assert_same(text.encode("utf-8"), chunk, 1 << 16)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=500), st.integers(1, 64))
def test_any_bytes_are_read_alike(data: bytes, chunk: int) -> None:
    head = interchange(["BPR*I*1"]).encode()
    assert_same(head[:120] + data + head[120:], chunk)


def test_several_interchanges_with_other_delimiters() -> None:
    first = interchange(list(generated_835(5, 2)))
    second = (
        interchange(list(generated_835(5, 3)), icn="000000102", newline="\r\n")
        .replace("*", "|")
        .replace("~", "!")
        .replace("^", "}")
    )
    rows = assert_same((first + second).encode(), 3, 50, 1 << 16)
    assert [r[0] for r in rows].count("ISA") == 2


def test_use_accelerated_switches_new_tokenizers_and_back() -> None:
    """``use_accelerated(False)`` (what the entry points call for GATEWAY_X12_PURE_PYTHON) makes new
    tokenizers take the pure-Python path; ``use_accelerated(True)`` brings the C path back."""
    try:
        assert tokenizer_module.use_accelerated(False) is False
        assert not tokenizer_module.ACCELERATED
        assert tokenizer_module.Tokenizer()._accelerated is None
    finally:
        assert tokenizer_module.use_accelerated(True) is True
    assert tokenizer_module.Tokenizer()._accelerated is split_regular
