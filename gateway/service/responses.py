"""Response intake, the pure part: a response file's bytes in, the documents to reconcile out.

``read_response_file`` detects what the file holds from GS01/ST01/GS08 (never from its name) and
reads every TA1, 999/997, 277CA and 835 in it with the readers of ``gateway.transactions``. A file
holding none of them (not X12 at all, an 837, a transaction we do not read) comes back with a
``FileProblem`` saying what it is and what to do, for the service to quarantine it. Findings in a
readable file (an imbalance, a count off by one) are kept and logged, and the file is still
applied: the ledger reconciles what it can, and never changes an amount to make it balance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from gateway.ledger.adapt import Document, kind_of
from gateway.service.files import FileProblem
from gateway.transactions.detect import detect
from gateway.transactions.reader import read_documents
from gateway.x12 import read_segments

__all__ = ["ResponseRead", "document_hash", "read_response_file"]


@dataclass
class ResponseRead:
    """What a response file holds: its documents (one per kind), or why it cannot be used."""

    documents: list[Document] = field(default_factory=list)
    problem: FileProblem | None = None
    #: Error-level findings of the readers, as JSON-ready data (for the file's record and logs).
    findings: list[dict[str, object]] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        """``TA1``, ``999``, ``277CA`` or ``835`` for each document, in order."""
        return [kind_of(d) for d in self.documents]


def document_hash(file_hash: str, index: int, kind: str) -> str:
    """The key a document is applied under: the file's hash for its first document, else a hash
    of the file's hash and the kind (so a file holding a TA1 and a 999 applies both, once)."""
    if index == 0:
        return file_hash
    return hashlib.sha256(f"{file_hash}:{kind}".encode()).hexdigest()


def read_response_file(data: bytes, name: str) -> ResponseRead:
    """Read every supported response in ``data`` (see the module docstring); never raises."""
    try:
        documents = read_documents(data)
    except Exception as exc:  # the readers never raise by contract; a file must not stop us
        return ResponseRead(
            problem=FileProblem(
                "unreadable",
                f"{name}: the response readers failed ({type(exc).__name__})",
                "Keep the file for the gateway's maintainers; ask the clearinghouse to resend it.",
            )
        )
    if not documents:
        return ResponseRead(problem=_why_nothing(data, name))
    read = ResponseRead(documents=list(documents))
    for document in documents:
        for found in getattr(document, "findings", []):
            if str(found.severity) == "error":
                read.findings.append(
                    {
                        "code": found.code,
                        "message": found.message,
                        "location": str(found.location) if found.location is not None else None,
                    }
                )
    return read


def _why_nothing(data: bytes, name: str) -> FileProblem:
    reader = read_segments(data)
    found = detect(reader)
    defects = list(reader.defects)
    if found.primary is None:
        return FileProblem.from_findings(
            "not-x12",
            f"{name}: holds no X12 transaction set or TA1 the gateway can read",
            "Responses must be X12 TA1, 999, 277CA or 835 files. Check that the clearinghouse "
            "sent the right file; fix or replace it and drop it into the responses inbox again.",
            defects[:50],
        )
    kinds = ", ".join(found.kinds)
    return FileProblem.from_findings(
        "not-a-response",
        f"{name}: holds {kinds}, not a response the gateway reads (TA1, 999, 277CA, 835)",
        "Claim files (837) go to the encounter workflow, not the responses inbox. Move the file "
        "where it belongs; if it came from the clearinghouse, ask them what it is.",
        defects[:50],
    )
