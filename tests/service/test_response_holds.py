"""Only complete, balanced transaction sets move money: a truncated response (any kind) is held
whole until its complete copy comes, an out-of-balance 835 set is held for review with its
claims in the correction queue, and `gateway responses release` posts it once, with who and why."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.ledger.lifecycle import ClaimState
from gateway.service.pipeline import Service
from gateway.simulator import Stage
from tests.conftest import ROOT
from tests.support.service import write_config
from tests.support.submitted import answers
from tests.support.x12_files import two_sets

S = ClaimState
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
IDS = ["SVC-0001", "SVC-0002", "SVC-0003"]


def deliver(svc: Service, name: str, data: bytes) -> None:
    """Drop a response file into the responses inbox."""
    (svc.settings.workspace.responses_inbox / name).write_bytes(data)


async def claim_states(svc: Service) -> dict[str, tuple[ClaimState, Decimal | None]]:
    """State and paid amount of SVC-0001..3."""
    out = {}
    for claim_id in IDS:
        claim = await svc.ledger.claim(claim_id)
        assert claim is not None
        out[claim_id] = (claim.state, claim.paid_amount)
    return out


def cut_in_last_paid_amount(data: bytes) -> bytes:
    """The 835 cut in the middle of the last claim's CLP04 (85.60 -> 8): no SE, GE, IEA."""
    text = data.decode()
    start = text.rindex("CLP*SVC-0003*1*227.5*85.6")
    return text[: start + len("CLP*SVC-0003*1*227.5*8")].encode()


def cut_before_se(data: bytes) -> bytes:
    """The file cut right before its SE (the last segments of the set are lost)."""
    text = data.decode()
    return text[: text.rindex("SE*")].encode()


def wrong_se01(data: bytes) -> bytes:
    """SE01 one lower than the set's real segment count (a segment was lost or added)."""
    return re.sub(rb"SE\*(\d+)\*", lambda m: b"SE*%d*" % (int(m[1]) - 1), data, count=1)


def no_trailers(data: bytes) -> bytes:
    """The set complete, but the file ends before the GE and IEA trailers."""
    text = data.decode()
    return text[: text.index("GE*")].encode()


def wrong_iea02(data: bytes) -> bytes:
    """IEA02 does not match ISA13 (the trailer belongs to another interchange)."""
    changed = re.sub(rb"IEA\*(\d+)\*\d+", rb"IEA*\1*999999999", data)
    assert changed != data
    return changed


INCOMPLETE: list[tuple[Stage, Callable[[bytes], bytes], str]] = [
    (Stage.REMITTANCE, cut_in_last_paid_amount, "IK502-2"),
    (Stage.REMITTANCE, wrong_se01, "IK502-4"),
    (Stage.REMITTANCE, no_trailers, "AK905-3"),
    (Stage.REMITTANCE, wrong_iea02, "TA1-001"),
    (Stage.CLEARINGHOUSE_ACK, cut_before_se, "IK502-2"),
    (Stage.PAYER_ACK, wrong_se01, "IK502-4"),
    (Stage.IMPLEMENTATION_ACK, cut_before_se, "IK502-2"),
    (Stage.INTERCHANGE_ACK, wrong_iea02, "TA1-001"),
]


@pytest.mark.parametrize(
    ("stage", "damage", "code"), INCOMPLETE, ids=[f"{s}-{d.__name__}" for s, d, _ in INCOMPLETE]
)
async def test_an_incomplete_response_changes_no_claim_and_is_held_with_where_it_breaks(
    service: Service, stage: Stage, damage: Callable[[bytes], bytes], code: str
) -> None:
    """A response whose set or interchange is incomplete (no SE, wrong SE01, no GE/IEA, IEA02
    off) applies nothing: every claim stays submitted, the file is held (not archived) beside a
    located .error.json, and `gateway status` counts it."""
    deliver(service, "damaged.x12", damage(answers(service)[stage]))
    await service.run_once()
    assert dict.fromkeys(IDS, (S.SUBMITTED, None)) == await claim_states(service)
    ws = service.settings.workspace
    report = json.loads((ws.quarantine / "damaged.x12.error.json").read_text())
    assert "incomplete" == report["error"]["code"]
    assert code in [f["code"] for f in report["error"]["findings"]]
    assert report["error"]["where"]["segment_index"] >= 0
    assert report["error"]["what_to_do"]
    assert [] == list(ws.archive.rglob("damaged.x12"))
    status = await service.ledger.status()
    assert (1, 0) == (status.held_files, status.quarantined_files)


