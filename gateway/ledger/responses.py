"""Responses applied: TA1/999/277CA/835 matched to what was sent, claims moved, money
held and released.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.ledger import report_facts
from gateway.ledger import tables as t
from gateway.ledger.legs import LegsRepository
from gateway.ledger.lifecycle import CORRECTION_STATES, ClaimState, transition
from gateway.ledger.reconcile import (
    Document,
    Response,
    SentClaim,
    SentSnapshot,
    kind_of,
    reconcile,
    references,
    responses_in,
)
from gateway.ledger.records import (
    ClaimEvent,
    HeldClaim,
    Reason,
    Unmatched,
)
from gateway.ledger.repository import (
    _DEADLOCK_RETRIES,
    CURRENT_VERSION,
    HELD_SOURCE,
    ApplyResult,
    LedgerError,
    S,
    UnknownClaimError,
    _chunks,
    _event_key,
    _event_row,
    _json_ready,
    _now,
    _pk,
    _response_event_row,
)
from gateway.ledger.submissions import SubmissionsRepository
from gateway.models.remittance import Remittance


class ResponsesRepository(SubmissionsRepository, LegsRepository):
    """Applying responses, holding and releasing claims."""

    async def apply_response(
        self,
        response: Response | Sequence[Response],
        *,
        content_hash: str,
        kind: str,
        file_id: int | None = None,
        partner: str | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> ApplyResult:
        """Reconcile parsed responses with what we sent and apply the events, in one transaction.

        ``response`` is one response or every one read from one file
        (``reconcile.responses_in``), applied in order. The same content (``content_hash``)
        twice is a no-op reported as ``duplicate``; events already applied from another copy are
        skipped by key.
        """
        views: Sequence[Response] = (
            list(response) if isinstance(response, (list, tuple)) else [response]  # type: ignore[list-item]
        )
        await self._confirm_delivered(views, partner)
        for attempt in range(_DEADLOCK_RETRIES + 1):
            try:
                return await self._apply_response(
                    views, content_hash, kind, file_id, partner, summary
                )
            except DBAPIError as exc:
                # Two workers applying files about the same claims (a file's views lock their
                # claims one view after the other) can deadlock on PostgreSQL; the database
                # rolls one back, and it is simply applied again.
                if attempt == _DEADLOCK_RETRIES or getattr(exc.orig, "sqlstate", "") != "40P01":
                    raise
                await asyncio.sleep(random.uniform(0.05, 0.2) * (attempt + 1))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover

    async def _confirm_delivered(self, views: Sequence[Response], partner: str | None) -> None:
        """An acknowledgement of an interchange still recorded as an intent proves its delivery.

        The clearinghouse can answer (TA1, 999) between the hand-over and the moment the worker
        records its success; without this the answer would match nothing. A number that more
        than one partner was sent (and no partner given) is left alone: it cannot be told apart.
        """
        isa13s: set[str] = set()
        gs06s: set[str] = set()
        for view in views:
            isa, gs, _claims = references(view)
            isa13s.update(isa)
            gs06s.update(gs)
        if not isa13s and not gs06s:
            return
        ic, fg = t.interchanges, t.functional_groups
        query = sa.select(ic.c.id, ic.c.partner, ic.c.status, ic.c.isa13, fg.c.gs06).join(
            fg, fg.c.interchange_id == ic.c.id
        )
        if partner is not None:
            query = query.where(ic.c.partner == partner)
        rows: list[Any] = []
        async with self._read() as conn:
            for chunk in _chunks(sorted(isa13s)):
                rows += (await conn.execute(query.where(ic.c.isa13.in_(chunk)))).all()
            for chunk in _chunks(sorted(gs06s)):
                rows += (await conn.execute(query.where(fg.c.gs06.in_(chunk)))).all()
        partners_of: dict[tuple[str, str], set[str]] = {}
        for _id, prt, _status, isa13, gs06 in rows:
            if isa13 in isa13s:
                partners_of.setdefault(("isa13", isa13), set()).add(prt)
            if gs06 in gs06s:
                partners_of.setdefault(("gs06", gs06), set()).add(prt)
        pending: set[int] = set()
        for submission_id, _prt, status, isa13, gs06 in rows:
            if status != "intent":
                continue
            keys = [("isa13", isa13)] if isa13 in isa13s else []
            keys += [("gs06", gs06)] if gs06 in gs06s else []
            if any(len(partners_of[key]) == 1 for key in keys):
                pending.add(int(submission_id))
        for submission_id in sorted(pending):
            with contextlib.suppress(LedgerError):  # abandoned meanwhile: leave it
                await self._finish_submission(submission_id, "submitted", S.SUBMITTED, None, "")

    async def _apply_response(
        self,
        views: Sequence[Response],
        content_hash: str,
        kind: str,
        file_id: int | None,
        partner: str | None,
        summary: Mapping[str, Any] | None,
    ) -> ApplyResult:
        now = _now()
        applied = changes = skipped = 0
        unmatched: list[Unmatched] = []
        opened: list[str] = []
        try:
            async with self._write() as conn:
                found = await self._response_id(conn, content_hash)
                if found is not None:
                    return ApplyResult(found, True, 0, 0, 0, (), ())
                result = await conn.execute(
                    t.responses.insert().values(
                        content_hash=content_hash,
                        file_id=file_id,
                        kind=kind,
                        summary=_json_ready(summary) if summary else None,
                        events=0,
                        applied_at=now,
                    )
                )
                response_id = _pk(result)
                for view_of_response in views:
                    view = await self._sent_view(conn, view_of_response, partner)
                    outcome = reconcile(view_of_response, view)
                    changed, newly_opened = await self._apply(
                        conn, outcome.events, view, response_id, file_id, kind, now
                    )
                    if isinstance(view_of_response, Remittance):
                        # The next payer's leg, in the transaction that posts the 835.
                        await self._coordinate(
                            conn, view_of_response, outcome.events, response_id, file_id, now
                        )
                    applied += len(outcome.events)
                    changes += changed
                    skipped += outcome.skipped
                    unmatched.extend(outcome.unmatched)
                    opened.extend(newly_opened)
                if unmatched:
                    await conn.execute(
                        t.unmatched.insert(),
                        [
                            {
                                "response_id": response_id,
                                "reference": u.reference[:80],
                                "reason": u.reason[:255],
                                "detail": _json_ready(u.detail) if u.detail else None,
                                "recorded_at": now,
                            }
                            for u in unmatched
                        ],
                    )
                await conn.execute(
                    t.responses.update()
                    .where(t.responses.c.id == response_id)
                    .values(events=applied)
                )
        except IntegrityError:
            # Another worker applied the same content at the same moment.
            async with self._read() as conn:
                found = await self._response_id(conn, content_hash)
            if found is None:
                raise
            return ApplyResult(found, True, 0, 0, 0, (), ())
        return ApplyResult(
            response_id, False, applied, changes, skipped, tuple(unmatched), tuple(opened)
        )

    async def apply_document(
        self,
        document: Document,
        *,
        content_hash: str,
        file_id: int | None = None,
        partner: str | None = None,
    ) -> ApplyResult:
        """Apply a document from ``gateway.transactions`` (TA1, 999, 277CA or 835 document, or
        one streamed 835 ``Remittance``): :func:`gateway.ledger.reconcile.responses_in` + apply."""
        return await self.apply_response(
            responses_in(document),
            content_hash=content_hash,
            kind=kind_of(document),
            file_id=file_id,
            partner=partner,
        )

    async def hold_claims(
        self, held: Sequence[HeldClaim], *, file_id: int | None = None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Record that what a response says about these claims is held for review: an event each
        (state unchanged) and an open correction item (source ``835-held``) with the reasons.

        The same hold twice (a restart) is skipped by its event key. Returns the claim ids that
        got an item and those the ledger does not have (they match nothing we sent).
        """
        now = _now()
        opened: list[str] = []
        unknown: list[str] = []
        async with self._write() as conn:
            claims = await self._claims_for_view(conn, [h.claim_id for h in held])
            keys = [_event_key(h.key) for h in held]
            known: set[str] = set()
            for chunk in _chunks(keys):
                query = sa.select(t.claim_events.c.event_key).where(
                    t.claim_events.c.event_key.in_(chunk)
                )
                known.update(k for (k,) in (await conn.execute(query)).all())
            rows: list[dict[str, Any]] = []
            for hold, key in zip(held, keys, strict=True):
                claim = claims.get(hold.claim_id)
                if claim is None:
                    unknown.append(hold.claim_id)
                    continue
                if key in known:
                    continue
                known.add(key)
                detail = dict(hold.detail or {}) | {"reasons": [r.as_dict() for r in hold.reasons]}
                rows.append(
                    _event_row(
                        hold.claim_id,
                        claim.version,
                        now,
                        "835",
                        None,
                        None,
                        hold.cause,
                        file_id=file_id,
                        detail=detail,
                        event_key=key,
                    )
                )
                await self._open_item(
                    conn,
                    hold.claim_id,
                    claim.version,
                    claim.state,
                    HELD_SOURCE,
                    hold.reasons,
                    None,
                    None,
                    file_id,
                    now,
                )
                opened.append(hold.claim_id)
            if rows:
                await conn.execute(t.claim_events.insert(), rows)
        return tuple(opened), tuple(unknown)

    async def release_held_items(self, file_id: int, note: str, *, by: str = "released") -> int:
        """Close the ``835-held`` correction items a held file opened (it is being released, or
        dismissed: ``by``); returns how many were closed."""
        ci = t.correction_items
        async with self._write() as conn:
            result = await conn.execute(
                ci.update()
                .where(
                    ci.c.file_id == file_id,
                    ci.c.source == HELD_SOURCE,
                    ci.c.closed_at.is_(None),
                )
                .values(closed_at=_now(), closed_by=by[:16], note=note[:2000] or None)
            )
        return int(result.rowcount or 0)

    async def _response_id(self, conn: AsyncConnection, content_hash: str) -> int | None:
        found = (
            await conn.execute(
                sa.select(t.responses.c.id).where(t.responses.c.content_hash == content_hash)
            )
        ).scalar_one_or_none()
        return None if found is None else int(found)

    async def sent_view(self, response: Response, *, partner: str | None = None) -> SentSnapshot:
        """What we sent that ``response`` may concern (read-only snapshot)."""
        async with self._read() as conn:
            return await self._sent_view(conn, response, partner)

    async def _sent_view(
        self, conn: AsyncConnection, response: Response, partner: str | None
    ) -> SentSnapshot:
        isa13s, gs06s, claim_ids = references(response)
        snap = SentSnapshot()
        sent_rows: list[Any] = []
        base = (
            sa.select(
                t.interchanges.c.partner,
                t.interchanges.c.isa13,
                t.functional_groups.c.gs06,
                t.transaction_sets.c.st02,
                t.submitted_claims.c.claim_id,
                t.submitted_claims.c.version,
                t.submitted_claims.c.line_control_numbers,
            )
            .join(t.functional_groups, t.functional_groups.c.interchange_id == t.interchanges.c.id)
            .join(t.transaction_sets, t.transaction_sets.c.group_id == t.functional_groups.c.id)
            .join(t.submitted_claims, t.submitted_claims.c.set_id == t.transaction_sets.c.id)
            .where(t.interchanges.c.status == "submitted")
            .order_by(t.submitted_claims.c.id)
        )
        if partner is not None:
            base = base.where(t.interchanges.c.partner == partner)
        for chunk in _chunks(isa13s):
            sent_rows += (await conn.execute(base.where(t.interchanges.c.isa13.in_(chunk)))).all()
        for chunk in _chunks(gs06s):
            sent_rows += (
                await conn.execute(base.where(t.functional_groups.c.gs06.in_(chunk)))
            ).all()
        wanted = set(claim_ids) | {r[4] for r in sent_rows}
        claims = await self._claims_for_view(conn, sorted(wanted))
        # Line control numbers of each claim's latest submission.
        for chunk in _chunks(sorted(set(claim_ids))):
            for row in (
                await conn.execute(
                    sa.select(
                        t.submitted_claims.c.claim_id,
                        t.submitted_claims.c.version,
                        t.submitted_claims.c.line_control_numbers,
                    )
                    .where(t.submitted_claims.c.claim_id.in_(chunk))
                    .order_by(t.submitted_claims.c.id)
                )
            ).all():
                claim = claims.get(row[0])
                if claim is not None and row[1] == claim.version:
                    claims[row[0]] = replace(claim, line_control_numbers=tuple(row[2] or ()))
        snap.claims = claims
        partners_by_isa: dict[str, set[str]] = {}
        partners_by_gs: dict[str, set[str]] = {}
        for prt, isa13, gs06, st02, claim_id, version, lines in sent_rows:
            current = claims[claim_id]
            entry = replace(current, sent_version=version, line_control_numbers=tuple(lines or ()))
            if isa13 in isa13s:
                partners_by_isa.setdefault(isa13, set()).add(prt)
                snap.interchanges.setdefault(isa13, []).append(entry)
            if gs06 in gs06s:
                partners_by_gs.setdefault(gs06, set()).add(prt)
                snap.groups.setdefault(gs06, {}).setdefault(st02, []).append(entry)
        # A number sent to several partners cannot be told apart without knowing the partner.
        for isa13, prts in partners_by_isa.items():
            if len(prts) > 1:
                del snap.interchanges[isa13]
                snap.ambiguous_numbers.add(isa13)
        for gs06, prts in partners_by_gs.items():
            if len(prts) > 1:
                del snap.groups[gs06]
                snap.ambiguous_numbers.add(gs06)
        keys_query = sa.select(t.claim_events.c.event_key).where(
            t.claim_events.c.event_key.is_not(None)
        )
        for chunk in _chunks(sorted(wanted)):
            snap.event_keys.update(
                k
                for (k,) in (
                    await conn.execute(keys_query.where(t.claim_events.c.claim_id.in_(chunk)))
                ).all()
            )
        return snap

    async def _claims_for_view(
        self, conn: AsyncConnection, claim_ids: Sequence[str]
    ) -> dict[str, SentClaim]:
        out: dict[str, SentClaim] = {}
        # Rows are locked in claim id order, chunk after chunk, so that two workers applying
        # responses about the same claims queue up instead of deadlocking.
        for chunk in _chunks(sorted(set(claim_ids))):
            query = (
                sa.select(
                    t.claims.c.claim_id,
                    t.claims.c.current_version,
                    t.claims.c.state,
                    t.claim_versions.c.frequency,
                    t.claims.c.total_charge,
                    t.claims.c.payer_claim_control_number,
                    t.claim_versions.c.leg,
                    t.claims.c.payer_id,
                    t.claim_versions.c.next_leg,
                    t.claim_versions.c.next_payer_id,
                )
                .join(t.claim_versions, CURRENT_VERSION)
                .where(t.claims.c.claim_id.in_(chunk))
                .order_by(t.claims.c.claim_id)
            )
            if not self._sqlite:
                # Lock the claims first, then read them in a statement of its own: a join read
                # FOR UPDATE that waits for a worker changing a claim's current version (a
                # crossover records version 2 while posting an 835) re-checks the claim row
                # but not the version row it had joined, and drops the claim from the result.
                await conn.execute(
                    sa.select(t.claims.c.claim_id)
                    .where(t.claims.c.claim_id.in_(chunk))
                    .order_by(t.claims.c.claim_id)
                    .with_for_update()
                )
            for row in (await conn.execute(query)).all():
                out[row[0]] = SentClaim(
                    row[0],
                    int(row[1]),
                    S(row[2]),
                    row[3],
                    row[4],
                    row[5],
                    leg=int(row[6]),
                    payer_id=row[7],
                    next_leg=None if row[8] is None else int(row[8]),
                    next_payer_id=row[9],
                )
        return await self._legs_for_view(conn, out)

    async def apply_events(
        self,
        events: Sequence[ClaimEvent],
        *,
        response_id: int | None = None,
        file_id: int | None = None,
        source: str = "person",
    ) -> int:
        """Apply events (from a person or another source); returns the state changes made.

        Each event's target must be allowed from the claim's state at that point
        (``InvalidTransitionError`` otherwise, and nothing is applied); an event whose key was
        applied before is skipped.
        """
        now = _now()
        async with self._write() as conn:
            ids = sorted({e.claim_id for e in events})
            view = SentSnapshot(claims=await self._claims_for_view(conn, ids))
            missing = [i for i in ids if i not in view.claims]
            if missing:
                raise UnknownClaimError(f"claim {missing[0]} is not in the ledger")
            keys = [e.key for e in events]
            known: set[str] = set()
            for chunk in _chunks(keys):
                query = sa.select(t.claim_events.c.event_key).where(
                    t.claim_events.c.event_key.in_(chunk)
                )
                known.update(k for (k,) in (await conn.execute(query)).all())
            fresh = [e for e in events if e.key not in known]
            changes, _ = await self._apply(conn, fresh, view, response_id, file_id, source, now)
        return changes

    async def _apply(
        self,
        conn: AsyncConnection,
        events: Sequence[ClaimEvent],
        view: SentSnapshot,
        response_id: int | None,
        file_id: int | None,
        source: str,
        now: datetime,
    ) -> tuple[int, tuple[str, ...]]:
        states = {cid: c.state for cid, c in view.claims.items()}
        leg_states: dict[tuple[str, int], ClaimState] = {}
        updates: dict[str, dict[str, Any]] = {}
        rows: list[dict[str, Any]] = []
        opened: list[str] = []
        changes = 0
        for ev in events:
            claim = view.claims[ev.claim_id]
            if ev.opens_leg and ev.leg is not None:
                # The next payer answered a claim the previous one forwarded: its leg first.
                if await self._open_forwarded_leg(conn, ev, claim, now):
                    states[ev.claim_id] = S.CROSSED_OVER
                elif not await self._has_leg(conn, ev.claim_id, ev.leg):
                    ev = replace(
                        ev,
                        target=None,
                        paid_amount=None,
                        cause=ev.cause + " (its leg could not be recorded: state unchanged)",
                    )
            elif ev.leg is not None and ev.leg != claim.leg:
                row, moved = await self._apply_leg_event(
                    conn, ev, claim, leg_states, response_id, file_id, source, now
                )
                row["response_id"] = response_id
                if ev.reasons:
                    row["detail"] = (row["detail"] or {}) | {
                        "reasons": [r.as_dict() for r in ev.reasons]
                    }
                rows.append(row)
                changes += int(moved)
                continue
            before = states[ev.claim_id]
            after: ClaimState | None = None
            if ev.target is not None:
                after = transition(before, ev.target)
                states[ev.claim_id] = after
                changes += 1
            row = _response_event_row(ev, now, before, after, file_id=file_id)
            row["response_id"] = response_id
            if ev.reasons:
                row["detail"] = (row["detail"] or {}) | {
                    "reasons": [r.as_dict() for r in ev.reasons]
                }
            rows.append(row)
            values = updates.setdefault(ev.claim_id, {})
            if after is not None:
                values["state"] = after.value
            if ev.payer_claim_control_number:
                values["payer_claim_control_number"] = ev.payer_claim_control_number
            if after is not None and ev.paid_amount is not None:
                values["paid_amount"] = ev.paid_amount
                values["patient_responsibility"] = ev.patient_responsibility
            if after is not None and before in CORRECTION_STATES and after not in CORRECTION_STATES:
                await self._close_items(conn, ev.claim_id, "payer", ev.cause, now)
            if after in CORRECTION_STATES:
                await self._open_item(
                    conn,
                    ev.claim_id,
                    ev.version,
                    after,
                    source,
                    ev.reasons or (Reason(source, ev.cause),),
                    None,
                    response_id,
                    file_id,
                    now,
                )
                opened.append(ev.claim_id)
        # One executemany per shape of update (most responses have one or two shapes).
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for claim_id, values in updates.items():
            if values:
                params = {f"b_{k}": v for k, v in values.items()}
                shapes.setdefault(tuple(sorted(values)), []).append(
                    params | {"b_claim_id": claim_id, "b_updated_at": now}
                )
        for keys, params_list in shapes.items():
            statement = (
                t.claims.update()
                .where(t.claims.c.claim_id == sa.bindparam("b_claim_id"))
                .values({k: sa.bindparam(f"b_{k}") for k in keys})
                .values(updated_at=sa.bindparam("b_updated_at"))
            )
            await conn.execute(statement, params_list)
        if rows:
            await conn.execute(t.claim_events.insert(), rows)
            await report_facts.record_facts(conn, rows)
        return changes, tuple(opened)
