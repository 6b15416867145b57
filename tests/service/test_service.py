"""The service in-process: intake, duplicates, corrections, batching, responses, quarantine and
recovery of every half-done submission, on a real SQLite ledger and a directory transport."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import io
import json
import logging
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from gateway.config import Settings, load_settings
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.submissions import intent_from_sent
from gateway.logs import configure_logging
from gateway.service.pipeline import Service
from gateway.service.submit import file_name_for
from gateway.service.transports import InMemoryTransport, TransportError
from gateway.transactions.claim837 import build_837
from gateway.validation.acks import AckHeader, ack_999
from gateway.validation.validator import validate
from gateway.x12 import read_segments
from tests.support.service import SAMPLES, drop, encounter, inbox_files, write_config

ROOT = Path(__file__).resolve().parents[2]
S = ClaimState


def outbox_claims(settings: Settings) -> list[str]:
    """CLM01 of every claim in every 837 in the outbox, in file order."""
    found = []
    for path in sorted(settings.workspace.outbox.glob("*.x12")):
        found += [s[1] for s in read_segments(path.read_bytes()) if s.tag == "CLM"]
    return found


def answer_999(settings: Settings, number: int) -> int:
    """Drop a 999 (our validator's) for every 837 in the outbox; returns how many were written."""
    written = 0
    for path in sorted(settings.workspace.outbox.glob("*.x12")):
        text = ack_999(validate(path.read_bytes()), AckHeader(number + written, number + written))
        target = settings.workspace.responses_inbox / f"999-{path.stem}.x12"
        target.write_text(text)
        written += 1
    return written


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    """A service over a fresh workspace (batches of up to 100 claims)."""
    settings = load_settings(write_config(tmp_path), environ={})
    svc = await Service.open(settings)
    try:
        yield svc
    finally:
        await svc.close()


async def states(svc: Service, ids: list[str]) -> dict[str, ClaimState]:
    """The state of each claim."""
    out = {}
    for claim_id in ids:
        claim = await svc.ledger.claim(claim_id)
        assert claim is not None, claim_id
        out[claim_id] = claim.state
    return out


async def test_encounters_become_one_837_in_the_outbox_and_files_are_archived(
    service: Service,
) -> None:
    """Clean encounters are recorded, batched into one 837, handed over and archived."""
    ws = service.settings.workspace
    drop(service.settings, "a.json", [encounter(n) for n in range(1, 4)])
    drop(service.settings, "b.json", [encounter(n) for n in range(4, 6)])
    await service.run_once()
    ids = [f"SVC-{n:04d}" for n in range(1, 6)]
    assert dict.fromkeys(ids, S.SUBMITTED) == await states(service, ids)
    assert sorted(ids) == sorted(outbox_claims(service.settings))
    archived = sorted(p.name for p in ws.archive.rglob("*") if p.is_file())
    assert ["a.json", "b.json", "demo-clearinghouse-837P-000000001.x12"] == archived
    assert [] == list(ws.encounters_inbox.iterdir())
    for path in [*ws.outbox.iterdir(), *(p for p in ws.archive.rglob("*") if p.is_file())]:
        assert 0o600 == stat.S_IMODE(path.stat().st_mode), path


async def test_the_same_file_twice_and_a_claim_in_flight_are_duplicates(service: Service) -> None:
    """A file with content seen before is archived unrecorded; a claim id in flight is not billed
    again; each claim is in the outbox once."""
    drop(service.settings, "first.json", [encounter(1), encounter(2)])
    await service.run_once()
    drop(service.settings, "again.json", [encounter(1), encounter(2)])  # same bytes
    drop(service.settings, "other.json", [encounter(2, place_of_service="22"), encounter(3)])
    await service.run_once()
    assert 1 == service.stats.duplicate_files
    assert {"new": 3, "duplicate": 1} == service.stats.claims
    assert ["SVC-0001", "SVC-0002", "SVC-0003"] == sorted(outbox_claims(service.settings))


async def test_an_invalid_encounter_opens_an_item_and_its_corrected_file_resubmits(
    service: Service,
) -> None:
    """A claim with a bad NPI is invalid with a correction file; the file, fixed and dropped back
    into the inbox, makes version 2, which is sent."""
    ws = service.settings.workspace
    bad = encounter(7)
    bad["billing_provider"]["npi"] = "1234567890"  # check digit wrong
    drop(service.settings, "bad.json", [bad, encounter(8)])
    await service.run_once()
    assert {"SVC-0007": S.INVALID, "SVC-0008": S.SUBMITTED} == await states(
        service, ["SVC-0007", "SVC-0008"]
    )
    correction = ws.corrections / "SVC-0007.json"
    document = json.loads(correction.read_text())
    assert "E-NPI-CHECKDIGIT" == document["rejection"]["reasons"][0]["code"]
    document["billing_provider"]["npi"] = "1234567893"
    (ws.encounters_inbox / "SVC-0007.json").write_text(json.dumps(document))
    correction.unlink()  # staff moved it out of corrections/
    await service.run_once()
    claim = await service.ledger.claim("SVC-0007")
    assert claim is not None
    assert (S.SUBMITTED, 2) == (claim.state, claim.current_version)
    assert [] == await service.ledger.open_items()
    assert [] == list(ws.corrections.glob("*.json"))


async def test_a_correction_file_still_wrong_is_quarantined_with_what_is_wrong(
    service: Service,
) -> None:
    """A correction file dropped back unfixed records nothing and is quarantined with the
    remaining errors; the claim's item stays open."""
    ws = service.settings.workspace
    bad = encounter(9)
    bad["billing_provider"]["npi"] = "1234567890"
    drop(service.settings, "bad.json", [bad])
    await service.run_once()
    (ws.corrections / "SVC-0009.json").rename(ws.encounters_inbox / "SVC-0009.json")
    await service.run_once()
    report = json.loads((ws.quarantine / "SVC-0009.json.error.json").read_text())
    assert "still-invalid" == report["error"]["code"]
    assert ["SVC-0009"] == [i.claim_id for i in await service.ledger.open_items()]
    claim = await service.ledger.claim("SVC-0009")
    assert claim is not None
    assert (S.INVALID, 1) == (claim.state, claim.current_version)


async def test_a_step_that_fails_puts_the_file_back_and_the_retry_records_it(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database failure while recording puts the file back in the inbox; the next attempt
    records its claims (the file is not mistaken for a duplicate of itself)."""
    real = service.ledger.record_claims
    calls = []

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk I/O error")
        return await real(*args, **kwargs)

    monkeypatch.setattr(service.ledger, "record_claims", failing_once)
    drop(service.settings, "a.json", [encounter(1)])
    await service.run_once()
    assert ["a.json"] == [p.name for p in service.settings.workspace.encounters_inbox.iterdir()]
    await service.run_once()
    assert {"SVC-0001": S.SUBMITTED} == await states(service, ["SVC-0001"])
    assert 0 == service.stats.duplicate_files


async def test_a_999_is_applied_once_and_its_copy_is_a_duplicate(service: Service) -> None:
    """Our validator's 999 for the sent file acknowledges every claim; a copy changes nothing."""
    drop(service.settings, "a.json", [encounter(n) for n in range(1, 4)])
    await service.run_once()
    assert 1 == answer_999(service.settings, 500)
    copy = service.settings.workspace.responses_inbox / "copy-of-999.x12"
    copy.write_bytes(next(service.settings.workspace.responses_inbox.glob("999-*")).read_bytes())
    await service.run_once()
    ids = ["SVC-0001", "SVC-0002", "SVC-0003"]
    assert dict.fromkeys(ids, S.ACKNOWLEDGED) == await states(service, ids)
    assert (1, 1, 3) == (
        service.stats.responses_applied,
        service.stats.duplicate_files,
        service.stats.state_changes,
    )


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"this is not X12 at all", "not-x12"),
        ((ROOT / "samples/x12/837P-samples.x12").read_bytes(), "not-a-response"),
    ],
)
async def test_an_unreadable_response_is_quarantined_and_counted(
    service: Service, content: bytes, code: str
) -> None:
    """A response holding nothing readable goes to quarantine with its .error.json, and
    `gateway status` counts it."""
    ws = service.settings.workspace
    (ws.responses_inbox / "mystery.x12").write_bytes(content)
    await service.run_once()
    report = json.loads((ws.quarantine / "mystery.x12.error.json").read_text())
    assert (code, "mystery.x12") == (report["error"]["code"], report["file"])
    assert report["error"]["what_to_do"]
    assert 1 == (await service.ledger.status()).quarantined_files


