"""The web console's users in the ledger: a name, a role and a password hash (never a password).

Hashing is the caller's (``gateway.web.passwords``, argon2); the ledger keeps the hash, the role,
whether the user is disabled, and ``sessions_valid_after``: a session begun before it is over,
which is how logging out, disabling a user and changing a role or password end sessions that a
signed cookie alone could not.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from gateway.ledger import tables as t
from gateway.ledger.repository import LedgerError, Repository, _aware, _now

__all__ = ["USER_NAME", "Role", "UnknownUserError", "UserRecord", "UsersRepository"]

#: A user name: 1-64 letters, digits, ``.``, ``_``, ``-`` or ``@``, starting with a letter or digit.
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class Role(enum.StrEnum):
    """What a user may do: a viewer reads, a biller works the queue, an admin also manages users."""

    VIEWER = "viewer"
    BILLER = "biller"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """The role's place in the order viewer < biller < admin."""
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.BILLER: 1, Role.ADMIN: 2}


class UnknownUserError(LedgerError):
    """No web user by that name or id."""


@dataclass(frozen=True)
class UserRecord:
    """One web console user."""

    id: int
    name: str
    role: Role
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None
    sessions_valid_after: datetime

    @property
    def active(self) -> bool:
        """Whether the user may log in."""
        return self.disabled_at is None


def _user(row: sa.RowMapping) -> UserRecord:
    disabled = row["disabled_at"]
    return UserRecord(
        int(row["id"]),
        row["name"],
        Role(row["role"]),
        row["password_hash"],
        _aware(row["created_at"]),
        None if disabled is None else _aware(disabled),
        _aware(row["sessions_valid_after"]),
    )


def check_user_name(name: str) -> str:
    """``name`` if it is a valid user name, else a ``LedgerError`` saying what is allowed."""
    if not USER_NAME.match(name):
        raise LedgerError(
            f"user name {name!r}: use 1-64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit"
        )
    return name


class UsersRepository(Repository):
    """Web users: add, read, change role or password, disable, end their sessions."""

    async def add_user(
        self, name: str, role: Role, password_hash: str, *, now: datetime | None = None
    ) -> UserRecord:
        """Create a user; a ``LedgerError`` when the name is taken or not a valid name."""
        check_user_name(name)
        at = now or _now()
        wu = t.web_users
        async with self._write() as conn:
            taken = (
                await conn.execute(sa.select(wu.c.id).where(wu.c.name == name))
            ).scalar_one_or_none()
            if taken is not None:
                raise LedgerError(f"user {name!r} exists already; pick another name")
            await conn.execute(
                wu.insert().values(
                    name=name,
                    role=Role(role).value,
                    password_hash=password_hash,
                    created_at=at,
                    disabled_at=None,
                    sessions_valid_after=at,
                )
            )
        user = await self.user_by_name(name)
        assert user is not None
        return user

    async def user_by_name(self, name: str) -> UserRecord | None:
        """The user called ``name``, or None."""
        async with self._read() as conn:
            row = (
                (await conn.execute(sa.select(t.web_users).where(t.web_users.c.name == name)))
                .mappings()
                .first()
            )
        return None if row is None else _user(row)

    async def user_by_id(self, user_id: int) -> UserRecord | None:
        """The user with id ``user_id``, or None."""
        async with self._read() as conn:
            row = (
                (await conn.execute(sa.select(t.web_users).where(t.web_users.c.id == user_id)))
                .mappings()
                .first()
            )
        return None if row is None else _user(row)

    async def users(self) -> list[UserRecord]:
        """Every user, by name."""
        async with self._read() as conn:
            rows = (
                (await conn.execute(sa.select(t.web_users).order_by(t.web_users.c.name)))
                .mappings()
                .all()
            )
        return [_user(r) for r in rows]

    async def set_user_role(
        self, name: str, role: Role, *, now: datetime | None = None
    ) -> UserRecord:
        """Give ``name`` another role; their open sessions end (they log in again)."""
        return await self._update_user(name, {"role": Role(role).value}, now)

    async def set_user_password(
        self, name: str, password_hash: str, *, now: datetime | None = None
    ) -> UserRecord:
        """Replace ``name``'s password hash; their open sessions end."""
        return await self._update_user(name, {"password_hash": password_hash}, now)

    async def disable_user(self, name: str, *, now: datetime | None = None) -> UserRecord:
        """Stop ``name`` logging in and end their sessions (kept for the audit trail)."""
        at = now or _now()
        return await self._update_user(name, {"disabled_at": at}, at)

    async def enable_user(self, name: str, *, now: datetime | None = None) -> UserRecord:
        """Let a disabled user log in again."""
        return await self._update_user(name, {"disabled_at": None}, now)

    async def end_sessions(self, name: str, *, now: datetime | None = None) -> UserRecord:
        """End every session of ``name`` begun before ``now`` (logging out)."""
        return await self._update_user(name, {}, now)

    async def _update_user(
        self, name: str, values: dict[str, Any], now: datetime | None
    ) -> UserRecord:
        wu = t.web_users
        async with self._write() as conn:
            done = await conn.execute(
                wu.update()
                .where(wu.c.name == name)
                .values(**values, sessions_valid_after=now or _now())
            )
            if done.rowcount == 0:
                raise UnknownUserError(f"no user {name!r}; `gateway users list` shows them")
        user = await self.user_by_name(name)
        assert user is not None
        return user
