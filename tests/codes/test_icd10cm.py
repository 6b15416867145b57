"""ICD-10-CM by date of service: the code set, the scrubber's code-set rules, ``gateway codes``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from gateway.cli import main
from gateway.codes import icd10cm
from gateway.edits import Finding, check_file, scrub
from gateway.models import Encounter
from tests.support.strategies import encounters, sample_dict, with_changes

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2027, 6, 1)  # after every service date below: "in the future" never fires
SELF = "professional-self"
DEPENDENT = "professional-dependent"
INPATIENT = "institutional-inpatient"
OUTPATIENT = "institutional-outpatient"


def _on(day: str) -> dict[str, Any]:
    return {"service_lines[0].service_date": day, "service_lines[1].service_date": day}


def _icd(sample: str, changes: dict[str, Any]) -> list[Finding]:
    """The ICD-10-CM code-set findings of a sample changed by ``changes``."""
    encounter = Encounter.model_validate(with_changes(sample_dict(sample), changes))
    return [f for f in scrub(encounter, today=TODAY) if str(f.code)[2:].startswith("ICD-")]


# ------------------------------------------------------------------------------- the code set


@pytest.mark.parametrize(
    ("code", "day", "valid"),
    [
        ("E1165", date(2026, 11, 10), True),
        ("E116", date(2026, 11, 10), False),  # a subcategory
        ("T50901", date(2026, 11, 10), False),  # needs a 7th character
        ("T50901A", date(2026, 11, 10), True),
        ("Q9999", date(2026, 11, 10), False),  # no such code
        ("I420", date(2026, 9, 30), True),  # the day before the FY2027 split
        ("I420", date(2026, 10, 1), False),  # the day of it
        ("I4200", date(2026, 9, 30), False),
        ("I4200", date(2026, 10, 1), True),
        ("M545", date(2021, 9, 30), True),  # split into M54.50/M54.51/M54.59 on 2021-10-01
        ("M545", date(2021, 10, 1), False),
        ("U071", date(2020, 3, 31), False),  # COVID-19 took effect on 2020-04-01
        ("U071", date(2020, 4, 1), True),
        ("I10", date(2027, 4, 1), None),  # beyond the installed data
        ("I10", date(2015, 9, 30), None),  # before ICD-10-CM
    ],
)
def test_validity_by_date_of_service(code: str, day: date, valid: bool | None) -> None:
    """A code is valid on the dates the MCE says, to the day; outside the data it is not judged."""
    assert icd10cm.is_valid(code, day) is valid


def test_coverage_of_the_installed_data() -> None:
    """The installed data covers ICD-10-CM from its start to the MCE's last date."""
    assert icd10cm.coverage() == (date(2015, 10, 1), date(2027, 3, 31))


@pytest.mark.parametrize(
    ("code", "day", "first", "last", "count"),
    [
        ("E116", date(2026, 11, 10), "E11610", "E1169", 12),
        ("I420", date(2026, 10, 1), "I4200", "I4209", 3),  # found past the tabular's edition
        ("T50901", date(2026, 11, 10), "T50901A", "T50901S", 3),
    ],
)
def test_billable_codes_under_a_heading(
    code: str, day: date, first: str, last: str, count: int
) -> None:
    """The billable codes under a heading on a date, new codes included, in tabular order."""
    under = icd10cm.billable_under(code, day)
    assert (under[0], under[-1], len(under)) == (first, last, count)


def test_history_of_a_split_code() -> None:
    """I42.0 was valid from ICD-10's start through 2026-09-30, then replaced by its children."""
    assert icd10cm.valid_ranges("I420") == ((date(2015, 10, 1), date(2026, 9, 30)),)
    assert icd10cm.replacements("I420", date(2026, 10, 1)) == ["I4200", "I4201", "I4209"]
    assert icd10cm.replacements("I4200", date(2026, 9, 30)) == ["I420"]


def test_tabular_lookups() -> None:
    """Descriptions, 7th characters, notes, and a new code's missing description."""
    assert icd10cm.description("E1142") == "Type 2 diabetes mellitus with diabetic polyneuropathy"
    assert icd10cm.description("T50901A") == (
        "Poisoning by unspecified drugs, medicaments and biological substances, accidental "
        "(unintentional), initial encounter"
    )
    assert icd10cm.description("I4200") is None  # added 2026-10-01, after the April 2026 tabular
    assert dict(icd10cm.seventh_characters("T50901")) == {
        "A": "initial encounter",
        "D": "subsequent encounter",
        "S": "sequela",
    }
    assert icd10cm.needs_seventh("T50901")
    assert not icd10cm.needs_seventh("E116")
    assert "amyloidosis (E85.-)" in icd10cm.notes("G63")["code_first"]
    assert icd10cm.combination_codes("G63", date(2026, 1, 5)) == [
        ("diabetes mellitus", ["E0842", "E0942", "E1042", "E1142", "E1342"])
    ]


