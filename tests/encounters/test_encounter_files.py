"""Reading encounter files: JSON object/array/Lines and XML, streamed, with located findings."""

from __future__ import annotations

import io
import json
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.edits import FindingCode, check_stream
from gateway.encounters import (
    EncounterFormat,
    detect_format,
    read_encounter_file,
    read_encounters,
)
from gateway.encounters.xml_reader import encounter_to_xml
from gateway.models import Encounter
from tests.support.strategies import SAMPLES, encounters, sample_dict, with_changes

SELF = json.dumps(sample_dict("professional-self"))
DEPENDENT = json.dumps(sample_dict("professional-dependent"))


def _read(
    data: bytes, name: str
) -> list[tuple[int, str | None, list[tuple[str, str, int | None]]]]:
    """(index, claim id, [(code, path, line)]) of every record read."""
    return [
        (r.index, r.claim_id, [(f.code.value, f.path, f.line) for f in r.findings])
        for r in read_encounters(io.BytesIO(data), name=name)
    ]


def test_one_object() -> None:
    """A file holding one object gives one encounter."""
    assert _read(SELF.encode(), "a.json") == [(0, "VFP-20261101-0001", [])]


def test_array() -> None:
    """A JSON array gives its encounters in order, with the line each starts on."""
    data = f"[\n{SELF},\n{DEPENDENT}\n]".encode()
    records = list(read_encounters(io.BytesIO(data), name="a.json"))
    assert [(r.claim_id, r.line) for r in records] == [
        ("VFP-20261101-0001", 2),
        ("VFP-20261102-0007", 3),
    ]
    assert all(r.ok for r in records)


def test_json_lines_with_blank_lines_and_bom() -> None:
    """JSON Lines skip blank lines; a byte-order mark is tolerated; the record knows its line."""
    data = b"\xef\xbb\xbf" + f"{SELF}\n\n{DEPENDENT}\n".encode()
    records = list(read_encounters(io.BytesIO(data), name="a.jsonl"))
    assert [(r.index, r.line) for r in records] == [(0, 1), (1, 3)]
    assert all(r.ok for r in records)


def test_objects_one_per_line_in_a_json_file() -> None:
    """A .json file of objects one after another reads like JSON Lines."""
    data = f"{SELF}\n{DEPENDENT}\n".encode()
    assert [r.index for r in read_encounters(io.BytesIO(data), name="a.json") if r.ok] == [0, 1]


def test_bad_line_in_a_batch_does_not_spoil_the_others() -> None:
    """In JSON Lines a syntax error is located and the next lines are still read."""
    data = f'{SELF}\n{{"claim_id": "X", oops}}\n{DEPENDENT}\n'.encode()
    assert _read(data, "batch.jsonl") == [
        (0, "VFP-20261101-0001", []),
        (1, None, [("E-JSON-SYNTAX", "", 2)]),
        (2, "VFP-20261102-0007", []),
    ]


def test_schema_mismatch_in_a_batch_keeps_the_others() -> None:
    """An encounter that breaks the contract is reported; the good ones are read."""
    bad = json.dumps(with_changes(sample_dict("professional-self"), {"subscriber.gender": "X"}))
    data = f"[{SELF},\n{bad},\n{DEPENDENT}]".encode()
    records = list(read_encounters(io.BytesIO(data), name="a.json"))
    assert [r.ok for r in records] == [True, False, True]
    assert [(f.code.value, f.path) for f in records[1].findings] == [
        ("E-GENDER", "subscriber.gender")
    ]


def test_syntax_error_in_an_array_gives_line_and_column() -> None:
    """A broken array is reported at the line and column of the error; earlier items are kept."""
    data = f'[\n{SELF},\n{{"claim_id": "X",\n  "kind" "professional"}}\n]'.encode()
    records = list(read_encounters(io.BytesIO(data), name="a.json"))
    assert records[0].ok
    finding = records[1].findings[0]
    assert (finding.code, finding.line, finding.column) == (FindingCode.JSON_SYNTAX, 4, 10)


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "a.json", "E-FILE-EMPTY"),
        (b"  \n ", "a.json", "E-FILE-EMPTY"),
        (b"[]", "a.json", "E-FILE-EMPTY"),
        (b"\n\n", "a.jsonl", "E-FILE-EMPTY"),
        (b"", "a.xml", "E-FILE-EMPTY"),
        (b"<encounters/>", "a.xml", "E-FILE-EMPTY"),
        (b'{"claim_id": "A"', "a.json", "E-JSON-SYNTAX"),
        (b"[" + SELF.encode(), "a.json", "E-JSON-SYNTAX"),
        (b"[" + SELF.encode() + b"] x", "a.json", "E-JSON-SYNTAX"),
        (b'{"charge": NaN}', "a.json", "E-JSON-SYNTAX"),
        (b"\xff\xfe{}", "a.json", "E-FILE-ENCODING"),
        (b"\xff\xfe{}\n", "a.jsonl", "E-FILE-ENCODING"),
        (b"42", "a.json", "E-NOT-AN-OBJECT"),
        (b"[42]", "a.json", "E-NOT-AN-OBJECT"),
        (b"<encounter><claim_id>A", "a.xml", "E-XML-SYNTAX"),
        (b"<claims/>", "a.xml", "E-XML-SCHEMA"),
    ],
)
def test_bad_files_give_a_finding_not_a_traceback(data: bytes, name: str, code: str) -> None:
    """Every kind of broken file becomes a located finding."""
    records = _read(data, name)
    assert code in [c for _, _, found in records for c, _, _ in found]


