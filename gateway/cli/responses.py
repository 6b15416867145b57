"""``gateway responses``: response files the gateway held instead of applying; releasing them.

A response is held when it is not complete as received (it waits for its complete copy, which
supersedes it) or when 835 transaction sets in it do not balance (their claims wait in the
correction queue). ``release`` posts a held 835's held sets as the payer sent them, once, and
records who released it and why; the logic is ``gateway.service.posting.release_held_file``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from gateway.cli import EXIT_INVALID, EXIT_OK
from gateway.cli._common import dumps
from gateway.cli.db import add_config_argument, run_with_ledger, settings_for
from gateway.config import Settings
from gateway.ledger.file_lists import held_data

if TYPE_CHECKING:
    from gateway.ledger.records import FileRecord
    from gateway.ledger.store import Ledger
    from gateway.service.posting import ReleaseResult


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``responses`` sub-command and its actions."""
    parser = subparsers.add_parser(
        "responses",
        help="held response files: list them, release a reviewed 835",
        description="Response files the gateway held instead of applying: incomplete ones (cut "
        "short or with trailers that disagree; they wait for their complete copy) and 835s "
        "whose transaction sets do not balance (their claims wait in the correction queue "
        "until a person releases the file).",
    )
    actions = parser.add_subparsers(dest="responses_action", metavar="ACTION")
    actions.required = True

    listing = actions.add_parser("list", help="list the held response files")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=run_list)

    release = actions.add_parser(
        "release",
        help="post a held 835 as the payer sent it (once), after review",
        description="Post the held transaction sets of a held 835 as the payer sent them: the "
        "hold items close, each claim moves as its remittance says, who and why are recorded "
        "in the file's record, and the file is archived. A file is released once; an "
        "incomplete file is never released (its complete copy is applied when it arrives).",
    )
    release.add_argument("file", metavar="FILE", help="the file id, its name, or its path")
    release.add_argument("--note", default="", help="why it is released (kept in the record)")
    release.add_argument("--by", default=None, help="who releases it (default: the login name)")
    release.add_argument("--json", action="store_true", help="print the result as JSON")
    release.set_defaults(func=run_release)

    dismiss = actions.add_parser(
        "dismiss",
        help="put a held file away without applying its held part",
        description="Archive a held file without ever applying its held part (the payer sent "
        "a corrected 835 instead, or the complete copy came under another interchange number): "
        "its hold items close and who and why are recorded in the file's record.",
    )
    dismiss.add_argument("file", metavar="FILE", help="the file id, its name, or its path")
    dismiss.add_argument("--note", required=True, help="why (kept in the record)")
    dismiss.add_argument("--by", default=None, help="who (default: the login name)")
    dismiss.set_defaults(func=run_dismiss)

    for sub in (listing, release, dismiss):
        add_config_argument(sub)


def run_list(args: argparse.Namespace) -> int:
    """Run ``gateway responses list``."""

    async def action(ledger: Ledger, _settings: Settings) -> list[FileRecord]:
        return await ledger.files(status="held")

    rows = [held_data(r) for r in run_with_ledger(args, action)]
    if args.json:
        print(dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("no held response files")
        return EXIT_OK
    print(f"{'ID':>6}  {'HOLD':<15} {'SETS':>4} {'CLAIMS':>6}  FILE")
    for row in rows:
        print(
            f"{row['id']:>6}  {row['hold']:<15} {len(row['held_sets']):>4} "
            f"{row['held_claims']:>6}  {row['name']}"
        )
        print(f"        kept at {row['kept_at']}")
    return EXIT_OK


def run_release(args: argparse.Namespace) -> int:
    """Run ``gateway responses release FILE``."""
    from gateway.ledger.audit import cli_actor
    from gateway.logs import configure_logging
    from gateway.service.correction_files import sync_correction_files
    from gateway.service.posting import ReleaseError, release_held_file

    by = args.by or _login()
    configure_logging(settings_for(args))  # the release's log events go to standard error

    async def action(ledger: Ledger, settings: Settings) -> ReleaseResult | str:
        try:
            result = await release_held_file(ledger, settings, args.file, note=args.note, by=by)
        except ReleaseError as exc:
            return str(exc)
        await ledger.audit(
            cli_actor(by),
            "release",
            detail={
                "file_id": result.file_id,
                "sets": result.sets,
                "claims": result.claims,
                "state_changes": result.totals.state_changes,
            },
        )
        await sync_correction_files(ledger, settings.workspace.corrections)
        return result

    outcome = run_with_ledger(args, action)
    if isinstance(outcome, str):
        print(f"gateway responses release: {outcome}", file=sys.stderr)
        return EXIT_INVALID
    data = {
        "file_id": outcome.file_id,
        "name": outcome.name,
        "released_by": by,
        "note": args.note,
        "sets": outcome.sets,
        "claims": outcome.claims,
        "state_changes": outcome.totals.state_changes,
        "correction_items_closed": outcome.items_closed,
        "correction_items_opened": outcome.totals.opened_items,
        "archived_as": str(outcome.archived_as),
    }
    if args.json:
        print(dumps(data, indent=2))
    else:
        print(
            f"released file {outcome.file_id} ({outcome.name}) by {by}: {outcome.sets} set(s), "
            f"{outcome.claims} claim(s), {outcome.totals.state_changes} state change(s); "
            f"archived as {outcome.archived_as}"
        )
    return EXIT_OK


def run_dismiss(args: argparse.Namespace) -> int:
    """Run ``gateway responses dismiss FILE --note TEXT``."""
    from gateway.ledger.audit import cli_actor
    from gateway.logs import configure_logging
    from gateway.service.correction_files import sync_correction_files
    from gateway.service.posting import ReleaseError, dismiss_held_file

    by = args.by or _login()
    configure_logging(settings_for(args))

    async def action(ledger: Ledger, settings: Settings) -> str:
        try:
            record, closed, target = await dismiss_held_file(
                ledger, settings, args.file, note=args.note, by=by
            )
        except ReleaseError as exc:
            return f"error: {exc}"
        await ledger.audit(
            cli_actor(by), "dismiss", detail={"file_id": record.id, "items_closed": closed}
        )
        await sync_correction_files(ledger, settings.workspace.corrections)
        return (
            f"dismissed file {record.id} ({record.name}) by {by}: {closed} hold item(s) "
            f"closed, nothing applied; archived as {target}"
        )

    message = run_with_ledger(args, action)
    if message.startswith("error: "):
        print(f"gateway responses dismiss: {message[7:]}", file=sys.stderr)
        return EXIT_INVALID
    print(message)
    return EXIT_OK


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in this environment
        return "unknown"
