"""Response intake, the reading part: what a response file holds, and whether it may move money.

``check_response_file(path, name)`` is pass 1 of applying a response: it streams the file once
(bounded memory, whatever its size), detects what it holds from GS01/ST01/GS08 (never from its
name), reads every 835 set with the streaming reader (SNIP 3 balancing on the way), and says:

- ``problem``: the file holds no TA1, 999/997, 277CA or 835 (not X12, an 837...): quarantine it;
- ``incomplete``: an envelope is not complete as received (a set without its SE or with a wrong
  SE01/SE02, a group or interchange without its GE/IEA, trailer counts or control numbers that do
  not match). Nothing in such a file may be applied: the whole file is held until its complete
  copy arrives (a truncated 277CA must not reject half the claims any more than an 835 may pay
  them);
- ``held_sets``: 835 transaction sets that fail the balancing rules (line, claim, claim against
  lines, BPR02 against the claims and PLB) or hold an amount that is not a number. Such a set is
  not posted: its claims wait in the correction queue for a person, who may release it
  (``gateway.service.posting.release_held_file``). The whole set is held, its balanced claims
  too: BPR02 is the sum of the set's payments, so one wrong claim makes the deposit disagree.

A readable file is also checked against its implementation guide (TR3) with our validator
(``gateway.validation.validator``): ``tr3`` says whether its sets were accepted and holds the
findings (located, no PHI). Payers' files are often imperfect, so a file the validator rejects is
applied all the same (when complete and balanced); only its findings are recorded. 4010 files and
groups with no guide here (a 5010 997, a 277 claim status response) are "not checked".

``read_response_file(data, name)`` reads a whole file into documents at once (kept for callers
that hold small files in memory, and as the baseline of ``bench/response_memory.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gateway.ledger.reconcile import Document, kind_of
from gateway.models.remittance import RemittanceHeader
from gateway.models.responses import ResponseFinding
from gateway.service.files import FileProblem
from gateway.transactions.detect import READABLE, Detected, detect_transactions
from gateway.transactions.reader import read_documents
from gateway.transactions.remittance import (
    AMOUNT_INVALID,
    BALANCE_CODES,
    RemittanceEnd,
    RemittanceReader,
)
from gateway.validation.validator import ValidationResult, validate
from gateway.x12 import Defect, DefectCode, Segment, Severity, read_segments
from gateway.x12.envelope import read_isa

__all__ = [
    "INCOMPLETE_CODES",
    "HeldSet",
    "ResponseCheck",
    "ResponseRead",
    "Tr3Check",
    "check_response_file",
    "check_tr3",
    "document_hash",
    "read_response_file",
    "unit_hash",
]

#: Envelope defects that mean a transaction set, group or interchange is not complete as it was
#: received: nothing in the file is applied (see the module docstring).
INCOMPLETE_CODES = frozenset(
    {
        DefectCode.IK502_2,  # SE missing
        DefectCode.IK502_3,  # SE02 is not ST02
        DefectCode.IK502_4,  # SE01 is not the set's segment count
        DefectCode.AK905_3,  # GE missing
        DefectCode.AK905_4,  # GE02 is not GS06
        DefectCode.AK905_5,  # GE01 is not the group's set count
        DefectCode.TA1_001,  # IEA02 is not ISA13
        DefectCode.TA1_021,  # IEA01 is not the interchange's group count
        DefectCode.TA1_023,  # IEA missing (the file ends inside the interchange)
    }
)
#: 835 findings that hold a transaction set for review: it does not balance, or an amount in it
#: is not a number (read as 0 for the totals, so posting it would post a wrong amount).
HOLD_CODES = BALANCE_CODES | {AMOUNT_INVALID}
#: Interchanges remembered per file (to recognise a held truncated copy's complete version).
_MAX_INTERCHANGES = 1000

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


def unit_hash(file_hash: str, index: int, kind: str, number: int, *, release: bool = False) -> str:
    """The key batch ``number`` of document ``index`` is applied under: the document's own key
    for the first batch (what the whole document always had, so a small file is applied as
    before), else one derived from the file's hash, the document and the batch number. The
    batches a release posts have keys of their own. The same file always cuts the same batches."""
    if number == 0 and not release:
        return document_hash(file_hash, index, kind)
    label = "release:" if release else ""
    return hashlib.sha256(f"{file_hash}:{kind}:{index}:{label}{number}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class HeldSet:
    """An 835 transaction set held for review: where it is and the findings that hold it."""

    index: int  # the set's place among the file's 835 sets (0-based)
    isa13: str
    gs06: str
    st02: str
    trace_number: str  # TRN02
    payment: str  # BPR02 as read
    claims: int
    findings: tuple[ResponseFinding, ...]  # the set's hold findings (balance, bad amounts)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready data for the file's record (at most ``MAX_RECORDED_FINDINGS`` findings)."""
        return {
            "index": self.index,
            "isa13": self.isa13,
            "gs06": self.gs06,
            "st02": self.st02,
            "trace_number": self.trace_number,
            "payment": self.payment,
            "claims": self.claims,
            "findings": [_finding_dict(f) for f in self.findings[:MAX_RECORDED_FINDINGS]],
            "findings_total": len(self.findings),
        }