def test_xml_refuses_doctype_and_entities() -> None:
    """A DOCTYPE (billion laughs, external entities) is refused, never expanded or fetched."""
    data = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">'
        b'<!ENTITY x SYSTEM "file:///etc/passwd">]><encounter><claim_id>&b;&x;</claim_id></encounter>'
    )
    records = list(read_encounters(io.BytesIO(data), name="evil.xml"))
    assert [[f.code for f in r.findings] for r in records] == [[FindingCode.XML_SYNTAX]]
    assert "root:" not in str(records[0].findings)


def test_xml_schema_errors_are_located_and_coded() -> None:
    """An XSD violation names the field (as a JSON path), its line, and the contract's code."""
    xml = encounter_to_xml(Encounter.model_validate(sample_dict("professional-self"))).decode()
    bad = xml.replace("<gender>F</gender>", "<gender>Q</gender>")
    records = list(read_encounters(io.BytesIO(bad.encode()), name="a.xml"))
    finding = records[0].findings[0]
    line = bad[: bad.index("<gender>Q")].count("\n") + 1
    assert (FindingCode.GENDER, "subscriber.gender", line) == (
        finding.code,
        finding.path,
        finding.line,
    )
    assert "Q" not in finding.message.replace("'Q'", "")


def test_xml_batch_with_one_bad_encounter() -> None:
    """In an <encounters> file, each encounter is validated on its own."""
    one = (
        encounter_to_xml(Encounter.model_validate(sample_dict("professional-self")))
        .decode()
        .split("?>", 1)[1]
    )
    bad = one.replace("<kind>professional</kind>", "<kind>professional</kind><color>red</color>")
    data = f"<encounters>{one}{bad}{one}</encounters>".encode()
    records = list(read_encounters(io.BytesIO(data), name="batch.xml"))
    assert [r.ok for r in records] == [True, False, True]
    assert [(f.code, f.path) for f in records[1].findings] == [(FindingCode.FIELD_UNKNOWN, "color")]


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.json")))
def test_xml_and_json_forms_give_the_same_model(name: str) -> None:
    """Every sample read from its JSON and from its XML form is the same Encounter."""
    (record,) = read_encounter_file(SAMPLES / name)
    assert record.encounter is not None
    (from_xml,) = read_encounters(io.BytesIO(encounter_to_xml(record.encounter)), name="x.xml")
    assert record.encounter == from_xml.encounter


def test_xml_samples_read_clean() -> None:
    """The XML samples are valid against the XSD and the model."""
    for path in sorted(SAMPLES.glob("*.xml")):
        records = list(read_encounter_file(path))
        assert records, path.name
        assert all(r.ok and not r.findings for r in records), path.name


def test_xml_fields_have_their_own_lines() -> None:
    """Findings about an XML encounter point at the field's own line."""
    xml = encounter_to_xml(Encounter.model_validate(sample_dict("professional-self"))).decode()
    (record,) = read_encounters(io.BytesIO(xml.encode()), name="a.xml")
    expected = xml[: xml.index("<service_line>")].count("\n") + 1
    assert expected == record.positions["service_lines[0]"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encounters())
