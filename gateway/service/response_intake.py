"""Response intake: pulling responses from the transports, checking and posting each file.

A response file is checked in one streamed pass (``gateway.service.responses``: complete
envelopes, 835 balancing, TR3) and posted in a second (``gateway.service.posting``: batches,
idempotent by content hash), then archived; one that holds no readable response is quarantined;
an incomplete one, or one with 835 sets out of balance, is held (nothing, or only its balanced
sets, applied). Pulls back off by each transport's health (``gateway.service.transport_health``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from pathlib import Path
from typing import Any

from gateway.ledger.records import FileRecord
from gateway.service.custody import FileCustody, owner_only
from gateway.service.files import (
    ClaimedFile,
    FileProblem,
    quarantine_file,
    sha256_file_sync,
)
from gateway.service.posting import LEDGER_KINDS, post_response
from gateway.service.responses import ResponseCheck, check_response_file
from gateway.service.transport_health import TransportHealth
from gateway.service.transports import (
    DirectoryTransport,
    Transport,
    TransportError,
    pull_responses,
)

__all__ = ["ResponseIntake"]


class ResponseIntake(FileCustody):
    """Pulling and taking response files (``process`` sends a responses-inbox file here)."""

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
        await asyncio.to_thread(owner_only, target)
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

    async def pull(self) -> int:
        """Pull waiting responses from every transport into the responses inbox once."""
        pulled = 0
        for transport in self._pulling_transports():
            if self._health_of(transport).ready():  # not while it backs off after a failure
                pulled += await self._pull_from(transport)
        return pulled

    def _pulling_transports(self) -> list[Transport]:
        return [
            t
            for t in self._unique_transports()
            if not (isinstance(t, DirectoryTransport) and t.drop_dir is None)
        ]

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
