"""The simulator's X12 writers: 277CA (005010X214) and 835 (005010X221A1) interchanges.

Pure functions from plain data to text, written with ``gateway.x12.Writer``: the caller decides
what each claim's status or payment is (``gateway.service.simulator``); these functions lay out
the loops, derive HL numbers and parents, the 277CA totals (QTY/AMT), SE01, GE01 and IEA01, and
the 835 BPR02 from the claims and provider adjustments so the file balances by construction.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from gateway.service.simulator_claims import SubmittedClaim, SubmittedLine
from gateway.x12 import Delimiters, Writer

__all__ = [
    "CLAIM_ACK_VERSION",
    "REMITTANCE_VERSION",
    "AckClaim",
    "AckSet",
    "Addressing",
    "LineAdjustment",
    "PaidClaim",
    "PaidLine",
    "ProviderAdjustment",
    "RemittanceSet",
    "cents",
    "clean",
    "money",
    "write_claim_acks",
    "write_remittances",
]

CLAIM_ACK_VERSION = "005010X214"
REMITTANCE_VERSION = "005010X221A1"
CENT = Decimal("0.01")
_DELIMITER_CHARS = str.maketrans(dict.fromkeys("*^:~|\r\n", " "))

# SBR09 (837) -> CLP06 (835): the 835 has its own list (no CI, BL, ...)
_CLAIM_FILING = {
    "CI": "12",
    "BL": "12",
    "HM": "HM",
    "MA": "MA",
    "MB": "MB",
    "MC": "MC",
    "CH": "CH",
    "VA": "VA",
    "WC": "WC",
    "TV": "TV",
    "DS": "DS",
    "AM": "AM",
    "LM": "LM",
    "OF": "OF",
    "12": "12",
    "13": "13",
    "14": "14",
    "15": "15",
    "16": "16",
    "17": "17",
}


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half up to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """An X12 amount: no trailing zeros after the point (``153``, ``227.5``, ``-12.34``, ``0``)."""
    text = f"{cents(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def clean(text: str) -> str:
    """Text from the 837 made safe to write: delimiters become spaces, accents are dropped
    (``MÜLLER`` -> ``MULLER``) and anything else outside printable ASCII becomes a space."""
    if not text.isascii():
        folded = unicodedata.normalize("NFKD", text)
        text = "".join(
            ch if " " <= ch <= "~" else " " for ch in folded if not unicodedata.combining(ch)
        )
    return " ".join(text.translate(_DELIMITER_CHARS).split())


def _d8(day: date) -> str:
    return f"{day:%Y%m%d}"


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


def _envelope(
    w: Writer,
    to: Addressing,
    isa13: int,
    functional_id: str,
    version: str,
    sets: Sequence[list[str]],
) -> str:
    """ISA/GS around the transaction sets (each a list of segments from ST to SE)."""
    out = [
        w.isa(
            "00", "", "00", "",
            to.sender_qualifier, to.sender_id, to.receiver_qualifier, to.receiver_id,
            to.when.strftime("%y%m%d"), to.when.strftime("%H%M"), "00501",
            f"{isa13:09d}", "0", to.usage or "P",
        ),
        w.segment("GS", functional_id, to.gs_sender, to.gs_receiver, to.when.strftime("%Y%m%d"),
                  to.when.strftime("%H%M"), str(isa13), "X", version),
    ]  # fmt: skip
    for body in sets:
        out.extend(body)
    out.append(w.segment("GE", str(len(sets)), str(isa13)))
    out.append(w.segment("IEA", "1", f"{isa13:09d}"))
    return "".join(out)


def _close(w: Writer, body: list[str], control: str) -> list[str]:
    body.append(w.segment("SE", str(len(body) + 1), control))
    return body


def _procedure(line: SubmittedLine) -> list[str]:
    """SVC01 of a response line: ``HC:code:mods``, or ``NU:revenue`` for a revenue code alone."""
    if line.procedure:
        return [line.qualifier or "HC", line.procedure, *line.modifiers]
    return ["NU", line.revenue_code]


def _dates(w: Writer, tag: str, qualifier: str, start: date | None, end: date | None) -> list[str]:
    if start is None:
        return []
    if end is None or end == start:
        return [w.segment(tag, qualifier, "D8", _d8(start))]
    return [w.segment(tag, qualifier, "RD8", f"{_d8(start)}-{_d8(end)}")]


# --- 277CA ---------------------------------------------------------------------------------------


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
            body += _dates(w, "DTP", "472", c.service_from, c.service_to)
            for line, line_status in a.rejected_lines:
                svc: list[str | list[str]] = [_procedure(line), money(line.charge)]
                if c.kind == "institutional" and line.procedure and line.revenue_code:
                    svc += ["", line.revenue_code]
                if line.units != 1:
                    svc += [""] * (6 - len(svc)) + [money(line.units)]
                body.append(w.segment("SVC", *svc))
                body.append(w.segment("STC", line_status.split(":"), today, "U"))
                if line.control_number:
                    body.append(w.segment("REF", "FJ", clean(line.control_number)))
                body += _dates(w, "DTP", "472", line.service_from, line.service_to)
    return _close(w, body, control)


def write_claim_acks(to: Addressing, isa13: int, sets: Sequence[AckSet]) -> bytes:
    """One 277CA interchange holding a transaction set per ``AckSet``."""
    w = Writer(Delimiters(), newline=True)
    today = to.when.strftime("%Y%m%d")
    bodies = [_ack_set(w, s, f"{n:04d}", today, today) for n, s in enumerate(sets, 1)]
    return _envelope(w, to, isa13, "HN", CLAIM_ACK_VERSION, bodies).encode()


# --- 835 -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineAdjustment:
    """One CAS triplet: group, CARC, amount (positive reduces the payment)."""

    group: str
    reason: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PaidLine:
    """A 2110 service line: what was charged, adjusted and paid."""

    line: SubmittedLine
    paid: Decimal
    adjustments: tuple[LineAdjustment, ...] = ()
    allowed: Decimal | None = None  # AMT*B6
    remarks: tuple[str, ...] = ()  # LQ*HE
    sign: int = 1  # -1 for the lines of a reversal


@dataclass(frozen=True, slots=True)
class PaidClaim:
    """A 2100 claim payment: CLP02 status, the payer claim control number, the lines."""

    claim: SubmittedClaim
    status: str  # CLP02
    payer_claim_control_number: str
    lines: tuple[PaidLine, ...]
    sign: int = 1  # -1 for a reversal (CLP02 22): every amount negated

    @property
    def charge(self) -> Decimal:
        """CLP03."""
        return self.sign * sum((p.line.charge for p in self.lines), Decimal(0))

    @property
    def paid(self) -> Decimal:
        """CLP04: the sum of the line payments."""
        return self.sign * sum((p.paid for p in self.lines), Decimal(0))

    @property
    def patient_responsibility(self) -> Decimal:
        """CLP05: every PR adjustment."""
        return self.sign * sum(
            (a.amount for p in self.lines for a in p.adjustments if a.group == "PR"), Decimal(0)
        )


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """A PLB adjustment: reason (L6, WO, FB...), reference, amount (positive reduces payment)."""

    reason: str
    reference: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RemittanceSet:
    """One 835 transaction set: one payer paying one payee."""

    payer_id: str
    payer_name: str
    payee_npi: str
    payee_name: str
    trace: str  # TRN02: the check or EFT trace number
    claims: tuple[PaidClaim, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...] = field(default=())

    @property
    def payment(self) -> Decimal:
        """BPR02: the claim payments less the provider adjustments."""
        return sum((c.paid for c in self.claims), Decimal(0)) - sum(
            (p.amount for p in self.provider_adjustments), Decimal(0)
        )


def _payer_tin(payer_id: str) -> str:
    """A 10-character payer identifier for TRN03 / BPR10 (``1`` + 9 digits)."""
    digits = "".join(ch for ch in payer_id if ch.isdigit())[-9:]
    return "1" + digits.rjust(9, "0")


def _remit_set(w: Writer, s: RemittanceSet, control: str, today: str, year_end: str) -> list[str]:
    payment = s.payment
    tin = _payer_tin(s.payer_id)
    if payment > 0:
        bpr = w.segment(
            "BPR", "I", money(payment), "C", "ACH", "CCP", "01", "071000013", "DA",
            "123456789", tin, "", "01", "111000025", "DA", "987654321", today,
        )  # fmt: skip
    else:
        bpr = w.segment("BPR", "H", "0", "C", "NON", *[""] * 11, today)
    body = [
        w.segment("ST", "835", control),
        bpr,
        w.segment("TRN", "1", s.trace, tin),
        w.segment("DTM", "405", today),
        w.segment("N1", "PR", clean(s.payer_name) or "PAYER"),
        w.segment("N3", "PO BOX 1000"),
        w.segment("N4", "SPRINGFIELD", "IL", "627010000"),
        w.segment("PER", "BL", "PROVIDER SERVICES", "TE", "8005550100"),
        w.segment("N1", "PE", clean(s.payee_name) or "PAYEE", "XX", clean(s.payee_npi)),
        w.segment("LX", "1"),
    ]
    for pc in s.claims:
        c = pc.claim
        sign = Decimal(pc.sign)
        body.append(
            w.segment(
                "CLP", clean(c.claim_id), pc.status, money(pc.charge), money(pc.paid),
                money(pc.patient_responsibility), _CLAIM_FILING.get(c.filing_indicator, "ZZ"),
                pc.payer_claim_control_number, clean(c.facility_code), clean(c.frequency),
            )
        )  # fmt: skip
        if c.patient_is_subscriber:
            body.append(
                w.segment("NM1", "QC", "1", clean(c.patient_last) or "UNKNOWN",
                          clean(c.patient_first), "", "", "", "MI", clean(c.member_id))
            )  # fmt: skip
        else:
            body.append(
                w.segment("NM1", "QC", "1", clean(c.patient_last) or "UNKNOWN",
                          clean(c.patient_first))
            )  # fmt: skip
            body.append(
                w.segment("NM1", "IL", "1", clean(c.subscriber_last) or "UNKNOWN",
                          clean(c.subscriber_first), "", "", "", "MI",
                          clean(c.member_id) or "UNKNOWN")
            )  # fmt: skip
        if c.kind == "institutional" and c.statement_from:
            body.append(w.segment("DTM", "232", _d8(c.statement_from)))
            body.append(w.segment("DTM", "233", _d8(c.statement_to or c.statement_from)))
        body.append(w.segment("DTM", "050", today))
        for pl in pc.lines:
            ln = pl.line
            svc: list[str | list[str]] = [_procedure(ln), money(sign * ln.charge),
                                          money(sign * pl.paid)]  # fmt: skip
            svc.append(ln.revenue_code if ln.procedure and ln.revenue_code else "")
            if ln.units != 1:
                svc.append(money(ln.units))
            body.append(w.segment("SVC", *svc))
            if ln.service_from is not None:
                if ln.service_to is None or ln.service_to == ln.service_from:
                    body.append(w.segment("DTM", "472", _d8(ln.service_from)))
                else:
                    body.append(w.segment("DTM", "150", _d8(ln.service_from)))
                    body.append(w.segment("DTM", "151", _d8(ln.service_to)))
            by_group: dict[str, list[LineAdjustment]] = {}
            for adj in pl.adjustments:
                by_group.setdefault(adj.group, []).append(adj)
            for group, adjustments in by_group.items():
                for start in range(0, len(adjustments), 6):
                    triplets: list[str] = []
                    for adj in adjustments[start : start + 6]:
                        triplets += [adj.reason, money(sign * adj.amount), ""]
                    body.append(w.segment("CAS", group, *triplets))
            if ln.control_number:
                body.append(w.segment("REF", "6R", clean(ln.control_number)))
            if pl.allowed is not None and pc.sign > 0:
                body.append(w.segment("AMT", "B6", money(pl.allowed)))
            for remark in pl.remarks:
                body.append(w.segment("LQ", "HE", remark))
    npi = clean(s.payee_npi) or "0000000000"
    provider = list(s.provider_adjustments)
    for start in range(0, len(provider), 6):
        pairs: list[str | list[str]] = []
        for plb in provider[start : start + 6]:
            pairs += [[plb.reason, plb.reference], money(plb.amount)]
        body.append(w.segment("PLB", npi, year_end, *pairs))
    return _close(w, body, control)


def write_remittances(to: Addressing, isa13: int, sets: Sequence[RemittanceSet]) -> bytes:
    """One 835 interchange holding a transaction set per ``RemittanceSet``."""
    w = Writer(Delimiters(), newline=True)
    today = to.when.strftime("%Y%m%d")
    year_end = f"{to.when.year}1231"
    bodies = [_remit_set(w, s, f"{n:04d}", today, year_end) for n, s in enumerate(sets, 1)]
    return _envelope(w, to, isa13, "HP", REMITTANCE_VERSION, bodies).encode()
