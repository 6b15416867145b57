"""The 837 claim reader: the claims, their lines and amounts, and the envelopes they came in.

Pure: bytes in, plain data out. ``read_submission(data)`` walks the segments of an 837P or 837I
(any number of interchanges, groups and sets) and keeps what a clearinghouse and a payer need to
answer: per claim the CLM data, the subscriber, patient, payer and billing provider it hangs under
(from the HL tree), the referral and authorization numbers, and per line the procedure, charge,
units, dates and the REF*6R line control number. For coordination of benefits it keeps the 2000B
SBR01 (the place of the payer the claim goes to), per claim each other payer's 2320/2330A/2330B
loops (``OtherPayerClaim``: its place, filing indicator, id and name, AMT*D paid, claim CAS,
AMT*EAF, DTP*573, REF*F8, MOA remarks) and per line its 2430 loops (``OtherPayerLine``: SVD paid,
procedure and units, line CAS, DTP*573). The simulator answers from it; anyone who needs the
claims of an 837 stream can use it. It is lenient: missing pieces are left empty, never
guessed; the validator decides whether the file is acceptable.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation

from gateway.models.remittance import Adjustment
from gateway.transactions.common import cas_adjustment
from gateway.x12 import Segment, read_segments

__all__ = [
    "LooseHeader",
    "OtherPayerClaim",
    "OtherPayerLine",
    "Submission",
    "SubmittedClaim",
    "SubmittedLine",
    "SubmittedSet",
    "parse_amount",
    "read_loose_header",
    "read_submission",
]


def parse_amount(text: str) -> Decimal:
    """A decimal amount from X12 text; zero when empty or not a number."""
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _date(text: str) -> date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _period(seg: Segment) -> tuple[date | None, date | None]:
    """The dates of a DTP (D8 or RD8 CCYYMMDD-CCYYMMDD)."""
    value = seg[3]
    if seg[2] == "RD8" and "-" in value:
        start, _, end = value.partition("-")
        return _date(start), _date(end)
    if seg[2] == "DT":
        day = _date(value[:8])
        return day, day
    day = _date(value)
    return day, day


def _adjustments(seg: Segment) -> tuple[Adjustment, ...]:
    """The triplets of a CAS segment (CAS02-04, 05-07, ... up to six), empty reasons skipped."""
    group = seg[1]
    found = []
    for position in range(2, 20, 3):
        reason = seg[position]
        if reason:
            quantity = seg[position + 2]
            found.append(
                cas_adjustment(
                    group,
                    reason,
                    parse_amount(seg[position + 1]),
                    parse_amount(quantity) if quantity else None,
                )
            )
    return tuple(found)


@dataclass(frozen=True, slots=True)
class OtherPayerLine:
    """One 2430 loop: another payer's decision on a service line."""

    payer_id: str  # SVD01: the 2330B NM109 of that payer
    paid_amount: Decimal  # SVD02
    qualifier: str  # SVD03-1 (HC, ...)
    procedure: str  # SVD03-2
    modifiers: tuple[str, ...]  # SVD03-3..6
    revenue_code: str  # SVD04 (837I)
    units: Decimal  # SVD05
    bundled_line: str  # SVD06: the line this one was bundled into
    adjustments: tuple[Adjustment, ...] = ()  # 2430 CAS
    adjudication_date: date | None = None  # 2430 DTP*573
    patient_responsibility: Decimal | None = None  # 2430 AMT*EAF