async def test_an_encounter_file_without_any_claim_is_quarantined(service: Service) -> None:
    """A file that is not an encounter file at all is quarantined with its findings."""
    ws = service.settings.workspace
    (ws.encounters_inbox / "notes.json").write_text("{ this is not json")
    await service.run_once()
    report = json.loads((ws.quarantine / "notes.json.error.json").read_text())
    assert "no-claims" == report["error"]["code"]
    assert ["E-JSON-SYNTAX"] == [f["code"] for f in report["error"]["findings"]]


async def stage_and_intend(svc: Service, n: int, *, record: bool) -> str:
    """Build claims SVC-<n>.. as the submitter would, stage the file, and (with ``record``)
    record the intent: the state a crash leaves behind. Returns the file name."""
    from gateway.ledger.control_numbers import LedgerControlNumbers
    from gateway.models import Encounter

    queued = await svc.ledger.lease_queued_claims(svc.worker_id, limit=100)
    allocator = LedgerControlNumbers.for_running_loop(svc.ledger)
    models = [Encounter.model_validate(dict(q.encounter)) for q in queued]
    result = await asyncio.to_thread(build_837, models, svc.partners, allocator)
    (built,) = result.interchanges
    name = file_name_for(built.sent)
    svc.submitter.outgoing.mkdir(parents=True, exist_ok=True)
    (svc.submitter.outgoing / name).write_bytes(built.data)
    if record:
        await svc.ledger.record_submission_intent(intent_from_sent(built.sent, name))
    return name


