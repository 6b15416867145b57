"""The encounter contract: examples parse, input is cleaned as documented, violations get codes."""

from __future__ import annotations

import functools
import importlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from gateway.edits import FindingCode
from gateway.encounters import validate_encounter
from gateway.encounters.xsd import xsd_text
from gateway.models import (
    ClaimFilingIndicator,
    Encounter,
    Frequency,
    Gender,
    Kind,
    PayerResponsibility,
    Relationship,
    TaxIdType,
)
from gateway.models.encounter import schema_text
from tests.support.strategies import DELETE, SAMPLES, encounter_dicts, sample_dict, with_changes

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "contract"
EXAMPLES = [
    "professional-self",
    "professional-dependent",
    "professional-replacement-drug",
    "institutional-outpatient",
    "institutional-inpatient",
]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _subset(small: Any, big: Any) -> bool:
    """Whether every value of ``small`` is in ``big`` at the same place."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(
            k in big and _subset(v, big[k]) for k, v in small.items()
        )
    if isinstance(small, list):
        return isinstance(big, list) and len(small) == len(big) and all(map(_subset, small, big))
    return bool(small == big)


@pytest.mark.parametrize("name", EXAMPLES)
def test_contract_examples_parse(name: str) -> None:
    """Each normative example becomes an Encounter that dumps back every value it was given."""
    data = sample_dict(name)
    encounter = Encounter.model_validate(data)
    dumped = encounter.model_dump(mode="json", exclude_none=True)
    assert _subset(_without_nulls(data), dumped)
    assert encounter == Encounter.model_validate(dumped)


@pytest.mark.parametrize("name", EXAMPLES)
def test_samples_are_copies_of_the_contract(name: str) -> None:
    """samples/encounters holds the contract examples unchanged (when the contract is at hand)."""
    original = CONTRACT / f"{name}.json"
    if not original.is_file():
        pytest.skip("the shared contract folder is not beside this checkout")
    assert json.loads(original.read_text()) == sample_dict(name)


def test_model_values_are_typed() -> None:
    """Money is Decimal, dates are date, code lists are enums."""
    encounter = Encounter.model_validate(sample_dict("professional-dependent"))
    line = encounter.service_lines[0]
    assert Decimal("125.00") == line.charge
    assert date(2026, 11, 2) == line.service_date
    assert Kind.PROFESSIONAL is encounter.kind
    assert Frequency.ORIGINAL is encounter.frequency
    assert ClaimFilingIndicator.COMMERCIAL is encounter.subscriber.claim_filing_indicator
    assert PayerResponsibility.PRIMARY is encounter.subscriber.payer_responsibility
    assert encounter.subscriber.payer_responsibility.x12_code == "P"
    assert TaxIdType.EIN is encounter.billing_provider.tax_id_type
    assert Relationship.CHILD is encounter.patient_relationship
    assert Decimal("153.00") == encounter.computed_total_charge


@pytest.mark.parametrize(
    ("changes", "path", "expected"),
    [
        ({"diagnoses[0]": " e11.9 "}, ("diagnoses", 0), "E119"),
        (
            {"billing_provider.address.zip": "62701-1234"},
            ("billing_provider", "address", "zip"),
            "627011234",
        ),
        ({"billing_provider.tax_id": "37-1234567"}, ("billing_provider", "tax_id"), "371234567"),
        (
            {"billing_provider.contact.phone": "(217) 555-0100"},
            ("billing_provider", "contact", "phone"),
            "2175550100",
        ),
        (
            {"billing_provider.contact.phone": "+1 217 555 0100"},
            ("billing_provider", "contact", "phone"),
            "2175550100",
        ),
        ({"subscriber.last_name": "  DOE   SMITH "}, ("subscriber", "last_name"), "DOE SMITH"),
        ({"subscriber.birth_date": "19800412"}, ("subscriber", "birth_date"), date(1980, 4, 12)),
        (
            {"service_lines[0].modifiers": ["25 ", "rt"]},
            ("service_lines", 0, "modifiers"),
            ("25", "RT"),
        ),
        ({"claim_id": " vfp-0001 "}, ("claim_id",), "vfp-0001"),
        ({"partner": "demo-clearinghouse"}, ("partner",), "demo-clearinghouse"),
        ({"prior_authorization": ""}, ("prior_authorization",), None),
        ({"subscriber.address.line2": "  "}, ("subscriber", "address", "line2"), None),
        ({"service_lines[0].charge": 185}, ("service_lines", 0, "charge"), Decimal("185")),
        ({"subscriber.gender": " f"}, ("subscriber", "gender"), Gender.FEMALE),
        (
            {"service_lines[0].diagnosis_pointers": ["A", "c", "2"]},
            ("service_lines", 0, "diagnosis_pointers"),
            (1, 3, 2),
        ),
        ({"service_lines[0].revenue_code": "450"}, ("service_lines", 0, "revenue_code"), "0450"),
        ({"diagnoses": "E11.9"}, ("diagnoses",), ("E119",)),
        ({"service_lines[0].modifiers": "rt"}, ("service_lines", 0, "modifiers"), ("RT",)),
        (
            {"service_lines[0].diagnosis_pointers": 2},
            ("service_lines", 0, "diagnosis_pointers"),
            (2,),
        ),
        ({"frequency": 7}, ("frequency",), Frequency.REPLACEMENT),
        ({"kind": "Professional"}, ("kind",), Kind.PROFESSIONAL),
        (
            {"subscriber.claim_filing_indicator": "mb"},
            ("subscriber", "claim_filing_indicator"),
            ClaimFilingIndicator.MEDICARE_PART_B,
        ),
        (
            {"subscriber.payer_responsibility": "Secondary"},
            ("subscriber", "payer_responsibility"),
            PayerResponsibility.SECONDARY,
        ),
        (
            {"service_lines[0].ndc": {"code": "0003-0293-05", "quantity": "1", "unit": "ml"}},
            ("service_lines", 0, "ndc", "code"),
            "00003029305",
        ),
        (
            {"service_lines[0].ndc": {"code": "00003-293-05", "quantity": "1", "unit": "ML"}},
            ("service_lines", 0, "ndc", "code"),
            "00003029305",
        ),
    ],
)
def test_lenient_input_is_cleaned(
    changes: dict[str, Any], path: tuple[Any, ...], expected: Any
) -> None:
    """Spaces, ICD dots, ZIP/EIN hyphens, phone punctuation, code case and NDC forms are cleaned."""
    value: Any = Encounter.model_validate(with_changes(sample_dict("professional-self"), changes))
    for step in path:
        value = value[step] if isinstance(step, int) else getattr(value, step)
    assert expected == value


def test_dotted_codes_are_remembered_for_the_warning() -> None:
    """The paths of ICD-10 codes written with a dot are kept on the model."""
    data = with_changes(
        sample_dict("institutional-inpatient"),
        {"diagnoses[2]": "I1.0", "institutional.admitting_diagnosis": "R07.89"},
    )
    encounter = Encounter.model_validate(data)
    assert [c.path for c in encounter.corrections] == [
        "diagnoses[2]",
        "institutional.admitting_diagnosis",
    ]


def test_encounter_is_frozen() -> None:
    """Nobody (the scrubber included) can change a parsed encounter."""
    encounter = Encounter.model_validate(sample_dict("professional-self"))
    with pytest.raises(ValidationError):
        encounter.claim_id = "OTHER"  # type: ignore[misc]
    assert isinstance(encounter.diagnoses, tuple)


def test_json_round_trip() -> None:
    """Dumping to JSON and reading back gives an equal encounter; money stays a decimal string."""
    encounter = Encounter.model_validate(sample_dict("professional-replacement-drug"))
    text = encounter.model_dump_json()
    assert '"charge":"210.00"' in text
    assert encounter == Encounter.model_validate_json(text)


@pytest.mark.parametrize(
    ("changes", "code", "path"),
    [
        ({"claim_id": DELETE}, FindingCode.FIELD_MISSING, "claim_id"),
        ({"service_lines[0].charge": DELETE}, FindingCode.FIELD_MISSING, "service_lines[0].charge"),
        ({"diagnosis": ["E119"]}, FindingCode.FIELD_UNKNOWN, "diagnosis"),
        ({"kind": "dental"}, FindingCode.KIND, "kind"),
        ({"frequency": "2"}, FindingCode.FREQUENCY, "frequency"),
        ({"subscriber.gender": "X"}, FindingCode.GENDER, "subscriber.gender"),
        (
            {"subscriber.claim_filing_indicator": "XX"},
            FindingCode.CLAIM_FILING_INDICATOR,
            "subscriber.claim_filing_indicator",
        ),
        (
            {"subscriber.payer_responsibility": "P"},
            FindingCode.PAYER_RESPONSIBILITY,
            "subscriber.payer_responsibility",
        ),
        (
            {"billing_provider.tax_id_type": "TIN"},
            FindingCode.TAX_ID_TYPE,
            "billing_provider.tax_id_type",
        ),
        ({"service_lines[1].unit_type": "HR"}, FindingCode.UNIT_TYPE, "service_lines[1].unit_type"),
        (
            {"service_lines[1].service_date": "11/01/2026"},
            FindingCode.DATE_FORMAT,
            "service_lines[1].service_date",
        ),
        (
            {"service_lines[1].service_date": "2026-02-30"},
            FindingCode.DATE_FORMAT,
            "service_lines[1].service_date",
        ),
        (
            {"service_lines[1].charge": "42,50"},
            FindingCode.AMOUNT_FORMAT,
            "service_lines[1].charge",
        ),
        (
            {"service_lines[1].diagnosis_pointers": ["Z"]},
            FindingCode.FIELD_TYPE,
            "service_lines[1].diagnosis_pointers[0]",
        ),
        ({"release_of_information": "N"}, FindingCode.CODE_NOT_IN_LIST, "release_of_information"),
        ({"service_lines": {"charge": "1"}}, FindingCode.FIELD_TYPE, "service_lines"),
    ],
)
def test_contract_violations_become_findings(
    changes: dict[str, Any], code: FindingCode, path: str
) -> None:
    """A value the model refuses becomes a finding with its code and path, never an exception."""
    record = validate_encounter(with_changes(sample_dict("professional-self"), changes))
    assert record.encounter is None
    assert (code, path) in [(f.code, f.path) for f in record.findings]


def test_relationship_code_violation() -> None:
    """An unknown relationship code is reported as E-RELATIONSHIP-CODE."""
    data = with_changes(
        sample_dict("professional-dependent"), {"patient.relationship_to_subscriber": "02"}
    )
    record = validate_encounter(data)
    assert [(f.code, f.path) for f in record.findings] == [
        (FindingCode.RELATIONSHIP_CODE, "patient.relationship_to_subscriber")
    ]


def test_not_an_object() -> None:
    """An array item that is not an object is E-NOT-AN-OBJECT."""
    record = validate_encounter(["claim"])
    assert [f.code for f in record.findings] == [FindingCode.NOT_AN_OBJECT]


def test_contract_findings_hide_input_values() -> None:
    """A refused value (possibly PHI) is not echoed in the message."""
    record = validate_encounter(
        with_changes(sample_dict("professional-self"), {"subscriber.birth_date": "JANE-1980"})
    )
    assert all("JANE" not in f.message for f in record.findings)
    assert record.claim_id == "VFP-20261101-0001"


def test_json_schema_is_up_to_date() -> None:
    """schemas/encounter.schema.json is generated (python tools/write_schemas.py)."""
    stored = (ROOT / "schemas" / "encounter.schema.json").read_text(encoding="utf-8")
    assert schema_text() == stored


def test_xsd_is_up_to_date() -> None:
    """schemas/encounter.xsd is generated (python tools/write_schemas.py)."""
    stored = (ROOT / "schemas" / "encounter.xsd").read_text(encoding="utf-8")
    assert xsd_text() == stored


def test_json_schema_documents_every_field() -> None:
    """Every property of every object in the JSON schema has a description."""
    schema = json.loads(schema_text())
    objects = [schema, *schema["$defs"].values()]
    missing = [
        f"{obj.get('title')}.{name}"
        for obj in objects
        for name, prop in obj.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert missing == []


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json.loads(schema_text()), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _schema_errors(data: Any) -> list[str]:
    validator = _validator()
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


def test_json_schema_is_a_valid_draft_2020_12_schema() -> None:
    """The generated schema is itself valid JSON Schema (2020-12)."""
    jsonschema.Draft202012Validator.check_schema(json.loads(schema_text()))


def test_json_schema_accepts_the_samples() -> None:
    """Every JSON and JSON Lines sample validates against the generated schema."""
    documents = [json.loads(p.read_text()) for p in sorted(SAMPLES.glob("*.json"))]
    documents += [json.loads(line) for line in (SAMPLES / "batch.jsonl").read_text().splitlines()]
    assert len(documents) > 5
    assert [[] for _ in documents] == [_schema_errors(d) for d in documents]


@pytest.mark.parametrize(
    ("sample", "changes", "expected"),
    [
        ("institutional-outpatient", {"institutional": DELETE}, "'institutional' is a required"),
        ("professional-self", {"place_of_service": DELETE}, "'place_of_service' is a required"),
        ("professional-self", {"frequency": "8"}, "'original_payer_claim_number' is a required"),
        ("professional-self", {"service_lines[0].unit_type": "HR"}, "'HR' is not one of"),
        ("professional-self", {"service_lines[0].service_date": "11/01/2026"}, "is not a 'date'"),
        ("professional-self", {"diagnosis": ["E119"]}, "Additional properties"),
    ],
)
def test_json_schema_refuses_what_the_contract_refuses(
    sample: str, changes: dict[str, Any], expected: str
) -> None:
    """Outside validators using the schema refuse the same mistakes the gateway reports."""
    errors = _schema_errors(with_changes(sample_dict(sample), changes))
    assert any(expected in e for e in errors), errors


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encounter_dicts())
def test_json_schema_accepts_generated_encounters(data: dict[str, Any]) -> None:
    """Every valid generated encounter (JSON form) validates against the schema."""
    assert _schema_errors(json.loads(json.dumps(data))) == []


def test_equality_ignores_how_codes_were_written() -> None:
    """An encounter written with ICD dots equals the same one written without (hash too)."""
    plain = Encounter.model_validate(sample_dict("professional-self"))
    dotted = Encounter.model_validate(
        with_changes(sample_dict("professional-self"), {"diagnoses[0]": "E11.9"})
    )
    other = Encounter.model_validate(
        with_changes(sample_dict("professional-self"), {"diagnoses[0]": "E118"})
    )
    assert plain == dotted
    assert hash(plain) == hash(dotted)
    assert plain != other
    assert plain.corrections == ()


@pytest.mark.parametrize("package", ["gateway.models", "gateway.edits", "gateway.encounters"])
def test_public_names_resolve(package: str) -> None:
    """Every name a package lists in ``__all__`` exists."""
    module = importlib.import_module(package)
    assert [name for name in module.__all__ if not hasattr(module, name)] == []
