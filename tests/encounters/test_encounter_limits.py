"""Reading limits of encounter files: nesting depth, encounter size, the claim id contract."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import io
import json

import pytest

from gateway.encounters import read_encounters
from gateway.encounters.json_reader import MAX_DEPTH
from gateway.ledger.correction_rules import correction_file_name
from tests.support.strategies import sample_dict

SELF = sample_dict("professional-self")


def _one(claim_id: str) -> str:
    return json.dumps({**SELF, "claim_id": claim_id})


def _codes(data: bytes, name: str) -> list[tuple[str | None, list[str], int | None]]:
    """(claim id, [codes], line) of every record read."""
    return [
        (r.claim_id, [f.code.value for f in r.findings], r.line)
        for r in read_encounters(io.BytesIO(data), name=name)
    ]


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("deep.jsonl", f"{_one('A-1')}\n".encode() + DEEP + f"\n{_one('A-2')}\n".encode()),
        ("deep.json", f"[{_one('A-1')},\n".encode() + DEEP + f",\n{_one('A-2')}]".encode()),
        ("deep-rows.json", f"{_one('A-1')}\n".encode() + DEEP + f"\n{_one('A-2')}\n".encode()),
    ],
)
def test_deeply_nested_json_is_a_located_finding_and_the_good_records_still_read(
    name: str, data: bytes
) -> None:
    """100,000 levels of nesting do not crash the reader: the deep record is one E-JSON-TOO-DEEP
    finding on line 2 and the encounters before and after it are read."""
    assert [
        ("A-1", [], 1),
        (None, ["E-JSON-TOO-DEEP"], 2),
        ("A-2", [], 3),
    ] == _codes(data, name)


def test_nesting_just_beyond_the_limit_names_the_field() -> None:
    """A field nested one level deeper than MAX_DEPTH is refused with its path, and the claim id
    is kept (the encounter can still be put in front of an operator)."""
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    text = _one("A-1")[:-1] + f', "note": {deep}}}'
    (record,) = read_encounters(io.BytesIO(text.encode()), name="a.json")
    ((code, path, line),) = [(f.code.value, f.path, f.line) for f in record.findings]
    assert ("E-JSON-TOO-DEEP", 1, "A-1") == (code, line, record.claim_id)
    assert path.startswith("note[0][0]")


def test_a_50_mb_field_names_the_8_mib_limit_not_an_unterminated_string() -> None:
    """An encounter with a 50 MB field is refused for the real reason: it is over the limit of
    8 MiB per encounter (not "Unterminated string")."""
    data = b'{"claim_id": "A-1", "note": "' + b"a" * (50 << 20) + b'"}'
    (record,) = read_encounters(io.BytesIO(data), name="big.json")
    ((code, message),) = [(f.code.value, f.message) for f in record.findings]
    assert "E-JSON-TOO-LARGE" == code
    assert "8 MiB" in message
    assert "Unterminated" not in message


def test_a_50_mb_line_names_the_8_mib_limit() -> None:
    """A JSON Lines line over the limit says the limit per encounter in MiB."""
    data = b'{"note": "' + b"a" * (9 << 20) + b'"}\n' + _one("A-2").encode() + b"\n"
    assert [(None, ["E-JSON-TOO-LARGE"], 1), ("A-2", [], 2)] == _codes(data, "a.jsonl")


BAD_IDS = [
    "A\nB",
    "A\u202eB",
    "../../etc/passwd",
    "A/B",
    "..",
    "A\x00B",
    "A" * 39,
    "A" * 300,
    "-A",
    "A B",
    "A.B",
    "Ä-1",
]


@pytest.mark.parametrize("claim_id", BAD_IDS)
def test_a_claim_id_outside_the_contract_is_an_intake_error_without_a_claim_id(
    claim_id: str,
) -> None:
    """A claim id that breaks the contract (newline, text-direction override, path characters,
    NUL, over 38 characters) is an E-CLAIM-ID-FORMAT finding, and no claim id is taken from it."""
    ((found_id, codes, _),) = _codes(_one(claim_id).encode(), "a.json")
    assert (None, ["E-CLAIM-ID-FORMAT"]) == (found_id, codes)


@pytest.mark.parametrize("claim_id", ["A", "A-1", "a" * 38, "0-Z-9"])
def test_a_claim_id_inside_the_contract_is_read(claim_id: str) -> None:
    """Letters, digits and '-' up to 38 characters, starting with a letter or digit, are taken
    (the scrubber still asks for 20 or fewer, as payers return)."""
    ((found_id, codes, _),) = _codes(_one(claim_id).encode(), "a.json")
    assert claim_id == found_id
    assert "E-FIELD-TYPE" not in codes


@pytest.mark.parametrize("claim_id", [*BAD_IDS, "A-1", "a" * 38])
def test_a_correction_file_name_is_always_safe(claim_id: str) -> None:
    """Every claim id gives a correction file name that is one plain file in the folder: no
    separator, no dot-dot, no control or direction character, not over 100 characters."""
    name = correction_file_name(claim_id)
    assert name.endswith(".json")
    assert len(name) <= 100
    assert not name.startswith((".", "-"))
    assert all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in name)
    assert ".." not in name


def test_a_correction_file_name_keeps_a_contract_claim_id_and_tells_others_apart() -> None:
    """A contract claim id is its own file name; two unsafe ids never share one."""
    assert "A-1.json" == correction_file_name("A-1")
    assert correction_file_name("A/B") != correction_file_name("A\\B")


@pytest.mark.parametrize("claim_id", ["../x", "A/B", "A" * 39, "-A", "A.B"])
def test_the_xsd_enforces_the_same_claim_id_as_the_json_schema(claim_id: str) -> None:
    """The XML form refuses the same claim ids (E-CLAIM-ID-FORMAT, no claim id taken)."""
    from gateway.encounters import encounter_to_xml
    from gateway.models import Encounter

    xml = encounter_to_xml(Encounter.model_validate(SELF))
    data = xml.replace(SELF["claim_id"].encode(), claim_id.encode())
    (record,) = read_encounters(io.BytesIO(data), name="a.xml")
    assert record.claim_id is None
    assert {"E-CLAIM-ID-FORMAT"} == {f.code.value for f in record.findings}
