"""Read and scrub in one pass: every encounter of a file with all of its findings, located.

This is what ``gateway check`` prints and what intake records: reading findings (syntax, schema)
and scrubber findings together, each with the file and, where known, the line (XML elements have
their own lines; for JSON, the record gives the line where the encounter starts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from gateway.codes.dated import DatedCodes
from gateway.edits.findings import Finding
from gateway.edits.scrubber import scrub
from gateway.encounters.contract import EncounterRecord, position_of
from gateway.encounters.partial import withheld
from gateway.encounters.reader import EncounterFormat, read_encounter_file, read_encounters
from gateway.models.encounter import Encounter

__all__ = ["CheckResult", "check_file", "check_record", "check_stream"]


@dataclass(frozen=True)
class CheckResult:
    """One encounter of a file and every finding about it (reading and scrubbing)."""

    record: EncounterRecord
    findings: tuple[Finding, ...]

    @property
    def encounter(self) -> Encounter | None:
        """The encounter, when it could be read."""
        return self.record.encounter

    @property
    def claim_id(self) -> str | None:
        """The claim id, when known (even for an encounter that failed the contract)."""
        return self.record.claim_id

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings that block the claim."""
        return tuple(f for f in self.findings if f.is_error)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings that do not block the claim."""
        return tuple(f for f in self.findings if not f.is_error)

    @property
    def status(self) -> str:
        """``errors``, ``warnings`` or ``clean``."""
        if self.errors or self.encounter is None:
            return "errors"
        return "warnings" if self.findings else "clean"


def check_record(
    record: EncounterRecord, *, today: date | None = None, cpt: DatedCodes | None = None
) -> CheckResult:
    """Scrub a read encounter and locate every finding in its file.

    An encounter the contract refused only for optional fields is scrubbed without them, so all
    its other problems are reported too (it stays invalid: ``encounter`` is None). ``cpt`` is the
    practice's CPT list (``[codes] cpt_file``), when it has one.
    """
    found = list(record.findings)
    target = record.encounter or record.partial
    if target is not None:
        for item in scrub(target, today=today, cpt=cpt):
            if record.encounter is None and withheld(item.path, record.left_out):
                continue
            line = position_of(item.path, record.positions, None)
            found.append(item.located(record.source, line))
    return CheckResult(record, tuple(found))


def check_stream(
    stream: BinaryIO,
    *,
    name: str = "<input>",
    fmt: EncounterFormat | None = None,
    today: date | None = None,
    cpt: DatedCodes | None = None,
) -> Iterator[CheckResult]:
    """Check every encounter of a binary stream."""
    for record in read_encounters(stream, name=name, fmt=fmt):
        yield check_record(record, today=today, cpt=cpt)


def check_file(
    path: str | Path, *, today: date | None = None, cpt: DatedCodes | None = None
) -> Iterator[CheckResult]:
    """Check every encounter of the file at ``path``."""
    for record in read_encounter_file(path):
        yield check_record(record, today=today, cpt=cpt)
