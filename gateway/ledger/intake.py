"""Claims in: encounters recorded as claims (new, new versions, duplicates) and claims
found invalid when their file was built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.ledger import report_facts
from gateway.ledger import tables as t
from gateway.ledger.legs import record_legs
from gateway.ledger.lifecycle import transition
from gateway.ledger.reconcile import leg_name
from gateway.ledger.records import (
    IncomingClaim,
    IntakeOutcome,
    Reason,
)
from gateway.transactions.crossover import legs_named, next_payer_named

if TYPE_CHECKING:
    pass

from gateway.ledger.repository import (
    _REOPENABLE,
    Repository,
    S,
    _chunks,
    _json_ready,
    _now,
)


class IntakeRepository(Repository):
    """Claims and their versions coming in."""

    async def record_claims(
        self,
        incoming: Sequence[IncomingClaim],
        *,
        file_id: int | None = None,
        origin: str = "intake",
    ) -> list[IntakeOutcome]:
        """Record encounters as claims: new ones, new versions of reopenable ones, or duplicates.

        A claim id already in the ledger takes a new version only when ``origin`` is a correction
        (``correction-file`` or ``resubmit``) or the encounter is a replacement/void (7 or 8) and
        the claim is not in flight; otherwise it is a ``duplicate`` and nothing changes. Claims
        with ``findings`` become ``invalid`` with a correction item; the others are ``queued``.
        """
        for attempt in range(3):
            outcomes: list[IntakeOutcome] = []
            try:
                async with self._write() as conn:
                    for chunk in _chunks(incoming):
                        outcomes.extend(await self._record_chunk(conn, chunk, file_id, origin))
            except IntegrityError:
                # Another worker recorded one of these claim ids at the same moment (PostgreSQL):
                # the whole file is rolled back and recorded again, now seeing that claim.
                if attempt == 2:
                    raise
                continue
            return outcomes
        raise AssertionError("unreachable")  # pragma: no cover

    async def _record_chunk(
        self,
        conn: AsyncConnection,
        chunk: Sequence[IncomingClaim],
        file_id: int | None,
        origin: str,
    ) -> list[IntakeOutcome]:
        ids = [c.claim_id for c in chunk]
        rows = (
            (
                await conn.execute(
                    self._lock(sa.select(t.claims).where(t.claims.c.claim_id.in_(ids)))
                )
            )
            .mappings()
            .all()
        )
        existing = {row["claim_id"]: row for row in rows}
        now = _now()
        outcomes: list[IntakeOutcome] = []
        new_claims: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        leg_rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for claim in chunk:
            correction = origin != "intake" or claim.frequency in ("7", "8")
            row = existing.get(claim.claim_id)
            if claim.claim_id in seen:
                outcomes.append(
                    IntakeOutcome(claim.claim_id, "duplicate", 0, S.RECEIVED, "twice in one file")
                )
                continue
            seen.add(claim.claim_id)
            if row is not None:
                state = S(row["state"])
                if not correction or state not in _REOPENABLE:
                    detail = f"claim {claim.claim_id} is already in the ledger ({state})"
                    outcomes.append(
                        IntakeOutcome(
                            claim.claim_id, "duplicate", row["current_version"], state, detail
                        )
                    )
                    continue
            version = 1 if row is None else int(row["current_version"]) + 1
            target = S.INVALID if claim.findings else S.QUEUED
            leg, next_leg = legs_named(claim.encounter)
            leg_rows.append(
                {
                    "claim_id": claim.claim_id,
                    "leg": leg,
                    "responsibility": leg_name(leg),
                    "payer_id": claim.payer_id,
                    "payer_name": claim.payer_name,
                    "partner": claim.partner,
                    "origin": "billed",
                    "state": target.value,
                    "opened_at": now,
                    "updated_at": now,
                }
            )
            versions.append(
                {
                    "leg": leg,
                    "next_leg": next_leg,
                    "next_payer_id": next_payer_named(claim.encounter),
                    "claim_id": claim.claim_id,
                    "version": version,
                    "frequency": claim.frequency,
                    "replaces_version": None if row is None else version - 1,
                    "origin": origin,
                    "source_file_id": file_id,
                    "total_charge": claim.total_charge,
                    "encounter": _json_ready(claim.encounter),
                    "received_at": now,
                }
            )
            base = {
                "claim_id": claim.claim_id,
                "version": version,
                "at": now,
                "file_id": file_id,
                "response_id": None,
                "isa13": None,
                "gs06": None,
                "st02": None,
                "amount": claim.total_charge,
                "detail": None,
                "event_key": None,
            }
            if row is None:
                new_claims.append(
                    {
                        "claim_id": claim.claim_id,
                        "kind": claim.kind,
                        "partner": claim.partner,
                        "payer_id": claim.payer_id,
                        "payer_name": claim.payer_name,
                        "state": target.value,
                        "current_version": version,
                        "total_charge": claim.total_charge,
                        "created_at": now,
                        "updated_at": now,
                    }
                    | report_facts.claim_columns(claim.encounter, clean=not claim.findings)
                )
                events.append(
                    base
                    | {
                        "kind": "received",
                        "from_state": None,
                        "to_state": S.RECEIVED.value,
                        "cause": f"received ({origin}, frequency {claim.frequency})",
                    }
                )
                outcome = "new"
            else:
                previous = S(row["state"])
                transition(previous, S.RECEIVED)
                events.append(
                    base
                    | {
                        "kind": "resubmitted",
                        "from_state": previous.value,
                        "to_state": S.RECEIVED.value,
                        "cause": f"version {version} (frequency {claim.frequency}) replaces "
                        f"version {version - 1} ({origin})",
                    }
                )
                await self._close_items(conn, claim.claim_id, "resubmitted", None, now)
                await conn.execute(
                    t.claims.update()
                    .where(t.claims.c.claim_id == claim.claim_id)
                    .values(
                        state=target.value,
                        current_version=version,
                        total_charge=claim.total_charge,
                        payer_id=claim.payer_id,
                        partner=claim.partner,
                        kind=claim.kind,
                        # The new version is unpaid so far; what the old one got is in its events.
                        paid_amount=None,
                        patient_responsibility=None,
                        updated_at=now,
                        **report_facts.claim_columns(claim.encounter),
                    )
                )
                outcome = "resubmission"
            transition(S.RECEIVED, target)
            cause = (
                f"checked: {len(claim.findings)} finding(s), first {claim.findings[0].code}"
                if claim.findings
                else "checked: no findings, waiting for a batch"
            )
            events.append(
                base
                | {
                    "kind": "checked",
                    "from_state": S.RECEIVED.value,
                    "to_state": target.value,
                    "cause": cause,
                    "amount": None,
                    "detail": {"findings": [f.as_dict() for f in claim.findings]}
                    if claim.findings
                    else None,
                }
            )
            outcomes.append(IntakeOutcome(claim.claim_id, outcome, version, target))
        if new_claims:
            await conn.execute(t.claims.insert(), new_claims)
        if versions:
            await conn.execute(t.claim_versions.insert(), versions)
        await record_legs(conn, leg_rows)
        if events:
            await conn.execute(t.claim_events.insert(), events)
        for claim in chunk:
            if claim.findings and any(
                o.claim_id == claim.claim_id and o.outcome != "duplicate" for o in outcomes
            ):
                version = next(o.version for o in outcomes if o.claim_id == claim.claim_id)
                await self._open_item(
                    conn,
                    claim.claim_id,
                    version,
                    S.INVALID,
                    "scrubber",
                    claim.findings,
                    claim.payer_id,
                    None,
                    file_id,
                    now,
                )
        return outcomes

    async def mark_invalid(
        self, claim_id: str, findings: Sequence[Reason], *, cause: str = "TR3 check of the file"
    ) -> None:
        """A queued or batched claim found wrong when its file was built: open a correction item."""
        now = _now()
        async with self._write() as conn:
            row = await self._claim_row(conn, claim_id)
            state = S(row["state"])
            transition(state, S.INVALID)
            await self._set_state(conn, claim_id, S.INVALID, now)
            await conn.execute(
                t.claim_events.insert().values(
                    claim_id=claim_id,
                    version=row["current_version"],
                    at=now,
                    kind="checked",
                    from_state=state.value,
                    to_state=S.INVALID.value,
                    cause=f"{cause}: {len(findings)} finding(s)",
                    detail={"findings": [f.as_dict() for f in findings]},
                )
            )
            await self._open_item(
                conn,
                claim_id,
                int(row["current_version"]),
                S.INVALID,
                "validation",
                tuple(findings),
                row["payer_id"],
                None,
                None,
                now,
            )
