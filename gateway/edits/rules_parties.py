"""Scrubber rules about who and what the claim names: identifiers (claim id, NPIs, taxonomies,
references, line ids), text every field can carry into X12, and addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel

from gateway.edits import codelists as cl
from gateway.edits.context import Context, named_npis, named_people
from gateway.edits.findings import Finding, finding
from gateway.edits.findings import FindingCode as C
from gateway.models.encounter import Address, Encounter
from gateway.models.encounter_types import Kind, TaxIdType

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
    for path, npi in named_npis(enc):
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
    for path, provider in named_people(enc):
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
