"""``gateway validate``: check an X12 file against its implementation guide (TR3, SNIP 1-3).

Prints the findings as a table (or ``--json``), one verdict per transaction set, and exits 0 when
the file is valid, 1 when it is not. ``--ack 999`` / ``--ack ta1`` writes the acknowledgement a
receiver would send back; ``--reference pyx12`` runs pyx12 (slow) instead of our validator.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gateway.cli import EXIT_INVALID, EXIT_OK, UsageError
from gateway.cli._common import dumps, open_input
from gateway.x12 import Defect, Severity


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``validate`` sub-command."""
    parser = subparsers.add_parser(
        "validate",
        help="check an X12 file against its implementation guide",
        description="Check an X12 file (837P, 837I, 835, 277CA, 999) against its implementation "
        "guide: loop structure, usage, repeats, element types, lengths, codes, syntax notes, "
        "envelopes and counts. Exit 0 when valid, 1 when findings make it invalid.",
    )
    parser.add_argument("file", help="the X12 file to check")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument(
        "--ack",
        choices=("999", "ta1"),
        help="write the acknowledgement a receiver would send (999 or TA1)",
    )
    parser.add_argument(
        "-o", "--output", help="where to write the acknowledgement (default: standard output)"
    )
    parser.add_argument(
        "--reference",
        choices=("pyx12",),
        help="check with pyx12 instead (the reference implementation; about 50 times slower)",
    )
    parser.add_argument(
        "--external-codes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check pyx12's external code lists (states, countries, places of service...), as "
        "pyx12 and clearinghouses do (the default); --no-external-codes skips them",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gateway validate``."""
    if args.output and not args.ack:
        raise UsageError("-o/--output names where to write an acknowledgement: add --ack")
    if args.reference:
        if args.ack:
            raise UsageError("--ack is written from our validator's result; drop --reference")
        return _reference(args)
    from gateway.validation.acks import AckError, ack_999, ack_ta1
    from gateway.validation.validator import Options, validate

    with open_input(args.file) as stream:
        result = validate(
            stream, file=args.file, options=Options(external_codes=args.external_codes)
        )
    if args.ack:
        try:
            if args.ack == "999":  # the file again, so errors inside a claim can name it
                with open_input(args.file) as stream:
                    text = ack_999(result, source=stream.read())
            else:
                text = ack_ta1(result)
        except AckError as exc:
            raise UsageError(f"{args.file}: no {args.ack.upper()} written: {exc}") from exc
        if args.output:
            _write_private(Path(args.output), text + "\n")
        else:
            sys.stdout.write(text + "\n")
    out = sys.stderr if args.ack and not args.output else sys.stdout
    if args.json:
        print(dumps(result.as_dict(), indent=2), file=out)
    else:
        _table(result.defects, out)
        for s in result.sets:
            print(
                f"set {s.control} ({s.transaction} {s.version}, group {s.group_control}): "
                f"{s.verdict}, {sum(d.severity is Severity.ERROR for d in s.defects)} finding(s)",
                file=out,
            )
        errors = sum(d.severity is Severity.ERROR for d in result.defects)
        print(f"{args.file}: {'valid' if result.ok else 'INVALID'}, {errors} error(s)", file=out)
    return EXIT_OK if result.ok else EXIT_INVALID


def _reference(args: argparse.Namespace) -> int:
    from gateway.validation import pyx12_adapter

    with open_input(args.file) as stream:
        data = stream.read()
    report = pyx12_adapter.check(data, file=args.file)
    if args.json:
        print(
            dumps(
                {
                    "file": args.file,
                    "ok": report.ok,
                    "reference": "pyx12",
                    "sets": report.ack_codes,
                    "seconds": round(report.seconds, 3),
                    "defects": [d.as_dict() for d in report.defects],
                },
                indent=2,
            )
        )
    else:
        _table(report.defects, sys.stdout)
        for control, code in report.ack_codes.items():
            print(f"set {control}: {'accepted' if code in ('A', 'E') else 'rejected'} (pyx12)")
        status = "valid" if report.ok else "INVALID"
        print(f"{args.file}: {status} (pyx12, {report.seconds:.2f} s)")
    return EXIT_OK if report.ok else EXIT_INVALID


def _table(defects: tuple[Defect, ...], out: object) -> None:
    rows = [
        (
            str(d.severity),
            str(d.code),
            "" if d.location.segment_index is None else str(d.location.segment_index + 1),
            "" if d.location.line is None else str(d.location.line),
            d.location.tag or "",
            "" if d.location.segment_position is None else str(d.location.segment_position),
            d.location.element_ref or "",
            d.location.loop or "",
            d.message,
        )
        for d in defects
    ]
    if not rows:
        return
    header = ("SEVERITY", "CODE", "SEGMENT", "LINE", "TAG", "POS", "ELEMENT", "LOOP", "MESSAGE")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip(), file=out)  # type: ignore[call-overload]


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (never through a symlink)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise UsageError(f"{path}: cannot be written ({exc.strerror})") from exc
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
