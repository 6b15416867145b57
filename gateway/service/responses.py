"""Response intake, the pure part: a response file's bytes in, the documents to reconcile out.

``read_response_file`` detects what the file holds from GS01/ST01/GS08 (never from its name) and
reads every TA1, 999/997, 277CA and 835 in it with the readers of ``gateway.transactions``. A file
holding none of them (not X12 at all, an 837, a transaction we do not read) comes back with a
``FileProblem`` saying what it is and what to do, for the service to quarantine it. Findings in a
readable file (an imbalance, a count off by one) are kept and logged, and the file is still
applied: the ledger reconciles what it can, and never changes an amount to make it balance.

A readable file is also checked against its implementation guide (TR3) with our validator
(``gateway.validation.validator``): ``ResponseRead.tr3`` says whether its sets were accepted and
holds the findings (located, no PHI). Payers' files are often imperfect, so a file the validator
rejects is read and applied all the same; only its findings are recorded. 4010 files and groups
with no guide here (a 5010 997, a 277 claim status response) are "not checked", not errors.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from gateway.ledger.adapt import Document, kind_of
from gateway.service.files import FileProblem
from gateway.transactions.detect import detect
from gateway.transactions.reader import read_documents
from gateway.validation.validator import ValidationResult, validate
from gateway.x12 import Defect, Severity, read_segments

__all__ = ["ResponseRead", "Tr3Check", "check_tr3", "document_hash", "read_response_file"]

#: Findings kept in a file's record (the count is always complete).
MAX_RECORDED_FINDINGS = 50


@dataclass(frozen=True, slots=True)
class Tr3Check:
    """What our TR3 validator made of a response file.

    ``status`` is ``accepted`` (no error), ``rejected`` (error findings, in ``findings``) or
    ``not checked`` (``reason`` says why: a 4010 file, no guide for its groups, a failure).
    """

    status: str
    reason: str = ""
    sets: int = 0  # transaction sets checked
    rejected_sets: tuple[str, ...] = ()  # ST02 of each set the validator rejected
    unchecked_groups: tuple[str, ...] = ()  # "GS06 (GS01 GS08)" of groups with no guide here
    findings: tuple[Defect, ...] = ()  # error-level findings, in file order

    @property
    def rejected(self) -> bool:
        """True when the validator found errors in the file."""
        return self.status == "rejected"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready data for the file's record (at most ``MAX_RECORDED_FINDINGS`` findings)."""
        return {
            "status": self.status,
            "reason": self.reason,
            "sets": self.sets,
            "rejected_sets": list(self.rejected_sets),
            "unchecked_groups": list(self.unchecked_groups),
            "errors": len(self.findings),
            "findings": [d.as_dict() for d in self.findings[:MAX_RECORDED_FINDINGS]],
        }


@dataclass
class ResponseRead:
    """What a response file holds: its documents (one per kind), or why it cannot be used."""

    documents: list[Document] = field(default_factory=list)
    problem: FileProblem | None = None
    #: Error-level findings of the readers, as JSON-ready data (for the file's record and logs).
    findings: list[dict[str, object]] = field(default_factory=list)
    #: The TR3 validator's verdict on the file (``not checked`` when it has no documents).
    tr3: Tr3Check = field(default_factory=lambda: Tr3Check("not checked", "nothing was read"))

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
    read = ResponseRead(documents=list(documents), tr3=check_tr3(data, name))
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


def check_tr3(data: bytes, name: str) -> Tr3Check:
    """Validate a response file with our TR3 validator (CPU-bound: call it off the event loop);
    never raises."""
    try:
        result = validate(data, file=name)
    except Exception as exc:  # the validator never raises by contract; intake must go on
        return Tr3Check("not checked", f"the validator failed ({type(exc).__name__})")
    if not result.interchanges:
        version = _isa12(data)
        if version != "00501":
            return Tr3Check("not checked", f"ISA12 {version or '(none)'}: only 5010 is validated")
    return _verdict(result)


def _verdict(result: ValidationResult) -> Tr3Check:
    unchecked = [g for g in result.groups if not g.supported]
    skip = {id(d) for g in unchecked for d in g.defects}
    skip |= {id(d) for g in unchecked for s in g.sets for d in s.defects}
    findings = tuple(
        d for d in result.defects if d.severity is Severity.ERROR and id(d) not in skip
    )
    checked = [s for g in result.groups if g.supported for s in g.sets]
    status = "rejected" if findings else "accepted"
    reason = ""
    if not findings and not checked and unchecked:
        status, reason = "not checked", "no implementation guide here for its groups"
    return Tr3Check(
        status,
        reason,
        sets=len(checked),
        rejected_sets=tuple(s.control for s in checked if not s.accepted),
        unchecked_groups=tuple(f"{g.control} ({g.functional_id} {g.version})" for g in unchecked),
        findings=findings,
    )


def _isa12(data: bytes) -> str:
    """ISA12 of the file's first segment, read leniently ('' when it does not start with ISA)."""
    for segment in read_segments(data):
        return segment[12].strip() if segment.tag == "ISA" else ""
    return ""


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
