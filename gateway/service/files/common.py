"""What the service's file modules share: sizes and suffixes, their errors, a file's problem."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gateway.durable import CRASH_VARIABLE, crash_point

__all__ = [
    "CHUNK_SIZE",
    "CRASH_VARIABLE",
    "ERROR_SUFFIX",
    "IGNORED_SUFFIXES",
    "FileProblem",
    "FileTooLargeError",
    "UnsafePathError",
    "crash_point",
]

CHUNK_SIZE = 1 << 20
IGNORED_SUFFIXES = (".tmp", ".part")
ERROR_SUFFIX = ".error.json"
#: Room kept after a stored name for ``-NNNNN`` and ``.error.json``.
_STORED_RESERVE = len("-99999") + len(ERROR_SUFFIX)


class UnsafePathError(ValueError):
    """A path that is a symlink, passes through one, or lies outside the workspace."""


class FileTooLargeError(ValueError):
    """A file larger than the configured limit (it is quarantined unread)."""

    def __init__(self, path: Path, size: int, limit: int) -> None:
        super().__init__(f"{path.name}: {size} bytes is more than the limit of {limit} bytes")
        self.path = path
        self.size = size
        self.limit = limit


class _HasAsDict(Protocol):
    def as_dict(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class FileProblem:
    """Why a file was quarantined: what is wrong, where, and what to do about it.

    ``code`` is stable for programs (``too-large``, ``unsafe-path``, ``not-x12``...); ``where`` is a
    location (e.g. ``Location.as_dict()``) or None for the whole file; ``findings`` are every
    located problem (``Defect.as_dict()`` of each), when there are several.
    """

    code: str
    what: str
    what_to_do: str
    where: Mapping[str, object] | None = None
    findings: Sequence[Mapping[str, object]] = ()

    @classmethod
    def from_findings(
        cls, code: str, what: str, what_to_do: str, findings: Iterable[_HasAsDict]
    ) -> FileProblem:
        """A problem whose ``where`` is the first finding's location (e.g. from X12 defects)."""
        items = [f.as_dict() for f in findings]
        first = items[0].get("location") if items else None
        return cls(code, what, what_to_do, first if isinstance(first, Mapping) else None, items)

    def as_dict(self) -> dict[str, object]:
        """The problem as JSON-ready data."""
        return {
            "code": self.code,
            "what": self.what,
            "where": dict(self.where) if self.where is not None else None,
            "what_to_do": self.what_to_do,
            "findings": [dict(f) for f in self.findings],
        }
