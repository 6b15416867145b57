"""Table-driven tests of the date-aware code-set rules: HCPCS Level II, modifiers, POS and CPT.

Every row uses real codes and the dates CMS's data gives them (``gateway/codes/*.tsv``).
"""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from gateway.codes import procedures
from gateway.codes.dated import DatedCodes, Span, Validity
from gateway.demo import demo_encounters
from gateway.edits import Finding, FindingCode, check_file, scrub
from gateway.models import Encounter
from tests.support.code_set_cases import (
    CPT_CASES,
    HCPCS_CASES,
    MODIFIER_CASES,
    OUTPATIENT,
    POS_CASES,
    SELF,
    first_line,
)
from tests.support.strategies import (
    CPT_HCPCS,
    EARLIEST_SERVICE,
    LATEST_SERVICE,
    MODIFIERS,
    encounters,
    sample_dict,
    with_changes,
)

TODAY = date(2026, 11, 23)
C = FindingCode
CODE_SET_FINDINGS = frozenset(
    {
        C.HCPCS_UNKNOWN,
        C.HCPCS_NOT_VALID_ON_DATE,
        C.HCPCS_UNVERIFIED,
        C.MODIFIER_UNKNOWN,
        C.MODIFIER_NOT_VALID_ON_DATE,
        C.MODIFIER_UNVERIFIED,
        C.CPT_UNKNOWN,
        C.CPT_NOT_VALID_ON_DATE,
        C.CPT_UNVERIFIED,
        C.CODE_DATA_COVERAGE,
        C.PLACE_OF_SERVICE,
        C.PLACE_OF_SERVICE_DATE,
    }
)


def _code_set_findings(
    sample: str, changes: dict[str, Any], cpt: DatedCodes | None = None, today: date = TODAY
) -> tuple[list[tuple[FindingCode, str]], list[str]]:
    encounter = Encounter.model_validate(with_changes(sample_dict(sample), changes))
    found = scrub(encounter, today=today, cpt=cpt)
    return (
        [(f.code, f.path) for f in found if f.code in CODE_SET_FINDINGS],
        [f"{f.code} {f.path}" for f in found if f.is_error and f.code not in CODE_SET_FINDINGS],
    )


@pytest.mark.parametrize(
    ("what", "changes", "expected"),
    HCPCS_CASES + MODIFIER_CASES + POS_CASES,
    ids=[case[0] for case in HCPCS_CASES + MODIFIER_CASES + POS_CASES],
)
def test_code_sets_by_date_of_service(
    what: str, changes: dict[str, Any], expected: list[tuple[FindingCode, str]]
) -> None:
    """Each code is judged on its line's date: exactly the expected findings, nothing else."""
    found, other_errors = _code_set_findings(SELF, changes)
    assert sorted(expected) == sorted(found)
    assert [] == other_errors


def test_an_institutional_line_is_judged_too() -> None:
    """HCPCS codes on an 837I line are judged on the line's date like an 837P's."""
    changes = {
        "service_lines[0].procedure_code": "J0002",
        "service_lines[0].modifiers": [],
        "institutional.statement_from": "2026-03-02",
        "institutional.statement_to": "2026-03-02",
        **{f"service_lines[{i}].service_date": "2026-03-02" for i in range(3)},
    }
    found, _ = _code_set_findings(OUTPATIENT, changes)
    assert [(C.HCPCS_UNKNOWN, "service_lines[0].procedure_code")] == found


MESSAGES = [
    (
        first_line("J1030", "2024-04-01"),
        "HCPCS J1030 (Methylprednisolone 40 mg inj) ended on 2024-03-31",
    ),
    (
        first_line("J1010", "2024-03-31"),
        "is valid from 2024-04-01; the line's date of service 2024-03-31",
    ),
    (
        first_line("J0570", "2025-05-01"),
        "valid 2019-07-01 or earlier to 2024-12-31; 2025-10-01 to no end",
    ),
    (first_line("J0002", "2026-03-02"), "J0002 is not a HCPCS Level II code"),
    (first_line("J0002", "2026-11-02"), "which ends with 2026-Q2 (2026-06-30)"),
    (first_line("99214", "2026-03-02", ("ZX",)), "Modifier ZX is not a CPT or HCPCS modifier"),
    (first_line("99214", "2020-01-01", ("GD",)), "Modifier GD ended on 2019-12-31"),
]