@dataclass(frozen=True, slots=True)
class OtherPayerClaim:
    """One 2320 loop with its 2330A (other subscriber) and 2330B (other payer)."""

    responsibility: str  # 2320 SBR01: P, S, T (A-H for the 4th and later payers)
    relationship: str  # SBR02
    group_number: str  # SBR03
    filing_indicator: str  # SBR09
    payer_id: str = ""  # 2330B NM109
    payer_name: str = ""  # 2330B NM103
    member_id: str = ""  # 2330A NM109
    subscriber_last: str = ""  # 2330A NM103
    subscriber_first: str = ""  # 2330A NM104
    paid_amount: Decimal | None = None  # AMT*D: None when that payer has not adjudicated
    noncovered_amount: Decimal | None = None  # AMT*A8
    patient_responsibility: Decimal | None = None  # AMT*EAF
    adjustments: tuple[Adjustment, ...] = ()  # 2320 CAS (claim level)
    remark_codes: tuple[str, ...] = ()  # MOA03-07 (837P) / MIA05, MIA20-23 (837I)
    adjudication_date: date | None = None  # 2330B DTP*573
    claim_control_number: str = ""  # 2330B REF*F8

    @property
    def adjudicated(self) -> bool:
        """Whether the loop carries that payer's decision (AMT*D or DTP*573)."""
        return self.paid_amount is not None or self.adjudication_date is not None


@dataclass(frozen=True, slots=True)
class SubmittedLine:
    """One 2400 service line of a claim."""

    number: str  # LX01
    qualifier: str  # SV101-1 / SV202-1 (HC, ...); empty for a revenue code alone
    procedure: str  # SV101-2 / SV202-2
    modifiers: tuple[str, ...]
    revenue_code: str  # SV201 (837I)
    charge: Decimal
    units: Decimal
    service_from: date | None
    service_to: date | None
    control_number: str  # REF*6R
    other_payers: tuple[OtherPayerLine, ...] = ()  # 2430 loops, in the order given


@dataclass(slots=True)
class SubmittedClaim:
    """One 2300 claim with the loops above it that it belongs to."""

    claim_id: str  # CLM01
    kind: str  # "professional" or "institutional"
    total_charge: Decimal  # CLM02
    facility_code: str  # CLM05-1: place of service (837P) or facility type (837I)
    frequency: str  # CLM05-3
    group_control: str  # GS06 of the group holding it
    set_control: str  # ST02 of the set holding it
    billing_npi: str = ""
    billing_name: str = ""
    payer_id: str = ""
    payer_name: str = ""
    payer_responsibility: str = "P"  # SBR01
    filing_indicator: str = ""  # SBR09
    member_id: str = ""
    subscriber_last: str = ""
    subscriber_first: str = ""
    patient_last: str = ""  # the 2010CA patient when not the subscriber
    patient_first: str = ""
    patient_is_subscriber: bool = True
    referral_number: str = ""  # REF*9F
    prior_authorization: str = ""  # REF*G1
    original_reference: str = ""  # REF*F8
    has_referring_provider: bool = False  # 2310A NM1*DN
    statement_from: date | None = None  # DTP*434 (837I)
    statement_to: date | None = None
    lines: list[SubmittedLine] = field(default_factory=list)
    other_payers: tuple[OtherPayerClaim, ...] = ()  # 2320 loops, in the order given
    digest: str = ""  # sha256 of the claim's segment text: a changed claim draws anew

    @property
    def service_from(self) -> date | None:
        """The first day of service (statement dates, else the earliest line date)."""
        days = [ln.service_from for ln in self.lines if ln.service_from]
        return self.statement_from or (min(days) if days else None)

    @property
    def service_to(self) -> date | None:
        """The last day of service."""
        days = [ln.service_to for ln in self.lines if ln.service_to]
        return self.statement_to or (max(days) if days else None)


@dataclass(frozen=True, slots=True)
class SubmittedSet:
    """One 837 transaction set: its control numbers and the batch id of its BHT."""

    group_control: str  # GS06
    set_control: str  # ST02
    implementation: str  # ST03 or GS08
    batch_id: str  # BHT03
    submitter_name: str  # 1000A NM103
    submitter_id: str  # 1000A NM109


@dataclass(slots=True)
class Submission:
    """Everything read from one 837 file."""

    isa13: str = ""
    sender_qualifier: str = ""
    sender_id: str = ""  # ISA06, trimmed
    receiver_qualifier: str = ""
    receiver_id: str = ""  # ISA08, trimmed
    usage: str = ""  # ISA15
    sets: list[SubmittedSet] = field(default_factory=list)
    claims: list[SubmittedClaim] = field(default_factory=list)


