"""The correction queue as a worklist for people: filtered, sorted, paged by key, followed live.

``gateway queue list`` reads whole items (reasons, encounter); a page of the web console reads
only what a biller needs to pick an item (claim id, payer, partner, reason code, source, claim
state, amount, when it was opened), no patient data, a page at a time. Paging is by key
(``WHERE (sort key, id) > (last row's) ORDER BY sort key, id LIMIT n``), never by offset, so the
10,000th page costs what the first does; the indexes of migration ``0007_worklist`` serve each sort
(partial ones over the open items only; the claims' charge for the largest first).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.ledger import tables as t

__all__ = ["SORTS", "CursorError", "WorkFilter", "WorkPage", "WorkRow", "Worklist"]

_ci = t.correction_items.c
_cl = t.claims.c

#: Each sort: its key columns (the item id last, so the key is unique) and its direction.
SORTS: dict[str, tuple[tuple[Any, ...], bool]] = {
    "oldest": ((_ci.opened_at, _ci.id), False),
    "newest": ((_ci.opened_at, _ci.id), True),
    # A claim has at most one open item, so its id alone is unique among them.
    "amount": ((_cl.total_charge, _cl.claim_id), True),  # largest first
    "claim": ((_ci.claim_id,), False),
    "payer": ((_ci.payer_id, _ci.opened_at, _ci.id), False),
    "reason": ((_ci.reason_code, _ci.opened_at, _ci.id), False),
}
DEFAULT_SORT = "oldest"
MAX_PAGE = 200


class CursorError(ValueError):
    """A paging cursor that is not one this module wrote (or was written for another sort)."""


@dataclass(frozen=True)
class WorkFilter:
    """What a person narrows the queue to; every part optional.

    ``reason`` matches the item's reason code (its first reason) from the start, case-insensitive
    (``STC-A7`` finds ``STC-A7:562:85``; ``CO`` finds ``CO-50``); ``claim`` is text anywhere in
    the claim id; ``min_age_days`` keeps items open at least that many days.
    """

    reason: str | None = None
    payer: str | None = None
    partner: str | None = None
    min_age_days: int | None = None
    claim: str | None = None

    def conditions(self, now: datetime, *, sqlite: bool) -> list[sa.ColumnElement[bool]]:
        """The WHERE parts of this filter (over the open items joined to their claims).

        Text matches ignore case: SQLite's LIKE already does (for ASCII, all a claim id or a
        code holds), PostgreSQL's ILIKE does; neither calls a function on every row.
        """
        out: list[sa.ColumnElement[bool]] = [_ci.closed_at.is_(None)]

        def like(column: Any, pattern: str) -> sa.ColumnElement[bool]:
            if sqlite:
                return column.like(pattern, escape="\\")  # type: ignore[no-any-return]
            return column.ilike(pattern, escape="\\")  # type: ignore[no-any-return]

        if self.reason:
            out.append(like(_ci.reason_code, _like(self.reason) + "%"))
        if self.payer:
            out.append(_ci.payer_id == self.payer)
        if self.partner:
            out.append(_cl.partner == self.partner)
        if self.min_age_days is not None and self.min_age_days > 0:
            out.append(_ci.opened_at <= now - timedelta(days=self.min_age_days))
        if self.claim:
            out.append(like(_ci.claim_id, "%" + _like(self.claim) + "%"))
        return out


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class WorkRow:
    """One open item as a worklist row: what a biller needs to pick it, no patient data."""

    id: int
    claim_id: str
    payer_id: str
    partner: str
    source: str
    reason_code: str
    state: str
    amount: Decimal
    opened_at: datetime

    def age_days(self, now: datetime | None = None) -> int:
        """Whole days the item has been open."""
        return max(0, ((now or datetime.now(UTC)) - self.opened_at).days)


@dataclass(frozen=True)
class WorkPage:
    """A page of rows, the cursor of the next page (None: the last page) and the filter's total."""

    rows: tuple[WorkRow, ...]
    next_cursor: str | None
    total: int
    sort: str


