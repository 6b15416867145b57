"""Claim legs in the ledger: the primary's 835 records the secondary's leg (once), a forwarded
claim is crossed over, late answers about an earlier leg open correction items."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import ClaimSent, GroupSent, IncomingClaim, SetSent, SubmissionIntent
from gateway.ledger.reports import Period
from gateway.ledger.resubmission import resubmit_claim
from gateway.ledger.store import Ledger
from tests.support.cob835 import clp, cob_encounter, remittance_of, svc, x835
from tests.support.ledger import submit

S = ClaimState
CID = "LEG-1"
L1, L2 = f"{CID}-L1", f"{CID}-L2"

PRIMARY_PAYS = clp(
    CID, "1", "227.50", "150.00", "20.00", "PCN100",
    *svc("99214", "185.00", "120.00", L1, "CAS*CO*45*45.00", "CAS*PR*2*20.00"),
    *svc("83036", "42.50", "30.00", L2, "CAS*CO*45*12.50"),
)  # fmt: skip
SECONDARY_PAYS = clp(CID, "2", "227.50", "20.00", "0", "SEC55", "CAS*OA*23*207.50")
AETNA = {"payer_id": "60054", "payer_name": "AETNA"}


async def _billed(ledger: Ledger, encounter: dict[str, Any] | None = None) -> None:
    data = encounter or cob_encounter(CID)
    incoming = IncomingClaim(
        claim_id=CID,
        kind="professional",
        partner="demo",
        payer_id="87726",
        payer_name="UNITED HEALTHCARE",
        total_charge=Decimal("227.50"),
        encounter=data,
    )
    await ledger.record_claims([incoming])
    await submit(ledger, [CID])


async def _send_leg2(ledger: Ledger) -> None:
    """The secondary's claim (version 2) sent in interchange 102."""
    sets = (SetSent("0001", (ClaimSent(CID, 2, (L1, L2)),)),)
    intent = SubmissionIntent("demo", "837P", "102", "102.x12", (GroupSent("202", sets),))
    await ledger.record_submission_success(await ledger.record_submission_intent(intent))


async def _post(ledger: Ledger, name: str, claims: list[list[str]], **kw: Any) -> None:
    await ledger.apply_response(remittance_of(x835(claims, **kw)), content_hash=name, kind="835")


async def test_the_primary_payment_queues_the_secondary_once(ledger: Ledger) -> None:
    """A settling primary 835 records leg 2 (queued for the secondary's partner, its encounter
    carrying the primary's adjudication); the same payment again changes nothing."""
    data = cob_encounter(CID)
    data["other_payers"][0]["partner"] = "aetna-direct"
    await _billed(ledger, data)
    await _post(ledger, "p1", [PRIMARY_PAYS])
    await _post(ledger, "p1-copy", [PRIMARY_PAYS], isa13="000000902")  # another file, same facts

    claim = await ledger.claim(CID)
    assert claim is not None
    assert (
        claim.state,
        claim.current_version,
        claim.partner,
        claim.payer_id,
    ) == (S.QUEUED, 2, "aetna-direct", "60054")
    legs = await ledger.legs(CID)
    assert [(1, "primary", S.PAID, Decimal("150.00"), Decimal("20.00"), (1,), False),
            (2, "secondary", S.QUEUED, None, None, (2,), True)] == [
        (g.leg, g.responsibility, g.state, g.paid_amount, g.patient_responsibility, g.versions,
         g.current) for g in legs
    ]  # fmt: skip
    assert legs[1].origin == "crossover"
    (queued,) = await ledger.queued_claims()
    assert (queued.partner, queued.frequency) == ("aetna-direct", "1")
    primary = queued.encounter["other_payers"][0]
    assert (
        primary["responsibility"],
        primary["adjudication"]["paid_amount"],
        primary["adjudication"]["payer_claim_control_number"],
    ) == ("primary", "150.00", "PCN100")


async def test_the_secondary_answer_goes_to_its_leg(ledger: Ledger) -> None:
    """Once leg 2 is sent, the secondary's 835 (CLP02 2) pays leg 2; the primary's leg keeps its
    own money."""
    await _billed(ledger)
    await _post(ledger, "p1", [PRIMARY_PAYS])
    (queued,) = await ledger.queued_claims()
    await _send_leg2(ledger)
    await _post(ledger, "s1", [SECONDARY_PAYS], payer_id="60054", payer_name="AETNA")
    legs = await ledger.legs(CID)
    assert [(S.PAID, Decimal("150.00")), (S.PAID, Decimal("20.00"))] == [
        (g.state, g.paid_amount) for g in legs
    ]
    assert queued.version == 2