@pytest.mark.parametrize(("changes", "expected"), MESSAGES)
def test_messages_say_the_dates(changes: dict[str, Any], expected: str) -> None:
    """The message names the code, its dates and the date of service, so a biller can act."""
    encounter = Encounter.model_validate(with_changes(sample_dict(SELF), changes))
    messages = " | ".join(f.message for f in scrub(encounter, today=TODAY))
    assert expected in messages


def test_known_codes_after_the_data_raise_no_coverage_warning() -> None:
    """A code and modifier the data shows valid at its end pass on a later date: no claim-wide
    warning that would sit on every claim between two quarterly releases."""
    encounter = Encounter.model_validate(
        with_changes(sample_dict(SELF), first_line("J1100", "2026-11-02", ("JZ",)))
    )
    found = [f.code for f in scrub(encounter, today=TODAY) if f.code is C.CODE_DATA_COVERAGE]
    assert [] == found


# ---------------------------------------------------------------------------------------- CPT

CPT_TEXT = """code,from,to
99213,2019-01-01,
99214,2019-01-01,
83036,2019-01-01,
0042T,2019-01-01,2025-12-31
0900T,2026-01-01,
"""


@pytest.mark.parametrize(("what", "changes", "expected"), CPT_CASES, ids=[c[0] for c in CPT_CASES])
def test_cpt_by_date_with_the_practice_list(
    what: str, changes: dict[str, Any], expected: list[tuple[FindingCode, str]]
) -> None:
    """With a CPT list configured, CPT codes are judged by date like HCPCS codes."""
    cpt = procedures.parse_cpt(CPT_TEXT, name="cpt.csv")
    found, other_errors = _code_set_findings(SELF, changes, cpt, today=date(2027, 2, 1))
    assert sorted(expected) == sorted(found)
    assert [] == other_errors


def test_cpt_is_checked_by_shape_only_without_a_list() -> None:
    """Without [codes] cpt_file, a well-shaped CPT code nobody knows raises nothing."""
    found, other_errors = _code_set_findings(SELF, first_line("99999", "2026-03-02"))
    assert ([], []) == (found, other_errors)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("code,from,to\n", "lists no CPT codes"),
        ("code,from,to\n9921,2026-01-01,\n", "cpt.csv:2: '9921' is not a CPT code"),
        ("99213,01/01/2026,\n", "cpt.csv:1: dates must be written YYYY-MM-DD"),
        ("99213,2026-01-01,2025-01-01\n", "ends (2025-01-01) before it starts"),
        ("99213\n", "expected code,from,to"),
    ],
)
def test_a_bad_cpt_file_says_where(text: str, error: str) -> None:
    """A practice CPT file that does not read is refused with its line and the fix."""
    with pytest.raises(procedures.CptFileError, match=None) as raised:
        procedures.parse_cpt(text, name="cpt.csv")
    assert error in str(raised.value)


def test_cpt_list_coverage_is_the_years_it_names() -> None:
    """A list with 2019-2026 dates covers from its first date to the end of 2026."""
    cpt = procedures.parse_cpt(CPT_TEXT)
    assert (date(2019, 1, 1), date(2026, 12, 31)) == (cpt.covers_from, cpt.covers_to)


# ------------------------------------------------------------------------------ the data


def test_dated_codes_judge_each_validity() -> None:
    """``judge`` tells valid, ended, not yet valid, in a gap, unknown and unverified apart."""
    data = DatedCodes.from_rows(
        "t",
        [
            ("A", date(2020, 1, 1), date(2020, 12, 31), ""),
            ("A", date(2022, 1, 1), None, ""),
            ("B", date(2021, 1, 1), date(2021, 6, 30), ""),
        ],
        covers_from=date(2020, 1, 1),
        covers_to=date(2023, 12, 31),
    )
    cases = [
        ("A", date(2019, 5, 1), Validity.VALID),  # 2020-01-01 is the data's start: on or before
        ("A", date(2021, 5, 1), Validity.GAP),
        ("A", date(2024, 5, 1), Validity.VALID),
        ("B", date(2020, 12, 31), Validity.NOT_YET),
        ("B", date(2021, 7, 1), Validity.ENDED),
        ("C", date(2022, 1, 1), Validity.UNKNOWN),
        ("C", date(2024, 1, 1), Validity.UNVERIFIED),
        ("C", date(2019, 12, 31), Validity.UNVERIFIED),
    ]
    assert [c[2] for c in cases] == [data.judge(code, when).validity for code, when, _ in cases]
    assert (Span(None, date(2020, 12, 31)), Span(date(2022, 1, 1), None)) == data.spans["A"]


