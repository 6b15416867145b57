"""The 835 writer (005010X221A1): remittance advice from plain data, as X12 bytes.

The caller decides what each claim and line is paid and adjusted (``PaidClaim``, ``PaidLine``,
with the remittance model's ``Adjustment`` and ``ProviderAdjustment``: ``line_adjustment`` and
``provider_adjustment`` make them with their meanings);
``write_remittances`` lays out the 2000/2100/2110 loops (NM1*TT naming the crossover carrier of a
claim the payer forwarded, CLP02 19/20/21), groups CAS triplets by group (six to a
segment), writes PLB provider adjustments, and derives BPR02 from the claims and provider
adjustments so the file balances by construction; SE01, GE01 and IEA01 are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import groupby

from gateway import codes
from gateway.models.remittance import Adjustment, ProviderAdjustment
from gateway.transactions.claim837_common import amount as number_text
from gateway.transactions.claim837_reader import SubmittedClaim, SubmittedLine
from gateway.transactions.common import cas_adjustment
from gateway.transactions.response_writer import (
    Addressing,
    clean,
    close_set,
    d8,
    money,
    service_procedure,
    write_envelope,
)
from gateway.x12 import Delimiters, Writer

__all__ = [
    "REMITTANCE_VERSION",
    "PaidClaim",
    "PaidLine",
    "RemittanceSet",
    "line_adjustment",
    "provider_adjustment",
    "write_remittances",
]

REMITTANCE_VERSION = "005010X221A1"

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


def line_adjustment(group: str, reason: str, amount: Decimal) -> Adjustment:
    """A CAS triplet as the remittance model holds it (the meanings from the code lists)."""
    return cas_adjustment(group, reason, amount)


def provider_adjustment(
    provider: str, fiscal_period: date, reason: str, reference: str, amount: Decimal
) -> ProviderAdjustment:
    """A PLB adjustment as the remittance model holds it (positive reduces the payment)."""
    meaning = codes.meaning("plb_reason", reason)
    return ProviderAdjustment(provider, fiscal_period, reason, meaning, reference, amount)


@dataclass(frozen=True, slots=True)
class PaidLine:
    """A 2110 service line: what was charged, adjusted and paid."""

    line: SubmittedLine
    paid: Decimal
    adjustments: tuple[Adjustment, ...] = ()
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
    forwarded_to: tuple[str, str] | None = None  # NM1*TT (name, payer id): CLP02 19/20/21

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
class RemittanceSet:
    """One 835 transaction set: one payer paying one payee."""

    payer_id: str
    payer_name: str
    payee_npi: str
    payee_name: str
    trace: str  # TRN02: the check or EFT trace number
    claims: tuple[PaidClaim, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...] = field(default=())
    #: N1*PR N103/N104 (XV and ``payer_id``): the payer names itself, so that an answer about a
    #: claim with several payers can be told apart by who sent it (a denial, a reversal).
    identify_payer: bool = False

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


def _remit_set(w: Writer, s: RemittanceSet, control: str, today: str) -> list[str]:
    payment = s.payment
    tin = _payer_tin(s.payer_id)
    payer_id = ("XV", clean(s.payer_id)) if s.identify_payer and clean(s.payer_id) else ()
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
        w.segment("N1", "PR", clean(s.payer_name) or "PAYER", *payer_id),
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
        if pc.forwarded_to is not None:  # the crossover carrier the claim was forwarded to
            carrier, carrier_id = pc.forwarded_to
            body.append(w.segment("NM1", "TT", "2", clean(carrier) or "PAYER", "", "", "", "", "PI",
                                  clean(carrier_id) or "UNKNOWN"))  # fmt: skip
        if c.kind == "institutional" and c.statement_from:
            body.append(w.segment("DTM", "232", d8(c.statement_from)))
            body.append(w.segment("DTM", "233", d8(c.statement_to or c.statement_from)))
        body.append(w.segment("DTM", "050", today))
        for pl in pc.lines:
            ln = pl.line
            svc: list[str | list[str]] = [service_procedure(ln), money(sign * ln.charge),
                                          money(sign * pl.paid)]  # fmt: skip
            svc.append(ln.revenue_code if ln.procedure and ln.revenue_code else "")
            if ln.units != 1:
                svc.append(money(ln.units))
            body.append(w.segment("SVC", *svc))
            if ln.service_from is not None:
                if ln.service_to is None or ln.service_to == ln.service_from:
                    body.append(w.segment("DTM", "472", d8(ln.service_from)))
                else:
                    body.append(w.segment("DTM", "150", d8(ln.service_from)))
                    body.append(w.segment("DTM", "151", d8(ln.service_to)))
            by_group: dict[str, list[Adjustment]] = {}
            for adj in pl.adjustments:
                by_group.setdefault(adj.group, []).append(adj)
            for group, adjustments in by_group.items():
                for start in range(0, len(adjustments), 6):
                    triplets: list[str] = []
                    for adj in adjustments[start : start + 6]:
                        quantity = "" if adj.quantity is None else number_text(adj.quantity)
                        triplets += [adj.reason, money(sign * adj.amount), quantity]
                    body.append(w.segment("CAS", group, *triplets))
            if ln.control_number:
                body.append(w.segment("REF", "6R", clean(ln.control_number)))
            if pl.allowed is not None and pc.sign > 0:
                body.append(w.segment("AMT", "B6", money(pl.allowed)))
            for remark in pl.remarks:
                body.append(w.segment("LQ", "HE", remark))
    # adjustments of one provider and fiscal period in a row share PLBs, six to a segment
    periods = groupby(
        s.provider_adjustments, lambda p: (p.provider_identifier, p.fiscal_period_date)
    )
    for (provider, fiscal), together in periods:
        found = list(together)
        for start in range(0, len(found), 6):
            pairs: list[str | list[str]] = []
            for plb in found[start : start + 6]:
                pairs += [[plb.reason, plb.reference], money(plb.amount)]
            fiscal_text = d8(fiscal) if fiscal else ""
            body.append(w.segment("PLB", clean(provider) or "0000000000", fiscal_text, *pairs))
    return close_set(w, body, control)


def write_remittances(to: Addressing, isa13: int, sets: Sequence[RemittanceSet]) -> bytes:
    """One 835 interchange holding a transaction set per ``RemittanceSet``."""
    w = Writer(Delimiters(), newline=True)
    today = to.when.strftime("%Y%m%d")
    bodies = [_remit_set(w, s, f"{n:04d}", today) for n, s in enumerate(sets, 1)]
    return write_envelope(w, to, isa13, "HP", REMITTANCE_VERSION, bodies).encode()
