"""Crossover through the service (directory transport, SQLite and PostgreSQL): the primary's 835
dropped in the responses inbox sends the secondary its claim; a forwarded claim is not sent; the
same 835 again changes nothing."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.cli.claim import render as render_claim
from gateway.cli.status import render as render_status
from gateway.config import load_settings
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.testing import fresh_postgres_database, postgres_available
from gateway.service.pipeline import Service
from gateway.x12 import read_segments
from tests.support.cob835 import clp, cob_encounter, svc, x835
from tests.support.env import IN_CI
from tests.support.service import drop, write_config

S = ClaimState
PAID, FORWARDED = "COB-0001", "COB-0002"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    """A service (SQLite or PostgreSQL ledger) whose two claims with a secondary payer were
    submitted to their primary."""
    config = write_config(tmp_path)
    async with contextlib.AsyncExitStack() as stack:
        environ: dict[str, str] = {}
        if request.param == "postgres":
            if not await postgres_available():
                if IN_CI:
                    pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
                pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
            url = await stack.enter_async_context(fresh_postgres_database())
            environ["GATEWAY_LEDGER_URL"] = url
        settings = load_settings(config, environ=environ)
        svc = await Service.open(settings)
        stack.push_async_callback(svc.close)
        drop(settings, "cob.json", [cob_encounter(PAID), cob_encounter(FORWARDED)])
        await svc.run_once()
        yield svc


def _primary_835() -> bytes:
    paid = clp(
        PAID, "1", "227.50", "150.00", "20.00", "PCN100",
        *svc("99214", "185.00", "120.00", f"{PAID}-L1", "CAS*CO*45*45.00", "CAS*PR*2*20.00"),
        *svc("83036", "42.50", "30.00", f"{PAID}-L2", "CAS*CO*45*12.50"),
    )  # fmt: skip
    forwarded = clp(
        FORWARDED, "19", "227.50", "180.00", "0", "PCN200", "CAS*CO*45*47.50",
        "NM1*TT*2*AETNA*****PI*60054",
    )  # fmt: skip
    return x835([paid, forwarded], sender="DEMOCLEARING")


def _sent(svc: Service) -> list[tuple[str, str, str]]:
    """(CLM01, SBR01, payer NM109) of every claim in every 837 in the outbox, in file order."""
    found: list[tuple[str, str, str]] = []
    for path in sorted(svc.settings.workspace.outbox.glob("*.x12")):
        sbr = payer = ""
        for seg in read_segments(path.read_bytes()):
            if seg.tag == "HL" and seg[3] == "22":
                sbr = payer = ""
            elif seg.tag == "SBR" and not sbr:  # 2000B (not a 2320 loop)
                sbr = seg[1]
            elif seg.tag == "NM1" and seg[1] == "PR" and not payer:  # 2010BB
                payer = seg[9]
            elif seg.tag == "CLM":
                found.append((seg[1], sbr, payer))
    return found


async def test_the_primary_835_sends_the_secondary_its_claim_once(service: Service) -> None:
    """The paid claim goes to the secondary payer (SBR01 S, NM1*PR 60054) once; the forwarded one
    is crossed over and never sent; a copy of the 835 changes nothing."""
    inbox = service.settings.workspace.responses_inbox
    (inbox / "primary.835").write_bytes(_primary_835())
    await service.run_once()
    await service.run_once()
    (inbox / "primary-copy.835").write_bytes(_primary_835() + b"\n")  # another hash
    await service.run_once()
    await service.run_once()

    sent = _sent(service)
    assert sent == [(PAID, "P", "87726"), (FORWARDED, "P", "87726"), (PAID, "S", "60054")]
    legs = {cid: await service.ledger.legs(cid) for cid in (PAID, FORWARDED)}
    assert [(g.state, g.origin) for g in legs[PAID]] == [
        (S.PAID, "billed"),
        (S.SUBMITTED, "crossover"),
    ]
    assert [(g.state, g.origin) for g in legs[FORWARDED]] == [
        (S.PAID, "billed"),
        (S.CROSSED_OVER, "crossed-over"),
    ]
    summary = await service.ledger.status()
    assert summary.waiting_on_next_payer == 2
    assert "claims waiting on a secondary (or later) payer: 2" in render_status(summary)
    history = await service.ledger.claim_history(PAID)
    assert history is not None
    text = render_claim(history)
    assert "1 primary   payer 87726" in text
    assert "2 secondary payer 60054 AETNA" in text
    assert "patient owes 20.00 so far (a later payer has not answered)" in text


async def test_a_later_payer_with_an_unknown_partner_is_found_at_intake(service: Service) -> None:
    """A secondary naming a partner the gateway does not have is an intake error (its leg could
    never be sent), found where it is."""
    data = cob_encounter("COB-0009")
    data["other_payers"][0]["partner"] = "nobody"
    drop(service.settings, "bad.json", [data])
    await service.run_once()
    item = await service.ledger.open_item("COB-0009")
    assert item is not None
    found = [(r.code, r.where) for r in item.reasons]
    assert ("E-PARTNER-UNKNOWN", "other_payers[0].partner") in found
