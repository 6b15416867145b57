"""Reconciling the sample responses as the readers parse them (reader models -> views -> events)."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.reconcile import (
    Reconciliation,
    SentClaim,
    SentSnapshot,
    kind_of,
    reconcile,
    responses_in,
)
from gateway.transactions.reader import read_documents

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "x12"
S = ClaimState


def run(name: str, snap: SentSnapshot) -> tuple[str, list[Reconciliation]]:
    """Read a sample and reconcile each response in it against ``snap``, in order."""
    (document,) = read_documents((SAMPLES / name).read_bytes())
    results = []
    for response in responses_in(document):
        result = reconcile(response, snap)
        for event in result.events:
            if event.target is not None:
                claim = snap.claims[event.claim_id]
                snap.claims[event.claim_id] = SentClaim(**{**claim.__dict__, "state": event.target})
        results.append(result)
    return kind_of(document), results


def claim(claim_id: str, state: ClaimState, lines: tuple[str, ...] = ()) -> SentClaim:
    """A claim we sent, version 1."""
    return SentClaim(claim_id, 1, state, "1", Decimal("100.00"), None, lines)


def test_999_sample_rejects_set_32_with_located_reasons() -> None:
    """AK2 0031 is accepted, 0032 rejected: its claim named by CTX*CLM01 gets the CLM05-3 and
    SV101-2 errors; another claim of the same set is told it fell with the set."""
    bad, bystander, good = "VFP-20261101-0007", "VFP-20261101-0008", "VFP-A"
    snap = SentSnapshot()
    snap.claims = {c: claim(c, S.SUBMITTED) for c in (bad, bystander, good)}
    sent = {c: SentClaim(**{**snap.claims[c].__dict__, "sent_version": 1}) for c in snap.claims}
    snap.groups["17"] = {"31": [sent[good]], "32": [sent[bad], sent[bystander]]}
    kind, (result,) = run("999-rejected-set.x12", snap)
    assert "999" == kind
    assert [(good, S.ACKNOWLEDGED), (bad, S.REJECTED), (bystander, S.REJECTED)] == [
        (e.claim_id, e.target) for e in result.events
    ]
    own = result.events[1].reasons
    wheres = [r.where for r in own]
    assert any(w.startswith("CLM05-3 in segment CLM") for w in wheres)
    assert any(w.startswith("SV101-2 in segment SV1") for w in wheres)
    assert "IK5-SET" not in [r.code for r in own]
    others = {r.code: r for r in result.events[2].reasons}
    assert f"claim {bad} of transaction set 0032" == others["IK5-SET"].where
    assert not any(w.startswith("CLM05-3") for w in (r.where for r in others.values()))


def test_277ca_sample_accepts_rejects_and_pends() -> None:
    """The 277CA sample: 0001 accepted (REF*1K), 0002 rejected, 0003 a line rejected, 0004 pends."""
    ids = [f"VFP-20261101-000{n}" for n in range(1, 5)]
    snap = SentSnapshot(claims={i: claim(i, S.ACKNOWLEDGED) for i in ids})
    kind, results = run("277CA-accepted-rejected.x12", snap)
    events = [e for r in results for e in r.events]
    assert "277CA" == kind
    assert [S.ACCEPTED, S.PAYER_REJECTED, S.ACCEPTED, None] == [e.target for e in events]
    assert "PCN2026001" == events[0].payer_claim_control_number
    assert ["STC-A7:562:85", "STC-A7:21:77"] == [r.code for r in events[1].reasons]
    assert "VFP0003-2" in events[2].detail["line_rejections"][0]["where"]


def test_835_sample_paid_denied_partial_reversed_and_corrected() -> None:
    """Every claim of the 835 sample lands in the state its amounts and codes say."""
    ids = {
        "VFP-20261110-0001": S.ACCEPTED,
        "VFP-20261111-0002": S.ACCEPTED,
        "VFP-20261112-0003": S.ACCEPTED,
        "VFP-20261001-0009": S.PAID,
        "VFP-20261113-0004": S.ACCEPTED,
        "VFP-20261114-0005": S.ACCEPTED,
    }
    snap = SentSnapshot(claims={i: claim(i, state) for i, state in ids.items()})
    kind, results = run("835-paid-denied-partial-reversal.x12", snap)
    events = [(e.claim_id, e.target) for r in results for e in r.events]
    assert "835" == kind
    assert [
        ("VFP-20261110-0001", S.PAID),
        ("VFP-20261111-0002", S.DENIED),
        ("VFP-20261112-0003", S.PARTIALLY_PAID),
        ("VFP-20261001-0009", S.REVERSED),
        ("VFP-20261001-0009", S.PAID),
        ("VFP-20261113-0004", S.PAID),
        ("VFP-20261114-0005", S.PAID),
    ] == events
    denied = next(e for r in results for e in r.events if e.target == S.DENIED)
    assert ["CO-50"] == [r.code for r in denied.reasons]


def test_ta1_sample_rejects_interchange_17() -> None:
    """The TA1 sample rejects every claim of interchange 000000017."""
    snap = SentSnapshot(claims={"A": claim("A", S.SUBMITTED)})
    snap.interchanges["17"] = [SentClaim(**{**snap.claims["A"].__dict__, "sent_version": 1})]
    kind, (result,) = run("TA1-rejected.x12", snap)
    assert ("TA1", [("A", S.REJECTED)]) == (kind, [(e.claim_id, e.target) for e in result.events])
    assert "TA1-006" == result.events[0].reasons[0].code


def test_partner_for_matches_the_sender_to_a_partner(tmp_path: Path) -> None:
    """A response's ISA06 names the partner whose ISA08 we send to; none or two is no answer."""
    from gateway.ledger.reconcile import partner_for
    from gateway.partners import load_partners

    demo = (SAMPLES.parent.parent / "config" / "partners" / "demo-clearinghouse.toml").read_text()
    folder = tmp_path / "partners"
    folder.mkdir()
    (folder / "alpha.toml").write_text(demo.replace('"DEMOCLEARING"', '"DEMOCLEAR"'))
    (folder / "beta.toml").write_text(demo.replace("default = true", "default = false"))
    (document,) = read_documents((SAMPLES / "999-rejected-set.x12").read_bytes())
    assert "alpha" == partner_for(document, load_partners(folder))
    (folder / "gamma.toml").write_text(
        demo.replace('"DEMOCLEARING"', '"DEMOCLEAR"').replace("default = true", "default = false")
    )
    assert partner_for(document, load_partners(folder)) is None
    (folder / "alpha.toml").unlink()
    (folder / "gamma.toml").unlink()
    assert partner_for(document, load_partners(folder)) is None
