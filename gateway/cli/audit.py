"""``gateway audit``: the audit trail of the ledger (who viewed which claim, who changed what)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gateway.cli import EXIT_OK, UsageError
from gateway.cli._common import dumps
from gateway.cli.db import add_config_argument, run_with_ledger
from gateway.config import Settings

if TYPE_CHECKING:
    from gateway.ledger.audit import AuditEntry
    from gateway.ledger.store import Ledger

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``audit`` sub-command."""
    parser = subparsers.add_parser(
        "audit",
        help="the audit trail: who viewed which claim and who changed what",
        description="The audit trail, newest first: claim views and changes in the web console, "
        "changes made with `gateway queue` and `gateway responses` (as cli:<user>), logins and "
        "user changes. Filter by claim and/or user.",
    )
    add_config_argument(parser)
    parser.add_argument("--claim", metavar="ID", help="only entries about this claim")
    parser.add_argument("--user", metavar="NAME", help="only entries by this user (or cli:NAME)")
    parser.add_argument(
        "--limit", type=int, default=100, metavar="N", help="at most N entries (default 100)"
    )
    parser.add_argument("--json", action="store_true", help="JSON Lines, one entry a line")
    parser.set_defaults(func=run_audit)


def run_audit(args: argparse.Namespace) -> int:
    """Run ``gateway audit [--claim ID] [--user NAME]``."""
    if args.limit <= 0:
        raise UsageError(f"--limit {args.limit}: expected a whole number greater than 0")

    async def action(ledger: Ledger, _settings: Settings) -> tuple[AuditEntry, ...]:
        page = await ledger.audit_entries(claim_id=args.claim, actor=args.user, limit=args.limit)
        return page.entries

    entries = run_with_ledger(args, action)
    for e in entries:
        if args.json:
            print(
                dumps(
                    {
                        "id": e.id,
                        "at": e.at,
                        "actor": e.actor,
                        "action": e.action,
                        "claim_id": e.claim_id,
                        "detail": e.detail,
                        "client": e.client,
                    }
                )
            )
            continue
        detail = " ".join(f"{k}={v}" for k, v in e.detail.items())
        print(
            f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<20} {e.action:<14} {e.claim_id or '-':<20} "
            f"{e.client or '-':<15} {detail}".rstrip()
        )
    if not entries and not args.json:
        print("no audit entries" + (" for this filter" if args.claim or args.user else ""))
    return EXIT_OK
