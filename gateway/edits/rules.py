"""The scrubber's rules: pure functions from an encounter to the findings they raise.

Each rule takes the encounter and a ``Context`` (today's date) and yields ``Finding``s; ``RULES``
lists them in the order their findings are reported. A rule never changes the encounter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel

from gateway.codes import procedures as code_sets
from gateway.codes.dated import DatedCodes, Validity
from gateway.edits import codelists as cl
from gateway.edits import diagnosis_codes, procedure_codes
from gateway.edits.findings import Finding, finding
from gateway.edits.findings import FindingCode as C
from gateway.models.encounter import (
    Address,
    Encounter,
    Institutional,
    Provider,
)
from gateway.models.encounter_types import (
    Kind,
    PayerResponsibility,
    TaxIdType,
    UnitType,
)

MAX_DIAGNOSES_PROFESSIONAL = 12
MAX_DIAGNOSES_INSTITUTIONAL = 25  # the principal diagnosis and 24 others
MAX_LINES = {Kind.PROFESSIONAL: 50, Kind.INSTITUTIONAL: 999}
MAX_POINTERS = 4
MAX_MODIFIERS = 4
MAX_UB_CODES = 24
MAX_REASONS_FOR_VISIT = 3
STILL_A_PATIENT = "30"
OLD_SERVICE = timedelta(days=365)  # the shortest common timely-filing limit


@dataclass(frozen=True)
class Context:
    """What the rules need besides the encounter: the date the claim is checked on, and the
    practice's licensed CPT list when ``[codes] cpt_file`` names one (else CPT is checked by
    shape only)."""

    today: date
    cpt: DatedCodes | None = None


Rule = Callable[[Encounter, Context], Iterator[Finding]]


PERSON_ROLES = (
    "rendering_provider",
    "referring_provider",
    "supervising_provider",
    "attending_provider",
    "operating_provider",
    "other_operating_provider",
)
"""The claim-level provider fields that hold a ``Provider``."""


def _people(enc: Encounter) -> Iterator[tuple[str, Provider]]:
    """(path, provider) of every person named as a provider, claim and line level."""
    for role in PERSON_ROLES:
        provider: Provider | None = getattr(enc, role)
        if provider is not None:
            yield role, provider
    for i, line in enumerate(enc.service_lines):
        if line.rendering_provider is not None:
            yield f"service_lines[{i}].rendering_provider", line.rendering_provider


def _providers(enc: Encounter) -> Iterator[tuple[str, str]]:
    """(path, npi) of every provider named in the encounter."""
    yield "billing_provider.npi", enc.billing_provider.npi
    for path, provider in _people(enc):
        yield f"{path}.npi", provider.npi
    if enc.service_facility is not None and enc.service_facility.npi is not None:
        yield "service_facility.npi", enc.service_facility.npi


# ----------------------------------------------------------------------------- identifiers


def claim_id(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """``claim_id`` is 1-20 letters, digits or hyphens (CLM01)."""
    if not cl.CLAIM_ID.fullmatch(enc.claim_id):
        yield finding(
            C.CLAIM_ID_FORMAT,
            "claim_id",
            f"claim_id {enc.claim_id!r} is not 1-20 letters, digits or '-' "
            f"({len(enc.claim_id)} characters).",
        )


def npis(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Every provider NPI is 10 digits with a correct Luhn check digit."""
    for path, npi in _providers(enc):
        if cl.is_valid_npi(npi):
            continue
        if not cl.is_npi_format(npi):
            yield finding(C.NPI_FORMAT, path, f"NPI {npi!r} is not 10 digits starting with 1 or 2.")
        elif not cl.is_valid_npi(npi):
            yield finding(
                C.NPI_CHECKDIGIT,
                path,
                f"NPI {npi} fails its check digit (expected {cl.npi_check_digit(npi[:9])} last).",
            )


