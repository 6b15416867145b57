"""Test helpers for code that uses the ledger: a throw-away PostgreSQL database per test.

``fresh_postgres_database()`` creates a uniquely named database on the server named by
``GATEWAY_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``), yields its
URL and drops it afterwards, so PostgreSQL tests never see each other's rows.
``postgres_available()`` tells a test suite whether to skip (outside CI only).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url

__all__ = ["POSTGRES_ADMIN_URL", "fresh_postgres_database", "postgres_available"]

POSTGRES_ADMIN_URL = os.environ.get(
    "GATEWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


async def _admin_connect() -> object:
    import asyncpg  # type: ignore[import-untyped]

    url = make_url(POSTGRES_ADMIN_URL)
    return await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
        timeout=5,
    )


async def postgres_available() -> bool:
    """Whether the test PostgreSQL server answers."""
    try:
        conn = await _admin_connect()
    except (OSError, Exception):
        return False
    await conn.close()  # type: ignore[attr-defined]
    return True


@asynccontextmanager
async def fresh_postgres_database(prefix: str = "gateway_test") -> AsyncIterator[str]:
    """A new, empty database; yields its ``postgresql://`` URL and drops it on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await _admin_connect()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    finally:
        await conn.close()  # type: ignore[attr-defined]
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        conn = await _admin_connect()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
        finally:
            await conn.close()  # type: ignore[attr-defined]
