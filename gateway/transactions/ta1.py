"""The TA1 reader: interchange acknowledgements (the receiver's verdict on an ISA/IEA envelope).

A TA1 stands alone between ISA and IEA, or beside functional groups (some receivers put it after
GE, as 4010 systems did); wherever it is, it is read.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway import codes
from gateway.models.acknowledgements import (
    InterchangeAcknowledgement,
    InterchangeAcknowledgementDocument,
    InterchangeAcknowledgementSummary,
)
from gateway.transactions.common import EnvelopeTracker, parse_date
from gateway.x12 import Segment


def read_ta1_segment(seg: Segment, envelope: EnvelopeTracker) -> InterchangeAcknowledgement:
    """One TA1 segment with the meanings of its codes."""
    status = seg.get(4)
    note = seg.get(5)
    return InterchangeAcknowledgement(
        control_number=seg.get(1),
        interchange_date=parse_date(seg.get(2)),
        interchange_time=seg.get(3),
        status=status,
        status_meaning=codes.meaning("ta1_ack", status),
        note_code=note,
        note_meaning=codes.meaning("ta1_note", note) if note else "",
        envelope=envelope.envelope(),
        segment_index=seg.index,
    )


def read_interchange_acknowledgement(
    segments: Iterable[Segment],
) -> InterchangeAcknowledgementDocument:
    """Read every TA1 in ``segments``."""
    document = InterchangeAcknowledgementDocument()
    envelope = EnvelopeTracker()
    summary = InterchangeAcknowledgementSummary()
    for seg in segments:
        tag = seg.tag
        if tag == "TA1":
            ack = read_ta1_segment(seg, envelope)
            document.acknowledgements.append(ack)
            summary.acknowledgements += 1
            if ack.status == "A":
                summary.accepted += 1
            elif ack.status == "E":
                summary.accepted_with_errors += 1
            elif ack.status == "R":
                summary.rejected += 1
        elif tag in ("ISA", "GS"):
            envelope.update(seg)
    document.summary = summary
    return document


__all__ = ["read_interchange_acknowledgement", "read_ta1_segment"]
