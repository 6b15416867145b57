"""The correction files: ``corrections/<claim_id>.json``, one per open correction item.

The one place they are written (owner-only, atomic) and removed. The service syncs the folder
after intake and after each response; the ``gateway queue`` and ``gateway responses`` commands
call the same functions after a person acts on a claim.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.ledger.correction_rules import (
    REJECTION_KEY,
    QueueRuleError,
    correction_file_name,
    correction_text,
)
from gateway.ledger.records import QueueItem
from gateway.service.files import atomic_write

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

__all__ = ["remove_correction_file", "sync_correction_files", "write_correction_file"]


def write_correction_file(folder: Path, item: QueueItem) -> Path:
    """Write ``corrections/<claim_id>.json`` for an open item (atomic, owner-only)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / correction_file_name(item.claim_id)
    return atomic_write(path, correction_text(item).encode("utf-8"))


def remove_correction_file(folder: Path, claim_id: str) -> bool:
    """Remove the claim's correction file once its item is closed; whether one was there."""
    try:
        path = folder / correction_file_name(claim_id)
    except QueueRuleError:
        return False
    if path.is_symlink() or not path.is_file():
        return False
    path.unlink()
    return True


async def sync_correction_files(ledger: Ledger, folder: Path) -> tuple[int, int]:
    """Make ``folder`` hold exactly one file per open item: (files written, files removed).

    A file is rewritten when its item changed (new reasons, new version); files of items that are
    no longer open are removed (the claim was resubmitted, voided or resolved).
    """
    items = await ledger.open_items()
    written = removed = 0
    wanted: set[str] = set()
    for item in items:
        try:
            name = correction_file_name(item.claim_id)
        except QueueRuleError:
            continue
        wanted.add(name)
        path = folder / name
        fresh = correction_text(item)
        try:
            current = path.read_text(encoding="utf-8") if path.is_file() else None
        except OSError:
            current = None
        if current != fresh:
            await asyncio.to_thread(write_correction_file, folder, item)
            written += 1
    if folder.is_dir():
        for path in folder.glob("*.json"):
            if path.name in wanted or path.is_symlink():
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and REJECTION_KEY in data:  # only files we wrote
                path.unlink()
                removed += 1
    return written, removed
