"""Coordination of benefits: a claim's legs (one per payer, in order of responsibility), and the
leg each claim version belongs to.

Existing claims get one leg each: the leg of their payer's place (primary: 1), from the claim's
current version; every existing version belongs to it.

Revision ID: 0005_legs
Revises: 0004_report_dates
Create Date: 2026-12-06 06:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_legs"
down_revision: str | None = "0004_report_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("claim_versions") as batch:
        batch.add_column(sa.Column("leg", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("next_leg", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_payer_id", sa.String(80), nullable=True))
    op.create_table(
        "claim_legs",
        sa.Column("claim_id", sa.String(38), nullable=False),
        sa.Column("leg", sa.Integer(), nullable=False),
        sa.Column("responsibility", sa.String(12), nullable=False),
        sa.Column("payer_id", sa.String(80), nullable=False),
        sa.Column("payer_name", sa.String(128), nullable=True),
        sa.Column("partner", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(24), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("paid_amount", _MONEY, nullable=True),
        sa.Column("patient_responsibility", _MONEY, nullable=True),
        sa.Column("payer_claim_control_number", sa.String(50), nullable=True),
        sa.Column("replacement", sa.JSON(), nullable=True),
        sa.Column("opened_at", _NOW, nullable=False),
        sa.Column("updated_at", _NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.claim_id"], name="fk_claim_legs_claim_id_claims"
        ),
        sa.PrimaryKeyConstraint("claim_id", "leg", name="pk_claim_legs"),
    )
    # Every claim so far is one payer's: its leg 1, as it stands.
    op.execute(
        "INSERT INTO claim_legs (claim_id, leg, responsibility, payer_id, payer_name, partner,"
        " origin, state, paid_amount, patient_responsibility, payer_claim_control_number,"
        " opened_at, updated_at)"
        " SELECT claim_id, 1, 'primary', payer_id, payer_name, partner, 'billed', state,"
        " paid_amount, patient_responsibility, payer_claim_control_number, created_at, updated_at"
        " FROM claims"
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("claim_legs")
    with op.batch_alter_table("claim_versions") as batch:
        batch.drop_column("next_payer_id")
        batch.drop_column("next_leg")
        batch.drop_column("leg")