@dataclass(slots=True)
class _Subscriber:
    payer_responsibility: str = "P"
    filing_indicator: str = ""
    member_id: str = ""
    last: str = ""
    first: str = ""
    payer_id: str = ""
    payer_name: str = ""


def read_submission(data: bytes) -> Submission:
    """The claims of an 837 file (see the module docstring); envelope problems are ignored here."""
    out = Submission()
    group_control = ""
    implementation = ""
    st02 = ""
    st03 = ""
    batch_id = ""
    submitter: tuple[str, str] = ("", "")
    in_header = False
    kind = "professional"
    billing = ("", "")
    subscriber = _Subscriber()
    patient: tuple[str, str] | None = None
    level = ""
    claim: SubmittedClaim | None = None
    claim_text: list[str] = []
    line: dict[str, object] | None = None
    last_nm1 = ""
    others: list[OtherPayerClaim] = []  # the claim's 2320 loops so far (the last is open)
    line_others: list[OtherPayerLine] = []  # the line's 2430 loops so far (the last is open)

    def close_line() -> None:
        nonlocal line
        if claim is not None and line is not None:
            line["other_payers"] = tuple(line_others)
            claim.lines.append(SubmittedLine(**line))  # type: ignore[arg-type]
        line = None
        line_others.clear()

    def close_claim() -> None:
        nonlocal claim
        close_line()
        if claim is not None:
            claim.other_payers = tuple(others)
            claim.digest = hashlib.sha256("~".join(claim_text).encode()).hexdigest()
            out.claims.append(claim)
        claim = None
        claim_text.clear()
        others.clear()

    for seg in read_segments(data):
        tag = seg.tag
        if claim is not None and tag not in ("HL", "SE", "GE", "IEA"):
            claim_text.append("*".join(seg.elements))
        if tag == "ISA":
            out.isa13 = out.isa13 or seg[13].strip()
            out.sender_qualifier = out.sender_qualifier or seg[5].strip()
            out.sender_id = out.sender_id or seg[6].strip()
            out.receiver_qualifier = out.receiver_qualifier or seg[7].strip()
            out.receiver_id = out.receiver_id or seg[8].strip()
            out.usage = out.usage or seg[15].strip()
        elif tag == "GS":
            group_control, implementation = seg[6], seg[8]
        elif tag == "ST":
            close_claim()
            st02, st03 = seg[2], seg[3]
            in_header, batch_id, submitter = True, "", ("", "")
            version = (st03 or implementation).upper()
            kind = "institutional" if "X223" in version or "X096" in version else "professional"
        elif tag == "BHT":
            batch_id = seg[3]
        elif tag == "SE":
            close_claim()
        elif tag == "HL":
            close_claim()
            if in_header:
                out.sets.append(
                    SubmittedSet(group_control, st02, st03 or implementation, batch_id, *submitter)
                )
                in_header = False
            level = seg[3]
            if level == "20":
                billing = ("", "")
            elif level == "22":
                subscriber = _Subscriber()
                patient = None
            elif level == "23":
                patient = ("", "")
        elif tag == "NM1":
            last_nm1 = seg[1]
            if in_header and seg[1] == "41":
                submitter = (seg[3], seg[9])
            elif claim is None and level == "20" and seg[1] == "85":
                billing = (seg[9], seg[3])
            elif claim is None and level == "22" and seg[1] == "IL":
                subscriber.last, subscriber.first, subscriber.member_id = seg[3], seg[4], seg[9]
            elif claim is None and level == "22" and seg[1] == "PR":
                subscriber.payer_name, subscriber.payer_id = seg[3], seg[9]
            elif claim is None and level == "23" and seg[1] == "QC":
                patient = (seg[3], seg[4])
            elif claim is not None and line is None and others:
                # 2330A other subscriber, 2330B other payer (2330C-I: that payer's providers)
                if seg[1] == "IL":
                    others[-1] = replace(
                        others[-1], subscriber_last=seg[3], subscriber_first=seg[4],
                        member_id=seg[9],
                    )  # fmt: skip
                elif seg[1] == "PR":
                    others[-1] = replace(others[-1], payer_name=seg[3], payer_id=seg[9])
            elif claim is not None and line is None and seg[1] == "DN":
                claim.has_referring_provider = True
        elif tag == "SBR" and claim is None and level == "22":
            subscriber.payer_responsibility = seg[1] or "P"
            subscriber.filing_indicator = seg[9]
        elif tag == "CLM":
            close_claim()
            last_nm1 = ""
            claim_text.append("*".join(seg.elements))
            composite = seg.components(5)
            claim = SubmittedClaim(
                claim_id=seg[1],
                kind=kind,
                total_charge=parse_amount(seg[2]),
                facility_code=composite[0] if composite else "",
                frequency=composite[2] if len(composite) > 2 else "",
                group_control=group_control,
                set_control=st02,
                billing_npi=billing[0],
                billing_name=billing[1],
                payer_id=subscriber.payer_id,
                payer_name=subscriber.payer_name,
                payer_responsibility=subscriber.payer_responsibility,
                filing_indicator=subscriber.filing_indicator,
                member_id=subscriber.member_id,
                subscriber_last=subscriber.last,
                subscriber_first=subscriber.first,
                patient_last=patient[0] if patient else subscriber.last,
                patient_first=patient[1] if patient else subscriber.first,
                patient_is_subscriber=patient is None,
            )
        elif claim is None:
            continue
        elif tag == "SBR" and line is None:  # 2320: another payer of this claim
            others.append(OtherPayerClaim(seg[1], seg[2], seg[3], seg[9]))
        elif tag == "SVD" and line is not None:  # 2430: another payer's decision on the line
            procedure = seg.components(3)
            line_others.append(
                OtherPayerLine(
                    payer_id=seg[1],
                    paid_amount=parse_amount(seg[2]),
                    qualifier=procedure[0] if procedure else "",
                    procedure=procedure[1] if len(procedure) > 1 else "",
                    modifiers=tuple(m for m in procedure[2:6] if m),
                    revenue_code=seg[4],
                    units=parse_amount(seg[5]) if seg[5] else Decimal(1),
                    bundled_line=seg[6],
                )
            )
        elif tag == "CAS" and line is not None and line_others:
            found = line_others[-1]
            line_others[-1] = replace(found, adjustments=found.adjustments + _adjustments(seg))
        elif tag == "CAS" and line is None and others:
            found_payer = others[-1]
            others[-1] = replace(
                found_payer, adjustments=found_payer.adjustments + _adjustments(seg)
            )
        elif tag == "DTP" and seg[1] == "573" and line is not None and line_others:
            line_others[-1] = replace(line_others[-1], adjudication_date=_date(seg[3]))
        elif tag == "DTP" and seg[1] == "573" and line is None and others:
            others[-1] = replace(others[-1], adjudication_date=_date(seg[3]))
        elif tag == "AMT" and line is not None and line_others and seg[1] == "EAF":
            line_others[-1] = replace(line_others[-1], patient_responsibility=parse_amount(seg[2]))
        elif tag == "AMT" and line is None and others:
            value = parse_amount(seg[2])
            if seg[1] == "D":  # that payer's paid amount
                others[-1] = replace(others[-1], paid_amount=value)
            elif seg[1] == "A8":  # noncovered charges
                others[-1] = replace(others[-1], noncovered_amount=value)
            elif seg[1] == "EAF":  # remaining patient liability
                others[-1] = replace(others[-1], patient_responsibility=value)
        elif tag in ("MOA", "MIA") and line is None and others:
            positions = (3, 4, 5, 6, 7) if tag == "MOA" else (5, 20, 21, 22, 23)
            remarks = tuple(seg[n] for n in positions if seg[n])
            others[-1] = replace(others[-1], remark_codes=others[-1].remark_codes + remarks)
        elif tag == "REF" and line is None and others and seg[1] == "F8":
            # 2330B REF*F8: that payer's claim control number (2300 REFs come before any 2320)
            others[-1] = replace(others[-1], claim_control_number=seg[2])
        elif tag == "LX":
            close_line()
            line = {
                "number": seg[1],
                "qualifier": "",
                "procedure": "",
                "modifiers": (),
                "revenue_code": "",
                "charge": Decimal(0),
                "units": Decimal(1),
                "service_from": None,
                "service_to": None,
                "control_number": "",
            }
        elif tag in ("SV1", "SV2") and line is not None:
            procedure = seg.components(1 if tag == "SV1" else 2)
            line["qualifier"] = procedure[0] if procedure and len(procedure) > 1 else ""
            line["procedure"] = procedure[1] if len(procedure) > 1 else ""
            line["modifiers"] = tuple(m for m in procedure[2:6] if m)
            if tag == "SV2":
                line["revenue_code"] = seg[1]
            charge, units = (seg[2], seg[4]) if tag == "SV1" else (seg[3], seg[5])
            line["charge"] = parse_amount(charge)
            line["units"] = parse_amount(units) if units else Decimal(1)
        elif tag == "DTP" and line is not None and seg[1] == "472":
            line["service_from"], line["service_to"] = _period(seg)
        elif tag == "REF" and line is not None and seg[1] == "6R":
            line["control_number"] = seg[2]
        elif tag == "DTP" and line is None and seg[1] == "434":
            claim.statement_from, claim.statement_to = _period(seg)
        elif tag == "REF" and line is None and not last_nm1:
            # 2300 REFs come before every 2310/2330 NM1; later REFs belong to those loops
            if seg[1] == "9F":
                claim.referral_number = seg[2]
            elif seg[1] == "G1":
                claim.prior_authorization = seg[2]
            elif seg[1] == "F8":
                claim.original_reference = seg[2]
    close_claim()
    return out