class Worklist:
    """The open correction items, read for people (made by ``Ledger.worklist``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    @staticmethod
    def _select() -> sa.Select[Any]:
        return sa.select(
            _ci.id,
            _ci.claim_id,
            _ci.payer_id,
            _cl.partner,
            _ci.source,
            _ci.reason_code,
            _cl.state,
            _cl.total_charge,
            _ci.opened_at,
        ).select_from(t.correction_items.join(t.claims, _cl.claim_id == _ci.claim_id))

    async def page(
        self,
        where: WorkFilter | None = None,
        *,
        sort: str = DEFAULT_SORT,
        after: str | None = None,
        size: int = 50,
        now: datetime | None = None,
        count: bool = True,
    ) -> WorkPage:
        """One page of open items under ``where``, sorted by ``sort``, after cursor ``after``."""
        if sort not in SORTS:
            raise ValueError(f"sort {sort!r}: use one of {', '.join(SORTS)}")
        size = max(1, min(size, MAX_PAGE))
        keys, descending = SORTS[sort]
        conditions = (where or WorkFilter()).conditions(
            now or datetime.now(UTC), sqlite=self._sqlite
        )
        query = self._select().where(*conditions)
        if after is not None:
            values = _decode(after, sort, keys)
            row_key = sa.tuple_(*keys)
            bound = sa.tuple_(*(sa.literal(v, k.type) for v, k in zip(values, keys, strict=True)))
            query = query.where(row_key < bound if descending else row_key > bound)
        order = [k.desc() if descending else k.asc() for k in keys]
        query = query.order_by(*order).limit(size + 1)
        async with self._engine.connect() as conn, conn.begin():
            rows = [_row(r) for r in (await conn.execute(query)).all()]
            total = -1
            if count:
                counted = sa.select(sa.func.count()).select_from(
                    t.correction_items.join(t.claims, _cl.claim_id == _ci.claim_id)
                    if where is not None and where.partner
                    else t.correction_items
                )
                total = int((await conn.execute(counted.where(*conditions))).scalar_one())
        cursor = _encode(rows[size - 1], sort, keys) if len(rows) > size else None
        return WorkPage(tuple(rows[:size]), cursor, total, sort)

    async def after(
        self, item_id: int, where: WorkFilter | None = None, *, limit: int = 100
    ) -> list[WorkRow]:
        """Open items created after item ``item_id``, in order (what a live page follows)."""
        conditions = (where or WorkFilter()).conditions(datetime.now(UTC), sqlite=self._sqlite)
        query = (
            self._select()
            .where(_ci.id > item_id, *conditions)
            .order_by(_ci.id)
            .limit(max(1, limit))
        )
        async with self._engine.connect() as conn, conn.begin():
            return [_row(r) for r in (await conn.execute(query)).all()]

    async def last_id(self) -> int:
        """The id of the newest correction item (open or closed), 0 when there is none."""
        async with self._engine.connect() as conn, conn.begin():
            found = (await conn.execute(sa.select(sa.func.max(_ci.id)))).scalar_one()
        return int(found or 0)

    async def facets(self) -> dict[str, list[tuple[str, int]]]:
        """The payers and reason codes of the open items, with how many items each has."""
        out: dict[str, list[tuple[str, int]]] = {}
        async with self._engine.connect() as conn, conn.begin():
            for name, column in (("payer", _ci.payer_id), ("reason", _ci.reason_code)):
                query = (
                    sa.select(column, sa.func.count())
                    .where(_ci.closed_at.is_(None))
                    .group_by(column)
                    .order_by(sa.func.count().desc(), column)
                    .limit(200)
                )
                out[name] = [(str(v), int(n)) for v, n in (await conn.execute(query)).all()]
        return out


def _row(r: Sequence[Any]) -> WorkRow:
    opened = r[8]
    if opened.tzinfo is None:  # SQLite hands back naive UTC
        opened = opened.replace(tzinfo=UTC)
    return WorkRow(
        int(r[0]),
        str(r[1]),
        str(r[2]),
        str(r[3]),
        str(r[4]),
        str(r[5]),
        str(r[6]),
        Decimal(str(r[7] if r[7] is not None else "0")).quantize(Decimal("0.01")),
        opened,
    )


def _key_values(row: WorkRow, keys: Sequence[Any]) -> list[Any]:
    by_name = {
        "opened_at": row.opened_at.isoformat(),
        "id": row.id,
        "total_charge": str(row.amount),
        "claim_id": row.claim_id,
        "payer_id": row.payer_id,
        "reason_code": row.reason_code,
    }
    return [by_name[k.name] for k in keys]


def _encode(row: WorkRow, sort: str, keys: Sequence[Any]) -> str:
    text = json.dumps([sort, *_key_values(row, keys)], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str, keys: Sequence[Any]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CursorError(f"paging cursor {cursor[:40]!r} is not readable: {exc}") from None
    if not isinstance(data, list) or len(data) != len(keys) + 1 or data[0] != sort:
        raise CursorError(f"paging cursor {cursor[:40]!r} is not one of sort {sort!r}")
    out: list[Any] = []
    for key, value in zip(keys, data[1:], strict=True):
        try:
            if key.name == "opened_at":
                parsed = datetime.fromisoformat(str(value))
                out.append(parsed.astimezone(UTC) if parsed.tzinfo else parsed)
            elif key.name == "id":
                out.append(int(value))
            elif key.name == "total_charge":
                out.append(Decimal(str(value)))
            else:
                out.append(str(value))
        except (ValueError, ArithmeticError) as exc:
            raise CursorError(f"paging cursor {cursor[:40]!r}: {key.name}: {exc}") from None
    return out
