"""The files a claim's history names (``Ledger.claim_files``), on SQLite and PostgreSQL."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from decimal import Decimal

from gateway.ledger.records import ClaimSent, GroupSent, SetSent, SubmissionIntent
from gateway.ledger.store import Ledger
from tests.support import responses as r
from tests.support.ledger import incoming


async def test_claim_files_lists_the_837_and_each_response_once(ledger: Ledger) -> None:
    """The 837 it went in (ISA13/GS06/ST02 as stored, no leading zeros), then the 277CA and
    the 835 that answered it, each once though several events name them; files of other claims
    are not listed."""
    await ledger.record_claims([incoming("C1"), incoming("C2")])
    sent = await ledger.record_file("h837", "out.x12", "837P", "out", status="sent")
    sets = tuple(
        SetSent(f"{n:04d}", (ClaimSent(cid, 1, (f"{cid}-1",)),))
        for n, cid in enumerate(["C1", "C2"], start=1)
    )
    intent = SubmissionIntent("demo", "837P", "555", "out.x12", (GroupSent("77", sets),))
    sub = await ledger.record_submission_intent(intent)
    await ledger.record_submission_success(sub, file_id=sent.id)
    await ledger.update_file(sent.id, archive_path="/archive/out.x12")
    ack = await ledger.record_file("h277", "ack.277", "277CA", "in")
    accepted = (r.status_code("A2", "20"),)
    await ledger.apply_response(
        r.ack277("PAYER", (r.claim_status("C1", accepted, "PCN1"),)),
        content_hash="277", kind="277CA", file_id=ack.id,
    )  # fmt: skip
    remit = await ledger.record_file("h835", "pay.835", "835", "in")
    await ledger.apply_response(
        r.remittance(
            "T1", "87726", (r.remittance_claim("C1", "1", Decimal("100"), Decimal("80")),)
        ),
        content_hash="835", kind="835", file_id=remit.id,
    )  # fmt: skip
    files = await ledger.claim_files("C1")
    other = await ledger.claim_files("C2")
    assert ["out.x12", "ack.277", "pay.835"] == [f.name for f in files]
    assert ("837P", "out", "/archive/out.x12", "555", "77", ("1",)) == (
        files[0].kind, files[0].direction, files[0].archive_path, files[0].isa13, files[0].gs06,
        files[0].st02s,
    )  # fmt: skip
    assert ("submitted",) == files[0].event_kinds
    assert ((1,), "835") == (files[2].versions, files[2].kind)
    assert ["out.x12"] == [f.name for f in other]
    assert ("2",) == other[0].st02s
    assert [] == await ledger.claim_files("NOPE")
