"""``gateway check``: validate encounter files against the contract and the claim scrubber.

Prints every finding (a table for people, ``--json`` for machines) and a summary. Exit 0 when every
encounter is clean or has warnings only, 1 when any has an error, 2 for a usage problem.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from gateway.cli import EXIT_INVALID, EXIT_OK, UsageError
from gateway.cli._common import dumps
from gateway.codes.dated import DatedCodes
from gateway.edits import CATALOGUE, CheckResult, check_file, check_stream

ENCOUNTER_SUFFIXES = (".json", ".jsonl", ".ndjson", ".xml")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` sub-command."""
    parser = subparsers.add_parser(
        "check",
        help="validate encounter files (contract and claim scrubber)",
        description="Validate encounter files (JSON object or array, JSON Lines, XML) against the "
        "encounter contract and the claim scrubber, and print every finding with its code, "
        "field path and what to do. A folder checks the encounter files in it. Exit 0 when no "
        "encounter has an error, 1 when any has, 2 for a usage problem.",
    )
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="encounter files or folders ('-': standard input)"
    )
    parser.add_argument(
        "--list-codes",
        action="store_true",
        help="print every finding code with its severity and advice, and exit",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--today",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="judge 'date in the future' against this date (default: today)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="list only encounters with findings"
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the gateway configuration, for [codes] cpt_file (the practice's CPT list); "
        "default: config/gateway.toml in the current folder when present",
    )
    parser.set_defaults(func=run)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from exc


def _paths(names: list[str]) -> list[Path]:
    """The files to check: each file given, and the encounter files of each folder given."""
    out: list[Path] = []
    for name in names:
        path = Path(name)
        if name == "-":
            out.append(STDIN)
        elif path.is_dir():
            inside = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in ENCOUNTER_SUFFIXES
                and not p.name.startswith(".")
            )
            if not inside:
                raise UsageError(f"{name}: the folder holds no .json, .jsonl or .xml file")
            out.extend(inside)
        elif path.exists():
            out.append(path)
        else:
            raise UsageError(f"{name}: no such file")
    return out


STDIN = Path("-")


def _results(
    paths: list[Path], today: date | None, cpt: DatedCodes | None = None
) -> Iterator[CheckResult]:
    for path in paths:
        if path == STDIN:
            # standard input cannot be rewound to sniff its format: hold it (one upload) in memory
            data = io.BytesIO(sys.stdin.buffer.read())
            yield from check_stream(data, name="<stdin>", today=today, cpt=cpt)
        else:
            yield from check_file(path, today=today, cpt=cpt)


def run(args: argparse.Namespace) -> int:
    """Run ``gateway check``."""
    if args.list_codes:
        return _print_codes(args.json, sys.stdout)
    if not args.files:
        raise UsageError("give at least one encounter file or folder (or --list-codes)")
    paths = _paths(args.files)
    today: date = args.today or date.today()
    cpt = _practice_cpt(args)
    if args.json:
        return _print_json(paths, today, args.quiet, sys.stdout, cpt)
    return _print_table(paths, today, args.quiet, sys.stdout, cpt)


def _practice_cpt(args: argparse.Namespace) -> DatedCodes | None:
    """The practice's CPT list ([codes] cpt_file), None without one. The settings (and the
    modules that read them) are loaded only when there is a configuration file to read."""
    if args.config is None and not Path("config", "gateway.toml").is_file():
        return None
    from gateway.cli.db import settings_for

    return settings_for(args).codes.load_cpt()


def _summary_line(counts: dict[str, int], files: int) -> str:
    total = sum(counts.values())
    return (
        f"{total} encounter{'s' if total != 1 else ''} in {files} file{'s' if files != 1 else ''}: "
        f"{counts['clean']} clean, {counts['warnings']} with warnings only, "
        f"{counts['errors']} with errors"
    )


def _print_table(
    paths: list[Path], today: date, quiet: bool, out: TextIO, cpt: DatedCodes | None = None
) -> int:
    counts = {"clean": 0, "warnings": 0, "errors": 0}
    by_code: Counter[str] = Counter()
    for result in _results(paths, today, cpt):
        counts[result.status] += 1
        by_code.update(f.code.value for f in result.findings)
        if quiet and result.status == "clean":
            continue
        record = result.record
        where = f"{record.source}:{record.line}" if record.line else record.source
        claim = result.claim_id or "(no claim id)"
        kind = f" {result.encounter.kind}" if result.encounter is not None else ""
        out.write(f"{where} #{record.index + 1} {claim}{kind}: {result.status.upper()}\n")
        for item in result.findings:
            position = f"line {item.line}" if item.line is not None else ""
            if item.column is not None:
                position += f" col {item.column}"
            path = item.path or "-"
            out.write(f"  {item.severity:<7} {item.code:<28} {path}\n")
            out.write(f"          {item.message}")
            out.write(f" ({position})\n" if position else "\n")
            out.write(f"          -> {item.hint}\n")
    out.write(_summary_line(counts, len(paths)) + "\n")
    if by_code:
        common = ", ".join(f"{code} x{n}" for code, n in by_code.most_common(10))
        out.write(f"most frequent: {common}\n")
    return EXIT_INVALID if counts["errors"] else EXIT_OK


def _print_json(
    paths: list[Path], today: date, quiet: bool, out: TextIO, cpt: DatedCodes | None = None
) -> int:
    counts = {"clean": 0, "warnings": 0, "errors": 0}
    by_code: Counter[str] = Counter()
    encounters: list[dict[str, Any]] = []
    for result in _results(paths, today, cpt):
        counts[result.status] += 1
        by_code.update(f.code.value for f in result.findings)
        if quiet and result.status == "clean":
            continue
        record = result.record
        encounters.append(
            {
                "file": record.source,
                "index": record.index,
                "line": record.line,
                "claim_id": result.claim_id,
                "kind": str(result.encounter.kind) if result.encounter is not None else None,
                "status": result.status,
                "findings": [f.as_dict() for f in result.findings],
            }
        )
    document = {
        "today": today,
        "files": [str(p) for p in paths],
        "summary": {
            **counts,
            "encounters": sum(counts.values()),
            "findings_by_code": dict(sorted(by_code.items())),
        },
        "encounters": encounters,
    }
    out.write(dumps(document, indent=2) + "\n")
    return EXIT_INVALID if counts["errors"] else EXIT_OK


def _print_codes(as_json: bool, out: TextIO) -> int:
    """The finding-code catalogue: code, severity and what to do."""
    rows = [
        {"code": str(code), "severity": str(entry.severity), "hint": entry.hint}
        for code, entry in sorted(CATALOGUE.items(), key=lambda item: item[0].value)
    ]
    if as_json:
        out.write(dumps(rows, indent=2) + "\n")
    else:
        for row in rows:
            out.write(f"{row['code']:<34} {row['severity']:<8} {row['hint']}\n")
    return EXIT_OK
