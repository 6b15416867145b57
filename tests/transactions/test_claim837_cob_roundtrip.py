"""The 837 builder's COB loops read back by the 837 reader, and answered by the simulator.

Ties ``claim837_cob`` (2320/2330A/2330B/2430 written from ``other_payers``) to
``claim837_reader`` (read back into ``OtherPayerClaim`` / ``OtherPayerLine``) and to the simulator
that pays secondaries from them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from gateway.models import Encounter
from gateway.simulator import SimulatorState, Stage, respond
from gateway.simulator.rules import load_rules
from gateway.simulator.secondary import remaining_balance
from gateway.transactions.claim837_reader import SubmittedClaim, read_submission
from gateway.transactions.reader import read_documents
from tests.support.cob import cob_encounters, cob_files

ENCOUNTERS = cob_encounters()


def _read() -> dict[str, tuple[Encounter, SubmittedClaim]]:
    by_id = {e.claim_id: e for e in ENCOUNTERS.values()}
    out = {}
    for data in cob_files().values():
        for c in read_submission(data).claims:
            out[c.claim_id] = (by_id[c.claim_id], c)
    return out


READ = _read()


@pytest.mark.parametrize("claim_id", sorted(READ))
def test_every_other_payer_reads_back_as_built(claim_id: str) -> None:
    """SBR01, and per other payer its place, filing indicator, payer, member, AMT*D, claim CAS,
    REF*F8; per line each SVD paid amount with its CAS, as the encounter gave them."""
    enc, c = READ[claim_id]
    assert enc.subscriber.payer_responsibility.x12_code == c.payer_responsibility
    assert len(enc.other_payers) == len(c.other_payers)
    for given, read in zip(enc.other_payers, c.other_payers, strict=True):
        assert (
            given.responsibility.x12_code,
            given.subscriber.claim_filing_indicator.value,
            given.payer.id,
            given.subscriber.member_id,
        ) == (read.responsibility, read.filing_indicator, read.payer_id, read.member_id)
        decision = given.adjudication
        if decision is None:
            assert not read.adjudicated
            continue
        assert decision.paid_amount == read.paid_amount
        assert (decision.payer_claim_control_number or "") == read.claim_control_number
        assert [(a.group.value, a.reason, a.amount) for a in decision.adjustments] == sorted(
            ((a.group, a.reason, a.amount) for a in read.adjustments),
            key=lambda t: [a.group.value for a in decision.adjustments].index(t[0]),
        )
        for line in decision.lines:
            index = next(
                i
                for i, ln in enumerate(enc.service_lines, start=1)
                if (ln.line_id or str(i)) == line.line_id
            )
            (svd,) = [d for d in c.lines[index - 1].other_payers if d.payer_id == given.payer.id]
            assert line.paid_amount == svd.paid_amount
            assert sorted((a.group.value, a.reason, a.amount) for a in line.adjustments) == sorted(
                (a.group, a.reason, a.amount) for a in svd.adjustments
            )


def test_the_simulator_pays_the_built_secondaries_at_most_the_balance() -> None:
    """Each built secondary or tertiary claim is answered CLP02 2/3 (or 4), never paying a line
    more than the balance the payers ahead left."""
    answered = 0
    for data in cob_files().values():
        claims = {c.claim_id: c for c in read_submission(data).claims}
        answer = respond(data, load_rules(), SimulatorState(), now=datetime(2026, 11, 21, 8))
        for r in answer.responses:
            if r.stage is not Stage.REMITTANCE:
                continue
            for doc in read_documents(r.data):
                for remit in doc.remittances:
                    for clp in remit.claims:
                        sent = claims[clp.claim_id]
                        if sent.payer_responsibility == "P":
                            continue
                        answered += 1
                        assert clp.status_code in ("2", "3", "4")
                        for line, left in zip(clp.lines, remaining_balance(sent), strict=True):
                            assert Decimal(0) <= line.paid <= left
    assert answered >= 3  # the others meet a rejection rule first
