"""``gateway parse``: print X12 as JSON (segments, or the typed model of the transaction)."""

from __future__ import annotations

import argparse
import sys

from gateway.cli import EXIT_INVALID, EXIT_OK
from gateway.cli._common import dumps, open_input
from gateway.x12 import read_segments


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``parse`` sub-command."""
    parser = subparsers.add_parser(
        "parse",
        help="read an X12 file and print it as JSON",
        description="Read an X12 file and print it as JSON. With --segments, one JSON object per "
        "segment (JSON Lines); otherwise the typed model of the transaction "
        "(835, 277CA, 999, TA1). "
        "Defects go to standard error with their locations; exit 1 when any was found.",
    )
    parser.add_argument("file", help="the X12 file to read")
    parser.add_argument(
        "--segments", action="store_true", help="print every segment as a line of JSON"
    )
    parser.add_argument(
        "--summary", action="store_true", help="print a short summary instead of the whole model"
    )
    parser.add_argument("--json", action="store_true", help="with --summary: one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gateway parse``."""
    if args.segments:
        return _segments(args.file)
    from gateway.transactions.reader import parse_command

    return parse_command(args)


def _segments(path: str) -> int:
    with open_input(path) as stream:
        reader = read_segments(stream)
        write = sys.stdout.write
        for seg in reader:
            write(
                dumps(
                    {
                        "index": seg.index,
                        "tag": seg.tag,
                        "elements": seg.element_tree(),
                        "offset": seg.offset,
                        "line": seg.line,
                    }
                )
                + "\n"
            )
    for defect in reader.defects:
        print(f"{path}: {defect}", file=sys.stderr)
    return EXIT_INVALID if reader.defects else EXIT_OK
