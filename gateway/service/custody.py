"""File custody: where the service keeps a file it took, and how every file ends.

``FileCustody`` is the base the service's parts build on (``gateway.service.pipeline.Service``
composes them): it declares the state they share (settings, ledger, partners, transports, stats)
and owns the files' custody: the per-worker processing folders, archiving (``archive/YYYY/MM/DD/``,
owner-only), quarantining beside an ``.error.json``, a file seen before (a duplicate, or one only
the move was left of), giving up on a file that keeps failing, and housekeeping (temp files a crash
left; inbox entries the gateway will never take, reported once and quarantined where safe).
Nothing is deleted.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import structlog

from gateway.codes.dated import DatedCodes
from gateway.config import Settings
from gateway.ledger.records import FileRecord
from gateway.ledger.store import Ledger
from gateway.ledger.workers import WorkerPresence
from gateway.partners import Partners
from gateway.service.files import (
    ClaimedFile,
    FileProblem,
    FileState,
    FileTooLargeError,
    Refusal,
    archive_file,
    find_refused,
    printable_name,
    quarantine_file,
    read_file,
    sha256_file,
    tidy_folder,
)
from gateway.service.intake import ParsedEncounters
from gateway.service.submit import Submitter
from gateway.service.transport_health import TransportHealth
from gateway.service.transports import (
    DirectoryTransport,
    Transport,
)

__all__ = [
    "HOUSEKEEPING_SECONDS",
    "MAX_ATTEMPTS",
    "ORPHAN_TEMP_SECONDS",
    "FileCustody",
    "Inbox",
    "ServiceStats",
    "owner_only",
]

Inbox = Literal["encounters", "responses"]

#: A file whose processing fails this many times in a row is quarantined with the error.
MAX_ATTEMPTS = 3
#: How often temp files and refused inbox entries are looked for while the service runs.
HOUSEKEEPING_SECONDS = 30.0
#: A temp file of the gateway's pattern unchanged this long lost its writer (a crash): removed.
ORPHAN_TEMP_SECONDS = 3600.0


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


class FileCustody:
    """The state the service's parts share, and the custody of the files it takes."""

    settings: Settings
    ledger: Ledger
    partners: Partners
    transports: dict[str, Transport]
    presence: WorkerPresence | None
    worker_id: str
    today: Callable[[], date]
    cpt: DatedCodes | None
    stats: ServiceStats
    health: dict[str, TransportHealth]
    submitter: Submitter
    worker_lock: int | None
    _corrections_dirty: bool
    _failures: dict[tuple[str, str], int]
    _incomplete: dict[Path, FileState]
    _archived: dict[Path, tuple[FileState, float, str]]
    _refusals_seen: set[tuple[Path, str, tuple[int, int, int], bool]]

    # the parts the service composes (``Service`` implements these)

    async def process(self, claimed: ClaimedFile, inbox: Inbox, *, resumed: bool = False) -> None:
        """Process a claimed file (``Service.process``)."""
        raise NotImplementedError

    async def sync_corrections(self) -> None:
        """Write the correction files (``Service.sync_corrections``)."""
        raise NotImplementedError

    async def _correction(
        self, claimed: ClaimedFile, parsed: ParsedEncounters, record: FileRecord
    ) -> None:
        """Take a correction file back from staff (``Service._correction``)."""
        raise NotImplementedError

    @property
    def _log(self) -> Any:
        # Resolved at each use, so a logging configuration made after start applies.
        return structlog.stdlib.get_logger("gateway.service").bind(worker=self.worker_id)

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

    def _inboxes(self) -> tuple[tuple[Inbox, Path], ...]:
        ws = self.settings.workspace
        return (("encounters", ws.encounters_inbox), ("responses", ws.responses_inbox))

    def _unique_transports(self) -> list[Transport]:
        seen: dict[str, Transport] = {}
        for transport in self.transports.values():
            seen.setdefault(transport.label, transport)
        return list(seen.values())

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
        await asyncio.to_thread(owner_only, target)
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
        await asyncio.to_thread(owner_only, target)
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


def owner_only(path: Path) -> None:
    """Files kept by the gateway are owner-only, whatever mode they arrived with."""
    path.chmod(0o600)