async def test_recovery_hands_over_a_staged_file_whose_intent_was_recorded(
    service: Service,
) -> None:
    """Crash after the intent: on restart the staged file is handed over once and recorded."""
    drop(service.settings, "a.json", [encounter(1), encounter(2)])
    await service.recover()
    for path in await inbox_files(service):
        await service.take(path)
    name = await stage_and_intend(service, 1, record=True)
    await service.recover()
    assert [name] == [p.name for p in service.settings.workspace.outbox.iterdir()]
    assert dict.fromkeys(["SVC-0001", "SVC-0002"], S.SUBMITTED) == await states(
        service, ["SVC-0001", "SVC-0002"]
    )
    assert [] == list(service.submitter.outgoing.iterdir())


async def test_recovery_removes_a_staged_file_without_intent_and_sends_the_claims_later(
    service: Service,
) -> None:
    """Crash before the intent: the staged file is dropped; the claims go out in a new file."""
    drop(service.settings, "a.json", [encounter(1), encounter(2)])
    for path in await inbox_files(service):
        await service.take(path)
    stale = await stage_and_intend(service, 1, record=False)
    await service.run_once()
    sent = [p.name for p in service.settings.workspace.outbox.iterdir()]
    assert stale not in sent
    assert 1 == len(sent)
    assert ["SVC-0001", "SVC-0002"] == sorted(outbox_claims(service.settings))


async def test_an_intent_whose_staged_file_is_gone_is_abandoned(service: Service) -> None:
    """Intent recorded, staged file lost: once older than the takeover time it is abandoned, its
    claims queued again and sent once in a new file."""
    drop(service.settings, "a.json", [encounter(1)])
    for path in await inbox_files(service):
        await service.take(path)
    name = await stage_and_intend(service, 1, record=True)
    (service.submitter.outgoing / name).unlink()
    await service.run_once()  # too recent: another worker may be about to stage it
    assert "intent" == next(s.status for s in await service.ledger.submissions())
    service.submitter.takeover_seconds = 0.0
    await service.run_once()
    (record,) = [s for s in await service.ledger.submissions() if s.file_name == name]
    assert "abandoned" == record.status
    assert ["SVC-0001"] == outbox_claims(service.settings)
    assert name not in [p.name for p in service.settings.workspace.outbox.iterdir()]


async def test_files_a_dead_worker_left_half_done_are_taken_over_and_fresh_ones_left(
    service: Service,
) -> None:
    """Another worker's claimed file older than the takeover time is adopted and processed; one
    it claimed a moment ago is left to it."""
    import os
    import time

    ws = service.settings.workspace
    for name, first, age in (("old.json", 1, 3600.0), ("new.json", 2, 0.0)):
        holder = ws.processing / "other" / "encounters" / f"token-{first}"
        holder.mkdir(parents=True)
        (holder / name).write_text(json.dumps([encounter(first)]))
        stamp = time.time() - age
        os.utime(holder, (stamp, stamp))
    await service.recover()
    claim = await service.ledger.claim("SVC-0001")
    assert claim is not None
    assert S.QUEUED == claim.state
    assert await service.ledger.claim("SVC-0002") is None
    left = [p.name for p in (ws.processing / "other").rglob("*") if p.is_file()]
    assert ["new.json"] == left


