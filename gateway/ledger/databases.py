"""Whole PostgreSQL databases for a ledger of their own (``gateway demo`` on a shared server).

``create_postgres_database(url, name)`` creates an empty database ``name`` on the server of
``url`` (connecting to ``url``'s own database to do so) and returns the URL of the new one, with
the same user, password and server. ``drop_postgres_database(url)`` removes the database ``url``
names. Names are checked: letters, digits and ``_`` only, so they are safe to quote.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from gateway.ledger.store import LedgerError, sqlalchemy_url

__all__ = ["create_postgres_database", "drop_postgres_database", "is_postgres"]

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL ledger."""
    return make_url(url).get_backend_name() in ("postgresql", "postgres")


def _check(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a plain database name (a-z, 0-9, _)")
    return name


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(
        sqlalchemy_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def create_postgres_database(url: str, name: str) -> str:
    """Create the empty database ``name`` on ``url``'s server; the URL of the new database.

    ``LedgerError`` when the server refuses (the message says why: a user without CREATEDB...).
    """
    try:
        await _admin(url, f'CREATE DATABASE "{_check(name)}"')
    except (DBAPIError, OSError) as exc:
        server = make_url(url)
        raise LedgerError(
            f"cannot create the database {name} on {server.host}:{server.port or 5432} as "
            f"{server.username or 'the default user'}: {getattr(exc, 'orig', exc)}"
        ) from exc
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    """Drop the database ``url`` names (its connections are closed first); gone already is fine.

    The connection to drop it from goes to the server's ``postgres`` database.
    """
    parsed = make_url(url)
    name = _check(parsed.database or "")
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    try:
        await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except (DBAPIError, OSError) as exc:
        raise LedgerError(f"cannot drop the database {name}: {getattr(exc, 'orig', exc)}") from exc