async def test_a_forwarded_claim_is_crossed_over_and_never_sent(ledger: Ledger) -> None:
    """CLP02 19 with NM1*TT: leg 2 is recorded crossed over, nothing is queued; the secondary's
    835 later pays it."""
    await _billed(ledger)
    forwarded = clp(
        CID, "19", "227.50", "180.00", "0", "PCN7", "CAS*CO*45*47.50",
        "NM1*TT*2*AETNA*****PI*60054",
    )  # fmt: skip
    await _post(ledger, "p19", [forwarded])
    claim = await ledger.claim(CID)
    assert claim is not None
    assert (claim.state, claim.current_version) == (S.CROSSED_OVER, 2)
    assert await ledger.queued_claims() == []
    await _post(ledger, "s1", [SECONDARY_PAYS], payer_id="60054", payer_name="AETNA")
    assert [g.state for g in await ledger.legs(CID)] == [S.PAID, S.PAID]
    assert [g.origin for g in await ledger.legs(CID)] == ["billed", "crossed-over"]


async def test_an_835_from_a_secondary_never_billed_opens_the_next_leg(ledger: Ledger) -> None:
    """The primary's 835 never came (it forwarded the claim): the secondary's 835 matches leg 2."""
    await _billed(ledger)
    await _post(ledger, "s1", [SECONDARY_PAYS], payer_id="60054", payer_name="AETNA")
    legs = await ledger.legs(CID)
    assert [(g.leg, g.state) for g in legs] == [(1, S.SUBMITTED), (2, S.PAID)]
    assert Decimal("20.00") == legs[1].paid_amount


async def test_a_secondary_denial_read_before_the_primary_forward_goes_to_leg_2(
    ledger: Ledger,
) -> None:
    """Both 835s read at once (the primary forwarded the claim; the secondary denied it, CLP02
    4, which names no place): the denial goes to the secondary's leg by its payer id, the
    primary's payment to leg 1 after it, and nothing waits for an answer that already came."""
    await _billed(ledger)
    denial = clp(CID, "4", "227.50", "0", "0", "SEC9", "CAS*CO*16*47.50")
    await _post(ledger, "s4", [denial], payer_id="60054", payer_name="AETNA")
    forwarded = clp(
        CID, "19", "227.50", "180.00", "0", "PCN7", "CAS*CO*45*47.50",
        "NM1*TT*2*AETNA*****PI*60054",
    )  # fmt: skip
    await _post(ledger, "p19", [forwarded])
    legs = await ledger.legs(CID)
    assert [(g.leg, g.state) for g in legs] == [(1, S.PAID), (2, S.DENIED)]
    claim = await ledger.claim(CID)
    assert claim is not None
    assert claim.state is S.DENIED
    assert await ledger.queued_claims() == []


