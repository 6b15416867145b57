"""``gateway queue``: the correction queue (list, tail, show, resubmit, void, resolve).

Argument parsing and printing only: the resubmission workflow is
:mod:`gateway.ledger.resubmission`, the correction files :mod:`gateway.service.correction_files`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.cli import EXIT_INVALID, EXIT_OK, UsageError
from gateway.cli._common import dumps
from gateway.cli.db import add_config_argument, run_with_ledger
from gateway.config import Settings
from gateway.ledger.audit import cli_actor
from gateway.ledger.correction_rules import (
    QueueRuleError,
    correction_document,
    item_data,
    read_correction,
)
from gateway.ledger.records import ClaimRecord, QueueItem
from gateway.ledger.resubmission import resubmit_claim, void_claim
from gateway.service.correction_files import remove_correction_file

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

__all__ = ["register"]


# ------------------------------------------------------------------------------ the commands


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``queue`` sub-command and its actions."""
    parser = subparsers.add_parser(
        "queue",
        help="the correction queue: invalid, rejected and denied claims",
        description="The correction queue: every claim that is invalid, rejected (TA1/999/277CA) "
        "or denied has one open item with its reasons. Each open item is also a file "
        "corrections/<claim_id>.json that staff can fix and drop back into the encounter inbox.",
    )
    actions = parser.add_subparsers(dest="queue_action", metavar="ACTION")
    actions.required = True

    listing = actions.add_parser("list", help="list the open items, oldest first")
    listing.add_argument("--reason", metavar="CODE", help="only items with this reason code")
    listing.add_argument("--payer", metavar="ID", help="only items for this payer id")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=run_list)

    tail = actions.add_parser("tail", help="print the latest items; -f follows new ones")
    tail.add_argument("-f", "--follow", action="store_true", help="keep printing new items")
    tail.add_argument(
        "-n", "--lines", type=int, default=10, metavar="N", help="items to start with"
    )
    tail.add_argument("--interval", type=float, default=1.0, help="seconds between polls (-f)")
    tail.add_argument("--json", action="store_true", help="JSON Lines, one item a line")
    tail.set_defaults(func=run_tail)

    show = actions.add_parser("show", help="one item: reasons, source, encounter")
    show.add_argument("claim_id", metavar="ID", help="the claim id (CLM01)")
    show.add_argument("--json", action="store_true", help="print the correction document")
    show.set_defaults(func=run_show)

    resubmit = actions.add_parser(
        "resubmit",
        help="resubmit a claim (corrected from --file, or as last sent)",
        description="Record a new version of the claim and queue it for the next batch. Before "
        "the payer adjudicated it the claim goes as frequency 1; after, as a replacement "
        "(7) with REF*F8, unless the partner accepts only frequency 1.",
    )
    resubmit.add_argument("claim_id", metavar="ID", help="the claim id (CLM01)")
    resubmit.add_argument(
        "--file", metavar="F", help="the corrected encounter (or correction file) as JSON"
    )
    resubmit.set_defaults(func=run_resubmit)

    void = actions.add_parser(
        "void",
        help="void a claim (frequency 8 once adjudicated, else withdraw it)",
    )
    void.add_argument("claim_id", metavar="ID", help="the claim id (CLM01)")
    void.add_argument("--note", default="voided by a person", help="why (kept in the history)")
    void.set_defaults(func=run_void)

    resolve = actions.add_parser("resolve", help="close an item by hand, with a note")
    resolve.add_argument("claim_id", metavar="ID", help="the claim id (CLM01)")
    resolve.add_argument("--note", required=True, help="what was done (kept in the history)")
    resolve.set_defaults(func=run_resolve)

    for sub in (listing, tail, show, resubmit, void, resolve):
        add_config_argument(sub)