async def test_a_truncated_835_posts_nothing_and_its_complete_copy_posts_every_claim(
    service: Service,
) -> None:
    """The issue's case: an 835 cut inside the last claim's paid amount must not post "paid 8"
    for 85.60, and the complete file arriving later posts every claim at its real amount (the
    truncated copy is then no longer counted as held)."""
    complete = answers(service)[Stage.REMITTANCE]
    deliver(service, "835-part.x12", cut_in_last_paid_amount(complete))
    await service.run_once()
    assert dict.fromkeys(IDS, (S.SUBMITTED, None)) == await claim_states(service)
    deliver(service, "835.x12", complete)
    await service.run_once()
    assert {
        "SVC-0001": (S.PARTIALLY_PAID, Decimal("148.00")),
        "SVC-0002": (S.PAID, Decimal("182.00")),
        "SVC-0003": (S.PAID, Decimal("85.60")),
    } == await claim_states(service)
    assert 0 == (await service.ledger.status()).held_files


def out_of_balance(data: bytes) -> bytes:
    """SVC-0002 shown paid 77,777.77 on its 227.50 charge (claim and set no longer balance)."""
    return data.replace(b"CLP*SVC-0002*1*227.5*182*", b"CLP*SVC-0002*1*227.5*77777.77*")


async def test_an_out_of_balance_835_is_held_for_review_with_the_amounts_that_disagree(
    service: Service,
) -> None:
    """An 835 set failing the SNIP 3 balancing rules posts nothing (its balanced claims wait with
    it: BPR02 must equal the sum), and each of its claims gets a correction item naming the
    balance that failed and by how much."""
    deliver(service, "835-bad.x12", out_of_balance(answers(service)[Stage.REMITTANCE]))
    await service.run_once()
    assert dict.fromkeys(IDS, (S.SUBMITTED, None)) == await claim_states(service)
    items = {i.claim_id: i for i in await service.ledger.open_items()}
    assert set(IDS) == set(items)
    codes = [r.code for r in items["SVC-0002"].reasons]
    assert "835-CLAIM-BALANCE" in codes
    assert "835-TRANSACTION-BALANCE" in codes
    claim_reason = next(r for r in items["SVC-0002"].reasons if r.code == "835-CLAIM-BALANCE")
    assert "77777.77" in claim_reason.meaning
    assert "182" in claim_reason.meaning  # what it should be
    assert "835-TRANSACTION-BALANCE" in [r.code for r in items["SVC-0001"].reasons]
    ws = service.settings.workspace
    report = json.loads((ws.quarantine / "835-bad.x12.error.json").read_text())
    assert "out-of-balance" == report["error"]["code"]
    assert "gateway responses release" in report["error"]["what_to_do"]
    assert 1 == (await service.ledger.status()).held_files


