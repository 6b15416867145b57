"""The gateway service: inbox to clearinghouse and back, as one long-running async process.

``Service`` ties the parts together around one ledger; each part is a module of its own:
``custody`` (processing folders, archive, quarantine, refusals, housekeeping),
``encounter_intake``, ``response_intake`` and ``recovery`` (recovery and take-over); this module
composes them and runs the loops.

- **intake**: a complete encounter file (settled, and ending where its format says:
  ``gateway.encounters.completeness``) is claimed by atomic rename into this worker's processing
  folder, hashed as a stream (the same content twice is a duplicate: archived, reported, not billed
  again), read and scrubbed off the event loop (``gateway.service.intake``) and recorded a batch at
  a time (``Ledger.record_claims``: clean claims queued, claims with errors invalid with a
  correction item, a claim id already in flight reported as a duplicate). Encounters that cannot
  be claims leave a quarantine record (``gateway.service.unreadable``); a file written to after it
  was taken is read again; a file that fails ``MAX_ATTEMPTS`` times is quarantined. A correction
  document from ``corrections/`` dropped back in resubmits its claim by the rules of
  ``gateway.ledger.correction_rules``.
- **batching and submission**: ``gateway.service.submit.Submitter`` (write-ahead, exactly once).
- **responses**: pulled from each partner's transport into the responses inbox, claimed, checked
  in one streamed pass (``gateway.service.responses``: complete envelopes, 835 balancing, TR3),
  posted in a second (``gateway.service.posting``: batches, idempotent by content hash) and
  archived; a file that holds no readable response is quarantined beside its ``.error.json``;
  an incomplete one, or one with 835 sets out of balance, is held there instead (nothing, or
  only its balanced sets, applied) and counted by ``gateway status``.
- **recovery** on start: files this worker had claimed are processed again (the ledger makes that
  harmless), staged 837s and submission intents are settled (``Submitter.finish_staged``).
- **presence** on PostgreSQL (``gateway.ledger.workers``): the worker id is held while the service
  is open, so a second process with the same id is refused (``WorkerIdInUseError``), and the work
  of a worker known to be dead is taken over at once instead of after ``takeover_seconds``. On
  every ledger, ``state/workers/<id>.lock`` is held (``flock``) for the life of the process, so a
  second process with the same id on the same workspace is refused the same way.
- **housekeeping** on start and every ``HOUSEKEEPING_SECONDS``: the gateway's own temp files a
  crash left are finished (a file left under its final and its temp name loses the temp name) or,
  once older than ``ORPHAN_TEMP_SECONDS``, removed; inbox entries the gateway will never take
  (symlinks, hard links, abandoned dotfiles) are reported once (log and a ``refused`` files row,
  counted by ``gateway status``) and quarantined where that is safe (``files.find_refused``).

Every file ends in ``archive/YYYY/MM/DD/`` or in ``quarantine/``; nothing is deleted. Each step
logs one event with the file, claim ids and control numbers bound (PHI is redacted by
``gateway.logs``). ``run(stop)`` works until ``stop`` is set, finishing the step in flight;
``run_once()`` drains what is waiting and returns (``gateway run --once``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import structlog

from gateway.config import ConfigError, Settings
from gateway.encounters.completeness import looks_complete
from gateway.ledger.correction_rules import QueueRuleError
from gateway.ledger.records import FileRecord
from gateway.ledger.resubmission import resubmit_claim
from gateway.ledger.store import Ledger, UnknownClaimError
from gateway.ledger.workers import WorkerPresence
from gateway.partners import Partners
from gateway.service.correction_files import sync_correction_files
from gateway.service.custody import (
    HOUSEKEEPING_SECONDS,
    MAX_ATTEMPTS,
    ORPHAN_TEMP_SECONDS,
    Inbox,
    ServiceStats,
)
from gateway.service.encounter_intake import EncounterIntake
from gateway.service.files import (
    ClaimedFile,
    FileProblem,
    FileState,
    claim_file,
    ensure_private_dir,
    file_state,
    release_claimed,
)
from gateway.service.intake import ParsedEncounters
from gateway.service.intake_files import file_ends
from gateway.service.recovery import (
    TAKEOVER_CHECK_SECONDS,
    Recovery,
    lock_worker,
    register_worker,
)
from gateway.service.response_intake import ResponseIntake
from gateway.service.submit import RETRY_SECONDS, Submitter, crash_point
from gateway.service.transport_health import TransportHealth
from gateway.service.transports import (
    DirectoryTransport,
    Transport,
    transport_from_config,
)
from gateway.service.watch import InboxWatcher

__all__ = [
    "DEFAULT_WORKER_ID",
    "HOUSEKEEPING_SECONDS",
    "MAX_ATTEMPTS",
    "ORPHAN_TEMP_SECONDS",
    "Service",
    "ServiceStats",
    "check_worker_id",
    "open_transports",
]

DEFAULT_WORKER_ID = "main"
_WORKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def check_worker_id(worker_id: str) -> str:
    """``worker_id`` when it is a plain name (it names folders), else ``ValueError``."""
    if not _WORKER_ID.match(worker_id):
        raise ValueError(
            f"worker id {worker_id!r}: use 1-40 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return worker_id


def open_transports(settings: Settings, partners: Partners) -> dict[str, Transport]:
    """One transport per partner from its ``[transport]`` table (``ConfigError`` when wrong)."""
    transports: dict[str, Transport] = {}
    for partner in partners:
        source = str(partner.source) if partner.source else f"partner {partner.name}"
        base = partner.source.parent if partner.source else settings.partners_dir
        transports[partner.name] = transport_from_config(
            partner.transport,
            workspace=settings.workspace,
            base_dir=base,
            source=source,
            max_bytes=settings.intake.max_response_bytes,
        )
    return transports


class Service(EncounterIntake, ResponseIntake, Recovery):
    """The gateway service over one ledger (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        partners: Partners,
        transports: Mapping[str, Transport],
        *,
        worker_id: str = DEFAULT_WORKER_ID,
        today: Callable[[], date] = date.today,
        lease_seconds: float = 300.0,
        presence: WorkerPresence | None = None,
    ) -> None:
        self.settings = settings
        self.presence = presence
        self.ledger = ledger
        self.partners = partners
        self.transports = dict(transports)
        self.worker_id = check_worker_id(worker_id)
        self.today = today
        self.cpt = settings.codes.load_cpt()  # the practice's CPT list, when configured
        self.stats = ServiceStats()
        # One health per transport (partners may share one), for the submitter and the pull.
        by_label: dict[str, TransportHealth] = {}
        for transport in self._unique_transports():
            label = transport.label
            served = tuple(sorted(p for p, t in self.transports.items() if t.label == label))
            by_label[transport.label] = TransportHealth(
                transport, served, record=ledger.record_transport_state
            )
        self.health = {p: by_label[t.label] for p, t in self.transports.items()}
        ws = settings.workspace
        self.submitter = Submitter(
            ledger=ledger,
            partners=partners,
            transports=self.transports,
            outgoing_root=ws.state / "outgoing",
            archive_root=ws.archive,
            worker_id=self.worker_id,
            max_claims=settings.batching.max_claims,
            max_wait_seconds=settings.batching.max_wait_seconds,
            lease_seconds=lease_seconds,
            presence=presence,
            health=dict(self.health),
        )
        self._corrections_dirty = True
        self._corrections_lock = asyncio.Lock()
        self._failures: dict[tuple[str, str], int] = {}  # (inbox, name) -> failed attempts
        self._incomplete: dict[Path, FileState] = {}  # incomplete files, as last reported
        self._archived: dict[Path, tuple[FileState, float, str]] = {}  # watched until, name
        #: The descriptor holding ``state/workers/<id>.lock`` (``Service.open``).
        self.worker_lock: int | None = None
        #: Refusals already handled in this process: (path, reason, identity, quarantine).
        self._refusals_seen: set[tuple[Path, str, tuple[int, int, int], bool]] = set()

    @classmethod
    async def open(cls, settings: Settings, *, worker_id: str = DEFAULT_WORKER_ID) -> Service:
        """Create the workspace, open the ledger, load partners and their transports."""
        settings.workspace.create()
        worker_id = check_worker_id(worker_id)
        lock = await asyncio.to_thread(lock_worker, settings, worker_id)
        try:
            return await cls._open(settings, worker_id, lock)
        except BaseException:
            if lock is not None:
                os.close(lock)
            raise

    @classmethod
    async def _open(cls, settings: Settings, worker_id: str, lock: int | None) -> Service:
        partners = settings.load_partners()
        if not len(partners):
            raise ConfigError(str(settings.partners_dir), "", "holds no trading partner (*.toml)")
        transports = open_transports(settings, partners)
        for transport in transports.values():
            if isinstance(transport, DirectoryTransport):
                for folder in (transport.pickup_dir, transport.drop_dir):
                    if folder is not None:
                        await asyncio.to_thread(ensure_private_dir, folder)
        ledger = await Ledger.open(settings.ledger_url)
        try:
            presence = await register_worker(settings.ledger_url, check_worker_id(worker_id))
        except BaseException:
            await ledger.close()
            raise
        service = cls(
            settings, ledger, partners, transports, worker_id=worker_id, presence=presence
        )
        service.worker_lock = lock
        return service

    async def close(self) -> None:
        """Give back claim leases, close transports and the ledger."""
        with contextlib.suppress(Exception):
            await self.ledger.release_leases(self.worker_id)
        for transport in self._unique_transports():
            with contextlib.suppress(Exception):
                await transport.close()
        if self.presence is not None:
            with contextlib.suppress(Exception):
                await self.presence.close()
        await self.ledger.close()
        lock, self.worker_lock = self.worker_lock, None
        if lock is not None:
            os.close(lock)

    async def take(self, path: Path) -> bool:
        """Claim ``path`` from its inbox and process it; False when another worker took it."""
        inbox = self._inbox_of(path)
        if inbox is None:
            return False
        if inbox == "encounters" and not await self._complete(path):
            return False
        claimed = await asyncio.to_thread(claim_file, path, self.processing_dir(inbox))
        if claimed is None:
            return False
        crash_point("after-claim")
        await self.process(claimed, inbox)
        return True

    async def _complete(self, path: Path) -> bool:
        """Whether a settled encounter file may be taken: it looks complete (``looks_complete``),
        or it has looked incomplete and unmodified for ``complete_wait_seconds`` (by its mtime, so
        that runs of ``gateway run --once`` agree): then it is taken as it is, with a warning, and
        what cannot be read is reported and quarantined."""
        state = await asyncio.to_thread(file_state, path)
        if state is None:
            return False
        ends = await asyncio.to_thread(file_ends, path)
        if ends is None:
            return False
        if looks_complete(path.name, *ends):
            self._incomplete.pop(path, None)
            return True
        waited = time.time() - state.mtime_ns / 1e9
        limit = self.settings.intake.complete_wait_seconds
        if waited < limit:
            if self._incomplete.get(path) != state:  # said once per state of the file
                self._incomplete[path] = state
                self._log.info(
                    "encounter file not complete yet (its writer may have paused); waiting",
                    file=path.name,
                    up_to_seconds=limit,
                )
            return False
        self._incomplete.pop(path, None)
        self._log.warning(
            "encounter file still incomplete; taken as it is (what cannot be read is reported)",
            file=path.name,
            unmodified_seconds=round(waited, 1),
        )
        return True

    async def process(self, claimed: ClaimedFile, inbox: Inbox, *, resumed: bool = False) -> None:
        """Process a claimed file; on an unexpected error put it back for a later attempt."""
        with structlog.contextvars.bound_contextvars(file=claimed.name, worker=self.worker_id):
            try:
                if inbox == "encounters":
                    await self._encounters(claimed, resumed)
                else:
                    await self._response(claimed, resumed)
            except Exception as exc:
                key = (inbox, claimed.name)
                attempts = self._failures[key] = self._failures.get(key, 0) + 1
                if attempts >= MAX_ATTEMPTS and await self._give_up(claimed, inbox, exc, attempts):
                    del self._failures[key]
                    return
                try:
                    back = await asyncio.to_thread(release_claimed, claimed)
                except OSError as error:
                    self._log.exception(
                        "file not processed; it could not be put back in the inbox",
                        error=str(exc), release_error=str(error), at=str(claimed.path),
                        attempt=attempts,
                    )  # fmt: skip
                else:
                    self._log.exception(
                        "file not processed; it goes back to the inbox", error=str(exc),
                        back_as=back.name, attempt=attempts, quarantined_after=MAX_ATTEMPTS,
                    )  # fmt: skip
            else:
                self._failures.pop((inbox, claimed.name), None)

    async def _correction(
        self, claimed: ClaimedFile, parsed: ParsedEncounters, record: FileRecord
    ) -> None:
        """A correction file back from staff: resubmitted by the queue's rules, or quarantined
        with what is still wrong (so the edits are not lost)."""
        correction = parsed.correction
        assert correction is not None
        log = self._log.bind(claim_id=correction.claim_id)

        def frequency_1_only(partner: str) -> bool:
            try:
                return self.partners.get(partner).frequency_1_only
            except KeyError:
                return False

        problem: FileProblem | None = None
        try:
            result = await resubmit_claim(
                self.ledger,
                correction.claim_id,
                correction.encounter,
                frequency_1_only=frequency_1_only,
                origin="correction-file",
                file_id=record.id,
            )
        except (QueueRuleError, UnknownClaimError) as exc:
            problem = FileProblem(
                "bad-correction",
                f"{claimed.name}: {exc}",
                "A correction file resubmits a claim the gateway already has: keep its claim id "
                "as written, fix the fields named in `rejection.reasons`, and drop it again.",
            )
        else:
            if result.outcome is None and result.errors:
                problem = FileProblem(
                    "still-invalid",
                    f"{claimed.name}: {result.message}",
                    "Fix the fields listed in `findings` in this file, then drop it into the "
                    "encounter inbox again.",
                    None,
                    [{"message": e} for e in result.errors[:50]],
                )
        if problem is not None:
            await self._quarantine(claimed, problem, record.content_hash, "encounters", record, 0)
            return
        self._corrections_dirty = True
        if result.outcome is None:
            self.stats.count("duplicate")
            log.warning("correction file: the claim is in flight; nothing resubmitted",
                        detail=result.message)  # fmt: skip
        else:
            self.stats.count(result.outcome.outcome)
            log.info(
                "claim resubmitted from a correction file",
                version=result.outcome.version,
                state=str(result.outcome.state),
                detail=result.message,
            )
        await self._archive(claimed, record, "archived", {"correction_of": correction.claim_id})

    async def sync_corrections(self) -> None:
        """Write ``corrections/<claim_id>.json`` for open items (when something changed)."""
        async with self._corrections_lock:
            if not self._corrections_dirty:
                return
            self._corrections_dirty = False
            written, removed = await sync_correction_files(
                self.ledger, self.settings.workspace.corrections
            )
        if written or removed:
            self._log.info("correction files updated", written=written, removed=removed)

    async def run_once(self, stop: asyncio.Event | None = None) -> None:
        """Recover, pull responses, take every complete inbox file, send every waiting claim.

        When ``stop`` is set (SIGTERM) the step in flight is finished and the rest left for later.
        """
        stop = stop or asyncio.Event()
        await self.recover()
        await self.pull()
        watcher = InboxWatcher.for_settings(self.settings)
        for path in await watcher.drain():
            if stop.is_set():
                break
            await self.take(path)
        await self.sync_corrections()
        if not stop.is_set():
            await self.submitter.flush(force=True, stop=stop)
            await self.submitter.finish_staged()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; the step in flight is finished, never cut off."""
        await self.recover()
        self._log.info(
            "service started",
            workspace=str(self.settings.workspace.root),
            partners=sorted(p.name for p in self.partners),
        )
        watcher = InboxWatcher.for_settings(self.settings)
        tasks = [
            asyncio.create_task(self._intake_loop(watcher, stop), name="intake"),
            asyncio.create_task(self._batch_loop(stop), name="batcher"),
        ]
        for transport in self._pulling_transports():
            tasks.append(
                asyncio.create_task(
                    self._pull_loop(transport, stop), name=f"pull {transport.label}"
                )
            )
        tasks.append(asyncio.create_task(self._housekeeping_loop(stop), name="housekeeping"))
        await stop.wait()
        watcher.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.sync_corrections()
        self._log.info("service stopped")

    async def _intake_loop(self, watcher: InboxWatcher, stop: asyncio.Event) -> None:
        async with watcher:
            async for path in watcher:
                if stop.is_set():
                    break
                await self.take(path)

    async def _housekeeping_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HOUSEKEEPING_SECONDS)
            if stop.is_set():
                return
            try:
                await self.housekeeping()
            except Exception as exc:  # a full disk or a database hiccup must not end the service
                self._log.exception("housekeeping failed; trying again later", error=str(exc))

    async def _batch_loop(self, stop: asyncio.Event) -> None:
        tick = max(0.05, min(1.0, self.settings.batching.max_wait_seconds / 4))
        retry_at = synced_at = 0.0
        # With presence (PostgreSQL) a dead worker is known at once: look every few seconds.
        every = self.submitter.takeover_seconds / 2
        if self.presence is not None and self.presence.tracked:
            every = min(every, TAKEOVER_CHECK_SECONDS)
        takeover_at = time.monotonic() + every
        while not stop.is_set():
            try:
                await self.submitter.flush(stop=stop)
                if time.monotonic() >= takeover_at:  # other workers that died meanwhile
                    await self.take_over()
                    takeover_at = time.monotonic() + every
                if self.submitter.pending() and time.monotonic() >= retry_at:
                    await self.submitter.finish_staged()
                    retry_at = time.monotonic() + RETRY_SECONDS
                if time.monotonic() >= synced_at:  # the correction files, at most once a second
                    await self.recheck_archived()
                    await self.sync_corrections()
                    synced_at = time.monotonic() + 1.0
            except Exception as exc:  # a database hiccup must not end the service
                self._log.exception("batching step failed; trying again", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick)
