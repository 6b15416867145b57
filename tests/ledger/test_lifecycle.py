"""The claim lifecycle: every pair of states checked against the allowed-transition table."""

from __future__ import annotations

import itertools

import pytest

from gateway.ledger.lifecycle import (
    CORRECTION_STATES,
    TRANSITIONS,
    ClaimState,
    InvalidTransitionError,
    is_allowed,
    transition,
)

# The allowed steps written out independently of the code, one line per state.
EXPECTED_TEXT = """
received: invalid queued voided crossed_over
invalid: received voided resolved
queued: batched invalid voided
batched: submitted queued invalid
submitted: acknowledged rejected accepted payer_rejected paid partially_paid denied reversed voided
acknowledged: accepted payer_rejected paid partially_paid denied reversed voided
rejected: received voided resolved
accepted: accepted payer_rejected paid partially_paid denied reversed voided
payer_rejected: received payer_rejected voided resolved paid partially_paid denied reversed
paid: received reversed
partially_paid: received paid reversed
denied: received paid partially_paid reversed voided resolved
reversed: received paid partially_paid denied voided resolved
voided:
resolved: received
crossed_over: accepted payer_rejected paid partially_paid denied reversed voided resolved received
"""


def _expected() -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for line in EXPECTED_TEXT.strip().splitlines():
        state, _, targets = line.partition(":")
        pairs.update((state, target) for target in targets.split())
    return pairs


EXPECTED = _expected()
ALL_PAIRS = list(itertools.product(ClaimState, ClaimState))


def test_every_state_has_a_row() -> None:
    """The table names every state exactly once as a source."""
    assert set(ClaimState) == set(TRANSITIONS)


def test_state_values_are_the_design_names() -> None:
    """The stored values are the lower-case names of DESIGN.md section 4 plus the closing states."""
    expected = {
        "received", "invalid", "queued", "batched", "submitted", "acknowledged", "rejected",
        "accepted", "payer_rejected", "paid", "partially_paid", "denied", "reversed", "voided",
        "resolved", "crossed_over",
    }  # fmt: skip
    assert expected == {state.value for state in ClaimState}


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: str(s))
def test_every_pair(current: ClaimState, target: ClaimState) -> None:
    """Each of the 256 pairs is allowed exactly when the written table says so."""
    allowed = (current.value, target.value) in EXPECTED
    assert allowed == is_allowed(current, target)
    if allowed:
        assert target == transition(current, target)
    else:
        with pytest.raises(InvalidTransitionError) as caught:
            transition(current, target)
        assert (current, target) == (caught.value.current, caught.value.target)
        assert current.value in str(caught.value)


SEQUENCES = {
    "clean path, clearinghouse A1 then payer A2": [
        "received", "queued", "batched", "submitted", "acknowledged", "accepted", "accepted",
        "paid",
    ],
    "clearinghouse A1 then payer A3": [
        "received", "queued", "batched", "submitted", "acknowledged", "accepted", "payer_rejected",
    ],
    "835 before the 277CA and the 999": ["received", "queued", "batched", "submitted", "paid"],
    "reversal then corrected claim paid": [
        "received", "queued", "batched", "submitted", "accepted", "paid", "reversed", "paid",
    ],
    "reversal then corrected claim denied": ["submitted", "paid", "reversed", "denied"],
    "999 rejection then resubmission": [
        "submitted", "rejected", "received", "queued", "batched", "submitted", "acknowledged",
    ],
    "invalid, corrected, sent": ["received", "invalid", "received", "queued", "batched"],
    "denied, replaced after adjudication": ["accepted", "denied", "received", "queued"],
    "denied, resolved by a person": ["accepted", "denied", "resolved"],
    "rejected before adjudication, voided": ["submitted", "rejected", "voided"],
    "crash between intent and write": ["queued", "batched", "queued", "batched", "submitted"],
    "supplemental payment": ["accepted", "partially_paid", "paid"],
    "payer rejected, then paid after all": ["accepted", "payer_rejected", "paid"],
}  # fmt: skip


@pytest.mark.parametrize("steps", SEQUENCES.values(), ids=SEQUENCES.keys())
def test_real_world_sequences(steps: list[str]) -> None:
    """Sequences seen with real clearinghouses and payers walk the table without an error."""
    state = ClaimState(steps[0])
    for step in steps[1:]:
        state = transition(state, ClaimState(step))
    assert ClaimState(steps[-1]) == state


def test_correction_states_can_be_closed() -> None:
    """Every state holding a correction item can be resubmitted or resolved by a person."""
    for state in CORRECTION_STATES:
        assert is_allowed(state, ClaimState.RECEIVED)
        assert is_allowed(state, ClaimState.RESOLVED)


def test_every_state_is_reachable_from_received() -> None:
    """No state is dead code: each can be reached from `received`."""
    seen = {ClaimState.RECEIVED}
    frontier = [ClaimState.RECEIVED]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert set(ClaimState) == seen
