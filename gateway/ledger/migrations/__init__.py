"""Alembic migrations of the ledger schema (applied on start and by ``gateway db upgrade``)."""
