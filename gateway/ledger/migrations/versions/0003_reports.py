"""Reports: who billed/rendered a claim, its date of service, its first submission; rejections,
835 payments and their adjustments as rows; the indexes the reports need.

Revision ID: 0003_reports
Revises: 0002_sftp
Create Date: 2026-12-06 04:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_reports"
down_revision: str | None = "0002_sftp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("billing_npi", sa.String(length=15), nullable=True))
        batch.add_column(sa.Column("rendering_npi", sa.String(length=15), nullable=True))
        batch.add_column(sa.Column("service_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("first_submitted_at", _NOW, nullable=True))
        batch.add_column(sa.Column("first_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("intake_clean", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("first_verdict", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("first_outcome", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("first_denied", _MONEY, nullable=True))
        batch.add_column(sa.Column("first_paid_at", _NOW, nullable=True))
    op.create_index(
        op.f("ix_claims_first_submitted_at"), "claims", ["first_submitted_at"], unique=False
    )
    op.create_index(op.f("ix_claims_created_at"), "claims", ["created_at"], unique=False)
    # Claims submitted before this revision: their first submission from their history.
    op.execute(
        "UPDATE claims SET "
        "first_submitted_at = (SELECT MIN(e.at) FROM claim_events e "
        "WHERE e.claim_id = claims.claim_id AND e.kind = 'submitted'), "
        "first_version = (SELECT MIN(e.version) FROM claim_events e "
        "WHERE e.claim_id = claims.claim_id AND e.kind = 'submitted')"
    )
    op.create_table(
        "report_rejections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=38), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", _NOW, nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_rejections")),
    )
    op.create_index(
        op.f("ix_report_rejections_claim_id"), "report_rejections", ["claim_id"], unique=False
    )
    op.create_table(
        "remit_facts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=38), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", _NOW, nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("charge", _MONEY, nullable=False),
        sa.Column("paid", _MONEY, nullable=False),
        sa.Column("co", _MONEY, nullable=False),
        sa.Column("pr", _MONEY, nullable=False),
        sa.Column("other", _MONEY, nullable=False),
        sa.Column("denied", _MONEY, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remit_facts")),
    )
    op.create_index(op.f("ix_remit_facts_claim_id"), "remit_facts", ["claim_id"], unique=False)
    op.create_index(op.f("ix_remit_facts_at"), "remit_facts", ["at"], unique=False)
    op.create_table(
        "remit_adjustments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=38), nullable=False),
        sa.Column("at", _NOW, nullable=False),
        sa.Column("procedure", sa.String(length=48), nullable=True),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("group_code", sa.String(length=2), nullable=True),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("amount", _MONEY, nullable=True),
        sa.Column("denial", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remit_adjustments")),
    )
    op.create_index(
        op.f("ix_remit_adjustments_claim_id"), "remit_adjustments", ["claim_id"], unique=False
    )
    op.create_index(op.f("ix_remit_adjustments_at"), "remit_adjustments", ["at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("remit_adjustments")
    op.drop_table("remit_facts")
    op.drop_table("report_rejections")
    op.drop_index(op.f("ix_claims_first_submitted_at"), table_name="claims")
    op.drop_index(op.f("ix_claims_created_at"), table_name="claims")
    with op.batch_alter_table("claims") as batch:
        for name in (
            "first_paid_at",
            "first_denied",
            "first_outcome",
            "first_verdict",
            "intake_clean",
            "first_version",
            "first_submitted_at",
            "service_date",
            "rendering_npi",
            "billing_npi",
        ):
            batch.drop_column(name)
