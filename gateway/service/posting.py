"""Posting responses to the ledger: pass 2 of applying a response file, and releasing held files.

``post_response`` streams the file a second time (pass 1 is
``gateway.service.responses.check_response_file``) and applies it in bounded memory: a TA1 or 999
document at a time, a 277CA or an 835 in batches of about ``BATCH_CLAIMS`` claims (consecutive
sets share a batch; a small file is one), each batch applied in its own ledger transaction under a
key derived from the file's hash and the batch number (``unit_hash``), so a restart after a crash
applies the rest and nothing twice. The claims of an
835 set held for review (it does not balance) are not posted: each gets an event and a correction
item saying which balance failed and by how much (``Ledger.hold_claims``).

``release_held_file`` is what ``gateway responses release`` runs once a person has reviewed a held
835: it closes the hold items, posts the held sets as the payer sent them (each batch once, by the
same keys), records who released it and why, and archives the file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from gateway.config import Settings
from gateway.ledger.reconcile import Document, Response, responses_in
from gateway.ledger.records import FileRecord, HeldClaim, Reason
from gateway.ledger.store import Ledger
from gateway.models.acknowledgements import (
    ClaimAcknowledgement,
    ClaimAcknowledgementDocument,
    ImplementationAcknowledgementDocument,
    InterchangeAcknowledgementDocument,
)
from gateway.models.remittance import Claim, Remittance, RemittanceHeader
from gateway.models.responses import ResponseFinding
from gateway.service.files import ERROR_SUFFIX, archive_file, move_no_overwrite, sha256_file_sync
from gateway.service.responses import (
    HeldSet,
    ResponseCheck,
    check_response_file,
    document_hash,
    unit_hash,
)
from gateway.service.submit import crash_point
from gateway.transactions.ack999 import read_implementation_acknowledgement
from gateway.transactions.claim_ack import (
    read_claim_acknowledgement,
    read_claim_acknowledgement_parts,
)
from gateway.transactions.remittance import RemittanceReader
from gateway.transactions.ta1 import read_interchange_acknowledgement
from gateway.x12 import read_segments

__all__ = [
    "BATCH_CLAIMS",
    "LEDGER_KINDS",
    "PostingTotals",
    "ReleaseError",
    "ReleaseResult",
    "dismiss_held_file",
    "find_response_file",
    "held_files",
    "post_response",
    "release_held_file",
]

#: Claims of an 835 or a 277CA applied per ledger transaction (bounds memory and transaction size).
BATCH_CLAIMS = 500
#: The kind the ledger records for each kind ``detect_transactions`` names.
LEDGER_KINDS = {"835": "835", "277CA": "277CA", "277": "277CA", "999": "999", "997": "999",
                "TA1": "TA1"}  # fmt: skip
_REASONS_PER_CLAIM = 10
_RELEASE_ACTION = (
    "review the amounts; `gateway responses release <file id> --note TEXT` posts the set as the "
    "payer sent it, or ask the payer for a corrected 835"
)

_log = structlog.get_logger("gateway.service.posting")


class ReleaseError(Exception):
    """A held file cannot be released (the message says why and what to do)."""


@dataclass(frozen=True, slots=True)
class _Apply:
    kind: str
    key: str
    views: list[Response]
    document: Document | None  # for the log's control numbers (TA1/999/277CA only)


@dataclass(frozen=True, slots=True)
class _Hold:
    held: HeldSet
    claims: list[Claim]


@dataclass
class PostingTotals:
    """What posting a file (or releasing it) did."""

    applied: int = 0  # units applied (not duplicates)
    duplicates: int = 0  # units already applied before (a restart, a second release)
    events: int = 0
    state_changes: int = 0
    skipped: int = 0
    unmatched: int = 0
    opened_items: int = 0
    held_claims: int = 0  # claims given a hold item
    held_unknown: int = 0  # claims of held sets the ledger does not have
    by_kind: dict[str, int] = field(default_factory=dict)  # kind -> state changes

    def as_dict(self) -> dict[str, object]:
        """JSON-ready totals for the file's record."""
        return {
            "applied": self.applied,
            "duplicates": self.duplicates,
            "events": self.events,
            "state_changes": self.by_kind,
            "unmatched": self.unmatched,
            "correction_items_opened": self.opened_items,
            "held_claims": self.held_claims,
        }


