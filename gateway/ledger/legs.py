"""Coordination of benefits in the ledger: a claim's legs, one per payer in order of
responsibility, and the step from one leg to the next.

A claim's current leg is the leg of its current version (``claim_versions.leg``); the ``claims``
row holds that leg's state and money, as for any claim, so batching, the queue and the reports
work on it unchanged. ``claim_legs`` keeps every leg's payer, partner and origin, and the state
and money of the legs left behind (written when the claim moves on, or when a late answer about
an earlier leg comes).

:meth:`LegsRepository._coordinate` runs in the transaction that posts an 835, after its events:
when the primary's payment settled the claim (``reconcile`` marked the event ``bill``) and the
encounter names a next payer, it records the next leg's first version (origin ``crossover``),
queued for that payer's partner; when the payer forwarded the claim itself (``forwarded``), the
next leg is recorded ``crossed_over`` and nothing is sent; a reversal of an earlier leg's payment
after the next leg was recorded (``reversed``), or its corrected payment (``corrected``: the next
leg's replacement is rebuilt and offered to ``gateway queue resubmit``), opens a correction item.
Each step has an event key, and the next leg's row its primary key: a replay does nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.ledger import tables as t
from gateway.ledger.correction_rules import reasons_from_findings
from gateway.ledger.lifecycle import ClaimState, is_allowed, transition
from gateway.ledger.reconcile import SentClaim, SentLeg, leg_name
from gateway.ledger.records import ClaimEvent, LegRecord, Reason
from gateway.ledger.repository import (
    CURRENT_VERSION,
    Repository,
    S,
    _chunks,
    _event_key,
    _event_row,
    _json_ready,
    _response_event_row,
)
from gateway.models.encounter import Encounter
from gateway.models.remittance import Claim, Remittance
from gateway.transactions.crossover import (
    CrossoverError,
    forwarded_encounter,
    legs_named,
    next_payer_encounter,
    next_payer_named,
)

__all__ = [
    "COB_SOURCE",
    "WAITING_STATES",
    "LegsRepository",
    "legs_data",
    "patient_balance",
    "record_legs",
]

#: The correction-item source of the coordination-of-benefits items.
COB_SOURCE = "cob"
#: Where a later leg stands while its payer has not answered yet.
WAITING_STATES = frozenset(
    {S.RECEIVED, S.QUEUED, S.BATCHED, S.SUBMITTED, S.ACKNOWLEDGED, S.ACCEPTED, S.CROSSED_OVER}
)


async def record_legs(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record the leg of each new claim version: a new leg row, or the leg's payer and partner
    brought up to date (a resubmission to the same payer; its offered replacement is used)."""
    if not rows:
        return
    cl = t.claim_legs
    existing: set[tuple[str, int]] = set()
    for chunk in _chunks(sorted({r["claim_id"] for r in rows})):
        query = sa.select(cl.c.claim_id, cl.c.leg).where(cl.c.claim_id.in_(chunk))
        existing.update((cid, int(leg)) for cid, leg in (await conn.execute(query)).all())
    fresh = [dict(r) for r in rows if (r["claim_id"], r["leg"]) not in existing]
    if fresh:
        await conn.execute(cl.insert(), fresh)
    for row in rows:
        if (row["claim_id"], row["leg"]) in existing:
            await conn.execute(
                cl.update()
                .where(cl.c.claim_id == row["claim_id"], cl.c.leg == row["leg"])
                .values(
                    payer_id=row["payer_id"],
                    payer_name=row["payer_name"],
                    partner=row["partner"],
                    state=row["state"],
                    replacement=None,
                    updated_at=row["updated_at"],
                )
            )


