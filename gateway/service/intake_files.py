"""Small file steps of encounter intake: the ends of a file (is it complete?), its first bytes
(its format), and the on-disk count of attempts at it (a process killed while reading a file
counts too). Synchronous; the service calls them through ``asyncio.to_thread``."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.encounters.completeness import FULL_CHECK_BYTES, HEAD_BYTES, TAIL_BYTES
from gateway.service.files import atomic_write, ensure_private_dir

__all__ = ["file_ends", "file_head", "note_attempt"]


def note_attempt(marker: Path) -> int:
    """Count one more attempt at a file in ``marker`` (kept until the attempt ends, so that a
    process killed while reading it is counted across restarts); returns the count."""
    ensure_private_dir(marker.parent)
    try:
        count = int(marker.read_text(encoding="ascii").strip() or 0) + 1
    except (OSError, ValueError):
        count = 1
    atomic_write(marker, str(count).encode("ascii"))
    return count


def file_ends(path: Path) -> tuple[bytes, bytes, bytes | None] | None:
    """The first and last bytes of a file, and all of it when small (None when it is gone)."""
    try:
        with open(path, "rb", opener=_nofollow) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size <= FULL_CHECK_BYTES:
                whole = handle.read(FULL_CHECK_BYTES + 1)
                return whole[:HEAD_BYTES], whole[-TAIL_BYTES:], whole
            head = handle.read(HEAD_BYTES)
            handle.seek(max(0, size - TAIL_BYTES))
            return head, handle.read(TAIL_BYTES), None
    except OSError:
        return None


def file_head(path: Path, size: int = 512) -> bytes:
    """The first bytes of a file (to tell its format)."""
    with open(path, "rb", opener=_nofollow) as handle:
        return handle.read(size)


def _nofollow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))
