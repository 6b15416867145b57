"""Segments the 837P and 837I share: names, addresses, billing provider, subscriber, payer, patient.

Every function appends finished segment text to ``out`` through a ``gateway.x12.Writer`` (plain
string building, no per-segment objects: this is the hot path). Positions are named as the TR3s
name them; loop ids are those of 005010X222A1 and 005010X223A2, which agree for these loops.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.models import (
    Address,
    BillingProvider,
    Encounter,
    Patient,
    Payer,
    PayerResponsibility,
    Provider,
    Subscriber,
    TaxIdType,
)
from gateway.x12 import (
    DEFAULT_DELIMITERS,
    Defect,
    DefectCode,
    Delimiters,
    Element,
    Location,
    Writer,
    X12Error,
)

__all__ = [
    "ClaimBuildError",
    "ClaimWriter",
    "amount",
    "billing_provider_loop",
    "d8",
    "patient_loop",
    "person_name",
    "subscriber_loop",
]


class ClaimBuildError(Exception):
    """One encounter cannot be written as a TR3-conformant claim; it is left out of the file.

    ``path`` names the encounter field (``service_lines[3].diagnosis_pointers``), never its value.
    """

    def __init__(self, claim_id: str, path: str, message: str) -> None:
        super().__init__(f"claim {claim_id}: {path}: {message}")
        self.claim_id = claim_id
        self.path = path
        self.message = message


class ClaimWriter(Writer):
    """``Writer`` with a fast path for the builder's hot loop, refusing non-X12 characters too.

    A segment of plain elements and composites is joined in one go and checked as a whole (the
    separators it holds must be exactly those the join put in; no repetition separator or
    terminator anywhere) instead of value by value. Anything else (a delimiter in the data,
    repetitions) goes through ``Writer.segment``, which raises the located ``X12Error``.
    Unlike ``Writer``, it also refuses characters outside printable ASCII (``MÜLLER``, a tab):
    receivers reject them (IK403-6), and one such claim would sink its whole file.

    >>> ClaimWriter().segment("SV1", ["HC", "99213", "25", "", ""], "125", "UN", "1", "", "")
    'SV1*HC:99213:25*125*UN*1~'
    """

    __slots__ = ("_forbidden",)

    def __init__(
        self, delimiters: Delimiters = DEFAULT_DELIMITERS, *, newline: bool = False
    ) -> None:
        super().__init__(delimiters, newline=newline)
        self._forbidden = tuple(c for c in (delimiters.repetition, delimiters.segment) if c)

    def segment(self, tag: str, *elements: Element) -> str:
        """One segment as text, terminator included (see ``Writer.segment``)."""
        sep = self._sep
        try:
            body = sep.join(elements)  # type: ignore[arg-type]  # plain strings: the common case
        except TypeError:
            return self._checked(tag, elements)  # a composite among them
        if (
            body.count(sep) == len(elements) - 1
            and self._comp not in body
            and body.isascii()
            and body.isprintable()
        ):
            for char in self._forbidden:
                if char in body:
                    return self._checked(tag, elements)
            self.segments_written += 1
            body = body.rstrip(sep)
            return (tag + sep + body if body else tag) + self._end
        return self._checked(tag, elements)

    def _checked(self, tag: str, elements: tuple[Element, ...]) -> str:
        text = self._join(tag, elements)
        core = text[: len(text) - len(self._end)]
        if not (core.isascii() and core.isprintable()):
            self._refuse_characters(tag, elements)
        return text

    def _join(self, tag: str, elements: tuple[Element, ...]) -> str:
        sep, comp = self._sep, self._comp
        try:
            body = sep.join(elements)  # type: ignore[arg-type]  # plain strings: the common case
        except TypeError:
            pass  # a composite among them
        else:
            if body.count(sep) == len(elements) - 1 and comp not in body:
                for char in self._forbidden:
                    if char in body:
                        return super().segment(tag, *elements)
                self.segments_written += 1
                body = body.rstrip(sep)
                return (tag + sep + body if body else tag) + self._end
            return super().segment(tag, *elements)
        fields: list[str] = []
        components = 0  # component separators the composites put in
        for value in elements:
            if value.__class__ is str:
                fields.append(value)
                continue
            if not value:
                fields.append("")  # an empty composite is an empty element
                continue
            if value[0].__class__ is not str:
                return super().segment(tag, *elements)  # repetitions: the general path
            n = len(value)
            while n and not value[n - 1]:
                n -= 1  # trailing empty components are left out
            if n > 1:
                components += n - 1
            fields.append(comp.join(value[:n]))  # type: ignore[arg-type]
        n = len(fields)
        while n and not fields[n - 1]:
            n -= 1  # trailing empty elements are left out
        body = sep.join(fields[:n])
        if body.count(sep) != max(n - 1, 0) or body.count(comp) != components:
            return super().segment(tag, *elements)  # a delimiter in the data: refused there
        for char in self._forbidden:
            if char in body:
                return super().segment(tag, *elements)
        self.segments_written += 1
        return (tag + sep + body if body else tag) + self._end

    def _refuse_characters(self, tag: str, elements: tuple[Element, ...]) -> None:
        for position, value in enumerate(elements, 1):
            parts = [value] if isinstance(value, str) else list(value)
            for number, part in enumerate(parts, 1):
                text = part if isinstance(part, str) else "".join(part)
                if not (text.isascii() and text.isprintable()):
                    component = None if isinstance(value, str) else number
                    where = Location(
                        segment_index=self.segments_written - 1,
                        tag=tag,
                        element=position,
                        component=component,
                    )
                    raise X12Error(
                        Defect(
                            DefectCode.IK403_6,
                            f"The value for {where.element_ref} has characters outside the X12 "
                            "character set (accents, symbols or control characters).",
                            where,
                            hint="Write it in plain ASCII at its source (e.g. MUNOZ for MUÑOZ).",
                        )
                    )

    def known(self, tag: str, *elements: str) -> str:
        """A segment of values the builder made itself (qualifiers, digits, dates, amounts),
        which can hold no delimiter: joined without checks. No trailing empty elements."""
        self.segments_written += 1
        sep = self._sep
        return tag + sep + sep.join(elements) + self._end


def d8(value: date) -> str:
    """A date as X12 ``D8`` (CCYYMMDD): ``date(2026, 11, 2)`` -> ``20261102``."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def amount(value: Decimal) -> str:
    """A decimal as X12 type ``R``: no exponent, no trailing zeros (``42.50`` -> ``42.5``).

    >>> amount(Decimal("185.00")), amount(Decimal("42.50")), amount(Decimal("0.00"))
    ('185', '42.5', '0')
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def person_name(provider: Provider) -> tuple[str, str, str, str]:
    """NM103 last, NM104 first, NM105 middle, NM107 suffix of a person."""
    return (
        provider.last_name,
        provider.first_name or "",
        provider.middle_name or "",
        provider.suffix or "",
    )


def address(w: ClaimWriter, out: list[str], place: Address) -> None:
    """N3 street lines and N4 city/state/ZIP (country only outside the US).

    ``N3*100 MAIN ST*SUITE 2~`` ``N4*SPRINGFIELD*IL*627011234~``
    """
    # N301 address line 1, N302 address line 2
    out.append(w.segment("N3", place.line1, place.line2 or ""))
    # N401 city, N402 state, N403 postal code, N404 country (only when not US)
    country = place.country_code or ""
    if country == "US":
        country = ""
    out.append(w.segment("N4", place.city, place.state, place.zip, country))


def provider_nm1(
    w: ClaimWriter, out: list[str], entity: str, provider: Provider, *, npi: bool = True
) -> None:
    """An individual provider's NM1: ``NM1*82*1*CARTER*ANNA****XX*1645123450~``."""
    last, first, middle, suffix = person_name(provider)
    # NM101 entity identifier, NM102 1 person, NM103-NM105 name, NM107 suffix, NM108 XX NPI
    out.append(
        w.segment(
            "NM1",
            entity,
            "1",
            last,
            first,
            middle,
            "",
            suffix,
            "XX" if npi else "",
            provider.npi if npi else "",
        )
    )


