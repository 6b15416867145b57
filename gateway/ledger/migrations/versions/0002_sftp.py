"""Transport states: whether each clearinghouse transport works, for ``gateway status``.

Revision ID: 0002_sftp
Revises: 0001
Create Date: 2026-12-06 04:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_sftp"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "transport_states",
        sa.Column("transport", sa.String(length=255), nullable=False),
        sa.Column("partners", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("error_kind", sa.String(length=20), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transport", name=op.f("pk_transport_states")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("transport_states")
