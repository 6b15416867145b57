"""``gateway parse``: print X12 as JSON (segments, or the typed model of the transaction).

The transaction is detected from GS01/ST01/GS08 in the first few megabytes; each readable kind
found there (835, 277CA, 999/997, TA1) is read in its own pass (the pure readers of
``gateway.transactions``) and printed as one JSON document (an 835 is written claim by claim, so a
remittance of any size prints in bounded memory). ``--summary`` prints a short table, or with
``--json`` one JSON object per kind. Findings go to standard error with their locations; the exit
status is 0 when there were none, 1 when there were.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO

from gateway.cli import EXIT_INVALID, EXIT_OK
from gateway.cli._common import dumps, open_input
from gateway.models.remittance import Claim, RemittanceHeader, RemittanceSummary
from gateway.models.responses import ResponseFinding
from gateway.transactions.ack999 import read_implementation_acknowledgement
from gateway.transactions.claim_ack import read_claim_acknowledgement
from gateway.transactions.common import from_defect
from gateway.transactions.detect import READABLE, Detected, detect_transactions
from gateway.transactions.reader import Document, summary_object, summary_table, to_json
from gateway.transactions.remittance import RemittanceEnd, RemittanceReader
from gateway.transactions.ta1 import read_interchange_acknowledgement
from gateway.x12 import Defect, read_segments

DETECT_BYTES = 4 << 20  # how much of a file is looked at to tell what it holds


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
    return _parse_models(args)


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


# -- the typed models ---------------------------------------------------------------------------


@contextmanager
def _opened(path: str) -> Iterator[BinaryIO]:
    stream = open_input(path)
    try:
        yield stream
    finally:
        stream.close()


def _detect(path: str) -> tuple[Detected, list[Defect], bool]:
    """Kinds in the first ``DETECT_BYTES`` of the file; whether that was the whole file."""
    with _opened(path) as stream:
        head = stream.read(DETECT_BYTES)
        whole = not stream.read(1)
    reader = read_segments(head)
    found = detect_transactions(reader)
    return found, (list(reader.defects) if whole else []), whole


def _report(path: str, findings: list[ResponseFinding], err: IO[str]) -> None:
    for finding in findings:
        err.write(f"{path}: {finding}\n")


def _read_document(path: str, kind: str) -> tuple[Document, list[Defect]]:
    with _opened(path) as stream:
        reader = read_segments(stream)
        document: Document
        if kind in ("277CA", "277"):
            document = read_claim_acknowledgement(reader)
        elif kind in ("999", "997"):
            document = read_implementation_acknowledgement(reader)
        else:
            document = read_interchange_acknowledgement(reader)
        return document, list(reader.defects)


def _write_remittance(
    path: str, out: IO[str], *, summary_only: bool
) -> tuple[RemittanceSummary, list[ResponseFinding], list[Defect]]:
    """Stream an 835 file as JSON (claim by claim) unless only the summary is wanted."""
    with _opened(path) as stream:
        segments = read_segments(stream)
        reader = RemittanceReader(segments)
        write: Callable[[str], object] = out.write
        if not summary_only:
            write('{"transaction":"835","remittances":[')
        first_set = True
        first_claim = True
        for item in reader:
            if summary_only:
                continue
            if isinstance(item, Claim):
                write(("\n" if first_claim else ",\n") + to_json(item))
                first_claim = False
            elif isinstance(item, RemittanceHeader):
                write(("\n" if first_set else ",\n") + '{"header":' + to_json(item) + ',"claims":[')
                first_set = False
                first_claim = True
            elif isinstance(item, RemittanceEnd):
                write(
                    '\n],"provider_adjustments":'
                    + to_json(item.provider_adjustments)
                    + ',"summary":'
                    + to_json(item.summary)
                    + ',"findings":'
                    + to_json(item.findings)
                    + "}"
                )
        defects = list(segments.defects)
        findings = [from_defect(d) for d in defects] + list(reader.findings)
        if not summary_only:
            write(
                '\n],"summary":'
                + to_json(reader.summary)
                + ',"findings":'
                + to_json(findings)
                + "}\n"
            )
        return reader.summary, findings, defects


def _parse_models(args: argparse.Namespace) -> int:
    """Run ``gateway parse FILE [--summary [--json]]``; returns the exit status."""
    path: str = args.file
    summary_only = bool(getattr(args, "summary", False))
    as_json = bool(getattr(args, "json", False))
    out = sys.stdout
    err = sys.stderr
    found, head_defects, whole = _detect(path)
    readable = found.readable
    problems = 0
    if not readable:
        # not a response we read: say what it is (or that it is not X12) and stop
        for defect in head_defects:
            err.write(f"{path}: {defect}\n")
        if found.primary is None:
            if not head_defects:
                err.write(f"{path}: no transaction set or TA1 found in the file\n")
            return 1
        if not whole:
            with _opened(path) as stream:
                found = detect_transactions(read_segments(stream))
        primary = found.primary or ""
        info = {
            "transaction": primary,
            "implementation": found.versions.get(primary, ""),
            "sets": found.kinds.get(primary, 0),
            "claims": found.claims,
            "kinds": found.kinds,
        }
        out.write(_json_line(info))
        err.write(
            f"{path}: holds {', '.join(f'{n} {k}' for k, n in found.kinds.items())} "
            "transaction set(s); gateway parse reads 835, 277CA, 999/997 and TA1 into models "
            "(use --segments to see any X12 file's segments)\n"
        )
        return 1 if head_defects else 0
    others = {k: n for k, n in found.kinds.items() if k not in READABLE}
    if others:
        err.write(
            f"{path}: also holds {', '.join(f'{n} {k}' for k, n in others.items())} "
            "transaction set(s), not read here (use --segments to see them)\n"
        )
    envelope_reported = False
    for kind in readable:
        findings: list[ResponseFinding]
        if kind == "835":
            summary, findings, defects = _write_remittance(path, out, summary_only=summary_only)
            shown: object = summary
        else:
            document, defects = _read_document(path, kind)
            findings = [from_defect(d) for d in defects] + list(document.findings)
            document.findings = findings
            shown = document
            if not summary_only:
                out.write(to_json(document, indent=2) + "\n")
        if summary_only:
            if as_json:
                out.write(_json_line(summary_object(shown)))
            else:
                out.write(summary_table(shown, path) + "\n")
        # envelope defects are the same in every pass: report them once
        if envelope_reported:
            findings = findings[len(defects) :]
        envelope_reported = True
        _report(path, findings, err)
        problems += len(findings)
    return 1 if problems else 0


def _json_line(value: object) -> str:
    return dumps(value) + "\n"
