"""The queue actions both faces call (resubmit, void, resolve, the plan), on SQLite and
PostgreSQL: the rules of frequency 1, 7 with REF*F8, frequency-1-only partners and voids."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.config import Settings, load_settings
from gateway.ledger.correction_rules import QueueRuleError, correction_document
from gateway.ledger.repository import UnknownClaimError
from gateway.ledger.store import Ledger
from gateway.service import queue_actions as qa
from gateway.service.correction_files import sync_correction_files
from tests.support.queue import encounter, populate, write_workspace


@pytest.fixture
async def setup(ledger: Ledger, ledger_url: str, tmp_path: Path) -> tuple[Ledger, Settings]:
    """The five-claim ledger, its settings and its correction files."""
    settings = load_settings(write_workspace(tmp_path, ledger_url))
    await populate(ledger)
    await sync_correction_files(ledger, settings.workspace.corrections)
    return ledger, settings


async def test_plan_says_what_each_action_would_do(setup: tuple[Ledger, Settings]) -> None:
    """Rejected: frequency 1 or withdraw; denied: 7 with REF*F8 or void 8; frequency-1-only:
    1 and no void."""
    ledger, settings = setup
    rejected = await qa.plan_actions(ledger, settings, "R1")
    denied = await qa.plan_actions(ledger, settings, "D1")
    medicare = await qa.plan_actions(ledger, settings, "M1")
    paid = await qa.plan_actions(ledger, settings, "OK")
    assert ("1", None, True, True) == (
        rejected.resubmit_frequency, rejected.original_payer_claim_number, rejected.can_void,
        rejected.has_open_item,
    )  # fmt: skip
    assert "withdrawn" in rejected.void_explanation
    assert ("7", "PCN-D1", True) == (
        denied.resubmit_frequency, denied.original_payer_claim_number, denied.can_void
    )  # fmt: skip
    assert ("1", False) == (medicare.resubmit_frequency, medicare.can_void)
    assert "accepts only frequency 1" in medicare.void_explanation
    assert not paid.has_open_item


async def test_resubmit_records_the_version_and_removes_the_correction_file(
    setup: tuple[Ledger, Settings],
) -> None:
    """A corrected denied claim goes as a replacement; its correction file goes away."""
    ledger, settings = setup
    fixed = encounter("D1")
    fixed["diagnoses"] = ["E119", "I10"]
    done = await qa.resubmit(ledger, settings, "D1", fixed)
    version = await ledger.claim_version("D1")
    assert done.done
    assert done.outcome is not None
    assert ("7", "PCN-D1", ["E119", "I10"]) == (
        version.frequency,
        version.encounter["original_payer_claim_number"],
        version.encounter["diagnoses"],
    )
    assert not (settings.workspace.corrections / "D1.json").exists()


async def test_resubmit_refuses_what_is_still_invalid(setup: tuple[Ledger, Settings]) -> None:
    """Scrubber errors come back; nothing is recorded and the correction file stays."""
    ledger, settings = setup
    bad = encounter("R1")
    bad["billing_provider"] = {**bad["billing_provider"], "npi": "1234567890"}
    result = await qa.resubmit(ledger, settings, "R1", bad)
    claim = await ledger.claim("R1")
    assert claim is not None
    assert (False, 1) == (result.done, claim.current_version)
    assert any("E-NPI-CHECKDIGIT" in e for e in result.errors)
    assert (settings.workspace.corrections / "R1.json").exists()


async def test_void_and_resolve_follow_the_rules(setup: tuple[Ledger, Settings]) -> None:
    """Void sends 8 once adjudicated and is refused at a frequency-1-only partner; resolve needs
    a note and an open item."""
    ledger, settings = setup
    voided = await qa.void(ledger, settings, "D1", "billed in error")
    refused = await qa.void(ledger, settings, "M1", "billed in error")
    resolved = await qa.resolve(ledger, settings, "R1", "  billed on paper ")
    again = await qa.resolve(ledger, settings, "R1", "again")
    with pytest.raises(qa.QueueActionError):
        await qa.resolve(ledger, settings, "P1", " ")
    assert (True, False, True, False) == (voided.done, refused.done, resolved.done, again.done)
    assert "8" == (await ledger.claim_version("D1")).frequency
    claim = await ledger.claim("R1")
    assert claim is not None
    assert "resolved" == str(claim.state)
    assert "billed on paper" in resolved.message


async def test_unknown_claims_and_other_claims_are_refused(setup: tuple[Ledger, Settings]) -> None:
    """An unknown id is UnknownClaimError; an encounter for another claim is QueueRuleError."""
    ledger, settings = setup
    with pytest.raises(UnknownClaimError):
        await qa.resubmit(ledger, settings, "NOPE", None)
    with pytest.raises(UnknownClaimError):
        await qa.plan_actions(ledger, settings, "NOPE")
    item = await ledger.open_item("P1")
    assert item is not None
    document = json.loads(json.dumps(correction_document(item), default=str))
    assert "P1" == qa.encounter_from_document(document, "P1")["claim_id"]
    assert "rejection" not in qa.encounter_from_document(document, "P1")
    with pytest.raises(QueueRuleError, match="not R1"):
        qa.encounter_from_document(document, "R1")


async def test_a_partner_file_that_cannot_be_read_is_a_usage_error(
    setup: tuple[Ledger, Settings],
) -> None:
    """A claim whose partner has no file: the action says which partner (exit 2 in the CLI)."""
    ledger, settings = setup
    (settings.partners_dir / "medicare.toml").unlink()
    with pytest.raises(qa.QueueActionError, match="medicare"):
        await qa.resubmit(ledger, settings, "M1", None)
