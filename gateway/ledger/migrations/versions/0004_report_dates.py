"""Reports: the 835's payment date (BPR16) and allowed amount (AMT*B6) on each claim payment,
the first payment's date on the claim; covering indexes for the denials and rework reports.

Revision ID: 0004_report_dates
Revises: 0003_reports
Create Date: 2026-12-06 05:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004_report_dates"
down_revision: str | None = "0003_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("claims") as batch:
        batch.add_column(sa.Column("first_paid_on", sa.Date(), nullable=True))
    with op.batch_alter_table("remit_facts") as batch:
        batch.add_column(sa.Column("paid_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("allowed", sa.Numeric(14, 2), nullable=True))
    _indexes(op.create_index)


def _indexes(create: Any) -> None:
    # The period's claims with their ids from the index alone (the reports join on claim_id).
    create("ix_claims_first_submitted_at_claim_id", "claims", ["first_submitted_at", "claim_id"])
    # Submissions per claim (resubmitted more than once) without reading the events' rows.
    create("ix_claim_events_claim_id_kind", "claim_events", ["claim_id", "kind"])
    # Only the denying adjustments, with what the denials report reads (a covering index).
    create(
        "ix_remit_adjustments_denials",
        "remit_adjustments",
        ["claim_id", "kind", "group_code", "code", "amount", "procedure"],
        sqlite_where=sa.text("denial IS 1"),
        postgresql_where=sa.text("denial IS true"),
    )


def downgrade() -> None:
    """Revert this revision."""
    for name, table in (
        ("ix_remit_adjustments_denials", "remit_adjustments"),
        ("ix_claim_events_claim_id_kind", "claim_events"),
        ("ix_claims_first_submitted_at_claim_id", "claims"),
    ):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("remit_facts") as batch:
        batch.drop_column("allowed")
        batch.drop_column("paid_on")
    with op.batch_alter_table("claims") as batch:
        batch.drop_column("first_paid_on")
