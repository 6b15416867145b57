"""Properties of the scrubber over generated encounters."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.edits import FindingCode, rules_parties, scrub
from gateway.edits.context import Context
from gateway.models import Encounter
from tests.support.strategies import LATEST_SERVICE, encounter_dicts, encounters


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encounters())
def test_generated_encounters_scrub_clean(encounter: Encounter) -> None:
    """Valid generated encounters have no error; the scrubber is pure and leaves them unchanged."""
    before = encounter.model_dump()
    found = scrub(encounter, today=date(2026, 11, 23))
    assert [str(f) for f in found if f.is_error] == []
    assert found == scrub(encounter, today=date(2026, 11, 23))
    assert before == encounter.model_dump()
    # judged on the last possible service day, the only possible warning is an old service date
    # (the other payers' adjudications are dated on or before it, and balance)
    late = {f.code for f in scrub(encounter, today=LATEST_SERVICE)}
    assert set() == late - {FindingCode.DATE_OLD}


UNSENDABLE = ["~", "*", ":", "^", "|", ">", "\x01", "É", "北", "X" * 81, "-" * 11]


@st.composite
def _with_odd_text(draw: st.DrawFn) -> Encounter:
    """A generated encounter, maybe with odd text (a delimiter, accent, overlong) in one field."""
    data = draw(encounter_dicts())
    fields: list[tuple[dict[str, Any], str]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str):
                    fields.append((value, key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    clean = Encounter.model_validate(data)
    if fields and draw(st.booleans()):
        holder, key = draw(st.sampled_from(fields))
        holder[key] = holder[key] + draw(st.sampled_from(UNSENDABLE))
        try:
            return Encounter.model_validate(data)
        except ValidationError:  # a code list field (kind, gender...) refuses the odd text
            return clean
    return clean


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_with_odd_text())
def test_one_pass_text_check_agrees_with_the_field_by_field_walk(encounter: Encounter) -> None:
    """The quick all-text check passes exactly the encounters the per-value walk finds clean."""
    walked = list(rules_parties._text_findings(encounter))
    assert (walked == []) == rules_parties._text_is_clean(encounter)
    assert walked == list(rules_parties.text(encounter, Context(today=date(2026, 11, 23))))
