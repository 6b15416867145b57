"""Which transactions a file holds, from GS01, ST01 and GS08/ST03 (never from the file name).

``set_kind`` names one transaction set (``835``, ``277CA``, ``277``, ``999``, ``997``, ``837P``,
``837I``, ``837D`` or the bare ST01); ``detect_transactions`` walks segments and counts sets by
kind, in the order the kinds first appear, with the TA1 segments counted as ``TA1``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.x12 import Segment

READABLE = ("835", "277CA", "277", "999", "997", "TA1")
"""The kinds ``gateway parse`` reads into typed models."""


def set_kind(functional_id: str, st01: str, version: str) -> str:
    """The kind of one transaction set from GS01, ST01 and GS08 (or ST03)."""
    st01 = st01.strip()
    version = version.strip().upper()
    if st01 == "277" or (not st01 and functional_id == "HN"):
        return "277CA" if "X214" in version else "277"
    if st01 == "837" or (not st01 and functional_id == "HC"):
        if "X222" in version or "X098" in version:
            return "837P"
        if "X223" in version or "X096" in version:
            return "837I"
        if "X224" in version or "X097" in version:
            return "837D"
        return "837"
    if st01 in ("835", "999", "997"):
        return st01
    if not st01:
        return {"HP": "835", "FA": "999"}.get(functional_id, "unknown")
    return st01


@dataclass
class Detected:
    """What ``detect_transactions`` found: sets per kind (first-seen order), CLM segments and
    versions."""

    kinds: dict[str, int] = field(default_factory=dict)
    """Transaction sets (TA1 segments for ``TA1``) counted by kind, in the order first seen."""
    claims: int = 0
    """CLM segments (837 claims)."""
    versions: dict[str, str] = field(default_factory=dict)
    """The first GS08/ST03 seen for each kind."""

    @property
    def readable(self) -> list[str]:
        """The kinds ``gateway parse`` reads, in order of appearance."""
        return [k for k in self.kinds if k in READABLE]

    @property
    def primary(self) -> str | None:
        """The first kind seen, or None for a file without any transaction set or TA1."""
        return next(iter(self.kinds), None)

    _functional_id: str = field(default="", repr=False, compare=False)
    _group_version: str = field(default="", repr=False, compare=False)

    def observe(self, seg: Segment) -> None:
        """Note one segment (for a caller that walks the segments for its own reasons too)."""
        tag = seg.tag
        if tag == "ST":
            version = seg.get(3) or self._group_version
            kind = set_kind(self._functional_id, seg.get(1), version)
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            self.versions.setdefault(kind, version)
        elif tag == "GS":
            self._functional_id = seg.get(1)
            self._group_version = seg.get(8)
        elif tag == "TA1":
            self.kinds["TA1"] = self.kinds.get("TA1", 0) + 1
        elif tag == "CLM":
            self.claims += 1


def detect_transactions(segments: Iterable[Segment]) -> Detected:
    """Count the transaction sets of each kind in ``segments``."""
    found = Detected()
    for seg in segments:
        found.observe(seg)
    return found


__all__ = ["READABLE", "Detected", "detect_transactions", "set_kind"]
