"""The 277CA writer (005010X214): claim acknowledgements from plain data, as X12 bytes.

The caller decides each claim's STC01 (``AckClaim``); ``write_claim_acks`` lays out the HL tree
(source, receiver, billing provider, patient), derives the HL numbers and parents, the QTY/AMT
totals per level and SE01, and wraps the sets in an interchange (``response_writer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from gateway.transactions.claim837_reader import SubmittedClaim, SubmittedLine
from gateway.transactions.response_writer import (
    Addressing,
    clean,
    close_set,
    money,
    service_dates,
    service_procedure,
    write_envelope,
)
from gateway.x12 import Delimiters, Writer

__all__ = ["CLAIM_ACK_VERSION", "AckClaim", "AckSet", "write_claim_acks"]

CLAIM_ACK_VERSION = "005010X214"


@dataclass(frozen=True, slots=True)
class AckClaim:
    """One claim's answer in a 277CA: STC01, and the lines rejected with their STC01."""

    claim: SubmittedClaim
    status: str  # e.g. "A1:19", "A2:20", "A7:164:IL"
    accepted: bool
    clearinghouse_trace: str  # REF*D9
    payer_claim_control_number: str = ""  # REF*1K (accepted by the payer)
    rejected_lines: tuple[tuple[SubmittedLine, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AckSet:
    """One 277CA transaction set: from a source (clearinghouse or payer) about one 837 batch."""

    source_qualifier: str  # NM101: AY clearinghouse, PR payer
    source_name: str
    source_id_qualifier: str  # NM108: 46 (ETIN) or PI (payer id)
    source_id: str
    receiver_name: str  # the 837's submitter (1000A)
    receiver_id: str
    batch_id: str  # the 837 BHT03, echoed in TRN*2 of the receiver level
    trace: str  # TRN*1 of the source level
    claims: tuple[AckClaim, ...]


def _status(accepted: bool) -> str:
    return "WQ" if accepted else "U"


def _ack_set(w: Writer, s: AckSet, control: str, today: str, received: str) -> list[str]:
    total = sum((a.claim.total_charge for a in s.claims), Decimal(0))

    def counts(qualifiers: tuple[str, str], claims: Sequence[AckClaim]) -> list[str]:
        good = [a for a in claims if a.accepted]
        bad = [a for a in claims if not a.accepted]
        out = []
        if good:
            out.append(w.segment("QTY", qualifiers[0], str(len(good))))
        if bad:
            out.append(w.segment("QTY", qualifiers[1], str(len(bad))))
        if good:
            amount = sum((a.claim.total_charge for a in good), Decimal(0))
            out.append(w.segment("AMT", "YU", money(amount)))
        if bad:
            amount = sum((a.claim.total_charge for a in bad), Decimal(0))
            out.append(w.segment("AMT", "YY", money(amount)))
        return out

    body = [
        w.segment("ST", "277", control, CLAIM_ACK_VERSION),
        w.segment("BHT", "0085", "08", clean(s.trace), today, "0000", "TH"),
        w.segment("HL", "1", "", "20", "1"),
        w.segment("NM1", s.source_qualifier, "2", clean(s.source_name), "", "", "", "",
                  s.source_id_qualifier, clean(s.source_id) or "UNKNOWN"),
        w.segment("TRN", "1", clean(s.trace)),
        w.segment("DTP", "050", "D8", received),
        w.segment("DTP", "009", "D8", today),
        w.segment("HL", "2", "1", "21", "1"),
        w.segment("NM1", "41", "2", clean(s.receiver_name) or "SUBMITTER", "", "", "", "", "46",
                  clean(s.receiver_id) or "UNKNOWN"),
        w.segment("TRN", "2", clean(s.batch_id) or "0"),
        w.segment("STC", ["A1", "19"], today, "WQ", money(total)),
    ]  # fmt: skip
    body += counts(("90", "AA"), s.claims)
    hl = 2
    providers: dict[tuple[str, str], list[AckClaim]] = {}
    for a in s.claims:
        providers.setdefault((a.claim.billing_npi, a.claim.billing_name), []).append(a)
    for (npi, name), claims in providers.items():
        hl += 1
        provider_hl = hl
        amount = sum((a.claim.total_charge for a in claims), Decimal(0))
        body += [
            w.segment("HL", str(provider_hl), "2", "19", "1"),
            w.segment("NM1", "85", "2", clean(name) or "BILLING PROVIDER", "", "", "", "", "XX",
                      clean(npi) or "0000000000"),
            w.segment("TRN", "1", f"{clean(s.trace)}-{provider_hl}"),
            w.segment("STC", ["A1", "19", "85"], "", "WQ", money(amount)),
        ]  # fmt: skip
        body += counts(("QA", "QC"), claims)
        for a in claims:
            hl += 1
            c = a.claim
            status = a.status.split(":")
            body += [
                w.segment("HL", str(hl), str(provider_hl), "PT"),
                w.segment("NM1", "QC", "1", clean(c.patient_last) or "UNKNOWN",
                          clean(c.patient_first), "", "", "", "MI",
                          clean(c.member_id) or "UNKNOWN"),
                w.segment("TRN", "2", clean(c.claim_id)),
                w.segment("STC", status, today, _status(a.accepted), money(c.total_charge)),
            ]  # fmt: skip
            if a.payer_claim_control_number:
                body.append(w.segment("REF", "1K", a.payer_claim_control_number))
            body.append(w.segment("REF", "D9", a.clearinghouse_trace))
            if c.kind == "institutional" and c.facility_code and c.frequency:
                body.append(w.segment("REF", "BLT", f"{c.facility_code}{c.frequency}"))
            body += service_dates(w, "DTP", "472", c.service_from, c.service_to)
            for line, line_status in a.rejected_lines:
                svc: list[str | list[str]] = [service_procedure(line), money(line.charge)]
                if c.kind == "institutional" and line.procedure and line.revenue_code:
                    svc += ["", line.revenue_code]
                if line.units != 1:
                    svc += [""] * (6 - len(svc)) + [money(line.units)]
                body.append(w.segment("SVC", *svc))
                body.append(w.segment("STC", line_status.split(":"), today, "U"))
                if line.control_number:
                    body.append(w.segment("REF", "FJ", clean(line.control_number)))
                body += service_dates(w, "DTP", "472", line.service_from, line.service_to)
    return close_set(w, body, control)


def write_claim_acks(to: Addressing, isa13: int, sets: Sequence[AckSet]) -> bytes:
    """One 277CA interchange holding a transaction set per ``AckSet``."""
    w = Writer(Delimiters(), newline=True)
    today = to.when.strftime("%Y%m%d")
    bodies = [_ack_set(w, s, f"{n:04d}", today, today) for n, s in enumerate(sets, 1)]
    return write_envelope(w, to, isa13, "HN", CLAIM_ACK_VERSION, bodies).encode()
