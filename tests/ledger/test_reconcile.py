"""Reconciliation as pure functions: each matching rule, duplicates, out-of-order, reversals."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.reconcile import Reconciliation, SentClaim, SentSnapshot, reconcile
from gateway.models.acknowledgements import StatusCode
from gateway.models.remittance import Adjustment, Claim, ServiceLine
from tests.support import responses as r

S = ClaimState
D = Decimal


def sent(claim_id: str, state: ClaimState = S.SUBMITTED, **extra: object) -> SentClaim:
    """A claim we sent (version 1, 100.00, two lines)."""
    values: dict[str, object] = {
        "claim_id": claim_id,
        "version": 1,
        "state": state,
        "frequency": "1",
        "total_charge": D("100.00"),
        "line_control_numbers": (f"{claim_id}-1", f"{claim_id}-2"),
    }
    values.update(extra)
    return SentClaim(**values)  # type: ignore[arg-type]


def snapshot(*claims: SentClaim, isa13: str = "101", gs06: str = "201") -> SentSnapshot:
    """A view where every claim went in interchange 101, group 201, set 000N (N = position)."""
    snap = SentSnapshot()
    for n, claim in enumerate(claims, start=1):
        entry = SentClaim(**{**claim.__dict__, "sent_version": claim.version})
        snap.claims[claim.claim_id] = claim
        snap.interchanges.setdefault(isa13, []).append(entry)
        snap.groups.setdefault(gs06, {})[str(n)] = [entry]
    return snap


def targets(result: Reconciliation) -> list[tuple[str, ClaimState | None]]:
    """(claim id, target state) of each event, in order."""
    return [(e.claim_id, e.target) for e in result.events]


# ---------------------------------------------------------------------------------------- TA1

TA1_CASES = {
    "rejected interchange rejects every claim": ("R", [("A", S.REJECTED), ("B", S.REJECTED)]),
    "accepted interchange is recorded only": ("A", [("A", None), ("B", None)]),
    "accepted with errors is recorded only": ("E", [("A", None), ("B", None)]),
}


@pytest.mark.parametrize(("status", "expected"), TA1_CASES.values(), ids=TA1_CASES.keys())
def test_ta1_matches_by_isa13(status: str, expected: list[tuple[str, ClaimState | None]]) -> None:
    """A TA1 applies to every claim of the interchange named by its ISA13 (zeros ignored)."""
    result = reconcile(
        r.ta1("000000101", status, "008", "invalid receiver"),
        snapshot(sent("A"), sent("B")),
    )
    assert expected == targets(result)
    assert ["101", "101"] == [e.isa13 for e in result.events]


def test_ta1_rejection_reason_names_the_note_code() -> None:
    """The TA105 note code and its meaning become the correction reason."""
    result = reconcile(r.ta1("101", "R", "025", "duplicate ISA13"), snapshot(sent("A")))
    reason = result.events[0].reasons[0]
    assert ("TA1-025", "duplicate ISA13", "interchange ISA13 101") == (
        reason.code,
        reason.meaning,
        reason.where,
    )


def test_ta1_for_an_unknown_interchange_is_unmatched() -> None:
    """A TA1 naming an ISA13 we never sent produces no event and one unmatched entry."""
    result = reconcile(r.ta1("777", "R"), snapshot(sent("A")))
    assert ([], ["777"]) == (targets(result), [u.reference for u in result.unmatched])


# ---------------------------------------------------------------------------------------- 999


def test_999_partial_acceptance_looks_at_each_ik5() -> None:
    """AK9 P: each set follows its own IK5; IK3/IK4 errors become the rejection reasons."""
    error = r.segment_error(
        "CLM", "25", "8", "segment has data element errors", "2300",
        (r.element_error("5-3", "7", "invalid code value", "1325"),),
    )  # fmt: skip
    ack = r.ack999(
        (
            r.group_ack(
                "201",
                "P",
                (
                    r.set_ack("0001", "A"),
                    r.set_ack("0002", "R", (("5", "one or more errors"),), (error,)),
                ),
            ),
        )
    )
    result = reconcile(ack, snapshot(sent("A"), sent("B")))
    assert [("A", S.ACKNOWLEDGED), ("B", S.REJECTED)] == targets(result)
    reasons = result.events[1].reasons
    assert ["IK304-8", "IK403-7", "IK502-5"] == [r.code for r in reasons]
    assert "CLM05-3" in reasons[1].where
    assert "loop 2300" in reasons[0].where


GROUP_CASES = {
    "AK9 A without AK2 loops acknowledges every set": ("A", S.ACKNOWLEDGED),
    "AK9 E without AK2 loops acknowledges every set": ("E", S.ACKNOWLEDGED),
    "AK9 R without AK2 loops rejects every set": ("R", S.REJECTED),
    "AK9 P without AK2 loops changes nothing": ("P", None),
}


@pytest.mark.parametrize(("status", "expected"), GROUP_CASES.values(), ids=GROUP_CASES.keys())
def test_999_sets_not_listed_follow_the_group(status: str, expected: ClaimState | None) -> None:
    """Sets missing from the 999 take the AK9 verdict; with P they are recorded unchanged."""
    result = reconcile(r.ack999((r.group_ack("201", status),)), snapshot(sent("A"), sent("B")))
    assert [("A", expected), ("B", expected)] == targets(result)


def test_999_unknown_group_and_set_are_unmatched() -> None:
    """An AK1 for a group we never sent, or an AK2 for a set not in it, is kept as unmatched."""
    ack = r.ack999(
        (
            r.group_ack("999", "A", (r.set_ack("1", "A"),)),
            r.group_ack("201", "A", (r.set_ack("0042", "R"),)),
        )
    )
    result = reconcile(ack, snapshot(sent("A")))
    assert ["999", "201/42"] == [u.reference for u in result.unmatched]
    assert [("A", S.ACKNOWLEDGED)] == targets(result)


def test_999_after_the_claim_moved_on_is_recorded_without_change() -> None:
    """A late 999 for a claim already paid is recorded but leaves the state alone."""
    result = reconcile(
        r.ack999((r.group_ack("201", "A", (r.set_ack("1", "A"),)),)), snapshot(sent("A", S.PAID))
    )
    assert [("A", None)] == targets(result)
    assert "already paid" in result.events[0].cause


def test_999_for_an_earlier_version_does_not_touch_the_new_one() -> None:
    """A rejection for version 1 arriving after version 2 was recorded changes nothing."""
    snap = snapshot(sent("A"))
    snap.groups["201"]["1"] = [sent("A", S.QUEUED, version=2, sent_version=1)]
    snap.claims["A"] = sent("A", S.QUEUED, version=2)
    result = reconcile(r.ack999((r.group_ack("201", "R", (r.set_ack("1", "R"),)),)), snap)
    assert ([("A", None)], 1) == (targets(result), result.events[0].version)


# ---------------------------------------------------------------------------------------- 277CA


def stc(category: str, status: str = "20", entity: str = "") -> StatusCode:
    """A status code without meanings."""
    return r.status_code(category, status, entity)


STC_CASES = {
    "A1 received by the clearinghouse": ([stc("A1")], S.ACCEPTED),
    "A2 accepted into adjudication": ([stc("A2")], S.ACCEPTED),
    "A0 forwarded": ([stc("A0")], S.ACCEPTED),
    "A3 returned as unprocessable": ([stc("A3", "21")], S.PAYER_REJECTED),
    "A4 not found": ([stc("A4")], S.PAYER_REJECTED),
    "A6 missing information": ([stc("A6", "35")], S.PAYER_REJECTED),
    "A7 invalid information": ([stc("A7", "562", "85")], S.PAYER_REJECTED),
    "A8 relational field in error": ([stc("A8")], S.PAYER_REJECTED),
    "rejection wins over acceptance in one claim": ([stc("A1"), stc("A7")], S.PAYER_REJECTED),
    "P1 pending is recorded only": ([stc("P1")], None),
}


@pytest.mark.parametrize(("codes", "expected"), STC_CASES.values(), ids=STC_CASES.keys())
def test_277ca_categories(codes: list[StatusCode], expected: ClaimState | None) -> None:
    """The STC category decides accepted, payer_rejected or nothing."""
    ack = r.ack277("CH", (r.claim_status("A", tuple(codes)),))
    assert [("A", expected)] == targets(reconcile(ack, snapshot(sent("A"))))


def test_277ca_reader_classification_is_preferred() -> None:
    """When the reader classified a status, that verdict is used over the category table."""
    code = r.status_code("ZZ", "1", classification="rejected")
    ack = r.ack277("CH", (r.claim_status("A", (code,)),))
    assert [("A", S.PAYER_REJECTED)] == targets(reconcile(ack, snapshot(sent("A"))))


def test_277ca_keeps_the_payer_claim_number_and_line_reasons() -> None:
    """REF*1K is carried; a rejected line (REF*FJ) adds a reason naming the line."""
    line = r.line_status(
        "A-2", (r.status_code("A7", "454", "", "invalid", "procedure code"),), "HC:99213"
    )
    ack = r.ack277("PAYER", (r.claim_status("A", (stc("A3", "21"),), "PCN-9", lines=(line,)),))
    event = reconcile(ack, snapshot(sent("A"))).events[0]
    assert "PCN-9" == event.payer_claim_control_number
    assert ["STC-A3:21", "STC-A7:454"] == [r.code for r in event.reasons]
    assert "service line A-2 (HC:99213)" == event.reasons[1].where


def test_277ca_unknown_line_control_number_is_noted() -> None:
    """A line control number we never sent is flagged in the event detail."""
    line = r.line_status("ZZZ", (stc("A2"),))
    ack = r.ack277("CH", (r.claim_status("A", (stc("A2"),), lines=(line,)),))
    detail = reconcile(ack, snapshot(sent("A"))).events[0].detail
    assert "not among the lines we sent" in detail["lines"][0]["unmatched"]


def test_clearinghouse_a1_then_payer_a2_then_payer_a3() -> None:
    """Several 277CAs for one claim: accepted, accepted again, then payer_rejected."""
    snap = snapshot(sent("A"))
    first = reconcile(r.ack277("CH", (r.claim_status("A", (stc("A1", "19"),)),)), snap)
    snap.claims["A"] = sent("A", S.ACCEPTED)
    snap.event_keys.update(e.key for e in first.events)
    second = reconcile(r.ack277("PAYER", (r.claim_status("A", (stc("A2"),)),)), snap)
    third = reconcile(r.ack277("PAYER", (r.claim_status("A", (stc("A3"),)),)), snap)
    assert [("A", S.ACCEPTED)] == targets(first)
    assert [("A", S.ACCEPTED)] == targets(second)
    assert [("A", S.PAYER_REJECTED)] == targets(third)


def test_277ca_unknown_claim_is_unmatched() -> None:
    """A TRN02 we never sent is unmatched, with the statuses kept."""
    ack = r.ack277("CH", (r.claim_status("NOPE", (stc("A7"),)),))
    result = reconcile(ack, snapshot(sent("A")))
    assert (["NOPE"], []) == ([u.reference for u in result.unmatched], targets(result))


def test_277ca_after_the_835_is_recorded_without_change() -> None:
    """Out of order: a 277CA acceptance arriving after payment keeps the claim paid."""
    ack = r.ack277("PAYER", (r.claim_status("A", (stc("A2"),), "PCN1"),))
    event = reconcile(ack, snapshot(sent("A", S.PAID))).events[0]
    assert (None, "PCN1") == (event.target, event.payer_claim_control_number)


# ---------------------------------------------------------------------------------------- 835


def clp(
    claim_id: str,
    code: str,
    paid: str,
    adjustments: tuple[Adjustment, ...] = (),
    lines: tuple[ServiceLine, ...] = (),
    charge: str = "100.00",
) -> Claim:
    """A CLP with amounts, claim-level CAS and lines."""
    return r.remittance_claim(claim_id, code, D(charge), D(paid), None, "PCN", adjustments, lines)


def cas(group: str, reason: str, amount: str) -> Adjustment:
    """One CAS triplet."""
    return r.adjustment(group, reason, D(amount))


def line(number: str, paid: str, *adjustments: Adjustment) -> ServiceLine:
    """A 50.00 service line."""
    return r.remittance_line(number, "HC:99213", D("50.00"), D(paid), adjustments)


REMIT_CASES = {
    "paid in full": (clp("A", "1", "100.00"), S.PAID),
    "paid less contractual CO-45": (clp("A", "1", "80.00", (cas("CO", "45", "20"),)), S.PAID),
    "paid less deductible PR-1": (clp("A", "1", "70.00", (cas("PR", "1", "30"),)), S.PAID),
    "a denied line makes it partial": (
        clp(
            "A", "1", "50.00", lines=(line("A-1", "50.00"), line("A-2", "0", cas("CO", "97", "50")))
        ),
        S.PARTIALLY_PAID,
    ),
    "zero pay with CO-50 is denied although CLP02 is 1": (
        clp("A", "1", "0", (cas("CO", "50", "100"),)),
        S.DENIED,
    ),
    "CLP02 4 is denied": (clp("A", "4", "0"), S.DENIED),
    "zero pay, all deductible: adjudicated, patient owes": (
        clp("A", "1", "0", (cas("PR", "1", "100"),)),
        S.PAID,
    ),
    "processed as secondary and forwarded": (clp("A", "19", "100.00"), S.PAID),
    "not our claim": (clp("A", "23", "0"), S.DENIED),
    "predetermination only": (clp("A", "25", "0"), None),
    "reversal": (clp("A", "22", "-100.00", charge="-100.00"), S.REVERSED),
}


@pytest.mark.parametrize(("remit", "expected"), REMIT_CASES.values(), ids=REMIT_CASES.keys())
def test_835_outcome_from_amounts_and_codes(remit: Claim, expected: ClaimState | None) -> None:
    """Paid, partial and denied are judged from CLP04 and the CARCs, not from CLP02 alone."""
    current = S.PAID if remit.status_code == "22" else S.ACCEPTED
    result = reconcile(r.remittance("TR1", "87726", (remit,)), snapshot(sent("A", current)))
    assert [("A", expected)] == targets(result)


def test_835_reader_outcome_is_preferred() -> None:
    """When the reader judged the outcome, reconciliation follows it."""
    remit = r.remittance_claim("A", "1", D("100"), D("100"), outcome="partially_paid")
    result = reconcile(r.remittance("TR1", "", (remit,)), snapshot(sent("A", S.ACCEPTED)))
    assert [("A", S.PARTIALLY_PAID)] == targets(result)


#: (CAS group, CARC, amount, CLP04 paid) -> the outcome; codes compare as the TR3 writes them.
OUTCOME_RULE_CASES = {
    "PR owed by the patient": (("PR", "1", "100"), "0", "patient_responsibility", []),
    "lower-case pr is not PR: a denial": (("pr", "1", "100"), "0", "denied", ["pr-1"]),
    "expected reduction CO-45": (("CO", "45", "20"), "80.00", "paid", []),
    "CO-50 on a paid claim": (("CO", "50", "20"), "80.00", "partially_paid", ["CO-50"]),
    "lower-case co-50 denies all the same": (("co", "50", "100"), "0", "denied", ["co-50"]),
}


@pytest.mark.parametrize(
    ("adjusted", "paid", "outcome", "reasons"),
    OUTCOME_RULE_CASES.values(),
    ids=OUTCOME_RULE_CASES.keys(),
)
def test_one_claim_outcome_rule_for_the_reader_and_reconciliation(
    adjusted: tuple[str, str, str], paid: str, outcome: str, reasons: list[str]
) -> None:
    """The 835 reader's ``claim_outcome`` and reconciliation's denial reasons use one rule
    (``is_denial``): a code in another case than the TR3's is not the same code."""
    from gateway.transactions.remittance import claim_outcome, is_denial

    remit = clp("A", "1", paid, (cas(*adjusted),))
    assert outcome == str(claim_outcome(remit).value)
    result = reconcile(r.remittance("TR1", "87726", (remit,)), snapshot(sent("A", S.ACCEPTED)))
    (event,) = result.events
    assert outcome == event.detail["outcome"]
    denials = [a for a in remit.adjustments if is_denial(a, frozenset({"45"}))]
    assert reasons == [f"{a.group}-{a.reason}" for a in denials]
    denied = reasons if outcome == "denied" else []  # only a denial opens a correction item
    assert denied == [x.code for x in event.reasons]


