"""The simulator's responses applied to a real ledger put every claim where its decision says."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.ledger.control_numbers import LedgerControlNumbers
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.reconcile import kind_of, responses_in
from gateway.ledger.records import IncomingClaim
from gateway.ledger.store import Ledger
from gateway.ledger.submissions import intent_from_sent
from gateway.models.encounter import Encounter
from gateway.partners import load_partners
from gateway.simulator import SimulatorState, respond
from gateway.simulator.rules import load_rules
from gateway.transactions.claim837 import build_837
from gateway.transactions.reader import read_documents

ROOT = Path(__file__).resolve().parents[2]
S = ClaimState
NOW = datetime(2026, 11, 21, 8, 0)

#: The simulator's decision -> the state the ledger must reach.
EXPECTED = {
    "rejected-ta1": S.REJECTED,
    "rejected-999": S.REJECTED,
    "rejected-clearinghouse": S.PAYER_REJECTED,
    "rejected-payer": S.PAYER_REJECTED,
    "paid_in_full": S.PAID,
    "contractual": S.PAID,
    "patient_share": S.PAID,
    "line_denied": S.PARTIALLY_PAID,
    "denied": S.DENIED,
}


def encounters() -> list[dict[str, Any]]:
    """Forty professional and institutional claims, every seventh with a member id the rules
    reject and every eleventh to Aetna without a referral."""
    prof = json.loads((ROOT / "samples/encounters/professional-self.json").read_text())
    inst = json.loads((ROOT / "samples/encounters/institutional-outpatient.json").read_text())
    out = []
    for n in range(1, 41):
        enc = json.loads(json.dumps(inst if n % 5 == 0 else prof))
        enc["claim_id"] = f"LED-{n:04d}"
        enc["subscriber"]["member_id"] = f"{'X' if n % 7 == 0 else 'M'}{n:09d}"
        if n % 11 == 0 and enc["kind"] == "professional":
            enc["payer"] = {"id": "60054", "name": "AETNA"}
        for i, line in enumerate(enc["service_lines"], start=1):
            line["line_id"] = f"L{n:04d}-{i}"
        out.append(enc)
    return out


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    """A fresh SQLite ledger file."""
    led = await Ledger.open(f"sqlite:///{tmp_path}/gateway.db")
    try:
        yield led
    finally:
        await led.close()


async def test_every_claim_reaches_the_state_the_simulator_decided(ledger: Ledger) -> None:
    """TA1, 999, both 277CAs, the 835 and the adjustment 835 move each claim to its final state."""
    partners = load_partners(ROOT / "config" / "partners")
    models = [Encounter.model_validate(e) for e in encounters()]
    incoming = [
        IncomingClaim(m.claim_id, str(m.kind), "demo-clearinghouse", m.payer.id,
                      m.computed_total_charge, m.model_dump(mode="json"), payer_name=m.payer.name)
        for m in models
    ]  # fmt: skip
    await ledger.record_claims(incoming)
    queued = await ledger.queued_claims(partner="demo-clearinghouse")
    allocator = LedgerControlNumbers.for_running_loop(ledger)
    result = await asyncio.to_thread(
        build_837, [Encounter.model_validate(q.encounter) for q in queued], partners, allocator
    )
    rules = replace(load_rules(), adjudication=replace(load_rules().adjudication,
                                                       reversal_percent=Decimal(40)))  # fmt: skip
    state = SimulatorState()
    decisions = {}
    for n, built in enumerate(result.interchanges):
        submission = await ledger.record_submission_intent(intent_from_sent(built.sent, f"{n}.x12"))
        await ledger.record_submission_success(submission)
        answer = respond(built.data, rules, state, now=NOW, name=f"{n}.x12")
        decisions.update({d.claim_id: d for d in answer.claims})
        for response in answer.responses:
            (document,) = read_documents(response.data)
            applied = await ledger.apply_response(
                responses_in(document),
                content_hash=hashlib.sha256(response.data).hexdigest(),
                kind=kind_of(document),
            )
            assert [] == [u.reference for u in applied.unmatched], response.name

    expected = {claim_id: EXPECTED[d.outcome] for claim_id, d in decisions.items()}
    actual = {}
    for claim_id in expected:
        claim = await ledger.claim(claim_id)
        assert claim is not None
        actual[claim_id] = claim.state
    assert expected == actual
    assert any(d.reversed for d in decisions.values())
    outcomes = {d.outcome for d in decisions.values()}
    assert {"rejected-clearinghouse", "rejected-payer", "contractual", "denied"} <= outcomes
    items = {i.claim_id: [r.code for r in i.reasons] for i in await ledger.open_items()}
    for claim_id, d in decisions.items():
        if d.outcome in ("rejected-clearinghouse", "rejected-payer"):
            assert [f"STC-{d.status}"] == items[claim_id]