@pytest.mark.parametrize(
    ("code", "ages", "category"),
    [("Z3830", (0, 0), "newborn"), ("O80", (9, 64), "maternity"), ("Z0000", (15, 124), "adult")],
)
def test_mce_age_ranges(code: str, ages: tuple[int, int], category: str) -> None:
    """The MCE's age range of a code, and its category name."""
    found = icd10cm.profile(code, date(2026, 11, 10))
    assert found is not None
    assert found.ages == ages
    assert icd10cm.age_category(ages) == category


def test_fy2024_sex_edits() -> None:
    """The FY2024 MCE's sex lists: N40.1 male, O80 female, I10 neither."""
    assert [icd10cm.fy2024_sex(c) for c in ("N401", "O80", "I10")] == ["M", "F", None]


def test_search_puts_billable_codes_first() -> None:
    """Searching by words finds the knee osteoarthritis codes, billable before headings."""
    found = icd10cm.search("knee osteoarthritis", date(2026, 11, 10), limit=40)
    assert "M1711" in found
    billable = [bool(icd10cm.is_valid(c, date(2026, 11, 10))) for c in found]
    assert billable == sorted(billable, reverse=True)


# ------------------------------------------------------------------------- the issue's examples


@pytest.mark.parametrize(
    ("sample", "changes", "code", "path", "words"),
    [
        (SELF, {"diagnoses[0]": "E116"}, "E-ICD-NOT-BILLABLE", "diagnoses[0]", "E11.610"),
        (SELF, {"diagnoses[2]": "T50901"}, "E-ICD-7TH-CHARACTER", "diagnoses[2]", "A initial"),
        (SELF, {"diagnoses[2]": "Q9999"}, "E-ICD-UNKNOWN", "diagnoses[2]", "Q99.9"),
        (
            SELF,
            {"diagnoses": ["G63", "E1142"]},
            "E-ICD-MANIFESTATION-FIRST",
            "diagnoses[0]",
            "E11.42",
        ),
        (SELF, {"diagnoses": ["G63"]}, "E-ICD-MANIFESTATION-FIRST", "diagnoses[0]", "E11.42"),
        (
            SELF,
            {"diagnoses": ["V4352XA", "S82101A"]},
            "E-ICD-EXTERNAL-CAUSE-FIRST",
            "diagnoses[0]",
            "S82.101A",
        ),
        (
            SELF,
            {"diagnoses[2]": "Z3830", "subscriber.birth_date": "1976-05-05"},
            "E-ICD-AGE-CONFLICT",
            "diagnoses[2]",
            "newborn",
        ),
        (
            SELF,
            {"diagnoses[2]": "O80", "subscriber.birth_date": "1954-05-05"},
            "E-ICD-AGE-CONFLICT",
            "diagnoses[2]",
            "maternity",
        ),
    ],
)
def test_issue_examples_are_caught(
    sample: str, changes: dict[str, Any], code: str, path: str, words: str
) -> None:
    """Every example of the issue is caught at its field, with a fix that names what to send."""
    found = {(str(f.code), f.path): f for f in _icd(sample, changes)}
    assert (code, path) in found, list(found)
    hit = found[(code, path)]
    assert words in hit.message + " " + hit.hint


def test_explanations_list_children_and_seventh_characters() -> None:
    """The fix of E11.6 lists ten billable codes and "and 2 more"; T50.901's gives A, D, S."""
    (category,) = _icd(SELF, {"diagnoses[0]": "E116"})
    assert category.hint == (
        "Use one of the billable codes under it: E11.610, E11.618, E11.620, E11.621, E11.622, "
        "E11.628, E11.630, E11.638, E11.641, E11.649 and 2 more."
    )
    (seventh,) = _icd(SELF, {"diagnoses[2]": "T50901"})
    assert seventh.hint == (
        "Add the 7th character: A initial encounter, D subsequent encounter, S sequela "
        "(e.g. T50.901A)."
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"diagnoses[2]": "I420", **_on("2026-09-30")}, []),
        ({"diagnoses[2]": "I420", **_on("2026-10-01")}, ["E-ICD-DELETED"]),
        ({"diagnoses[2]": "I4200", **_on("2026-09-30")}, ["E-ICD-NOT-YET-VALID"]),
        ({"diagnoses[2]": "I4200", **_on("2026-10-01")}, []),
        # a line on 2026-10-01 pointing to I42.0 is judged on its own date, not the claim's first
        (
            {
                "diagnoses[1]": "I420",
                "service_lines[0].service_date": "2026-10-01",
                "service_lines[1].service_date": "2026-09-30",
            },
            ["E-ICD-DELETED"],
        ),
    ],
)
def test_the_october_1_boundary(changes: dict[str, Any], expected: list[str]) -> None:
    """I42.0 is right the day before the FY2027 update and wrong the day of it; I42.00 reverse."""
    assert [str(f.code) for f in _icd(SELF, changes)] == expected


