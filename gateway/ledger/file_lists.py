"""Files that need a person, and what went out: the lists behind ``gateway responses list`` and
the web console's files page.

Quarantined and refused files (newest first, with the problem the ledger recorded), held
response files, what responses said that matched nothing we sent, and the 837 interchanges
handed to each trading partner on a day. File names, codes, counts and control numbers only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.ledger import tables as t
from gateway.ledger.records import FileRecord
from gateway.ledger.repository import _aware, _file_record

__all__ = ["FileLists", "SentFile", "UnmatchedRow", "held_data", "sent_totals"]

#: File statuses that wait for a person: moved aside with an explanation.
SET_ASIDE = ("quarantined", "refused")


def held_data(record: FileRecord) -> dict[str, Any]:
    """A held response file as JSON-ready data (``gateway responses list``, the files page)."""
    detail = dict(record.detail or {})
    sets = detail.get("held_sets") or []
    problem = detail.get("problem") or {}
    return {
        "id": record.id,
        "name": record.name,
        "kind": record.kind,
        "hold": detail.get("hold", ""),
        "what": problem.get("what", "") if isinstance(problem, dict) else "",
        "held_sets": [s.get("st02") for s in sets if isinstance(s, dict)],
        "held_claims": sum(int(s.get("claims", 0)) for s in sets if isinstance(s, dict)),
        "kept_at": record.archive_path,
    }


@dataclass(frozen=True)
class UnmatchedRow:
    """Part of a response that matched nothing we sent."""

    id: int
    response_kind: str
    file_name: str | None
    reference: str
    reason: str
    recorded_at: datetime


@dataclass(frozen=True)
class SentFile:
    """An 837 interchange handed to a partner."""

    partner: str
    kind: str
    file_name: str
    isa13: str
    submitted_at: datetime
    claims: int


class FileLists:
    """The file lists over one ledger's database (made by ``Ledger.file_lists``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _all(self, query: sa.Executable) -> list[Any]:
        async with self._engine.connect() as conn, conn.begin():
            return list((await conn.execute(query)).all())

    async def counts(self) -> dict[str, int]:
        """How many files are quarantined, refused and held, and unmatched response parts."""
        f = t.files.c
        rows = await self._all(
            sa.select(f.status, sa.func.count())
            .where(f.status.in_((*SET_ASIDE, "held")))
            .group_by(f.status)
        )
        out = {"quarantined": 0, "refused": 0, "held": 0}
        out.update({str(s): int(n) for s, n in rows})
        unmatched = await self._all(sa.select(sa.func.count()).select_from(t.unmatched))
        out["unmatched"] = int(unmatched[0][0])
        return out

    async def set_aside(self, *, limit: int = 50) -> list[FileRecord]:
        """Quarantined and refused files, newest first."""
        query = (
            sa.select(t.files)
            .where(t.files.c.status.in_(SET_ASIDE))
            .order_by(t.files.c.updated_at.desc(), t.files.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as conn, conn.begin():
            rows = (await conn.execute(query)).mappings().all()
        return [_file_record(r, is_new=False) for r in rows]

    async def held(self) -> list[FileRecord]:
        """Held response files, oldest first (what ``gateway responses list`` shows)."""
        query = sa.select(t.files).where(t.files.c.status == "held").order_by(t.files.c.id)
        async with self._engine.connect() as conn, conn.begin():
            rows = (await conn.execute(query)).mappings().all()
        return [_file_record(r, is_new=False) for r in rows]

    async def unmatched(self, *, limit: int = 50) -> list[UnmatchedRow]:
        """What responses said that matched nothing we sent, newest first."""
        u, r, f = t.unmatched.c, t.responses.c, t.files.c
        query = (
            sa.select(u.id, r.kind, f.name, u.reference, u.reason, u.recorded_at)
            .select_from(
                t.unmatched.join(t.responses, r.id == u.response_id).outerjoin(
                    t.files, f.id == r.file_id
                )
            )
            .order_by(u.id.desc())
            .limit(limit)
        )
        return [
            UnmatchedRow(int(i), str(k), n, str(ref), str(why), _aware(at))
            for i, k, n, ref, why, at in await self._all(query)
        ]

    async def sent_on(self, day: date) -> list[SentFile]:
        """The 837 interchanges handed over on ``day`` (UTC), by partner, with their claims."""
        i, g, s, c = (
            t.interchanges.c,
            t.functional_groups.c,
            t.transaction_sets.c,
            t.submitted_claims.c,
        )
        start = datetime.combine(day, time(), UTC)
        claims = sa.func.count(c.id)
        query = (
            sa.select(i.partner, i.kind, i.file_name, i.isa13, i.submitted_at, claims)
            .select_from(
                t.interchanges.join(t.functional_groups, g.interchange_id == i.id)
                .join(t.transaction_sets, s.group_id == g.id)
                .outerjoin(t.submitted_claims, c.set_id == s.id)
            )
            .where(
                i.status == "submitted",
                i.submitted_at >= start,
                i.submitted_at < start + timedelta(days=1),
            )
            .group_by(i.id, i.partner, i.kind, i.file_name, i.isa13, i.submitted_at)
            .order_by(i.partner, i.submitted_at, i.id)
        )
        return [
            SentFile(str(p), str(k), str(n), str(isa), _aware(at), int(m or 0))
            for p, k, n, isa, at, m in await self._all(query)
        ]


def sent_totals(files: list[SentFile]) -> dict[str, Mapping[str, int]]:
    """Files and claims per partner."""
    out: dict[str, dict[str, int]] = {}
    for f in files:
        cell = out.setdefault(f.partner, {"files": 0, "claims": 0})
        cell["files"] += 1
        cell["claims"] += f.claims
    return {k: dict(v) for k, v in out.items()}
