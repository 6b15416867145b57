"""Plain records the ledger takes in and hands out (frozen dataclasses, no database types).

The service fills the inputs (:class:`IncomingClaim`, :class:`SubmissionIntent`); reconciliation
produces :class:`ClaimEvent` and :class:`Unmatched`; the queue and the commands read
:class:`QueueItem`, :class:`ClaimHistory` and :class:`StatusSummary`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from gateway.ledger.lifecycle import ClaimState

__all__ = [
    "ClaimEvent",
    "ClaimFile",
    "ClaimHistory",
    "ClaimRecord",
    "ClaimSent",
    "EventRecord",
    "FileRecord",
    "GroupSent",
    "HeldClaim",
    "IncomingClaim",
    "IntakeOutcome",
    "LegRecord",
    "QueueItem",
    "QueuedClaim",
    "Reason",
    "SetSent",
    "StatusSummary",
    "SubmissionIntent",
    "SubmissionRecord",
    "TransportState",
    "Unmatched",
    "VersionRecord",
]


@dataclass(frozen=True)
class Reason:
    """Why a claim needs correcting, in words: the code, its meaning, where, and what to do."""

    code: str
    meaning: str
    where: str = ""
    action: str = ""

    def as_dict(self) -> dict[str, str]:
        """The reason as JSON-ready data."""
        return {
            "code": self.code,
            "meaning": self.meaning,
            "where": self.where,
            "action": self.action,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        """A reason from :meth:`as_dict` output (missing keys become empty)."""
        return cls(
            str(data.get("code", "")),
            str(data.get("meaning", "")),
            str(data.get("where", "")),
            str(data.get("action", "")),
        )


@dataclass(frozen=True)
class FileRecord:
    """A file the ledger knows; ``is_new`` is False when its content was seen before."""

    id: int
    content_hash: str
    name: str
    kind: str
    direction: str
    status: str
    archive_path: str | None
    is_new: bool
    detail: Mapping[str, Any] | None = None
    size: int | None = None


@dataclass(frozen=True)
class IncomingClaim:
    """One encounter taken in (or corrected), ready to be recorded as a claim version.

    ``findings`` are the contract/scrubber errors: when any is given the claim becomes ``invalid``
    and a correction item opens with them; otherwise it is ``queued`` for the batcher.
    """

    claim_id: str
    kind: str
    partner: str
    payer_id: str
    total_charge: Decimal
    encounter: Mapping[str, Any]
    frequency: str = "1"
    payer_name: str | None = None
    findings: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class IntakeOutcome:
    """What recording one incoming claim did: ``new``, ``resubmission`` or ``duplicate``."""

    claim_id: str
    outcome: str
    version: int
    state: ClaimState
    detail: str = ""


@dataclass(frozen=True)
class QueuedClaim:
    """A claim version waiting for the batcher."""

    claim_id: str
    version: int
    kind: str
    partner: str
    payer_id: str
    frequency: str
    encounter: Mapping[str, Any]


@dataclass(frozen=True)
class ClaimSent:
    """A claim version inside a transaction set, with its REF*6R line control numbers."""

    claim_id: str
    version: int | None = None  # None: the claim's current version
    line_control_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetSent:
    """A transaction set (ST02) and the claims in it."""

    st02: str
    claims: tuple[ClaimSent, ...]


@dataclass(frozen=True)
class GroupSent:
    """A functional group (GS06) and its sets."""

    gs06: str
    sets: tuple[SetSent, ...]


@dataclass(frozen=True)
class SubmissionIntent:
    """An interchange about to be written: recorded before the file exists (write-ahead)."""

    partner: str
    kind: str  # 837P | 837I
    isa13: str
    file_name: str
    groups: tuple[GroupSent, ...]

    def claims(self) -> tuple[ClaimSent, ...]:
        """Every claim in the interchange, in file order."""
        return tuple(c for g in self.groups for s in g.sets for c in s.claims)


@dataclass(frozen=True)
class SubmissionRecord:
    """An interchange in the ledger and where it stands (intent, submitted or abandoned)."""

    id: int
    partner: str
    kind: str
    isa13: str
    file_name: str
    status: str
    created_at: datetime
    submitted_at: datetime | None


@dataclass(frozen=True)
class ClaimEvent:
    """One thing a response (or a person) said about one claim version.

    ``target`` is the state to move to, or None to record without a state change (a late or
    informational answer). ``key`` is unique per fact: applying it twice is a no-op.
    """

    claim_id: str
    version: int
    kind: str
    target: ClaimState | None
    cause: str
    key: str
    isa13: str | None = None
    gs06: str | None = None
    st02: str | None = None
    amount: Decimal | None = None
    paid_amount: Decimal | None = None
    patient_responsibility: Decimal | None = None
    payer_claim_control_number: str | None = None
    reasons: tuple[Reason, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: The leg (payer) the event is about; None: the claim's current leg.
    leg: int | None = None
    #: The event opens ``leg`` (the next payer's 835 for a claim the previous payer forwarded).
    opens_leg: bool = False


@dataclass(frozen=True)
class Unmatched:
    """Part of a response that matches nothing we sent: kept with the reason."""

    reference: str
    reason: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClaimRecord:
    """A claim's current row."""

    claim_id: str
    kind: str
    partner: str
    payer_id: str
    payer_name: str | None
    state: ClaimState
    current_version: int
    total_charge: Decimal
    paid_amount: Decimal | None
    patient_responsibility: Decimal | None
    payer_claim_control_number: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class VersionRecord:
    """One version of a claim as received."""

    version: int
    frequency: str
    replaces_version: int | None
    origin: str
    total_charge: Decimal
    encounter: Mapping[str, Any]
    received_at: datetime
    source_file: str | None
    leg: int = 1


