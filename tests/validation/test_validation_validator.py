"""The validator: exact codes and locations, input forms, options, envelopes, no PHI in messages."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.validation.acks import AckError, ack_999, ack_ta1
from gateway.validation.validator import Options, ValidationResult, Validator, validate
from gateway.x12 import Severity, read_segments
from tests.support.x12_files import claims_837p, remittance_835

CLEAN = claims_837p(2)


def _edit(data: bytes, old: str, new: str, count: int = 1) -> bytes:
    text = data.decode("ascii")
    assert old in text
    return text.replace(old, new, count).encode("ascii")


def _found(result: ValidationResult) -> list[tuple[str, str | None, int | None, int | None,
                                                    int | None, str | None]]:  # fmt: skip
    return [
        (str(d.code), d.location.tag, d.location.segment_position, d.location.element,
         d.location.component, d.location.loop)
        for d in result.defects
        if d.severity is Severity.ERROR
    ]  # fmt: skip


def test_valid_file_is_accepted() -> None:
    """A conforming 837P: one accepted set, nothing found."""
    result = validate(CLEAN)
    assert (result.ok, _found(result), [s.verdict for s in result.sets]) == (True, [], ["accepted"])


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("*XX*1234567893~", "*ZZ*1234567893~", [("IK403-7", "NM1", 7, 8, None, "2010AA")]),
        ("N4*SPRINGFIELD*IL*627011234~", "", [("IK304-3", "N4", 9, None, None, "2010AA"),
                                              ("IK502-4", "SE", None, None, None, None)]),
        ("DMG*D8*19500110*M~", "DMG*D8*19501310*M~", [("IK403-8", "DMG", 16, 2, None, "2010BA")]),
        ("*11:B:1*", "*11:B*", [("IK403-1", "CLM", 18, 5, 3, "2300")]),
        ("SE*", "SE*9", [("IK502-4", "SE", None, None, None, None)]),
        ("LX*1~", "ZZZ*1~LX*1~", [("IK304-1", "ZZZ", 20, None, None, "2300"),
                                  ("IK502-4", "SE", None, None, None, None)]),
        ("HL*2*1*22*0~", "HL*3*1*22*0~", [("IK304-8", "HL", 11, None, None, None)]),
        ("DTP*472*D8*20260101~", "DTP*472*RD8*20260101~", [("IK403-8", "DTP", 22, 3, None,
                                                              "2400")]),
        ("REF*EI*123456789~", "REF*EI*123456789*~", [("X12-TRAILING-SEPARATOR", "REF", 10, None,
                                                      None, None)]),
    ],
)  # fmt: skip
def test_findings_are_located(old: str, new: str, expected: list[tuple[object, ...]]) -> None:
    """Each broken file gets the 999 code at the segment position, element and loop."""
    result = validate(_edit(CLEAN, old, new))
    assert (expected, ["rejected"]) == (_found(result), [s.verdict for s in result.sets])


def test_loop_over_its_repeat_count() -> None:
    """A 51st service line exceeds loop 2400's repeat of 50 (IK304-4 at that LX)."""
    result = validate(claims_837p(1, lines_per_claim=51))
    codes = [(c, tag, loop) for c, tag, _, _, _, loop in _found(result)]
    assert codes == [("IK304-4", "LX", "2400")]


def test_same_result_for_every_input_form() -> None:
    """Bytes, text, a file read in small pieces and read_segments' segments give one result."""

    class Trickle(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(7)

    data = _edit(CLEAN, "*XX*1234567893~", "*ZZ*1234567893~")
    expected = _found(validate(data))
    forms = [data.decode("ascii"), Trickle(data), read_segments(data)]
    assert [expected] * 3 == [_found(Validator().validate(f)) for f in forms]  # type: ignore[arg-type]


def test_external_code_sets_are_checked_unless_turned_off() -> None:
    """A state code outside pyx12's list is reported by default (clearinghouses reject it), and
    only skipped with ``external_codes=False``."""
    data = _edit(CLEAN, "N4*SPRINGFIELD*IL*62701~", "N4*SPRINGFIELD*QQ*62701~")
    assert _found(validate(data)) == [("IK403-7", "N4", 15, 2, None, "2010BA")]
    assert _found(validate(data, options=Options(external_codes=True))) == _found(validate(data))
    assert _found(validate(data, options=Options(external_codes=False))) == []


def test_835_is_checked_against_its_guide() -> None:
    """An 835 with an unknown claim status code is rejected at CLP02."""
    data = _edit(remittance_835(1), "CLP*CLAIM0000000*1*", "CLP*CLAIM0000000*99*")
    assert _found(validate(data)) == [("IK403-7", "CLP", 11, 2, None, "2100")]


def test_unsupported_group_is_reported() -> None:
    """A group whose GS08 has no guide here: AK905-2, and its sets are not accepted."""
    data = _edit(CLEAN, "*X*005010X222A1~", "*X*005010X999~")
    result = validate(data)
    assert [c for c, *_ in _found(result)] == ["AK905-2", "IK403-7", "IK502-1"]
    assert [s.verdict for s in result.sets] == ["rejected"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"NOT AN X12 FILE AT ALL", "X12-NOT-X12"),
        (CLEAN.replace(b"*00501*", b"*00401*", 1), "TA1-017"),
    ],
)
def test_unreadable_files(data: bytes, code: str) -> None:
    """Files that are not 5010 X12 get one located defect and no sets."""
    result = validate(data)
    assert ([code], ()) == ([str(d.code) for d in result.defects], result.sets)


