"""``gateway parse --segments`` as a subprocess: JSON Lines out, defects on stderr, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLES


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the gateway command line."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from gateway.cli import run; sys.argv[0]='gateway'; run()",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_clean_file_prints_json_lines_and_exits_0() -> None:
    """Every segment is one JSON object with index, tag, elements and offset; exit 0."""
    result = run("parse", "--segments", str(SAMPLES / "x12" / "835-sample.x12"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["tag"] == "ISA"
    assert lines[0]["index"] == 0
    assert lines[0]["offset"] == 0
    svc = next(line for line in lines if line["tag"] == "SVC")
    assert svc["elements"][0] == ["HC", "99214", "25"]
    assert result.stderr == ""


def test_defects_go_to_stderr_and_exit_1(tmp_path: Path) -> None:
    """A broken trailer is reported on stderr with its location, and the exit code is 1."""
    sample = (SAMPLES / "x12" / "835-sample.x12").read_text()
    broken = tmp_path / "broken.x12"
    broken.write_text(sample.replace("IEA*1*000000101", "IEA*1*000000999"))
    result = run("parse", "--segments", str(broken))
    assert result.returncode == 1
    assert "TA1-001" in result.stderr
    assert "IEA02" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_x12_and_missing_files_never_trace_back(tmp_path: Path) -> None:
    """Garbage exits 1 with one clear message; a missing file exits 2."""
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes("hello".encode("utf-16"))
    result = run("parse", "--segments", str(garbage))
    assert (result.returncode, result.stdout) == (1, "")
    assert "X12-NOT-X12" in result.stderr
    missing = run("parse", "--segments", str(tmp_path / "nope.x12"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    assert "Traceback" not in result.stderr + missing.stderr
