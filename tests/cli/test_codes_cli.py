"""``gateway codes``: lookups, --sets, --version, and updating a list (precedence, validation)."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import codes
from gateway.cli import main
from gateway.codes import published


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh user data folder for each test; the tables are read again before and after."""
    folder = tmp_path / "data"
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(folder))
    codes.reload()
    yield folder
    monkeypatch.undo()
    codes.reload()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "exit_code", "expected"),
    [
        (["hcpcs", "J1100", "--date", "2026-03-02"], 0, "on 2026-03-02: valid"),
        (["hcpcs", "j1100"], 0, "Dexamethasone sodium phos"),
        (["hcpcs", "J1030", "--date", "2026-03-02"], 0, "on 2026-03-02: ended"),
        (["hcpcs", "J1030"], 0, "2019-07-01 or earlier to 2024-03-31"),
        (["hcpcs", "J0002"], 1, "J0002: not a HCPCS Level II code"),
        (["hcpcs", "99213"], 1, "99213 is a CPT code: CPT descriptors are the AMA's"),
        (["modifier", "25"], 0, "25  CPT modifier"),
        (["modifier", "GD", "--date", "2020-01-01"], 0, "on 2020-01-01: ended"),
        (["modifier", "ZX"], 1, "ZX: not a modifier"),
        (["modifier", "SZ"], 0, "a real modifier (HCPCS habilitative services)"),
        (["carc", "45"], 0, "45  Charge exceeds fee schedule"),
        (["carc", "B2"], 0, "deactivated"),
        (["rarc", "N206"], 0, "The supporting documentation does not match"),
        (["rarc", "M75"], 0, "M75  "),
        (["rarc", "N1"], 0, "N1  Alert: You may appeal"),
        (["rarc", "N9999"], 1, "N9999: unknown code"),
    ],
)
def test_lookups(
    capsys: pytest.CaptureFixture[str], argv: list[str], exit_code: int, expected: str
) -> None:
    """Each lookup prints what the data holds; a code the data lacks exits 1."""
    code, out, _ = _run(capsys, "codes", *argv)
    assert (exit_code, True) == (code, expected in out)


def test_lookups_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives the code, its spans and the verdict on the date, and the data's coverage."""
    _, out, _ = _run(capsys, "codes", "hcpcs", "J0570", "--date", "2025-05-01", "--json")
    document = json.loads(out)
    assert {
        "code": "J0570",
        "found": True,
        "validity": "not-valid-in-gap",
        "spans": [
            {"from": "2019-07-01", "from_or_earlier": True, "to": "2024-12-31"},
            {"from": "2025-10-01", "from_or_earlier": False, "to": None},
        ],
        "covers_to": "2026-06-30",
    } == {
        "code": document["code"],
        "found": document["found"],
        "validity": document["validity"],
        "spans": document["spans"],
        "covers_to": document["data"]["covers_to"],
    }
    _, out, _ = _run(capsys, "codes", "rarc", "N206", "--json")
    assert ("current", True, "shipped") == (
        json.loads(out)["status"],
        json.loads(out)["active"],
        json.loads(out)["from"],
    )


