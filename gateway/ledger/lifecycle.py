"""The claim lifecycle: one enum of states and one table of the transitions allowed between them.

Pure code. The ledger calls :func:`transition` before it changes a claim's state, so a step the
table does not allow is an error (:class:`InvalidTransitionError`) and never a silent corruption.
Reconciliation asks :func:`is_allowed` first: a response that would move a claim backwards (a 999
arriving after the 835) is recorded as an event without changing the state.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = [
    "CORRECTION_STATES",
    "FINAL_STATES",
    "TRANSITIONS",
    "ClaimState",
    "InvalidTransitionError",
    "is_allowed",
    "transition",
]


class ClaimState(StrEnum):
    """Where a claim stands; the value is what the ledger stores and prints."""

    # Recorded at intake (or a new version recorded by a resubmission), not yet checked.
    RECEIVED = "received"
    # The contract or the scrubber found errors; a correction item is open.
    INVALID = "invalid"
    # Clean and waiting for the batcher.
    QUEUED = "queued"
    # Taken into a file being built; the submission intent is recorded (write-ahead).
    BATCHED = "batched"
    # The file holding the claim was handed to the clearinghouse (success recorded).
    SUBMITTED = "submitted"
    # Its transaction set was accepted by a 999 (IK5 A or E).
    ACKNOWLEDGED = "acknowledged"
    # Its interchange or set was rejected by a TA1 R or a 999 R; a correction item is open.
    REJECTED = "rejected"
    # A 277CA accepted it (A0 forwarded, A1 received, A2 accepted into adjudication, A5 split).
    ACCEPTED = "accepted"
    # A 277CA rejected it (A3, A4, A6, A7, A8); a correction item is open.
    PAYER_REJECTED = "payer_rejected"
    # An 835 paid the whole allowed amount (no patient-independent reduction left unpaid).
    PAID = "paid"
    # An 835 paid part of it (payment above zero, some charge not paid).
    PARTIALLY_PAID = "partially_paid"
    # An 835 paid nothing (judged from CLP04 and the adjustments, not CLP02 alone); item open.
    DENIED = "denied"
    # An 835 reversed an earlier payment (CLP02 22); a corrected claim usually follows.
    REVERSED = "reversed"
    # Withdrawn: voided before the payer saw it, or the payer reversed a frequency-8 void.
    VOIDED = "voided"
    # Closed by a person (`gateway queue resolve`) with a note; nothing more will be sent.
    RESOLVED = "resolved"
    # A leg the previous payer forwarded itself (835 CLP02 19/20/21, NM1*TT): nothing is sent by
    # us; that payer's 277CA or 835 is awaited (coordination of benefits).
    CROSSED_OVER = "crossed_over"


S = ClaimState

#: The states that hold an open correction item (the queue is a view of these).
CORRECTION_STATES: frozenset[ClaimState] = frozenset(
    {S.INVALID, S.REJECTED, S.PAYER_REJECTED, S.DENIED}
)

#: States after which nothing more is expected unless a person acts.
FINAL_STATES: frozenset[ClaimState] = frozenset({S.VOIDED, S.RESOLVED})

# The outcomes an 835 can give, from any state in which the claim is at the payer.
_REMITTANCE = frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED, S.REVERSED})
# A new claim version recorded by a resubmission (frequency 1 or 7) starts at `received`.
_RESUBMIT = frozenset({S.RECEIVED})

#: THE transition table: for each state, the states a claim may move to next.
TRANSITIONS: Mapping[ClaimState, frozenset[ClaimState]] = {
    # received -> crossed_over: a leg recorded from the previous payer's forwarding 835.
    S.RECEIVED: frozenset({S.INVALID, S.QUEUED, S.VOIDED, S.CROSSED_OVER}),
    S.INVALID: _RESUBMIT | {S.VOIDED, S.RESOLVED},
    # queued -> invalid: the TR3 check of the built file found this claim wrong.
    S.QUEUED: frozenset({S.BATCHED, S.INVALID, S.VOIDED}),
    # batched -> queued: the file was never written or sent (crash or build failure), so retry.
    S.BATCHED: frozenset({S.SUBMITTED, S.QUEUED, S.INVALID}),
    # submitted -> accepted / 835 outcomes: a 999 or 277CA may be late or never come.
    # -> voided (here, after acknowledged and after accepted): the payer reversed our void (8).
    S.SUBMITTED: frozenset({S.ACKNOWLEDGED, S.REJECTED, S.ACCEPTED, S.PAYER_REJECTED, S.VOIDED})
    | _REMITTANCE,
    S.ACKNOWLEDGED: frozenset({S.ACCEPTED, S.PAYER_REJECTED, S.VOIDED}) | _REMITTANCE,
    S.REJECTED: _RESUBMIT | {S.VOIDED, S.RESOLVED},
    # accepted -> accepted: the clearinghouse's A1, then the payer's A2.
    S.ACCEPTED: frozenset({S.ACCEPTED, S.PAYER_REJECTED, S.VOIDED}) | _REMITTANCE,
    # payer_rejected -> payer_rejected: a second 277CA (payer after clearinghouse) rejecting too;
    # -> 835 outcomes: the payer adjudicated it after all (its 835 is the final word).
    S.PAYER_REJECTED: _RESUBMIT | _REMITTANCE | {S.PAYER_REJECTED, S.VOIDED, S.RESOLVED},
    # paid -> reversed: the payer takes its payment back; paid -> received: a replacement (7).
    S.PAID: _RESUBMIT | {S.REVERSED},
    # partially_paid -> paid: a supplemental payment for the rest.
    S.PARTIALLY_PAID: _RESUBMIT | {S.PAID, S.REVERSED},
    # denied -> paid / partially_paid: reprocessed on appeal (nothing to reverse for a zero pay).
    S.DENIED: _RESUBMIT | {S.PAID, S.PARTIALLY_PAID, S.REVERSED, S.VOIDED, S.RESOLVED},
    # reversed -> 835 outcomes: the corrected claim that follows a reversal.
    S.REVERSED: _RESUBMIT | {S.PAID, S.PARTIALLY_PAID, S.DENIED, S.VOIDED, S.RESOLVED},
    S.VOIDED: frozenset(),
    S.RESOLVED: _RESUBMIT,
    # crossed_over -> received: the payer never got it after all, so we bill it ourselves.
    S.CROSSED_OVER: frozenset({S.ACCEPTED, S.PAYER_REJECTED, S.VOIDED, S.RESOLVED})
    | _REMITTANCE
    | _RESUBMIT,
}


class InvalidTransitionError(ValueError):
    """A state change the lifecycle table does not allow."""

    def __init__(self, current: ClaimState, target: ClaimState) -> None:
        self.current = current
        self.target = target
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final)"
        super().__init__(
            f"a claim in state {current!s} cannot become {target!s} (allowed next: {allowed})"
        )


def is_allowed(current: ClaimState, target: ClaimState) -> bool:
    """Whether the table allows ``current`` -> ``target``."""
    return target in TRANSITIONS[current]


def transition(current: ClaimState, target: ClaimState) -> ClaimState:
    """Return ``target`` when the table allows the step; raise ``InvalidTransitionError`` if not."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransitionError(current, target)
    return target
