"""``gateway status``: claims counted and summed by state, and the oldest open correction items."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.cli import EXIT_OK
from gateway.cli._common import dumps
from gateway.cli.db import add_config_argument, run_with_ledger
from gateway.config import Settings
from gateway.ledger.correction_rules import item_data
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import StatusSummary, TransportState

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``status`` sub-command."""
    parser = subparsers.add_parser(
        "status",
        help="counts and amounts by state, oldest open items",
        description="Print how many claims are in each state with their charges and payments, "
        "the open correction items (oldest first), unmatched responses, quarantined files "
        "and held response files.",
    )
    parser.add_argument("--oldest", type=int, default=5, metavar="N", help="open items to show")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_config_argument(parser)
    parser.set_defaults(func=run)


def status_data(summary: StatusSummary) -> dict[str, Any]:
    """The summary as JSON-ready data (states in lifecycle order)."""
    states = [s for s in ClaimState if s in summary.counts]
    return {
        "claims": sum(summary.counts.values()),
        "by_state": {
            str(s): {
                "claims": summary.counts[s],
                "charges": summary.charges[s],
                "paid": summary.paid[s],
            }
            for s in states
        },
        "open_items": summary.open_items,
        "oldest_items": [item_data(i) for i in summary.oldest_items],
        "unmatched_responses": summary.unmatched,
        "quarantined_files": summary.quarantined_files,
        "unreadable_records": summary.unreadable_records,
        "refused_files": summary.refused_files,
        "held_files": summary.held_files,
        "waiting_on_next_payer": summary.waiting_on_next_payer,
        "transports": [_transport_data(t) for t in summary.transports],
    }


def _transport_data(state: TransportState) -> dict[str, Any]:
    """One transport's state: ok or failing since when, the last error, the next attempt."""
    return {
        "transport": state.transport,
        "partners": list(state.partners),
        "state": state.state,
        "since": state.since,
        "error_kind": state.error_kind,
        "error": state.error,
        "failures": state.failures,
        "next_attempt_at": state.next_attempt_at,
    }


def render(summary: StatusSummary) -> str:
    """The summary as a small table."""
    lines = [f"{'STATE':<16}{'CLAIMS':>8}{'CHARGES':>14}{'PAID':>14}"]
    total = charges = paid = Decimal(0)
    for state in ClaimState:
        if state not in summary.counts:
            continue
        lines.append(
            f"{state!s:<16}{summary.counts[state]:>8}{summary.charges[state]:>14}"
            f"{summary.paid[state]:>14}"
        )
        total += summary.counts[state]
        charges += summary.charges[state]
        paid += summary.paid[state]
    lines.append(f"{'total':<16}{total:>8}{charges:>14}{paid:>14}")
    lines.append("")
    lines.append(f"claims waiting on a secondary (or later) payer: {summary.waiting_on_next_payer}")
    lines.append(f"open correction items: {summary.open_items}")
    for item in summary.oldest_items:
        meaning = item.reasons[0].meaning if item.reasons else ""
        leg = f" (leg {item.leg}, payer {item.payer_id})" if item.leg != 1 else ""
        lines.append(
            f"  {item.opened_at.isoformat(timespec='seconds')}  {item.claim_id:<20} "
            f"{item.state!s:<15} {item.reason_code}  {meaning[:50]}{leg}"
        )
    lines.append(f"unmatched response parts: {summary.unmatched}")
    lines.append(f"quarantined files: {summary.quarantined_files}")
    lines.append(f"unreadable encounters (in quarantine records): {summary.unreadable_records}")
    lines.append(f"refused files: {summary.refused_files}")
    held = f"held response files: {summary.held_files}"
    lines.append(held + ("  (gateway responses list)" if summary.held_files else ""))
    for t in summary.transports:
        since = t.since.isoformat(timespec="seconds")
        lines.append(f"transport {t.transport} ({', '.join(t.partners)}): {t.state} since {since}")
        if t.state != "ok":
            nxt = t.next_attempt_at.isoformat(timespec="seconds") if t.next_attempt_at else "-"
            lines.append(f"  {t.error_kind}, {t.failures} failed attempt(s), next {nxt}")
            lines.append(f"  {t.error}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``gateway status``."""

    async def action(ledger: Ledger, _settings: Settings) -> StatusSummary:
        return await ledger.status(oldest=args.oldest)

    summary = run_with_ledger(args, action)
    print(dumps(status_data(summary), indent=2) if args.json else render(summary))
    return EXIT_OK
