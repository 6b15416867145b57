"""``gateway parse``: goldens, summaries, exit codes, findings on stderr, schemas kept in step.

Regenerate the goldens and schemas on purpose with ``GATEWAY_REGENERATE=1 pytest
tests/cli/test_parse_cli.py`` and review the diff.
"""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from gateway.cli import main
from gateway.transactions.reader import SCHEMA_FILES, read_documents, response_schemas, to_data
from tests.conftest import ROOT, CorpusFile

SAMPLES = ROOT / "samples" / "x12"
EXPECTED = SAMPLES / "expected"
SCHEMAS = ROOT / "schemas"
REGENERATE = os.environ.get("GATEWAY_REGENERATE", "") == "1"
RESPONSE_SAMPLES = [
    "835-sample",
    "835-paid-denied-partial-reversal",
    "277CA-accepted-rejected",
    "999-rejected-set",
    "TA1-rejected",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line in-process; returns the exit code, stdout and stderr."""
    code = main(["parse", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _golden(name: str, actual: Any) -> Any:
    path = EXPECTED / f"{name}.json"
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", RESPONSE_SAMPLES)
def test_sample_matches_its_golden(name: str) -> None:
    """Each sample reads into exactly the document recorded in samples/x12/expected/."""
    documents = read_documents((SAMPLES / f"{name}.x12").read_bytes())
    actual = to_data(documents[0])
    assert 1 == len(documents)
    assert _golden(name, actual) == actual


@pytest.mark.parametrize("name", RESPONSE_SAMPLES)
def test_cli_prints_the_golden_document(capsys: pytest.CaptureFixture[str], name: str) -> None:
    """``gateway parse FILE`` prints the same document as JSON (the 835 streamed claim by claim)."""
    code, out, err = run(capsys, str(SAMPLES / f"{name}.x12"))
    expected = json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))
    assert (0, "", expected) == (code, err, json.loads(out))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "835-paid-denied-partial-reversal",
            {
                "transaction": "835",
                "claims": 7,
                "total_charge": "695.00",
                "total_paid": "259.00",
                "plb_total": "23.75",
                "payment_amount": "235.25",
                "balanced": True,
            },
        ),
        (
            "277CA-accepted-rejected",
            {"transaction": "277CA", "claims": 4, "accepted": 2, "rejected": 1, "pending": 1},
        ),
        (
            "999-rejected-set",
            {"transaction": "999", "sets": 2, "accepted": 1, "rejected": 1, "group_status": "P"},
        ),
        (
            "TA1-rejected",
            {
                "transaction": "TA1",
                "control_number": "000000017",
                "status": "R",
                "note_code": "006",
            },
        ),
    ],
)
def test_summary_json_is_the_specified_object(
    capsys: pytest.CaptureFixture[str], name: str, expected: dict[str, Any]
) -> None:
    """``--summary --json`` prints exactly one JSON object with the specified keys."""
    code, out, _ = run(capsys, str(SAMPLES / f"{name}.x12"), "--summary", "--json")
    assert (0, [expected]) == (code, [json.loads(line) for line in out.splitlines()])


def test_summary_table_is_short_and_human(capsys: pytest.CaptureFixture[str]) -> None:
    """``--summary`` prints a small table naming the transaction and the balance verdict."""
    code, out, _ = run(capsys, str(SAMPLES / "835-paid-denied-partial-reversal.x12"), "--summary")
    lines = out.splitlines()
    assert 0 == code
    assert lines[0].startswith("835  ")
    assert "  balanced                yes" in lines
    assert len(lines) <= 12


def test_imbalance_goes_to_stderr_with_location_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An out-of-balance 835 prints the model, reports where on stderr and exits 1."""
    data = (SAMPLES / "835-sample.x12").read_bytes().replace(b"BPR*I*262.50", b"BPR*I*262.51")
    path = tmp_path / "unbalanced.x12"
    path.write_bytes(data)
    code, out, err = run(capsys, str(path), "--summary", "--json")
    assert (1, False) == (code, json.loads(out)["balanced"])
    assert "segment 4 (BPR)" in err
    assert "[835-TRANSACTION-BALANCE]" in err
    assert "Traceback" not in err


def test_an_837_is_named_and_counted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A claim file is not a response: parse says what it is and how many claims it holds."""
    segments = [
        "ISA*00*          *00*          *ZZ*CLINIC         *ZZ*CLEARING       "
        "*261101*0900*^*00501*000000001*0*T*:",
        "GS*HC*CLINIC*CLEARING*20261101*0900*1*X*005010X222A1",
        "ST*837*0001*005010X222A1",
        "CLM*A1*100***11:B:1*Y*A*Y*Y",
        "CLM*A2*50***11:B:1*Y*A*Y*Y",
        "SE*4*0001",
        "GE*1*1",
        "IEA*1*000000001",
    ]
    path = tmp_path / "claims.txt"
    path.write_text("~".join(segments) + "~")
    code, out, err = run(capsys, str(path))
    info = json.loads(out)
    assert ("837P", 1, 2) == (info["transaction"], info["sets"], info["claims"])
    assert "gateway parse reads 835, 277CA, 999/997 and TA1" in err
    assert 0 == code


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, this is not X12\n", "[X12-NOT-X12]"),
        (b"", "[X12-NOT-X12]"),
        (b"\x00\x01\x02binary", "[X12-NOT-X12]"),
    ],
)
def test_not_x12_is_reported_not_raised(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str
) -> None:
    """Anything that is not X12 gets a located message and exit 1, never a traceback."""
    path = tmp_path / "input.x12"
    path.write_bytes(content)
    code, out, err = run(capsys, str(path))
    assert (1, "") == (code, out)
    assert message in err


def test_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A file that does not exist is a usage error (exit 2) with a message."""
    code, _, err = run(capsys, str(tmp_path / "nope.x12"))
    assert 2 == code
    assert "no such file" in err


def test_file_with_ta1_and_997_prints_both(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file holding a TA1 and a 997 prints one summary object for each, in file order."""
    text = "~\n".join(
        [
            "ISA*00*          *00*          *ZZ*CLEARING       *ZZ*CLINIC         "
            "*261102*0930*^*00401*000000009*0*T*:",
            "TA1*000000017*261102*0930*A*000",
            "GS*FA*CLEARING*CLINIC*20261102*0930*9*X*004010",
            "ST*997*0001",
            "AK1*HC*17",
            "AK9*A*1*1*1",
            "SE*4*0001",
            "GE*1*9",
            "IEA*1*000000009",
        ]
    )
    path = tmp_path / "acks.x12"
    path.write_text(text + "~\n")
    code, out, _ = run(capsys, str(path), "--summary", "--json")
    kinds = [json.loads(line)["transaction"] for line in out.splitlines()]
    assert (0, ["TA1", "997"]) == (code, kinds)


def test_every_corpus_file_parses_without_a_traceback(
    capsys: pytest.CaptureFixture[str], corpus: list[CorpusFile]
) -> None:
    """Every corpus file, valid or broken, any transaction: exit 0 or 1 and JSON on stdout."""
    failures = []
    for row in corpus:
        try:
            code, out, _ = run(capsys, str(row.path), "--summary", "--json")
            for line in out.splitlines():
                json.loads(line)
        except Exception as exc:  # the test reports any exception as a failure
            failures.append((row.path.name, repr(exc)))
            continue
        if code not in (0, 1):
            failures.append((row.path.name, code))
    assert [] == failures


@pytest.mark.parametrize("name", sorted(response_schemas()))
def test_schema_file_is_generated_from_the_models(name: str) -> None:
    """schemas/<name> is exactly what the models generate (regenerate on purpose on a change)."""
    generated = response_schemas()[name]
    path = SCHEMAS / name
    if REGENERATE:
        path.write_text(json.dumps(generated, indent=2) + "\n", encoding="utf-8")
    assert generated == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", RESPONSE_SAMPLES)
def test_golden_validates_against_its_schema(name: str) -> None:
    """Each golden document fits its published schema (checked with pydantic on the way back in)."""
    data = json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))
    model = next(m for n, m in SCHEMA_FILES.items() if _kind(n, data))
    document = TypeAdapter(model).validate_python(data)
    assert data == to_data(document)


def _kind(file_name: str, data: dict[str, Any]) -> bool:
    kinds = {
        "remittance.schema.json": ("835",),
        "claim-acknowledgement.schema.json": ("277CA", "277"),
        "implementation-acknowledgement.schema.json": ("999", "997"),
        "interchange-acknowledgement.schema.json": ("TA1",),
    }
    return data["transaction"] in kinds[file_name]
