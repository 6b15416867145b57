"""Intake in the service: every encounter is recorded or put in front of an operator, files are
taken only when complete, a file that keeps failing is quarantined, and claims go in batches."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.config import load_settings
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import IncomingClaim, Reason
from gateway.service import encounter_intake, intake, pipeline
from gateway.service.pipeline import Service
from tests.support.service import encounter, write_config

S = ClaimState


def write_intake_config(root: Path, *, complete_wait: float = 300.0) -> Path:
    """The test service's workspace, with the given wait for incomplete files."""
    config = write_config(root)
    text = config.read_text().replace(
        "[intake]\n", f"[intake]\ncomplete_wait_seconds = {complete_wait}\n"
    )
    config.write_text(text)
    return config


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    """A service over a fresh workspace that waits for incomplete files."""
    settings = load_settings(write_intake_config(tmp_path), environ={})
    svc = await Service.open(settings)
    try:
        yield svc
    finally:
        await svc.close()


@pytest.fixture
async def impatient(tmp_path: Path) -> AsyncIterator[Service]:
    """A service that takes an incomplete file at once (complete_wait_seconds = 0)."""
    settings = load_settings(write_intake_config(tmp_path, complete_wait=0.0), environ={})
    svc = await Service.open(settings)
    try:
        yield svc
    finally:
        await svc.close()


def line(n: int, **changes: Any) -> bytes:
    """One encounter as a JSON Lines line."""
    return json.dumps(encounter(n, **changes)).encode() + b"\n"


async def recorded(svc: Service) -> list[str]:
    """The claim ids in the ledger."""
    return [r[0] for r in rows(svc, "SELECT claim_id FROM claims ORDER BY claim_id")]