def test_denial_reasons_name_the_carc_and_the_line() -> None:
    """A denial's reasons list each denial-type CAS with its group, code and line."""
    remit = clp("A", "1", "0", (cas("CO", "16", "40"),), (line("A-2", "0", cas("CO", "97", "60")),))
    event = reconcile(r.remittance("T", "P", (remit,)), snapshot(sent("A"))).events[0]
    assert ["CO-16", "CO-97"] == [r.code for r in event.reasons]
    assert ["claim", "service line A-2 (HC:99213)"] == [r.where for r in event.reasons]


def test_reversal_then_corrected_claim_in_one_835() -> None:
    """CLP02 22 then the corrected CLP: the claim goes paid -> reversed -> partially_paid."""
    remit = r.remittance(
        "T2",
        "87726",
        (
            clp("A", "22", "-100.00", charge="-100.00"),
            clp("A", "1", "60.00", (cas("CO", "50", "40"),)),
        ),
    )
    result = reconcile(remit, snapshot(sent("A", S.PAID)))
    assert [("A", S.REVERSED), ("A", S.PARTIALLY_PAID)] == targets(result)
    assert D("60.00") == result.events[1].paid_amount


def test_reversal_of_a_void_makes_the_claim_voided() -> None:
    """When the version sent was a void (frequency 8), the payer's reversal voids the claim."""
    remit = r.remittance("T3", "P", (clp("A", "22", "-100.00", charge="-100.00"),))
    result = reconcile(remit, snapshot(sent("A", S.ACCEPTED, frequency="8")))
    assert [("A", S.VOIDED)] == targets(result)


