"""The quarantine record of encounters that could not be read from a file otherwise taken.

A file whose good encounters were recorded but some of which could not be (bad UTF-8, broken
JSON, nesting too deep, a claim id outside the contract...) leaves a record in ``quarantine/``:

- ``<name>.unreadable.jsonl``: for JSON Lines files, the unreadable lines themselves, byte for
  byte, in file order (fix them and drop the file into the inbox again; the claims of the good
  lines were recorded, and a claim id is recorded once);
- ``<name>.unreadable.jsonl.error.json`` (JSON Lines) or ``<name>.unreadable.error.json`` (JSON,
  XML): every unreadable encounter's index, line and findings (the first 1,000 in full), the
  file's hash, and for JSON and XML the line where reading stopped when a syntax error ended it
  (the file itself is archived as usual).

Nothing here touches the ledger; the service records the report (``kind = "unreadable"``) so
that ``gateway status`` counts the encounters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.durable import ensure_private_dir, fsync_directory, private_temp
from gateway.service.files import move_no_overwrite
from gateway.service.intake import UnreadableLog

__all__ = ["UNREADABLE_KIND", "record_name", "write_unreadable_record"]

#: The ``files.kind`` of an unreadable-encounters record in the ledger.
UNREADABLE_KIND = "unreadable"
_MAX_BASE = 150  # leaves room for the suffixes within the 255 bytes a file name may have


def record_name(name: str) -> str:
    """The base name of a file's unreadable record (long names shortened with a hash)."""
    if len(name.encode("utf-8", "surrogateescape")) <= _MAX_BASE:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{name[:100]}-{digest}"


def _copy_lines(source: Path, lines: Any, folder: Path, name: str) -> Path:
    """Copy the given line numbers (ascending) of ``source`` into ``folder/name``, streamed."""
    wanted = iter(sorted(set(lines)))
    with source.open("rb") as handle, private_temp(folder, name) as (out, temp):
        target = next(wanted, None)
        for number, raw in enumerate(handle, start=1):
            if target is None:
                break
            if number == target:
                out.write(raw if raw.endswith(b"\n") else raw + b"\n")
                target = next(wanted, None)
    try:
        return move_no_overwrite(temp, folder, name)
    finally:
        temp.unlink(missing_ok=True)


def write_unreadable_record(
    source: Path,
    name: str,
    quarantine_dir: Path,
    unreadable: UnreadableLog,
    *,
    json_lines: bool,
    detail: Mapping[str, Any],
    stopped_at: int | None = None,
) -> tuple[Path | None, Path]:
    """Write the quarantine record (see the module); returns (the lines file or None, the
    report). ``source`` is the file as taken (read again for its bad lines); ``detail`` is added
    to the report (the file's hash, where it was archived...)."""
    ensure_private_dir(quarantine_dir)
    base = record_name(name)
    lines_path: Path | None = None
    if json_lines and len(unreadable.lines):
        lines_path = _copy_lines(
            source, unreadable.lines, quarantine_dir, f"{base}.unreadable.jsonl"
        )
    stopped = (
        f" Reading stopped at line {stopped_at}: the encounters after it were not read either; "
        "fix the file there and drop it into the inbox again (claims already recorded from it "
        "are not recorded twice)."
        if stopped_at is not None
        else ""
    )
    report = {
        "file": name,
        "unreadable_records": unreadable.count,
        "reading_stopped_at_line": stopped_at,
        "lines": list(unreadable.lines[:10_000]),
        "lines_file": lines_path.name if lines_path is not None else None,
        "written_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        **detail,
        "what_to_do": (
            "These encounters of the file were not recorded (the others were). Fix each at the "
            "line given (`gateway check FILE` lists every problem) and drop the fixed encounters "
            "into the inbox again"
            + (f" ({lines_path.name} holds exactly those lines)." if lines_path else ".")
            + stopped
        ),
        "records": unreadable.as_dict(),
    }
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    stem = lines_path.name if lines_path is not None else f"{base}.unreadable"
    with private_temp(quarantine_dir, f"{stem}.error.json") as (out, temp):
        out.write(text.encode("utf-8"))
    try:
        report_path = move_no_overwrite(temp, quarantine_dir, f"{stem}.error.json")
    finally:
        temp.unlink(missing_ok=True)
    fsync_directory(quarantine_dir)
    return lines_path, report_path
