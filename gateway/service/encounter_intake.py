"""Encounter intake: an encounter file the service took, recorded a batch of claims at a time.

The file is hashed as a stream (the same content twice is a duplicate), read and scrubbed off the
event loop (``gateway.service.intake``) and recorded ``BATCH_CLAIMS`` claims per ledger
transaction (``Ledger.record_claims``). Encounters that cannot be claims leave a quarantine record
(``gateway.service.unreadable``); a file written to while it was read is read again, and an
archived one written to later is read again too (``recheck_archived``). A correction document
goes to ``Service._correction``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from functools import partial
from pathlib import Path

from gateway.ledger.records import IncomingClaim, IntakeOutcome
from gateway.service.custody import MAX_ATTEMPTS, FileCustody
from gateway.service.files import (
    ClaimedFile,
    FileProblem,
    FileTooLargeError,
    claim_file,
    file_state,
    read_file,
    sha256_file,
)
from gateway.service.intake import (
    MAX_CORRECTION_BYTES,
    UnreadableLog,
    correction_document,
    is_json_lines,
    parse_encounter_file,
    read_batches,
)
from gateway.service.intake_files import file_head, note_attempt
from gateway.service.submit import crash_point
from gateway.service.unreadable import UNREADABLE_KIND, write_unreadable_record

__all__ = ["EncounterIntake"]

#: How many times a file that keeps changing while it is read is read again before it is
#: taken as it then is (later writes are still caught by the archive check).
_REREADS = 3


class EncounterIntake(FileCustody):
    """Taking encounter files (``process`` sends an encounters-inbox file here)."""

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
