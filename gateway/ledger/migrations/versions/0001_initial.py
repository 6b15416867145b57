"""The initial ledger schema: files, claims and versions, submissions, responses, events, items.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 00:56:51.919882
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(length=38), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("payer_name", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("total_charge", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("patient_responsibility", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("payer_claim_control_number", sa.String(length=50), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claims")),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claims_state"), ["state"], unique=False)

    op.create_table(
        "control_numbers",
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("partner", "kind", name=op.f("pk_control_numbers")),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("archive_path", sa.String(length=1024), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_files_content_hash")),
    )
    op.create_table(
        "claim_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=38), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        sa.Column("replaces_version", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("source_file_id", sa.Integer(), nullable=True),
        sa.Column("total_charge", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("encounter", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.claim_id"], name=op.f("fk_claim_versions_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"], ["files.id"], name=op.f("fk_claim_versions_source_file_id_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_versions")),
        sa.UniqueConstraint("claim_id", "version", name=op.f("uq_claim_versions_claim_id_version")),
    )
    op.create_table(
        "interchanges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("isa13", sa.String(length=9), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_interchanges_file_id_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interchanges")),
        sa.UniqueConstraint("partner", "isa13", name=op.f("uq_interchanges_partner_isa13")),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"], name=op.f("fk_responses_file_id_files")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_responses_content_hash")),
    )
    op.create_table(
        "claim_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=38), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=True),
        sa.Column("cause", sa.String(length=500), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("isa13", sa.String(length=9), nullable=True),
        sa.Column("gs06", sa.String(length=9), nullable=True),
        sa.Column("st02", sa.String(length=9), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("event_key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.claim_id"], name=op.f("fk_claim_events_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_claim_events_file_id_files")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_claim_events_response_id_responses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_claim_events_event_key")),
    )
    with op.batch_alter_table("claim_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_events_claim_id_id"), ["claim_id", "id"], unique=False
        )

    op.create_table(
        "correction_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=38), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state_at_open", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=16), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.claim_id"], name=op.f("fk_correction_items_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_correction_items_file_id_files")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_correction_items_response_id_responses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_items")),
    )
    with op.batch_alter_table("correction_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_correction_items_opened_at"), ["opened_at"], unique=False
        )
        batch_op.create_index(
            "uq_correction_items_open_claim",
            ["claim_id"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )

    op.create_table(
        "functional_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("interchange_id", sa.Integer(), nullable=False),
        sa.Column("gs06", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["interchange_id"],
            ["interchanges.id"],
            name=op.f("fk_functional_groups_interchange_id_interchanges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_functional_groups")),
    )
    with op.batch_alter_table("functional_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_functional_groups_gs06"), ["gs06"], unique=False)

    op.create_table(
        "unmatched",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_unmatched_response_id_responses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched")),
    )
    op.create_table(
        "transaction_sets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("st02", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["functional_groups.id"],
            name=op.f("fk_transaction_sets_group_id_functional_groups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_sets")),
        sa.UniqueConstraint("group_id", "st02", name=op.f("uq_transaction_sets_group_id_st02")),
    )
    op.create_table(
        "submitted_claims",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(length=38), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("line_control_numbers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.claim_id"], name=op.f("fk_submitted_claims_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["transaction_sets.id"],
            name=op.f("fk_submitted_claims_set_id_transaction_sets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submitted_claims")),
    )
    with op.batch_alter_table("submitted_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submitted_claims_claim_id_version"),
            ["claim_id", "version"],
            unique=False,
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("submitted_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submitted_claims_claim_id_version"))

    op.drop_table("submitted_claims")
    op.drop_table("transaction_sets")
    op.drop_table("unmatched")
    with op.batch_alter_table("functional_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_functional_groups_gs06"))

    op.drop_table("functional_groups")
    with op.batch_alter_table("correction_items", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_correction_items_open_claim",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_correction_items_opened_at"))

    op.drop_table("correction_items")
    with op.batch_alter_table("claim_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_events_claim_id_id"))

    op.drop_table("claim_events")
    op.drop_table("responses")
    op.drop_table("interchanges")
    op.drop_table("claim_versions")
    op.drop_table("files")
    op.drop_table("control_numbers")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claims_state"))

    op.drop_table("claims")