def test_deactivated_code_without_stop_date_is_not_active(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Whether a code is active is its status: W3 has no stop date yet is deactivated."""
    _, out, _ = _run(capsys, "codes", "carc", "W3", "--json")
    assert ("deactivated", False, None) == (
        json.loads(out)["status"],
        json.loads(out)["active"],
        json.loads(out)["stop_date"],
    )


def test_sets_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--sets lists every set with version, coverage, rows and origin; --version shows the same."""
    _, out, _ = _run(capsys, "codes", "--sets", "--json")
    sets = {s["name"]: s for s in json.loads(out)}
    assert [
        "icd-10-cm",
        "icd-10-cm-tabular",
        "hcpcs",
        "modifiers",
        "place-of-service",
        "carc",
        "rarc",
        "claim-status",
        "claim-status-category",
    ] == list(sets)
    assert ("I/OCE 27.1, 2026-Q2", "2026-06-30", 9078, "shipped") == (
        sets["hcpcs"]["version"],
        sets["hcpcs"]["covers_to"],
        sets["hcpcs"]["rows"],
        sets["hcpcs"]["origin"],
    )
    assert ("2027-03-31", "package") == (
        sets["icd-10-cm"]["covers_to"],
        sets["icd-10-cm"]["origin"],
    )
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    out, _ = capsys.readouterr()
    assert (0, True, True) == (
        exited.value.code,
        out.startswith("gateway (x12-claim-gateway) 0.1.0"),
        "covers: 2019-07-01 to 2026-06-30" in out,
    )


def test_sets_show_the_practice_cpt_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With [codes] cpt_file configured, --sets lists the practice's CPT list and its coverage."""
    (tmp_path / "cpt.csv").write_text("code,from,to\n99213,2026-01-01,\n", encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text('[codes]\ncpt_file = "cpt.csv"\n', encoding="utf-8")
    _, out, _ = _run(capsys, "codes", "--sets", "--json", "--config", str(config))
    cpt = json.loads(out)[-1]
    assert ("cpt", 1, "2026-01-01", "2026-12-31", "practice file") == (
        cpt["name"],
        cpt["rows"],
        cpt["covers_from"],
        cpt["covers_to"],
        cpt["origin"],
    )


NEWER_RARC = (
    "code\tdescription\tstart_date\tstop_date\tstatus\n"
    "N206\tThe supporting documentation does not match the claim (newer wording).\t"
    "06/30/2003\t\tcurrent\n"
    "N941\tA remark added after the shipped list.\t11/01/2026\t\tcurrent\n"
)


def test_update_takes_precedence_code_by_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data_dir: Path
) -> None:
    """An installed list wins for its codes, adds new ones, and leaves the others known."""
    assert "unknown code" == codes.meaning("rarc", "N941")
    source = tmp_path / "rarc-2026-11.tsv"
    source.write_text(NEWER_RARC, encoding="utf-8")
    code, out, _ = _run(capsys, "codes", "update", "rarc", str(source), "--json")
    report = json.loads(out)
    assert (0, 2, ["N941"], ["N206"], "2026-11-01") == (
        code,
        report["rows"],
        report["new_codes"],
        report["changed_codes"],
        report["as_of"],
    )
    shipped_n1 = published.shipped_list("rarc").entries["N1"].description
    assert (
        "A remark added after the shipped list.",
        "The supporting documentation does not match the claim (newer wording).",
        shipped_n1,
    ) == (codes.meaning("rarc", "N941"), codes.meaning("rarc", "N206"), codes.meaning("rarc", "N1"))
    installed = data_dir / "codes" / "rarc.tsv"
    assert 0o600 == stat.S_IMODE(installed.stat().st_mode)
    _, out, _ = _run(capsys, "codes", "--sets", "--json")
    rarc = next(s for s in json.loads(out) if s["name"] == "rarc")
    assert ("user-updated", str(installed), 1217) == (rarc["origin"], rarc["path"], rarc["rows"])
    _, out, _ = _run(capsys, "codes", "rarc", "N941", "--json")
    assert "user-updated" == json.loads(out)["from"]


@pytest.mark.parametrize(
    ("kind", "text", "error"),
    [
        ("carc", "", "holds no rows"),
        ("carc", "reason\tmeaning\n45\tx\n", "the header has no code or description column"),
        ("carc", "code,description\n", "has a header but no codes"),
        ("carc", "code,description\nN206,a remark\n", ":2: 'N206' is not shaped like a Claim"),
        ("rarc", "code\tdescription\n45\tx\n", "is this the rarc list?"),
        ("carc", "code,description\n45,a\n45,b\n", ":3: code 45 is listed twice"),
        ("carc", "code,description,start_date\n45,a,2026-13-01\n", "is not a date"),
    ],
)
def test_update_refuses_a_bad_file(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    data_dir: Path,
    kind: str,
    text: str,
    error: str,
) -> None:
    """A file that is not a code list is refused (exit 1) with where and why; nothing installed."""
    source = tmp_path / "list.csv"
    source.write_text(text, encoding="utf-8")
    code, _, err = _run(capsys, "codes", "update", kind, str(source))
    assert (1, True, False) == (code, error in err, (data_dir / "codes").exists())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'code\tdescription\n45\tThe "allowed" amount, per plan.\n',
            'The "allowed" amount, per plan.',
        ),
        (
            'code,description\n45,"The ""allowed"" amount, per plan."\n',
            'The "allowed" amount, per plan.',
        ),
        ("code,description,start_date\n45,Multi\n\tline,07/01/2026\n", None),
    ],
)
def test_update_reads_tsv_unquoted_and_csv_quoted(text: str, expected: str | None) -> None:
    """TSV is read as written (quotes are text); CSV quotes fields that hold commas."""
    if expected is None:
        with pytest.raises(published.ListFileError):
            published.parse_list("carc", text)
        return
    assert expected == published.parse_list("carc", text).entries["45"].description


