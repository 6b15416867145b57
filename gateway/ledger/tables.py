"""The ledger's tables (SQLAlchemy 2 Core), shared by SQLite and PostgreSQL.

The Alembic migrations in ``gateway/ledger/migrations`` create exactly these tables; a test compares
the migrated schema with this metadata. Money is ``Numeric(14, 2)`` (``Decimal`` in code); times are
UTC; an encounter is stored as the JSON it was received as.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "MONEY",
    "audit_entries",
    "claim_events",
    "claim_legs",
    "claim_versions",
    "claims",
    "control_numbers",
    "correction_items",
    "files",
    "functional_groups",
    "interchanges",
    "metadata",
    "remit_adjustments",
    "remit_facts",
    "report_rejections",
    "responses",
    "submitted_claims",
    "transaction_sets",
    "transport_states",
    "unmatched",
    "web_users",
]

# Constraint names are fixed so that migrations can refer to them on every database.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MONEY = sa.Numeric(14, 2)
NOW = sa.DateTime(timezone=True)

#: Every file the gateway took in or wrote: encounter files, 837s sent, responses received.
files = sa.Table(
    "files",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # SHA-256 of the bytes: the same content twice is a duplicate (one row).
    sa.Column("content_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    # encounters | 837P | 837I | TA1 | 999 | 277CA | 835 | unknown
    sa.Column("kind", sa.String(16), nullable=False),
    # in (inbox) | out (sent to the clearinghouse)
    sa.Column("direction", sa.String(3), nullable=False),
    # received | processing | written | sent | archived | applied | quarantined | duplicate |
    # held (a response not applied, or partly: incomplete, or 835 sets out of balance) |
    # superseded (a held incomplete response whose complete copy was applied) |
    # refused (an inbox entry or response the gateway will not take; detail says why)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=True),
    sa.Column("archive_path", sa.String(1024), nullable=True),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Column("received_at", NOW, nullable=False),
    sa.Column("updated_at", NOW, nullable=False),
    # Work claiming across workers (a lease that expires when a worker dies).
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", NOW, nullable=True),
)

#: One row per claim (our CLM01): its current state and what the payer told us about it.
claims = sa.Table(
    "claims",
    metadata,
    sa.Column("claim_id", sa.String(38), primary_key=True),  # CLM01 patient control number
    sa.Column("kind", sa.String(16), nullable=False),  # professional | institutional
    sa.Column("partner", sa.String(64), nullable=False),
    sa.Column("payer_id", sa.String(80), nullable=False),
    sa.Column("payer_name", sa.String(128), nullable=True),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("total_charge", MONEY, nullable=False),
    sa.Column("paid_amount", MONEY, nullable=True),  # CLP04 of the latest remittance
    sa.Column("patient_responsibility", MONEY, nullable=True),  # CLP05
    sa.Column("payer_claim_control_number", sa.String(50), nullable=True),  # REF*1K / CLP07
    sa.Column("created_at", NOW, nullable=False, index=True),  # indexed for the reports
    sa.Column("updated_at", NOW, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", NOW, nullable=True),
    # For the reports (gateway/ledger/reports.py): who billed and rendered it, its first date of
    # service, and when (and at which version) it was first submitted.
    sa.Column("billing_npi", sa.String(15), nullable=True),
    sa.Column("rendering_npi", sa.String(15), nullable=True),
    sa.Column("service_date", sa.Date, nullable=True),
    sa.Column("first_submitted_at", NOW, nullable=True, index=True),
    sa.Column("first_version", sa.Integer, nullable=True),
    sa.Column("intake_clean", sa.Boolean, nullable=True),  # its first version passed the scrubber
    sa.Column("first_verdict", sa.String(8), nullable=True),  # accepted | rejected (first version)
    sa.Column("first_outcome", sa.String(24), nullable=True),  # of its first 835 adjudication
    sa.Column("first_denied", MONEY, nullable=True),  # denying adjustments of that adjudication
    sa.Column("first_paid_at", NOW, nullable=True),  # the first 835 that paid more than zero
    sa.Column("first_paid_on", sa.Date, nullable=True),  # its payment date (BPR16, else applied)
    sa.Index("ix_claims_first_submitted_at_claim_id", "first_submitted_at", "claim_id"),
    sa.Index("ix_claims_total_charge_claim_id", "total_charge", "claim_id"),  # the worklist
)

#: Every version of a claim as received: the original and each resubmission, void or replacement.
claim_versions = sa.Table(
    "claim_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("claim_id", sa.String(38), sa.ForeignKey("claims.claim_id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("frequency", sa.String(1), nullable=False),  # CLM05-3: 1 original, 7, 8
    sa.Column("replaces_version", sa.Integer, nullable=True),
    # intake | correction-file | resubmit | void
    sa.Column("origin", sa.String(20), nullable=False),
    sa.Column("source_file_id", sa.Integer, sa.ForeignKey("files.id"), nullable=True),
    sa.Column("total_charge", MONEY, nullable=False),
    sa.Column("encounter", sa.JSON, nullable=False),
    sa.Column("received_at", NOW, nullable=False),
    # The leg (payer) this version is billed to: 1 primary, 2 secondary, 3 tertiary...
    sa.Column("leg", sa.Integer, nullable=False, server_default="1"),
    # The leg of the next payer its encounter names (other_payers), null when none: which
    # settled claims an 835 crosses over, without reading their encounters.
    sa.Column("next_leg", sa.Integer, nullable=True),
    # ... and that payer's id: its 835 is matched to that leg even when it comes first.
    sa.Column("next_payer_id", sa.String(80), nullable=True),
    sa.UniqueConstraint("claim_id", "version"),
)

#: Coordination of benefits: one row per payer a claim goes to (its legs), in order of
#: responsibility. The claim's current leg is the leg of its current version: ``claims`` holds
#: that leg's state and money; this row holds them for the legs left behind (and is refreshed
#: when the claim moves on, or when a late answer about an earlier leg comes).
claim_legs = sa.Table(
    "claim_legs",
    metadata,
    sa.Column("claim_id", sa.String(38), sa.ForeignKey("claims.claim_id"), primary_key=True),
    sa.Column("leg", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("responsibility", sa.String(12), nullable=False),  # primary | secondary | ...
    sa.Column("payer_id", sa.String(80), nullable=False),
    sa.Column("payer_name", sa.String(128), nullable=True),
    sa.Column("partner", sa.String(64), nullable=False),
    # billed (intake) | crossover (built from the previous leg's 835) |
    # crossed-over (the previous payer forwarded it: CLP02 19/20/21, nothing sent by us)
    sa.Column("origin", sa.String(24), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("paid_amount", MONEY, nullable=True),  # CLP04 of the leg's latest remittance
    sa.Column("patient_responsibility", MONEY, nullable=True),  # CLP05
    sa.Column("payer_claim_control_number", sa.String(50), nullable=True),  # CLP07 / REF*1K
    # This leg's encounter rebuilt from a corrected payment of an earlier leg: what
    # `gateway queue resubmit` sends as the replacement (frequency 7).
    sa.Column("replacement", sa.JSON, nullable=True),
    sa.Column("opened_at", NOW, nullable=False),
    sa.Column("updated_at", NOW, nullable=False),
)

#: Interchanges (ISA..IEA) we wrote; one per 837 file. ``status`` is the write-ahead marker.
interchanges = sa.Table(
    "interchanges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partner", sa.String(64), nullable=False),
    sa.Column("isa13", sa.String(9), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # 837P | 837I
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("files.id"), nullable=True),
    sa.Column("status", sa.String(12), nullable=False),  # intent | submitted | abandoned
    sa.Column("created_at", NOW, nullable=False),
    sa.Column("submitted_at", NOW, nullable=True),
    sa.UniqueConstraint("partner", "isa13"),
)

#: Functional groups (GS..GE) inside an interchange we sent.
functional_groups = sa.Table(
    "functional_groups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("interchange_id", sa.Integer, sa.ForeignKey("interchanges.id"), nullable=False),
    sa.Column("gs06", sa.String(9), nullable=False, index=True),
    sa.Index(None, "interchange_id"),  # what was sent (gateway/ledger/file_lists.py)
)

#: Transaction sets (ST..SE) inside a group we sent.
transaction_sets = sa.Table(
    "transaction_sets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("group_id", sa.Integer, sa.ForeignKey("functional_groups.id"), nullable=False),
    sa.Column("st02", sa.String(9), nullable=False),
    sa.UniqueConstraint("group_id", "st02"),
)

#: Which claim version went in which set, with the REF*6R line control numbers of its lines.
submitted_claims = sa.Table(
    "submitted_claims",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("set_id", sa.Integer, sa.ForeignKey("transaction_sets.id"), nullable=False),
    sa.Column("claim_id", sa.String(38), sa.ForeignKey("claims.claim_id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("line_control_numbers", sa.JSON, nullable=False),
    sa.Index(None, "claim_id", "version"),
    sa.Index(None, "set_id"),  # what was sent (gateway/ledger/file_lists.py)
)

#: Responses read and applied (TA1, 999, 277CA, 835), one row per response file content.
responses = sa.Table(
    "responses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("content_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("files.id"), nullable=True),
    sa.Column("kind", sa.String(8), nullable=False),  # TA1 | 999 | 277CA | 835
    sa.Column("summary", sa.JSON, nullable=True),
    sa.Column("events", sa.Integer, nullable=False),  # how many claim events it produced
    sa.Column("applied_at", NOW, nullable=False),
)

#: What a response said that matched nothing we sent: kept, never dropped.
unmatched = sa.Table(
    "unmatched",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("response_id", sa.Integer, sa.ForeignKey("responses.id"), nullable=False),
    sa.Column("reference", sa.String(80), nullable=False),  # the id that matched nothing
    sa.Column("reason", sa.String(255), nullable=False),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Column("recorded_at", NOW, nullable=False),
)

#: The append-only history of every claim. ``event_key`` makes re-applying a response a no-op.
claim_events = sa.Table(
    "claim_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("claim_id", sa.String(38), sa.ForeignKey("claims.claim_id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", NOW, nullable=False),
    # received | checked | batched | submitted | abandoned | ta1 | 999 | 277ca | 835 |
    # resubmitted | voided | resolved
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("from_state", sa.String(20), nullable=True),
    sa.Column("to_state", sa.String(20), nullable=True),  # null: recorded, state unchanged
    sa.Column("cause", sa.String(500), nullable=False),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("files.id"), nullable=True),
    sa.Column("response_id", sa.Integer, sa.ForeignKey("responses.id"), nullable=True),
    sa.Column("isa13", sa.String(9), nullable=True),
    sa.Column("gs06", sa.String(9), nullable=True),
    sa.Column("st02", sa.String(9), nullable=True),
    sa.Column("amount", MONEY, nullable=True),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Column("event_key", sa.String(200), nullable=True, unique=True),
    sa.Index(None, "claim_id", "id"),
    sa.Index("ix_claim_events_claim_id_kind", "claim_id", "kind"),
)

#: Correction items: one open item per invalid, rejected or denied claim; closed by a person.
correction_items = sa.Table(
    "correction_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("claim_id", sa.String(38), sa.ForeignKey("claims.claim_id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state_at_open", sa.String(20), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # scrubber | TA1 | 999 | 277CA | 835
    sa.Column("reason_code", sa.String(40), nullable=False),  # the first reason's code
    # [{"code", "meaning", "where", "action"}, ...]
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("payer_id", sa.String(80), nullable=False),
    sa.Column("response_id", sa.Integer, sa.ForeignKey("responses.id"), nullable=True),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("files.id"), nullable=True),
    sa.Column("opened_at", NOW, nullable=False),
    sa.Column("closed_at", NOW, nullable=True),
    sa.Column("closed_by", sa.String(16), nullable=True),  # resubmitted | voided | resolved
    sa.Column("note", sa.String(2000), nullable=True),
    # At most one open item per claim, on both databases.
    sa.Index(
        "uq_correction_items_open_claim",
        "claim_id",
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
    sa.Index(None, "opened_at"),
    sa.Index(None, "claim_id"),  # a claim's items, open and closed (the claim page)
    # The web console's worklist (gateway/ledger/worklist.py): each sort over open items only.
    *(
        sa.Index(
            f"ix_correction_items_open_{name}",
            *columns,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        for name, columns in (
            ("opened", ("opened_at", "id")),
            ("payer", ("payer_id", "opened_at", "id")),
            ("reason", ("reason_code", "opened_at", "id")),
        )
    ),
)

#: Control-number sequences per trading partner and kind (ISA13, GS06, ST02): never reused.
control_numbers = sa.Table(
    "control_numbers",
    metadata,
    sa.Column("partner", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),  # ISA13 | GS06 | ST02
    sa.Column("last_value", sa.BigInteger, nullable=False),
)

#: Each clearinghouse transport's last known state, written by the service when it changes
#: (and at each failed attempt, with the time of the next), read by ``gateway status``.
transport_states = sa.Table(
    "transport_states",
    metadata,
    sa.Column("transport", sa.String(255), primary_key=True),  # the transport's label
    sa.Column("partners", sa.JSON, nullable=False),  # the partner names it serves
    sa.Column("state", sa.String(8), nullable=False),  # ok | failing
    sa.Column("since", NOW, nullable=False),
    sa.Column("error", sa.String(2000), nullable=True),
    # host-key-unknown | host-key-mismatch | auth | config | network | error
    sa.Column("error_kind", sa.String(20), nullable=True),
    sa.Column("failures", sa.Integer, nullable=False),  # failed attempts in a row
    sa.Column("next_attempt_at", NOW, nullable=True),
    sa.Column("updated_at", NOW, nullable=False),
)


#: For the reports: each rejection (TA1, 999, clearinghouse or payer 277CA) of a claim version.
report_rejections = sa.Table(
    "report_rejections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("claim_id", sa.String(38), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", NOW, nullable=False),
    sa.Column("stage", sa.String(24), nullable=False),  # TA1 | 999 | 277CA-clearinghouse | ...
    sa.Column("reason_code", sa.String(40), nullable=False),
)

#: For the reports: one row per 835 claim payment applied (CLP), with its sums of adjustments.
remit_facts = sa.Table(
    "remit_facts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("claim_id", sa.String(38), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", NOW, nullable=False, index=True),
    sa.Column("outcome", sa.String(24), nullable=False),  # paid | denied | reversed | ...
    sa.Column("charge", MONEY, nullable=False),
    sa.Column("paid", MONEY, nullable=False),
    sa.Column("co", MONEY, nullable=False),
    sa.Column("pr", MONEY, nullable=False),
    sa.Column("other", MONEY, nullable=False),
    sa.Column("denied", MONEY, nullable=False),  # sum of the denying adjustments
    sa.Column("paid_on", sa.Date, nullable=True),  # BPR16 payment date, else the day applied
    sa.Column("allowed", MONEY, nullable=True),  # sum of the lines' AMT*B6; null: none given
)

#: For the reports: every CAS adjustment (with group code) and RARC of the 835s applied.
remit_adjustments = sa.Table(
    "remit_adjustments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("claim_id", sa.String(38), nullable=False, index=True),
    sa.Column("at", NOW, nullable=False, index=True),
    sa.Column("procedure", sa.String(48), nullable=True),  # null: claim level
    sa.Column("kind", sa.String(4), nullable=False),  # CARC | RARC
    sa.Column("group_code", sa.String(2), nullable=True),
    sa.Column("code", sa.String(10), nullable=False),
    sa.Column("amount", MONEY, nullable=True),
    sa.Column("denial", sa.Boolean, nullable=False),
    # The denials report's covering index: only the denying rows.
    sa.Index(
        "ix_remit_adjustments_denials",
        "claim_id",
        "kind",
        "group_code",
        "code",
        "amount",
        "procedure",
        sqlite_where=sa.text("denial IS 1"),
        postgresql_where=sa.text("denial IS true"),
    ),
)


#: The web console's users: a name, a role (viewer | biller | admin) and an argon2 password hash.
web_users = sa.Table(
    "web_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(8), nullable=False),  # viewer | biller | admin
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", NOW, nullable=False),
    sa.Column("disabled_at", NOW, nullable=True),  # null: may log in
    # Sessions started before this time are over (logout, disabling, a new password or role).
    sa.Column("sessions_valid_after", NOW, nullable=False),
)

#: The audit trail (HIPAA): who viewed which claim and who changed what, from where. Append-only;
#: ``detail`` never holds patient data (names, birth dates, member ids, addresses).
audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", NOW, nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),  # a web user's name, or cli:<os user>
    # view | resubmit | void | resolve | release | dismiss | login | logout | user-add | ...
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("claim_id", sa.String(38), nullable=True),
    sa.Column("detail", sa.JSON, nullable=True),
    sa.Column("client", sa.String(64), nullable=True),  # the client address; null for the CLI
    sa.Index(None, "claim_id", "id"),
    sa.Index(None, "actor", "id"),
)
