"""The audit trail (HIPAA): who viewed which claim, who changed what, when and from where.

Every claim view and change in the web console, every change made with ``gateway queue`` and
``gateway responses``, and every login, logout and user change is one row, appended and never
changed. An entry's ``detail`` is for codes, states, counts and control numbers: it must not hold
patient data, and :meth:`AuditRepository.audit` refuses the keys that would carry it.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from gateway.ledger import tables as t
from gateway.ledger.repository import LedgerError, Repository, _aware, _json_ready, _now

__all__ = ["PHI_KEYS", "AuditEntry", "AuditPage", "AuditRepository", "cli_actor"]

#: Keys a detail may not have: they name patient data.
PHI_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "patient",
        "subscriber",
        "birth_date",
        "date_of_birth",
        "dob",
        "member_id",
        "address",
        "ssn",
        "phone",
        "encounter",
    }
)
_MAX_DETAIL = 2000


def cli_actor(user: str | None = None) -> str:
    """The actor of a change made on the command line: ``cli:<operating-system user>`` (or
    ``cli:<user>`` when the command was told who, e.g. ``--by``)."""
    if user is None:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    return f"cli:{user}"[:80]


@dataclass(frozen=True)
class AuditEntry:
    """One audited action."""

    id: int
    at: datetime
    actor: str
    action: str
    claim_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    client: str | None = None


@dataclass(frozen=True)
class AuditPage:
    """A page of entries, newest first; ``next_before`` continues with older ones (None: done)."""

    entries: tuple[AuditEntry, ...]
    next_before: int | None


class AuditRepository(Repository):
    """Append to the audit trail and read it back."""

    async def audit(
        self,
        actor: str,
        action: str,
        *,
        claim_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
        client: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Record that ``actor`` did ``action`` (to ``claim_id``); returns the entry's id."""
        clean = _checked_detail(detail)
        async with self._write() as conn:
            result = await conn.execute(
                t.audit_entries.insert().values(
                    at=now or _now(),
                    actor=actor[:80],
                    action=action[:32],
                    claim_id=claim_id,
                    detail=clean,
                    client=None if client is None else client[:64],
                )
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def audit_entries(
        self,
        *,
        claim_id: str | None = None,
        actor: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> AuditPage:
        """Entries newest first, for one claim and/or one actor; ``before`` an entry id pages."""
        ae = t.audit_entries
        query = sa.select(ae).order_by(ae.c.id.desc()).limit(limit + 1)
        if claim_id is not None:
            query = query.where(ae.c.claim_id == claim_id)
        if actor is not None:
            query = query.where(ae.c.actor == actor)
        if before is not None:
            query = query.where(ae.c.id < before)
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        entries = tuple(
            AuditEntry(
                int(r["id"]),
                _aware(r["at"]),
                r["actor"],
                r["action"],
                r["claim_id"],
                dict(r["detail"] or {}),
                r["client"],
            )
            for r in rows[:limit]
        )
        more = len(rows) > limit
        return AuditPage(entries, entries[-1].id if more and entries else None)


def _checked_detail(detail: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not detail:
        return None
    bad = sorted(k for k in detail if k.lower() in PHI_KEYS)
    if bad:
        raise LedgerError(
            f"audit detail keys {', '.join(bad)} would hold patient data; "
            "record codes, states and control numbers only"
        )
    clean = _json_ready(detail)
    if len(repr(clean)) > _MAX_DETAIL:
        raise LedgerError(f"audit detail longer than {_MAX_DETAIL} characters; keep it short")
    return clean
