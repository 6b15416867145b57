"""The correction queue's pure rules: resubmission frequency, voids, correction documents."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.edits import FindingCode, finding
from gateway.ledger.control_numbers import LedgerControlNumbers
from gateway.ledger.correction_rules import (
    QueueRuleError,
    correction_document,
    correction_file_name,
    plan_resubmission,
    plan_void,
    read_correction,
    reasons_from_findings,
)
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import ClaimRecord, QueueItem, Reason
from gateway.ledger.store import Ledger
from gateway.transactions.control_numbers import ControlNumberAllocator, ControlNumberError

S = ClaimState
NOW = datetime(2026, 11, 20, tzinfo=UTC)
ENCOUNTER = {"claim_id": "C1", "frequency": "1", "original_payer_claim_number": None}


def claim(state: ClaimState, pcn: str | None = None) -> ClaimRecord:
    """A claim record in ``state`` with an optional payer claim control number."""
    return ClaimRecord(
        "C1", "professional", "demo", "87726", None, state, 1, Decimal("100"), None, None, pcn,
        NOW, NOW,
    )  # fmt: skip


RESUBMIT_CASES = {
    "999 rejected: original": (S.REJECTED, None, False, "1", None),
    "277CA rejected, even with REF*1K: original": (S.PAYER_REJECTED, "P1", False, "1", None),
    "invalid at intake: original": (S.INVALID, None, False, "1", None),
    "denied with CLP07: replacement": (S.DENIED, "P9", False, "7", "P9"),
    "paid with CLP07: replacement": (S.PAID, "P9", False, "7", "P9"),
    "reversed: replacement": (S.REVERSED, "P9", False, "7", "P9"),
    "denied at a frequency-1-only payer: original": (S.DENIED, "P9", True, "1", None),
    "denied but no payer number known: original": (S.DENIED, None, False, "1", None),
}


@pytest.mark.parametrize(
    ("state", "pcn", "only_1", "frequency", "f8"),
    RESUBMIT_CASES.values(),
    ids=RESUBMIT_CASES.keys(),
)
def test_resubmission_frequency(
    state: ClaimState, pcn: str | None, only_1: bool, frequency: str, f8: str | None
) -> None:
    """Frequency 1 before adjudication; 7 with REF*F8 after, unless the partner takes only 1."""
    plan = plan_resubmission(claim(state, pcn), ENCOUNTER, frequency_1_only=only_1)
    assert (frequency, f8) == (plan.frequency, plan.original_payer_claim_number)
    assert (frequency, f8) == (
        plan.encounter["frequency"], plan.encounter["original_payer_claim_number"]
    )  # fmt: skip


def test_resubmission_keeps_the_claim_id() -> None:
    """An encounter for another claim id cannot resubmit this claim."""
    with pytest.raises(QueueRuleError):
        plan_resubmission(claim(S.REJECTED), {"claim_id": "OTHER"}, frequency_1_only=False)


VOID_CASES = {
    "adjudicated: frequency 8 is sent": (S.DENIED, "P9", True, "8"),
    "never adjudicated: withdrawn locally": (S.REJECTED, None, False, None),
    "payer-rejected: withdrawn locally": (S.PAYER_REJECTED, "P1", False, None),
}


@pytest.mark.parametrize(
    ("state", "pcn", "send", "frequency"), VOID_CASES.values(), ids=VOID_CASES.keys()
)
def test_void(state: ClaimState, pcn: str | None, send: bool, frequency: str | None) -> None:
    """A void is a frequency-8 claim with REF*F8 only once the payer adjudicated the claim."""
    plan = plan_void(claim(state, pcn), ENCOUNTER, frequency_1_only=False)
    sent_frequency = plan.encounter["frequency"] if plan.encounter else None
    assert (send, frequency) == (plan.send, sent_frequency)


def test_void_at_a_frequency_1_only_payer_is_refused() -> None:
    """A payer that takes only frequency 1 cannot be sent a void; the message says what to do."""
    with pytest.raises(QueueRuleError, match="queue resolve"):
        plan_void(claim(S.PAID, "P9"), ENCOUNTER, frequency_1_only=True)


def item() -> QueueItem:
    """An open item for C1 with one reason."""
    return QueueItem(
        7, "C1", 1, S.REJECTED, "999", "IK403-7", (Reason("IK403-7", "invalid code", "CLM05-3"),),
        "87726", "demo", "1", None, NOW, None, None, None, "r.999", dict(ENCOUNTER),
    )  # fmt: skip


def test_correction_document_round_trip() -> None:
    """The correction file is the encounter plus `rejection`; reading it back drops the block."""
    document = correction_document(item())
    back = read_correction(document)
    assert back is not None
    assert ("C1", ENCOUNTER) == (back.claim_id, back.encounter)
    assert ["IK403-7"] == [r["code"] for r in document["rejection"]["reasons"]]


def test_plain_encounters_are_not_corrections() -> None:
    """An encounter without a rejection block is not a correction file."""
    assert read_correction(ENCOUNTER) is None


def test_a_correction_with_a_changed_claim_id_is_refused() -> None:
    """Changing the claim id in a correction file is an error, not a new claim."""
    document = correction_document(item())
    document["claim_id"] = "C2"
    with pytest.raises(QueueRuleError):
        read_correction(document)


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", ".hidden", "x" * 60])
def test_correction_file_names_are_safe(bad: str) -> None:
    """Claim ids that could escape the corrections folder get a derived plain name instead."""
    name = correction_file_name(bad)
    assert name.startswith("claim_")
    assert "/" not in name
    assert ".." not in name


def test_scrubber_findings_become_reasons() -> None:
    """Only error findings become reasons, with their code, path and hint."""
    found = [finding(c, "billing_provider.npi", "bad") for c in FindingCode]
    reasons = reasons_from_findings(found)
    assert 0 < len(reasons) < len(found)  # the catalogue has errors and warnings
    assert [str(f.code) for f in found if f.is_error] == [r.code for r in reasons]
    assert all("billing_provider.npi" == r.where for r in reasons)


async def test_ledger_control_numbers_from_a_worker_thread(tmp_path: Path) -> None:
    """The builder's allocator gets ledger numbers from a thread and refuses the loop's thread."""
    async with await Ledger.open(f"sqlite:///{tmp_path}/g.db") as ledger:
        allocator = LedgerControlNumbers.for_running_loop(ledger)
        assert isinstance(allocator, ControlNumberAllocator)
        numbers = await asyncio.to_thread(
            lambda: [allocator.next_isa13("p"), allocator.next_isa13("p"), allocator.next_st02("p")]
        )
        with pytest.raises(ControlNumberError):
            allocator.next_gs06("p")
        assert [1, 2, 1] == numbers