def test_a_deleted_code_names_the_date_and_its_replacements() -> None:
    """The deleted finding says when the change happened and what replaced it."""
    (deleted,) = _icd(SELF, {"diagnoses[2]": "I420", **_on("2026-11-10")})
    assert "deleted on 2026-10-01" in deleted.message
    assert "I42.00" in deleted.hint
    assert "I42.01" in deleted.hint
    assert "I42.09" in deleted.hint
    assert "no description yet" in deleted.hint


@pytest.mark.parametrize(
    ("sample", "changes", "expected"),
    [
        # a wellness visit: right first on an 837P and an outpatient 837I, not inpatient principal
        (SELF, {"diagnoses[0]": "Z0000"}, []),
        (OUTPATIENT, {"diagnoses[0]": "Z0000"}, []),
        (INPATIENT, {"diagnoses[0]": "Z0000"}, ["E-ICD-UNACCEPTABLE-PRINCIPAL"]),
        # "questionable admission" is an inpatient edit only
        (SELF, {"diagnoses": ["I10", "E119"]}, []),
        (OUTPATIENT, {"diagnoses": ["I10", "R079"]}, []),
        (INPATIENT, {"diagnoses": ["I10", "I214"]}, ["W-ICD-QUESTIONABLE-ADMISSION"]),
        # an adult code on a child: a warning on an 837P, an error on an 837I
        (DEPENDENT, {"diagnoses[1]": "Z0000"}, ["W-ICD-AGE-CONFLICT"]),
        # sequencing conventions hold for every claim
        (OUTPATIENT, {"diagnoses": ["G63", "R079"]}, ["E-ICD-MANIFESTATION-FIRST"]),
        (
            OUTPATIENT,
            {"institutional.reason_for_visit_diagnoses": ["W010XXA"]},
            ["E-ICD-EXTERNAL-CAUSE-FIRST"],
        ),
        (INPATIENT, {"institutional.admitting_diagnosis": "E116"}, ["E-ICD-NOT-BILLABLE"]),
        # a manifestation code second is where it belongs
        (SELF, {"diagnoses": ["E859", "G63"]}, []),
    ],
)
def test_what_applies_to_which_claim(
    sample: str, changes: dict[str, Any], expected: list[str]
) -> None:
    """Inpatient-only MCE edits stay off professional and outpatient claims; conventions do not."""
    assert [str(f.code) for f in _icd(sample, changes)] == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"diagnoses[2]": "N401"}, ["W-ICD-SEX-CONFLICT"]),  # prostate, patient F
        ({"diagnoses[2]": "N401", "subscriber.gender": "M"}, []),
        ({"diagnoses[2]": "O80", "subscriber.gender": "M"}, ["W-ICD-SEX-CONFLICT"]),
        ({"diagnoses[2]": "O80"}, []),  # F, 46 on the date of service
        ({"diagnoses[2]": "N401", "subscriber.gender": "U"}, []),
    ],
)
def test_sex_conflicts_warn(changes: dict[str, Any], expected: list[str]) -> None:
    """A diagnosis the FY2024 MCE listed for the other sex, or a pregnancy code for a male: a
    warning, never an error."""
    assert [str(f.code) for f in _icd(SELF, changes)] == expected


@pytest.mark.parametrize(
    ("changes", "message", "hint"),
    [
        ({"diagnoses[2]": "T50901Z"}, "Z is not a 7th character of T50.901", "A initial encounter"),
        ({"diagnoses[2]": "S0083A"}, "lacks the placeholder X", "S00.83XA"),
        ({"diagnoses[2]": "S0083"}, "needs a 7th character", "S00.83XA"),
    ],
)
def test_seventh_character_problems(changes: dict[str, Any], message: str, hint: str) -> None:
    """A wrong 7th character, or one written without its placeholder X, is explained."""
    (found,) = _icd(SELF, changes)
    assert str(found.code) == "E-ICD-7TH-CHARACTER"
    assert message in found.message
    assert hint in found.hint


def test_inpatient_age_is_taken_on_admission() -> None:
    """A newborn code on a stay that spans the first birthday is judged on the admission date."""
    stay = {
        "diagnoses": ["Z3800", "P599"],
        "subscriber.birth_date": "2025-10-08",
        "institutional.admission_date": "2025-10-08",
        "institutional.statement_from": "2025-10-08",
        "institutional.statement_to": "2026-10-10",
        "institutional.admitting_diagnosis": "P599",
    }
    changes = {**stay, **{f"service_lines[{i}].service_date": "2025-10-08" for i in range(3)}}
    assert [str(f.code) for f in _icd(INPATIENT, changes)] == []