@dataclass
class ResponseCheck:
    """Pass 1 over a response file (see the module docstring): what it holds, whether it is
    complete, which 835 sets are held for review, and the TR3 verdict."""

    kinds: list[str] = field(default_factory=list)
    problem: FileProblem | None = None
    incomplete: list[Defect] = field(default_factory=list)  # at most MAX_RECORDED_FINDINGS
    incomplete_total: int = 0
    held_sets: dict[int, HeldSet] = field(default_factory=dict)  # by 835 set index
    remittance_sets: int = 0
    claims: int = 0  # 835 claims read
    #: Error-level findings of the readers (first ``MAX_RECORDED_FINDINGS``) and their count.
    findings: list[dict[str, object]] = field(default_factory=list)
    findings_total: int = 0
    #: ``sender/ISA13`` of every interchange (the first ``_MAX_INTERCHANGES``).
    interchanges: list[str] = field(default_factory=list)
    tr3: Tr3Check = field(default_factory=lambda: Tr3Check("not checked", "nothing was read"))

    @property
    def held_claims(self) -> int:
        """Claims in the held 835 sets."""
        return sum(h.claims for h in self.held_sets.values())

    def incomplete_problem(self, name: str) -> FileProblem:
        """The ``.error.json`` of a file held because an envelope is incomplete."""
        first = self.incomplete[0] if self.incomplete else None
        what = (
            f"{name}: the file is not complete as received ({self.incomplete_total} envelope "
            f"finding(s), the first: {first.message if first else 'unknown'}); nothing in it "
            "was applied: only complete transaction sets may change claims or move money"
        )
        return FileProblem.from_findings(
            "incomplete",
            what,
            "The file was probably cut short or altered in transfer. Ask the clearinghouse to "
            "send it again: the complete copy is applied in full when it arrives (and this one "
            "is then marked superseded; else put it away with `gateway responses dismiss`). "
            "Do not edit this file.",
            self.incomplete,
        )

    def held_problem(self, name: str) -> FileProblem:
        """The ``.error.json`` of a file with 835 sets held because they do not balance."""
        sets = sorted(self.held_sets.values(), key=lambda h: h.index)
        findings = [f for h in sets for f in h.findings][:MAX_RECORDED_FINDINGS]
        listing = ", ".join(f"ST02 {h.st02} (TRN02 {h.trace_number})" for h in sets[:10])
        others = self.remittance_sets - len(sets)
        what = (
            f"{name}: {len(sets)} 835 transaction set(s) do not balance or hold an invalid "
            f"amount: {listing}; their {self.held_claims} claim(s) were not posted and wait in "
            "the correction queue"
            + (f" (the file's {others} other 835 set(s) were posted)" if others else "")
        )
        return FileProblem(
            "out-of-balance",
            what,
            "Review the amounts named in `findings` (expected = what the parts add up to, actual "
            "= what the file states). To post the file as the payer sent it, run "
            '`gateway responses release <file id> --note "why"` (once; who and why are '
            "recorded); otherwise ask the payer for a corrected 835 and leave this one held.",
            _where(findings[0]) if findings else None,
            [_finding_dict(f) for f in findings],
        )