def billing_provider_loop(
    w: ClaimWriter,
    out: list[str],
    provider: BillingProvider,
    pay_to: Address | None,
    *,
    professional: bool,
) -> None:
    """Loop 2000A content after its HL: PRV, 2010AA billing provider, 2010AB pay-to address.

    ``PRV*BI*PXC*207Q00000X~`` ``NM1*85*2*VALLEY FAMILY PRACTICE*****XX*1234567893~``
    ``N3*100 MAIN ST~`` ``N4*SPRINGFIELD*IL*627011234~`` ``REF*EI*371234567~``
    ``PER*IC*BILLING OFFICE*TE*2175550100~`` ``NM1*87*2~`` ``N3*PO BOX 44~`` ``N4*...~``
    """
    if provider.taxonomy:
        # PRV01 BI billing, PRV02 PXC taxonomy qualifier, PRV03 provider taxonomy code
        out.append(w.segment("PRV", "BI", "PXC", provider.taxonomy))
    if provider.organization_name or not professional:
        # 837I NM102 allows only 2 (non-person); a person's name is the organization name there
        name = provider.organization_name or _joined_name(provider)
        out.append(w.segment("NM1", "85", "2", name, "", "", "", "", "XX", provider.npi))
    else:
        out.append(
            w.segment(
                "NM1",
                "85",
                "1",
                provider.last_name or "",
                provider.first_name or "",
                provider.middle_name or "",
                "",
                "",
                "XX",
                provider.npi,
            )
        )
    address(w, out, provider.address)
    # REF01 EI employer id / SY social security number (837I: EI only), REF02 the number
    qualifier = provider.tax_id_type.x12_qualifier if professional else "EI"
    out.append(w.segment("REF", qualifier, provider.tax_id))
    contact = provider.contact
    if contact is not None:
        # PER01 IC information contact, PER02 name, PER03/04 .. PER07/08 up to three numbers
        numbers: list[str] = ["TE", contact.phone]
        if contact.phone_extension:
            numbers += ["EX", contact.phone_extension]
        if contact.email:
            numbers += ["EM", contact.email]
        if contact.fax and len(numbers) < 6:
            numbers += ["FX", contact.fax]
        out.append(w.segment("PER", "IC", contact.name, *numbers[:6]))
    if pay_to is not None:
        # 2010AB NM101 87 pay-to provider, NM102 2 (non-person entity)
        out.append(w.segment("NM1", "87", "2"))
        address(w, out, pay_to)