# --- a header that is not fixed-length -----------------------------------------------------------

_QUALIFIER = re.compile(r"[0-9A-Z]{2}")
_ISA_ID = re.compile(r"[0-9A-Za-z .,&'()/-]{1,15}")


@dataclass(frozen=True, slots=True)
class LooseHeader:
    """The ISA fields of a header read loosely (trimmed), enough to know who sent it."""

    sender_qualifier: str  # ISA05
    sender: str  # ISA06
    receiver_qualifier: str  # ISA07
    receiver: str  # ISA08
    date: str  # ISA09
    time: str  # ISA10
    control: str  # ISA13
    usage: str  # ISA15


def read_loose_header(data: bytes) -> LooseHeader | None:
    """The ISA fields of a header that is not fixed-length, when they are good enough to answer.

    Many senders trim the padding of ISA06/ISA08; a clearinghouse still knows who sent it and
    rejects the interchange with a TA1 instead of staying silent. None when the fields are not
    plausible (a qualifier, an id, a date or time, a control number or usage out of shape).
    """
    text = data[:512].decode("latin-1").lstrip("\ufeff \r\n\t")
    if len(text) < 4 or not text.startswith("ISA") or text[3].isalnum():
        return None
    fields = text.split(text[3])
    if len(fields) < 17:
        return None
    found = LooseHeader(
        sender_qualifier=fields[5].strip(),
        sender=fields[6].strip(),
        receiver_qualifier=fields[7].strip(),
        receiver=fields[8].strip(),
        date=fields[9].strip(),
        time=fields[10].strip(),
        control=fields[13].strip(),
        usage=fields[15].strip()[:1],
    )
    good = (
        _QUALIFIER.fullmatch(found.sender_qualifier)
        and _QUALIFIER.fullmatch(found.receiver_qualifier)
        and _ISA_ID.fullmatch(found.sender)
        and _ISA_ID.fullmatch(found.receiver)
        and re.fullmatch(r"[0-9]{6}", found.date)
        and re.fullmatch(r"[0-9]{4}", found.time)
        and re.fullmatch(r"[0-9]{9}", found.control)
        and found.usage in ("P", "T", "I")
    )
    return found if good else None