def test_generated_encounters_survive_the_xml_form(encounter: Encounter) -> None:
    """Any valid encounter written as XML reads back equal (and passes the XSD)."""
    (record,) = read_encounters(io.BytesIO(encounter_to_xml(encounter)), name="x.xml")
    assert list(record.findings) == []
    assert encounter == record.encounter


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.json", b"<", EncounterFormat.JSON),
        ("a.JSONL", b"{", EncounterFormat.JSON_LINES),
        ("a.ndjson", b"{", EncounterFormat.JSON_LINES),
        ("a.xml", b"{", EncounterFormat.XML),
        ("upload", b"\xef\xbb\xbf  <?xml", EncounterFormat.XML),
        ("upload", b"[{", EncounterFormat.JSON),
    ],
)
def test_detect_format(name: str, head: bytes, expected: EncounterFormat) -> None:
    """The name decides the format, else the first byte."""
    assert expected == detect_format(name, head)


def test_stream_without_a_name_is_sniffed() -> None:
    """An XML stream without a telling name is read as XML."""
    xml = encounter_to_xml(Encounter.model_validate(sample_dict("professional-self")))
    assert [r.ok for r in read_encounters(io.BytesIO(xml), name="<stdin>")] == [True]


def test_unreadable_file(tmp_path: Path) -> None:
    """A missing file is one E-FILE-UNREADABLE finding."""
    (record,) = read_encounter_file(tmp_path / "nope.json")
    assert [f.code for f in record.findings] == [FindingCode.FILE_UNREADABLE]


class _GeneratedLines(io.RawIOBase):
    """A JSON Lines stream produced on demand, so the test itself holds no big buffer."""

    def __init__(self, line: bytes, count: int) -> None:
        self.line, self.left, self.pending = line, count, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while len(self.pending) < len(buffer) and self.left:
            self.pending += self.line
            self.left -= 1
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def _count(records: Iterator[object]) -> int:
    return sum(1 for _ in records)


@pytest.mark.parametrize("name", ["big.jsonl", "big.json"])
def test_large_batches_stream_in_flat_memory(name: str) -> None:
    """3,000 encounters (over 4 MB) are read with under 1 MB of memory at the peak."""
    line = (json.dumps(json.loads(SELF), separators=(",", ":")) + "\n").encode()
    stream = io.BufferedReader(_GeneratedLines(line, 3000))
    tracemalloc.start()
    try:
        count = _count(r for r in read_encounters(stream, name=name) if r.ok)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 3000
    assert len(line) * 3000 > 4_000_000
    assert peak < 1_000_000


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["a.json", "a.jsonl", "a.xml"]))
def test_arbitrary_bytes_never_raise(data: bytes, name: str) -> None:
    """Whatever the bytes, reading gives records with findings, never an exception."""
    records = list(read_encounters(io.BytesIO(data), name=name))
    assert records
    assert all(r.ok or r.findings for r in records)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(json.loads(SELF))), _JSON, max_size=8))
def test_arbitrary_field_values_never_raise(data: dict[str, object]) -> None:
    """Any JSON values under contract field names are read and scrubbed without an exception."""
    merged = {**json.loads(SELF), **data}
    (result,) = check_stream(io.BytesIO(json.dumps(merged).encode()), name="a.json")
    assert result.record.ok or result.findings


def test_repeated_key_makes_the_encounter_ambiguous() -> None:
    """A key given twice in one object is an error; the rest of the encounter is still scrubbed."""
    text = SELF.replace(
        '"place_of_service": "11"', '"place_of_service": "11", "place_of_service": "99"'
    )
    (result,) = check_stream(io.BytesIO(text.encode()), name="a.json")
    assert result.encounter is None
    assert [(f.code.value, f.path) for f in result.findings] == [
        ("E-JSON-DUPLICATE-KEY", ""),
    ]
    assert "place_of_service" in result.findings[0].message


def test_xml_in_a_namespace_is_read_by_local_names() -> None:
    """An exporter's default namespace does not stop the encounter from being read."""
    xml = encounter_to_xml(Encounter.model_validate(sample_dict("professional-self"))).decode()
    body = xml.split("?>", 1)[1].replace("<encounter>", '<encounter xmlns="urn:example:pm">', 1)
    data = f'<encounters xmlns="urn:example:pm">{body}</encounters>'.encode()
    (record,) = read_encounters(io.BytesIO(data), name="ns.xml")
    assert list(record.findings) == []
    assert record.claim_id == "VFP-20261101-0001"


def test_pipe_without_a_name_is_sniffed_without_rewinding() -> None:
    """A pipe (not seekable) of XML is recognised by peeking at its first bytes."""
    xml = encounter_to_xml(Encounter.model_validate(sample_dict("professional-self")))
    read_end, write_end = os.pipe()
    os.write(write_end, xml)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert not pipe.seekable()
        assert [r.ok for r in read_encounters(pipe, name="<pipe>")] == [True]
