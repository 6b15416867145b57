"""ISA/GS/ST envelopes and the HL hierarchy of 837 claim files, and the record of what was sent.

``InterchangeWriter`` writes one interchange (one ISA, one GS, any number of ST sets) for one
trading partner and one kind of claim, a set at a time, so a file of any size is built in bounded
memory. It derives everything countable: HL numbers, parents and child codes, LX numbers, CLM02,
SE01, GE01, IEA01; control numbers come from a ``ControlNumberAllocator``. Within a set, claims of
the same billing provider share one 2000A loop, claims of the same subscriber and payer share one
2000B loop, and claims of the same dependent patient share one 2000C loop (at most 100 claims per
subscriber or patient loop, as the TR3s allow; more start a repeated loop). Example::

    ISA*00*          *00*          *ZZ*VALLEYGATEWAY  *ZZ*DEMOCLEARING   *261102*0930*^*00501*...
    GS*HC*VALLEYGATEWAY*DEMOCLEARING*20261102*0930*17*X*005010X222A1~
    ST*837*0031*005010X222A1~
    BHT*0019*00*000000017-0031*20261102*0930*CH~
    NM1*41*2*VALLEY BILLING GATEWAY*****46*VBG0001~
    PER*IC*EDI DESK*TE*2175550199~
    NM1*40*2*DEMO CLEARINGHOUSE*****46*DEMOCH01~
    HL*1**20*1~            2000A billing provider (no parent, has children)
    HL*2*1*22*0~           2000B subscriber is the patient: claims follow directly
    HL*3*1*22*1~           2000B of a subscriber whose dependents are the patients
    HL*4*3*23*0~           2000C one dependent patient
    SE*44*0031~
    GE*1*17~
    IEA*1*000000017~

What was sent is returned as ``InterchangeSent`` / ``TransactionSent`` / ``ClaimSent``: the
control numbers (ISA13, GS06, ST02), the claim ids in each set and each claim's REF*6R line
control numbers, which is what 999, 277CA and 835 responses are matched against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gateway.models import Encounter, Kind
from gateway.models.partner import TradingPartner
from gateway.transactions import claim837_institutional as institutional
from gateway.transactions import claim837_professional as professional
from gateway.transactions.claim837_common import (
    ClaimBuildError,
    ClaimWriter,
    billing_provider_loop,
    patient_loop,
    subscriber_loop,
)
from gateway.transactions.control_numbers import ControlNumberAllocator
from gateway.x12 import X12Error
from gateway.x12.envelope import (
    GroupHeader,
    InterchangeHeader,
    ge_segment,
    gs_segment,
    iea_segment,
    isa_segment,
)

__all__ = [
    "MAX_CLAIMS_PER_HL",
    "ClaimLeftOut",
    "ClaimSent",
    "InterchangeSent",
    "InterchangeWriter",
    "SetOutput",
    "TransactionSent",
    "implementation_of",
]

MAX_CLAIMS_PER_HL = 100
"""Loop 2300 repeats at most 100 times under one 2000B or 2000C."""

_IMPLEMENTATIONS = {
    Kind.PROFESSIONAL: professional.IMPLEMENTATION,
    Kind.INSTITUTIONAL: institutional.IMPLEMENTATION,
}
_ClaimWriterFn = Callable[[ClaimWriter, Encounter, list[str]], tuple[Decimal, tuple[str, ...]]]
_CLAIM_WRITERS: dict[Kind, _ClaimWriterFn] = {
    Kind.PROFESSIONAL: professional.claim_segments,
    Kind.INSTITUTIONAL: institutional.claim_segments,
}


def implementation_of(kind: Kind) -> str:
    """GS08/ST03 for a kind of claim: ``005010X222A1`` (837P) or ``005010X223A2`` (837I)."""
    return _IMPLEMENTATIONS[kind]


@dataclass(frozen=True, slots=True)
class ClaimSent:
    """One claim as sent: where it is (ISA13/GS06/ST02) and how responses will name its lines."""

    claim_id: str  # CLM01, what 277CA TRN02 and 835 CLP01 answer with
    partner: str
    kind: Kind
    frequency: str  # CLM05-3
    payer_id: str  # 2010BB NM109
    total_charge: Decimal  # CLM02
    line_control_numbers: tuple[str, ...]  # REF*6R of LX 1..n, in order
    isa13: str
    gs06: str
    st02: str


@dataclass(frozen=True, slots=True)
class TransactionSent:
    """One ST-SE set as sent. ``claims`` is empty when the writer was told not to keep them
    (``keep_claims=False``: memory flat in the number of claims); the counts stay."""

    st02: str
    bht03: str  # originator application transaction identifier
    implementation: str  # ST03
    segment_count: int  # SE01
    claims: tuple[ClaimSent, ...]
    claim_count: int  # CLM in the set
    total_charge: Decimal  # sum of CLM02 over the set

    @property
    def claim_ids(self) -> tuple[str, ...]:
        """CLM01 of every claim in the set, in file order (empty when not kept)."""
        return tuple(c.claim_id for c in self.claims)


@dataclass(frozen=True, slots=True)
class InterchangeSent:
    """One interchange (one file) as sent: ISA13, its single GS06 and every set in it."""

    partner: str
    kind: Kind
    isa13: str
    gs06: str
    implementation: str  # GS08
    usage_indicator: str  # ISA15
    created: datetime
    transactions: tuple[TransactionSent, ...]

    @property
    def claims(self) -> tuple[ClaimSent, ...]:
        """Every claim in the interchange, in file order."""
        return tuple(c for t in self.transactions for c in t.claims)

    @property
    def claim_count(self) -> int:
        """How many claims (CLM) the interchange holds."""
        return sum(t.claim_count for t in self.transactions)

    @property
    def total_charge(self) -> Decimal:
        """Sum of CLM02 over the interchange."""
        return sum((t.total_charge for t in self.transactions), Decimal(0))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (Decimal and datetime left for the caller's encoder)."""
        return {
            "partner": self.partner,
            "kind": self.kind.value,
            "isa13": self.isa13,
            "gs06": self.gs06,
            "implementation": self.implementation,
            "usage_indicator": self.usage_indicator,
            "created": self.created,
            "claim_count": self.claim_count,
            "total_charge": self.total_charge,
            "transactions": [
                {
                    "st02": t.st02,
                    "bht03": t.bht03,
                    "segment_count": t.segment_count,
                    "claims": [
                        {
                            "claim_id": c.claim_id,
                            "frequency": c.frequency,
                            "payer_id": c.payer_id,
                            "total_charge": c.total_charge,
                            "line_control_numbers": list(c.line_control_numbers),
                        }
                        for c in t.claims
                    ],
                }
                for t in self.transactions
            ],
        }