@dataclass(frozen=True)
class EventRecord:
    """One entry of a claim's history."""

    id: int
    version: int
    at: datetime
    kind: str
    from_state: ClaimState | None
    to_state: ClaimState | None
    cause: str
    file_name: str | None
    isa13: str | None
    gs06: str | None
    st02: str | None
    amount: Decimal | None
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class QueueItem:
    """A correction item: an invalid, rejected or denied claim waiting for a person."""

    id: int
    claim_id: str
    version: int
    state: ClaimState
    source: str
    reason_code: str
    reasons: tuple[Reason, ...]
    payer_id: str
    partner: str
    frequency: str
    payer_claim_control_number: str | None
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    note: str | None
    source_file: str | None
    encounter: Mapping[str, Any]
    leg: int = 1  # the leg (payer) the item is about: 1 primary, 2 secondary...


@dataclass(frozen=True)
class ClaimHistory:
    """Everything the ledger knows about one claim."""

    claim: ClaimRecord
    versions: tuple[VersionRecord, ...]
    events: tuple[EventRecord, ...]
    items: tuple[QueueItem, ...]
    legs: tuple[LegRecord, ...] = ()


@dataclass(frozen=True)
class LegRecord:
    """One payer's leg of a claim (coordination of benefits), as it stands.

    ``state``, ``paid_amount``, ``patient_responsibility`` and ``payer_claim_control_number`` are
    the claim's own for its current leg. ``origin``: ``billed`` (intake), ``crossover`` (built
    from the previous leg's 835), ``crossed-over`` (the previous payer forwarded it itself).
    """

    leg: int
    responsibility: str
    payer_id: str
    payer_name: str | None
    partner: str
    origin: str
    state: ClaimState
    paid_amount: Decimal | None
    patient_responsibility: Decimal | None
    payer_claim_control_number: str | None
    versions: tuple[int, ...]
    current: bool
    replacement_offered: bool = False


@dataclass(frozen=True)
class ClaimFile:
    """A file a claim's history names: an 837 it was sent in or a response that answered it,
    with where it is archived and the control numbers and versions its events recorded."""

    file_id: int
    name: str
    kind: str  # 837P | 837I | TA1 | 999 | 277CA | 835 | encounters ...
    direction: str  # in | out
    archive_path: str | None
    versions: tuple[int, ...]
    event_kinds: tuple[str, ...]
    isa13: str | None = None
    gs06: str | None = None
    st02s: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusSummary:
    """Counts and charge/paid totals per state, and the oldest open correction items."""

    counts: Mapping[ClaimState, int]
    charges: Mapping[ClaimState, Decimal]
    paid: Mapping[ClaimState, Decimal]
    open_items: int
    oldest_items: tuple[QueueItem, ...]
    unmatched: int
    quarantined_files: int
    #: Encounters that could not be read (or had no contract claim id) from files whose other
    #: encounters were taken: each is in a quarantine record (``<name>.unreadable...``).
    unreadable_records: int = 0
    #: Inbox entries and responses the gateway will not take (symlinks, hard links, abandoned
    #: dotfiles, oversize responses in a drop folder): files rows with status ``refused``.
    refused_files: int = 0
    #: Response files held: incomplete as received, or 835 sets out of balance awaiting release.
    held_files: int = 0
    #: Each clearinghouse transport's last known state (``gateway status`` "transports").
    transports: tuple[TransportState, ...] = ()
    #: Claims whose primary settled and whose next payer (a secondary, a tertiary) has not
    #: answered yet: queued, sent or crossed over to it.
    waiting_on_next_payer: int = 0


@dataclass(frozen=True)
class TransportState:
    """Whether a clearinghouse transport works: ``ok`` or ``failing`` since when, the last
    error and its kind, failed attempts in a row, and when the service tries again."""

    transport: str  # the transport's label (e.g. ``sftp gateway@host:22``; never a secret)
    partners: tuple[str, ...]
    state: str  # ok | failing
    since: datetime
    error: str | None = None
    error_kind: str | None = None  # host-key-unknown | host-key-mismatch | auth | network | ...
    failures: int = 0
    next_attempt_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class HeldClaim:
    """A claim whose response (an 835 set out of balance) is held for review: the event key
    that makes holding it idempotent, the cause for its history and the reasons for its item."""

    claim_id: str
    key: str
    cause: str
    reasons: tuple[Reason, ...]
    detail: Mapping[str, Any] | None = None