class LegsRepository(Repository):
    """A claim's legs: read for matching, moved on by an 835, shown to people."""

    async def _legs_for_view(
        self, conn: AsyncConnection, claims: dict[str, SentClaim]
    ) -> dict[str, SentClaim]:
        """The claims of a response view with their other legs (each with its latest version)."""
        cl, cv = t.claim_legs, t.claim_versions
        found: dict[str, list[SentLeg]] = {}
        for chunk in _chunks(sorted(claims)):
            latest = (
                sa.select(
                    cv.c.claim_id,
                    cv.c.leg,
                    sa.func.max(cv.c.version).label("version"),
                )
                .where(cv.c.claim_id.in_(chunk))
                .group_by(cv.c.claim_id, cv.c.leg)
                .subquery()
            )
            query = (
                sa.select(
                    cl.c.claim_id,
                    cl.c.leg,
                    latest.c.version,
                    cl.c.state,
                    cv.c.frequency,
                    cv.c.total_charge,
                    cl.c.payer_id,
                    cl.c.payer_claim_control_number,
                )
                .join(latest, sa.and_(latest.c.claim_id == cl.c.claim_id, latest.c.leg == cl.c.leg))
                .join(
                    cv,
                    sa.and_(cv.c.claim_id == latest.c.claim_id, cv.c.version == latest.c.version),
                )
                .where(cl.c.claim_id.in_(chunk))
            )
            for row in (await conn.execute(query)).all():
                claim = claims[row[0]]
                if int(row[1]) == claim.leg:
                    continue
                found.setdefault(row[0], []).append(
                    SentLeg(int(row[1]), int(row[2]), S(row[3]), row[4], row[5], row[6], row[7])
                )
        out = dict(claims)
        for claim_id, legs in found.items():
            out[claim_id] = _with_legs(out[claim_id], legs)
        return out

    async def _apply_leg_event(
        self,
        conn: AsyncConnection,
        ev: ClaimEvent,
        claim: SentClaim,
        states: dict[tuple[str, int], ClaimState],
        response_id: int | None,
        file_id: int | None,
        source: str,
        now: datetime,
    ) -> tuple[dict[str, Any], bool]:
        """Apply an event about an earlier leg (not the claim's current one): the leg's row moves,
        the claim stays. Returns the event row and whether the state changed."""
        assert ev.leg is not None
        leg = next(x for x in claim.legs if x.leg == ev.leg)
        before = states.get((ev.claim_id, ev.leg), leg.state)
        after = transition(before, ev.target) if ev.target is not None else None
        values: dict[str, Any] = {"updated_at": now}
        if after is not None:
            states[(ev.claim_id, ev.leg)] = after
            values["state"] = after.value
            if ev.paid_amount is not None:
                values["paid_amount"] = ev.paid_amount
                values["patient_responsibility"] = ev.patient_responsibility
        if ev.payer_claim_control_number:
            values["payer_claim_control_number"] = ev.payer_claim_control_number
        cl = t.claim_legs
        await conn.execute(
            cl.update().where(cl.c.claim_id == ev.claim_id, cl.c.leg == ev.leg).values(values)
        )
        if after is S.DENIED:
            reasons = ev.reasons or (Reason(source, ev.cause),)
            await self._open_item(
                conn, ev.claim_id, ev.version, after, source, reasons,
                leg.payer_id, response_id, file_id, now,
            )  # fmt: skip
        row = _response_event_row(ev, now, before, after, file_id=file_id)
        return row, after is not None

    async def _open_forwarded_leg(
        self, conn: AsyncConnection, ev: ClaimEvent, claim: SentClaim, now: datetime
    ) -> bool:
        """Record the leg an 835 from a payer we never billed is about (the previous payer
        forwarded the claim): ``crossed_over``, its encounter the next payer's without the
        previous payer's adjudication (that 835 never reached us). False when it exists."""
        assert ev.leg is not None
        encounter = await self._version_encounter(conn, ev.claim_id, claim.version)
        try:
            following = _forwarded(encounter)
        except (CrossoverError, ValidationError):
            return False
        return await self._next_leg(
            conn,
            ev.claim_id,
            following,
            "crossed-over",
            f"the {leg_name(claim.leg)} payer forwarded the claim (an 835 came from the "
            f"{leg_name(ev.leg)} payer, which the gateway never billed)",
            now,
            file_id=None,
        )

    async def _coordinate(
        self,
        conn: AsyncConnection,
        remittance: Remittance,
        events: Sequence[ClaimEvent],
        response_id: int | None,
        file_id: int | None,
        now: datetime,
    ) -> int:
        """Act on what the 835's events mean for the next legs; returns the legs recorded."""
        steps = [ev for ev in events if ev.detail.get("coordination")]
        if not steps:
            return 0
        by_id: dict[str, list[Claim]] = {}
        for clp in remittance.claims:
            by_id.setdefault(clp.claim_id, []).append(clp)
        recorded = 0
        paid_on = remittance.header.payment_date or remittance.header.production_date
        for ev in steps:
            step = str(ev.detail["coordination"])
            payment = _payment_of(ev, by_id.get(ev.claim_id, []))
            if payment is None:
                continue
            if step in ("bill", "forwarded") and ev.target is not None:
                recorded += await self._cross_over(
                    conn, ev, payment, remittance, step, file_id, now, paid_on or now.date()
                )
            elif step == "reversed":
                await self._earlier_leg_item(conn, ev, "COB-PRIOR-REVERSED", response_id, now)
            elif step == "corrected":
                await self._offer_replacement(conn, ev, payment, remittance, response_id, now)
        return recorded

    async def _cross_over(
        self,
        conn: AsyncConnection,
        ev: ClaimEvent,
        clp: Claim,
        remittance: Remittance,
        step: str,
        file_id: int | None,
        now: datetime,
        paid_on: date,
    ) -> int:
        encounter = await self._version_encounter(conn, ev.claim_id, ev.version)
        trace = remittance.header.trace_number
        try:
            following = next_payer_encounter(
                Encounter.model_validate(encounter), clp, remittance.header, paid_date=paid_on
            )
        except (CrossoverError, ValidationError) as exc:
            key = _event_key(f"crossover-failed:{ev.claim_id}:{ev.key}")
            reason = Reason(
                "COB-CROSSOVER",
                f"the next payer's claim could not be built from the 835: {_short(exc)}",
                f"835 trace {trace}, claim {ev.claim_id}",
                "add the payer's adjudication to other_payers and resubmit, or resolve",
            )
            if not await self._has_event(conn, key):
                await conn.execute(
                    t.claim_events.insert(),
                    [
                        _event_row(
                            ev.claim_id, ev.version, now, "crossover", None, None,
                            reason.meaning, file_id=file_id, event_key=key,
                        )
                    ],
                )  # fmt: skip
                state = S((await self._claim_row(conn, ev.claim_id))["state"])
                await self._open_item(
                    conn, ev.claim_id, ev.version, state, COB_SOURCE, (reason,),
                    None, None, file_id, now,
                )  # fmt: skip
            return 0
        what = (
            f"the {leg_name(int(ev.leg or 1))} payer forwarded the claim itself (CLP02 "
            f"{clp.status_code}, NM1*TT {ev.detail.get('forwarded_to') or '?'}): nothing is sent"
            if step == "forwarded"
            else f"built from the {leg_name(int(ev.leg or 1))} payer's 835 (trace {trace})"
        )
        origin = "crossed-over" if step == "forwarded" else "crossover"
        done = await self._next_leg(
            conn,
            ev.claim_id,
            following.model_dump(mode="json"),
            origin,
            what,
            now,
            file_id=file_id,
        )
        return 1 if done else 0

    async def _next_leg(
        self,
        conn: AsyncConnection,
        claim_id: str,
        encounter: Mapping[str, Any],
        origin: str,
        what: str,
        now: datetime,
        *,
        file_id: int | None,
    ) -> bool:
        """Record the next leg's first version and make it the claim's current leg: queued (or
        invalid with an item) for ``crossover``, ``crossed_over`` for a forwarded claim."""
        from gateway.edits import scrub

        leg, next_leg = legs_named(encounter)
        cl = t.claim_legs
        if await self._has_leg(conn, claim_id, leg):
            return False
        row = await self._claim_row(conn, claim_id)
        before = S(row["state"])
        current_leg = (
            await conn.execute(
                sa.select(t.claim_versions.c.leg).where(
                    t.claim_versions.c.claim_id == claim_id,
                    t.claim_versions.c.version == row["current_version"],
                )
            )
        ).scalar_one()
        # The leg left behind keeps its state and money in its own row.
        await conn.execute(
            cl.update()
            .where(cl.c.claim_id == claim_id, cl.c.leg == current_leg)
            .values(
                state=before.value,
                paid_amount=row["paid_amount"],
                patient_responsibility=row["patient_responsibility"],
                payer_claim_control_number=row["payer_claim_control_number"],
                updated_at=now,
            )
        )
        findings: tuple[Reason, ...] = ()
        if origin == "crossed-over":
            target = S.CROSSED_OVER
        else:
            model = Encounter.model_validate(dict(encounter))
            findings = tuple(reasons_from_findings([f for f in scrub(model) if f.is_error]))
            target = S.INVALID if findings else S.QUEUED
        if origin != "crossed-over" or is_allowed(before, S.RECEIVED):
            transition(before, S.RECEIVED)
        transition(S.RECEIVED, target)
        version = int(row["current_version"]) + 1
        partner = str(encounter.get("partner") or row["partner"])
        payer = encounter["payer"]
        charge = row["total_charge"]
        await conn.execute(
            t.claim_versions.insert().values(
                claim_id=claim_id,
                version=version,
                frequency="1",
                replaces_version=None,
                origin=origin,
                source_file_id=file_id,
                total_charge=charge,
                encounter=_json_ready(encounter),
                received_at=now,
                leg=leg,
                next_leg=next_leg,
                next_payer_id=next_payer_named(encounter),
            )
        )
        await conn.execute(
            cl.insert().values(
                claim_id=claim_id,
                leg=leg,
                responsibility=leg_name(leg),
                payer_id=payer["id"],
                payer_name=payer.get("name"),
                partner=partner,
                origin=origin,
                state=target.value,
                opened_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            t.claims.update()
            .where(t.claims.c.claim_id == claim_id)
            .values(
                state=target.value,
                current_version=version,
                payer_id=payer["id"],
                payer_name=payer.get("name"),
                partner=partner,
                paid_amount=None,
                patient_responsibility=None,
                payer_claim_control_number=None,
                lease_owner=None,
                lease_until=None,
                updated_at=now,
            )
        )
        label = f"leg {leg} ({leg_name(leg)} payer {payer['id']})"
        events = [
            _event_row(
                claim_id, version, now, "crossover", before, S.RECEIVED,
                f"{label}: {what}", file_id=file_id, amount=charge,
                detail={"leg": leg, "origin": origin, "partner": partner},
                event_key=_event_key(f"crossover:{claim_id}:{leg}"),
            ),
            _event_row(
                claim_id, version, now, "checked", S.RECEIVED, target,
                f"checked: {len(findings)} finding(s), first {findings[0].code}"
                if findings
                else (
                    "crossed over by the payer: waiting for its answer"
                    if target is S.CROSSED_OVER
                    else "checked: no findings, waiting for a batch"
                ),
                detail={"findings": [f.as_dict() for f in findings]} if findings else None,
            ),
        ]  # fmt: skip
        await conn.execute(t.claim_events.insert(), events)
        if findings:
            await self._open_item(
                conn, claim_id, version, S.INVALID, "scrubber", findings,
                payer["id"], None, file_id, now,
            )  # fmt: skip
        return True

    async def _earlier_leg_item(  # a correction item: news about an earlier leg
        self,
        conn: AsyncConnection,
        ev: ClaimEvent,
        code: str,
        response_id: int | None,
        now: datetime,
        *,
        action: str = "",
    ) -> None:
        leg = int(ev.leg or 1)
        row = await self._claim_row(conn, ev.claim_id)
        later = leg_name(leg + 1)
        if code == "COB-PRIOR-REVERSED":
            meaning = (
                f"the {leg_name(leg)} payer reversed its payment (CLP02 22) after the {later} "
                f"claim was recorded; what the {later} payer was told no longer holds"
            )
            action = action or (
                f"wait for the {leg_name(leg)} payer's corrected payment (the gateway then offers "
                f"the {later} claim's replacement), or ask the {later} payer to adjust, and resolve"
            )
        else:
            meaning = (
                f"the {leg_name(leg)} payer corrected its payment after the {later} claim was "
                "billed"
            )
        payer = (
            await conn.execute(
                sa.select(t.claim_legs.c.payer_id).where(
                    t.claim_legs.c.claim_id == ev.claim_id, t.claim_legs.c.leg == leg
                )
            )
        ).scalar_one()
        reason = Reason(code, meaning, f"leg {leg} ({leg_name(leg)} payer {payer})", action)
        # The item is the later leg's (the claim's current version and payer): what a person
        # resubmits, from the queue or the correction file, is that payer's claim.
        await self._open_item(
            conn, ev.claim_id, int(row["current_version"]), S(row["state"]), COB_SOURCE,
            (reason,), None, response_id, None, now,
        )  # fmt: skip

    async def _offer_replacement(
        self,
        conn: AsyncConnection,
        ev: ClaimEvent,
        clp: Claim,
        remittance: Remittance,
        response_id: int | None,
        now: datetime,
    ) -> None:
        """An earlier leg paid again after its reversal: rebuild the next leg's claim from the
        corrected payment and offer it (``gateway queue resubmit`` sends it, frequency 7)."""
        encounter = await self._version_encounter(conn, ev.claim_id, ev.version)
        paid_on = remittance.header.payment_date or remittance.header.production_date
        claim_id = ev.claim_id
        try:
            rebuilt = next_payer_encounter(
                Encounter.model_validate(encounter),
                clp,
                remittance.header,
                paid_date=paid_on or now.date(),
            )
        except (CrossoverError, ValidationError) as exc:
            action = f"the replacement could not be built ({_short(exc)}): correct it by hand"
            await self._earlier_leg_item(
                conn, ev, "COB-PRIOR-CORRECTED", response_id, now, action=action
            )
            return
        leg = int(ev.leg or 1) + 1
        cl = t.claim_legs
        await conn.execute(
            cl.update()
            .where(cl.c.claim_id == claim_id, cl.c.leg == leg)
            .values(replacement=_json_ready(rebuilt.model_dump(mode="json")), updated_at=now)
        )
        action = (
            f"`gateway queue resubmit {claim_id}` sends the {leg_name(leg)} payer a replacement "
            "(frequency 7 with its claim number) built from the corrected payment"
        )
        await self._earlier_leg_item(
            conn, ev, "COB-PRIOR-CORRECTED", response_id, now, action=action
        )

    async def _version_encounter(
        self, conn: AsyncConnection, claim_id: str, version: int
    ) -> dict[str, Any]:
        cv = t.claim_versions
        found: dict[str, Any] = (
            await conn.execute(
                sa.select(cv.c.encounter).where(cv.c.claim_id == claim_id, cv.c.version == version)
            )
        ).scalar_one()
        return dict(found)

    async def _has_leg(self, conn: AsyncConnection, claim_id: str, leg: int) -> bool:
        cl = t.claim_legs
        query = sa.select(cl.c.leg).where(cl.c.claim_id == claim_id, cl.c.leg == leg)
        return (await conn.execute(query)).first() is not None

    async def _has_event(self, conn: AsyncConnection, key: str) -> bool:
        query = sa.select(t.claim_events.c.id).where(t.claim_events.c.event_key == key)
        return (await conn.execute(query)).first() is not None

    async def legs(self, claim_id: str) -> tuple[LegRecord, ...]:
        """Every leg of a claim, in order (the current one with the claim's own state and money)."""
        async with self._read() as conn:
            return await self._legs(conn, claim_id)

    async def _legs(self, conn: AsyncConnection, claim_id: str) -> tuple[LegRecord, ...]:
        claim = (
            (await conn.execute(sa.select(t.claims).where(t.claims.c.claim_id == claim_id)))
            .mappings()
            .first()
        )
        if claim is None:
            return ()
        cv = t.claim_versions
        versions: dict[int, list[int]] = {}
        current_leg = 1
        for version, leg in (
            await conn.execute(
                sa.select(cv.c.version, cv.c.leg)
                .where(cv.c.claim_id == claim_id)
                .order_by(cv.c.version)
            )
        ).all():
            versions.setdefault(int(leg), []).append(int(version))
            if int(version) == int(claim["current_version"]):
                current_leg = int(leg)
        cl = t.claim_legs
        out: list[LegRecord] = []
        for row in (
            (await conn.execute(sa.select(cl).where(cl.c.claim_id == claim_id).order_by(cl.c.leg)))
            .mappings()
            .all()
        ):
            current = int(row["leg"]) == current_leg
            source = claim if current else row
            out.append(
                LegRecord(
                    int(row["leg"]),
                    row["responsibility"],
                    row["payer_id"],
                    row["payer_name"],
                    row["partner"],
                    row["origin"],
                    S(source["state"]),
                    source["paid_amount"],
                    source["patient_responsibility"],
                    source["payer_claim_control_number"],
                    tuple(versions.get(int(row["leg"]), ())),
                    current,
                    row["replacement"] is not None,
                )
            )
        return tuple(out)

    async def _waiting_on_next_payer(self, conn: AsyncConnection) -> int:
        """Claims whose current leg is a later payer's (an earlier leg exists) and which that
        payer has not answered yet."""
        cv, cl = t.claim_versions, t.claim_legs
        earlier = (
            sa.select(cl.c.leg)
            .where(cl.c.claim_id == t.claims.c.claim_id, cl.c.leg < cv.c.leg)
            .exists()
        )
        query = (
            sa.select(sa.func.count())
            .select_from(t.claims)
            .join(cv, CURRENT_VERSION)
            .where(t.claims.c.state.in_([s.value for s in WAITING_STATES]), cv.c.leg > 1, earlier)
        )
        return int((await conn.execute(query)).scalar_one())

    async def replacement_for(self, claim_id: str) -> dict[str, Any] | None:
        """The current leg's replacement encounter, rebuilt from an earlier leg's corrected
        payment, when one is offered (``gateway queue resubmit`` sends it)."""
        async with self._read() as conn:
            row = await self._claim_row(conn, claim_id)
            leg = (
                await conn.execute(
                    sa.select(t.claim_versions.c.leg).where(
                        t.claim_versions.c.claim_id == claim_id,
                        t.claim_versions.c.version == row["current_version"],
                    )
                )
            ).scalar_one()
            found = (
                await conn.execute(
                    sa.select(t.claim_legs.c.replacement).where(
                        t.claim_legs.c.claim_id == claim_id, t.claim_legs.c.leg == leg
                    )
                )
            ).scalar_one_or_none()
        return dict(found) if found else None


def _with_legs(claim: SentClaim, legs: list[SentLeg]) -> SentClaim:
    return replace(claim, legs=tuple(sorted(legs, key=lambda leg: leg.leg)))


def _payment_of(ev: ClaimEvent, payments: list[Claim]) -> Claim | None:
    """The CLP an event came from (the same claim can be paid twice in one 835)."""
    code = ev.detail.get("status_code")
    paid = ev.detail.get("paid")
    for clp in payments:
        if clp.status_code == code and str(clp.paid_amount) == paid:
            return clp
    return payments[0] if payments else None


def _forwarded(encounter: Mapping[str, Any]) -> dict[str, Any]:
    """The next payer's encounter without the previous payer's adjudication."""
    model = Encounter.model_validate(dict(encounter))
    return forwarded_encounter(model).model_dump(mode="json")


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]