def test_835_before_any_acknowledgement() -> None:
    """Out of order: an 835 for a claim only submitted moves it straight to paid."""
    result = reconcile(r.remittance("T", "P", (clp("A", "1", "100.00"),)), snapshot(sent("A")))
    assert [("A", S.PAID)] == targets(result)


def test_835_unknown_claim_and_unknown_line() -> None:
    """An unknown CLP01 is unmatched; an unknown REF*6R is flagged on the matched claim."""
    remit = r.remittance(
        "T",
        "P",
        (clp("NOPE", "1", "10.00"), clp("A", "1", "100.00", lines=(line("X-9", "50.00"),))),
    )
    result = reconcile(remit, snapshot(sent("A")))
    assert ["NOPE"] == [u.reference for u in result.unmatched]
    assert "not among the lines" in result.events[0].detail["lines"][0]["unmatched"]


def test_835_charge_difference_is_noted() -> None:
    """A CLP03 different from what we billed is recorded in the detail (split or repriced)."""
    remit = r.remittance("T", "P", (clp("A", "1", "90.00", charge="90.00"),))
    detail = reconcile(remit, snapshot(sent("A"))).events[0].detail
    assert "we billed 100.00" in detail["charge_differs"]


# ------------------------------------------------------------------------------ duplicates


