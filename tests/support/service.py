"""A service workspace for tests: its config, sample encounters, and files dropped in its inbox."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from gateway.config import Settings
from gateway.ledger.control_numbers import LedgerControlNumbers
from gateway.ledger.submissions import intent_from_sent
from gateway.models.encounter import Encounter
from gateway.service.pipeline import Service
from gateway.service.submit import file_name_for
from gateway.transactions.claim837 import build_837
from tests.support.env import ROOT

SAMPLES = ROOT / "samples" / "encounters"
PARTNER = (ROOT / "config" / "partners" / "demo-clearinghouse.toml").read_text()


def write_config(root: Path, *, max_claims: int = 100, max_wait: float = 30.0) -> Path:
    """A workspace at ``root`` with the demo partner and a fast polling intake."""
    (root / "partners").mkdir(parents=True, exist_ok=True)
    (root / "partners" / "demo-clearinghouse.toml").write_text(PARTNER)
    config = root / "gateway.toml"
    config.write_text(
        '[workspace]\nroot = "."\n'
        f"[batching]\nmax_claims = {max_claims}\nmax_wait_seconds = {max_wait}\n"
        '[intake]\nsettle_seconds = 0.0\nwatcher = "polling"\npoll_interval_seconds = 0.1\n'
        '[logging]\nformat = "json"\n'
    )
    return config


def encounter(n: int, **changes: Any) -> dict[str, Any]:
    """The professional sample as claim SVC-<n> (line ids made unique)."""
    data: dict[str, Any] = json.loads((SAMPLES / "professional-self.json").read_text())
    data["claim_id"] = f"SVC-{n:04d}"
    for i, line in enumerate(data["service_lines"], start=1):
        line["line_id"] = f"S{n:04d}-{i}"
    data.update(changes)
    return data


def drop(settings: Settings, name: str, encounters: list[dict[str, Any]]) -> Path:
    """Write encounters as a JSON array into the encounter inbox."""
    path = settings.workspace.encounters_inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(encounters))
    return path


async def inbox_files(svc: Service) -> list[Path]:
    """The files waiting in the service's encounter inbox, by name."""
    return sorted(svc.settings.workspace.encounters_inbox.iterdir())


async def stage(svc: Service, worker: str, *, claims: int = 1) -> tuple[str, int]:
    """Queue claims, build them as ``worker`` would, stage the 837 in that worker's folder and
    record the intent. Returns the file name and the submission id."""
    drop(svc.settings, "a.json", [encounter(n) for n in range(1, claims + 1)])
    for path in await inbox_files(svc):
        await svc.take(path)
    queued = await svc.ledger.lease_queued_claims(worker, limit=100)
    allocator = LedgerControlNumbers.for_running_loop(svc.ledger)
    models = [Encounter.model_validate(dict(q.encounter)) for q in queued]
    result = await asyncio.to_thread(build_837, models, svc.partners, allocator)
    (built,) = result.interchanges
    name = file_name_for(built.sent)
    folder = svc.submitter.outgoing_root / worker
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(built.data)
    submission_id = await svc.ledger.record_submission_intent(intent_from_sent(built.sent, name))
    return name, submission_id


def outbox(svc: Service) -> list[str]:
    """Names of the files handed over to the directory transport."""
    return sorted(p.name for p in svc.settings.workspace.outbox.glob("*.x12"))


async def status_of(svc: Service, submission_id: int) -> str:
    """The submission's status in the ledger now."""
    return next(s.status for s in await svc.ledger.submissions() if s.id == submission_id)
