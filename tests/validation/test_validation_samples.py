"""The synthetic 837P and 835 files of ``tests.support.x12_files`` are valid."""

from __future__ import annotations

from gateway.validation.validator import Options, validate
from tests.support.x12_files import claims_837p, remittance_835


def test_generated_837p_is_valid() -> None:
    """A generated 837P passes our validator with no findings at all."""
    result = validate(claims_837p(20), options=Options(external_codes=True))
    assert [str(d) for d in result.defects] == []
    assert [s.verdict for s in result.sets] == ["accepted"]


def test_generated_835_is_valid() -> None:
    """A generated 835 passes our validator with no findings at all."""
    result = validate(remittance_835(20), options=Options(external_codes=True))
    assert [str(d) for d in result.defects] == []
    assert [s.verdict for s in result.sets] == ["accepted"]