async def test_primary_reversal_and_correction_after_the_secondary(ledger: Ledger) -> None:
    """A reversal of the primary after leg 2 was billed opens an item naming the primary; its
    corrected payment offers the secondary's replacement built from the new amounts."""
    await _billed(ledger)
    await _post(ledger, "p1", [PRIMARY_PAYS])
    await _send_leg2(ledger)
    await _post(ledger, "s1", [SECONDARY_PAYS], payer_id="60054", payer_name="AETNA")
    reversal = clp(
        CID, "22", "-227.50", "-150.00", "-20.00", "PCN100",
        *svc("99214", "-185.00", "-120.00", L1, "CAS*CO*45*-45.00", "CAS*PR*2*-20.00"),
        *svc("83036", "-42.50", "-30.00", L2, "CAS*CO*45*-12.50"),
    )  # fmt: skip
    await _post(ledger, "p22", [reversal], trace="EFT0002", isa13="000000903")
    item = await ledger.open_item(CID)
    assert item is not None
    # The item is the secondary's claim (what a person resubmits); its reason names the primary.
    assert (item.reason_code, item.leg, item.payer_id) == ("COB-PRIOR-REVERSED", 2, "60054")
    assert item.reasons[0].where == "leg 1 (primary payer 87726)"
    assert (await ledger.legs(CID))[0].state == S.REVERSED
    assert await ledger.replacement_for(CID) is None

    corrected = clp(
        CID, "1", "227.50", "160.00", "20.00", "PCN101",
        *svc("99214", "185.00", "130.00", L1, "CAS*CO*45*35.00", "CAS*PR*2*20.00"),
        *svc("83036", "42.50", "30.00", L2, "CAS*CO*45*12.50"),
    )  # fmt: skip
    await _post(ledger, "p1b", [corrected], trace="EFT0003", isa13="000000904")
    item = await ledger.open_item(CID)
    assert item is not None
    assert [r.code for r in item.reasons] == ["COB-PRIOR-REVERSED", "COB-PRIOR-CORRECTED"]
    assert "gateway queue resubmit LEG-1" in item.reasons[1].action
    replacement = await ledger.replacement_for(CID)
    assert replacement is not None
    assert replacement["other_payers"][0]["adjudication"]["paid_amount"] == "160.00"
    claim = await ledger.claim(CID)
    assert claim is not None
    assert (claim.state, claim.current_version) == (S.PAID, 2)  # the secondary's leg stands

    # `gateway queue resubmit` sends the rebuilt secondary claim as a replacement.
    done = await resubmit_claim(ledger, CID, None, frequency_1_only=lambda _partner: False)
    assert done.outcome is not None, done.errors
    version = await ledger.claim_version(CID)
    assert (version.version, version.frequency, version.leg) == (3, "7", 2)
    assert version.encounter["original_payer_claim_number"] == "SEC55"
    assert version.encounter["other_payers"][0]["adjudication"]["paid_amount"] == "160.00"
    assert await ledger.replacement_for(CID) is None  # used
    assert await ledger.open_item(CID) is None  # the resubmission closed the item


async def test_reports_count_a_claim_with_two_legs_once(ledger: Ledger) -> None:
    """Billed once, under the payer first billed; paid adds up both payers; while the secondary
    has not answered, the claim's open balance is the primary's patient responsibility."""
    await _billed(ledger)
    await _post(ledger, "p1", [PRIMARY_PAYS])
    await _send_leg2(ledger)
    period = Period.last_days(30)
    (summary,) = (await ledger.reports.summary(period)).records()
    assert summary["submitted"] == 1
    (aging, _no_answer) = await ledger.reports.aging(period, "payer")
    (row,) = aging.records()
    assert ("87726", Decimal("20.00")) == (row["payer"], row["total_balance"])

    await _post(ledger, "s1", [SECONDARY_PAYS], payer_id="60054", payer_name="AETNA")
    (money,) = (await ledger.reports.payers(period, "payer")).records()
    assert ("87726", 1, Decimal("227.50"), Decimal("170.00")) == (
        money["payer"],
        money["claims"],
        money["billed"],
        money["paid"],
    )
    assert (await ledger.reports.aging(period, "payer"))[0].records() == []


async def test_reversal_and_correction_in_one_835_while_the_secondary_is_out(
    ledger: Ledger,
) -> None:
    """The primary reverses and re-pays in one 835 (CLP 22 then CLP 1) while the secondary's
    claim is out: both apply to leg 1, none is unmatched."""
    await _billed(ledger)
    await _post(ledger, "p1", [PRIMARY_PAYS])
    await _send_leg2(ledger)
    reversal = clp(
        CID, "22", "-227.50", "-150.00", "-20.00", "PCN100",
        *svc("99214", "-185.00", "-120.00", L1, "CAS*CO*45*-45.00", "CAS*PR*2*-20.00"),
        *svc("83036", "-42.50", "-30.00", L2, "CAS*CO*45*-12.50"),
    )  # fmt: skip
    corrected = clp(
        CID, "1", "227.50", "160.00", "20.00", "PCN101",
        *svc("99214", "185.00", "130.00", L1, "CAS*CO*45*35.00", "CAS*PR*2*20.00"),
        *svc("83036", "42.50", "30.00", L2, "CAS*CO*45*12.50"),
    )  # fmt: skip
    await _post(ledger, "p22", [reversal, corrected], trace="EFT0002", isa13="000000903")
    assert await ledger.unmatched() == []
    legs = await ledger.legs(CID)
    assert legs[0].state == S.PAID
