"""What the 277CA and 835 writers share: the answering envelope, safe text, amounts, SVC and dates.

Pure functions over plain data, written with ``gateway.x12.Writer`` (the envelope segments with
the one envelope writer, ``gateway.x12.envelope``). ``Addressing`` is the envelope of an answer
(the 837's turned around); ``write_envelope`` wraps transaction sets in ISA/GS ... GE/IEA
(deriving GE01 and IEA01), and ``write_interchange_rejection`` is the TA1 that
rejects an interchange whose header could only be read loosely.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from gateway.transactions.claim837_common import amount, d8
from gateway.transactions.claim837_reader import SubmittedLine
from gateway.x12 import Delimiters, Writer
from gateway.x12.envelope import (
    GroupHeader,
    InterchangeHeader,
    ge_segment,
    gs_segment,
    iea_segment,
    isa_segment,
)

__all__ = [
    "Addressing",
    "cents",
    "clean",
    "close_set",
    "d8",
    "money",
    "service_dates",
    "service_procedure",
    "write_envelope",
    "write_interchange_rejection",
]

CENT = Decimal("0.01")
_DELIMITER_CHARS = str.maketrans(dict.fromkeys("*^:~|\r\n", " "))


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half up to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """An X12 amount in cents: no trailing zeros after the point (``153``, ``227.5``, ``0``)."""
    return amount(cents(value))


def clean(text: str) -> str:
    """Text from the 837 made safe to write: delimiters become spaces, accents are dropped
    (``MÜLLER`` -> ``MULLER``) and anything else outside printable ASCII becomes a space."""
    if not text.isascii():
        folded = unicodedata.normalize("NFKD", text)
        text = "".join(
            ch if " " <= ch <= "~" else " " for ch in folded if not unicodedata.combining(ch)
        )
    return " ".join(text.translate(_DELIMITER_CHARS).split())


@dataclass(frozen=True, slots=True)
class Addressing:
    """Who a response interchange is from and to (the 837's envelope, turned around)."""

    sender_qualifier: str  # ISA05 of the response = ISA07 of the 837
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    gs_sender: str  # GS02 of the response = GS03 of the 837
    gs_receiver: str
    usage: str  # ISA15, as the 837 had it
    when: datetime


def _interchange_header(to: Addressing, isa13: int) -> InterchangeHeader:
    """The ISA of an answer: addressed back to the 837's sender, no TA1 asked for."""
    return InterchangeHeader(
        sender_qualifier=to.sender_qualifier,
        sender_id=to.sender_id,
        receiver_qualifier=to.receiver_qualifier,
        receiver_id=to.receiver_id,
        date=to.when.strftime("%y%m%d"),
        time=to.when.strftime("%H%M"),
        control_number=f"{isa13:09d}",
        acknowledgment_requested="0",
        usage_indicator=to.usage or "P",
    )


def write_envelope(
    w: Writer,
    to: Addressing,
    isa13: int,
    functional_id: str,
    version: str,
    sets: Sequence[list[str]],
) -> str:
    """ISA/GS around the transaction sets (each a list of segments from ST to SE)."""
    out = [
        isa_segment(w, _interchange_header(to, isa13)),
        gs_segment(
            w,
            GroupHeader(
                functional_id=functional_id,
                application_sender=to.gs_sender,
                application_receiver=to.gs_receiver,
                date=to.when.strftime("%Y%m%d"),
                time=to.when.strftime("%H%M"),
                control_number=str(isa13),
                version=version,
            ),
        ),
    ]
    for body in sets:
        out.extend(body)
    out.append(ge_segment(w, len(sets), str(isa13)))
    out.append(iea_segment(w, 1, f"{isa13:09d}"))
    return "".join(out)


def close_set(w: Writer, body: list[str], control: str) -> list[str]:
    """Append the SE (counting itself) to a transaction set's segments."""
    body.append(w.segment("SE", str(len(body) + 1), control))
    return body


def service_procedure(line: SubmittedLine) -> list[str]:
    """SVC01 of a response line: ``HC:code:mods``, or ``NU:revenue`` for a revenue code alone."""
    if line.procedure:
        return [line.qualifier or "HC", line.procedure, *line.modifiers]
    return ["NU", line.revenue_code]


def service_dates(
    w: Writer, tag: str, qualifier: str, start: date | None, end: date | None
) -> list[str]:
    """A DTP/DTM of one day (D8) or a range (RD8); nothing without a start."""
    if start is None:
        return []
    if end is None or end == start:
        return [w.segment(tag, qualifier, "D8", d8(start))]
    return [w.segment(tag, qualifier, "RD8", f"{d8(start)}-{d8(end)}")]


def write_interchange_rejection(
    to: Addressing, isa13: int, control: str, day: str, time: str, note: str
) -> bytes:
    """A TA1 rejecting interchange ``control`` (its ISA09 ``day``, ISA10 ``time``) with ``note``.

    Used when the interchange's header is too broken to be validated but good enough to know who
    sent it (``to``: the answer's addressing; its GS fields are not used).
    """
    w = Writer(Delimiters())
    return (
        isa_segment(w, _interchange_header(to, isa13))
        + w.segment("TA1", control, day, time, "R", note)
        + iea_segment(w, 0, f"{isa13:09d}")  # a TA1 is no group
    ).encode()