def patient_balance(legs: Sequence[LegRecord]) -> tuple[Decimal | None, bool]:
    """What the patient owes at the end of a claim's legs: the patient responsibility the last
    payer that answered left (CLP05), and whether it is final (no later leg still waiting)."""
    answered = [leg for leg in legs if leg.patient_responsibility is not None]
    if not answered:
        return None, False
    last = max(answered, key=lambda leg: leg.leg)
    pending = any(leg.leg > last.leg and leg.state in WAITING_STATES for leg in legs)
    return last.patient_responsibility, not pending


def legs_data(legs: Sequence[LegRecord]) -> dict[str, Any]:
    """A claim's legs and what the patient owes at the end, as JSON-ready data (what
    ``gateway claim show`` prints and the web console shows)."""
    owes, final = patient_balance(legs)
    return {
        "legs": [
            {
                "leg": leg.leg,
                "responsibility": leg.responsibility,
                "payer_id": leg.payer_id,
                "payer_name": leg.payer_name,
                "partner": leg.partner,
                "origin": leg.origin,
                "state": str(leg.state),
                "paid_amount": leg.paid_amount,
                "patient_responsibility": leg.patient_responsibility,
                "payer_claim_control_number": leg.payer_claim_control_number,
                "versions": list(leg.versions),
                "current": leg.current,
                "replacement_offered": leg.replacement_offered,
            }
            for leg in legs
        ],
        "paid_by_payers": sum((leg.paid_amount or Decimal(0) for leg in legs), Decimal(0)),
        "patient_owes": owes,
        "patient_owes_final": final,
    }