def test_the_same_response_twice_yields_nothing_new() -> None:
    """Once a response's event keys are known, reconciling it again produces no events."""
    remit = r.remittance("T", "P", (clp("A", "1", "100.00"),))
    snap = snapshot(sent("A", S.ACCEPTED))
    first = reconcile(remit, snap)
    snap.event_keys.update(e.key for e in first.events)
    again = reconcile(remit, snap)
    assert (1, 0, 1) == (len(first.events), len(again.events), again.skipped)


def test_a_repeated_clp_in_one_file_counts_once() -> None:
    """The same CLP twice in one 835 produces one event."""
    remit = r.remittance("T", "P", (clp("A", "1", "100.00"), clp("A", "1", "100.00")))
    result = reconcile(remit, snapshot(sent("A", S.ACCEPTED)))
    assert (1, 1) == (len(result.events), result.skipped)


def test_keys_are_bounded_in_length() -> None:
    """Event keys stay within the 200 characters the ledger stores, even for long input."""
    long_id = "X" * 300
    ack = r.ack277("CH" * 100, (r.claim_status(long_id, (stc("A2"),)),))
    snap = SentSnapshot(claims={long_id: sent(long_id)})
    assert len(reconcile(ack, snap).events[0].key) <= 200


def test_a_response_for_a_claim_not_yet_sent_is_recorded_only() -> None:
    """A 277CA for a claim whose current version is still queued leaves it queued."""
    ack = r.ack277("CH", (r.claim_status("A", (stc("A7"),)),))
    assert [("A", None)] == targets(reconcile(ack, snapshot(sent("A", S.QUEUED))))


def test_a_277ca_resent_after_resubmission_does_not_reject_the_new_version() -> None:
    """The same rejection re-sent in another file after the claim was resubmitted is skipped."""
    ack = r.ack277("PAYER", (r.claim_status("A", (stc("A3"),), status_date="2026-11-20"),))
    first = reconcile(ack, snapshot(sent("A")))
    resubmitted = snapshot(sent("A", S.SUBMITTED, version=2))
    resubmitted.event_keys.update(e.key for e in first.events)
    again = reconcile(ack, resubmitted)
    assert ([("A", S.PAYER_REJECTED)], [], 1) == (targets(first), targets(again), again.skipped)
