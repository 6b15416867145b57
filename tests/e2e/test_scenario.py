"""The whole loop on a real ledger: 1,000 encounters built into 837s, then a 999 with one set
rejected, clearinghouse and payer 277CAs (some rejected), and 835s (paid, partial, denied, one
reversal with its corrected claim), every response read by our readers from X12 text.
Afterwards every claim is in the state the scenario says and the queue holds exactly the items
it should, with the right reasons."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.ledger.control_numbers import LedgerControlNumbers
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import IncomingClaim
from gateway.ledger.store import ApplyResult, Ledger
from gateway.ledger.testing import fresh_postgres_database, postgres_available
from gateway.models.encounter import Encounter
from gateway.partners import load_partners
from gateway.transactions.claim837 import InterchangeSent, build_837
from gateway.transactions.reader import read_documents
from gateway.x12 import Writer

ROOT = Path(__file__).resolve().parents[2]
S = ClaimState
N = 1000
DATE, TIME = "20261120", "1200"


# --------------------------------------------------------------------------- the encounters


def encounters() -> list[dict[str, Any]]:
    """1,000 encounters: the professional sample, and every 10th the outpatient sample."""
    prof = json.loads((ROOT / "samples/encounters/professional-self.json").read_text())
    inst = json.loads((ROOT / "samples/encounters/institutional-outpatient.json").read_text())
    out = []
    for n in range(1, N + 1):
        base = inst if n % 10 == 0 else prof
        enc = json.loads(json.dumps(base))
        enc["claim_id"] = f"SCN-{n:05d}"
        enc["partner"] = "scenario"
        for i, line in enumerate(enc["service_lines"], start=1):
            line["line_id"] = f"S{n:05d}-{i}"
        out.append(enc)
    return out


# --------------------------------------------------------------------------- X12 responses


def envelope(body: list[str], functional_id: str, version: str, isa13: str) -> bytes:
    """Wrap transaction-set segments in an ISA/GS from the clearinghouse to us."""
    w = Writer()
    head = w.isa("00", "", "00", "", "ZZ", "SCENARIOCH", "ZZ", "VALLEYGATEWAY", "261120", TIME,
                 "00501", isa13.zfill(9), "0", "T")  # fmt: skip
    text = head + w.segment("GS", functional_id, "SCENARIOCH", "VALLEYGW", DATE, TIME, isa13, "X",
                            version)  # fmt: skip
    text += "".join(body)
    text += w.segment("GE", "1", isa13) + w.segment("IEA", "1", isa13.zfill(9))
    return text.encode()


def transaction(segments: list[tuple[Any, ...]], st01: str, version: str) -> list[str]:
    """ST..SE around the segments (SE01 counted)."""
    w = Writer()
    body = [w.segment("ST", st01, "0001", version)]
    body += [w.segment(tag, *elements) for tag, *elements in segments]
    body.append(w.segment("SE", str(len(body) + 1), "0001"))
    return body


def ack_999(sent: list[InterchangeSent], rejected_set: tuple[str, str]) -> bytes:
    """A 999 per group: every set accepted except ``rejected_set`` (GS06, ST02) with IK3/IK4."""
    segs: list[tuple[Any, ...]] = []
    for interchange in sent:
        segs.append(("AK1", "HC", interchange.gs06, interchange.implementation))
        statuses = []
        for tx in interchange.transactions:
            segs.append(("AK2", "837", tx.st02, tx.implementation))
            if (interchange.gs06, tx.st02) == rejected_set:
                segs += [("IK3", "CLM", "12", "2300", "8"), ("IK4", ["5", "3"], "1325", "7", "9")]
                segs.append(("IK5", "R", "5"))
                statuses.append("R")
            else:
                segs.append(("IK5", "A"))
                statuses.append("A")
        n = str(len(statuses))
        accepted = str(statuses.count("A"))
        segs.append(("AK9", "P" if "R" in statuses else "A", n, n, accepted))
    return envelope(transaction(segs, "999", "005010X231A1"), "FA", "005010X231A1", "900")


def ack_277(claims: list[tuple[str, str, str | None]], source: str, isa13: str) -> bytes:
    """A 277CA from ``source``: (claim id, STC01 composite, REF*1K or None) per claim."""
    segs: list[tuple[Any, ...]] = [
        ("BHT", "0085", "08", f"B{isa13}", DATE, TIME, "TH"),
        ("HL", "1", "", "20", "1"),
        ("NM1", "PR", "2", source, "", "", "", "", "46", source),
        ("TRN", "1", f"T{isa13}"),
        ("DTP", "050", "D8", DATE),
        ("DTP", "009", "D8", DATE),
        ("HL", "2", "1", "21", "1"),
        ("NM1", "41", "2", "VALLEY GATEWAY", "", "", "", "", "46", "VALLEYGW"),
        ("TRN", "2", "1"),
        ("STC", ["A1", "19"], DATE, "WQ", "1.00"),
        ("HL", "3", "2", "19", "1"),
        ("NM1", "85", "2", "VALLEY FAMILY PRACTICE", "", "", "", "", "XX", "1234567893"),
        ("TRN", "1", "PRV1"),
        ("STC", ["A1", "19"], DATE, "WQ", "1.00"),
    ]
    for n, (claim_id, stc, pcn) in enumerate(claims, start=4):
        segs += [
            ("HL", str(n), "3", "PT"),
            ("NM1", "QC", "1", "DOE", "JANE", "", "", "", "MI", "MBR1"),
            ("TRN", "2", claim_id),
            ("STC", stc.split(":"), DATE, "WQ" if stc.startswith(("A1", "A2")) else "U", "1.00"),
        ]
        if pcn:
            segs.append(("REF", "1K", pcn))
        segs.append(("DTP", "472", "D8", "20261101"))
    return envelope(transaction(segs, "277", "005010X214"), "HN", "005010X214", isa13)


def remit_835(claims: list[tuple[Any, ...]], trace: str, isa13: str) -> bytes:
    """An 835 paying ``claims``: (claim id, CLP02, charge, paid, pcn, [CAS triplets])."""
    total = sum((Decimal(c[3]) for c in claims), Decimal(0))
    segs: list[tuple[Any, ...]] = [
        ("BPR", "I", f"{total:.2f}", "C", "ACH", "CCP", "01", "071000013", "DA", "123456789",
         "1512345678", "", "01", "111000025", "DA", "987654321", DATE),
        ("TRN", "1", trace, "1512345678"),
        ("DTM", "405", DATE),
        ("N1", "PR", "SCENARIO HEALTH PLAN"),
        ("N3", "PO BOX 1"),
        ("N4", "SPRINGFIELD", "IL", "627010000"),
        ("N1", "PE", "VALLEY FAMILY PRACTICE", "XX", "1234567893"),
        ("LX", "1"),
    ]  # fmt: skip
    for claim_id, code, charge, paid, pcn, cas in claims:
        segs.append(("CLP", claim_id, code, charge, paid, "", "12", pcn, "11", "1"))
        for group, reason, amount in cas:
            segs.append(("CAS", group, reason, amount))
        segs.append(("NM1", "QC", "1", "DOE", "JANE", "", "", "", "MI", "MBR1"))
    return envelope(transaction(segs, "835", "005010X221A1"), "HP", "005010X221A1", isa13)


# --------------------------------------------------------------------------- the run


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    """A fresh ledger: a SQLite file, or a new PostgreSQL database."""
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path}/gateway.db"
        else:
            if not await postgres_available():
                if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                    pytest.fail("PostgreSQL on 127.0.0.1:5432 is required in CI")
                pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
            url = await stack.enter_async_context(fresh_postgres_database())
        led = await Ledger.open(url)
        stack.push_async_callback(led.close)
        yield led


async def apply(ledger: Ledger, data: bytes) -> ApplyResult:
    """Read a response with our readers and apply it, keyed by its content hash."""
    (document,) = read_documents(data)
    assert not [f for f in document.findings if str(f.severity) == "error"], document.findings
    return await ledger.apply_document(document, content_hash=hashlib.sha256(data).hexdigest())


@pytest.mark.slow
async def test_thousand_claims_through_every_response(ledger: Ledger, tmp_path: Path) -> None:
    """Each claim ends in the state the responses imply; the queue holds exactly the right items."""
    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    demo = (ROOT / "config/partners/demo-clearinghouse.toml").read_text()
    (partners_dir / "scenario.toml").write_text(
        demo.replace("max_claims_per_transaction = 5000", "max_claims_per_transaction = 100")
    )
    partners = load_partners(partners_dir)

    # Intake: all 1,000 are valid and queued.
    raw = encounters()
    models = [Encounter.model_validate(e) for e in raw]
    incoming = [
        IncomingClaim(m.claim_id, str(m.kind), "scenario", m.payer.id, m.computed_total_charge,
                      m.model_dump(mode="json"), payer_name=m.payer.name)
        for m in models
    ]  # fmt: skip
    outcomes = await ledger.record_claims(incoming)
    assert {"new"} == {o.outcome for o in outcomes}

    # Build from what the ledger says is queued, numbers from the ledger, in a worker thread.
    queued = await ledger.queued_claims(partner="scenario")
    allocator = LedgerControlNumbers.for_running_loop(ledger)
    to_build = [Encounter.model_validate(q.encounter) for q in queued]
    result = await asyncio.to_thread(build_837, to_build, partners, allocator)
    assert () == result.left_out
    sent = [built.sent for built in result.interchanges]
    for n, interchange in enumerate(sent):
        submission = await ledger.record_built(interchange, f"{n}.x12")
        await ledger.record_submission_success(submission)
    professional = next(s for s in sent if str(s.kind) == "professional")
    assert (2, 9, 100) == (
        len(sent), len(professional.transactions), len(professional.transactions[0].claims)
    )  # fmt: skip
    isa13s = [s.isa13 for s in sent]
    assert len(set(isa13s)) == len(isa13s)

    # 999: the third professional set is rejected.
    bad_set = professional.transactions[2]
    rejected = set(bad_set.claim_ids)
    first = await apply(ledger, ack_999(sent, (professional.gs06, bad_set.st02)))
    assert (N, 0) == (first.state_changes, len(first.unmatched))
    again = await apply(ledger, ack_999(sent, (professional.gs06, bad_set.st02)))
    assert (True, 0) == (again.duplicate, again.state_changes)

    # 277CAs: the clearinghouse accepts all it got (A1), then the payer rejects every 50th (A7)
    # and accepts the rest with a payer claim number; one unknown claim id is unmatched.
    ids = [f"SCN-{n:05d}" for n in range(1, N + 1)]
    forwarded = [i for i in ids if i not in rejected]
    await apply(ledger, ack_277([(i, "A1:19", None) for i in forwarded], "SCENARIOCH", "901"))
    payer_rejected = {i for n, i in enumerate(forwarded) if n % 50 == 7}
    payer: list[tuple[str, str, str | None]] = [
        (i, "A7:562:85", None) if i in payer_rejected else (i, "A2:20", f"PCN{i[4:]}")
        for i in forwarded
    ]
    payer.append(("SCN-99999", "A2:20", "PCNX"))
    payer_result = await apply(ledger, ack_277(payer, "SCENARIO HEALTH PLAN", "902"))
    assert ["SCN-99999"] == [u.reference for u in payer_result.unmatched]

    # 835: paid / partial (CO-97 part) / denied (CO-50, CLP02 1 with zero pay) / patient owes.
    accepted = [i for i in forwarded if i not in payer_rejected]
    charge = {m.claim_id: m.computed_total_charge for m in models}
    expected: dict[str, ClaimState] = dict.fromkeys(rejected, S.REJECTED)
    expected.update(dict.fromkeys(payer_rejected, S.PAYER_REJECTED))
    rows = []
    for n, claim_id in enumerate(accepted):
        total = charge[claim_id]
        pcn = f"PCN{claim_id[4:]}"
        if n % 11 == 3:
            rows.append((claim_id, "1", f"{total}", "0", pcn, [("CO", "50", f"{total}")]))
            expected[claim_id] = S.DENIED
        elif n % 7 == 2:
            part = (total / 2).quantize(Decimal("0.01"))
            rows.append(
                (claim_id, "1", f"{total}", f"{total - part}", pcn, [("CO", "97", f"{part}")])
            )
            expected[claim_id] = S.PARTIALLY_PAID
        elif n % 13 == 5:
            rows.append((claim_id, "1", f"{total}", "0", pcn, [("PR", "1", f"{total}")]))
            expected[claim_id] = S.PAID
        else:
            rows.append((claim_id, "1", f"{total}", f"{total}", pcn, []))
            expected[claim_id] = S.PAID
    await apply(ledger, remit_835(rows, "TRACE1", "903"))

    # A later 835 reverses one payment and pays the corrected claim less; another claim is
    # reversed and then denied.
    paid_ids = [i for i in accepted if expected[i] == S.PAID]
    first_paid, second_paid = paid_ids[0], paid_ids[1]
    t1, t2 = charge[first_paid], charge[second_paid]
    await apply(
        ledger,
        remit_835(
            [
                (first_paid, "22", f"-{t1}", f"-{t1}", f"PCN{first_paid[4:]}", []),
                (
                    first_paid,
                    "1",
                    f"{t1}",
                    "10.00",
                    f"PCN{first_paid[4:]}B",
                    [("CO", "16", f"{t1 - Decimal('10.00')}")],
                ),
                (second_paid, "22", f"-{t2}", f"-{t2}", f"PCN{second_paid[4:]}", []),
                (second_paid, "4", f"{t2}", "0", f"PCN{second_paid[4:]}B", [("CO", "29", f"{t2}")]),
            ],
            "TRACE2",
            "904",
        ),
    )
    expected[first_paid] = S.PARTIALLY_PAID
    expected[second_paid] = S.DENIED

    # Every claim is where the scenario put it.
    summary = await ledger.status()
    actual = {}
    for claim_id in ids:
        claim = await ledger.claim(claim_id)
        assert claim is not None
        actual[claim_id] = claim.state
    assert expected == actual
    assert {s: list(expected.values()).count(s) for s in set(expected.values())} == dict(
        summary.counts
    )

    # The queue: exactly the rejected, payer-rejected and denied claims, with their reasons.
    items = await ledger.open_items()
    wanted = {i for i, s in expected.items() if s in (S.REJECTED, S.PAYER_REJECTED, S.DENIED)}
    assert wanted == {i.claim_id for i in items}
    assert len(wanted) == len(items)
    codes = {i.claim_id: [r.code for r in i.reasons] for i in items}
    assert all(["IK304-8", "IK403-7", "IK502-5"] == codes[i] for i in rejected)
    assert all(["STC-A7:562:85"] == codes[i] for i in payer_rejected)
    assert ["CO-29"] == codes[second_paid]
    denied = [i for i in expected if expected[i] == S.DENIED and i != second_paid]
    assert all(["CO-50"] == codes[i] for i in denied)

    # The history of the reversed-then-corrected claim tells the story.
    history = await ledger.claim_history(first_paid)
    assert history is not None
    assert [S.ACKNOWLEDGED, S.ACCEPTED, S.ACCEPTED, S.PAID, S.REVERSED, S.PARTIALLY_PAID] == [
        e.to_state for e in history.events[4:]
    ]
    assert f"PCN{first_paid[4:]}B" == history.claim.payer_claim_control_number