async def test_a_failed_hand_over_is_retried_and_never_reported_as_sent(tmp_path: Path) -> None:
    """A transport failure leaves the claims batched and the file staged; it is not tried again
    before the transport's back-off ends, and the retry after it sends it."""
    settings = load_settings(write_config(tmp_path), environ={})
    partners = settings.load_partners()
    down = TransportError("network down", retryable=True)
    memory = InMemoryTransport(put_failures=[down])
    from gateway.ledger.store import Ledger

    ledger = await Ledger.open(settings.ledger_url)
    settings.workspace.create()
    svc = Service(settings, ledger, partners, {"demo-clearinghouse": memory})
    try:
        drop(settings, "a.json", [encounter(1)])
        await svc.run_once()
        assert ({}, S.BATCHED) == (memory.sent, (await states(svc, ["SVC-0001"]))["SVC-0001"])
        assert svc.submitter.pending()
        await svc.run_once()  # within the back-off: no second attempt
        assert ({}, 1) == (memory.sent, svc.health["demo-clearinghouse"].failures)
        svc.health["demo-clearinghouse"].retry_now()  # as if the back-off had run out
        await svc.run_once()
        assert 1 == len(memory.sent)
        assert {"SVC-0001": S.SUBMITTED} == await states(svc, ["SVC-0001"])
    finally:
        await svc.close()


async def test_the_service_logs_hold_no_phi_from_the_samples(service: Service) -> None:
    """Every log line of a run over the samples is free of patient names, ids and birth dates."""
    stream = io.StringIO()
    configure_logging(log_format="json", level="info", stream=stream)
    try:
        for path in SAMPLES.iterdir():
            (service.settings.workspace.encounters_inbox / path.name).write_bytes(path.read_bytes())
        await service.run_once()
        answer_999(service.settings, 700)
        await service.run_once()
    finally:
        logging.getLogger().handlers.clear()
        structlog.reset_defaults()
    text = stream.getvalue()
    assert "claim queued" in text
    assert "response applied" in text
    phi = {"DOE", "JANE", "UH4471829001", "1980-04-12", "42 OAK AVE", "19800412"}
    for sample in SAMPLES.glob("*.json"):
        data = json.loads(sample.read_text())
        for person in (data.get("subscriber") or {}, data.get("patient") or {}):
            phi |= {str(person.get(k)) for k in ("last_name", "first_name", "member_id")}
            phi |= {str(person.get("birth_date"))}
    phi -= {"None", ""}
    assert [] == sorted(value for value in phi if value in text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--worker-id", "../elsewhere"], "--worker-id"),
        (["--config", "no-such.toml"], "no such file"),
    ],
)
def test_run_refuses_a_bad_worker_id_or_config_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """`gateway run` says what is wrong with its options and exits 2, without a traceback."""
    from gateway.cli import main

    config = write_config(tmp_path)
    full = ["run", "--once", "--config", str(config), *args]
    assert 2 == main(full)
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


async def test_a_batch_goes_when_max_claims_wait_or_the_oldest_waited_max_wait(
    tmp_path: Path,
) -> None:
    """With max_claims 3 and max_wait 10 s: two claims wait; a third sends all three at once; two
    more go only once 10 s have passed since the first of them was seen."""
    settings = load_settings(write_config(tmp_path, max_claims=3, max_wait=10.0), environ={})
    svc = await Service.open(settings)
    now = [1000.0]
    svc.submitter.clock = lambda: now[0]
    try:

        async def take(*numbers: int) -> None:
            drop(settings, f"f{numbers[0]}.json", [encounter(n) for n in numbers])
            for path in await inbox_files(svc):
                await svc.take(path)

        await take(1, 2)
        assert 0 == await svc.submitter.flush()
        await take(3)
        assert 1 == await svc.submitter.flush()
        await take(4, 5)
        assert 0 == await svc.submitter.flush()
        now[0] += 9.0
        assert 0 == await svc.submitter.flush()
        now[0] += 1.5
        assert 1 == await svc.submitter.flush()
        assert [3, 2] == [
            sum(1 for s in read_segments(p.read_bytes()) if s.tag == "CLM")
            for p in sorted(settings.workspace.outbox.iterdir())
        ]
    finally:
        await svc.close()
