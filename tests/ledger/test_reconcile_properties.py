"""Properties of reconciliation over arbitrary response streams (hypothesis): any order of TA1,
999, 277CA and 835 answers yields only transitions the lifecycle allows, and replaying the same
stream changes nothing."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.ledger.lifecycle import ClaimState, transition
from gateway.ledger.reconcile import Response, SentClaim, SentSnapshot, reconcile
from tests.support import responses as r

CLAIMS = ["A", "B", "C"]

ta1 = st.builds(r.ta1, st.just("101"), st.sampled_from("AER"), st.sampled_from(["", "025"]))
ack999 = st.builds(
    lambda statuses, group: r.ack999(
        (r.group_ack("201", group, tuple(r.set_ack(str(n), s) for n, s in enumerate(statuses, 1))),)
    ),
    st.lists(st.sampled_from("AER"), max_size=3),
    st.sampled_from("AEPR"),
)
stc = st.builds(r.status_code, st.sampled_from(["A1", "A2", "A3", "A7", "P1", "A0"]), st.just("20"))
ack277 = st.builds(
    lambda rows: r.ack277("SRC", tuple(r.claim_status(c, s, p) for c, s, p in rows)),
    st.lists(
        st.tuples(st.sampled_from(CLAIMS), st.lists(stc, min_size=1, max_size=2).map(tuple),
                  st.sampled_from([None, "PCN"])),
        max_size=3,
    ),
)  # fmt: skip
money = st.sampled_from([Decimal("0"), Decimal("40.00"), Decimal("100.00"), Decimal("-100.00")])
adjustment = st.builds(
    r.adjustment, st.sampled_from(["CO", "PR", "OA"]), st.sampled_from(["45", "50", "1"]), money
)
clp = st.builds(
    r.remittance_claim,
    st.sampled_from(CLAIMS),
    st.sampled_from(["1", "2", "4", "22", "23", "25"]),
    st.just(Decimal("100.00")),
    money,
    st.none(),
    st.sampled_from([None, "PCN"]),
    st.lists(adjustment, max_size=2).map(tuple),
)
remit = st.builds(
    r.remittance, st.sampled_from(["T1", "T2"]), st.just("P"), st.lists(clp, max_size=3).map(tuple)
)
responses = st.lists(st.one_of(ta1, ack999, ack277, remit), max_size=8)


def snapshot() -> SentSnapshot:
    """Three submitted claims in interchange 101, group 201, sets 1..3."""
    snap = SentSnapshot()
    for n, claim_id in enumerate(CLAIMS, start=1):
        claim = SentClaim(claim_id, 1, ClaimState.SUBMITTED, "1", Decimal("100.00"))
        entry = SentClaim(**{**claim.__dict__, "sent_version": 1})
        snap.claims[claim_id] = claim
        snap.interchanges.setdefault("101", []).append(entry)
        snap.groups.setdefault("201", {})[str(n)] = [entry]
    return snap


def apply_all(snap: SentSnapshot, stream: list[Response]) -> int:
    """Reconcile and apply each response in turn as the ledger would; the events applied."""
    applied = 0
    for response in stream:
        for event in reconcile(response, snap).events:
            snap.event_keys.add(event.key)
            applied += 1
            if event.target is not None:
                current = snap.claims[event.claim_id]
                new_state = transition(current.state, event.target)  # raises if not allowed
                snap.claims[event.claim_id] = SentClaim(**{**current.__dict__, "state": new_state})
                for entries in snap.interchanges.values():
                    entries[:] = [_with_state(e, snap) for e in entries]
                for sets in snap.groups.values():
                    for st02, entries in sets.items():
                        sets[st02] = [_with_state(e, snap) for e in entries]
    return applied


def _with_state(entry: SentClaim, snap: SentSnapshot) -> SentClaim:
    return SentClaim(**{**entry.__dict__, "state": snap.claims[entry.claim_id].state})


@settings(max_examples=100, deadline=None)
@given(responses)
def test_any_stream_only_makes_allowed_transitions_and_replays_to_nothing(
    stream: list[Response],
) -> None:
    """Every state change is allowed by the table; applying the stream again adds no event."""
    snap = snapshot()
    apply_all(snap, stream)
    states = {c: snap.claims[c].state for c in CLAIMS}
    assert apply_all(snap, stream) == 0
    assert states == {c: snap.claims[c].state for c in CLAIMS}