def rows(svc: Service, query: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the service's SQLite ledger."""
    with sqlite3.connect(svc.settings.workspace.state / "gateway.db") as conn:
        return list(conn.execute(query))


async def test_an_invalid_utf8_line_is_kept_in_quarantine_and_counted(service: Service) -> None:
    """A JSON Lines file with one line that is not UTF-8: the good lines are recorded, the bad
    line is copied byte for byte into quarantine beside a report with its line number (both
    owner-only), and `gateway status` counts one unreadable encounter."""
    ws = service.settings.workspace
    bad = b'{"claim_id": "SVC-0002", "note": "caf\xe9"}\n'
    (ws.encounters_inbox / "day.jsonl").write_bytes(line(1) + bad + line(3))
    await service.run_once()
    assert ["SVC-0001", "SVC-0003"] == await recorded(service)
    assert bad == (ws.quarantine / "day.jsonl.unreadable.jsonl").read_bytes()
    report = json.loads((ws.quarantine / "day.jsonl.unreadable.jsonl.error.json").read_text())
    assert (1, [2]) == (report["unreadable_records"], report["lines"])
    assert ["E-FILE-ENCODING"] == [f["code"] for f in report["records"][0]["findings"]]
    assert 1 == (await service.ledger.status()).unreadable_records
    assert [] == list(ws.encounters_inbox.iterdir())
    for path in ws.quarantine.iterdir():
        assert 0o600 == stat.S_IMODE(path.stat().st_mode), path


async def test_deeply_nested_json_is_quarantined_and_the_good_encounters_go(
    service: Service,
) -> None:
    """A JSON array holding a record nested 100,000 levels deep: the file is not retried
    forever; the good encounters are recorded and the deep one is reported with its line."""
    ws = service.settings.workspace
    deep = b"[" * 100_000 + b"]" * 100_000
    data = b"[" + line(1) + b"," + deep + b",\n" + line(3) + b"]"
    (ws.encounters_inbox / "deep.json").write_bytes(data)
    await service.run_once()
    assert ["SVC-0001", "SVC-0003"] == await recorded(service)
    report = json.loads((ws.quarantine / "deep.json.unreadable.error.json").read_text())
    ((finding,),) = [r["findings"] for r in report["records"]]
    assert ("E-JSON-TOO-DEEP", 2) == (finding["code"], finding["line"])
    assert [] == list(ws.encounters_inbox.iterdir())
    assert 1 == (await service.ledger.status()).unreadable_records


BAD_IDS = ["A\nB", "A\u202eB", "../../x", "A/B", "A\x00B", "A" * 300]


async def test_claim_ids_outside_the_contract_never_enter_the_ledger(service: Service) -> None:
    """Claim ids with a newline, a text-direction override, path characters, NUL or 300
    characters are intake errors kept in quarantine, never claims; a 30-character id (in the
    contract, too long for payers) is an invalid claim with a correction file of its own name."""
    ws = service.settings.workspace
    lines = [line(1)] + [line(n, claim_id=bad) for n, bad in enumerate(BAD_IDS, start=2)]
    lines.append(line(99, claim_id="L" * 30))
    (ws.encounters_inbox / "ids.jsonl").write_bytes(b"".join(lines))
    await service.run_once()
    assert ["L" * 30, "SVC-0001"] == await recorded(service)
    claim = await service.ledger.claim("L" * 30)
    assert claim is not None
    assert S.INVALID == claim.state
    assert [f"{'L' * 30}.json"] == sorted(p.name for p in ws.corrections.iterdir())
    assert len(BAD_IDS) == (await service.ledger.status()).unreadable_records
    report = json.loads((ws.quarantine / "ids.jsonl.unreadable.jsonl.error.json").read_text())
    codes = {f["code"] for r in report["records"] for f in r["findings"]}
    assert "E-CLAIM-ID-FORMAT" in codes


async def test_a_claim_recorded_under_an_unsafe_id_still_gets_a_safe_correction_file(
    service: Service,
) -> None:
    """An open item whose claim id could not be a file name (recorded before the contract was
    enforced) still gets its correction file, under a derived name inside the folder."""
    ws = service.settings.workspace
    for n, bad in enumerate(["../up", "A\u202eB", "x" * 300], start=1):
        claim = IncomingClaim(
            claim_id=bad[:38] if n != 3 else f"LEGACY/{n}",
            kind="professional",
            partner="demo-clearinghouse",
            payer_id="P1",
            total_charge=0,  # type: ignore[arg-type]
            encounter={"claim_id": bad},
            findings=(Reason("E-CLAIM-ID-FORMAT", "bad id"),),
        )
        await service.ledger.record_claims([claim])
    await service.sync_corrections()
    names = sorted(p.name for p in ws.corrections.iterdir())
    assert 3 == len(names)
    assert all(n.startswith("claim_") and n.endswith(".json") for n in names)
    assert [] == [p for p in ws.corrections.parent.iterdir() if p.name.startswith("up")]


async def test_a_file_that_fails_every_time_is_quarantined_not_retried_forever(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error on every attempt puts the file back at most MAX_ATTEMPTS - 1 times;
    then it is quarantined with the error, and no longer in the inbox."""
    ws = service.settings.workspace

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("reader exploded")

    monkeypatch.setattr(encounter_intake, "read_batches", boom)
    (ws.encounters_inbox / "a.jsonl").write_bytes(line(1))
    for _ in range(pipeline.MAX_ATTEMPTS - 1):
        await service.run_once()
        assert ["a.jsonl"] == [p.name for p in ws.encounters_inbox.iterdir()]
    await service.run_once()
    assert [] == list(ws.encounters_inbox.iterdir())
    report = json.loads((ws.quarantine / "a.jsonl.error.json").read_text())
    assert "processing-failed" == report["error"]["code"]
    assert "reader exploded" in report["error"]["what"]


@pytest.mark.parametrize(
    ("name", "partial"),
    [
        ("a.jsonl", line(1) + line(2)[:40]),
        ("a.json", b"[" + line(1) + b","),
        ("b.json", b"[" + line(1)),
        ("a.xml", b'<?xml version="1.0"?>\n<encounters>\n  <encounter>\n'),
        ("empty.jsonl", b""),
    ],
)
async def test_a_file_whose_writer_paused_is_not_taken_until_complete(
    service: Service, name: str, partial: bytes
) -> None:
    """A settled file that is not complete (JSON Lines without its last newline, JSON or XML
    not closed, nothing written yet) stays in the inbox; once complete it is taken."""
    ws = service.settings.workspace
    path = ws.encounters_inbox / name
    path.write_bytes(partial)
    await service.run_once()
    assert [name] == [p.name for p in ws.encounters_inbox.iterdir()]
    assert [] == await recorded(service)
    path.write_bytes(line(1) + line(2) if name.endswith(".jsonl") else _whole(name))
    await service.run_once()
    assert [] == list(ws.encounters_inbox.iterdir())
    assert "SVC-0001" in await recorded(service)


def _whole(name: str) -> bytes:
    if name.endswith(".xml"):
        from gateway.encounters import encounter_to_xml
        from gateway.models import Encounter

        return encounter_to_xml(Encounter.model_validate(encounter(1)))
    return b"[" + line(1) + b"," + line(2) + b"]"


async def test_an_incomplete_file_is_taken_after_the_wait_and_its_tail_reported(
    impatient: Service,
) -> None:
    """Past complete_wait_seconds an incomplete file is taken as it is: its complete lines are
    recorded and the cut-off last line is kept in quarantine and counted."""
    ws = impatient.settings.workspace
    cut = line(2)[:40]
    (ws.encounters_inbox / "a.jsonl").write_bytes(line(1) + cut)
    await impatient.run_once()
    assert ["SVC-0001"] == await recorded(impatient)
    assert cut + b"\n" == (ws.quarantine / "a.jsonl.unreadable.jsonl").read_bytes()
    assert 1 == (await impatient.ledger.status()).unreadable_records


async def test_writes_into_a_file_after_it_was_taken_are_read_too(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that still holds the file open and writes more after the gateway took it: the
    file is read again and the later encounters are recorded too, none lost."""
    ws = service.settings.workspace
    path = ws.encounters_inbox / "a.jsonl"
    path.write_bytes(line(1))
    writer = path.open("ab")  # the writer's handle follows the file when it is claimed
    real = service.ledger.record_claims
    calls: list[int] = []

    async def write_meanwhile(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            writer.write(line(2))
            writer.flush()
        return await real(*args, **kwargs)

    monkeypatch.setattr(service.ledger, "record_claims", write_meanwhile)
    try:
        await service.run_once()
    finally:
        writer.close()
    assert ["SVC-0001", "SVC-0002"] == await recorded(service)
    archived = list(ws.archive.rglob("a.jsonl"))
    assert [line(1) + line(2)] == [p.read_bytes() for p in archived]


async def test_a_large_file_is_recorded_in_batches_and_a_failed_batch_is_resumed_once(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claims go to the ledger a batch at a time; a failure after some batches puts the file
    back, and the next attempt records the rest: every claim exactly once."""
    monkeypatch.setattr(intake, "BATCH_CLAIMS", 3)
    monkeypatch.setattr(encounter_intake, "read_batches", _small_batches)
    ws = service.settings.workspace
    (ws.encounters_inbox / "a.jsonl").write_bytes(b"".join(line(n) for n in range(1, 11)))
    real = service.ledger.record_claims
    sizes: list[int] = []

    async def fail_third(claims: list[IncomingClaim], **kwargs: Any) -> Any:
        sizes.append(len(claims))
        if len(sizes) == 3:
            raise OSError("disk I/O error")
        return await real(claims, **kwargs)

    monkeypatch.setattr(service.ledger, "record_claims", fail_third)
    await service.run_once()
    assert [3, 3, 3] == sizes
    assert ["a.jsonl"] == [p.name for p in ws.encounters_inbox.iterdir()]
    await service.run_once()
    assert [f"SVC-{n:04d}" for n in range(1, 11)] == await recorded(service)
    assert [(1,)] == rows(service, "SELECT DISTINCT current_version FROM claims")


def _small_batches(*args: Any, **kwargs: Any) -> Any:
    return intake.read_batches(*args, **{**kwargs, "size": intake.BATCH_CLAIMS})


async def test_writes_into_a_file_after_it_was_archived_are_read_too(service: Service) -> None:
    """A writer that still holds the file open writes more after the gateway archived it: the
    archive check reads it again, records the new encounter and does not record the first
    one twice."""
    ws = service.settings.workspace
    path = ws.encounters_inbox / "a.jsonl"
    path.write_bytes(line(1))
    with path.open("ab") as writer:  # the writer's handle follows the file into the archive
        await service.run_once()
        assert ["SVC-0001"] == await recorded(service)
        assert 0 == await service.recheck_archived()
        writer.write(line(2))
    assert 1 == await service.recheck_archived()
    assert ["SVC-0001", "SVC-0002"] == await recorded(service)
    assert [(1,)] == rows(service, "SELECT DISTINCT current_version FROM claims")
    assert 0 == service.stats.claims.get("duplicate", 0)
    assert [line(1) + line(2)] == [p.read_bytes() for p in ws.archive.rglob("a*.jsonl")]


async def test_an_incomplete_file_untouched_past_the_wait_is_taken_by_a_fresh_run(
    service: Service,
) -> None:
    """The wait is measured from the file's last modification, so a `gateway run --once` from
    cron (a fresh process each time) takes a file left incomplete longer than the wait."""
    ws = service.settings.workspace
    path = ws.encounters_inbox / "a.jsonl"
    path.write_bytes(line(1) + line(2)[:40])
    old = path.stat().st_mtime - service.settings.intake.complete_wait_seconds - 5
    os.utime(path, (old, old))
    await service.run_once()
    assert ["SVC-0001"] == await recorded(service)
    assert 1 == (await service.ledger.status()).unreadable_records


async def test_an_unreadable_encounter_with_a_claim_id_opens_an_item_with_file_and_line(
    service: Service,
) -> None:
    """An encounter whose claim id can be recovered but whose content cannot be read (nested too
    deep) becomes an invalid claim whose correction item says the line of the file."""
    ws = service.settings.workspace
    deep = {**encounter(2), "note": json.loads("[" * 70 + "]" * 70)}
    (ws.encounters_inbox / "a.jsonl").write_bytes(line(1) + json.dumps(deep).encode() + b"\n")
    await service.run_once()
    claim = await service.ledger.claim("SVC-0002")
    assert claim is not None
    assert S.INVALID == claim.state
    item = json.loads((ws.corrections / "SVC-0002.json").read_text())
    ((code, meaning),) = [(r["code"], r["meaning"]) for r in item["rejection"]["reasons"]]
    assert "E-JSON-TOO-DEEP" == code
    assert "line 2 of the file" in meaning
    assert "a.jsonl" in json.dumps(item)


async def test_a_broken_json_array_says_where_reading_stopped(service: Service) -> None:
    """A JSON array broken after its first encounter: the first is recorded, and the report
    says that reading stopped at the broken line (3), so the encounters after it are not lost in
    silence."""
    ws = service.settings.workspace
    broken = line(2).replace(b'"kind":', b'"kind";')
    data = b"[" + line(1) + b",\n" + broken + b",\n" + line(3) + b"]"
    (ws.encounters_inbox / "a.json").write_bytes(data)
    await service.run_once()
    assert ["SVC-0001"] == await recorded(service)
    report = json.loads((ws.quarantine / "a.json.unreadable.error.json").read_text())
    assert 3 == report["reading_stopped_at_line"]
    assert "Reading stopped at line 3" in report["what_to_do"]


async def test_a_file_the_service_died_on_again_and_again_is_quarantined(
    service: Service,
) -> None:
    """A file during which the service was killed MAX_ATTEMPTS times (the attempts are counted
    on disk, across restarts) is quarantined on the next start instead of killing it again."""
    ws = service.settings.workspace
    data = line(1)
    (ws.encounters_inbox / "a.jsonl").write_bytes(data)
    marker = ws.state / "intake" / f"{hashlib.sha256(data).hexdigest()}.attempts"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(pipeline.MAX_ATTEMPTS))
    await service.run_once()
    assert [] == await recorded(service)
    report = json.loads((ws.quarantine / "a.jsonl.error.json").read_text())
    assert "processing-failed" == report["error"]["code"]
    assert "stopped 3 times" in report["error"]["what"]
    assert not marker.exists()


async def test_a_file_taken_after_one_kill_leaves_no_attempt_marker(service: Service) -> None:
    """One earlier attempt (a kill) does not stop the file: it is recorded and its attempt
    marker removed."""
    ws = service.settings.workspace
    data = line(1)
    (ws.encounters_inbox / "a.jsonl").write_bytes(data)
    marker = ws.state / "intake" / f"{hashlib.sha256(data).hexdigest()}.attempts"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("1")
    await service.run_once()
    assert ["SVC-0001"] == await recorded(service)
    assert [] == list(marker.parent.iterdir())
