"""Helpers shared by the sub-commands: opening input files, printing JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, BinaryIO

from gateway.cli import UsageError
from gateway.models.jsonable import json_default


def open_input(path: str) -> BinaryIO:
    """Open a file given on the command line for binary reading, or raise a ``UsageError``."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{path}: no such file")
    if p.is_dir():
        raise UsageError(f"{path}: is a folder, not a file")
    try:
        return p.open("rb")
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from exc


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text with Decimal as strings and dates as ISO 8601."""
    return json.dumps(value, default=json_default, indent=indent, ensure_ascii=False)


def stdout_is_terminal() -> bool:
    """Whether standard output is a terminal (for choosing table vs JSON defaults)."""
    try:
        return os.isatty(1)
    except OSError:
        return False
