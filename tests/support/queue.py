"""A workspace whose ledger holds one claim in each corner of the correction queue.

R1 rejected by a 999, P1 payer-rejected by a 277CA, D1 denied by an 835 (payer claim PCN-D1),
M1 denied at a frequency-1-only partner (``medicare``), OK paid. The queue actions' tests and
the console's tests share it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.ledger.records import ClaimSent, GroupSent, IncomingClaim, SetSent, SubmissionIntent
from gateway.ledger.store import Ledger
from tests.support import responses as r
from tests.support.env import ROOT

SAMPLE = json.loads((ROOT / "samples" / "encounters" / "professional-self.json").read_text())
CLAIMS = ("R1", "P1", "D1", "M1", "OK")


def encounter(claim_id: str, partner: str = "demo-clearinghouse") -> dict[str, Any]:
    """The sample professional encounter under another claim id and partner."""
    return {**SAMPLE, "claim_id": claim_id, "partner": partner}


def partner_of(claim_id: str) -> str:
    """M1 goes to the frequency-1-only partner, the others to the demo clearinghouse."""
    return "medicare" if claim_id == "M1" else "demo-clearinghouse"


def write_workspace(root: Path, ledger_url: str | None = None) -> Path:
    """The config file of a workspace at ``root`` with the two partners; returns its path."""
    (root / "partners").mkdir(parents=True, exist_ok=True)
    demo = (ROOT / "config" / "partners" / "demo-clearinghouse.toml").read_text()
    (root / "partners" / "demo-clearinghouse.toml").write_text(demo)
    medicare = demo.replace("default = true", "default = false").replace(
        "frequency_1_only = false", "frequency_1_only = true"
    )
    (root / "partners" / "medicare.toml").write_text(medicare)
    ledger = f'[ledger]\nurl = "{ledger_url}"\n' if ledger_url else ""
    config = root / "gateway.toml"
    config.write_text(f'[workspace]\nroot = "."\n[partners]\ndir = "partners"\n{ledger}')
    return config


async def populate(ledger: Ledger) -> None:
    """Record, send and answer the five claims (see the module's docstring)."""
    await ledger.record_claims(
        [
            IncomingClaim(
                i, "professional", partner_of(i), "87726", Decimal("227.50"),
                encounter(i, partner_of(i)),
            )
            for i in CLAIMS
        ]
    )  # fmt: skip
    for n, claim_id in enumerate(CLAIMS, start=1):
        sets = (SetSent("0001", (ClaimSent(claim_id, 1, ("VFP0001-1", "VFP0001-2")),)),)
        intent = SubmissionIntent(
            partner_of(claim_id), "837P", str(100 + n), f"f{n}.x12", (GroupSent(str(n), sets),)
        )
        await ledger.record_submission_success(await ledger.record_submission_intent(intent))
    await ledger.apply_response(
        r.ack999((r.group_ack("1", "R", (r.set_ack("0001", "R", (("5", "errors"),)),)),)),
        content_hash="999",
        kind="999",
    )
    accepted = (r.status_code("A2", "20"),)
    await ledger.apply_response(
        r.ack277(
            "PAYER",
            (
                r.claim_status("P1", (r.status_code("A7", "562", "85", "invalid", "NPI"),)),
                r.claim_status("D1", accepted, "PCN-D1"),
                r.claim_status("M1", accepted, "PCN-M1"),
                r.claim_status("OK", accepted, "PCN-OK"),
            ),
        ),
        content_hash="277",
        kind="277CA",
    )
    denial = (r.adjustment("CO", "50", Decimal("227.50"), "not medically necessary"),)
    await ledger.apply_response(
        r.remittance(
            "TRACE1",
            "87726",
            (
                r.remittance_claim(
                    "D1", "4", Decimal("227.50"), Decimal("0"), None, "PCN-D1", denial
                ),
                r.remittance_claim(
                    "M1", "4", Decimal("227.50"), Decimal("0"), None, "PCN-M1", denial
                ),
                r.remittance_claim("OK", "1", Decimal("227.50"), Decimal("227.50"), None, "PCN-OK"),
            ),
        ),
        content_hash="835",
        kind="835",
    )