def _age(opened: datetime) -> str:
    seconds = max(0, int((datetime.now(UTC) - opened).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _row(item: QueueItem) -> str:
    first = item.reasons[0] if item.reasons else None
    meaning = first.meaning if first else ""
    more = f" (+{len(item.reasons) - 1})" if len(item.reasons) > 1 else ""
    return (
        f"{item.claim_id:<20} {item.state!s:<15} {item.source:<10} {item.reason_code:<14} "
        f"{item.payer_id:<10} {_age(item.opened_at):>5}  {meaning[:60]}{more}"
    )


_HEADER = (
    f"{'CLAIM':<20} {'STATE':<15} {'SOURCE':<10} {'REASON':<14} {'PAYER':<10} {'AGE':>5}  MEANING"
)


def run_list(args: argparse.Namespace) -> int:
    """Run ``gateway queue list``."""

    async def action(ledger: Ledger, _settings: Settings) -> list[QueueItem]:
        return await ledger.open_items(reason=args.reason, payer=args.payer)

    items = run_with_ledger(args, action)
    if args.json:
        print(dumps([item_data(i) for i in items], indent=2))
        return EXIT_OK
    if not items:
        print("the correction queue is empty")
        return EXIT_OK
    print(_HEADER)
    for item in items:
        print(_row(item))
    print(f"{len(items)} open item(s)")
    return EXIT_OK


def run_tail(args: argparse.Namespace) -> int:
    """Run ``gateway queue tail [-f]``."""

    def emit(items: Sequence[QueueItem]) -> None:
        for item in items:
            print(dumps(item_data(item)) if args.json else _row(item), flush=True)

    async def action(ledger: Ledger, _settings: Settings) -> None:
        items = await ledger.open_items()
        start = items[-args.lines :] if args.lines > 0 else []
        if start and not args.json:
            print(_HEADER, flush=True)
        emit(start)
        last = max((i.id for i in items), default=0)
        while args.follow:
            await asyncio.sleep(args.interval)
            new = await ledger.items_after(last)
            emit(new)
            if new:
                last = max(i.id for i in new)

    try:
        run_with_ledger(args, action)
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    """Run ``gateway queue show ID``."""

    async def action(ledger: Ledger, _settings: Settings) -> QueueItem | None:
        item = await ledger.open_item(args.claim_id)
        if item is None:
            history = await ledger.claim_history(args.claim_id)
            if history is None:
                raise UsageError(f"no claim {args.claim_id} in the ledger")
            if not history.items:
                return None
            item = history.items[-1]
        return item

    item = run_with_ledger(args, action)
    if item is None:
        print(f"claim {args.claim_id} has no correction item (see `gateway claim show`)")
        return EXIT_OK
    if args.json:
        print(dumps(correction_document(item), indent=2))
        return EXIT_OK
    status = "open" if item.closed_at is None else f"closed ({item.closed_by})"
    print(f"claim {item.claim_id}  version {item.version}  frequency {item.frequency}  {status}")
    print(f"  state      {item.state}")
    print(f"  source     {item.source}" + (f" ({item.source_file})" if item.source_file else ""))
    print(f"  payer      {item.payer_id}   partner {item.partner}")
    if item.payer_claim_control_number:
        print(f"  payer claim control number  {item.payer_claim_control_number}")
    print(f"  opened     {item.opened_at.isoformat(timespec='seconds')}")
    if item.note:
        print(f"  note       {item.note}")
    print("  reasons:")
    for reason in item.reasons:
        print(f"    {reason.code}  {reason.meaning}")
        if reason.where:
            print(f"        where: {reason.where}")
        if reason.action:
            print(f"        do:    {reason.action}")
    return EXIT_OK


def _load_json(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected one encounter object")
    return data


def _frequency_1_only(settings: Settings, partner: str) -> bool:
    from gateway.partners import PartnerConfigError, load_partners

    try:
        partners = load_partners(settings.partners_dir)
        return partners.get(partner).frequency_1_only
    except (PartnerConfigError, KeyError) as exc:
        raise UsageError(f"partner {partner!r}: {exc}") from None


async def _claim_or_fail(ledger: Ledger, claim_id: str) -> ClaimRecord:
    claim = await ledger.claim(claim_id)
    if claim is None:
        raise UsageError(f"no claim {claim_id} in the ledger")
    return claim


def run_resubmit(args: argparse.Namespace) -> int:
    """Run ``gateway queue resubmit ID [--file F]``."""
    supplied: dict[str, Any] | None = None
    if args.file:
        supplied = _load_json(args.file)
        try:
            correction = read_correction(supplied)
        except QueueRuleError as exc:
            raise UsageError(f"{args.file}: {exc}") from None
        if correction is not None:
            supplied = correction.encounter
        if str(supplied.get("claim_id", args.claim_id)) != args.claim_id:
            raise UsageError(
                f"{args.file} holds claim {supplied.get('claim_id')!r}, not {args.claim_id}"
            )

    async def action(ledger: Ledger, settings: Settings) -> int:
        await _claim_or_fail(ledger, args.claim_id)
        try:
            result = await resubmit_claim(
                ledger,
                args.claim_id,
                supplied,
                frequency_1_only=lambda partner: _frequency_1_only(settings, partner),
            )
        except QueueRuleError as exc:
            raise UsageError(str(exc)) from None
        print(result.message)
        for error in result.errors:
            print(f"  {error}")
        if result.outcome is None:
            return EXIT_INVALID
        await ledger.audit(
            cli_actor(),
            "resubmit",
            claim_id=args.claim_id,
            detail={
                "version": result.outcome.version,
                "state": result.outcome.state.value,
                "corrected": supplied is not None,
            },
        )
        remove_correction_file(settings.workspace.corrections, args.claim_id)
        return EXIT_OK

    return run_with_ledger(args, action)


def run_void(args: argparse.Namespace) -> int:
    """Run ``gateway queue void ID``."""

    async def action(ledger: Ledger, settings: Settings) -> int:
        claim = await _claim_or_fail(ledger, args.claim_id)
        result = await void_claim(
            ledger,
            claim.claim_id,
            args.note,
            frequency_1_only=lambda partner: _frequency_1_only(settings, partner),
        )
        print(result.message)
        for error in result.errors:
            print(f"  {error}")
        if not result.done:
            return EXIT_INVALID
        await ledger.audit(cli_actor(), "void", claim_id=claim.claim_id)
        remove_correction_file(settings.workspace.corrections, claim.claim_id)
        return EXIT_OK

    return run_with_ledger(args, action)


def run_resolve(args: argparse.Namespace) -> int:
    """Run ``gateway queue resolve ID --note TEXT``."""
    from gateway.ledger.lifecycle import InvalidTransitionError

    if not args.note.strip():
        raise UsageError("--note must say what was done")

    async def action(ledger: Ledger, settings: Settings) -> int:
        claim = await _claim_or_fail(ledger, args.claim_id)
        try:
            await ledger.resolve(claim.claim_id, args.note.strip())
        except InvalidTransitionError:
            print(f"claim {claim.claim_id} is {claim.state}: there is no open item to resolve")
            return EXIT_INVALID
        # The note stays in the correction item; free text is kept off the audit trail.
        await ledger.audit(
            cli_actor(), "resolve", claim_id=claim.claim_id, detail={"from": claim.state.value}
        )
        remove_correction_file(settings.workspace.corrections, claim.claim_id)
        print(f"claim {claim.claim_id} resolved: {args.note.strip()}")
        return EXIT_OK

    return run_with_ledger(args, action)