def _units(
    path: Path, digest: str, check: ResponseCheck, *, held_only: bool
) -> Generator[_Apply | _Hold, None, None]:
    """What to apply (or hold), in file order, one document or one batch of claims at a time."""
    for index, detected in enumerate(check.kinds):
        kind = LEDGER_KINDS[detected]
        if kind == "277CA":
            if not held_only:
                yield from _claim_ack_units(path, digest, index)
            continue
        if kind != "835":
            if held_only:
                continue
            document = _read_document(path, detected)
            yield _Apply(kind, document_hash(digest, index, kind), responses_in(document), document)
            continue
        yield from _remittance_units(path, digest, index, check, held_only=held_only)


def _read_document(path: Path, kind: str) -> Document:
    with path.open("rb") as stream:
        segments = read_segments(stream)
        if kind in ("277CA", "277"):
            return read_claim_acknowledgement(segments)
        if kind in ("999", "997"):
            return read_implementation_acknowledgement(segments)
        return read_interchange_acknowledgement(segments)


def _claim_ack_units(path: Path, digest: str, index: int) -> Iterator[_Apply]:
    """A 277CA's claims in batches of about ``BATCH_CLAIMS``, cut and keyed as an 835's are
    (``unit_hash``): the parts of consecutive sets join a batch until it is full. A file of fewer
    claims is one batch, applied under the document's key as before; each claim's statuses are
    applied on their own, so a batch boundary changes nothing in what is posted."""
    pending: list[Response] = []
    acks: list[ClaimAcknowledgement] = []
    pending_claims = 0
    number = 0

    def flush() -> _Apply:
        nonlocal pending, acks, pending_claims, number
        key = unit_hash(digest, index, "277CA", number)
        document = ClaimAcknowledgementDocument(acknowledgements=acks)
        unit = _Apply("277CA", key, pending, document)
        pending, acks, pending_claims, number = [], [], 0, number + 1
        return unit

    with path.open("rb") as stream:
        taken = 0  # claims of the current set already in a batch
        parts = read_claim_acknowledgement_parts(read_segments(stream), BATCH_CLAIMS)
        for part, last in parts:
            if last and not part.claims and taken:
                taken = 0
                continue  # the set's end right after a full batch: nothing left of it
            taken = 0 if last else taken + len(part.claims)
            pending.append(part)
            if not acks or acks[-1].envelope != part.envelope:
                acks.append(ClaimAcknowledgement(envelope=part.envelope))
            pending_claims += len(part.claims)
            if pending_claims >= BATCH_CLAIMS:
                yield flush()
    if pending:
        yield flush()


def _remittance_units(
    path: Path, digest: str, index: int, check: ResponseCheck, *, held_only: bool
) -> Iterator[_Apply | _Hold]:
    """An 835's claims in batches of about ``BATCH_CLAIMS``: the views of consecutive sets (or
    parts of a set) to apply together, and the claims of held sets to hold. A file of fewer
    claims is one batch, applied under the document's key as before."""
    pending: list[Response] = []
    pending_claims = 0
    number = 0

    def flush() -> _Apply:
        nonlocal pending, pending_claims, number
        key = unit_hash(digest, index, "835", number, release=held_only)
        unit = _Apply("835", key, pending, None)
        pending, pending_claims, number = [], 0, number + 1
        return unit

    with path.open("rb") as stream:
        set_index = -1
        header: RemittanceHeader | None = None
        held: HeldSet | None = None
        batch: list[Claim] = []
        taken = 0
        for item in RemittanceReader(read_segments(stream)):
            if isinstance(item, RemittanceHeader):
                set_index += 1
                header = item
                held = check.held_sets.get(set_index)
                batch = []
                taken = 0  # claims of this set already in a batch
                continue
            if isinstance(item, Claim):
                batch.append(item)
                if len(batch) < BATCH_CLAIMS:
                    continue
            elif not batch and taken:
                continue  # the set's end right after a full batch: nothing left of it
            assert header is not None
            taken += len(batch)
            if held is not None and not held_only:
                if batch:
                    yield _Hold(held, batch)
            elif (held is not None) == held_only:
                # a set's end, or a full batch: (a part of) the set joins the pending views
                pending.extend(responses_in(Remittance(header=header, claims=batch)))
                pending_claims += len(batch)
                if pending_claims >= BATCH_CLAIMS:
                    yield flush()
            batch = []
    if pending:
        yield flush()


