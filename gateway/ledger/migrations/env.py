"""Alembic environment: migrate over the connection the ledger hands in (SQLite or PostgreSQL).

The ledger runs Alembic inside ``AsyncConnection.run_sync``, so one set of migrations serves
aiosqlite and asyncpg without a second, synchronous driver. Offline mode (``--sql``) writes SQL.
"""

from __future__ import annotations

from alembic import context

from gateway.ledger.tables import metadata

config = context.config


def run_migrations_offline() -> None:
    """Emit the migration SQL for the configured URL without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over the connection placed in ``config.attributes['connection']``."""
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the ledger migrations through gateway.ledger.store.Ledger.upgrade")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
