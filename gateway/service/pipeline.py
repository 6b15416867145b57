"""The gateway service: inbox to clearinghouse and back, as one long-running async process.

``Service`` ties the parts together around one ledger:

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
import errno
import functools
import hashlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, Literal

import structlog

from gateway.config import ConfigError, Settings
from gateway.encounters.completeness import looks_complete
from gateway.ledger.correction_rules import QueueRuleError
from gateway.ledger.records import FileRecord, IncomingClaim, IntakeOutcome
from gateway.ledger.resubmission import resubmit_claim
from gateway.ledger.store import Ledger, UnknownClaimError
from gateway.ledger.workers import WorkerIdInUseError, WorkerPresence
from gateway.partners import Partners
from gateway.service.correction_files import sync_correction_files
from gateway.service.files import (
    ClaimedFile,
    FileProblem,
    FileState,
    FileTooLargeError,
    Refusal,
    archive_file,
    claim_file,
    ensure_private_dir,
    file_state,
    find_refused,
    hold_lock,
    list_claimed,
    printable_name,
    quarantine_file,
    read_file,
    release_claimed,
    sha256_file,
    sha256_file_sync,
    tidy_folder,
)
from gateway.service.intake import (
    MAX_CORRECTION_BYTES,
    ParsedEncounters,
    UnreadableLog,
    correction_document,
    is_json_lines,
    parse_encounter_file,
    read_batches,
)
from gateway.service.intake_files import file_ends, file_head, note_attempt
from gateway.service.posting import LEDGER_KINDS, post_response
from gateway.service.responses import ResponseCheck, check_response_file
from gateway.service.submit import RETRY_SECONDS, Submitter, crash_point
from gateway.service.transport_health import TransportHealth
from gateway.service.transports import (
    DirectoryTransport,
    Transport,
    TransportError,
    pull_responses,
    transport_from_config,
)
from gateway.service.unreadable import UNREADABLE_KIND, write_unreadable_record
from gateway.service.watch import InboxWatcher

__all__ = ["DEFAULT_WORKER_ID", "Service", "ServiceStats", "check_worker_id", "open_transports"]

DEFAULT_WORKER_ID = "main"
_WORKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
Inbox = Literal["encounters", "responses"]


def check_worker_id(worker_id: str) -> str:
    """``worker_id`` when it is a plain name (it names folders), else ``ValueError``."""
    if not _WORKER_ID.match(worker_id):
        raise ValueError(
            f"worker id {worker_id!r}: use 1-40 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return worker_id


@dataclass
class ServiceStats:
    """What the service did since it started (the demo's report and the tests read it)."""

    encounter_files: int = 0
    response_files: int = 0
    duplicate_files: int = 0
    quarantined_files: int = 0
    claims: dict[str, int] = field(default_factory=dict)  # outcome -> count
    unrecorded: int = 0  # encounters without a usable claim id
    responses_applied: int = 0
    state_changes: int = 0
    unmatched: int = 0
    tr3_rejected_files: int = 0  # response files our TR3 validator rejected (applied all the same)
    tr3_findings: int = 0  # error-level TR3 findings in them
    held_files: int = 0  # responses held: incomplete, or 835 sets out of balance

    def count(self, outcome: str, n: int = 1) -> None:
        """Add ``n`` claims with ``outcome`` (new, resubmission, duplicate, invalid)."""
        self.claims[outcome] = self.claims.get(outcome, 0) + n


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


class Service:
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

    @property
    def _log(self) -> Any:
        # Resolved at each use, so a logging configuration made after start applies.
        return structlog.stdlib.get_logger("gateway.service").bind(worker=self.worker_id)

    @classmethod
    async def open(cls, settings: Settings, *, worker_id: str = DEFAULT_WORKER_ID) -> Service:
        """Create the workspace, open the ledger, load partners and their transports."""
        settings.workspace.create()
        worker_id = check_worker_id(worker_id)
        lock = await asyncio.to_thread(_lock_worker, settings, worker_id)
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
            presence = await _register(settings.ledger_url, check_worker_id(worker_id))
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

    # ------------------------------------------------------------------ folders

    def processing_dir(self, inbox: Inbox) -> Path:
        """Where this worker keeps the files it claimed from ``inbox`` while it processes them."""
        return self.settings.workspace.processing / self.worker_id / inbox

    def _inbox_of(self, path: Path) -> Inbox | None:
        ws = self.settings.workspace
        if path.parent == ws.encounters_inbox:
            return "encounters"
        if path.parent == ws.responses_inbox:
            return "responses"
        return None

    def _unique_transports(self) -> list[Transport]:
        seen: dict[str, Transport] = {}
        for transport in self.transports.values():
            seen.setdefault(transport.label, transport)
        return list(seen.values())

    def _pulling_transports(self) -> list[Transport]:
        return [
            t
            for t in self._unique_transports()
            if not (isinstance(t, DirectoryTransport) and t.drop_dir is None)
        ]

    # ------------------------------------------------------------------ recovery

    async def recover(self) -> None:
        """Finish what a crash left half-done: staged 837s and open intents first (so that the
        answers to them find their claims submitted), then the files this worker had claimed.
        Temp files a crash left are dealt with first (``housekeeping``)."""
        await self.housekeeping()
        await self.submitter.finish_staged()
        for inbox, folder in self._inboxes():
            claimed = await asyncio.to_thread(list_claimed, self.processing_dir(inbox), folder)
            for item in claimed:
                self._log.info("resuming a file claimed before a restart", file=item.name)
                await self.process(item, inbox, resumed=True)
        await self.take_over()
        await self.sync_corrections()

    async def take_over(self) -> None:
        """Finish what other workers left for longer than the takeover time (they died): their
        claimed files and their staged 837s. Run on start and every few minutes."""
        alive: dict[str, bool | None] = {}
        if self.presence is not None and self.presence.tracked:
            alive = await self.presence.alive(await asyncio.to_thread(self._other_workers))
        for inbox, folder in self._inboxes():
            for item in await asyncio.to_thread(self._adopt_orphans, inbox, folder, alive):
                await self.process(item, inbox, resumed=True)
        handed = await self.submitter.finish_staged()
        if handed:
            self._log.info("staged interchanges handed over", count=handed)

    async def housekeeping(self) -> None:
        """Finish or remove the gateway's temp files a crash left; report (once) and quarantine
        (where safe) what the inboxes hold that the gateway will never take."""
        tidied = await asyncio.to_thread(self._temp_folders)
        for folder in tidied:
            report = await asyncio.to_thread(tidy_folder, folder, orphan_age=ORPHAN_TEMP_SECONDS)
            for path in report.finished:
                self._log.warning(
                    "a file left under two names by a crash: its temp name removed",
                    file=path.name,
                    folder=str(folder),
                )
            for path in report.removed:
                self._log.warning("orphan temp file removed", file=path.name, folder=str(folder))
        grace = self.settings.intake.settle_seconds
        for _inbox, folder in self._inboxes():
            found = await asyncio.to_thread(
                find_refused, folder, link_grace=grace, skip_own_temps=folder in tidied
            )
            for refusal in found:
                await self._refuse(refusal)
        for folder in self._drop_folders():  # the clearinghouse's: reported, never moved
            found = await asyncio.to_thread(
                find_refused, folder, link_grace=grace, skip_own_temps=False
            )
            for refusal in found:
                await self._refuse(replace(refusal, quarantine=False))

    def _drop_folders(self) -> list[Path]:
        drops = [
            t.drop_dir
            for t in self._unique_transports()
            if isinstance(t, DirectoryTransport) and t.drop_dir is not None
        ]
        return list(dict.fromkeys(drops))

    def _temp_folders(self) -> list[Path]:
        """The folders the gateway writes temp files into (never the encounter inbox, which
        belongs to the senders): responses inbox, outbox and pickup folders, state, staging,
        quarantine and corrections."""
        ws = self.settings.workspace
        folders = [ws.responses_inbox, ws.outbox, ws.state, ws.quarantine, ws.corrections]
        outgoing = ws.state / "outgoing"
        if outgoing.is_dir():
            folders += sorted(p for p in outgoing.iterdir() if p.is_dir() and not p.is_symlink())
        for transport in self._unique_transports():
            if isinstance(transport, DirectoryTransport):
                folders.append(transport.pickup_dir)
        return list(dict.fromkeys(folders))

    async def _refuse(self, refusal: Refusal) -> None:
        """Record a refused inbox entry once (path and reason), log it once, quarantine it when
        ``refusal.quarantine`` says that is safe."""
        key = (refusal.path, refusal.reason, refusal.identity, refusal.quarantine)
        if key in self._refusals_seen:
            return
        self._refusals_seen.add(key)
        name = printable_name(refusal.path.name)
        detail: dict[str, Any] = {
            "reason": refusal.reason,
            "path": printable_name(str(refusal.path)),
            **refusal.problem().as_dict(),
        }
        record = await self._record_refused(
            f"{printable_name(str(refusal.path))}\0{refusal.reason}", name, detail
        )
        quarantined: Path | None = None
        if refusal.quarantine:
            try:
                moved, _ = await asyncio.to_thread(
                    quarantine_file, refusal.path, self.settings.workspace.quarantine,
                    refusal.problem(),
                )  # fmt: skip
            except FileNotFoundError:
                return  # gone meanwhile (taken away by its writer)
            except OSError as exc:
                self._log.error(
                    "refused file could not be quarantined; left where it is",
                    file=name, reason=refusal.reason, error=str(exc),
                )  # fmt: skip
            else:
                quarantined = moved
                detail["quarantined_as"] = moved.name
                await self.ledger.update_file(record.id, detail=detail, archive_path=str(moved))
        if record.is_new or quarantined is not None:
            self._log.warning(
                "file refused" + ("; quarantined" if quarantined is not None else "; left as is"),
                file=name,
                folder=printable_name(str(refusal.path.parent)),
                reason=refusal.reason,
                what=refusal.what,
                quarantined_as=quarantined.name if quarantined is not None else None,
            )

    async def _record_refused(
        self, identity: str, name: str, detail: Mapping[str, Any]
    ) -> FileRecord:
        """A ``refused`` files row, one per identity (a path or transport/name, and the reason)."""
        digest = hashlib.sha256(("refused\0" + identity).encode("utf-8", "backslashreplace"))
        return await self.ledger.record_file(
            digest.hexdigest(),
            printable_name(name)[:255],
            "unknown",
            status="refused",
            detail=detail,
        )

    async def _response_refused(
        self, transport: Transport, name: str, problem: FileProblem, where: Path | None
    ) -> None:
        detail: dict[str, Any] = {"transport": transport.label, **problem.as_dict()}
        if where is not None:
            detail["quarantined_as"] = where.name
        record = await self._record_refused(
            f"{transport.label}\0{name}\0{problem.code}", name, detail
        )
        if not record.is_new:
            await self.ledger.update_file(
                record.id, detail=detail, archive_path=str(where) if where else None
            )

    def _inboxes(self) -> tuple[tuple[Inbox, Path], ...]:
        ws = self.settings.workspace
        return (("encounters", ws.encounters_inbox), ("responses", ws.responses_inbox))

    def _other_workers(self) -> list[str]:
        root = self.settings.workspace.processing
        if not root.is_dir():
            return []
        return sorted(
            w.name
            for w in root.iterdir()
            if w.name != self.worker_id and w.is_dir() and not w.is_symlink()
        )

    def _adopt_orphans(
        self, inbox: Inbox, folder: Path, alive: Mapping[str, bool | None] | None = None
    ) -> list[ClaimedFile]:
        """Files other workers claimed and never finished because the worker died (known dead by
        ``alive``, or untracked and claimed more than ``takeover_seconds`` ago): taken over by
        atomic rename, so only one worker adopts each."""
        alive = alive or {}
        root = self.settings.workspace.processing
        adopted: list[ClaimedFile] = []
        if not root.is_dir():
            return adopted
        cutoff = time.time() - self.submitter.takeover_seconds
        for worker in root.iterdir():
            if worker.name == self.worker_id or not worker.is_dir() or worker.is_symlink():
                continue
            state = alive.get(worker.name)
            if state:
                continue  # alive: it finishes its own files
            for item in list_claimed(worker / inbox, folder):
                try:
                    if state is None and item.holder.stat().st_mtime > cutoff:
                        continue
                except FileNotFoundError:
                    continue
                taken = claim_file(item.path, self.processing_dir(inbox))
                with contextlib.suppress(OSError):
                    item.holder.rmdir()
                if taken is not None:
                    self._log.warning(
                        "taking over a file another worker left unfinished",
                        file=item.name,
                        from_worker=worker.name,
                    )
                    adopted.append(ClaimedFile(taken.path, taken.name, folder))
        return adopted

    # ------------------------------------------------------------------ one file

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

    async def _give_up(
        self, claimed: ClaimedFile, inbox: Inbox, exc: Exception, attempts: int
    ) -> bool:
        """Quarantine a file that failed ``attempts`` times, with the error (never an endless
        retry); False when even that fails (the ledger is down: it goes back to the inbox)."""
        self._log.error(
            "file failed processing repeatedly; quarantining it",
            error=f"{type(exc).__name__}: {exc}",
            attempts=attempts,
        )
        problem = FileProblem(
            "processing-failed",
            f"{claimed.name}: processing failed {attempts} times: {type(exc).__name__}: {exc}",
            "The gateway could not process this file (see the error and the service log). Fix "
            "the cause, then drop the file into the inbox again; claims already recorded from "
            "it are not recorded twice.",
        )
        kind = "encounters" if inbox == "encounters" else "unknown"
        try:
            size = (await asyncio.to_thread(claimed.path.lstat)).st_size
            digest = await sha256_file(claimed.path)
            await self._quarantine(claimed, problem, digest, kind, None, size)
        except Exception:
            self._log.exception("file could not be quarantined either")
            return False
        return True

    async def _read(self, claimed: ClaimedFile, kind: str) -> tuple[bytes, str] | None:
        """The file's bytes and hash; a file over the size limit is quarantined (None)."""
        try:
            data = await read_file(claimed.path, self.settings.intake.max_file_bytes)
        except FileTooLargeError as exc:
            digest = await sha256_file(claimed.path)
            problem = FileProblem(
                "too-large",
                str(exc),
                "Split the file into smaller ones (or raise [intake] max_file_bytes) and drop "
                "the parts into the inbox.",
            )
            await self._quarantine(claimed, problem, digest, kind, None, exc.size)
            return None
        return data, hashlib.sha256(data).hexdigest()

    async def _quarantine(
        self,
        claimed: ClaimedFile,
        problem: FileProblem,
        digest: str,
        kind: str,
        record: FileRecord | None,
        size: int,
    ) -> None:
        if record is None:
            record = await self.ledger.record_file(
                digest, claimed.name, kind, status="quarantined", size=size
            )
        await self.ledger.update_file(record.id, status="quarantined", detail=problem.as_dict())
        target, error_file = await asyncio.to_thread(
            quarantine_file, claimed, self.settings.workspace.quarantine, problem
        )
        await asyncio.to_thread(_private, target)
        await self.ledger.update_file(record.id, archive_path=str(target))
        self.stats.quarantined_files += 1
        self._log.error(
            "file quarantined",
            problem=problem.code,
            what=problem.what,
            quarantined_as=target.name,
            explanation=error_file.name,
        )

    async def _archive(
        self,
        claimed: ClaimedFile,
        record: FileRecord | None,
        status: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record the file as done (status and detail), then move it into the archive."""
        if record is not None:
            await self.ledger.update_file(record.id, status=status, detail=detail)
        target = await asyncio.to_thread(archive_file, claimed, self.settings.workspace.archive)
        await asyncio.to_thread(_private, target)
        if record is not None:
            await self.ledger.update_file(record.id, archive_path=str(target))

    async def _existing(
        self, record: FileRecord, claimed: ClaimedFile, resumed: bool, done: str
    ) -> bool:
        """Handle a file whose content the ledger already has; True when nothing more to do."""
        if (
            record.is_new
            or record.status in ("quarantined", "received")
            or (resumed and record.status == "held")
        ):
            # New; or bad before (say again what is wrong); or taken before and never finished
            # (a crash, or a failed step put it back): finish the job. The ledger records a
            # claim id once, so a file processed twice never bills twice.
            return False
        if resumed and record.status == done:
            await self._archive(claimed, record, done)  # recorded; only the move was left
            return True
        self.stats.duplicate_files += 1
        await self._archive(claimed, None, done)
        self._log.warning(
            "duplicate file: the same content was taken before; archived, nothing recorded again",
            first_seen_as=record.name,
            file_id=record.id,
        )
        return True

    # ------------------------------------------------------------------ encounters

    async def _encounters(self, claimed: ClaimedFile, resumed: bool) -> None:
        """Take an encounter file, streamed: hashed, then read and recorded ``BATCH_CLAIMS``
        claims per ledger transaction (memory stays flat whatever the file size). Encounters that
        cannot become claims leave a quarantine record; a file that changed while it was read is
        read again."""
        for _ in range(_REREADS):
            taken = await asyncio.to_thread(file_state, claimed.path)
            digest = await self._hash(claimed, "encounters")
            if digest is None:
                return
            marker = self.settings.workspace.state / "intake" / f"{digest}.attempts"
            attempts = await asyncio.to_thread(note_attempt, marker)
            try:
                if attempts > MAX_ATTEMPTS:
                    crashed = RuntimeError(
                        f"the service stopped {attempts - 1} times while processing this file "
                        "(killed or crashed)"
                    )
                    if await self._give_up(claimed, "encounters", crashed, attempts - 1):
                        return
                changed = await self._encounter_file(claimed, digest, resumed)
            finally:
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(marker.unlink, missing_ok=True)
            if not changed:
                return
            resumed = True  # what was recorded from the first read is not news
            self._log.warning(
                "encounter file changed after it was taken (its writer was still writing); "
                "reading it again",
                size_before=taken.size if taken else None,
            )
        await self._encounter_file(claimed, await sha256_file(claimed.path), True, final=True)

    async def _hash(self, claimed: ClaimedFile, kind: str) -> str | None:
        """The file's SHA-256, streamed; a file over the size limit is quarantined (None)."""
        size = (await asyncio.to_thread(claimed.path.lstat)).st_size
        digest = await sha256_file(claimed.path)
        limit = self.settings.intake.max_file_bytes
        if size > limit:
            exc = FileTooLargeError(claimed.path, size, limit)
            problem = FileProblem(
                "too-large",
                str(exc),
                "Split the file into smaller ones (or raise [intake] max_file_bytes) and drop "
                "the parts into the inbox.",
            )
            await self._quarantine(claimed, problem, digest, kind, None, size)
            return None
        return digest

    async def _encounter_file(
        self, claimed: ClaimedFile, digest: str, resumed: bool, *, final: bool = False
    ) -> bool:
        """Record the claims of one read of the file; True when the file changed meanwhile
        (then nothing was archived: the caller reads it again)."""
        before = await asyncio.to_thread(file_state, claimed.path)
        size = before.size if before is not None else 0
        record = await self.ledger.record_file(digest, claimed.name, "encounters", size=size)
        if await self._existing(record, claimed, resumed, "archived"):
            return False
        self.stats.encounter_files += 1
        if size <= MAX_CORRECTION_BYTES:
            try:
                head = await read_file(claimed.path, MAX_CORRECTION_BYTES)
            except FileTooLargeError:  # it grew meanwhile: not a correction document
                head = b""
            if correction_document(head) is not None:
                parsed = await asyncio.to_thread(
                    parse_encounter_file,
                    head,
                    claimed.name,
                    self.partners,
                    today=self.today(),
                    cpt=self.cpt,
                )
                if parsed.correction_error is not None:
                    problem = FileProblem(
                        "bad-correction",
                        f"{claimed.name}: {parsed.correction_error}",
                        "Keep the claim id of the correction file as it was written, fix the "
                        "encounter fields named in `rejection.reasons`, and drop the file into "
                        "the inbox again.",
                    )
                    await self._quarantine(claimed, problem, digest, "encounters", record, size)
                    return False
                if parsed.correction is not None:
                    await self._correction(claimed, parsed, record)
                    return False
        records = warnings = 0
        counts: dict[str, int] = {}
        unreadable = UnreadableLog()
        with await asyncio.to_thread(claimed.path.open, "rb") as stream:
            batches = read_batches(
                stream, claimed.name, self.partners, today=self.today(), cpt=self.cpt
            )
            # the next batch is read while this one is recorded (two batches held at most)
            pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            try:
                while (batch := await pending) is not None:
                    pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
                    records += batch.records
                    warnings += batch.warnings
                    for item in batch.unrecorded:
                        unreadable.add(item)
                    if not batch.claims:
                        continue
                    outcomes = await self.ledger.record_claims(
                        batch.claims, file_id=record.id, origin="intake"
                    )
                    crash_point("after-record-claims")
                    self._log_outcomes(batch.claims, outcomes, resumed)
                    for key, n in _outcome_counts(outcomes).items():
                        counts[key] = counts.get(key, 0) + n
            finally:
                with contextlib.suppress(Exception):
                    await pending  # a thread cannot be cancelled: let it finish with the stream
        if not final and await asyncio.to_thread(file_state, claimed.path) != before:
            await self.ledger.update_file(record.id, detail={"changed_while_read": True})
            return True
        if not counts:
            problem = FileProblem(
                "no-claims",
                f"{claimed.name}: no encounter in the file has a usable claim id "
                f"({records} record(s) read)",
                "Check that the file follows the encounter contract (schemas/encounter.schema."
                "json); `gateway check FILE` lists every problem with its line. Fix the file "
                "and drop it into the inbox again.",
                None,
                [dict(f) for u in unreadable.described[:50] for f in u.findings],
            )
            await self._quarantine(claimed, problem, digest, "encounters", record, size)
            return False
        if unreadable.count:
            await self._unreadable(claimed, digest, unreadable, unreadable.stopped_at(records))
        await self._archive(
            claimed,
            record,
            "archived",
            {
                "records": records,
                "warnings": warnings,
                "unrecorded": unreadable.count,
                "outcomes": counts,
            },
        )
        self._log.info(
            "encounter file taken", records=records, **counts, unrecorded=unreadable.count
        )
        await self._watch_archived(digest, claimed.name)
        return False

    async def _watch_archived(self, digest: str, name: str) -> None:
        """Keep an eye on an archived encounter file for ``complete_wait_seconds``: a writer that
        still held it open may write more (``recheck_archived``)."""
        done = await self.ledger.file_by_hash(digest)
        if done is None or not done.archive_path:
            return
        path = Path(done.archive_path)
        state = await asyncio.to_thread(file_state, path)
        if state is not None:
            until = time.monotonic() + self.settings.intake.complete_wait_seconds
            self._archived[path] = (state, until, name)

    async def recheck_archived(self) -> int:
        """Read again the archived encounter files written to after they were taken (their
        writer still had them open): the new encounters are recorded, those recorded before are
        not recorded twice. Returns how many files were read again."""
        now = time.monotonic()
        again = 0
        for path, (state, until, name) in list(self._archived.items()):
            current = await asyncio.to_thread(file_state, path)
            if current == state:
                if now >= until:
                    del self._archived[path]
                continue
            del self._archived[path]
            if current is None:
                continue
            inbox = self.settings.workspace.encounters_inbox
            taken = await asyncio.to_thread(claim_file, path, self.processing_dir("encounters"))
            if taken is None:
                continue
            self._log.warning(
                "archived encounter file was written to after it was taken; reading it again",
                file=name,
                size_before=state.size,
                size_now=current.size,
            )
            await self.process(ClaimedFile(taken.path, name, inbox), "encounters", resumed=True)
            again += 1
        return again

    async def _unreadable(
        self,
        claimed: ClaimedFile,
        digest: str,
        unreadable: UnreadableLog,
        stopped_at: int | None = None,
    ) -> None:
        """Put the encounters that could not be recorded in front of an operator: a quarantine
        record (their lines and findings) and a ledger row that `gateway status` counts. Done
        once per file content (a file resumed after a crash does not write it twice)."""
        key = hashlib.sha256(f"{digest}:{UNREADABLE_KIND}".encode()).hexdigest()
        if await self.ledger.file_by_hash(key) is not None:
            return
        head = await asyncio.to_thread(file_head, claimed.path)
        json_lines = is_json_lines(claimed.name, head)
        lines_path, report = await asyncio.to_thread(
            partial(
                write_unreadable_record,
                json_lines=json_lines,
                detail={"sha256": digest, "received_from": str(claimed.inbox / claimed.name)},
                stopped_at=None if json_lines else stopped_at,
            ),
            claimed.path,
            claimed.name,
            self.settings.workspace.quarantine,
            unreadable,
        )
        await self.ledger.record_file(
            key,
            report.name,
            UNREADABLE_KIND,
            status="quarantined",
            detail={"records": unreadable.count, "file": claimed.name},
        )
        self.stats.unrecorded += unreadable.count
        for item in unreadable.described[:20]:
            self._log.warning(
                "encounter not recorded; kept in quarantine",
                index=item.index,
                line=item.line,
                codes=[str(f.get("code")) for f in item.findings][:10],
            )
        self._log.error(
            "encounters of the file could not be read; the others were taken",
            unreadable=unreadable.count,
            explanation=report.name,
            lines_file=lines_path.name if lines_path is not None else None,
            reading_stopped_at_line=stopped_at,
        )

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

    def _log_outcomes(
        self, claims: list[IncomingClaim], outcomes: list[IntakeOutcome], resumed: bool
    ) -> None:
        self._corrections_dirty = True
        findings = {c.claim_id: c.findings for c in claims if c.findings}
        for outcome in outcomes:
            log = self._log.bind(claim_id=outcome.claim_id, version=outcome.version)
            if outcome.outcome == "duplicate":
                if resumed:
                    self.stats.count("already-recorded")
                    log.info("claim already recorded before the restart")
                    continue
                self.stats.count("duplicate")
                log.warning("duplicate claim: not billed twice", detail=outcome.detail)
                continue
            self.stats.count(outcome.outcome)
            if str(outcome.state) == "invalid":
                self.stats.count("invalid")
                found = findings.get(outcome.claim_id, ())
                codes = [r.code for r in found]
                log.warning("claim invalid: correction item opened", outcome=outcome.outcome,
                            reasons=codes[:10])  # fmt: skip
            else:
                log.info("claim queued", outcome=outcome.outcome)

    # ------------------------------------------------------------------ responses

    async def _response(self, claimed: ClaimedFile, resumed: bool) -> None:
        """Apply a response file in two streamed passes (bounded memory whatever its size):
        check it (complete? balanced? TR3), then post what may move money and hold the rest."""
        size = (await asyncio.to_thread(claimed.path.stat)).st_size
        digest = await asyncio.to_thread(sha256_file_sync, claimed.path)  # one hop, not many
        limit = self.settings.intake.max_response_bytes
        if size > limit:
            problem = FileProblem(
                "too-large",
                f"{claimed.name}: {size} bytes, over the response limit of {limit} bytes",
                "Ask the clearinghouse to split the file, or raise [intake] max_response_bytes "
                "and drop it into the responses inbox again.",
            )
            await self._quarantine(claimed, problem, digest, "unknown", None, size)
            return
        record = await self.ledger.record_file(digest, claimed.name, "unknown", size=size)
        if await self._existing(record, claimed, resumed, "applied"):
            return
        self.stats.response_files += 1
        check = await asyncio.to_thread(check_response_file, claimed.path, claimed.name)
        if check.problem is not None:
            await self._quarantine(claimed, check.problem, digest, "unknown", record, size)
            return
        kinds = [LEDGER_KINDS[k] for k in check.kinds]
        tr3 = check.tr3
        if tr3.rejected:
            self.stats.tr3_rejected_files += 1
            self.stats.tr3_findings += len(tr3.findings)
            self._log.warning(
                "response fails TR3 validation; applied all the same if complete and balanced",
                errors=len(tr3.findings),
                rejected_sets=list(tr3.rejected_sets[:20]),
                first=[f"{d.code} {d.location}: {d.message}" for d in tr3.findings[:5]],
            )
        if check.findings:
            self._log.warning(
                "response has findings",
                findings=check.findings_total,
                first=check.findings[0],
            )
        await self.ledger.update_file(record.id, kind="+".join(kinds)[:16])
        detail: dict[str, Any] = {
            "kinds": kinds,
            "findings": check.findings_total,
            "tr3": tr3.as_dict(),
            "interchanges": check.interchanges,
        }
        if check.incomplete:
            detail["hold"] = "incomplete"
            await self._hold(claimed, record, check.incomplete_problem(claimed.name), detail)
            return
        totals = await post_response(
            self.ledger, claimed.path, digest, check, file_id=record.id, name=claimed.name
        )
        self.stats.responses_applied += totals.applied
        self.stats.state_changes += totals.state_changes
        self.stats.unmatched += totals.unmatched
        if totals.opened_items or totals.held_claims:
            self._corrections_dirty = True
        detail["state_changes"] = totals.by_kind
        detail["posting"] = totals.as_dict()
        if check.held_sets:
            detail["hold"] = "out-of-balance"
            detail["held_sets"] = [h.as_dict() for h in check.held_sets.values()]
            await self._hold(claimed, record, check.held_problem(claimed.name), detail)
            return
        await self._archive(claimed, record, "applied", detail)
        await self._supersede(record, check)

    async def _hold(
        self,
        claimed: ClaimedFile,
        record: FileRecord,
        problem: FileProblem,
        detail: dict[str, Any],
    ) -> None:
        """Keep a response that was not (wholly) applied beside its ``.error.json`` in the
        quarantine folder, as ``held`` in the ledger (``gateway status``, ``gateway responses``)."""
        detail["problem"] = problem.as_dict()
        await self.ledger.update_file(record.id, status="held", detail=detail)
        target, error_file = await asyncio.to_thread(
            quarantine_file, claimed, self.settings.workspace.quarantine, problem
        )
        await asyncio.to_thread(_private, target)
        await self.ledger.update_file(record.id, archive_path=str(target))
        self.stats.held_files += 1
        self._log.error(
            "response held: " + ("nothing applied" if problem.code == "incomplete" else
                                 "its sets out of balance were not posted"),
            problem=problem.code,
            file_id=record.id,
            held_as=target.name,
            explanation=error_file.name,
            held_sets=[h["st02"] for h in detail.get("held_sets", [])][:20],
        )  # fmt: skip

    async def _supersede(self, record: FileRecord, check: ResponseCheck) -> None:
        """Held incomplete copies of the interchanges this file applied in full are superseded
        (no longer counted as held)."""
        done = set(check.interchanges)
        if not done:
            return
        for held in await self.ledger.files(status="held"):
            detail = dict(held.detail or {})
            interchanges = detail.get("interchanges")
            if detail.get("hold") != "incomplete" or not isinstance(interchanges, list):
                continue
            if interchanges and set(interchanges) <= done:
                detail["superseded_by"] = {"file_id": record.id, "name": record.name}
                await self.ledger.update_file(held.id, status="superseded", detail=detail)
                self._log.info(
                    "held incomplete response superseded by its complete copy",
                    held_file_id=held.id,
                    held_file=held.name,
                )

    # ------------------------------------------------------------------ loops

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

    async def pull(self) -> int:
        """Pull waiting responses from every transport into the responses inbox once."""
        pulled = 0
        for transport in self._pulling_transports():
            if self._health_of(transport).ready():  # not while it backs off after a failure
                pulled += await self._pull_from(transport)
        return pulled

    def _health_of(self, transport: Transport) -> TransportHealth:
        for health in self.health.values():
            if health.transport is transport:
                return health
        return self.health.setdefault(transport.label, TransportHealth(transport))

    async def _pull_from(self, transport: Transport) -> int:
        """One pull from ``transport``; a failure is recorded in its health (which logs a change
        of state once and sets the back-off), never raised."""
        health = self._health_of(transport)
        try:
            pulled = await pull_responses(
                transport,
                self.settings.workspace.responses_inbox,
                quarantine=self.settings.workspace.quarantine,
                on_refused=functools.partial(self._response_refused, transport),
            )
        except TransportError as exc:
            await health.failed(exc)
            return 0
        except OSError as exc:  # the inbox itself (a full disk): keep the service alive, say so
            self._log.error("response pull failed", transport=transport.label, error=str(exc))
            return 0
        await health.succeeded()
        return len(pulled)

    async def _pull_loop(self, transport: Transport, stop: asyncio.Event) -> None:
        """Pull from ``transport`` every poll interval until ``stop``; while it fails, only when
        its back-off has run out (a put that works meanwhile ends the wait)."""
        health = self._health_of(transport)
        interval = self.settings.intake.poll_interval_seconds
        while not stop.is_set():
            if health.ready():
                await self._pull_from(transport)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

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


#: A file whose processing fails this many times in a row is quarantined with the error.
MAX_ATTEMPTS = 3
#: How many times a file that keeps changing while it is read is read again before it is
#: taken as it then is (later writes are still caught by the archive check).
_REREADS = 3
#: How often temp files and refused inbox entries are looked for while the service runs.
HOUSEKEEPING_SECONDS = 30.0
#: A temp file of the gateway's pattern unchanged this long lost its writer (a crash): removed.
ORPHAN_TEMP_SECONDS = 3600.0


def _lock_worker(settings: Settings, worker_id: str) -> int | None:
    """Hold ``state/workers/<id>.lock`` for the life of the process, or ``WorkerIdInUseError``.
    None (with a warning) on a file system that cannot lock (some network shares)."""
    path = settings.workspace.state / "workers" / f"{worker_id}.lock"
    try:
        fd = hold_lock(path)
    except OSError as exc:
        if exc.errno not in (errno.ENOLCK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EINVAL):
            raise
        structlog.stdlib.get_logger("gateway.service").warning(
            "the worker lock cannot be taken on this file system; a second process with this "
            "worker id would not be refused",
            worker=worker_id, lock=str(path), error=str(exc),
        )  # fmt: skip
        return None
    if fd is None:
        raise WorkerIdInUseError(
            f"worker id {worker_id!r} is in use: another live process on this workspace holds "
            f"{path}; stop it, or give this one another --worker-id"
        )
    return fd


#: How often a worker with presence looks for the work of workers that died.
TAKEOVER_CHECK_SECONDS = 5.0
#: A worker restarted right after a crash may find its old connection's lock not yet released.
_REGISTER_ATTEMPTS = 12
_REGISTER_PAUSE = 0.25


async def _register(ledger_url: str, worker_id: str) -> WorkerPresence:
    """Hold ``worker_id`` on the ledger (PostgreSQL; nothing on SQLite). A lock still held after
    a few seconds belongs to a live process: ``WorkerIdInUseError``."""
    for attempt in range(_REGISTER_ATTEMPTS):
        try:
            return await WorkerPresence.register(ledger_url, worker_id)
        except WorkerIdInUseError:
            if attempt == _REGISTER_ATTEMPTS - 1:
                raise
            await asyncio.sleep(_REGISTER_PAUSE)
    raise AssertionError("unreachable")  # pragma: no cover


def _private(path: Path) -> None:
    """Files kept by the gateway are owner-only, whatever mode they arrived with."""
    path.chmod(0o600)


def _outcome_counts(outcomes: list[IntakeOutcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        key = (
            "invalid"
            if str(outcome.state) == "invalid" and outcome.outcome != "duplicate"
            else (outcome.outcome)
        )
        counts[key] = counts.get(key, 0) + 1
    return counts
