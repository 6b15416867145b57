"""Encounters to X12 5010 837P (005010X222A1) and 837I (005010X223A2) claim files.

The public face of the 837 builder. ``build_837`` turns encounters into complete interchanges in
memory; ``Batcher`` (``gateway.transactions.batching``) does the same as a stream, writing each
interchange set by set to files. Either way the result says exactly what was sent: per file the
ISA13, GS06 and every ST02 with the claim ids in that set and each claim's REF*6R line control
numbers (``InterchangeSent`` / ``TransactionSent`` / ``ClaimSent``), and which claims were left
out and why (``ClaimLeftOut``).

>>> result = build_837(encounters, load_partners(Path("config/partners")),
...                    MemoryAllocator())  # doctest: +SKIP
>>> for built in result.interchanges:                                           # doctest: +SKIP
...     built.sent.isa13, [t.claim_ids for t in built.sent.transactions]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from gateway.models import Encounter
from gateway.models.partner import Partners
from gateway.transactions.batching import Batcher, BuiltInterchange, MemoryOutputs
from gateway.transactions.claim837_common import ClaimBuildError
from gateway.transactions.claim837_envelope import (
    ClaimLeftOut,
    ClaimSent,
    InterchangeSent,
    InterchangeWriter,
    TransactionSent,
    implementation_of,
)
from gateway.transactions.control_numbers import ControlNumberAllocator

__all__ = [
    "BuildResult",
    "BuiltInterchange",
    "ClaimBuildError",
    "ClaimLeftOut",
    "ClaimSent",
    "InterchangeSent",
    "InterchangeWriter",
    "TransactionSent",
    "build_837",
    "implementation_of",
]


@dataclass(frozen=True, slots=True)
class BuildResult:
    """The interchanges built (bytes and what they carry) and the claims left out."""

    interchanges: tuple[BuiltInterchange, ...]
    left_out: tuple[ClaimLeftOut, ...]

    @property
    def claims(self) -> tuple[ClaimSent, ...]:
        """Every claim written, in file order."""
        return tuple(c for built in self.interchanges for c in built.sent.claims)


def build_837(
    encounters: Iterable[Encounter],
    partners: Partners,
    allocator: ControlNumberAllocator,
    *,
    created: datetime | None = None,
) -> BuildResult:
    """Build every encounter into interchanges in memory, one per (partner, kind).

    ``created`` stamps ISA09/ISA10, GS04/GS05 and BHT04/BHT05 (now, in UTC, when omitted). For
    large batches, stream with ``Batcher`` and a file-writing ``OutputFactory`` instead.
    """
    outputs = MemoryOutputs()
    batcher = Batcher(partners, allocator, outputs, created=created)
    batcher.add_all(encounters)
    batcher.close()
    return BuildResult(tuple(outputs.built), tuple(batcher.left_out))
