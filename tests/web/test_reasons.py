"""A queue row's reason code in words, from the code lists (never from the item's text)."""

from __future__ import annotations

import pytest

from gateway.web.reasons import reason_meaning


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("CO-50", "non-covered services because this is not deemed a 'medical necessity'"),
        ("PR-1", "Deductible Amount"),
        ("STC-A7:164:IL", "contract/member number"),
        ("STC-A3:116:PR", "incorrect payer"),
        ("CLP02-4", "Denied"),
        ("E-ICD-NOT-BILLABLE", "billable"),
    ],
)
def test_known_codes_read_in_words(code: str, expected: str) -> None:
    assert expected.lower() in reason_meaning(code).lower()


@pytest.mark.parametrize("code", ["CO-XYZ99", "COB-PRIOR-REVERSED", "", "STC-ZZ:99999"])
def test_codes_no_list_names_have_no_meaning(code: str) -> None:
    assert not reason_meaning(code)
