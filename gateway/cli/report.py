"""``gateway report``: clean-claim rate, denials, money and days to payment, A/R aging, rework."""

from __future__ import annotations

import argparse
import csv
import io
import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.cli import EXIT_OK, UsageError
from gateway.cli._common import dumps
from gateway.cli.db import add_config_argument, run_with_ledger
from gateway.config import Settings

if TYPE_CHECKING:
    from gateway.ledger.reports import Period, Table
    from gateway.ledger.store import Ledger

REPORTS = ("summary", "denials", "payers", "aging", "rework")
BY = ("payer", "partner", "provider", "rendering", "kind", "month")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` sub-command."""
    parser = subparsers.add_parser(
        "report",
        help="revenue-cycle reports: clean-claim rate, denials, payers, aging, rework",
        description="Measures over the claims first submitted in a period (default: the last 30 "
        "days), split by payer, partner, billing provider, rendering provider, claim kind or "
        "month. --claims lists the claim ids behind one number; --html writes one "
        "self-contained page with charts (claim ids and amounts only, no patient data).",
    )
    parser.add_argument("report", nargs="?", choices=REPORTS, default="summary")
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last day (YYYY-MM-DD)")
    parser.add_argument("--by", choices=BY, help="split by (provider: the billing provider)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--csv", action="store_true", help="print CSV (one section per table)")
    out.add_argument("--html", metavar="FILE", help="write the HTML report with charts to FILE")
    parser.add_argument(
        "--claims",
        metavar="CELL",
        help="list the claim ids behind one number: MEASURE[=GROUP], e.g. denied_full, "
        "no_answer, aging:61-90, rejected:999, carc:CO-50, rarc:N290, paid=60054 (with --by)",
    )
    add_config_argument(parser)
    parser.set_defaults(func=run)


def _date(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{what} {text!r}: give a date as YYYY-MM-DD") from None


def period_of(args: argparse.Namespace) -> Period:
    """The period of ``--from``/``--to`` (default: the 30 days ending ``--to`` or today)."""
    from datetime import timedelta

    from gateway.ledger.reports import Period

    end = _date(args.end, "--to")
    start = _date(args.start, "--from")
    default = Period.last_days(30, end)
    period = Period(start or default.start, end or default.end)
    if period.start > period.end:
        raise UsageError(f"--from {period.start} is after --to {period.end}")
    if period.end - period.start > timedelta(days=366 * 20):
        raise UsageError("the period is longer than 20 years: narrow --from/--to")
    return period


def no_answer_days(settings: Settings) -> dict[str, int]:
    """Each partner's ``[claims] no_answer_days`` (the default 30 where not set)."""
    return settings.no_answer_days()


async def tables_for(
    ledger: Ledger, report: str, period: Period, by: str | None, days: dict[str, int]
) -> list[Table]:
    """The tables of one report."""
    queries = ledger.reports
    if report == "summary":
        return [await queries.summary(period, by), await queries.rejections(period, by)]
    if report == "denials":
        return await queries.denials(period, by)
    if report == "payers":
        return [await queries.payers(period, by or "payer")]
    if report == "aging":
        return await queries.aging(period, by or "payer", no_answer_days=days)
    return await queries.rework(period, by)


def render(tables: list[Table], period: Period) -> str:
    """Tables for people: aligned columns, rates as percentages."""
    lines = [f"claims first submitted {period.start} .. {period.end}"]
    for table in tables:
        lines += ["", f"{table.name}:"]
        if not table.rows:
            lines.append("  (none)")
            continue
        cells = [list(table.columns)] + [
            [_cell(c, v) for c, v in zip(table.columns, row, strict=True)] for row in table.rows
        ]
        widths = [max(len(r[i]) for r in cells) for i in range(len(table.columns))]
        for row in cells:
            lines.append(
                "  "
                + "  ".join(
                    v.rjust(w) if i else v.ljust(w)
                    for i, (v, w) in enumerate(zip(row, widths, strict=True))
                )
            )
    return "\n".join(lines)


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column.endswith("_rate") or column == "first_pass_rate":
        return f"{value * 100:.1f}%"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def csv_text(tables: list[Table]) -> str:
    """Each table as a CSV section: a ``# name`` line, the header, the rows, a blank line."""
    out = io.StringIO()
    for table in tables:
        out.write(f"# {table.name}\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows(["" if v is None else v for v in row] for row in table.rows)
        out.write("\n")
    return out.getvalue()


def run(args: argparse.Namespace) -> int:
    """Run ``gateway report``."""
    period = period_of(args)
    cell, _, group = (args.claims or "").partition("=")
    if group and args.by is None:
        raise UsageError(f"--claims {args.claims}: a group (={group}) needs --by")

    async def action(ledger: Ledger, settings: Settings) -> Any:
        days = no_answer_days(settings)
        if args.claims:
            try:
                return await ledger.reports.claims(
                    period, cell, by=args.by, group=group or None, no_answer_days=days
                )
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        if args.html:
            from gateway.cli._report_html import gather

            return await gather(ledger, period, days)
        return await tables_for(ledger, args.report, period, args.by, days)

    result = run_with_ledger(args, action)
    if args.claims:
        if args.json:
            print(dumps({"cell": args.claims, "claims": result}, indent=2))
        else:
            print("\n".join(result) if result else f"no claims behind {args.claims}")
        return EXIT_OK
    if args.html:
        from gateway.cli._report_html import render_html

        path = Path(args.html)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(render_html(result, period))
        print(f"wrote {path}")
        return EXIT_OK
    if args.json:
        data = {
            "report": args.report,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "by": args.by,
            "tables": {t.name: t.records() for t in result},
        }
        print(dumps(data, indent=2))
    elif args.csv:
        print(csv_text(result), end="")
    else:
        print(render(result, period))
    return EXIT_OK