def test_a_broken_user_list_falls_back_to_the_shipped_one(data_dir: Path) -> None:
    """An installed list that no longer reads is skipped: the readers keep the shipped meanings."""
    folder = data_dir / "codes"
    folder.mkdir(parents=True)
    (folder / "carc.tsv").write_text("not a list\n", encoding="utf-8")
    codes.reload()
    assert (None, "Coinsurance Amount") == (published.user_list("carc"), codes.meaning("carc", "2"))


def test_the_claim_status_update_is_read_by_the_277ca_meanings(tmp_path: Path) -> None:
    """A 508 list installed with `update claim-status` gives STC meanings; 507 classes stay."""
    published.install(
        "claim-status",
        b"code,description\n790,A status code newer than the shipped list.\n",
        name="508.csv",
    )
    codes.reload()
    assert (
        "A status code newer than the shipped list.",
        "rejected",
        "Data reporting acknowledgement/receipt - the encounter has been received",
    ) == (
        codes.meaning("claim_status", "790"),
        codes.category_class("A7"),
        codes.meaning("claim_status_category", "DR01"),
    )


def test_unknown_codes_are_shown_as_unknown_never_rejected() -> None:
    """A code no list holds reads as 'unknown code'; the well-known RARCs now have meanings."""
    assert ["unknown code", "unknown code"] == [
        codes.meaning("carc", "ZZ9"),
        codes.meaning("rarc", "N9999"),
    ]
    assert all(codes.is_known("rarc", c) for c in ("N206", "M75", "N1", "MA130", "N940"))


def test_check_uses_the_practice_cpt_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`gateway check --config` with [codes] cpt_file judges CPT by date; without, by shape."""
    (tmp_path / "cpt.csv").write_text(
        "code,from,to\n99214,2026-01-01,\n83036,2026-01-01,2026-06-30\n", encoding="utf-8"
    )
    config = tmp_path / "gateway.toml"
    config.write_text('[codes]\ncpt_file = "cpt.csv"\n', encoding="utf-8")
    sample = Path(__file__).resolve().parents[2] / "samples/encounters/professional-self.json"
    today = ["--today", "2026-11-23", "--json"]
    assert 1 == main(["check", str(sample), "--config", str(config), *today])
    findings = json.loads(capsys.readouterr().out)["encounters"][0]["findings"]
    assert [("E-CPT-NOT-VALID-ON-DATE", "service_lines[1].procedure_code")] == [
        (f["code"], f["path"]) for f in findings if f["severity"] == "error"
    ]
    assert "CPT 83036 ended on 2026-06-30" in " ".join(f["message"] for f in findings)
    assert 0 == main(["check", str(sample), *today])
    capsys.readouterr()


def test_a_bad_cpt_file_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A CPT file that does not read stops `gateway check` with exit 2, the line and the fix."""
    (tmp_path / "cpt.csv").write_text("code,from,to\n99214,Jan 1 2026,\n", encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text('[codes]\ncpt_file = "cpt.csv"\n', encoding="utf-8")
    sample = Path(__file__).resolve().parents[2] / "samples/encounters/professional-self.json"
    assert 2 == main(["check", str(sample), "--config", str(config)])
    err = capsys.readouterr().err
    assert "cpt.csv:2: dates must be written YYYY-MM-DD" in err