def test_shipped_hcpcs_and_modifier_data() -> None:
    """The shipped data has every row of the source and ends with 2026-Q2."""
    hcpcs = procedures.hcpcs()
    mods = procedures.modifiers()
    assert (9076, 9078) == (len(hcpcs), sum(len(s) for s in hcpcs.spans.values()))
    assert (414, date(2026, 6, 30)) == (len(mods), mods.covers_to)
    assert "" == hcpcs.descriptions.get("D0120", "")  # CDT descriptors are the ADA's: none
    assert ("CPT", "HCPCS", "") == tuple(procedures.modifier_level(m) for m in ("25", "RT", "ZX"))


def test_pos_49_and_57_read_as_2003() -> None:
    """The source's 2023 start of POS 49 and 57 is read as CMS's 2003-10-01."""
    places = procedures.places_of_service()
    assert [Span(date(2003, 10, 1), None)] * 2 == [places.spans["49"][0], places.spans["57"][0]]


# ------------------------------------------------- samples, demo and generated encounters

SAMPLE_FOLDERS = [
    Path(__file__).resolve().parents[2] / "samples" / "encounters",
    Path(__file__).resolve().parents[2] / "gateway" / "demo_samples",
]


def _code_set_errors(findings: Iterable[Finding]) -> list[str]:
    return [str(f) for f in findings if f.is_error and f.code in CODE_SET_FINDINGS]


@pytest.mark.parametrize(
    "path",
    sorted(p for folder in SAMPLE_FOLDERS for p in folder.iterdir() if p.is_file()),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_samples_use_codes_valid_on_their_dates(path: Path) -> None:
    """Every sample and demo sample encounter has HCPCS codes and modifiers valid on its dates."""
    results = list(check_file(path, today=TODAY))
    assert [] == [e for r in results for e in _code_set_errors(r.findings)]
    assert all(r.encounter is not None for r in results)


def test_demo_encounters_use_codes_valid_on_their_dates() -> None:
    """The demo's generated encounters raise no code-set error (its planted mistakes are others)."""
    found = [
        error
        for data in demo_encounters(120, today=TODAY)
        for error in _code_set_errors(scrub(Encounter.model_validate(data), today=TODAY))
    ]
    assert [] == found


@pytest.mark.parametrize("code", [c for c in CPT_HCPCS if procedures.hcpcs().spans.get(c)])
def test_generated_hcpcs_codes_are_valid_over_the_whole_service_window(code: str) -> None:
    """Each HCPCS code the strategies draw is valid from the earliest to the latest service date."""
    data = procedures.hcpcs()
    last = min(LATEST_SERVICE, data.covers_to or LATEST_SERVICE)
    spans = [s for s in data.spans[code] if s.holds(EARLIEST_SERVICE) and s.holds(last)]
    assert 1 == len(spans)


def test_generated_codes_are_known() -> None:
    """Every HCPCS code the strategies draw is known; every modifier valid over the window."""
    hcpcs, mods = procedures.hcpcs(), procedures.modifiers()
    last = min(LATEST_SERVICE, mods.covers_to or LATEST_SERVICE)
    shaped = [c for c in CPT_HCPCS if c[0].isalpha()]
    assert ([], []) == (
        [c for c in shaped if c not in hcpcs],
        [
            m
            for m in MODIFIERS
            if not (mods.judge(m, EARLIEST_SERVICE).is_valid and mods.judge(m, last).is_valid)
        ],
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encounters())
def test_generated_encounters_have_no_code_set_error(encounter: Encounter) -> None:
    """Generated encounters never raise a HCPCS, modifier or POS error."""
    assert [] == _code_set_errors(scrub(encounter, today=TODAY))


"""Every row of this file's tables (test_edits_rules checks that every finding code has one)."""
