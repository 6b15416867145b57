"""The encounter as a form (``gateway.web.encounter_form``): paths, a posted form read back over
the JSON box, and each finding placed at its field."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gateway.ledger.records import Reason
from gateway.web.encounter_form import (
    ADVANCED_FIELD,
    FormError,
    apply_form,
    findings_by_field,
    form_fields,
    get_path,
    set_path,
)
from tests.support.queue import encounter


def sample() -> dict[str, Any]:
    """The professional sample as plain JSON data."""
    data: dict[str, Any] = json.loads(json.dumps(encounter("F1")))
    return data


def test_paths_read_and_write_nested_fields() -> None:
    """``service_lines[1].modifiers`` reads and writes; a missing step reads as None; a list
    grows by one at its end."""
    data = sample()
    set_path(data, "service_lines[1].modifiers", ["59"])
    set_path(data, "diagnoses[3]", "M1711")
    set_path(data, "referring_provider.npi", "1234567893")
    assert ["59"] == get_path(data, "service_lines[1].modifiers")
    assert "M1711" == data["diagnoses"][3]
    assert {"npi": "1234567893"} == data["referring_provider"]
    assert None is get_path(data, "service_lines[9].charge")
    assert None is get_path(data, "patient.last_name")


def test_form_fields_follow_the_encounter() -> None:
    """One field per diagnosis plus a spare, seven per line, the parties the encounter has."""
    paths = [f.path for f in form_fields(sample())]
    assert "diagnoses[3]" in paths  # three diagnoses and the spare
    assert "diagnoses[4]" not in paths
    assert "service_lines[1].diagnosis_pointers" in paths
    assert "rendering_provider.npi" in paths
    assert "referring_provider.npi" not in paths


def test_a_changed_field_wins_over_the_json_box_and_both_are_kept() -> None:
    """A field changed above and another changed in the JSON are both in the result; fields
    posted unchanged do not undo the JSON's change; an emptied diagnosis is removed."""
    current = sample()
    edited = sample()
    edited["note"] = "CORRECTED"
    form = {f.path: "" for f in form_fields(current)}
    form.update({f.path: v for f in form_fields(current) if (v := _shown(current, f.path))})
    form["service_lines[0].modifiers"] = "25, 59"
    form["diagnoses[2]"] = ""
    form[ADVANCED_FIELD] = json.dumps(edited)
    result, changed = apply_form(current, form)
    assert ["25", "59"] == result["service_lines"][0]["modifiers"]
    assert "CORRECTED" == result["note"]
    assert ["E119", "I10"] == result["diagnoses"]
    assert ["diagnoses", "note", "service_lines[0].modifiers"] == changed


def _shown(data: dict[str, Any], path: str) -> str:
    value = get_path(data, path)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("service_lines[0].diagnosis_pointers", "1, x", "diagnosis pointers are numbers"),
        ("service_lines[0].charge", "12,50", "is not a number"),
        (ADVANCED_FIELD, "{not json", "not JSON (line 1"),
        (ADVANCED_FIELD, "[1, 2]", "one encounter object"),
    ],
)
def test_fields_that_cannot_be_read_say_where(field: str, value: str, message: str) -> None:
    """Pointers, amounts and the JSON box: a FormError naming the field and the fix."""
    with pytest.raises(FormError, match=re.escape(message)):
        apply_form(sample(), {field: value})


def test_findings_are_placed_at_their_fields() -> None:
    """A scrubber path at its field (a modifier at the line's modifiers), a 277CA entity and
    status at the party's field, a rejected line at that line's fields, the claim elsewhere."""
    data = sample()
    fields = form_fields(data)
    reasons = [
        Reason("E-MODIFIER-UNKNOWN", "ZX", "service_lines[1].modifiers[0]", "fix"),
        Reason("STC-A7:164:IL", "member", "entity IL (Insured or subscriber)", "fix"),
        Reason("STC-A7:562:85", "npi", "entity 85 (Billing Provider)", "fix"),
        Reason("STC-A7:454", "line", "service line VFP0001-2 (83036)", "fix"),
        Reason("CO-50", "denied", "claim", "fix"),
        Reason("E-DOB", "birth", "subscriber.birth_date", "fix"),
    ]
    at, elsewhere = findings_by_field(reasons, data, fields)
    assert ["E-MODIFIER-UNKNOWN", "STC-A7:454"] == [
        p.code for p in at["service_lines[1].modifiers"]
    ]
    assert ["STC-A7:164:IL"] == [p.code for p in at["subscriber.member_id"]]
    assert "subscriber.group_number" not in at
    assert ["STC-A7:562:85"] == [p.code for p in at["billing_provider.npi"]]
    assert "billing_provider.tax_id" not in at
    assert "service_lines[0].charge" not in at
    assert ["CO-50", "E-DOB"] == [p.code for p in elsewhere]  # birth date: the JSON box
