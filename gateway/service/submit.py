"""The batcher and submitter: queued claims into 837 files, handed to the clearinghouse once.

``Submitter.flush()`` looks at the claims waiting per (trading partner, kind of claim) and sends a
batch when ``max_claims`` are waiting or the oldest has waited ``max_wait_seconds`` (``force``
sends whatever waits, for ``gateway run --once``). One batch, write-ahead (DESIGN.md section 7):

1. lease the claims (``Ledger.lease_queued_claims``: safe across workers), build the 837 off the
   event loop with control numbers from the ledger, check it with our TR3 validator; claims the
   builder or the validator refuses become ``invalid`` with a correction item;
2. stage the file: written atomically and owner-only to ``<state>/outgoing/<worker>/``;
3. record the intent (claims become ``batched``);
4. hand the staged bytes to the partner's transport (``put``);
5. record the success (claims become ``submitted``), then archive the staged copy.

``finish_staged()`` (on start and whenever a hand-over failed) settles what a crash or a transport
failure left: a staged file without an intent was never recorded (removed: its claims are still
queued), a staged file with an intent is handed over again (the same name and bytes, so the
clearinghouse sees the same interchange, never a second one) and recorded, and an intent whose
staged file is gone (lost with a disk, removed by hand) is abandoned once it is older than
``takeover_seconds`` (its claims go back to the queue). Files staged by another worker are left to
it unless that worker is known to be dead (``presence``, PostgreSQL) or, where presence is not
tracked (SQLite), their intent is older than ``takeover_seconds``; such a file is first moved into
this worker's folder (an atomic rename: one taker only) and its intent read again. Recovery never
stops a worker: an intent another worker finished meanwhile is a logged no-op.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from gateway.ledger.control_numbers import LedgerControlNumbers
from gateway.ledger.correction_rules import reasons_from_findings
from gateway.ledger.records import QueuedClaim, Reason, SubmissionRecord
from gateway.ledger.store import Ledger, LedgerError
from gateway.ledger.submissions import intent_from_sent
from gateway.ledger.workers import WorkerPresence
from gateway.models import Encounter, Kind
from gateway.partners import Partners
from gateway.service.files import (
    CRASH_VARIABLE,
    archive_file,
    atomic_write,
    crash_point,
    ensure_private_dir,
    is_candidate_name,
    move_no_overwrite,
)
from gateway.service.transport_health import TransportHealth
from gateway.service.transports import Transport, TransportError
from gateway.transactions.batching import BuiltInterchange
from gateway.transactions.claim837 import InterchangeSent, build_837
from gateway.validation.validator import ValidationResult, validate
from gateway.x12 import Defect, Severity

__all__ = [
    "CRASH_VARIABLE",
    "KIND_LABEL",
    "SubmitStats",
    "Submitter",
    "crash_point",
    "file_name_for",
]

#: How often the service looks at staged files waiting for a hand-over. Whether one is tried
#: is up to the transport's back-off (``TransportHealth``): 5 s after a first failure, doubling.
RETRY_SECONDS = 5.0
KIND_LABEL = {kind: kind.label for kind in Kind}
_KINDS = (Kind.PROFESSIONAL, Kind.INSTITUTIONAL)


def file_name_for(sent: InterchangeSent) -> str:
    """``<partner>-<837P|837I>-<ISA13>.x12``: unique, since ISA13 is never reused per partner."""
    return f"{sent.partner}-{KIND_LABEL[sent.kind]}-{sent.isa13}.x12"


@dataclass
class SubmitStats:
    """What the submitter did since it started (for reports and tests)."""

    interchanges: int = 0
    claims: int = 0
    invalid: int = 0
    resent: int = 0
    abandoned: int = 0
    failures: int = 0


@dataclass
class Submitter:
    """Batches, builds, checks, stages and hands over 837 files (see the module docstring)."""

    ledger: Ledger
    partners: Partners
    transports: Mapping[str, Transport]
    outgoing_root: Path
    archive_root: Path
    worker_id: str
    max_claims: int
    max_wait_seconds: float
    lease_seconds: float = 300.0
    takeover_seconds: float = 600.0
    clock: Callable[[], float] = time.monotonic
    #: Which workers are alive (PostgreSQL); ``None`` or untracked: the takeover time decides.
    presence: WorkerPresence | None = None
    stats: SubmitStats = field(default_factory=SubmitStats)
    #: Each partner's transport health (shared with the pull loop); made here when not given.
    health: dict[str, TransportHealth] = field(default_factory=dict)
    _since: dict[tuple[str, Kind], float] = field(default_factory=dict)
    _log: Any = field(default_factory=lambda: structlog.stdlib.get_logger("gateway.submit"))

    @property
    def outgoing(self) -> Path:
        """This worker's staging folder."""
        return self.outgoing_root / self.worker_id

    # ------------------------------------------------------------------ batching

    async def flush(self, *, force: bool = False, stop: asyncio.Event | None = None) -> int:
        """Send every batch that is due (all that wait with ``force``); returns files sent."""
        sent = 0
        for partner in self.partners:
            for kind in _KINDS:
                while stop is None or not stop.is_set():
                    if not await self._due(partner.name, kind, force):
                        break
                    leased = await self.ledger.lease_queued_claims(
                        self.worker_id,
                        limit=self.max_claims,
                        lease_seconds=self.lease_seconds,
                        partner=partner.name,
                        kind=str(kind),
                    )
                    if not leased:
                        break
                    sent += await self._batch(leased)
        return sent

    def _health(self, partner: str) -> TransportHealth:
        found = self.health.get(partner)
        if found is None:
            found = self.health[partner] = TransportHealth(self._transport(partner), (partner,))
        return found

    async def _due(self, partner: str, kind: Kind, force: bool) -> bool:
        if partner in self.transports and not self._health(partner).ready():
            return False  # its transport is failing: the staged files go first, after the wait
        key = (partner, kind)
        # A count and an age only: the claims themselves are read when leased.
        waiting, _oldest = await self.ledger.queued_summary(
            partner=partner, kind=str(kind), limit=self.max_claims
        )
        if not waiting:
            self._since.pop(key, None)
            return False
        now = self.clock()
        since = self._since.setdefault(key, now)
        if force or waiting >= self.max_claims or now - since >= self.max_wait_seconds:
            self._since.pop(key, None)
            return True
        return False

    async def _batch(self, leased: Sequence[QueuedClaim]) -> int:
        """Build, check, stage and send one batch of leased claims; returns files sent."""
        encounters: list[Encounter] = []
        for queued in leased:
            try:
                encounters.append(Encounter.model_validate(dict(queued.encounter)))
            except ValidationError as exc:
                reason = Reason(
                    "E-CONTRACT",
                    f"the stored encounter no longer follows the contract ({exc.error_count()} "
                    "error(s))",
                    "",
                    "correct the encounter and resubmit it",
                )
                await self._invalid(queued.claim_id, (reason,), "the encounter could not be read")
        if not encounters:
            return 0
        allocator = LedgerControlNumbers.for_running_loop(self.ledger)
        created = datetime.now(UTC)
        result = await asyncio.to_thread(
            build_837, encounters, self.partners, allocator, created=created
        )
        for left in result.left_out:
            await self._invalid(left.claim_id, reasons_from_findings([left]), "the 837 builder")
        sent = 0
        for built in result.interchanges:
            if await self._check_and_send(built):
                sent += 1
        return sent

    async def _check_and_send(self, built: BuiltInterchange) -> bool:
        sent = built.sent
        name = file_name_for(sent)
        log = self._log.bind(
            file=name, partner=sent.partner, isa13=sent.isa13, gs06=sent.gs06, worker=self.worker_id
        )
        check = await asyncio.to_thread(validate, built.data, file=name)
        if not check.ok:
            refused = await self._refuse(sent, check)
            log.error(
                "837 failed the TR3 check; claims sent to the correction queue",
                defects=len(check.defects),
                first=str(check.defects[0].code) if check.defects else None,
                claims_refused=refused,
            )
            return False
        # 2. stage; 3. intent; 4. hand over; 5. success (see the module docstring).
        staged = self.outgoing / name
        await asyncio.to_thread(ensure_private_dir, self.outgoing)
        await asyncio.to_thread(atomic_write, staged, built.data, overwrite=False)
        crash_point("after-stage")
        submission_id = await self.ledger.record_submission_intent(intent_from_sent(sent, name))
        for tx in sent.transactions:
            for claim in tx.claims:
                log.info("claim batched", claim_id=claim.claim_id, st02=tx.st02)
        log.info("interchange staged", claims=sent.claim_count, sets=len(sent.transactions))
        self.stats.claims += sent.claim_count
        crash_point("after-intent")
        return await self._hand_over(
            submission_id, name, built.data, staged, sent.partner, KIND_LABEL[sent.kind]
        )

    async def _refuse(self, sent: InterchangeSent, check: ValidationResult) -> int:
        """Claims of the sets the validator rejected (every claim, for envelope errors) become
        invalid; the others stay queued and go in the next file."""
        rejected_sets = {s.control: s for s in check.sets if not s.accepted}
        envelope = [
            d
            for i in check.interchanges
            for d in (*i.defects, *(gd for g in i.groups for gd in g.defects))
        ]
        everything = not rejected_sets and not envelope  # failed, but nowhere in particular
        count = 0
        for tx in sent.transactions:
            found = rejected_sets.get(tx.st02)
            if found is None and not envelope and not everything:
                continue
            defects = list(found.defects if found is not None else ()) + envelope
            if everything:
                defects = [d for d in check.defects if d.severity is Severity.ERROR]
            reasons = tuple(_reason(d) for d in defects[:20])
            for claim in tx.claims:
                await self._invalid(claim.claim_id, reasons, f"TR3 check of {file_name_for(sent)}")
                count += 1
        return count

    async def _invalid(self, claim_id: str, reasons: Sequence[Reason], cause: str) -> None:
        try:
            await self.ledger.mark_invalid(claim_id, reasons, cause=cause)
        except LedgerError as exc:
            self._log.error("claim not marked invalid", claim_id=claim_id, error=str(exc))
            return
        self.stats.invalid += 1
        self._log.warning(
            "claim refused before sending",
            claim_id=claim_id,
            cause=cause,
            reason=reasons[0].code if reasons else None,
        )

    # ------------------------------------------------------------------ handing over

    def _transport(self, partner: str) -> Transport:
        transport = self.transports.get(partner)
        if transport is None:
            raise TransportError(f"partner {partner}: no transport is configured")
        return transport

    async def _hand_over(
        self, submission_id: int, name: str, data: bytes, staged: Path, partner: str, kind: str
    ) -> bool:
        log = self._log.bind(file=name, partner=partner, submission=submission_id)
        try:
            transport = self._transport(partner)
        except TransportError as exc:
            self.stats.failures += 1
            log.error("hand-over failed; the staged file is sent again later", error=str(exc))
            return False
        health = self._health(partner)
        if not health.ready():
            return False  # backing off after a failure: the staged file waits for the next try
        try:
            await transport.put(name, data)
        except TransportError as exc:
            self.stats.failures += 1
            delay = await health.failed(exc)  # logs once per change of the transport's state
            log.debug(
                "hand-over failed; the staged file is sent again later",
                error=str(exc),
                retry_in_seconds=delay,
            )
            return False
        await health.succeeded()
        crash_point("after-put")
        digest = hashlib.sha256(data).hexdigest()
        record = await self.ledger.record_file(
            digest, name, kind, "out", status="sent", size=len(data)
        )
        try:
            await self.ledger.record_submission_success(submission_id, file_id=record.id)
        except LedgerError as exc:  # settled meanwhile by another worker: never a crash
            log.error("handed over, but the submission was already settled", error=str(exc))
            return False
        crash_point("after-success")
        try:
            archived = await asyncio.to_thread(archive_file, staged, self.archive_root)
        except FileNotFoundError:  # another worker took the staged file over meanwhile
            log.warning("staged file gone before archiving (taken over by another worker)")
        else:
            await self.ledger.update_file(record.id, status="sent", archive_path=str(archived))
        self.stats.interchanges += 1
        log.info("interchange submitted", transport=self._transport(partner).label)
        return True

    # ------------------------------------------------------------------ recovery

    async def finish_staged(self) -> int:
        """Settle staged files and intents left by a crash or a failed hand-over (see module).

        Returns how many interchanges were handed over now.
        """
        staged_everywhere = await asyncio.to_thread(self._staged_files)
        intents = await self.ledger.submissions(status="intent")
        by_name = {s.file_name: s for s in intents}
        staged_names = {n for files in staged_everywhere.values() for n in files}
        if staged_names - set(by_name):  # staged files whose intent is not open: look them up
            by_name = {s.file_name: s for s in await self.ledger.submissions()}
        handed = 0
        now = datetime.now(UTC)
        others = [w for w, files in staged_everywhere.items() if w != self.worker_id and files]
        alive: dict[str, bool | None] = {}
        if self.presence is not None and others:
            alive = await self.presence.alive(others)
        for worker, files in staged_everywhere.items():
            for name, path in sorted(files.items()):
                record = by_name.get(name)
                if worker != self.worker_id:
                    if record is None or record.status != "intent":
                        continue  # its worker is between staging and intent, or finishing it
                    if not self._may_take_over(alive.get(worker), record, now):
                        continue  # another worker's file, and that worker may be alive
                    taken = await self._take_over(path, worker, record)
                    if taken is None:
                        continue
                    path, record = taken
                try:
                    handed += await self._settle(path, record)
                except LedgerError as exc:  # settled meanwhile by another worker
                    self._log.warning(
                        "staged file not settled: its submission changed meanwhile",
                        file=name,
                        error=str(exc),
                    )
        for record in intents:
            if record.file_name in staged_names:
                continue
            if (now - record.created_at).total_seconds() < self.takeover_seconds:
                continue  # another worker may be between its staging and its intent right now
            try:
                await self.ledger.abandon_submission(
                    record.id, "its staged file is gone: it was never handed over"
                )
            except LedgerError as exc:  # finished meanwhile by the worker that wrote it
                self._log.info(
                    "open submission settled meanwhile by its worker; left as it is",
                    file=record.file_name,
                    error=str(exc),
                )
                continue
            self.stats.abandoned += 1
            self._log.warning(
                "submission abandoned; its claims are queued again",
                file=record.file_name,
                isa13=record.isa13,
            )
        return handed

    def _may_take_over(self, alive: bool | None, record: SubmissionRecord, now: datetime) -> bool:
        """Another worker's staged file: taken when that worker is known dead, or (presence not
        tracked) when its intent is older than ``takeover_seconds``."""
        if alive is not None:
            return not alive
        return (now - record.created_at).total_seconds() >= self.takeover_seconds

    async def _take_over(
        self, path: Path, worker: str, record: SubmissionRecord
    ) -> tuple[Path, SubmissionRecord] | None:
        """Move another worker's staged file into this worker's folder (one taker only) and read
        its intent again; ``None`` when someone else took it or it was settled meanwhile."""
        target = self.outgoing / path.name
        await asyncio.to_thread(ensure_private_dir, self.outgoing)
        try:
            await asyncio.to_thread(os.rename, path, target)
        except FileNotFoundError:
            return None  # taken or archived meanwhile
        current = {s.id: s for s in await self.ledger.submissions(status="intent")}.get(record.id)
        self._log.warning(
            "taking over a staged file another worker left", file=path.name, from_worker=worker
        )
        if current is None:  # settled meanwhile: archive or set aside, never send again
            fresh = {s.id: s for s in await self.ledger.submissions()}.get(record.id)
            if fresh is not None:
                await self._settle(target, fresh)
            return None
        return target, current

    async def _settle(self, path: Path, record: SubmissionRecord | None) -> int:
        log = self._log.bind(file=path.name)
        if record is None:
            # Staged, never recorded: nothing was sent; its claims are still queued.
            await asyncio.to_thread(path.unlink)
            log.info("staged file without an intent removed; its claims stay queued")
            return 0
        if record.status == "submitted":
            await asyncio.to_thread(archive_file, path, self.archive_root)
            return 0
        if record.status == "abandoned":
            await asyncio.to_thread(_set_aside, path, self.archive_root)
            return 0
        data = await asyncio.to_thread(path.read_bytes)
        if await self._hand_over(record.id, path.name, data, path, record.partner, record.kind):
            self.stats.resent += 1
            return 1
        return 0

    def _staged_files(self) -> dict[str, dict[str, Path]]:
        found: dict[str, dict[str, Path]] = {}
        if not self.outgoing_root.is_dir():
            return found
        for folder in self.outgoing_root.iterdir():
            if not folder.is_dir() or folder.is_symlink():
                continue
            files = {
                p.name: p
                for p in folder.iterdir()
                if is_candidate_name(p.name) and p.is_file() and not p.is_symlink()
            }
            found[folder.name] = files
        return found

    def pending(self) -> bool:
        """Whether a staged file waits to be handed over (a transport failed earlier)."""
        try:
            return any(is_candidate_name(n) for n in os.listdir(self.outgoing))
        except FileNotFoundError:
            return False


def _set_aside(path: Path, archive_root: Path) -> Path:
    """Keep a staged file that was never sent in the archive, named ``*.not-sent``."""
    moment = datetime.now(UTC).astimezone()
    folder = archive_root / f"{moment:%Y}" / f"{moment:%m}" / f"{moment:%d}"
    return move_no_overwrite(path, folder, path.name + ".not-sent")


def _reason(defect: Defect) -> Reason:
    return Reason(str(defect.code), defect.message, str(defect.location), defect.hint)