def check_response_file(path: Path, name: str) -> ResponseCheck:
    """Pass 1 over the file at ``path`` (see the module docstring); CPU-bound, call it off the
    event loop; never raises for what the file holds."""
    check = ResponseCheck()
    try:
        with path.open("rb") as stream:
            segments = read_segments(stream)
            found = Detected()
            reader = RemittanceReader(_watch(segments, found, check))
            _read_remittances(reader, check)
            defects = list(segments.defects)
    except (OSError, MemoryError):
        raise
    except Exception as exc:  # the readers never raise by contract; a file must not stop us
        check.problem = FileProblem(
            "unreadable",
            f"{name}: the response readers failed ({type(exc).__name__})",
            "Keep the file for the gateway's maintainers; ask the clearinghouse to resend it.",
        )
        return check
    check.kinds = [k for k in found.kinds if k in READABLE]
    if not check.kinds:
        check.problem = _nothing_readable(found, defects, name)
        return check
    for defect in defects:
        if defect.severity is not Severity.ERROR:
            continue
        if defect.code in INCOMPLETE_CODES:
            check.incomplete_total += 1
            if len(check.incomplete) < MAX_RECORDED_FINDINGS:
                check.incomplete.append(defect)
        _count_finding(check, defect.as_dict())
    check.tr3 = check_tr3(path, name)
    return check


def _watch(segments: Iterable[Segment], found: Detected, check: ResponseCheck) -> Iterator[Segment]:
    """Pass segments on, noting what ``detect_transactions`` notes and the interchanges."""
    for seg in segments:
        found.observe(seg)
        if seg.tag == "ISA" and len(check.interchanges) < _MAX_INTERCHANGES:
            isa = read_isa(seg.elements)
            check.interchanges.append(f"{isa.sender_id.strip()}/{isa.control_number.strip()}")
        yield seg


def _read_remittances(reader: RemittanceReader, check: ResponseCheck) -> None:
    """Walk every 835 set (claims one at a time) and note the sets that must be held."""
    index = -1
    header: RemittanceHeader | None = None
    claims = 0
    for item in reader:
        if isinstance(item, RemittanceHeader):
            index += 1
            header = item
            claims = 0
        elif isinstance(item, RemittanceEnd):
            check.remittance_sets += 1
            check.claims += claims
            held = tuple(f for f in item.findings if f.code in HOLD_CODES)
            for finding in item.findings:
                if str(finding.severity) == "error":
                    _count_finding(check, _finding_dict(finding))
            if held and header is not None:
                env = header.envelope
                check.held_sets[index] = HeldSet(
                    index,
                    env.interchange_control_number,
                    env.group_control_number,
                    env.transaction_control_number,
                    header.trace_number,
                    str(header.payment_amount),
                    claims,
                    held,
                )
        else:
            claims += 1


def _count_finding(check: ResponseCheck, found: dict[str, object]) -> None:
    check.findings_total += 1
    if len(check.findings) < MAX_RECORDED_FINDINGS:
        check.findings.append(found)


def _where(finding: ResponseFinding) -> dict[str, object] | None:
    if finding.location is None:
        return None
    return {k: v for k, v in asdict(finding.location).items() if v is not None}


def _finding_dict(finding: ResponseFinding) -> dict[str, object]:
    """A reader finding as JSON-ready data (amounts as decimal strings; no PHI)."""
    out: dict[str, object] = {
        "code": finding.code,
        "severity": str(finding.severity),
        "message": finding.message,
        "location": _where(finding),
    }
    if finding.claim_id is not None:
        out["claim_id"] = finding.claim_id
    if finding.line_number is not None:
        out["line_number"] = finding.line_number
    for name in ("expected", "actual", "difference"):
        value = getattr(finding, name)
        if value is not None:
            out[name] = str(value)
    if finding.hint:
        out["hint"] = finding.hint
    return out


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


def check_tr3(data: bytes | Path, name: str) -> Tr3Check:
    """Validate a response file (its bytes, or a path: streamed) with our TR3 validator
    (CPU-bound: call it off the event loop); never raises."""
    try:
        if isinstance(data, Path):
            with data.open("rb") as stream:
                result = validate(stream, file=name)
        else:
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


def _isa12(data: bytes | Path) -> str:
    """ISA12 of the file's first segment, read leniently ('' when it does not start with ISA)."""
    if isinstance(data, Path):
        with data.open("rb") as stream:
            return _isa12(stream.read(4096))
    for segment in read_segments(data):
        return read_isa(segment.elements).version.strip() if segment.tag == "ISA" else ""
    return ""


def _why_nothing(data: bytes, name: str) -> FileProblem:
    reader = read_segments(data)
    found = detect_transactions(reader)
    return _nothing_readable(found, list(reader.defects), name)


def _nothing_readable(found: Detected, defects: list[Defect], name: str) -> FileProblem:
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
