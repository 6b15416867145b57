"""The web console's worklist: partial indexes over the open correction items, one per sort,
the claims by charge (the largest first), and what was sent on a day (an interchange's groups,
a set's claims: the files page).

Revision ID: 0007_worklist
Revises: 0006_web
Create Date: 2026-12-06 06:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_worklist"
down_revision: str | None = "0006_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Index name suffix and columns; each covers only the open items (closed_at IS NULL).
_INDEXES = (
    ("opened", ["opened_at", "id"]),
    ("payer", ["payer_id", "opened_at", "id"]),
    ("reason", ["reason_code", "opened_at", "id"]),
)


def upgrade() -> None:
    """Apply this revision."""
    for name, columns in _INDEXES:
        op.create_index(
            f"ix_correction_items_open_{name}",
            "correction_items",
            columns,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
    op.create_index("ix_claims_total_charge_claim_id", "claims", ["total_charge", "claim_id"])
    # What was sent on a day: an interchange's groups, a set's claims.
    op.create_index("ix_functional_groups_interchange_id", "functional_groups", ["interchange_id"])
    op.create_index("ix_submitted_claims_set_id", "submitted_claims", ["set_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_submitted_claims_set_id", table_name="submitted_claims")
    op.drop_index("ix_functional_groups_interchange_id", table_name="functional_groups")
    op.drop_index("ix_claims_total_charge_claim_id", table_name="claims")
    for name, _columns in _INDEXES:
        op.drop_index(f"ix_correction_items_open_{name}", table_name="correction_items")