def test_missing_trailers_at_end_of_file() -> None:
    """A file cut after the last service line: SE, GE and IEA are missing."""
    cut = CLEAN[: CLEAN.index(b"SE*")]
    codes = {str(d.code) for d in validate(cut).defects}
    assert {"IK502-2", "AK905-3", "TA1-023"} <= codes


def test_messages_hold_no_patient_data() -> None:
    """A too-long subscriber name is reported without the name itself."""
    data = _edit(CLEAN, "NM1*IL*1*SUBSCRIBER*PATIENT0*", "NM1*IL*1*SUBSCRIBER*PATIENTSECRETNAME" +
                 "X" * 40 + "*")  # fmt: skip
    result = validate(data)
    assert [c for c, *_ in _found(result)] == ["IK403-5"]
    assert all("SECRETNAME" not in d.message for d in result.defects)


def test_interchange_and_group_results() -> None:
    """The result names each interchange and group with its control numbers."""
    result = validate(CLEAN)
    isa = result.interchanges[0]
    assert (
        isa.control, isa.sender, isa.groups[0].control, isa.groups[0].functional_id,
        isa.groups[0].version,
    ) == ("000000001", "SUBMITTER01", "1", "HC", "005010X222A1")  # fmt: skip


_NOISE = b"*:~^ \n\r\x07ABCZ019-."


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    base=st.sampled_from([CLEAN, remittance_835(2)]),
    edits=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.binary(min_size=1, max_size=5)),
        min_size=1,
        max_size=6,
    ),
)
def test_broken_bytes_never_crash(base: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    """Randomly damaged files give located findings and writable acknowledgements, never errors."""
    data = bytearray(base)
    for op, where, chunk in edits:
        if not data:
            break
        pos = where % len(data)
        noise = bytes(_NOISE[b % len(_NOISE)] for b in chunk)
        if op == 0:
            data[pos:pos] = noise
        elif op == 1:
            del data[pos : pos + len(chunk) * 8]
        elif op == 2:
            data[pos] = noise[0]
        else:
            del data[pos:]
    result = validate(bytes(data))
    assert all(d.code and d.message for d in result.defects)
    for write in (ack_999, ack_ta1):
        try:
            text = write(result)
        except AckError:
            continue
        assert validate(text.encode("ascii")).defects is not None


def _segment_specs() -> list[tuple[str, object]]:
    from gateway.validation.compiled import specs

    claim = specs().maps["837.5010.X222.A1.xml"]
    paths = [
        "ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2010AA/NM1",
        "ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2010AA/N4",
        "ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2300/CLM",
        "ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2300/2400/SV1",
        "ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/SBR",
    ]
    return [(p.rsplit("/", 1)[1], claim.find(p)) for p in paths]


_VALUES = ["", "85", "XX", "2", "11:B:1", "11:B", "HC:99213", "1234567893", "A" * 70, "Y", "1.5",
           "-", "CI", "IL", "62701", "P", "18", ":", "ab c ", "UN"]  # fmt: skip


_VALID = [
    ["85", "2", "BILLING GROUP", "", "", "", "", "XX", "1234567893"],
    ["SPRINGFIELD", "IL", "627011234"],
    ["CLAIM1", "150", "", "", "11:B:1", "Y", "A", "Y", "Y"],
    ["HC:99213", "75", "UN", "1", "", "", "1:2"],
    ["P", "18", "", "", "", "", "", "", "CI"],
]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    which=st.integers(0, 4),
    changes=st.lists(st.tuples(st.integers(0, 23), st.sampled_from(_VALUES)), max_size=2),
)
def test_fast_path_never_hides_a_finding(which: int, changes: list[tuple[int, str]]) -> None:
    """The generated fast test says "clean" exactly when the element checks find nothing."""
    from gateway.validation.runtime import shared_runtime as _runtime

    tag, spec = _segment_specs()[which]
    values = list(_VALID[which])
    for position, value in changes:
        values.extend([""] * (position + 1 - len(values)))
        values[position] = value
    checker = _runtime().checker(False)
    exact = checker.segment(spec, tag, values, ":")  # type: ignore[arg-type]
    assert (not exact) == checker.clean(spec, values, ":")  # type: ignore[arg-type]


@pytest.mark.parametrize("lead", [b"\xef\xbb\xbf", b"\r\n\r\n", b"\xef\xbb\xbf\n  "])
def test_text_before_isa_is_tolerated(lead: bytes) -> None:
    """A byte order mark or blank lines before the ISA: a warning, then a normal validation with
    byte offsets that still count from the start of the file."""
    broken = CLEAN.replace(b"*XX*1234567893~", b"*ZZ*1234567893~", 1)
    result = validate(lead + broken)
    nm1 = broken.index(b"NM1*85")
    assert [("X12-TEXT-BEFORE-ISA", 0), ("IK403-7", len(lead) + nm1)] == [
        (str(d.code), d.location.offset) for d in result.defects
    ]