def _hold_claims(held: HeldSet, claims: list[Claim], digest: str, name: str) -> list[HeldClaim]:
    """Each claim of a held set, with the findings that hold it as correction reasons."""
    set_level = [f for f in held.findings if f.claim_id is None]
    own: dict[str, list[ResponseFinding]] = {}
    for finding in held.findings:
        if finding.claim_id is not None:
            own.setdefault(finding.claim_id, []).append(finding)
    others = sorted(own)
    where_set = f"835 transaction set ST02 {held.st02} (TRN02 {held.trace_number}) of {name}"
    out: list[HeldClaim] = []
    for claim in claims:
        reasons = [_reason(f, where_set) for f in own.get(claim.claim_id, [])]
        reasons += [_reason(f, where_set) for f in set_level]
        if not reasons:
            named = ", ".join(others[:5]) + (" ..." if len(others) > 5 else "")
            reasons.append(
                Reason(
                    "835-HELD-SET",
                    f"this claim balances, but its transaction set is held: claim(s) {named} in "
                    "it do not (the set's payment, BPR02, is their sum)",
                    where_set,
                    _RELEASE_ACTION,
                )
            )
        codes = sorted({r.code for r in reasons})
        out.append(
            HeldClaim(
                claim.claim_id,
                f"835-held:{digest}:{held.index}:{claim.claim_id}",
                f"835 held for review, nothing posted: {', '.join(codes)} in transaction set "
                f"{held.st02} (TRN02 {held.trace_number}); shows paid {claim.paid_amount} of "
                f"{claim.total_charge}",
                tuple(reasons[:_REASONS_PER_CLAIM]),
                {
                    "file": name,
                    "st02": held.st02,
                    "trace_number": held.trace_number,
                    "status_code": claim.status_code,
                    "charge": str(claim.total_charge),
                    "paid": str(claim.paid_amount),
                },
            )
        )
    return out


def _reason(finding: ResponseFinding, where_set: str) -> Reason:
    where = f"{finding.location} in {where_set}" if finding.location is not None else where_set
    meaning = finding.message
    if finding.difference is not None:
        meaning += f" (off by {finding.difference})"
    return Reason(finding.code, meaning, where, _RELEASE_ACTION)


async def post_response(
    ledger: Ledger,
    path: Path,
    digest: str,
    check: ResponseCheck,
    *,
    file_id: int | None,
    name: str,
    held_only: bool = False,
    summary: Mapping[str, Any] | None = None,
) -> PostingTotals:
    """Pass 2: apply the file at ``path`` (checked by ``check``) to the ledger, streamed.

    Without ``held_only``, every document and every 835 set not held is applied and the claims
    of held sets get their hold item; with it (a release), only the held sets are applied.
    """
    totals = PostingTotals()
    units = _units(path, digest, check, held_only=held_only)
    try:
        while True:
            unit = await asyncio.to_thread(next, units, None)
            if unit is None:
                break
            if isinstance(unit, _Hold):
                holds = await asyncio.to_thread(_hold_claims, unit.held, unit.claims, digest, name)
                opened, unknown = await ledger.hold_claims(holds, file_id=file_id)
                totals.held_claims += len(opened)
                totals.held_unknown += len(unknown)
                continue
            result = await ledger.apply_response(
                unit.views, content_hash=unit.key, kind=unit.kind, file_id=file_id, summary=summary
            )
            totals.applied += 0 if result.duplicate else 1
            totals.duplicates += 1 if result.duplicate else 0
            totals.events += result.applied
            totals.state_changes += result.state_changes
            totals.skipped += result.skipped
            totals.unmatched += len(result.unmatched)
            totals.opened_items += len(result.opened_items)
            totals.by_kind[unit.kind] = totals.by_kind.get(unit.kind, 0) + result.state_changes
            for item in result.unmatched[:20]:
                _log.warning(
                    "response part matches nothing we sent; kept as unmatched",
                    kind=unit.kind,
                    reference=item.reference,
                    reason=item.reason,
                )
            _log.info(
                "response applied",
                kind=unit.kind,
                control_numbers=_control_numbers(unit),
                duplicate=result.duplicate,
                events=result.applied,
                state_changes=result.state_changes,
                skipped=result.skipped,
                unmatched=len(result.unmatched),
                correction_items_opened=list(result.opened_items[:20]),
            )
            crash_point("after-apply")
    finally:
        units.close()
    return totals


