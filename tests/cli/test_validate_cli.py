"""``gateway validate``: exit codes, table and JSON output, acknowledgements, pyx12 reference."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from gateway.cli import UsageError
from gateway.cli import validate as command
from tests.support.x12_files import claims_837p


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="gateway")
    command.register(parser.add_subparsers())
    args = parser.parse_args(["validate", *argv])
    return int(args.func(args))


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    """A valid 837P file."""
    path = tmp_path / "clean.x12"
    path.write_bytes(claims_837p(1))
    return path


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """An 837P with an invalid NM108 qualifier."""
    path = tmp_path / "broken.x12"
    path.write_bytes(claims_837p(1).replace(b"*XX*1234567893~", b"*ZZ*1234567893~", 1))
    return path


def test_valid_file_exits_0(clean: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid file: exit 0 and a line saying so."""
    assert _run(str(clean)) == 0
    assert capsys.readouterr().out.endswith(f"{clean}: valid, 0 error(s)\n")


def test_invalid_file_prints_a_table(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid file: exit 1 and a table row naming code, segment, element and loop."""
    assert _run(str(broken)) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["SEVERITY", "CODE", "SEGMENT", "LINE", "TAG", "POS", "ELEMENT",
                                "LOOP", "MESSAGE"]  # fmt: skip
    assert lines[1].split()[:8] == ["error", "IK403-7", "9", "1", "NM1", "7", "NM108", "2010AA"]


def test_json_output(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the verdicts and located defects as one object."""
    assert _run(str(broken), "--json") == 1
    doc = json.loads(capsys.readouterr().out)
    assert (
        [s["verdict"] for s in doc["sets"]],
        [d["code"] for d in doc["defects"]],
    ) == (["rejected"], ["IK403-7"])


def test_ack_999_is_written_owner_only(broken: Path, tmp_path: Path) -> None:
    """--ack 999 -o writes the 999 with owner-only permissions."""
    out = tmp_path / "reply.999"
    assert _run(str(broken), "--ack", "999", "-o", str(out)) == 1
    text = out.read_text(encoding="ascii")
    assert (out.stat().st_mode & 0o777, "IK5*R*5~" in text) == (0o600, True)


def test_ack_999_names_the_claim_an_error_is_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error inside a claim: the 999's IK3 is followed by CTX*CLM01 naming the claim."""
    path = tmp_path / "bad-date.x12"
    path.write_bytes(claims_837p(1).replace(b"DTP*472*D8*20260101", b"DTP*472*D8*20261301", 1))
    assert _run(str(path), "--ack", "999") == 1
    segments = capsys.readouterr().out.split("~")
    at = next(n for n, s in enumerate(segments) if s.startswith("IK3*DTP"))
    assert segments[at + 1] == "CTX*CLM01:CLAIM0000000"


def test_ack_ta1_to_stdout(clean: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--ack ta1 without -o prints the TA1 on standard output (the report goes to stderr)."""
    assert _run(str(clean), "--ack", "ta1") == 0
    assert "TA1*000000001*260115*1200*A*000~" in capsys.readouterr().out


def test_reference_pyx12(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--reference pyx12 runs the reference checker: same verdict, same exit code."""
    assert _run(str(broken), "--reference", "pyx12") == 1
    assert "set 1/0001: rejected (pyx12)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ("missing.x12",),
        ("{clean}", "-o", "out.999"),
        ("{clean}", "--ack", "999", "--reference", "pyx12"),
    ],
)
def test_usage_errors(argv: tuple[str, ...], clean: Path) -> None:
    """A missing file or contradictory options are usage errors (exit 2), not tracebacks."""
    with pytest.raises(UsageError):
        _run(*(a.format(clean=clean) for a in argv))


def test_no_999_for_a_999(clean: Path, tmp_path: Path) -> None:
    """Asking for a 999 of a 999 is refused."""
    reply = tmp_path / "reply.999"
    assert _run(str(clean), "--ack", "999", "-o", str(reply)) == 0
    with pytest.raises(UsageError, match="never acknowledged"):
        _run(str(reply), "--ack", "999")
