"""Reading claims (record, versions, history) and the whole ledger's status summary."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa

from gateway.ledger import tables as t
from gateway.ledger.records import (
    ClaimFile,
    ClaimHistory,
    ClaimRecord,
    EventRecord,
    StatusSummary,
    VersionRecord,
)

if TYPE_CHECKING:
    pass

from gateway.ledger.corrections import CorrectionsRepository
from gateway.ledger.legs import LegsRepository
from gateway.ledger.repository import (
    LedgerError,
    S,
    UnknownClaimError,
    _aware,
    _claim_record,
    _item,
)
from gateway.ledger.transports import TransportsRepository

_T = TypeVar("_T")


class StatusRepository(CorrectionsRepository, TransportsRepository, LegsRepository):
    """Claims read back and the status summary."""

    async def claim(self, claim_id: str) -> ClaimRecord | None:
        """The claim's current row."""
        async with self._read() as conn:
            row = (
                (await conn.execute(sa.select(t.claims).where(t.claims.c.claim_id == claim_id)))
                .mappings()
                .first()
            )
        return None if row is None else _claim_record(row)

    async def claim_version(self, claim_id: str, version: int | None = None) -> VersionRecord:
        """One version of a claim (the current one by default)."""
        history = await self.claim_history(claim_id)
        if history is None:
            raise UnknownClaimError(f"claim {claim_id} is not in the ledger")
        wanted = history.claim.current_version if version is None else version
        for v in history.versions:
            if v.version == wanted:
                return v
        raise LedgerError(f"claim {claim_id} has no version {wanted}")

    async def claim_history(self, claim_id: str) -> ClaimHistory | None:
        """Everything about one claim: row, versions, events (oldest first), items."""
        async with self._read() as conn:
            row = (
                (await conn.execute(sa.select(t.claims).where(t.claims.c.claim_id == claim_id)))
                .mappings()
                .first()
            )
            if row is None:
                return None
            versions = (
                (
                    await conn.execute(
                        sa.select(t.claim_versions, t.files.c.name.label("file_name"))
                        .outerjoin(t.files, t.files.c.id == t.claim_versions.c.source_file_id)
                        .where(t.claim_versions.c.claim_id == claim_id)
                        .order_by(t.claim_versions.c.version)
                    )
                )
                .mappings()
                .all()
            )
            events = (
                (
                    await conn.execute(
                        sa.select(t.claim_events, t.files.c.name.label("file_name"))
                        .outerjoin(t.files, t.files.c.id == t.claim_events.c.file_id)
                        .where(t.claim_events.c.claim_id == claim_id)
                        .order_by(t.claim_events.c.id)
                    )
                )
                .mappings()
                .all()
            )
            items = (
                (
                    await conn.execute(
                        self._items_query().where(t.correction_items.c.claim_id == claim_id)
                    )
                )
                .mappings()
                .all()
            )
            legs = await self._legs(conn, claim_id)
        return ClaimHistory(
            _claim_record(row),
            tuple(
                VersionRecord(
                    v["version"],
                    v["frequency"],
                    v["replaces_version"],
                    v["origin"],
                    v["total_charge"],
                    v["encounter"],
                    _aware(v["received_at"]),
                    v["file_name"],
                    int(v["leg"]),
                )
                for v in versions
            ),
            tuple(
                EventRecord(
                    e["id"],
                    e["version"],
                    _aware(e["at"]),
                    e["kind"],
                    S(e["from_state"]) if e["from_state"] else None,
                    S(e["to_state"]) if e["to_state"] else None,
                    e["cause"],
                    e["file_name"],
                    e["isa13"],
                    e["gs06"],
                    e["st02"],
                    e["amount"],
                    e["detail"] or {},
                )
                for e in events
            ),
            tuple(_item(i) for i in items),
            legs,
        )

    async def claim_files(self, claim_id: str) -> list[ClaimFile]:
        """The files ``claim_id``'s events name, each once, in the order they first appear: the
        837s it was sent in, the responses that answered it, the encounter files it came in."""
        query = (
            sa.select(
                t.claim_events.c.version,
                t.claim_events.c.kind.label("event_kind"),
                t.claim_events.c.isa13,
                t.claim_events.c.gs06,
                t.claim_events.c.st02,
                t.files.c.id,
                t.files.c.name,
                t.files.c.kind,
                t.files.c.direction,
                t.files.c.archive_path,
            )
            .join(t.files, t.files.c.id == t.claim_events.c.file_id)
            .where(t.claim_events.c.claim_id == claim_id)
            .order_by(t.claim_events.c.id)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        found: dict[int, ClaimFile] = {}
        for row in rows:
            known = found.get(row["id"])
            if known is None:
                known = ClaimFile(
                    row["id"], row["name"], row["kind"], row["direction"],
                    row["archive_path"], (), (), row["isa13"], row["gs06"],
                )  # fmt: skip
            found[row["id"]] = ClaimFile(
                known.file_id,
                known.name,
                known.kind,
                known.direction,
                known.archive_path,
                _added(known.versions, row["version"]),
                _added(known.event_kinds, row["event_kind"]),
                known.isa13 or row["isa13"],
                known.gs06 or row["gs06"],
                _added(known.st02s, row["st02"]) if row["st02"] else known.st02s,
            )
        return list(found.values())

    async def status(self, *, oldest: int = 5) -> StatusSummary:
        """Counts, charges and payments per state; open items and the oldest of them."""
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        t.claims.c.state,
                        sa.func.count(),
                        sa.func.sum(t.claims.c.total_charge),
                        sa.func.sum(t.claims.c.paid_amount),
                    ).group_by(t.claims.c.state)
                )
            ).all()
            open_count = (
                await conn.execute(
                    sa.select(sa.func.count()).where(t.correction_items.c.closed_at.is_(None))
                )
            ).scalar_one()
            unmatched_count = (
                await conn.execute(sa.select(sa.func.count()).select_from(t.unmatched))
            ).scalar_one()
            quarantined = (
                await conn.execute(
                    sa.select(sa.func.count()).where(t.files.c.status == "quarantined")
                )
            ).scalar_one()
            unreadable = (
                await conn.execute(
                    sa.select(t.files.c.detail).where(t.files.c.kind == "unreadable")
                )
            ).scalars()
            unreadable_records = sum(
                int(d.get("records", 0)) for d in unreadable if isinstance(d, dict)
            )
            refused = (
                await conn.execute(sa.select(sa.func.count()).where(t.files.c.status == "refused"))
            ).scalar_one()
            held = (
                await conn.execute(sa.select(sa.func.count()).where(t.files.c.status == "held"))
            ).scalar_one()
            waiting = await self._waiting_on_next_payer(conn)
        money = Decimal("0.01")
        counts = {S(r[0]): int(r[1]) for r in rows}
        charges = {S(r[0]): Decimal(r[2] or 0).quantize(money) for r in rows}
        paid = {S(r[0]): Decimal(r[3] or 0).quantize(money) for r in rows}
        return StatusSummary(
            counts,
            charges,
            paid,
            int(open_count),
            tuple(await self.open_items(limit=oldest)),
            int(unmatched_count),
            int(quarantined),
            unreadable_records=unreadable_records,
            refused_files=int(refused),
            transports=tuple(await self.transport_states()),
            held_files=int(held),
            waiting_on_next_payer=waiting,
        )


def _added(values: tuple[_T, ...], value: _T) -> tuple[_T, ...]:
    """``values`` with ``value`` at the end unless it is there already."""
    return values if value in values else (*values, value)
