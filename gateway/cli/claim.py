"""``gateway claim show ID``: one claim's whole history, told from the ledger alone."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gateway.cli import EXIT_OK, UsageError
from gateway.cli._common import dumps
from gateway.cli.db import add_config_argument, run_with_ledger
from gateway.config import Settings
from gateway.ledger.correction_rules import item_data
from gateway.ledger.legs import legs_data
from gateway.ledger.records import ClaimHistory, EventRecord

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``claim`` sub-command."""
    parser = subparsers.add_parser(
        "claim",
        help="one claim's history",
        description="Look up claims in the ledger. `gateway claim show ID` prints the claim's "
        "whole history: received, checked, batched in which file and control numbers, "
        "acknowledged, accepted or rejected and why, paid how much, resubmitted as what.",
    )
    actions = parser.add_subparsers(dest="claim_action", metavar="ACTION")
    actions.required = True
    show = actions.add_parser("show", help="print one claim's whole history")
    show.add_argument("claim_id", metavar="ID", help="the claim id (CLM01)")
    show.add_argument("--json", action="store_true", help="print the history as JSON")
    add_config_argument(show)
    show.set_defaults(func=run_show)


def history_data(history: ClaimHistory) -> dict[str, Any]:
    """The history as JSON-ready data."""
    claim = history.claim
    return {
        "claim_id": claim.claim_id,
        "kind": claim.kind,
        "partner": claim.partner,
        "payer_id": claim.payer_id,
        "payer_name": claim.payer_name,
        "state": str(claim.state),
        "current_version": claim.current_version,
        "total_charge": claim.total_charge,
        "paid_amount": claim.paid_amount,
        "patient_responsibility": claim.patient_responsibility,
        "payer_claim_control_number": claim.payer_claim_control_number,
        "created_at": claim.created_at,
        "updated_at": claim.updated_at,
        "versions": [
            {
                "version": v.version,
                "frequency": v.frequency,
                "replaces_version": v.replaces_version,
                "origin": v.origin,
                "total_charge": v.total_charge,
                "received_at": v.received_at,
                "source_file": v.source_file,
            }
            for v in history.versions
        ],
        "events": [
            {
                "at": e.at,
                "version": e.version,
                "kind": e.kind,
                "from_state": str(e.from_state) if e.from_state else None,
                "to_state": str(e.to_state) if e.to_state else None,
                "cause": e.cause,
                "file": e.file_name,
                "isa13": e.isa13,
                "gs06": e.gs06,
                "st02": e.st02,
                "amount": e.amount,
                "detail": dict(e.detail),
            }
            for e in history.events
        ],
        "correction_items": [item_data(i) for i in history.items],
    } | legs_data(history.legs)


def _control_numbers(event: EventRecord) -> str:
    parts = []
    if event.isa13:
        parts.append(f"ISA13 {event.isa13.zfill(9)}")
    if event.gs06:
        parts.append(f"GS06 {event.gs06}")
    if event.st02:
        parts.append(f"ST02 {event.st02.zfill(4)}")
    return ", ".join(parts)


def _legs_text(history: ClaimHistory) -> list[str]:
    """The legs, one per payer, when the claim has more than its primary's."""
    legs = history.legs
    if not legs or (len(legs) == 1 and legs[0].leg == 1):
        return []
    lines = ["legs (one per payer, in order of responsibility):"]
    for leg in legs:
        money = "".join(
            f", {label} {value}"
            for label, value in (
                ("paid", leg.paid_amount),
                ("patient responsibility", leg.patient_responsibility),
            )
            if value is not None
        )
        name = f" {leg.payer_name}" if leg.payer_name else ""
        mark = "  <- current" if leg.current else ""
        versions = ",".join(str(v) for v in leg.versions) or "-"
        lines.append(
            f"  {leg.leg} {leg.responsibility:<9} payer {leg.payer_id}{name}, partner "
            f"{leg.partner}: {leg.state}{money} ({leg.origin}, versions {versions}){mark}"
        )
        if leg.replacement_offered:
            lines.append(
                f"      a replacement is offered: gateway queue resubmit {history.claim.claim_id}"
            )
    data = legs_data(legs)
    owes = data["patient_owes"]
    if owes is None:
        lines.append("  patient owes: not known yet")
    else:
        final = "" if data["patient_owes_final"] else " so far (a later payer has not answered)"
        lines.append(f"  payers paid {data['paid_by_payers']}; patient owes {owes}{final}")
    return lines


def render(history: ClaimHistory) -> str:
    """The history as text, oldest first."""
    claim = history.claim
    lines = [
        f"claim {claim.claim_id}  ({claim.kind}, partner {claim.partner}, payer {claim.payer_id}"
        + (f" {claim.payer_name}" if claim.payer_name else "")
        + ")",
        f"  state {claim.state}, version {claim.current_version}, charge {claim.total_charge}"
        + (f", paid {claim.paid_amount}" if claim.paid_amount is not None else "")
        + (
            f", patient responsibility {claim.patient_responsibility}"
            if claim.patient_responsibility is not None
            else ""
        ),
    ]
    if claim.payer_claim_control_number:
        lines.append(f"  payer claim control number {claim.payer_claim_control_number}")
    lines.extend(_legs_text(history))
    lines.append("versions:")
    for v in history.versions:
        replaces = f", replaces version {v.replaces_version}" if v.replaces_version else ""
        source = f" from {v.source_file}" if v.source_file else ""
        lines.append(
            f"  {v.version}  frequency {v.frequency}  {v.origin}{source}  charge {v.total_charge}"
            f"  {v.received_at.isoformat(timespec='seconds')}{replaces}"
        )
    lines.append("history:")
    for e in history.events:
        change = f"{e.from_state or '-'} -> {e.to_state}" if e.to_state else "(state unchanged)"
        numbers = _control_numbers(e)
        where = f" [{numbers}]" if numbers else ""
        source = f" file {e.file_name}" if e.file_name else ""
        lines.append(f"  {e.at.isoformat(timespec='seconds')}  v{e.version}  {e.kind:<11} {change}")
        lines.append(f"      {e.cause}{where}{source}")
        for reason in e.detail.get("reasons", ()) or e.detail.get("findings", ()):
            where_text = f" at {reason.get('where')}" if reason.get("where") else ""
            lines.append(f"      - {reason.get('code')} {reason.get('meaning')}{where_text}")
    if history.items:
        lines.append("correction items:")
        for item in history.items:
            status = "open" if item.closed_at is None else f"closed by {item.closed_by}"
            note = f": {item.note}" if item.note else ""
            leg = f" leg {item.leg}" if item.leg != 1 or len(history.legs) > 1 else ""
            lines.append(
                f"  #{item.id} v{item.version}{leg} {item.source} {item.reason_code} {status}{note}"
                + (f" (payer {item.payer_id})" if leg else "")
            )
    return "\n".join(lines)


def run_show(args: argparse.Namespace) -> int:
    """Run ``gateway claim show ID``."""

    async def action(ledger: Ledger, _settings: Settings) -> ClaimHistory | None:
        return await ledger.claim_history(args.claim_id)

    history = run_with_ledger(args, action)
    if history is None:
        raise UsageError(f"no claim {args.claim_id} in the ledger")
    if args.json:
        print(dumps(history_data(history), indent=2))
    else:
        print(render(history))
    return EXIT_OK
