"""pyx12's external code lists (states, countries, places of service...) are checked by default
wherever the gateway validates an 837: ``gateway validate``, ``gateway build-837`` and the
service's TR3 check before sending (issue 18: a payer state ``NA`` passed, clearinghouses reject
it). ``--no-external-codes`` skips them."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.config import load_settings
from gateway.ledger.lifecycle import ClaimState
from gateway.service.pipeline import Service
from gateway.validation.validator import Options, validate
from tests.support.service import drop, encounter, write_config
from tests.support.x12_files import claims_837p

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "encounters" / "professional-self.json"
PARTNERS = ROOT / "config" / "partners"
N4 = "N4*SPRINGFIELD*IL*62701~"


def _with_payer_state(state: str) -> dict[str, Any]:
    """The professional sample with a Canadian payer address in ``state`` (the scrubber checks
    US states only; the rest is left to the TR3 check's external lists)."""
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    data["payer"]["address"] = {
        "line1": "PO BOX 1000",
        "city": "TORONTO",
        "state": state,
        "zip": "62701",
        "country_code": "CA",
    }
    return data


@pytest.mark.parametrize(
    ("state", "options", "expected"),
    [
        ("NA", None, [("IK403-7", "N4", 2)]),  # the default checks the lists
        ("NA", Options(), [("IK403-7", "N4", 2)]),
        ("NA", Options(external_codes=False), []),
        ("IL", None, []),
        ("PR", None, []),  # territories are on the list
        ("QC", None, []),  # Canada's current codes, which pyx12's dated list lacks
        ("NL", None, []),
        ("NU", None, []),
    ],
)
def test_a_state_outside_the_external_list_is_found_by_default(
    state: str, options: Options | None, expected: list[tuple[str, str, int]]
) -> None:
    """N402 is checked against pyx12's state list unless external codes are turned off."""
    data = claims_837p(1).replace(N4.encode(), f"N4*SPRINGFIELD*{state}*62701~".encode(), 1)
    result = validate(data, options=options)
    assert expected == [(str(d.code), d.location.tag, d.location.element) for d in result.defects]


@pytest.mark.parametrize(
    ("flags", "exit_code"),
    [((), 1), (("--external-codes",), 1), (("--no-external-codes",), 0)],
)
def test_gateway_validate_checks_external_codes_unless_told_not_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], exit_code: int
) -> None:
    """`gateway validate` rejects state NA by default; --no-external-codes skips the lists and
    --external-codes is still accepted."""
    path = tmp_path / "na.x12"
    path.write_bytes(claims_837p(1).replace(N4.encode(), b"N4*SPRINGFIELD*NA*62701~", 1))
    assert exit_code == main(["validate", str(path), *flags])
    out = capsys.readouterr().out
    assert ("IK403-7" in out) == (exit_code == 1)


def test_build_837_keeps_a_file_with_a_payer_state_na_as_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway build-837` checks the external lists: a payer state NA makes the file invalid."""
    source = tmp_path / "na.json"
    source.write_text(json.dumps(_with_payer_state("NA")))
    argv = ["build-837", str(source), "-o", str(tmp_path / "out"), "--partners-dir"]
    (tmp_path / "gateway.toml").write_text('[workspace]\nroot = "."\n')  # its ledger: numbers
    argv += [str(PARTNERS), "--config", str(tmp_path / "gateway.toml"), "--json"]
    assert 1 == main(argv)
    (written,) = json.loads(capsys.readouterr().out)["files"]
    assert written["path"].endswith(".x12.invalid")
    assert [("IK403-7", "N4", 2, "2010BB")] == [
        (d["code"], d["location"]["tag"], d["location"]["element"], d["location"]["loop"])
        for d in written["defects"]
    ]


async def test_the_service_refuses_a_claim_with_a_payer_state_na(tmp_path: Path) -> None:
    """The service's TR3 check before sending finds state NA: the claim goes to the correction
    queue with the finding instead of to the clearinghouse."""
    settings = load_settings(write_config(tmp_path), environ={})
    service = await Service.open(settings)
    try:
        drop(settings, "a.json", [encounter(1, payer=_with_payer_state("NA")["payer"])])
        await service.run_once()
        claim = await service.ledger.claim("SVC-0001")
        assert claim is not None
        (item,) = await service.ledger.open_items()
        assert (ClaimState.INVALID, "SVC-0001", "IK403-7") == (
            claim.state,
            item.claim_id,
            item.reason_code,
        )
        assert [] == list(settings.workspace.outbox.glob("*.x12"))
    finally:
        await service.close()