def _control_numbers(unit: _Apply) -> dict[str, list[str]]:
    """The control numbers a response carries and answers (for the log; never PHI)."""
    document = unit.document
    isa13: set[str] = set()
    answers_isa13: list[str] = []
    answers_gs06: list[str] = []
    if isinstance(document, InterchangeAcknowledgementDocument):
        answers_isa13 = [a.control_number for a in document.acknowledgements]
    elif isinstance(document, ImplementationAcknowledgementDocument):
        for ack in document.acknowledgements:
            isa13.add(ack.envelope.interchange_control_number)
            answers_gs06 += [g.group_control_number for g in ack.groups]
    elif isinstance(document, ClaimAcknowledgementDocument):
        isa13 = {a.envelope.interchange_control_number for a in document.acknowledgements}
    out = {"isa13": sorted(i for i in isa13 if i)}
    if answers_isa13:
        out["answers_isa13"] = answers_isa13[:20]
    if answers_gs06:
        out["answers_gs06"] = answers_gs06[:20]
    return out


# ------------------------------------------------------------------------------ held files


async def held_files(ledger: Ledger) -> list[FileRecord]:
    """Every response file that is held, oldest first."""
    return await ledger.files(status="held")


async def find_response_file(ledger: Ledger, ident: str) -> FileRecord:
    """The file named by ``ident``: its ledger id, its name (or a path ending in it), or the
    start of its content hash (``ReleaseError`` when none or several match)."""
    text = ident.strip()
    if text.isascii() and text.isdigit():
        record = await ledger.file(int(text))
        if record is None:
            raise ReleaseError(f"no file with id {text} in the ledger")
        return record
    name = Path(text).name
    candidates = [
        r
        for r in await ledger.files()
        if r.direction == "in"
        and (
            r.name == name
            or (r.archive_path is not None and Path(r.archive_path).name == name)
            or (len(text) >= 8 and r.content_hash.startswith(text.lower()))
        )
    ]
    held = [r for r in candidates if r.status == "held"]
    if len(held) == 1:
        return held[0]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ReleaseError(f"no response file named {name!r} in the ledger")
    ids = ", ".join(str(r.id) for r in candidates[:10])
    raise ReleaseError(f"several files are named {name!r} (ids {ids}): give the file id")


@dataclass(frozen=True)
class ReleaseResult:
    """What releasing a held file did."""

    file_id: int
    name: str
    sets: int
    claims: int
    totals: PostingTotals
    items_closed: int
    archived_as: Path


