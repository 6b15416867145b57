"""``gateway build-837``: encounter files in, 837P/837I claim files out, checked against the TR3.

Every encounter is read against the contract and scrubbed first; claims with errors are reported
and left out, the rest are batched into one interchange per (trading partner, kind of claim).
Each file is written to a temporary name in the output folder, fsynced, made owner-only and
renamed into place. Unless ``--no-validate``, each file is checked first: by our TR3 validator
(``gateway.validation.validator``, read back from the file in chunks as soon as it is complete),
or with ``--reference pyx12`` by pyx12 in a worker thread while the next one is built. A file the
check finds errors in is kept as ``<name>.invalid`` instead (so that nothing picking up ``*.x12``
sends it). Exit 1 when a claim was left out or a file is invalid.

Control numbers (ISA13, GS06, ST02) come from the ledger of ``--config``, the same sequences
the service allocates from, so a file built here never repeats a number the service sent (and
the other way round). The build runs in a worker thread; the ledger stays on the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import io
import os
import sys
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.cli import EXIT_INVALID, EXIT_OK, UsageError
from gateway.cli._common import dumps, open_input
from gateway.cli.db import add_config_argument, run_with_ledger
from gateway.config import Settings
from gateway.edits import check_stream
from gateway.models import Encounter, Kind
from gateway.partners import PartnerConfigError, Partners, TradingPartner, load_partners
from gateway.transactions.batching import Batcher, Output
from gateway.transactions.claim837 import ClaimLeftOut, InterchangeSent
from gateway.transactions.control_numbers import ControlNumberAllocator, ControlNumberError
from gateway.validation.pyx12_adapter import Pyx12Report, check_in_thread
from gateway.validation.validator import validate
from gateway.x12 import Defect, Severity

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

KIND_LABEL = {kind: kind.label for kind in Kind}
#: What the summary calls each checker (``--reference`` picks pyx12).
CHECKER_LABEL = {"gateway": "gateway validator", "pyx12": "pyx12"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``build-837`` sub-command."""
    parser = subparsers.add_parser(
        "build-837",
        help="build 837P/837I claim files from encounter files",
        description="Read encounter files (.json: an object, an array or objects in a row; "
        ".jsonl: one per line; .xml), scrub every claim, build one 837 interchange per trading "
        "partner and kind of claim into DIR, and check each file against the implementation "
        "guide (our TR3 validator; pyx12 with --reference pyx12). Claims with errors are "
        "reported and left out; a file that fails the check is kept as NAME.invalid. Exit 1 "
        "when any claim was left out or a file failed the check.",
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="encounter files, or folders (their .json, .jsonl, .ndjson and .xml files)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="skip the TR3 check (for benchmarks and trusted pipelines)",
    )
    parser.add_argument(
        "--reference",
        choices=("pyx12",),
        help="check each file with pyx12 instead of our validator (the reference "
        "implementation; some 50 times slower)",
    )
    parser.add_argument(
        "--partners-dir",
        default="config/partners",
        metavar="DIR",
        help="trading partner files (default: config/partners)",
    )
    parser.add_argument(
        "--created",
        metavar="YYYY-MM-DDTHH:MM",
        help="date and time to stamp in ISA/GS/BHT (default: now, UTC)",
    )
    parser.add_argument(
        "--today",
        metavar="YYYY-MM-DD",
        help="the date the scrubber judges future dates against (default: today)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_config_argument(parser)  # its ledger hands out the control numbers
    parser.set_defaults(func=run)


@dataclass(frozen=True, slots=True)
class _Checked:
    """One file's verdict: which checker ran, ``ok`` when it found no error, its findings."""

    checker: str  # "gateway" or "pyx12"
    ok: bool
    defects: tuple[Defect, ...]

    @property
    def errors(self) -> int:
        """Findings that make the file invalid (warnings do not)."""
        return sum(1 for d in self.defects if d.severity is Severity.ERROR)


@dataclass
class _Written:
    path: Path
    sent: InterchangeSent
    check: Future[Pyx12Report] | None = None
    report: _Checked | None = None


@dataclass
class _FileOutputs:
    """Writes each interchange to a temporary owner-only file, then renames it into place."""

    folder: Path
    validate: bool
    reference: str | None = None  # "pyx12" to check with pyx12 instead of our validator
    written: list[_Written] = field(default_factory=list)
    _open: dict[int, tuple[Path, Path]] = field(default_factory=dict)

    def open(self, partner: TradingPartner, kind: Kind, isa13: str) -> Output:
        final = self.folder / f"{partner.name}-{KIND_LABEL[kind]}-{isa13}.x12"
        for existing in (final, final.with_name(final.name + ".invalid")):
            if existing.exists():
                raise UsageError(
                    f"{existing} already exists: ISA13 {isa13} was used before, so the ledger "
                    "handing out control numbers is not the one used for that folder (see --config)"
                )
        temp = self.folder / f".{final.name}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        stream = os.fdopen(fd, "w", encoding="utf-8", newline="", buffering=1 << 20)
        self._open[id(stream)] = (temp, final)
        return stream

    def close(self, output: Output, sent: InterchangeSent) -> None:
        assert isinstance(output, io.TextIOWrapper)
        temp, final = self._open.pop(id(output))
        output.flush()
        os.fsync(output.fileno())
        output.close()
        written = _Written(final, sent)
        if self.validate and self.reference == "pyx12":
            data = temp.read_bytes()
            written.check = check_in_thread(data, file=final.name)
            written.path = temp  # renamed once the check says where it goes
        elif self.validate:
            # ours is fast and reads the file in chunks: check it now, memory stays flat
            try:
                with temp.open("rb") as stream:
                    result = validate(stream, file=final.name)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            written.report = _Checked("gateway", result.ok, result.defects)
            if not result.ok:
                final = final.with_name(final.name + ".invalid")
            _publish(temp, final)
            written.path = final
        else:
            _publish(temp, final)
        self.written.append(written)

    def finish(self) -> None:
        """Wait for pyx12's checks; move each file to its name (``.invalid`` when it objects)."""
        for item in self.written:
            if item.check is None:
                continue
            report = item.check.result()
            item.report = _Checked("pyx12", report.ok, report.defects)
            final = self.folder / f"{item.path.name.removeprefix('.').removesuffix('.tmp')}"
            if not item.report.ok:
                final = final.with_name(final.name + ".invalid")
            _publish(item.path, final)
            item.path = final

    def discard(self) -> None:
        """Remove temporary files of interchanges never completed (after an error)."""
        temps = [temp for temp, _final in self._open.values()]
        temps += [w.path for w in self.written if w.check is not None and w.report is None]
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def _publish(temp: Path, final: Path) -> None:
    os.replace(temp, final)
    dir_fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass
class _Summary:
    read: int = 0
    left_out: list[dict[str, Any]] = field(default_factory=list)
    warnings: int = 0


def run(args: argparse.Namespace) -> int:
    """Run ``gateway build-837``."""
    try:
        partners = load_partners(Path(args.partners_dir))
    except PartnerConfigError as exc:
        raise UsageError(str(exc)) from exc
    if not len(partners):
        raise UsageError(f"{args.partners_dir}: no trading partner files (*.toml)")
    created = _parse_created(args.created)
    today = _parse_today(args.today)
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: is not a folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    inputs = _input_files(args.files)

    async def action(ledger: Ledger, _settings: Settings) -> int:
        from gateway.ledger.control_numbers import LedgerControlNumbers

        allocator = LedgerControlNumbers.for_running_loop(ledger)
        build = functools.partial(_build, args, partners, inputs, folder, created, today)
        return await asyncio.to_thread(build, allocator)

    return run_with_ledger(args, action, create=True)


def _build(
    args: argparse.Namespace,
    partners: Partners,
    inputs: list[str],
    folder: Path,
    created: datetime,
    today: date,
    allocator: ControlNumberAllocator,
) -> int:
    """Read, batch, write and check (in a worker thread: ``allocator`` waits on the ledger)."""
    outputs = _FileOutputs(folder, validate=not args.no_validate, reference=args.reference)
    # the per-claim record is only printed with --json; without it memory stays flat
    batcher = Batcher(partners, allocator, outputs, created=created, keep_claims=args.json)
    summary = _Summary()
    seen: set[tuple[str, str]] = set()  # (CLM01, CLM05-3): a void may reuse an original's id
    try:
        for path in inputs:
            for source, encounter, problems in _read(path, today, summary):
                if encounter is None:
                    summary.left_out.append(problems)
                    continue
                key = (encounter.claim_id, encounter.frequency.value)
                if key in seen:
                    summary.left_out.append(
                        {
                            "claim_id": encounter.claim_id,
                            "source": source,
                            "reasons": [
                                {
                                    "code": "DUPLICATE-CLAIM-ID",
                                    "path": "claim_id",
                                    "message": "a claim with this id and frequency was already "
                                    "built in this run",
                                }
                            ],
                        }
                    )
                    continue
                seen.add(key)
                batcher.add(encounter, source=source)
        batcher.close()
    except ControlNumberError as exc:
        outputs.discard()
        raise UsageError(str(exc)) from exc
    except BaseException:
        outputs.discard()
        raise
    outputs.finish()
    summary.left_out.extend(_left_out_dict(item) for item in batcher.left_out)
    return _report(args, outputs, summary)


_SUFFIXES = (".json", ".jsonl", ".ndjson", ".xml")


def _input_files(names: list[str]) -> list[str]:
    """The files named, with each folder replaced by its encounter files (sorted, no dotfiles)."""
    files: list[str] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            files += [
                str(p)
                for p in sorted(path.iterdir())
                if p.is_file() and p.suffix.lower() in _SUFFIXES and not p.name.startswith(".")
            ]
        elif path.is_file():
            files.append(name)
        else:
            raise UsageError(f"{name}: no such file or folder")
    return files


def _read(
    path: str, today: date, summary: _Summary
) -> Iterator[tuple[str, Encounter | None, dict[str, Any]]]:
    """(source, encounter or None, why it was left out) for every encounter of a file.

    Reading and the contract and scrubber checks are ``gateway.edits.check_stream``'s.
    """
    with open_input(path) as stream:
        for result in check_stream(stream, name=path, today=today):
            record = result.record
            summary.read += 1
            source = f"{path}[{record.index}]"
            problems = [f for f in result.findings if f.is_error]
            summary.warnings += len(result.findings) - len(problems)
            encounter = record.encounter
            if problems or encounter is None:
                yield (
                    source,
                    None,
                    {
                        "claim_id": record.claim_id,
                        "source": source,
                        "line": record.line,
                        "reasons": [
                            {
                                "code": str(f.code),
                                "path": f.path,
                                "message": f.message,
                                "line": f.line,
                            }
                            for f in problems
                        ],
                    },
                )
                continue
            yield source, encounter, {}


def _left_out_dict(item: ClaimLeftOut) -> dict[str, Any]:
    return {
        "claim_id": item.claim_id,
        "source": item.source,
        "reasons": [{"code": "BUILD", "path": item.path, "message": item.reason}],
    }


def _report(args: argparse.Namespace, outputs: _FileOutputs, summary: _Summary) -> int:
    files = outputs.written
    claims = sum(w.sent.claim_count for w in files)
    total = sum((w.sent.total_charge for w in files), Decimal(0))
    invalid = [w for w in files if w.report is not None and not w.report.ok]
    if args.json:
        print(
            dumps(
                {
                    "encounters_read": summary.read,
                    "files": [_file_dict(w) for w in files],
                    "claims": claims,
                    "total_charge": total,
                    "left_out": summary.left_out,
                    "warnings": summary.warnings,
                },
                indent=2,
            )
        )
    else:
        out = sys.stdout
        out.write(
            f"{len(files)} file(s), {claims} claim(s), total charges {total:.2f}"
            f" ({summary.read} encounter(s) read, {len(summary.left_out)} left out,"
            f" {summary.warnings} warning(s))\n"
        )
        for w in files:
            sent = w.sent
            verdict = "not checked"
            if w.report is not None:
                label = CHECKER_LABEL[w.report.checker]
                verdict = f"{label} ok" if w.report.ok else f"{label}: {w.report.errors} error(s)"
            out.write(
                f"  {w.path}  {KIND_LABEL[sent.kind]}  ISA13 {sent.isa13}  GS06 {sent.gs06}  "
                f"{len(sent.transactions)} set(s)  {sent.claim_count} claim(s)  "
                f"{sent.total_charge:.2f}  {verdict}\n"
            )
            if w.report is not None:
                for defect in w.report.defects[:50]:
                    out.write(f"    {defect}\n")
        if summary.left_out:
            out.write("left out:\n")
            for item in summary.left_out:
                claim = item.get("claim_id") or "(no claim id)"
                for reason in item["reasons"] or [{"code": "", "path": "", "message": ""}]:
                    where = f" {reason['path']}" if reason["path"] else ""
                    line = f" line {reason['line']}" if reason.get("line") else ""
                    out.write(
                        f"  {item['source']}{line} claim {claim}: {reason['code']}{where}: "
                        f"{reason['message']}\n"
                    )
    return EXIT_INVALID if summary.left_out or invalid else EXIT_OK


def _file_dict(w: _Written) -> dict[str, Any]:
    data = w.sent.as_dict()
    data["path"] = str(w.path)
    if w.report is not None:
        data["checker"] = w.report.checker
        data["valid"] = w.report.ok
        data["defects"] = [d.as_dict() for d in w.report.defects]
    return data


def _parse_created(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--created {text!r}: expected YYYY-MM-DDTHH:MM") from exc


def _parse_today(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--today {text!r}: expected YYYY-MM-DD") from exc
