"""Recovery and take-over: finishing what a crash, or a worker that died, left half-done.

On start, files this worker had claimed are processed again (the ledger makes that harmless) and
staged 837s and submission intents are settled (``Submitter.finish_staged``). The work of a worker
known to be dead (presence on PostgreSQL: ``gateway.ledger.workers``), or untracked for longer than
``takeover_seconds``, is taken over by atomic rename. A worker id is held for the life of the
process: ``state/workers/<id>.lock`` (``flock``) and, on PostgreSQL, its presence.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import time
from collections.abc import Mapping
from pathlib import Path

import structlog

from gateway.config import Settings
from gateway.ledger.workers import WorkerIdInUseError, WorkerPresence
from gateway.service.custody import FileCustody, Inbox
from gateway.service.files import (
    ClaimedFile,
    claim_file,
    hold_lock,
    list_claimed,
)

__all__ = ["TAKEOVER_CHECK_SECONDS", "Recovery", "lock_worker", "register_worker"]

#: How often a worker with presence looks for the work of workers that died.
TAKEOVER_CHECK_SECONDS = 5.0
#: A worker restarted right after a crash may find its old connection's lock not yet released.
_REGISTER_ATTEMPTS = 12
_REGISTER_PAUSE = 0.25


class Recovery(FileCustody):
    """Resuming this worker's files, and taking over those of workers that died."""

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


def lock_worker(settings: Settings, worker_id: str) -> int | None:
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


async def register_worker(ledger_url: str, worker_id: str) -> WorkerPresence:
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
