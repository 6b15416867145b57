"""``gateway check``: findings for people and machines, exit 0/1/2, never a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.edits import FindingCode, check_stream
from tests.support.strategies import DELETE, SAMPLES, sample_dict, with_changes

TODAY = ["--today", "2026-11-23"]
TODAY_DATE = date(2026, 11, 23)


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_samples_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    """Every sample (JSON, JSON Lines, XML) checks clean: exit 0."""
    assert main(["check", str(SAMPLES), *TODAY]) == 0
    out = capsys.readouterr().out
    assert "0 with errors" in out
    assert "ERRORS" not in out


def test_json_report_of_a_batch_with_one_bad_encounter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bad encounter's findings are listed by code and path; the good ones are clean."""
    # served inside the installed HCPCS/modifier data (to 2026-06-30): no coverage warning
    good = with_changes(
        sample_dict("professional-self"),
        {f"service_lines[{i}].service_date": "2026-06-01" for i in range(2)},
    )
    bad = with_changes(good, {"claim_id": "BAD-1", "billing_provider.npi": "1234567890"})
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in (good, bad, good)) + "\n")
    assert main(["check", str(path), "--json", *TODAY]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["summary"] == {
        "clean": 2,
        "warnings": 0,
        "errors": 1,
        "encounters": 3,
        "findings_by_code": {"E-NPI-CHECKDIGIT": 1},
    }
    assert [e["status"] for e in report["encounters"]] == ["clean", "errors", "clean"]
    bad_report = report["encounters"][1]
    assert (bad_report["claim_id"], bad_report["line"]) == ("BAD-1", 2)
    assert [(f["code"], f["path"], f["severity"]) for f in bad_report["findings"]] == [
        ("E-NPI-CHECKDIGIT", "billing_provider.npi", "error")
    ]


def test_warnings_only_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An encounter with only warnings (a dotted ICD code) does not fail the check."""
    path = _write(
        tmp_path / "a.json",
        with_changes(sample_dict("professional-self"), {"diagnoses[0]": "E11.9"}),
    )
    assert main(["check", str(path), *TODAY]) == 0
    out = capsys.readouterr().out
    assert "W-ICD-DOT" in out
    assert "1 with warnings only" in out


def test_table_shows_code_path_message_and_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table names the code, the field path, the problem and what to do."""
    data = with_changes(
        sample_dict("professional-self"), {"service_lines[1].diagnosis_pointers": [7]}
    )
    path = _write(tmp_path / "a.json", data)
    assert main(["check", str(path), *TODAY]) == 1
    out = capsys.readouterr().out
    assert "E-POINTER-RANGE" in out
    assert "service_lines[1].diagnosis_pointers[0]" in out
    assert "Pointer 7 is outside 1..3" in out
    assert "-> A pointer is a 1-based position in diagnoses." in out


def test_invalid_json_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not JSON gets a finding with line and column, exit 1."""
    path = tmp_path / "broken.json"
    path.write_text('{\n  "claim_id": "A",\n  "kind": professional\n}\n')
    assert main(["check", str(path), "--json", *TODAY]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["encounters"][0]["findings"]
    assert (finding["code"], finding["line"], finding["column"]) == ("E-JSON-SYNTAX", 3, 11)


def test_quiet_lists_only_encounters_with_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--quiet prints only the summary for clean files."""
    # served inside the installed HCPCS/modifier data (to 2026-06-30): no coverage warning
    clean = with_changes(
        sample_dict("professional-self"),
        {f"service_lines[{i}].service_date": "2026-06-01" for i in range(2)},
    )
    path = _write(tmp_path / "clean.json", clean)
    assert main(["check", "-q", str(path), *TODAY]) == 0
    assert (
        capsys.readouterr().out
        == "1 encounter in 1 file: 1 clean, 0 with warnings only, 0 with errors\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "/no/such/file.json"],
        ["check", "samples/encounters", "--today", "yesterday"],
        ["check"],
    ],
)
def test_usage_errors_exit_two(argv: list[str]) -> None:
    """A missing file, a bad option or no file at all is a usage error (exit 2)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse exits on its own errors
        code = int(exc.code or 0)
    assert code == 2


def test_empty_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder without encounter files is a usage error."""
    assert main(["check", str(tmp_path)]) == 2
    assert "holds no .json" in capsys.readouterr().err


def test_command_line_never_prints_a_traceback(tmp_path: Path) -> None:
    """Run as a program on garbage, gateway check answers with findings and exit 1."""
    path = tmp_path / "garbage.xml"
    path.write_bytes(b"\x00\x01<encounter><<>")
    result = subprocess.run(
        [sys.executable, "-c", "from gateway.cli import run; run()", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "E-XML-SYNTAX" in result.stdout


def _check(data: dict[str, object]) -> list[tuple[str, str]]:
    (result,) = check_stream(io.BytesIO(json.dumps(data).encode()), name="a.json", today=TODAY_DATE)
    return [(f.code.value, f.path) for f in result.findings]


def test_contract_errors_in_optional_fields_do_not_hide_other_findings() -> None:
    """A bad optional field is reported, and the scrubber still reports the rest of the claim."""
    data = with_changes(
        sample_dict("professional-self"),
        {"subscriber.gender": "X", "comment": "hi", "billing_provider.npi": "1234567890"},
    )
    assert _check(data) == [
        ("E-GENDER", "subscriber.gender"),
        ("E-FIELD-UNKNOWN", "comment"),
        ("E-NPI-CHECKDIGIT", "billing_provider.npi"),
    ]


def test_missing_required_field_stops_at_the_contract() -> None:
    """Without a required field there is nothing sensible to scrub: only the contract finding."""
    data = with_changes(
        sample_dict("professional-self"), {"payer": DELETE, "billing_provider.npi": "1"}
    )
    assert _check(data) == [("E-FIELD-MISSING", "payer")]


def test_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """'-' reads one encounter file from standard input, JSON or XML."""
    data = (SAMPLES / "professional-spouse-accident.xml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["check", "-", "--json", *TODAY]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(e["file"], e["claim_id"], e["status"]) for e in report["encounters"]] == [
        ("<stdin>", "VFP-20261112-0040", "clean")
    ]


def test_whole_type_of_bill_gets_a_pointed_message() -> None:
    """A facility_type written as the whole type of bill says to give its first two digits."""
    data = with_changes(
        sample_dict("institutional-outpatient"), {"institutional.facility_type": "0131"}
    )
    (message,) = [m for c, _, m in _check_messages(data) if c == "E-FACILITY-TYPE"]
    assert "give its first two digits (13)" in message


def _check_messages(data: dict[str, object]) -> list[tuple[str, str, str]]:
    (result,) = check_stream(io.BytesIO(json.dumps(data).encode()), name="a.json", today=TODAY_DATE)
    return [(f.code.value, f.path, f.message) for f in result.findings]


def test_list_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """--list-codes prints every finding code once, with its severity and advice."""
    assert main(["check", "--list-codes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(c.value for c in FindingCode) == [r["code"] for r in rows]
    assert all(r["hint"] for r in rows)