async def test_only_the_out_of_balance_set_of_a_file_waits_and_release_posts_it_once(
    service: Service,
) -> None:
    """Of a file with a balanced set and an unbalanced one, the balanced set is posted at once;
    the other waits until released, which posts it as sent, exactly once, recording who and why
    and closing the hold items."""
    from gateway.service.posting import ReleaseError, release_held_file

    deliver(service, "835-two.x12", out_of_balance(two_sets(answers(service)[Stage.REMITTANCE])))
    await service.run_once()
    assert {
        "SVC-0001": (S.PARTIALLY_PAID, Decimal("148.00")),
        "SVC-0002": (S.SUBMITTED, None),
        "SVC-0003": (S.SUBMITTED, None),
    } == await claim_states(service)
    held = await service.ledger.files(status="held")
    assert ["835-two.x12"] == [f.name for f in held]
    assert ["0002"] == [s["st02"] for s in held[0].detail["held_sets"]]  # type: ignore[index]
    items = {i.claim_id: i.source for i in await service.ledger.open_items()}
    assert {"SVC-0002": "835-held", "SVC-0003": "835-held"} == items

    result = await release_held_file(
        service.ledger, service.settings, str(held[0].id), note="payer confirmed", by="ann"
    )
    assert (1, 2, 2) == (result.sets, result.claims, result.items_closed)
    assert {
        "SVC-0001": (S.PARTIALLY_PAID, Decimal("148.00")),
        "SVC-0002": (S.PAID, Decimal("77777.77")),
        "SVC-0003": (S.PAID, Decimal("85.60")),
    } == await claim_states(service)
    assert [] == await service.ledger.open_items()
    record = await service.ledger.file(held[0].id)
    assert record is not None
    assert record.detail is not None
    assert ("applied", "ann", "payer confirmed") == (
        record.status,
        record.detail["release"]["by"],
        record.detail["release"]["note"],
    )
    assert result.archived_as.is_file()
    assert 0 == (await service.ledger.status()).held_files
    history = await service.ledger.claim_history("SVC-0002")
    assert history is not None
    events = len(history.events)
    with pytest.raises(ReleaseError, match="already released"):
        await release_held_file(service.ledger, service.settings, "835-two.x12", note="", by="bo")
    history = await service.ledger.claim_history("SVC-0002")
    assert history is not None
    assert events == len(history.events)


async def test_an_incomplete_file_is_never_released(service: Service) -> None:
    """Releasing a truncated file is refused with what to do: only its complete copy applies."""
    from gateway.service.posting import ReleaseError, release_held_file

    deliver(service, "835-part.x12", cut_in_last_paid_amount(answers(service)[Stage.REMITTANCE]))
    await service.run_once()
    with pytest.raises(ReleaseError, match="complete file"):
        await release_held_file(service.ledger, service.settings, "835-part.x12", note="", by="x")
    assert dict.fromkeys(IDS, (S.SUBMITTED, None)) == await claim_states(service)


async def test_a_copy_of_a_held_file_is_a_duplicate_and_changes_nothing(service: Service) -> None:
    """The same held content dropped again is reported as a duplicate: no second hold event,
    nothing posted."""
    data = out_of_balance(answers(service)[Stage.REMITTANCE])
    deliver(service, "835-bad.x12", data)
    await service.run_once()
    history = await service.ledger.claim_history("SVC-0002")
    assert history is not None
    before = len(history.events)
    deliver(service, "835-bad-again.x12", data)
    await service.run_once()
    history = await service.ledger.claim_history("SVC-0002")
    assert history is not None
    assert before == len(history.events)
    assert (1, 1) == (service.stats.duplicate_files, (await service.ledger.status()).held_files)
    assert dict.fromkeys(IDS, (S.SUBMITTED, None)) == await claim_states(service)