def test_a_date_before_icd10_warns() -> None:
    """A service before 2015-10-01 was coded in ICD-9-CM: a warning, no error."""
    found = _icd(SELF, {"diagnoses": ["E116"], **_on("2015-09-30")})
    assert [str(f.code) for f in found] == ["W-ICD-DATA-COVERAGE"]
    assert "ICD-9-CM" in found[0].message


def test_a_date_beyond_the_data_warns_once_and_never_errs() -> None:
    """Past the installed data: one coverage warning, and no error even for a category."""
    found = _icd(SELF, {"diagnoses": ["E116", "T50901", "Q9999"], **_on("2027-04-01")})
    assert [str(f.code) for f in found] == ["W-ICD-DATA-COVERAGE"]
    assert "covers service dates up to 2027-03-31" in found[0].message
    assert "upgrade x12-claim-gateway" in found[0].message.lower()


# ------------------------------------------------------------------------------- samples stay clean


SAMPLE_FILES = sorted(
    [
        *(ROOT / "samples" / "encounters").iterdir(),
        *(ROOT / "gateway/demo_samples").iterdir(),
    ]
)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_samples_use_codes_valid_on_their_dates(path: Path) -> None:
    """Every sample's diagnoses are valid and billable on its dates: no ICD-10-CM finding."""
    found = [
        str(f)
        for outcome in check_file(path, today=TODAY)
        for f in outcome.findings
        if str(f.code)[2:].startswith("ICD-")
    ]
    assert found == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encounters())
def test_generated_encounters_use_valid_codes(encounter: Encounter) -> None:
    """Generated encounters raise no ICD-10-CM finding (their codes are valid on their dates)."""
    found = [str(f) for f in scrub(encounter, today=TODAY) if str(f.code)[2:].startswith("ICD-")]
    assert found == []


# ------------------------------------------------------------------------------- gateway codes


def test_codes_icd_explains_a_category(capsys: pytest.CaptureFixture[str]) -> None:
    """``gateway codes icd E11.6 --json``: not billable, its billable children, exit 1."""
    assert main(["codes", "icd", "E11.6", "--date", "2026-11-10", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["billable"] is False
    assert data["billable_codes_under"][:2] == ["E11.610", "E11.618"]
    assert data["data"]["coverage"]["to"] == "2027-03-31"


def test_codes_icd_new_code_says_no_description(capsys: pytest.CaptureFixture[str]) -> None:
    """A code added after the tabular's edition is valid, with a plain remark, not an error."""
    assert main(["codes", "icd", "I42.00", "--date", "2026-11-10"]) == 0
    out = capsys.readouterr().out
    assert "valid and billable" in out
    assert "no description yet" in out


def test_codes_icd_shows_seventh_characters(capsys: pytest.CaptureFixture[str]) -> None:
    """``gateway codes icd T50.901`` lists the 7th characters and their meanings."""
    main(["codes", "icd", "T50.901", "--date", "2026-11-10"])
    out = capsys.readouterr().out
    assert "A  initial encounter" in out
    assert "S  sequela" in out


def test_codes_search(capsys: pytest.CaptureFixture[str]) -> None:
    """``gateway codes search`` prints matching codes, billable ones first."""
    assert main(["codes", "search", "knee osteoarthritis", "--json", "--date", "2026-11-10"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["billable"]
    assert any(r["code"] == "M17.11" for r in rows)


def test_codes_search_by_code(capsys: pytest.CaptureFixture[str]) -> None:
    """``gateway codes search E11.6``: the heading, then the billable codes under it."""
    assert main(["codes", "search", "E11.6", "--json", "--date", "2026-11-10"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert (rows[0]["code"], rows[0]["billable"]) == ("E11.6", False)
    assert "E11.65" in [r["code"] for r in rows[1:]]


def test_codes_icd_beyond_the_data(capsys: pytest.CaptureFixture[str]) -> None:
    """A date past the installed data is not judged, and says to upgrade."""
    main(["codes", "icd", "E11.65", "--date", "2027-06-01", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["valid_on_date"] is None
    assert "upgrade x12-claim-gateway" in data["remark"]


def test_codes_icd_shows_the_mce_edits(capsys: pytest.CaptureFixture[str]) -> None:
    """``gateway codes icd O80`` gives its maternity ages and FY2024 sex; G63 its sequencing."""
    main(["codes", "icd", "O80", "--date", "2026-11-10", "--json"])
    edits = json.loads(capsys.readouterr().out)["edits"]
    assert edits["ages"] == {"category": "maternity", "from": 9, "to": 64}
    assert edits["fy2024_sex"] == "F"
    main(["codes", "icd", "G63", "--date", "2026-11-10", "--json"])
    assert json.loads(capsys.readouterr().out)["edits"]["manifestation_never_first"] is True
