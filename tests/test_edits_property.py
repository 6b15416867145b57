"""Properties of the scrubber over generated encounters."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings

from gateway.edits import FindingCode, scrub
from gateway.models import Encounter
from tests.strategies import LATEST_SERVICE, encounters


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encounters())
def test_generated_encounters_scrub_clean(encounter: Encounter) -> None:
    """Valid generated encounters have no error; the scrubber is pure and leaves them unchanged."""
    before = encounter.model_dump()
    found = scrub(encounter, today=date(2026, 11, 23))
    assert [str(f) for f in found if f.is_error] == []
    assert found == scrub(encounter, today=date(2026, 11, 23))
    assert before == encounter.model_dump()
    # judged on the last possible service day, the only possible warnings are an old service
    # date and, for a secondary claim, the earlier payers' missing adjudication
    late = {f.code for f in scrub(encounter, today=LATEST_SERVICE)}
    assert set() == late - {FindingCode.DATE_OLD, FindingCode.OTHER_PAYER_MISSING}
