"""How the gateway's data becomes JSON: money as decimal strings, dates as ISO 8601."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["json_default"]


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)``: a ``Decimal`` as its string, a date or time as ISO 8601, a set
    or tuple as a list; anything else is a ``TypeError``, as ``json`` raises."""
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
