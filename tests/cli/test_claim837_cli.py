"""`gateway build-837`: scrub, build, check against the TR3 (ours or pyx12), write owner-only
files, summarize."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import stat
import subprocess
import sys
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.partners import Partners, load_partners
from gateway.validation.pyx12_adapter import Pyx12Report
from gateway.x12 import Defect, DefectCode, Location

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "encounters"
PARTNERS = ROOT / "config" / "partners"


def config(tmp: Path) -> Path:
    """A gateway configuration with its workspace (and ledger, state/gateway.db) in ``tmp``."""
    path = tmp / "gateway.toml"
    if not path.exists():
        path.write_text('[workspace]\nroot = "."\n')
    return path


def run(tmp: Path, *files: Path | str, extra: tuple[str, ...] = ()) -> int:
    """Run the command with --json in this process; its exit code."""
    argv = [
        "build-837",
        *map(str, files),
        "-o",
        str(tmp / "out"),
        "--partners-dir",
        str(PARTNERS),
        "--config",
        str(config(tmp)),
        "--json",
        *extra,
    ]
    return main(argv)


def summary(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def bad_npi_file(tmp: Path) -> Path:
    data = json.loads((SAMPLES / "professional-self.json").read_text())
    data["claim_id"] = "BAD-NPI-1"
    data["billing_provider"]["npi"] = "1234567890"  # wrong check digit
    path = tmp / "bad.json"
    path.write_text(json.dumps(data))
    return path


def test_samples_build_into_checked_owner_only_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two sample files: exit 0, one file per kind, mode 0600, valid by our validator, nothing
    temporary."""
    code = run(
        tmp_path, SAMPLES / "professional-self.json", SAMPLES / "institutional-inpatient.json"
    )
    out = summary(capsys)
    assert code == 0
    files = sorted(Path(f["path"]).name for f in out["files"])
    assert files == [
        "demo-clearinghouse-837I-000000001.x12",
        "demo-clearinghouse-837P-000000002.x12",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == files
    for f in out["files"]:
        assert (f["checker"], f["valid"], f["defects"]) == ("gateway", True, [])
        assert stat.S_IMODE(Path(f["path"]).stat().st_mode) == 0o600
    assert out["claims"] == 2
    assert out["left_out"] == []


def test_summary_says_what_was_sent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON summary carries ISA13, GS06, each ST02 with its claims and line control numbers."""
    run(tmp_path, SAMPLES / "professional-self.json")
    (sent,) = summary(capsys)["files"]
    (transaction,) = sent["transactions"]
    (claim,) = transaction["claims"]
    data = Path(sent["path"]).read_text()
    assert f"*{sent['isa13']}*1*T*:~" in data
    assert f"ST*837*{transaction['st02']}*005010X222A1~" in data
    assert (claim["claim_id"], claim["line_control_numbers"]) == (
        "VFP-20261101-0001",
        ["VFP0001-1", "VFP0001-2"],
    )
    assert claim["total_charge"] == "227.50"


def test_claims_with_errors_are_left_out_and_exit_is_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A claim the scrubber rejects is reported with code and path; the good one is built."""
    code = run(tmp_path, bad_npi_file(tmp_path), SAMPLES / "professional-self.json")
    out = summary(capsys)
    assert code == 1
    assert out["claims"] == 1
    (item,) = out["left_out"]
    assert item["claim_id"] == "BAD-NPI-1"
    assert any("npi" in r["path"] for r in item["reasons"])


def test_unreadable_json_is_left_out_with_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Broken JSON is a located left-out item, not a traceback."""
    broken = tmp_path / "broken.json"
    broken.write_text('{"claim_id": "X1", ')
    code = run(tmp_path, broken)
    out = summary(capsys)
    assert (code, out["claims"], len(out["left_out"])) == (1, 0, 1)


def test_control_numbers_never_repeat_across_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second run continues the ISA13/GS06/ST02 sequences of the first (same ledger)."""
    run(tmp_path, SAMPLES / "professional-self.json")
    first = summary(capsys)["files"][0]
    run(tmp_path, SAMPLES / "professional-self.json")
    second = summary(capsys)["files"][0]
    keys = ("isa13", "gs06")
    assert [first[k] for k in keys] != [second[k] for k in keys]
    assert first["transactions"][0]["st02"] != second["transactions"][0]["st02"]


def test_reference_pyx12_checks_with_pyx12(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--reference pyx12 checks each file with pyx12 instead, which accepts the samples too."""
    code = run(
        tmp_path,
        SAMPLES / "professional-self.json",
        SAMPLES / "institutional-inpatient.json",
        extra=("--reference", "pyx12"),
    )
    out = summary(capsys)
    assert code == 0
    assert [(f["checker"], f["valid"], f["defects"]) for f in out["files"]] == [
        ("pyx12", True, []),
        ("pyx12", True, []),
    ]
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_file_our_validator_rejects_is_kept_as_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partner whose submitter name is past NM103's 60 characters (slipped past the config
    loader) gives a file our validator rejects: it is kept as *.invalid with the finding, the
    text summary names the checker, and the exit is 1."""

    def long_submitter_name(folder: Path) -> Partners:
        partners = load_partners(folder)
        by_name = {
            name: dataclasses.replace(partner, submitter_name="VALLEY BILLING " * 4 + "GATEWAY")
            for name, partner in partners.by_name.items()
        }
        return dataclasses.replace(partners, by_name=by_name)

    monkeypatch.setattr("gateway.cli.build_837.load_partners", long_submitter_name)
    code = run(tmp_path, SAMPLES / "professional-self.json")
    out = summary(capsys)
    assert code == 1
    (f,) = out["files"]
    assert f["path"].endswith(".x12.invalid")
    assert (f["checker"], f["valid"]) == ("gateway", False)
    assert [(d["code"], d["location"]["tag"], d["location"]["element"]) for d in f["defects"]] == [
        ("IK403-5", "NM1", 3)
    ]
    assert [p.name for p in (tmp_path / "out").iterdir()] == [Path(f["path"]).name]

    capsys.readouterr()
    code = main(
        [
            "build-837",
            str(SAMPLES / "professional-self.json"),
            "-o",
            str(tmp_path / "out"),
            "--partners-dir",
            str(PARTNERS),
            "--config",
            str(config(tmp_path)),
        ]
    )
    text = capsys.readouterr().out
    assert code == 1
    assert "gateway validator: 1 error(s)" in text
    assert "IK403-5" in text


def test_file_pyx12_rejects_is_kept_as_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --reference pyx12, a file pyx12 finds errors in is renamed *.invalid, listed, and
    the exit is 1."""

    def failing(data: bytes, *, file: str | None = None) -> Future[Pyx12Report]:
        future: Future[Pyx12Report] = Future()
        defect = Defect(DefectCode.IK403_7, "invalid code value.", Location(tag="N4", file=file))
        future.set_result(Pyx12Report(False, (defect,), 0.0, file))
        return future

    monkeypatch.setattr("gateway.cli.build_837.check_in_thread", failing)
    code = run(tmp_path, SAMPLES / "professional-self.json", extra=("--reference", "pyx12"))
    out = summary(capsys)
    assert code == 1
    (f,) = out["files"]
    assert f["path"].endswith(".x12.invalid")
    assert (f["checker"], [d["code"] for d in f["defects"]]) == ("pyx12", ["IK403-7"])
    assert not list((tmp_path / "out").glob("*.x12"))


def test_no_validate_skips_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--no-validate writes the files without running any check."""
    code = run(tmp_path, SAMPLES / "professional-self.json", extra=("--no-validate",))
    (f,) = summary(capsys)["files"]
    assert (code, "valid" in f) == (0, False)


def test_bad_partner_config_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken partner file exits 2 with the file and key named, no traceback."""
    partners = tmp_path / "partners"
    partners.mkdir()
    (partners / "x.toml").write_text("[interchange]\nusage = 'Q'\n")
    code = main(
        [
            "build-837",
            str(SAMPLES / "professional-self.json"),
            "-o",
            str(tmp_path / "out"),
            "--partners-dir",
            str(partners),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "x.toml" in err
    assert "Traceback" not in err


def test_runs_as_a_subprocess_with_a_text_summary(tmp_path: Path) -> None:
    """The installed command prints the per-file summary, naming the checker, and exits 0."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gateway.cli import run; run()",
            "build-837",
            str(SAMPLES / "professional-dependent.json"),
            "-o",
            str(tmp_path / "out"),
            "--partners-dir",
            str(PARTNERS),
            "--config",
            str(config(tmp_path)),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 file(s), 1 claim(s), total charges 153.00" in proc.stdout
    assert "gateway validator ok" in proc.stdout


def test_a_file_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh ledger would reuse ISA13 1: the run stops (exit 2) instead of
    replacing the file already in the folder, and leaves no temporary file behind."""
    assert run(tmp_path, SAMPLES / "professional-self.json") == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    for ledger in (tmp_path / "state").glob("gateway.db*"):  # a fresh ledger starts at ISA13 1
        ledger.unlink()
    capsys.readouterr()
    assert run(tmp_path, SAMPLES / "professional-self.json") == 2
    assert "already exists" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before


def test_a_folder_stands_for_its_encounter_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder argument reads its .json/.jsonl/.xml files; other files are ignored."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in ("professional-self.json", "professional-spouse-accident.xml"):
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    (folder / "notes.txt").write_text("not an encounter")
    code = run(tmp_path, folder)
    out = summary(capsys)
    assert (code, out["encounters_read"], out["claims"]) == (0, 2, 2)


def _numbers(sent: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(partner, counter, value) of every control number in one interchange's summary."""
    partner = sent["partner"]
    found = {(partner, "isa13", str(sent["isa13"])), (partner, "gs06", str(sent["gs06"]))}
    found |= {(partner, "st02", str(t["st02"])) for t in sent["transactions"]}
    return found


def test_build_837_and_the_service_allocate_from_one_ledger_without_collisions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Interchanges built by the service's allocator and by `gateway build-837` on the same
    ledger, interleaved, never share an ISA13, GS06 or ST02 for a partner."""
    from gateway.ledger.control_numbers import LedgerControlNumbers
    from gateway.ledger.store import Ledger
    from gateway.models import Encounter
    from gateway.transactions.claim837 import build_837

    url = f"sqlite:///{tmp_path / 'state' / 'gateway.db'}"  # the ledger config(tmp_path) names
    data = json.loads((SAMPLES / "professional-self.json").read_text())
    partners = load_partners(PARTNERS)

    async def service_builds() -> list[set[tuple[str, str, str]]]:
        async with await Ledger.open(url) as ledger:
            allocator = LedgerControlNumbers.for_running_loop(ledger)  # as the submitter does
            encounters = [Encounter.model_validate(data)]
            result = await asyncio.to_thread(build_837, encounters, partners, allocator)
        return [_numbers(b.sent.as_dict()) for b in result.interchanges]

    built: list[set[tuple[str, str, str]]] = []
    for _round in range(2):
        built += asyncio.run(service_builds())
        assert run(tmp_path, SAMPLES / "professional-self.json") == 0
        built += [_numbers(f) for f in summary(capsys)["files"]]
    every = [n for numbers in built for n in numbers]
    assert len(built) == 4
    assert len(every) == len(set(every))
