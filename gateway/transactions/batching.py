"""Batching: encounters in, one interchange per trading partner and kind of claim out.

``Batcher`` takes encounters one at a time (from a stream of any length), groups them by
(partner, kind) and writes a transaction set whenever a group reaches the partner's
``max_claims_per_transaction``; memory holds at most one set's worth of encounters per group. The
text goes to an ``OutputFactory`` (files for the command line, memory for tests and the service),
which learns each interchange's ISA13 before the first byte and gets its ``InterchangeSent`` record
when it is complete.

>>> batcher = Batcher(partners, allocator, MemoryOutputs())      # doctest: +SKIP
>>> for encounter in encounters: batcher.add(encounter)           # doctest: +SKIP
>>> sent = batcher.close()                                        # doctest: +SKIP
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from gateway.models import Encounter, Kind
from gateway.models.partner import Partners, TradingPartner
from gateway.transactions.claim837_envelope import (
    ClaimLeftOut,
    InterchangeSent,
    InterchangeWriter,
    TransactionSent,
)
from gateway.transactions.control_numbers import ControlNumberAllocator

__all__ = [
    "BatchKey",
    "Batcher",
    "BuiltInterchange",
    "MemoryOutputs",
    "Output",
    "OutputFactory",
]


@dataclass(frozen=True, slots=True, order=True)
class BatchKey:
    """What decides which interchange a claim goes into."""

    partner: str
    kind: Kind


class Output(Protocol):
    """Where one interchange's text is written, piece by piece."""

    def write(self, text: str, /) -> object:
        """Append text."""
        ...


class OutputFactory(Protocol):
    """Opens an ``Output`` per interchange and is told when it is complete."""

    def open(self, partner: TradingPartner, kind: Kind, isa13: str) -> Output:
        """A new output for the interchange ``isa13``."""
        ...

    def close(self, output: Output, sent: InterchangeSent) -> None:
        """The interchange written to ``output`` is complete."""
        ...


@dataclass(frozen=True, slots=True)
class BuiltInterchange:
    """A complete interchange in memory: the bytes and what they carry."""

    data: bytes
    sent: InterchangeSent


@dataclass
class MemoryOutputs:
    """An ``OutputFactory`` keeping every interchange in memory (tests, small batches)."""

    built: list[BuiltInterchange] = field(default_factory=list)

    def open(self, partner: TradingPartner, kind: Kind, isa13: str) -> io.StringIO:
        """A new in-memory buffer."""
        return io.StringIO()

    def close(self, output: Output, sent: InterchangeSent) -> None:
        """Keep the finished interchange."""
        assert isinstance(output, io.StringIO)
        self.built.append(BuiltInterchange(output.getvalue().encode("utf-8"), sent))


@dataclass
class _Group:
    writer: InterchangeWriter
    pending: list[Encounter] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # claim id -> file, while pending
    output: Output | None = None


class Batcher:
    """Streams encounters into interchanges, one per (partner, kind), sets of at most
    ``max_claims_per_transaction`` claims each.

    Claims left out (unknown partner, refused by the builder) accumulate in ``left_out``.
    ``on_transaction`` is called with each set's full record (claim ids, line control numbers)
    right after its text is written; with ``keep_claims=False`` the interchanges' records keep
    only counts and totals, so memory stays flat however many claims pass through.
    """

    def __init__(
        self,
        partners: Partners,
        allocator: ControlNumberAllocator,
        outputs: OutputFactory,
        *,
        created: datetime | None = None,
        keep_claims: bool = True,
        on_transaction: Callable[[TransactionSent], None] | None = None,
    ) -> None:
        self.partners = partners
        self.keep_claims = keep_claims
        self.on_transaction = on_transaction
        self.allocator = allocator
        self.outputs = outputs
        self.created = created
        self.left_out: list[ClaimLeftOut] = []
        self.sent: list[InterchangeSent] = []
        self._groups: dict[BatchKey, _Group] = {}
        self._partner_of: dict[str | None, TradingPartner] = {}

    def add(self, encounter: Encounter, *, source: str | None = None) -> None:
        """Queue one encounter; writes a set when its group is full."""
        partner = self._partner_of.get(encounter.partner)
        try:
            if partner is None:
                partner = self._partner_of[encounter.partner] = self.partners.get(encounter.partner)
        except KeyError as exc:
            self.left_out.append(
                ClaimLeftOut(encounter.claim_id, str(exc.args[0]), "partner", source)
            )
            return
        key = BatchKey(partner.name, encounter.kind)
        group = self._groups.get(key)
        if group is None:
            writer = InterchangeWriter(
                partner,
                encounter.kind,
                self.allocator,
                created=self.created,
                keep_claims=self.keep_claims,
            )
            group = self._groups[key] = _Group(writer)
        group.pending.append(encounter)
        if source is not None:
            group.sources[encounter.claim_id] = source
        if len(group.pending) >= partner.max_claims_per_transaction:
            self._flush(group)

    def add_all(self, encounters: Iterable[Encounter]) -> None:
        """Queue many encounters."""
        for encounter in encounters:
            self.add(encounter)

    def close(self) -> list[InterchangeSent]:
        """Write what is pending and every trailer; returns the interchanges written, in order
        of (partner, kind)."""
        for key in sorted(self._groups):
            group = self._groups[key]
            if group.pending:
                self._flush(group)
            if group.output is not None:
                text, sent = group.writer.trailer()
                group.output.write(text)
                self.outputs.close(group.output, sent)
                self.sent.append(sent)
        self._groups.clear()
        return self.sent

    def _flush(self, group: _Group) -> None:
        encounters, group.pending = group.pending, []
        sources, group.sources = group.sources, {}
        writer = group.writer
        result = writer.transaction(encounters)
        for item in result.left_out:
            source = sources.get(item.claim_id)
            self.left_out.append(replace(item, source=source) if source else item)
        if result.sent is None:
            return
        if group.output is None:
            group.output = self.outputs.open(writer.partner, writer.kind, writer.isa13)
        group.output.write(result.text)
        if self.on_transaction is not None:
            self.on_transaction(result.sent)
