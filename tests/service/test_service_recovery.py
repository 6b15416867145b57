"""Recovery never stops a worker: intents another worker settled meanwhile are logged no-ops, and
another worker's staged 837 is taken over only when that worker is dead (or, untracked, late)."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import SubmissionRecord
from gateway.ledger.testing import fresh_postgres_database, postgres_available
from gateway.ledger.workers import WorkerPresence
from gateway.service.pipeline import Service
from tests.support.service import (
    outbox,
    stage,
    status_of,
    write_config,
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
S = ClaimState


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    """A service over a fresh workspace, its ledger on SQLite or a fresh PostgreSQL database."""
    config = write_config(tmp_path)
    if request.param == "sqlite":
        svc = await Service.open(load_settings(config, environ={}))
        try:
            yield svc
        finally:
            await svc.close()
        return
    if not await postgres_available():
        if IN_CI:
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    async with fresh_postgres_database() as url:
        svc = await Service.open(load_settings(config, environ={"GATEWAY_LEDGER_URL": url}))
        try:
            yield svc
        finally:
            await svc.close()


class FakePresence(WorkerPresence):
    """Presence as PostgreSQL would report it, with the answer chosen by the test."""

    def __init__(self, answer: bool) -> None:
        super().__init__("w1", None, None)
        self.answer = answer

    async def alive(self, worker_ids: Iterable[str]) -> dict[str, bool | None]:
        """Every asked worker is alive (or dead) as the test chose."""
        return dict.fromkeys(worker_ids, self.answer)


def stale_snapshot(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next reading of the submissions shows every one still as an intent, as a reading
    taken a moment before another worker settled them would."""
    real = svc.ledger.submissions
    calls = {"n": 0}

    async def submissions(*, status: str | None = None) -> list[SubmissionRecord]:
        calls["n"] += 1
        rows = await real()
        if calls["n"] == 1:
            return [
                SubmissionRecord(
                    r.id, r.partner, r.kind, r.isa13, r.file_name, "intent", r.created_at, None
                )
                for r in rows
            ]
        return [r for r in rows if status is None or r.status == status]

    monkeypatch.setattr(svc.ledger, "submissions", submissions)


async def test_abandoning_an_intent_another_worker_just_submitted_is_a_logged_no_op(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other worker archived its file and recorded success after recovery read its intent:
    abandoning it fails in the ledger, and recovery goes on with the submission left submitted."""
    name, submission_id = await stage(service, "other")
    await service.ledger.record_submission_success(submission_id)
    (service.submitter.outgoing_root / "other" / name).unlink()  # archived by the other worker
    service.submitter.takeover_seconds = 0.0
    stale_snapshot(service, monkeypatch)
    await service.recover()
    assert "submitted" == await status_of(service, submission_id)
    assert 0 == service.submitter.stats.abandoned
    claim = await service.ledger.claim("SVC-0001")
    assert claim is not None
    assert S.SUBMITTED == claim.state


async def test_a_staged_file_whose_intent_was_settled_meanwhile_is_not_sent_again(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker's late file, submitted by it after recovery read the intents: taken over,
    found settled on a second reading, archived and never handed over again."""
    _, submission_id = await stage(service, "other")
    await service.ledger.record_submission_success(submission_id)
    service.submitter.takeover_seconds = 0.0
    stale_snapshot(service, monkeypatch)
    await service.submitter.finish_staged()
    assert [] == outbox(service)
    assert [] == list((service.submitter.outgoing_root / "other").iterdir())
    assert "submitted" == await status_of(service, submission_id)


async def test_success_on_an_intent_abandoned_meanwhile_does_not_stop_recovery(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This worker's own staged file, whose intent was abandoned after recovery read it: the
    ledger refuses the success, recovery logs it and carries on; the claims stay queued."""
    _, submission_id = await stage(service, service.worker_id)
    await service.ledger.abandon_submission(submission_id, "test")
    stale_snapshot(service, monkeypatch)
    await service.submitter.finish_staged()
    assert "abandoned" == await status_of(service, submission_id)
    claim = await service.ledger.claim("SVC-0001")
    assert claim is not None
    assert S.QUEUED == claim.state


@pytest.mark.parametrize(
    ("alive", "takeover_seconds", "taken"),
    [
        (True, 0.0, False),  # alive, however late: its own retry sends it
        (False, 3600.0, True),  # dead: taken over at once, no takeover time to wait
        (None, 3600.0, False),  # untracked and recent: may still be working on it
        (None, 0.0, True),  # untracked and late: taken over as before
    ],
)
async def test_another_workers_staged_file_is_taken_only_when_it_is_dead_or_late(
    service: Service, alive: bool | None, takeover_seconds: float, taken: bool
) -> None:
    """Presence decides for another worker's staged file; without it, the takeover time does."""
    name, submission_id = await stage(service, "other")
    service.submitter.takeover_seconds = takeover_seconds
    service.submitter.presence = None if alive is None else FakePresence(alive)
    await service.submitter.finish_staged()
    assert ([name] if taken else []) == outbox(service)
    assert ("submitted" if taken else "intent") == await status_of(service, submission_id)
    left = sorted(p.name for p in (service.submitter.outgoing_root / "other").iterdir())
    assert ([] if taken else [name]) == left
