"""Response intake checks every response with our TR3 validator: a file it rejects is still read
and applied, and its findings are logged, counted and kept in the file's ledger record; 4010
files are "not checked", never errors."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from gateway.config import load_settings
from gateway.ledger.lifecycle import ClaimState
from gateway.logs import configure_logging
from gateway.service.pipeline import Service
from gateway.service.responses import check_tr3
from gateway.validation.acks import AckHeader, ack_999
from gateway.validation.validator import validate

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "encounters"
PARTNER = (ROOT / "config" / "partners" / "demo-clearinghouse.toml").read_text()
IDS = ["RV-0001", "RV-0002"]


def write_config(root: Path) -> Path:
    """A workspace at ``root`` with the demo partner and a fast polling intake."""
    (root / "partners").mkdir(parents=True, exist_ok=True)
    (root / "partners" / "demo-clearinghouse.toml").write_text(PARTNER)
    config = root / "gateway.toml"
    config.write_text(
        '[workspace]\nroot = "."\n'
        "[batching]\nmax_claims = 100\nmax_wait_seconds = 30.0\n"
        '[intake]\nsettle_seconds = 0.0\nwatcher = "polling"\npoll_interval_seconds = 0.1\n'
        '[logging]\nformat = "json"\n'
    )
    return config


def encounter(claim_id: str) -> dict[str, Any]:
    """The professional sample under another claim id (line ids made unique)."""
    data: dict[str, Any] = json.loads((SAMPLES / "professional-self.json").read_text())
    data["claim_id"] = claim_id
    for i, line in enumerate(data["service_lines"], start=1):
        line["line_id"] = f"{claim_id}-{i}"
    return data


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    """A service over a fresh workspace that has sent one 837 holding claims ``IDS``."""
    settings = load_settings(write_config(tmp_path), environ={})
    svc = await Service.open(settings)
    try:
        inbox = settings.workspace.encounters_inbox
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / "a.json").write_text(json.dumps([encounter(i) for i in IDS]))
        await svc.run_once()
        yield svc
    finally:
        await svc.close()


def the_999(svc: Service) -> str:
    """A 999 accepting the one 837 in the outbox, as our validator would write it."""
    (sent,) = sorted(svc.settings.workspace.outbox.glob("*.x12"))
    return ack_999(validate(sent.read_bytes()), AckHeader(900, 900))


def file_details(svc: Service) -> dict[str, dict[str, Any]]:
    """The ledger's ``detail`` of every file, by name (read from the SQLite file directly)."""
    path = svc.settings.ledger_url.split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, detail FROM files").fetchall()
    return {name: json.loads(detail) for name, detail in rows if detail is not None}


async def states(svc: Service) -> dict[str, ClaimState]:
    """The state of each claim in ``IDS``."""
    out = {}
    for claim_id in IDS:
        claim = await svc.ledger.claim(claim_id)
        assert claim is not None, claim_id
        out[claim_id] = claim.state
    return out


async def test_a_999_failing_the_tr3_is_applied_and_its_findings_recorded(
    service: Service,
) -> None:
    """A 999 whose AK904 count is not a number is rejected by the validator, yet it still
    acknowledges both claims; the finding is logged, counted and kept in the file's record."""
    text, n = re.subn(r"AK9\*A\*(\d+)\*(\d+)\*\d+", r"AK9*A*\1*\2*X", the_999(service))
    assert 1 == n
    (service.settings.workspace.responses_inbox / "bad-999.x12").write_text(text)
    stream = io.StringIO()
    configure_logging(log_format="json", level="info", stream=stream)
    try:
        await service.run_once()
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()
    assert dict.fromkeys(IDS, ClaimState.ACKNOWLEDGED) == await states(service)
    assert (1, 1, 1) == (
        service.stats.responses_applied,
        service.stats.tr3_rejected_files,
        service.stats.tr3_findings,
    )
    tr3 = file_details(service)["bad-999.x12"]["tr3"]
    assert ("rejected", 1, ["0001"], 1) == (
        tr3["status"],
        tr3["sets"],
        tr3["rejected_sets"],
        tr3["errors"],
    )
    (finding,) = tr3["findings"]
    where = finding["location"]
    assert ("IK403-6", "AK9", 4) == (finding["code"], where["tag"], where["element"])
    (logged,) = [
        json.loads(line)
        for line in stream.getvalue().splitlines()
        if "fails TR3 validation" in line
    ]
    assert 1 == logged["errors"]
    assert "IK403-6" in logged["first"][0]


async def test_a_999_passing_the_tr3_is_recorded_as_accepted(service: Service) -> None:
    """The 999 as written is accepted by the validator: nothing counted, status recorded."""
    (service.settings.workspace.responses_inbox / "good-999.x12").write_text(the_999(service))
    await service.run_once()
    assert dict.fromkeys(IDS, ClaimState.ACKNOWLEDGED) == await states(service)
    assert (0, 0) == (service.stats.tr3_rejected_files, service.stats.tr3_findings)
    tr3 = file_details(service)["good-999.x12"]["tr3"]
    assert ("accepted", 1, [], 0, []) == (
        tr3["status"],
        tr3["sets"],
        tr3["rejected_sets"],
        tr3["errors"],
        tr3["findings"],
    )


@pytest.mark.parametrize(
    ("version", "status", "reason"),
    [
        ("00501", "accepted", ""),
        ("00401", "not checked", "ISA12 00401: only 5010 is validated"),
    ],
)
def test_4010_files_are_not_checked_rather_than_rejected(
    version: str, status: str, reason: str
) -> None:
    """A 4010 TA1 (which the validator reports as TA1-017) is "not checked", with no findings;
    the same TA1 in 5010 is checked and accepted."""
    isa = (
        "ISA*00*          *00*          *ZZ*DEMOCLEARING   *ZZ*VALLEYGATEWAY  *261123*0228*^*"
        f"{version}*000000901*0*T*:~"
    )
    data = f"{isa}TA1*000000001*261123*0228*A*000~IEA*0*000000901~".encode()
    check = check_tr3(data, "ta1.x12")
    assert (status, reason, ()) == (check.status, check.reason, check.findings)
