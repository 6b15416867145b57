"""Interchanges sent: control numbers (the one allocator of ISA13/GS06/ST02 per partner)
and the write-ahead submission records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gateway.ledger import report_facts
from gateway.ledger import tables as t
from gateway.ledger.lifecycle import ClaimState, transition
from gateway.ledger.reconcile import (
    normalize_control_number,
)
from gateway.ledger.records import (
    ClaimSent,
    GroupSent,
    SetSent,
    SubmissionIntent,
    SubmissionRecord,
)
from gateway.models.encounter_types import Kind

if TYPE_CHECKING:
    from gateway.transactions.claim837_envelope import InterchangeSent

from gateway.ledger.repository import (
    _MAXIMUM,
    Counter,
    LedgerError,
    Repository,
    S,
    UnknownClaimError,
    _aware,
    _event_row,
    _insert,
    _now,
    _pk,
)


class SubmissionsRepository(Repository):
    """Control numbers and submissions."""

    async def allocate(self, partner: str, counter: Counter, count: int = 1) -> int:
        """Reserve ``count`` consecutive control numbers for ``partner``; return the first.

        One atomic ``UPDATE ... RETURNING`` per call: unique across processes and workers, and
        never handed out again (a number reserved for a file that was never written is a gap).
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        if counter not in ("isa13", "gs06", "st02"):
            raise ValueError(f"unknown control number {counter!r}")
        table = t.control_numbers
        async with self._write() as conn:
            insert = _insert(self.dialect, table).values(
                partner=partner, kind=counter, last_value=0
            )
            await conn.execute(insert.on_conflict_do_nothing(index_elements=["partner", "kind"]))
            last = (
                await conn.execute(
                    table.update()
                    .where(table.c.partner == partner, table.c.kind == counter)
                    .values(last_value=table.c.last_value + count)
                    .returning(table.c.last_value)
                )
            ).scalar_one()
            if last > _MAXIMUM:
                raise LedgerError(f"{counter} for partner {partner!r} is exhausted")
        return int(last) - count + 1

    async def last_control_number(self, partner: str, counter: Counter) -> int:
        """The last number handed out (0 when none was)."""
        table = t.control_numbers
        async with self._read() as conn:
            value = (
                await conn.execute(
                    sa.select(table.c.last_value).where(
                        table.c.partner == partner, table.c.kind == counter
                    )
                )
            ).scalar_one_or_none()
        return int(value or 0)

    # ------------------------------------------------------------------ submissions

    async def record_submission_intent(self, intent: SubmissionIntent) -> int:
        """Write-ahead: record the interchange about to be written; its claims become batched."""
        now = _now()
        isa13 = normalize_control_number(intent.isa13)
        async with self._write() as conn:
            result = await conn.execute(
                t.interchanges.insert().values(
                    partner=intent.partner,
                    isa13=isa13,
                    kind=intent.kind,
                    file_name=intent.file_name,
                    status="intent",
                    created_at=now,
                )
            )
            interchange_id = _pk(result)
            claim_ids = [c.claim_id for c in intent.claims()]
            states = await self._states(conn, claim_ids)
            events: list[dict[str, Any]] = []
            for group in intent.groups:
                gs06 = normalize_control_number(group.gs06)
                group_id = _pk(
                    await conn.execute(
                        t.functional_groups.insert().values(
                            interchange_id=interchange_id, gs06=gs06
                        )
                    )
                )
                for tx_set in group.sets:
                    st02 = normalize_control_number(tx_set.st02)
                    set_id = _pk(
                        await conn.execute(
                            t.transaction_sets.insert().values(group_id=group_id, st02=st02)
                        )
                    )
                    rows = []
                    for sent in tx_set.claims:
                        state, version = states.get(sent.claim_id, (None, 0))
                        if state is None:
                            raise UnknownClaimError(f"claim {sent.claim_id} is not in the ledger")
                        if sent.version is not None and version != sent.version:
                            raise LedgerError(
                                f"claim {sent.claim_id} is at version {version}, not {sent.version}"
                            )
                        transition(state, S.BATCHED)
                        rows.append(
                            {
                                "set_id": set_id,
                                "claim_id": sent.claim_id,
                                "version": version,
                                "line_control_numbers": list(sent.line_control_numbers),
                            }
                        )
                        events.append(
                            _event_row(
                                sent.claim_id,
                                version,
                                now,
                                "batched",
                                state,
                                S.BATCHED,
                                f"batched in {intent.file_name} ({intent.kind})",
                                isa13=isa13,
                                gs06=gs06,
                                st02=st02,
                            )
                        )
                    if rows:
                        await conn.execute(t.submitted_claims.insert(), rows)
            await self._set_states(conn, claim_ids, S.BATCHED, now)
            if events:
                await conn.execute(t.claim_events.insert(), events)
        return interchange_id

    async def record_submission_success(
        self, submission_id: int, *, file_id: int | None = None
    ) -> None:
        """The file was written and handed over: its claims become submitted."""
        await self._finish_submission(submission_id, "submitted", S.SUBMITTED, file_id, "")

    async def abandon_submission(self, submission_id: int, reason: str) -> None:
        """The file was never sent (crash, build or transport failure): claims go back to queued."""
        await self._finish_submission(submission_id, "abandoned", S.QUEUED, None, reason)

    async def _finish_submission(
        self,
        submission_id: int,
        status: str,
        target: ClaimState,
        file_id: int | None,
        reason: str,
    ) -> None:
        now = _now()
        async with self._write() as conn:
            row = (
                (
                    await conn.execute(
                        self._lock(
                            sa.select(t.interchanges).where(t.interchanges.c.id == submission_id)
                        )
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise LedgerError(f"no submission {submission_id} in the ledger")
            if row["status"] != "intent":
                if row["status"] == status:
                    if file_id is not None and row["file_id"] is None:
                        # confirmed by an early acknowledgement; now the file is known too
                        await conn.execute(
                            t.interchanges.update()
                            .where(t.interchanges.c.id == submission_id)
                            .values(file_id=file_id)
                        )
                    return  # already done: recording it twice changes nothing
                raise LedgerError(f"submission {submission_id} is already {row['status']}")
            values: dict[str, Any] = {"status": status}
            if status == "submitted":
                values["submitted_at"] = now
            if file_id is not None:
                values["file_id"] = file_id
            await conn.execute(
                t.interchanges.update().where(t.interchanges.c.id == submission_id).values(**values)
            )
            sent = (
                await conn.execute(
                    sa.select(
                        t.submitted_claims.c.claim_id,
                        t.submitted_claims.c.version,
                        t.functional_groups.c.gs06,
                        t.transaction_sets.c.st02,
                    )
                    .join(
                        t.transaction_sets, t.transaction_sets.c.id == t.submitted_claims.c.set_id
                    )
                    .join(
                        t.functional_groups,
                        t.functional_groups.c.id == t.transaction_sets.c.group_id,
                    )
                    .where(t.functional_groups.c.interchange_id == submission_id)
                )
            ).all()
            states = await self._states(conn, [r[0] for r in sent])
            events = []
            moved = []
            for claim_id, version, gs06, st02 in sent:
                state, current = states[claim_id]
                if current != version or state != S.BATCHED:
                    continue  # the claim moved on (resubmitted meanwhile): leave it
                transition(state, target)
                moved.append(claim_id)
                cause = (
                    f"submitted in {row['file_name']}"
                    if target == S.SUBMITTED
                    else f"file {row['file_name']} not sent ({reason}); back in the queue"
                )
                events.append(
                    _event_row(
                        claim_id,
                        version,
                        now,
                        "submitted" if target == S.SUBMITTED else "abandoned",
                        state,
                        target,
                        cause,
                        isa13=row["isa13"],
                        gs06=gs06,
                        st02=st02,
                        file_id=file_id,
                    )
                )
            await self._set_states(conn, moved, target, now)
            if events:
                await conn.execute(t.claim_events.insert(), events)
                await report_facts.record_facts(conn, events)

    async def submissions(self, *, status: str | None = None) -> list[SubmissionRecord]:
        """Interchanges recorded (``status`` intent: written-ahead but not finished)."""
        query = sa.select(t.interchanges).order_by(t.interchanges.c.id)
        if status is not None:
            query = query.where(t.interchanges.c.status == status)
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            SubmissionRecord(
                r["id"],
                r["partner"],
                r["kind"],
                r["isa13"],
                r["file_name"],
                r["status"],
                _aware(r["created_at"]),
                _aware(r["submitted_at"]) if r["submitted_at"] else None,
            )
            for r in rows
        ]

    async def record_built(self, sent: InterchangeSent, file_name: str) -> int:
        """Write-ahead for an interchange from the 837 builder (``InterchangeSent``): its claims
        become batched; returns the submission id for ``record_submission_success``."""
        return await self.record_submission_intent(intent_from_sent(sent, file_name))


def intent_from_sent(sent: InterchangeSent, file_name: str) -> SubmissionIntent:
    """The write-ahead record of an interchange the 837 builder produced (claims at their
    current versions, with their REF*6R line control numbers)."""
    sets = tuple(
        SetSent(
            tx.st02,
            tuple(ClaimSent(c.claim_id, None, tuple(c.line_control_numbers)) for c in tx.claims),
        )
        for tx in sent.transactions
    )
    return SubmissionIntent(
        sent.partner,
        _kind_label(str(sent.kind)),
        sent.isa13,
        file_name,
        (GroupSent(sent.gs06, sets),),
    )


def _kind_label(kind: str) -> str:
    try:
        return Kind(kind).label
    except ValueError:
        return kind