async def test_gateway_responses_lists_and_releases_a_held_file(
    service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway responses list` shows the held file; `release --note` posts it (exit 0), and a
    second release exits 1 saying it was already released."""
    from gateway.cli import main

    deliver(service, "835-bad.x12", out_of_balance(answers(service)[Stage.REMITTANCE]))
    await service.run_once()
    config = str(service.settings.workspace.root / "gateway.toml")
    capsys.readouterr()
    assert 0 == await asyncio.to_thread(main, ["responses", "list", "--json", "--config", config])
    (row,) = json.loads(capsys.readouterr().out)
    assert ("835-bad.x12", "out-of-balance", ["0001"], 3) == (
        row["name"], row["hold"], row["held_sets"], row["held_claims"],
    )  # fmt: skip
    assert 0 == await asyncio.to_thread(
        main,
        ["responses", "release", str(row["id"]), "--note", "checked", "--by", "ann",
         "--json", "--config", config],
    )  # fmt: skip
    released = json.loads(capsys.readouterr().out)
    assert (3, 3, "ann") == (released["claims"], released["state_changes"], released["released_by"])
    again = ["responses", "release", "835-bad.x12", "--config", config]
    assert 1 == await asyncio.to_thread(main, again)
    assert "already released" in capsys.readouterr().err
    assert (S.PAID, Decimal("77777.77")) == (await claim_states(service))["SVC-0002"]
    (audited,) = (await service.ledger.audit_entries()).entries  # the release, once
    assert ("cli:ann", "release", row["id"], 3) == (
        audited.actor, audited.action, audited.detail["file_id"], audited.detail["claims"],
    )  # fmt: skip


async def test_responses_have_their_own_size_limit_of_1_gib_by_default(tmp_path: Path) -> None:
    """Responses may be up to `[intake] max_response_bytes` (1 GiB by default, beside the
    encounter limit, which stays); a larger one is quarantined unread saying what to do."""
    settings = load_settings(write_config(tmp_path), environ={})
    assert (1 << 30, 100 << 20) == (
        settings.intake.max_response_bytes,
        settings.intake.max_file_bytes,
    )
    config = write_config(tmp_path / "small")
    config.write_text(
        config.read_text().replace("[intake]\n", "[intake]\nmax_response_bytes = 64\n")
    )
    svc = await Service.open(load_settings(config, environ={}))
    try:
        deliver(svc, "big.x12", (ROOT / "samples/x12/835-sample.x12").read_bytes())
        await svc.run_once()
        report = json.loads((svc.settings.workspace.quarantine / "big.x12.error.json").read_text())
        assert "too-large" == report["error"]["code"]
        assert "max_response_bytes" in report["error"]["what_to_do"]
    finally:
        await svc.close()


async def test_a_file_posted_in_batches_posts_each_claim_once_and_a_second_pass_nothing(
    service: Service, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With one claim a batch, a two-set 835 is posted in three ledger transactions; posting the
    same file again (what a restart after a crash does) applies no batch twice, and a held set
    released in batches is released once."""
    from gateway.service import posting
    from gateway.service.responses import check_response_file

    monkeypatch.setattr(posting, "BATCH_CLAIMS", 1)
    path = tmp_path / "835-two.x12"
    path.write_bytes(out_of_balance(two_sets(answers(service)[Stage.REMITTANCE])))
    check = check_response_file(path, path.name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    first = await posting.post_response(
        service.ledger, path, digest, check, file_id=None, name=path.name
    )
    again = await posting.post_response(
        service.ledger, path, digest, check, file_id=None, name=path.name
    )
    assert (1, 0, 2) == (first.applied, first.duplicates, first.held_claims)
    assert (0, 1, 0) == (again.applied, again.duplicates, again.held_claims)
    released = await posting.post_response(
        service.ledger, path, digest, check, file_id=None, name=path.name, held_only=True
    )
    twice = await posting.post_response(
        service.ledger, path, digest, check, file_id=None, name=path.name, held_only=True
    )
    assert (2, 0, 2) == (released.applied, released.duplicates, released.state_changes)
    assert (0, 2, 0) == (twice.applied, twice.duplicates, twice.state_changes)
    assert {
        "SVC-0001": (S.PARTIALLY_PAID, Decimal("148.00")),
        "SVC-0002": (S.PAID, Decimal("77777.77")),
        "SVC-0003": (S.PAID, Decimal("85.60")),
    } == await claim_states(service)


async def test_a_dismissed_held_file_closes_its_items_and_never_posts(service: Service) -> None:
    """`gateway responses dismiss` (the payer sent a corrected 835 instead) archives the held
    file, closes its hold items with who and why, posts nothing, and can no longer be released."""
    from gateway.service.posting import ReleaseError, dismiss_held_file, release_held_file

    deliver(service, "835-bad.x12", out_of_balance(answers(service)[Stage.REMITTANCE]))
    await service.run_once()
    record, closed, target = await dismiss_held_file(
        service.ledger, service.settings, "835-bad.x12", note="corrected 835 coming", by="ann"
    )
    assert (3, True) == (closed, target.is_file())
    assert [] == await service.ledger.open_items()
    assert dict.fromkeys(IDS, (S.SUBMITTED, None)) == await claim_states(service)
    after = await service.ledger.file(record.id)
    assert after is not None
    assert after.detail is not None
    assert ("dismissed", "ann") == (after.status, after.detail["dismissal"]["by"])
    assert 0 == (await service.ledger.status()).held_files
    with pytest.raises(ReleaseError, match="not held"):
        await release_held_file(service.ledger, service.settings, str(record.id), note="", by="x")