async def release_held_file(
    ledger: Ledger, settings: Settings, ident: str, *, note: str, by: str
) -> ReleaseResult:
    """Post a held 835's held sets as the payer sent them, once, and archive the file."""
    record = await find_response_file(ledger, ident)
    detail = dict(record.detail or {})
    if record.status != "held":
        released = detail.get("release")
        if isinstance(released, Mapping):
            raise ReleaseError(
                f"file {record.id} ({record.name}) was already released on {released.get('at')} "
                f"by {released.get('by')}: nothing applied again"
            )
        raise ReleaseError(
            f"file {record.id} ({record.name}) is {record.status}, not held: nothing to release"
        )
    if detail.get("hold") == "incomplete":
        raise ReleaseError(
            f"file {record.id} ({record.name}) is incomplete as received (a set, group or "
            "interchange is cut or its trailers disagree): it can never be applied. Ask the "
            "clearinghouse for the complete file; it is applied in full when it arrives."
        )
    path = _held_path(record, settings)
    digest = await asyncio.to_thread(sha256_file_sync, path)
    if digest != record.content_hash:
        raise ReleaseError(
            f"{path} no longer holds the content the ledger recorded for file {record.id} (its "
            "SHA-256 differs): it was changed after it was held. Put the original back."
        )
    check = await asyncio.to_thread(check_response_file, path, record.name)
    if check.incomplete or check.problem is not None:
        raise ReleaseError(f"{path} is not a complete response: it cannot be released")
    if not check.held_sets:
        raise ReleaseError(f"file {record.id} ({record.name}) holds no set out of balance")
    text = f"released by {by}: {note}" if note else f"released by {by}"
    closed = await ledger.release_held_items(record.id, text)
    totals = await post_response(
        ledger,
        path,
        digest,
        check,
        file_id=record.id,
        name=record.name,
        held_only=True,
        summary={"released_by": by, "note": note},
    )
    moment = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    detail["release"] = {
        "by": by,
        "note": note,
        "at": moment,
        "sets": sorted(h.st02 for h in check.held_sets.values()),
        "claims": check.held_claims,
        "items_closed": closed,
        "posting": totals.as_dict(),
    }
    await ledger.update_file(record.id, status="applied", detail=detail)
    target = await asyncio.to_thread(_archive_held, path, settings.workspace.archive)
    await ledger.update_file(record.id, archive_path=str(target))
    _log.warning(
        "held response released and applied",
        file_id=record.id,
        file=record.name,
        by=by,
        sets=detail["release"]["sets"],
        claims=check.held_claims,
        state_changes=totals.state_changes,
    )
    return ReleaseResult(
        record.id, record.name, len(check.held_sets), check.held_claims, totals, closed, target
    )


async def dismiss_held_file(
    ledger: Ledger, settings: Settings, ident: str, *, note: str, by: str
) -> tuple[FileRecord, int, Path]:
    """Put a held file away without applying its held part (the payer sent a corrected file, or
    the complete copy came under another interchange number): its hold items close, who and why
    are recorded, and the file is archived. Returns the record, items closed, and where it went."""
    record = await find_response_file(ledger, ident)
    if record.status != "held":
        raise ReleaseError(
            f"file {record.id} ({record.name}) is {record.status}, not held: nothing to dismiss"
        )
    path = _held_path(record, settings)
    text = f"dismissed by {by}: {note}" if note else f"dismissed by {by}"
    closed = await ledger.release_held_items(record.id, text, by="dismissed")
    detail = dict(record.detail or {})
    moment = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    detail["dismissal"] = {"by": by, "note": note, "at": moment, "items_closed": closed}
    await ledger.update_file(record.id, status="dismissed", detail=detail)
    target = await asyncio.to_thread(_archive_held, path, settings.workspace.archive)
    await ledger.update_file(record.id, archive_path=str(target))
    _log.warning(
        "held response dismissed: its held part is never applied",
        file_id=record.id,
        file=record.name,
        by=by,
        items_closed=closed,
    )
    return record, closed, target


def _held_path(record: FileRecord, settings: Settings) -> Path:
    """Where the held file is kept: its recorded place, else the quarantine folder by name."""
    if record.archive_path:
        path = Path(record.archive_path)
        if path.is_file():
            return path
    candidate = settings.workspace.quarantine / record.name
    if candidate.is_file() and sha256_file_sync(candidate) == record.content_hash:
        return candidate
    raise ReleaseError(
        f"the held file {record.id} ({record.name}) is not where the ledger says "
        f"({record.archive_path or 'no place recorded'}); put it back and try again"
    )


def _archive_held(path: Path, archive_root: Path) -> Path:
    """Move a released file into the archive, its ``.error.json`` beside it (kept as a record)."""
    target = archive_file(path, archive_root)
    error = path.with_name(path.name + ERROR_SUFFIX)
    if error.is_file():
        move_no_overwrite(error, target.parent, target.name + ERROR_SUFFIX)
    target.chmod(0o600)
    return target