@dataclass(frozen=True, slots=True)
class ClaimLeftOut:
    """A claim that was not written, and why (a field path or segment position, never a value)."""

    claim_id: str
    reason: str
    path: str = ""
    source: str | None = None  # the encounter file it came from, when known

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"claim {self.claim_id}{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SetOutput:
    """What ``InterchangeWriter.transaction`` produced: the set's text (empty when no claim could
    be written), its record, and the claims left out."""

    text: str
    sent: TransactionSent | None
    left_out: tuple[ClaimLeftOut, ...]


@dataclass(slots=True)
class _Built:
    encounter: Encounter
    segments: list[str]
    total: Decimal
    controls: tuple[str, ...]


class InterchangeWriter:
    """Writes one interchange for ``partner`` and ``kind``: ``transaction()`` any number of times
    (the first one's text starts with ISA and GS), then ``trailer()``. ISA13 and GS06 are allocated
    with the first set that holds a claim, ST02 with each such set: never for nothing.
    """

    def __init__(
        self,
        partner: TradingPartner,
        kind: Kind,
        allocator: ControlNumberAllocator,
        *,
        created: datetime | None = None,
        keep_claims: bool = True,
    ) -> None:
        self.partner = partner
        self.keep_claims = keep_claims
        self.kind = kind
        self.allocator = allocator
        self.created = created or datetime.now(UTC)
        self.implementation = _IMPLEMENTATIONS[kind]
        self.w = ClaimWriter(partner.delimiters, newline=partner.line_breaks)
        self._claim_writer = _CLAIM_WRITERS[kind]
        self._professional = kind is Kind.PROFESSIONAL
        self.isa13 = ""
        self.gs06 = ""
        self._sets: list[TransactionSent] = []
        self._date = self.created.strftime("%Y%m%d")  # CCYYMMDD (GS04, BHT04)
        self._time = self.created.strftime("%H%M")  # HHMM (ISA10, GS05, BHT05)

    @property
    def started(self) -> bool:
        """Whether the header (and so ISA13 and GS06) has been written."""
        return bool(self.isa13)

    def _header(self) -> str:
        """ISA and GS, with a newly allocated ISA13 and GS06."""
        p = self.partner
        self.isa13 = f"{self.allocator.next_isa13(p.name):09d}"
        self.gs06 = str(self.allocator.next_gs06(p.name))
        isa = isa_segment(
            self.w,
            InterchangeHeader(
                sender_qualifier=p.isa_sender_qualifier,
                sender_id=p.isa_sender_id,
                receiver_qualifier=p.isa_receiver_qualifier,
                receiver_id=p.isa_receiver_id,
                date=self._date[2:],  # ISA09 interchange date YYMMDD
                time=self._time,  # ISA10 interchange time HHMM
                control_number=self.isa13,
                acknowledgment_requested=p.acknowledgment_requested,  # ISA14 (TA1)
                usage_indicator=p.usage_indicator,  # ISA15 T/P
                version="00501",  # ISA12 interchange control version number
                authorization_qualifier=p.authorization_qualifier,
                authorization_information=p.authorization_information,
                security_qualifier=p.security_qualifier,
                security_information=p.security_information,
            ),
        )
        # GS01 HC health care claim, GS02/GS03 application sender/receiver codes, GS04 date,
        # GS05 time, GS06 group control number, GS07 X (ASC X12), GS08 version/release/industry
        gs = gs_segment(
            self.w,
            GroupHeader(
                functional_id="HC",
                application_sender=p.gs_sender_code,
                application_receiver=p.gs_receiver_code,
                date=self._date,
                time=self._time,
                control_number=self.gs06,
                version=self.implementation,
            ),
        )
        return isa + gs

    def transaction(self, encounters: Sequence[Encounter]) -> SetOutput:
        """One ST-SE set holding ``encounters`` (at most the partner's claims per transaction),
        preceded by ISA and GS when it is the interchange's first.

        Claims that cannot be written are left out and reported; if none can, nothing is written
        and no control number is allocated.
        """
        if len(encounters) > self.partner.max_claims_per_transaction:
            raise ValueError(
                f"{len(encounters)} claims exceed the partner's "
                f"{self.partner.max_claims_per_transaction} per transaction"
            )
        left_out: list[ClaimLeftOut] = []
        body, claims = self._detail(encounters, left_out)
        if not claims:
            return SetOutput("", None, tuple(left_out))
        p = self.partner
        w = self.w
        envelope = "" if self.started else self._header()
        st02 = f"{self.allocator.next_st02(p.name):04d}"
        bht03 = f"{self.isa13}-{st02}"
        head = [
            # ST01 837, ST02 transaction set control number, ST03 implementation convention
            w.segment("ST", "837", st02, self.implementation),
            # BHT01 0019 structure, BHT02 00 original, BHT03 reference, BHT04 date, BHT05 time,
            # BHT06 CH chargeable
            w.segment("BHT", "0019", "00", bht03, self._date, self._time, "CH"),
            # 1000A submitter: NM108 46 electronic transmitter identification number
            w.segment(
                "NM1",
                "41",
                p.submitter_entity_type,
                p.submitter_name,
                p.submitter_first_name if p.submitter_entity_type == "1" else "",
                "",
                "",
                "",
                "46",
                p.submitter_id,
            ),
            w.segment("PER", "IC", p.contact_name, *_contact_numbers(p)),
            # 1000B receiver
            w.segment("NM1", "40", "2", p.receiver_name, "", "", "", "", "46", p.receiver_id),
        ]
        count = len(head) + len(body) + 1  # SE01 counts ST through SE
        trailer = w.segment("SE", str(count), st02)
        sent_claims = tuple(
            ClaimSent(
                claim_id=b.encounter.claim_id,
                partner=p.name,
                kind=self.kind,
                frequency=b.encounter.frequency.value,
                payer_id=b.encounter.payer.id,
                total_charge=b.total,
                line_control_numbers=b.controls,
                isa13=self.isa13,
                gs06=self.gs06,
                st02=st02,
            )
            for b in claims
        )
        total = sum((c.total_charge for c in sent_claims), Decimal(0))
        sent = TransactionSent(
            st02, bht03, self.implementation, count, sent_claims, len(sent_claims), total
        )
        self._sets.append(sent if self.keep_claims else replace(sent, claims=()))
        text = envelope + "".join(head) + "".join(body) + trailer
        return SetOutput(text, sent, tuple(left_out))

    def trailer(self) -> tuple[str, InterchangeSent]:
        """GE and IEA, and the record of the whole interchange."""
        if not self._sets:
            raise RuntimeError("an interchange needs at least one transaction set")
        text = ge_segment(self.w, len(self._sets), self.gs06) + iea_segment(self.w, 1, self.isa13)
        sent = InterchangeSent(
            partner=self.partner.name,
            kind=self.kind,
            isa13=self.isa13,
            gs06=self.gs06,
            implementation=self.implementation,
            usage_indicator=self.partner.usage_indicator,
            created=self.created,
            transactions=tuple(self._sets),
        )
        return text, sent

    # ------------------------------------------------------------------------------ detail

    def _detail(
        self, encounters: Sequence[Encounter], left_out: list[ClaimLeftOut]
    ) -> tuple[list[str], list[_Built]]:
        """The 2000A/2000B/2000C hierarchy with the claims under it, HL numbers derived."""
        # billing provider -> (subscriber, payer, subscriber is patient) -> patient -> claims,
        # in first-seen order (dicts keep insertion order)
        tree: dict[Any, dict[Any, dict[Any, list[Encounter]]]] = {}
        for enc in encounters:
            billing = (enc.billing_provider, enc.pay_to_address)
            subscriber = (enc.subscriber, enc.payer, enc.patient is None)
            tree.setdefault(billing, {}).setdefault(subscriber, {}).setdefault(
                enc.patient, []
            ).append(enc)

        w = self.w
        prof = self._professional
        body: list[str] = []
        built_all: list[_Built] = []
        hl = 0
        for (provider, pay_to), subscribers in tree.items():
            members = [e for pats in subscribers.values() for es in pats.values() for e in es]
            billing_text: list[str] = []
            try:
                billing_provider_loop(w, billing_text, provider, pay_to, professional=prof)
            except X12Error as exc:
                _leave_out(left_out, members, exc, "billing_provider")
                continue
            if not prof and provider.tax_id_type.value == "SSN":
                reason = "an 837I billing provider must report an EIN (REF*EI), not an SSN"
                left_out.extend(
                    ClaimLeftOut(e.claim_id, reason, "billing_provider.tax_id_type")
                    for e in members
                )
                continue
            block: list[str] = []
            billing_hl = hl + 1
            next_hl = billing_hl
            for (subscriber, payer, is_patient), patients in subscribers.items():
                sub_text: list[str] = []
                members = [e for es in patients.values() for e in es]
                try:
                    subscriber_loop(
                        w, sub_text, subscriber, payer, is_patient=is_patient, professional=prof
                    )
                except X12Error as exc:
                    _leave_out(left_out, members, exc, "subscriber")
                    continue
                if is_patient:
                    claims = self._claims(patients[None], left_out)
                    for chunk in _chunks(claims, MAX_CLAIMS_PER_HL):
                        next_hl += 1
                        # HL01 id, HL02 parent (2000A), HL03 22 subscriber, HL04 0 no children
                        block.append(w.known("HL", str(next_hl), str(billing_hl), "22", "0"))
                        block.extend(sub_text)
                        _append_claims(block, chunk, built_all)
                    continue
                subscriber_hl = 0
                for patient, encs in patients.items():
                    assert patient is not None
                    pat_text: list[str] = []
                    try:
                        patient_loop(w, pat_text, patient, professional=prof)
                    except X12Error as exc:
                        _leave_out(left_out, encs, exc, "patient")
                        continue
                    claims = self._claims(encs, left_out)
                    for chunk in _chunks(claims, MAX_CLAIMS_PER_HL):
                        if not subscriber_hl:
                            next_hl += 1
                            subscriber_hl = next_hl
                            # HL04 1: the subscriber has patient (2000C) children
                            block.append(
                                w.known("HL", str(subscriber_hl), str(billing_hl), "22", "1")
                            )
                            block.extend(sub_text)
                        next_hl += 1
                        # HL03 23 patient (dependent), HL04 0
                        block.append(w.known("HL", str(next_hl), str(subscriber_hl), "23", "0"))
                        block.extend(pat_text)
                        _append_claims(block, chunk, built_all)
            if not block:
                continue
            # HL01 id, HL02 none (top level), HL03 20 information source, HL04 1 has children
            body.append(w.known("HL", str(billing_hl), "", "20", "1"))
            body.extend(billing_text)
            body.extend(block)
            hl = next_hl
        return body, built_all

    def _claims(self, encounters: list[Encounter], left_out: list[ClaimLeftOut]) -> list[_Built]:
        built: list[_Built] = []
        write = self._claim_writer
        frequency_1_only = self.partner.frequency_1_only
        for enc in encounters:
            if frequency_1_only and enc.frequency.value != "1":
                left_out.append(
                    ClaimLeftOut(
                        enc.claim_id,
                        f"partner {self.partner.name} accepts only frequency 1 (original); "
                        "resubmit the corrected claim as an original",
                        "frequency",
                    )
                )
                continue
            if enc.kind is not self.kind:
                left_out.append(
                    ClaimLeftOut(enc.claim_id, f"not a {self.kind.value} claim", "kind")
                )
                continue
            segments: list[str] = []
            try:
                total, controls = write(self.w, enc, segments)
            except ClaimBuildError as exc:
                left_out.append(ClaimLeftOut(enc.claim_id, exc.message, exc.path))
                continue
            except X12Error as exc:
                left_out.append(_from_x12_error(enc.claim_id, exc))
                continue
            built.append(_Built(enc, segments, total, controls))
        return built


def _contact_numbers(p: TradingPartner) -> list[str]:
    """PER03-PER06 of 1000A: TE phone and/or EM e-mail."""
    numbers: list[str] = []
    if p.contact_phone:
        numbers += ["TE", p.contact_phone]
    if p.contact_email:
        numbers += ["EM", p.contact_email]
    return numbers


def _chunks(items: list[_Built], size: int) -> list[list[_Built]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _append_claims(block: list[str], claims: list[_Built], built_all: list[_Built]) -> None:
    for b in claims:
        block.extend(b.segments)
        built_all.append(b)


def _from_x12_error(claim_id: str, exc: X12Error) -> ClaimLeftOut:
    ref = exc.defect.location.element_ref or exc.defect.location.tag or ""
    return ClaimLeftOut(claim_id, exc.defect.message, ref)


def _leave_out(
    left_out: list[ClaimLeftOut], encounters: list[Encounter], exc: X12Error, part: str
) -> None:
    ref = exc.defect.location.element_ref or ""
    for enc in encounters:
        left_out.append(ClaimLeftOut(enc.claim_id, exc.defect.message, f"{part} {ref}".strip()))
