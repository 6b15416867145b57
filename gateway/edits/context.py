"""What every scrubber rule shares: the ``Context`` it runs with, the ``Rule`` signature, the TR3
limits the rules check, and the walk over the providers an encounter names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from gateway.codes.dated import DatedCodes
from gateway.edits.findings import Finding
from gateway.models.encounter import Encounter, Provider
from gateway.models.encounter_types import Kind
from gateway.models.limits import MAX_DIAGNOSES

MAX_DIAGNOSES_PROFESSIONAL = MAX_DIAGNOSES[Kind.PROFESSIONAL]
MAX_DIAGNOSES_INSTITUTIONAL = MAX_DIAGNOSES[Kind.INSTITUTIONAL]
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


def named_people(enc: Encounter) -> Iterator[tuple[str, Provider]]:
    """(path, provider) of every person named as a provider, claim and line level."""
    for role in PERSON_ROLES:
        provider: Provider | None = getattr(enc, role)
        if provider is not None:
            yield role, provider
    for i, line in enumerate(enc.service_lines):
        if line.rendering_provider is not None:
            yield f"service_lines[{i}].rendering_provider", line.rendering_provider


def named_npis(enc: Encounter) -> Iterator[tuple[str, str]]:
    """(path, npi) of every provider named in the encounter."""
    yield "billing_provider.npi", enc.billing_provider.npi
    for path, provider in named_people(enc):
        yield f"{path}.npi", provider.npi
    if enc.service_facility is not None and enc.service_facility.npi is not None:
        yield "service_facility.npi", enc.service_facility.npi
