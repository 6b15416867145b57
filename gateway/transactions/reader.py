"""Any supported response read into its model: ``read_documents``, JSON forms and summaries.

Pure: bytes in, models out (``gateway parse``, in ``gateway.cli.parse``, opens the file and
prints). ``to_json``/``to_data`` give a model's JSON form, ``response_schemas`` the JSON Schemas of
``schemas/``, ``summary_object``/``summary_table`` the ``--summary`` forms.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from gateway.models.acknowledgements import (
    ClaimAcknowledgementDocument,
    ImplementationAcknowledgementDocument,
    InterchangeAcknowledgementDocument,
)
from gateway.models.remittance import (
    RemittanceDocument,
    RemittanceSummary,
)
from gateway.transactions.ack999 import read_implementation_acknowledgement
from gateway.transactions.claim_ack import read_claim_acknowledgement
from gateway.transactions.common import from_defect
from gateway.transactions.detect import READABLE, detect_transactions
from gateway.transactions.remittance import read_remittance
from gateway.transactions.ta1 import read_interchange_acknowledgement
from gateway.x12 import read_segments

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
    found = detect_transactions(read_segments(data))
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


__all__ = [
    "READABLE",
    "SCHEMA_FILES",
    "read_documents",
    "response_schemas",
    "summary_object",
    "summary_table",
    "to_data",
    "to_json",
]
