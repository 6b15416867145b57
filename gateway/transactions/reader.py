"""``gateway parse FILE``: read any supported response into its model and print it.

The readers in this package are pure; this module is the command's back end and the one place that
opens the file (through ``gateway.cli._common.open_input``). The transaction is detected from
GS01/ST01/GS08 in the first few megabytes; each readable kind found there (835, 277CA, 999/997,
TA1) is read in its own pass and printed as one JSON document (an 835 is written claim by claim,
so a remittance of any size prints in bounded memory). ``--summary`` prints a short table, or with
``--json`` one JSON object per kind. Findings go to standard error with their locations; the exit
status is 0 when there were none, 1 when there were.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, BinaryIO

from pydantic import TypeAdapter

from gateway.models.acknowledgements import (
    ClaimAcknowledgementDocument,
    ImplementationAcknowledgementDocument,
    InterchangeAcknowledgementDocument,
)
from gateway.models.remittance import (
    Claim,
    RemittanceDocument,
    RemittanceHeader,
    RemittanceSummary,
)
from gateway.models.responses import Finding
from gateway.transactions.ack999 import read_implementation_acknowledgement
from gateway.transactions.claim_ack import read_claim_acknowledgement
from gateway.transactions.common import from_defect
from gateway.transactions.detect import READABLE, Detected, detect
from gateway.transactions.remittance import RemittanceEnd, RemittanceReader, read_remittance
from gateway.transactions.ta1 import read_interchange_acknowledgement
from gateway.x12 import Defect, read_segments

DETECT_BYTES = 4 << 20  # how much of a file is looked at to tell what it holds
Document = (
    ClaimAcknowledgementDocument
    | ImplementationAcknowledgementDocument
    | InterchangeAcknowledgementDocument
)
_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(kind: type) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


def to_json(value: object, *, indent: int | None = None) -> str:
    """A response model (or a list of them) as JSON text: decimals as strings, dates ISO 8601."""
    return _adapter(type(value)).dump_json(value, indent=indent).decode()


def to_data(value: object) -> Any:
    """A response model as JSON-ready Python data (dicts, lists, strings)."""
    return _adapter(type(value)).dump_python(value, mode="json")


SCHEMA_FILES: dict[str, type] = {
    "remittance.schema.json": RemittanceDocument,
    "claim-acknowledgement.schema.json": ClaimAcknowledgementDocument,
    "implementation-acknowledgement.schema.json": ImplementationAcknowledgementDocument,
    "interchange-acknowledgement.schema.json": InterchangeAcknowledgementDocument,
}
"""The JSON Schema files under ``schemas/`` and the document model each is generated from."""


def response_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schemas of what ``gateway parse`` prints, by file name (serialization mode)."""
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in SCHEMA_FILES.items():
        schema = _adapter(model).json_schema(mode="serialization")
        schemas[name] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://x12-claim-gateway.invalid/schemas/{name}",
            **schema,
        }
    return schemas


def read_documents(data: bytes) -> list[RemittanceDocument | Document]:
    """Every readable response in ``data``, one document per kind, in order of appearance.

    Holds every claim of an 835 in memory: for large remittances use ``iter_remittance``.
    """
    found = detect(read_segments(data))
    documents: list[RemittanceDocument | Document] = []
    for kind in found.readable:
        reader = read_segments(data)
        document: RemittanceDocument | Document
        if kind == "835":
            document = read_remittance(reader)
        elif kind in ("277CA", "277"):
            document = read_claim_acknowledgement(reader)
        elif kind in ("999", "997"):
            document = read_implementation_acknowledgement(reader)
        else:
            document = read_interchange_acknowledgement(reader)
        document.findings[:0] = [from_defect(d) for d in reader.defects]
        documents.append(document)
    return documents


# -- summaries ---------------------------------------------------------------------------------


def summary_object(document: object) -> dict[str, Any]:
    """The ``--summary --json`` object of a document, exactly as the issue specifies it."""
    if isinstance(document, RemittanceSummary):
        return {
            "transaction": "835",
            "claims": document.claims,
            "total_charge": str(document.total_charge),
            "total_paid": str(document.total_paid),
            "plb_total": str(document.plb_total),
            "payment_amount": str(document.payment_amount),
            "balanced": document.balanced,
        }
    if isinstance(document, RemittanceDocument):
        return summary_object(document.summary)
    if isinstance(document, ClaimAcknowledgementDocument):
        s = document.summary
        return {
            "transaction": document.transaction,
            "claims": s.claims,
            "accepted": s.accepted,
            "rejected": s.rejected,
            "pending": s.pending,
        }
    if isinstance(document, ImplementationAcknowledgementDocument):
        i = document.summary
        return {
            "transaction": document.transaction,
            "sets": i.sets,
            "accepted": i.accepted,
            "rejected": i.rejected,
            "group_status": i.group_status,
        }
    if isinstance(document, InterchangeAcknowledgementDocument):
        acks = document.acknowledgements
        statuses = {a.status for a in acks}
        notes = [a.note_code for a in acks]
        if len(statuses) == 1:
            status = acks[0].status
        else:  # several interchanges: the worst verdict stands for the file
            status = "R" if "R" in statuses else ("E" if "E" in statuses else "A")
        return {
            "transaction": "TA1",
            "control_number": ",".join(a.control_number for a in acks),
            "status": status if acks else "",
            "note_code": ",".join(dict.fromkeys(notes)),
        }
    raise TypeError(f"no summary for {type(document).__name__}")


def summary_table(document: object, path: str) -> str:
    """A short human summary of a document."""
    data = summary_object(document)
    rows: list[tuple[str, str]] = []
    if isinstance(document, RemittanceSummary):
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(document.outcomes.items()))
        rows = [
            ("claims", f"{document.claims}" + (f"  ({outcomes})" if outcomes else "")),
            ("service lines", str(document.service_lines)),
            ("reversals", str(document.reversals)),
            ("total charge", data["total_charge"]),
            ("total paid", data["total_paid"]),
            ("patient responsibility", str(document.patient_responsibility)),
            ("provider adjustments", data["plb_total"]),
            ("payment (BPR02)", data["payment_amount"]),
            ("balanced", "yes" if document.balanced else f"no ({document.imbalances} findings)"),
        ]
    else:
        rows = [(k.replace("_", " "), str(v)) for k, v in data.items() if k != "transaction"]
    width = max(len(k) for k, _ in rows) if rows else 0
    lines = [f"{data['transaction']}  {path}"]
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)


# -- the command -------------------------------------------------------------------------------


@contextmanager
def _opened(path: str) -> Iterator[BinaryIO]:
    from gateway.cli._common import open_input  # (cli imports this module)

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
    found = detect(reader)
    return found, (list(reader.defects) if whole else []), whole


def _report(path: str, findings: list[Finding], err: IO[str]) -> None:
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
) -> tuple[RemittanceSummary, list[Finding], list[Defect]]:
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


def parse_command(args: argparse.Namespace) -> int:
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
                found = detect(read_segments(stream))
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
        findings: list[Finding]
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
    from gateway.cli._common import dumps  # (cli imports this module)

    return dumps(value) + "\n"


__all__ = [
    "READABLE",
    "SCHEMA_FILES",
    "parse_command",
    "read_documents",
    "response_schemas",
    "summary_object",
    "summary_table",
    "to_data",
    "to_json",
]