def _joined_name(provider: BillingProvider) -> str:
    parts = [provider.last_name or "", provider.first_name or "", provider.middle_name or ""]
    return " ".join(p for p in parts if p)


def subscriber_loop(
    w: ClaimWriter,
    out: list[str],
    subscriber: Subscriber,
    payer: Payer,
    *,
    is_patient: bool,
    professional: bool,
) -> None:
    """Loop 2000B content after its HL: SBR, 2010BA subscriber, 2010BB payer.

    ``SBR*P*18*GRP00451******CI~`` ``NM1*IL*1*DOE*JANE****MI*UH4471829001~``
    ``N3*42 OAK AVE~`` ``N4*SPRINGFIELD*IL*62704~`` ``DMG*D8*19800412*F~``
    ``NM1*PR*2*UNITED HEALTHCARE*****PI*87726~``
    """
    # SBR01 payer responsibility sequence (P, S, T...), SBR02 18 when the subscriber is the
    # patient, SBR03 group or policy number, SBR04 group name, SBR05 insurance type (837P only,
    # for a payer that is not primary: why Medicare pays second), SBR09 claim filing indicator
    responsibility = subscriber.payer_responsibility
    insurance_type = ""
    if professional and responsibility is not PayerResponsibility.PRIMARY:
        insurance_type = subscriber.insurance_type or ""
    out.append(
        w.segment(
            "SBR",
            responsibility.x12_code,
            "18" if is_patient else "",
            subscriber.group_number or "",
            subscriber.group_name or "",
            insurance_type,
            "",
            "",
            "",
            subscriber.claim_filing_indicator.value,
        )
    )
    # 2010BA NM102 1 person, NM108 MI member identification number
    out.append(
        w.segment(
            "NM1",
            "IL",
            "1",
            subscriber.last_name,
            subscriber.first_name or "",
            subscriber.middle_name or "",
            "",
            subscriber.suffix or "",
            "MI",
            subscriber.member_id,
        )
    )
    if subscriber.address is not None:
        address(w, out, subscriber.address)
    if is_patient and subscriber.birth_date is not None and subscriber.gender is not None:
        # DMG01 D8, DMG02 birth date, DMG03 administrative gender; the TR3s: "required when the
        # patient is the subscriber; if not required by this implementation guide, do not send"
        out.append(w.known("DMG", "D8", d8(subscriber.birth_date), subscriber.gender.value))
    # 2010BB NM101 PR payer, NM102 2, NM108 PI payer identification
    out.append(w.segment("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.id))
    if payer.address is not None:
        address(w, out, payer.address)


def patient_loop(w: ClaimWriter, out: list[str], patient: Patient, *, professional: bool) -> None:
    """Loop 2000C content after its HL: PAT and 2010CA patient name, address, demographics.

    ``PAT*19~`` ``NM1*QC*1*SMITH*LILY~`` ``N3*9 ELM ST*APT 4~`` ``N4*CHATHAM*IL*626291002~``
    ``DMG*D8*20150603*F~``
    """
    # PAT01 individual relationship code; 837P PAT05/PAT06 date of death (D8)
    if professional and patient.death_date is not None:
        out.append(
            w.segment(
                "PAT",
                patient.relationship_to_subscriber.value,
                "",
                "",
                "",
                "D8",
                d8(patient.death_date),
            )
        )
    else:
        out.append(w.known("PAT", patient.relationship_to_subscriber.value))
    out.append(
        w.segment(
            "NM1",
            "QC",
            "1",
            patient.last_name,
            patient.first_name or "",
            patient.middle_name or "",
            "",
            patient.suffix or "",
        )
    )
    address(w, out, patient.address)
    out.append(w.known("DMG", "D8", d8(patient.birth_date), patient.gender.value))


def line_control_number(encounter: Encounter, index: int) -> str:
    """REF*6R for line ``index`` (0-based): the encounter's ``line_id``, else ``<claim_id>-<n>``.

    835 (REF*6R on SVC) and 277CA (REF*FJ) answer lines under this number.
    """
    line_id = encounter.service_lines[index].line_id
    return line_id if line_id else f"{encounter.claim_id}-{index + 1}"


def tax_id_problem(provider: BillingProvider, professional: bool) -> str | None:
    """Why the billing provider's tax id cannot be written (837I knows only an EIN)."""
    if not professional and provider.tax_id_type is TaxIdType.SSN:
        return "an 837I billing provider must report an EIN (REF*EI); an SSN cannot be sent"
    return None


def check_original_claim_number(encounter: Encounter) -> None:
    """Frequency 7 (replacement) and 8 (void) must name the payer's claim number (REF*F8)."""
    if encounter.frequency.value in ("7", "8") and not encounter.original_payer_claim_number:
        raise ClaimBuildError(
            encounter.claim_id,
            "original_payer_claim_number",
            "a replacement (7) or void (8) needs the payer's claim control number for REF*F8",
        )


def check_total(encounter: Encounter, total: Decimal) -> None:
    """Refuse a claim whose stated ``total_charge`` is not the sum of its lines (CLM02)."""
    if encounter.total_charge is not None and encounter.total_charge != total:
        raise ClaimBuildError(
            encounter.claim_id,
            "total_charge",
            f"the stated total is not the sum of the line charges ({amount(total)})",
        )