def billing_provider(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """The billing provider has a name and a 9-digit tax id (an EIN on 837I); phone 10 digits."""
    bp = enc.billing_provider
    if not bp.organization_name and not bp.last_name:
        yield finding(
            C.BILLING_NAME_MISSING,
            "billing_provider.organization_name",
            "The billing provider has neither an organization name nor a last name.",
        )
    if not (bp.tax_id.isascii() and bp.tax_id.isdigit() and len(bp.tax_id) == 9):
        yield finding(
            C.TAX_ID_FORMAT,
            "billing_provider.tax_id",
            f"The billing provider's {bp.tax_id_type} is not 9 digits.",
        )
    if bp.tax_id_type is TaxIdType.SSN and enc.kind is Kind.INSTITUTIONAL:
        # 2010AA REF01 of the 837I allows only EI: an institution bills under its EIN
        yield finding(
            C.TAX_ID_TYPE_INSTITUTIONAL,
            "billing_provider.tax_id_type",
            "An institutional claim (837I) identifies the billing provider by its EIN; "
            "an SSN cannot be sent.",
        )
    if bp.contact is not None:
        phone = bp.contact.phone
        if not (phone.isascii() and phone.isdigit() and len(phone) == 10):
            yield finding(
                C.PHONE_FORMAT, "billing_provider.contact.phone", "The phone is not 10 digits."
            )


def taxonomies(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Taxonomy codes are 10 characters ending in X."""
    code = enc.billing_provider.taxonomy
    if code is not None and not cl.TAXONOMY.fullmatch(code):
        yield finding(
            C.TAXONOMY_FORMAT,
            "billing_provider.taxonomy",
            f"Taxonomy {code!r} is not 10 characters ending in X.",
        )
    for path, provider in _people(enc):
        code = provider.taxonomy
        if code is not None and not cl.TAXONOMY.fullmatch(code):
            yield finding(
                C.TAXONOMY_FORMAT,
                f"{path}.taxonomy",
                f"Taxonomy {code!r} is not 10 characters ending in X.",
            )


def references(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Reference numbers (authorization, referral, record...) fit a REF02: 1-50, no spaces."""
    fields: list[tuple[str, str | None]] = [
        ("prior_authorization", enc.prior_authorization),
        ("referral_number", enc.referral_number),
        ("medical_record_number", enc.medical_record_number),
        ("original_payer_claim_number", enc.original_payer_claim_number),
        ("subscriber.member_id", enc.subscriber.member_id),
        ("payer.id", enc.payer.id),
    ]
    fields += [
        (f"service_lines[{i}].prior_authorization", line.prior_authorization)
        for i, line in enumerate(enc.service_lines)
        if line.prior_authorization is not None
    ]
    for path, value in fields:
        if value is not None and not cl.REFERENCE.fullmatch(value):
            problem = (
                "contains a space"
                if any(ch.isspace() for ch in value)
                else f"is {len(value)} characters (1-50 allowed)"
            )
            yield finding(C.REFERENCE_FORMAT, path, f"{path} {problem}.")


def medicare_id(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """A Medicare claim (filing indicator MA/MB) names the member by a well-formed MBI."""
    sub = enc.subscriber
    if sub.claim_filing_indicator not in cl.MEDICARE_FILING or cl.MBI.fullmatch(sub.member_id):
        return
    hyphens = "-" in sub.member_id and cl.MBI.fullmatch(sub.member_id.replace("-", ""))
    problem = "is written with hyphens" if hyphens else "is not shaped like an MBI"
    yield finding(
        C.MEDICARE_ID_FORMAT,
        "subscriber.member_id",
        f"The Medicare member id {problem} (11 characters, e.g. 1EG4TE5MK73).",
    )


def line_ids(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Line ids (REF*6R) are 1-50 letters, digits or '-', unique within the claim."""
    seen: dict[str, int] = {}
    for i, line in enumerate(enc.service_lines):
        if line.line_id is None:
            continue
        if not cl.LINE_ID.fullmatch(line.line_id):
            yield finding(
                C.LINE_ID_FORMAT,
                f"service_lines[{i}].line_id",
                f"line_id {line.line_id!r} is not 1-50 letters, digits or '-'.",
            )
        if line.line_id in seen:
            yield finding(
                C.LINE_ID_DUPLICATE,
                f"service_lines[{i}].line_id",
                f"line_id {line.line_id!r} is also the id of service_lines[{seen[line.line_id]}].",
            )
        else:
            seen[line.line_id] = i


# ------------------------------------------------------------------------------------ text

# characters that are (or commonly are) X12 delimiters; a value holding one cannot be sent
_DELIMITERS = frozenset("~*:^|>")

# the longest value the 837 element carrying each field allows (by field name)
MAX_LENGTHS: dict[str, int] = {
    "last_name": 60,  # NM103
    "organization_name": 60,
    "name": 60,
    "first_name": 35,  # NM104
    "middle_name": 25,  # NM105
    "suffix": 10,  # NM107
    "line1": 55,  # N301
    "line2": 55,
    "city": 30,  # N401
    "group_name": 60,  # SBR04
    "description": 80,  # SV101-7
    "note": 80,  # NTE02
    "email": 256,  # PER0n
    "member_id": 80,  # NM109
    "id": 80,
}


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every string in a model, walking nested models and lists."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(value, str) and not isinstance(value, Enum):
        yield path, value


# one search over all of an encounter's text finds any of these: a delimiter or control character
_UNSENDABLE = re.compile(r"[~*:^|>\x00-\x1f]")


def _may_hold_text(annotation: Any) -> bool:
    """Whether a field of this type can hold a string (directly, in a model or in a list)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _may_hold_text(get_args(annotation)[0])
    if origin is not None:  # X | None, tuple[X, ...]
        return any(_may_hold_text(arg) for arg in get_args(annotation) if arg is not Ellipsis)
    if annotation in (date, Decimal, bool, int, type(None)):
        return False
    return not (isinstance(annotation, type) and issubclass(annotation, Enum))


_TEXT_FIELDS: dict[type[BaseModel], tuple[tuple[str, int | None], ...]] = {}


def _text_fields(model: type[BaseModel]) -> tuple[tuple[str, int | None], ...]:
    """(name, longest allowed) of the fields of a model that can hold text; dates, amounts,
    flags and code list members are left out. Learnt once per model class."""
    known = _TEXT_FIELDS.get(model)
    if known is None:
        known = tuple(
            (name, MAX_LENGTHS.get(name))
            for name, info in model.model_fields.items()
            if _may_hold_text(info.annotation)
        )
        _TEXT_FIELDS[model] = known
    return known


def _gather(model: BaseModel, out: list[str]) -> bool:
    """Append every string of ``model`` (nested models and lists too) to ``out``.

    False as soon as a string is longer than its field allows, or when a value is of a kind
    the quick check does not know: ``text`` then takes the exact, slower walk.
    """
    values = model.__dict__
    for name, limit in _text_fields(type(model)):
        value = values.get(name)
        if type(value) is str:
            if limit is not None and len(value) > limit:
                return False
            out.append(value)
        elif value is None:
            continue
        elif type(value) is tuple:
            for item in value:
                # an item's path ends in ``[i]``: no length limit applies to it
                if type(item) is str:
                    out.append(item)
                elif not _gather_other(item, out):
                    return False
        elif not _gather_other(value, out):
            return False
    return True


def _gather_other(value: object, out: list[str]) -> bool:
    """``_gather`` for a value that is not a plain string (a model, an item of a list...)."""
    if isinstance(value, BaseModel):
        return _gather(value, out)
    if isinstance(value, tuple):
        for item in value:
            if type(item) is str:
                out.append(item)
            elif not _gather_other(item, out):
                return False
        return True
    # a code list member is not text; a str subclass is left to the exact walk
    return not isinstance(value, str) or isinstance(value, Enum)


def _text_is_clean(enc: Encounter) -> bool:
    """Whether ``text`` would find nothing: every string fits, is ASCII and sendable."""
    found: list[str] = []
    if not _gather(enc, found):
        return False
    joined = " ".join(found)
    return joined.isascii() and _UNSENDABLE.search(joined) is None


def text(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Text holds no X12 delimiter or control character, is ASCII, and fits its element."""
    if _text_is_clean(enc):  # the common case, checked in one pass over all the text
        return
    yield from _text_findings(enc)


def _text_findings(enc: Encounter) -> Iterator[Finding]:
    """What ``text`` finds, value by value (the exact walk behind the one-pass check)."""
    for path, value in _strings(enc, ""):
        bad = sorted({ch for ch in value if ch in _DELIMITERS or (ord(ch) < 32)})
        if bad:
            shown = " ".join(repr(ch) for ch in bad)
            yield finding(C.TEXT_CHARACTERS, path, f"{path} contains {shown}.")
        elif not value.isascii():
            yield finding(C.TEXT_NON_ASCII, path, f"{path} has letters outside plain ASCII.")
        name = path.rsplit(".", 1)[-1]
        limit = MAX_LENGTHS.get(name)
        if limit is not None and len(value) > limit:
            yield finding(
                C.TEXT_TOO_LONG, path, f"{path} has {len(value)} characters; at most {limit}."
            )


# ------------------------------------------------------------------------------- addresses


def _addresses(enc: Encounter) -> Iterator[tuple[str, Address]]:
    yield "billing_provider.address", enc.billing_provider.address
    if enc.pay_to_address is not None:
        yield "pay_to_address", enc.pay_to_address
    if enc.service_facility is not None:
        yield "service_facility.address", enc.service_facility.address
    if enc.payer.address is not None:
        yield "payer.address", enc.payer.address
    if enc.subscriber.address is not None:
        yield "subscriber.address", enc.subscriber.address
    if enc.patient is not None:
        yield "patient.address", enc.patient.address


def addresses(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """ZIP codes are 5 or 9 digits and US states are postal codes."""
    for path, address in _addresses(enc):
        domestic = address.country_code in (None, "US", "USA")
        if domestic and not (
            address.zip.isascii() and address.zip.isdigit() and len(address.zip) in (5, 9)
        ):
            yield finding(
                C.ZIP_FORMAT, f"{path}.zip", f"The ZIP code at {path} is not 5 or 9 digits."
            )
        if domestic and address.state not in cl.US_STATES:
            yield finding(
                C.STATE_CODE, f"{path}.state", f"State {address.state!r} is not a US postal code."
            )


def billing_address(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """The billing provider (and a service facility) has a street address; billing has ZIP+4."""
    address = enc.billing_provider.address
    for key in ("line1", "line2"):
        value: str | None = getattr(address, key)
        if value and cl.is_po_box(value):
            yield finding(
                C.BILLING_PO_BOX,
                f"billing_provider.address.{key}",
                "The billing provider's address is a post office box (loop 2010AA needs a street).",
            )
    if address.zip.isascii() and address.zip.isdigit() and len(address.zip) == 5:
        yield finding(
            C.BILLING_ZIP9,
            "billing_provider.address.zip",
            "The billing provider's ZIP code has 5 digits; 837 claims need all 9.",
        )
    if enc.service_facility is not None:
        for key in ("line1", "line2"):
            value = getattr(enc.service_facility.address, key)
            if value and cl.is_po_box(value):
                yield finding(
                    C.FACILITY_PO_BOX,
                    f"service_facility.address.{key}",
                    "The service facility's address is a post office box.",
                )


# ------------------------------------------------------------------------------- diagnoses


def diagnosis_dots(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """ICD-10 codes written with a dot were accepted and the dot removed: a warning."""
    for correction in enc.corrections:
        if correction.kind == "icd-dot":
            yield finding(
                C.ICD_DOT,
                correction.path,
                "The ICD-10 code was written with a dot; it was removed.",
            )


def diagnoses(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Diagnoses: at least one, valid ICD-10-CM, no duplicates, at most 12 (837P) / 25 (837I)."""
    if not enc.diagnoses:
        yield finding(C.DIAGNOSIS_MISSING, "diagnoses", "The encounter has no diagnosis.")
    limit = MAX_DIAGNOSES_PROFESSIONAL if enc.is_professional else MAX_DIAGNOSES_INSTITUTIONAL
    if len(enc.diagnoses) > limit:
        yield finding(
            C.DIAGNOSIS_COUNT,
            f"diagnoses[{limit}]",
            f"{len(enc.diagnoses)} diagnoses; a {enc.kind} claim carries at most {limit}.",
        )
    seen: dict[str, int] = {}
    for i, code in enumerate(enc.diagnoses):
        if not cl.ICD10_CM.fullmatch(code):
            yield finding(C.ICD_SYNTAX, f"diagnoses[{i}]", f"{code!r} is not an ICD-10-CM code.")
        if code in seen:
            yield finding(
                C.DIAGNOSIS_DUPLICATE,
                f"diagnoses[{i}]",
                f"{code} is listed twice (also diagnoses[{seen[code]}]).",
            )
        else:
            seen[code] = i


def institutional_diagnoses(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Admitting and reason-for-visit diagnoses are ICD-10-CM; procedures are ICD-10-PCS."""
    block = enc.institutional
    if block is None:
        return
    if block.admitting_diagnosis is not None and not cl.ICD10_CM.fullmatch(
        block.admitting_diagnosis
    ):
        yield finding(
            C.ICD_SYNTAX,
            "institutional.admitting_diagnosis",
            f"{block.admitting_diagnosis!r} is not an ICD-10-CM code.",
        )
    reasons = block.reason_for_visit_diagnoses
    if len(reasons) > MAX_REASONS_FOR_VISIT:
        yield finding(
            C.REASON_FOR_VISIT_COUNT,
            f"institutional.reason_for_visit_diagnoses[{MAX_REASONS_FOR_VISIT}]",
            f"{len(reasons)} reasons for visit; at most {MAX_REASONS_FOR_VISIT}.",
        )
    for i, code in enumerate(reasons):
        if not cl.ICD10_CM.fullmatch(code):
            yield finding(
                C.ICD_SYNTAX,
                f"institutional.reason_for_visit_diagnoses[{i}]",
                f"{code!r} is not an ICD-10-CM code.",
            )
    procedures = (
        [("institutional.principal_procedure", block.principal_procedure)]
        if block.principal_procedure
        else []
    )
    procedures += [
        (f"institutional.other_procedures[{i}]", p) for i, p in enumerate(block.other_procedures)
    ]
    for path, proc in procedures:
        if proc is not None and not cl.ICD10_PCS.fullmatch(proc.code):
            yield finding(
                C.ICD_PCS_SYNTAX, f"{path}.code", f"{proc.code!r} is not an ICD-10-PCS code."
            )
    if len(block.other_procedures) > MAX_UB_CODES:
        yield finding(
            C.UB_CODE_COUNT,
            f"institutional.other_procedures[{MAX_UB_CODES}]",
            f"{len(block.other_procedures)} other procedures; at most {MAX_UB_CODES}.",
        )


# ------------------------------------------------------------------------------------ lines


def line_count(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """At least one line; at most 50 (837P) or 999 (837I)."""
    if not enc.service_lines:
        yield finding(C.LINES_MISSING, "service_lines", "The encounter has no service line.")
    limit = MAX_LINES[enc.kind]
    if len(enc.service_lines) > limit:
        yield finding(
            C.LINE_COUNT,
            f"service_lines[{limit}]",
            f"{len(enc.service_lines)} service lines; a {enc.kind} claim carries at most {limit}.",
        )


_CENT = Decimal("0.01")
_UNIT_TYPES = {
    Kind.PROFESSIONAL: frozenset({UnitType.UNITS, UnitType.MINUTES}),
    Kind.INSTITUTIONAL: frozenset({UnitType.UNITS, UnitType.DAYS}),
}
"""The unit types each kind of claim's lines may use."""


def _past_cents(amount: Decimal | None) -> bool:
    """Whether an amount has more than 2 decimal places (``1.000`` has not)."""
    return amount is not None and amount.is_finite() and amount != amount.quantize(_CENT)


def _money_precision(path: str, amount: Decimal | None) -> Iterator[Finding]:
    if _past_cents(amount):
        yield finding(C.AMOUNT_PRECISION, path, f"{path} has more than 2 decimal places.")


def procedures(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Procedure codes are CPT/HCPCS (required on professional lines); revenue codes on 837I."""
    for i, line in enumerate(enc.service_lines):
        path = f"service_lines[{i}]"
        if line.procedure_code is None:
            if enc.is_professional:
                yield finding(
                    C.PROCEDURE_MISSING, f"{path}.procedure_code", "The line has no procedure code."
                )
        elif not cl.is_procedure_code(line.procedure_code):
            yield finding(
                C.PROCEDURE_SYNTAX,
                f"{path}.procedure_code",
                f"{line.procedure_code!r} is not a CPT or HCPCS code.",
            )
        if enc.kind is Kind.PROFESSIONAL:
            continue
        if line.revenue_code is None:
            yield finding(C.REVENUE_CODE, f"{path}.revenue_code", "The line has no revenue code.")
        elif not cl.REVENUE_CODE.fullmatch(line.revenue_code):
            yield finding(
                C.REVENUE_CODE,
                f"{path}.revenue_code",
                f"Revenue code {line.revenue_code!r} is not 4 digits.",
            )


def modifiers(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Modifiers are 2 characters, at most 4 per line, not repeated."""
    for i, line in enumerate(enc.service_lines):
        if not line.modifiers:
            continue
        path = f"service_lines[{i}].modifiers"
        if len(line.modifiers) > MAX_MODIFIERS:
            yield finding(
                C.MODIFIER_COUNT,
                f"{path}[{MAX_MODIFIERS}]",
                f"{len(line.modifiers)} modifiers; at most {MAX_MODIFIERS}.",
            )
        if line.procedure_code is None:
            yield finding(
                C.PROCEDURE_MISSING,
                f"service_lines[{i}].procedure_code",
                "The line has modifiers but no procedure code to modify.",
            )
        seen: set[str] = set()
        for j, mod in enumerate(line.modifiers):
            if not cl.MODIFIER.fullmatch(mod):
                yield finding(
                    C.MODIFIER_SYNTAX, f"{path}[{j}]", f"Modifier {mod!r} is not 2 characters."
                )
            if mod in seen:
                yield finding(C.MODIFIER_DUPLICATE, f"{path}[{j}]", f"Modifier {mod} is repeated.")
            seen.add(mod)


def amounts(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Charges are >= 0 in cents, units > 0, and the claim total is the sum of the lines."""
    allowed = _UNIT_TYPES[enc.kind]
    for i, line in enumerate(enc.service_lines):
        path = f"service_lines[{i}]"
        if line.charge < 0:
            yield finding(C.CHARGE_NEGATIVE, f"{path}.charge", "The line charge is negative.")
        if _past_cents(line.charge):
            yield from _money_precision(f"{path}.charge", line.charge)
        if _past_cents(line.non_covered_charge):
            yield from _money_precision(f"{path}.non_covered_charge", line.non_covered_charge)
        if line.non_covered_charge is not None and line.non_covered_charge < 0:
            yield finding(
                C.CHARGE_NEGATIVE,
                f"{path}.non_covered_charge",
                "The non-covered charge is negative.",
            )
        if line.units <= 0:
            yield finding(C.UNITS_NOT_POSITIVE, f"{path}.units", f"Units are {line.units}.")
        if line.unit_type not in allowed:
            yield finding(
                C.UNIT_TYPE_FOR_KIND,
                f"{path}.unit_type",
                f"Unit type {line.unit_type} is not used on {enc.kind} lines.",
            )
        if line.ndc is not None:
            if not cl.NDC11.fullmatch(line.ndc.code):
                yield finding(
                    C.NDC_FORMAT, f"{path}.ndc.code", f"NDC {line.ndc.code!r} is not 11 digits."
                )
            if line.ndc.quantity <= 0:
                yield finding(
                    C.NDC_QUANTITY, f"{path}.ndc.quantity", "The drug quantity is not above zero."
                )
    yield from _money_precision("total_charge", enc.total_charge)
    yield from _money_precision("patient_amount_paid", enc.patient_amount_paid)
    if enc.patient_amount_paid is not None and enc.patient_amount_paid < 0:
        yield finding(C.CHARGE_NEGATIVE, "patient_amount_paid", "The amount paid is negative.")
    if enc.total_charge is not None and enc.total_charge != enc.computed_total_charge:
        yield finding(
            C.TOTAL_MISMATCH,
            "total_charge",
            f"total_charge is {enc.total_charge} but the lines add up to "
            f"{enc.computed_total_charge}.",
        )


def pointers(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Professional lines point to 1-4 distinct diagnoses that exist."""
    if not enc.is_professional:
        return
    count = len(enc.diagnoses)
    for i, line in enumerate(enc.service_lines):
        path = f"service_lines[{i}].diagnosis_pointers"
        if not line.diagnosis_pointers:
            yield finding(C.POINTER_MISSING, path, "The line points to no diagnosis.")
            continue
        if len(line.diagnosis_pointers) > MAX_POINTERS:
            yield finding(
                C.POINTER_COUNT,
                f"{path}[{MAX_POINTERS}]",
                f"{len(line.diagnosis_pointers)} diagnosis pointers; at most {MAX_POINTERS}.",
            )
        seen: set[int] = set()
        for j, pointer in enumerate(line.diagnosis_pointers):
            if not 1 <= pointer <= min(count, MAX_DIAGNOSES_PROFESSIONAL):
                yield finding(
                    C.POINTER_RANGE,
                    f"{path}[{j}]",
                    f"Pointer {pointer} is outside 1..{min(count, MAX_DIAGNOSES_PROFESSIONAL)} "
                    f"(the claim has {count} diagnoses).",
                )
            if pointer in seen:
                yield finding(
                    C.POINTER_DUPLICATE, f"{path}[{j}]", f"Pointer {pointer} is repeated."
                )
            seen.add(pointer)


# ------------------------------------------------------------------------------------ dates


def _patient_birth(enc: Encounter) -> tuple[str, date | None]:
    if enc.patient is not None:
        return "patient.birth_date", enc.patient.birth_date
    return "subscriber.birth_date", enc.subscriber.birth_date


def _claim_dates(enc: Encounter) -> Iterator[tuple[str, date]]:
    """(path, date) of every date of care in the encounter (not birth or death dates)."""
    for name in (
        "accident_date",
        "onset_date",
        "initial_treatment_date",
        "last_seen_date",
        "acute_manifestation_date",
        "last_menstrual_period_date",
        "hospitalized_from",
        "hospitalized_to",
    ):
        value: date | None = getattr(enc, name)
        if value is not None:
            yield name, value
    block = enc.institutional
    if block is not None:
        yield "institutional.statement_from", block.statement_from
        yield "institutional.statement_to", block.statement_to
        if block.admission_date is not None:
            yield "institutional.admission_date", block.admission_date
        if block.principal_procedure is not None:
            yield "institutional.principal_procedure.date", block.principal_procedure.date
        for i, proc in enumerate(block.other_procedures):
            yield f"institutional.other_procedures[{i}].date", proc.date
        for i, occ in enumerate(block.occurrence_codes):
            yield f"institutional.occurrence_codes[{i}].date", occ.date
        for i, span in enumerate(block.occurrence_span_codes):
            yield f"institutional.occurrence_span_codes[{i}].from_date", span.from_date
            yield f"institutional.occurrence_span_codes[{i}].to_date", span.to_date
    for i, line in enumerate(enc.service_lines):
        yield f"service_lines[{i}].service_date", line.service_date
        if line.service_date_to is not None:
            yield f"service_lines[{i}].service_date_to", line.service_date_to


_BEFORE_BIRTH_EXEMPT = ("last_menstrual_period_date", "occurrence_codes", "occurrence_span_codes")


def dates(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Dates of care are not in the future, not before birth, not after death; old ones warn."""
    birth_path, birth = _patient_birth(enc)
    death = enc.patient.death_date if enc.patient is not None else None
    births: list[tuple[str, date | None]] = [("subscriber.birth_date", enc.subscriber.birth_date)]
    if enc.patient is not None:
        births.append(("patient.birth_date", enc.patient.birth_date))
    for who, born in births:
        if born is not None and born > ctx.today:
            yield finding(C.BIRTH_DATE_FUTURE, who, f"{who} is after today.")
    for path, when in _claim_dates(enc):
        if when > ctx.today:
            yield finding(C.DATE_FUTURE, path, f"{path} is after today ({ctx.today.isoformat()}).")
        # the mother's last period and some occurrence codes (e.g. a birth) predate a newborn
        if birth is not None and when < birth and not any(x in path for x in _BEFORE_BIRTH_EXEMPT):
            yield finding(C.DATE_BEFORE_BIRTH, path, f"{path} is before the {birth_path}.")
        if death is not None and when > death and path.startswith("service_lines"):
            yield finding(C.DATE_AFTER_DEATH, path, f"{path} is after the patient.death_date.")
    if enc.service_lines:
        first = enc.first_service_date
        if first <= ctx.today and ctx.today - first > OLD_SERVICE:
            index = next(
                i for i, line in enumerate(enc.service_lines) if line.service_date == first
            )
            yield finding(
                C.DATE_OLD,
                f"service_lines[{index}].service_date",
                f"The earliest service is {(ctx.today - first).days} days old.",
            )


def date_ranges(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Ranges run forward; the statement period covers the lines; admission precedes discharge."""
    for i, line in enumerate(enc.service_lines):
        if line.service_date_to is not None and line.service_date_to < line.service_date:
            yield finding(
                C.DATE_RANGE_ORDER,
                f"service_lines[{i}].service_date_to",
                "The line's last service date is before its first.",
            )
    if (
        enc.hospitalized_from is not None
        and enc.hospitalized_to is not None
        and enc.hospitalized_from > enc.hospitalized_to
    ):
        yield finding(
            C.ADMISSION_AFTER_DISCHARGE,
            "hospitalized_to",
            "The hospital discharge date is before the admission date.",
        )
    block = enc.institutional
    if block is None:
        return
    for i, span in enumerate(block.occurrence_span_codes):
        if span.to_date < span.from_date:
            yield finding(
                C.DATE_RANGE_ORDER,
                f"institutional.occurrence_span_codes[{i}].to_date",
                "The span ends before it begins.",
            )
    if block.statement_to < block.statement_from:
        yield finding(
            C.DATE_RANGE_ORDER,
            "institutional.statement_to",
            "The statement period ends before it begins.",
        )
    else:
        for i, line in enumerate(enc.service_lines):
            last = line.service_date_to or line.service_date
            if line.service_date < block.statement_from or last > block.statement_to:
                yield finding(
                    C.STATEMENT_PERIOD,
                    f"service_lines[{i}].service_date",
                    "The line's service date is outside the statement period.",
                )
    yield from _admission(block)


def _admission(block: Institutional) -> Iterator[Finding]:
    for name in ("admission_hour", "discharge_hour"):
        hour: str | None = getattr(block, name)
        if hour is not None and not cl.HOUR.fullmatch(hour):
            yield finding(C.HOUR_FORMAT, f"institutional.{name}", f"{name} {hour!r} is not HHMM.")
    if block.admission_date is None:
        if block.facility_type in cl.INPATIENT_FACILITY_TYPES:
            yield finding(
                C.ADMISSION_DATE_MISSING,
                "institutional.admission_date",
                f"Type of bill {block.facility_type}x is inpatient and needs the admission date.",
            )
        return
    if block.admission_date > block.statement_to:
        yield finding(
            C.ADMISSION_AFTER_DISCHARGE,
            "institutional.admission_date",
            "The admission date is after the end of the statement period (the discharge).",
        )
    elif (
        block.admission_date == block.statement_to
        and block.admission_hour is not None
        and block.discharge_hour is not None
        and cl.HOUR.fullmatch(block.admission_hour)
        and cl.HOUR.fullmatch(block.discharge_hour)
        and block.discharge_hour < block.admission_hour
    ):
        yield finding(
            C.ADMISSION_AFTER_DISCHARGE,
            "institutional.discharge_hour",
            "Admitted and discharged the same day, but the discharge hour is before admission.",
        )


# ------------------------------------------------------------------------------- code lists


def place_of_service(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Professional claims carry a CMS place of service code in effect on the date of service;
    inpatient visits an admission date."""
    if not enc.is_professional:
        return
    places = code_sets.places_of_service()
    first = enc.first_service_date if enc.service_lines else None
    if enc.place_of_service is None:
        yield finding(C.PLACE_OF_SERVICE, "place_of_service", "The claim has no place of service.")
    else:
        yield from _place(places, enc.place_of_service, "place_of_service", first)
    if enc.place_of_service in cl.INPATIENT_PLACES and enc.hospitalized_from is None:
        yield finding(
            C.ADMISSION_DATE_MISSING,
            "hospitalized_from",
            f"Place of service {enc.place_of_service} is an inpatient visit: the admission date "
            "(hospitalized_from) is required.",
        )
    for i, line in enumerate(enc.service_lines):
        if line.place_of_service is not None:
            path = f"service_lines[{i}].place_of_service"
            yield from _place(places, line.place_of_service, path, line.service_date)


def _place(places: DatedCodes, code: str, path: str, when: date | None) -> Iterator[Finding]:
    """A place of service code: listed by CMS (an error if not), in effect on ``when`` (a
    warning if not: the effective dates of the list are less certain than its codes)."""
    if code not in places:
        yield finding(
            C.PLACE_OF_SERVICE,
            path,
            f"{code!r} is not a CMS place of service code (the list as of "
            f"{code_sets.POS_AS_OF.isoformat()}).",
        )
        return
    if when is None:
        return
    verdict = places.judge(code, when)
    if verdict.validity is Validity.NOT_YET:
        start = verdict.spans[0].start
        assert start is not None
        yield finding(
            C.PLACE_OF_SERVICE_DATE,
            path,
            f"Place of service {code} ({places.descriptions.get(code, '')}) is effective from "
            f"{start.isoformat()}; the date of service {when.isoformat()} is before it.",
        )


def institutional_codes(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Type of bill, admission type and source, patient status and UB-04 codes are valid."""
    block = enc.institutional
    if block is None:
        return
    if block.facility_type not in cl.FACILITY_TYPES:
        tob = block.facility_type.lstrip("0")
        hint = (
            f" It looks like a whole type of bill: give its first two digits ({tob[:2]}); "
            "the claim frequency completes it."
            if len(tob) == 3 and tob[:2] in cl.FACILITY_TYPES
            else ""
        )
        yield finding(
            C.FACILITY_TYPE,
            "institutional.facility_type",
            f"{block.facility_type!r} is not a facility type and bill classification.{hint}",
        )
    inpatient = block.facility_type in cl.INPATIENT_FACILITY_TYPES
    if block.admission_type is None:
        if inpatient:
            yield finding(
                C.ADMISSION_TYPE,
                "institutional.admission_type",
                "Inpatient claims need the admission type.",
            )
    elif block.admission_type not in cl.ADMISSION_TYPES:
        yield finding(
            C.ADMISSION_TYPE,
            "institutional.admission_type",
            f"{block.admission_type!r} is not an admission type code.",
        )
    if block.admission_source is None:
        if inpatient:
            yield finding(
                C.ADMISSION_SOURCE,
                "institutional.admission_source",
                "Inpatient claims need the point of origin (admission source).",
            )
    elif block.admission_source not in cl.ADMISSION_SOURCES:
        yield finding(
            C.ADMISSION_SOURCE,
            "institutional.admission_source",
            f"{block.admission_source!r} is not a point-of-origin code.",
        )
    if block.patient_status not in cl.PATIENT_STATUSES:
        yield finding(
            C.PATIENT_STATUS,
            "institutional.patient_status",
            f"{block.patient_status!r} is not a patient discharge status code.",
        )
    elif inpatient and block.patient_status == STILL_A_PATIENT:
        # an admit-through-discharge bill (type of bill xx1, xx7, xx8) ends with a discharge;
        # "still a patient" belongs to interim bills (xx2-xx4), which the contract does not carry
        yield finding(
            C.PATIENT_STATUS,
            "institutional.patient_status",
            f"Status 30 (still a patient) contradicts type of bill {block.facility_type}"
            f"{enc.frequency}, which covers a whole stay ending in a discharge.",
        )
    groups: list[tuple[str, Iterable[str]]] = [
        ("condition_codes", block.condition_codes),
        ("occurrence_codes", (o.code for o in block.occurrence_codes)),
        ("occurrence_span_codes", (o.code for o in block.occurrence_span_codes)),
        ("value_codes", (v.code for v in block.value_codes)),
    ]
    for name, codes in groups:
        listed = list(codes)
        if len(listed) > MAX_UB_CODES:
            yield finding(
                C.UB_CODE_COUNT,
                f"institutional.{name}[{MAX_UB_CODES}]",
                f"{len(listed)} {name.replace('_', ' ')}; at most {MAX_UB_CODES}.",
            )
        for i, code in enumerate(listed):
            path = f"institutional.{name}[{i}]" + ("" if name == "condition_codes" else ".code")
            if not cl.UB_CODE.fullmatch(code):
                yield finding(C.UB_CODE_SYNTAX, path, f"{code!r} is not a 2-character code.")


# ------------------------------------------------------------------------------ claim shape


def claim_shape(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """The kind matches the blocks present; fields the other kind uses are flagged."""
    unused: dict[str, Any]
    if enc.kind is Kind.INSTITUTIONAL:
        if enc.institutional is None:
            yield finding(
                C.INSTITUTIONAL_MISSING, "institutional", "An institutional claim needs this block."
            )
        if enc.attending_provider is None:
            yield finding(
                C.ATTENDING_MISSING, "attending_provider", "The attending provider is missing."
            )
        unused = {
            "place_of_service": enc.place_of_service,
            "supervising_provider": enc.supervising_provider,
            "related_causes": enc.related_causes or None,
            "hospitalized_from": enc.hospitalized_from,
            "hospitalized_to": enc.hospitalized_to,
        }
        for i, line in enumerate(enc.service_lines):
            # a path is only made for a field that is set (most lines set none of them)
            if line.diagnosis_pointers:
                unused[f"service_lines[{i}].diagnosis_pointers"] = line.diagnosis_pointers
            if line.place_of_service is not None:
                unused[f"service_lines[{i}].place_of_service"] = line.place_of_service
            if line.emergency:
                unused[f"service_lines[{i}].emergency"] = line.emergency
    else:
        if enc.institutional is not None:
            yield finding(
                C.INSTITUTIONAL_ON_PROFESSIONAL,
                "institutional",
                "A professional claim has an institutional block.",
            )
        unused = {
            "attending_provider": enc.attending_provider,
            "operating_provider": enc.operating_provider,
            "other_operating_provider": enc.other_operating_provider,
        }
        for i, line in enumerate(enc.service_lines):
            if line.revenue_code is not None:
                unused[f"service_lines[{i}].revenue_code"] = line.revenue_code
            if line.non_covered_charge is not None:
                unused[f"service_lines[{i}].non_covered_charge"] = line.non_covered_charge
    for path, value in unused.items():
        if value is not None:
            yield finding(C.FIELD_NOT_USED, path, f"{path} is not sent on a {enc.kind} claim.")


def frequency(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Frequency 7/8 needs the payer's original claim number; frequency 1 must not have one."""
    if enc.frequency in ("7", "8") and enc.original_payer_claim_number is None:
        yield finding(
            C.FREQUENCY_NEEDS_ORIGINAL,
            "original_payer_claim_number",
            f"Frequency {enc.frequency} (replacement or void) needs the payer's claim number.",
        )
    if enc.frequency == "1" and enc.original_payer_claim_number is not None:
        yield finding(
            C.FREQUENCY_ORIGINAL_NOT_ALLOWED,
            "original_payer_claim_number",
            "An original claim (frequency 1) must not name a claim it replaces.",
        )


def accident(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """An accident cause needs the accident date; an auto accident also needs the state."""
    causes = set(enc.related_causes)
    if ("AA" in causes or "OA" in causes) and enc.accident_date is None:
        yield finding(C.ACCIDENT_DETAILS, "accident_date", "An accident claim needs its date.")
    if "AA" in causes and enc.accident_state is None:
        yield finding(C.ACCIDENT_DETAILS, "accident_state", "An auto accident needs the state.")
    if enc.accident_state is not None and enc.accident_state not in cl.US_STATES:
        yield finding(
            C.STATE_CODE,
            "accident_state",
            f"State {enc.accident_state!r} is not a US postal code.",
        )


def delay_reason(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """A late claim's delay reason is a CLM20 code."""
    if enc.delay_reason_code is not None and enc.delay_reason_code not in cl.DELAY_REASONS:
        yield finding(
            C.DELAY_REASON,
            "delay_reason_code",
            f"{enc.delay_reason_code!r} is not a delay reason code.",
        )


def subscriber_patient(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Patient present only when not the subscriber; the patient's demographics are complete."""
    sub = enc.subscriber
    patient = enc.patient
    if patient is None:
        missing = [
            name
            for name, value in (
                ("birth_date", sub.birth_date),
                ("gender", sub.gender),
                ("address", sub.address),
            )
            if value is None
        ]
        for name in missing:
            yield finding(
                C.SUBSCRIBER_DEMOGRAPHICS,
                f"subscriber.{name}",
                f"The subscriber is the patient (patient is null) but has no {name}.",
            )
        return
    if patient.relationship_to_subscriber == "18":
        yield finding(
            C.PATIENT_IS_SELF,
            "patient.relationship_to_subscriber",
            "Relationship 18 (self) means the patient is the subscriber: patient must be null.",
        )
        return
    same_person = (
        patient.last_name.upper() == sub.last_name.upper()
        and (patient.first_name or "").upper() == (sub.first_name or "").upper()
        and sub.birth_date is not None
        and patient.birth_date == sub.birth_date
    )
    if same_person:
        yield finding(
            C.PATIENT_LOOKS_LIKE_SUBSCRIBER,
            "patient",
            "The patient has the subscriber's name and birth date but is not self (18).",
        )
    if (
        patient.relationship_to_subscriber == "19"
        and sub.birth_date is not None
        and patient.birth_date < sub.birth_date
    ):
        yield finding(
            C.CHILD_OLDER_THAN_SUBSCRIBER,
            "patient.birth_date",
            "The patient is the subscriber's child (19) but was born before the subscriber.",
        )


def other_payers(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """A secondary (or later) claim needs the earlier payers' adjudication, not in the contract."""
    responsibility = enc.subscriber.payer_responsibility
    if responsibility not in (PayerResponsibility.PRIMARY, PayerResponsibility.UNKNOWN):
        yield finding(
            C.OTHER_PAYER_MISSING,
            "subscriber.payer_responsibility",
            f"A {responsibility} claim normally carries what the earlier payers paid; "
            "this claim will be sent without it.",
        )


RULES: tuple[Rule, ...] = (
    claim_id,
    text,
    claim_shape,
    frequency,
    npis,
    billing_provider,
    taxonomies,
    addresses,
    billing_address,
    references,
    medicare_id,
    subscriber_patient,
    other_payers,
    diagnosis_dots,
    diagnoses,
    institutional_diagnoses,
    *diagnosis_codes.CODE_SET_RULES,  # after the shape checks: the code sets, by date of service
    institutional_codes,
    place_of_service,
    accident,
    delay_reason,
    line_count,
    line_ids,
    procedures,
    modifiers,
    procedure_codes.procedure_code_sets,
    procedure_codes.cpt_codes,
    amounts,
    pointers,
    dates,
    date_ranges,
)
"""Every rule, in the order its findings are reported."""
