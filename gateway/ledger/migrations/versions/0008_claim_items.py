"""A claim's correction items, open and closed: an index on ``correction_items.claim_id``.

The claim page and ``gateway queue`` read every item of one claim; with only the partial index
of the open items, SQLite walked all of them by opening date (about 170 ms at 100,000 items,
``bench/web.py``).

Revision ID: 0008_claim_items
Revises: 0007_worklist
Create Date: 2026-12-06 07:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008_claim_items"
down_revision: str | None = "0007_worklist"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_correction_items_claim_id", "correction_items", ["claim_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_correction_items_claim_id", table_name="correction_items")
