"""The rows of the code-set rule tables: HCPCS Level II, modifiers, POS and CPT, by date of service.

Each row is (what, changes to the professional sample, expected (finding, field) pairs). Every row
uses real codes and the dates CMS's data gives them (``gateway/codes/*.tsv``).
"""

from __future__ import annotations

from typing import Any

from gateway.edits import FindingCode

C = FindingCode
SELF = "professional-self"


OUTPATIENT = "institutional-outpatient"


def first_line(code: str, when: str, modifiers: tuple[str, ...] = ()) -> dict[str, Any]:
    """Changes that put ``code`` (and modifiers) on the first line, dated ``when``, alone."""
    return {
        "service_lines[0].procedure_code": code,
        "service_lines[0].modifiers": list(modifiers),
        "service_lines[0].service_date": when,
        "service_lines[1].service_date": when,
    }


# (what, changes, the code-set findings expected as (code, path))
HCPCS_CASES: list[tuple[str, dict[str, Any], list[tuple[FindingCode, str]]]] = [
    ("valid all along", first_line("J1100", "2026-03-02"), []),
    (
        "no such code",
        first_line("J0002", "2026-03-02"),
        [(C.HCPCS_UNKNOWN, "service_lines[0].procedure_code")],
    ),
    ("last day valid", first_line("J1030", "2024-03-31"), []),
    (
        "ended the day before",
        first_line("J1030", "2024-04-01"),
        [(C.HCPCS_NOT_VALID_ON_DATE, "service_lines[0].procedure_code")],
    ),
    ("first day valid", first_line("J1010", "2024-04-01"), []),
    (
        "not valid yet",
        first_line("J1010", "2024-03-31"),
        [(C.HCPCS_NOT_VALID_ON_DATE, "service_lines[0].procedure_code")],
    ),
    ("before a gap", first_line("J0570", "2024-12-31"), []),
    (
        "in the gap",
        first_line("J0570", "2025-05-01"),
        [(C.HCPCS_NOT_VALID_ON_DATE, "service_lines[0].procedure_code")],
    ),
    ("reopened", first_line("J0570", "2025-10-01"), []),
    (
        "last day of the data",
        first_line("J0002", "2026-06-30"),
        [(C.HCPCS_UNKNOWN, "service_lines[0].procedure_code")],
    ),
    (
        "unknown after the data: may be new",
        first_line("J0002", "2026-07-01"),
        [(C.HCPCS_UNVERIFIED, "service_lines[0].procedure_code")],
    ),
    (
        "ended, after the data: still an error",
        first_line("J1030", "2026-11-02"),
        [(C.HCPCS_NOT_VALID_ON_DATE, "service_lines[0].procedure_code")],
    ),
    (
        "valid at the end of the data, after it",
        first_line("J1100", "2026-11-02"),
        [],
    ),
    (
        "on or before the first quarter",
        first_line("J1100", "2019-06-28"),
        [],
    ),
    (
        "unknown before the data",
        first_line("J0002", "2019-06-28"),
        [(C.HCPCS_UNVERIFIED, "service_lines[0].procedure_code")],
    ),
    ("a CPT code is checked by shape only", first_line("99213", "2026-03-02"), []),
]


MODIFIER_CASES: list[tuple[str, dict[str, Any], list[tuple[FindingCode, str]]]] = [
    ("a CPT modifier", first_line("99214", "2026-03-02", ("25",)), []),
    (
        "no such modifier",
        first_line("99214", "2026-03-02", ("ZX",)),
        [(C.MODIFIER_UNKNOWN, "service_lines[0].modifiers[0]")],
    ),
    (
        "no such modifier, second place",
        first_line("20610", "2026-03-02", ("RT", "ZX")),
        [(C.MODIFIER_UNKNOWN, "service_lines[0].modifiers[1]")],
    ),
    ("last day of GD", first_line("99214", "2019-12-31", ("GD",)), []),
    (
        "GD ended",
        first_line("99214", "2020-01-01", ("GD",)),
        [(C.MODIFIER_NOT_VALID_ON_DATE, "service_lines[0].modifiers[0]")],
    ),
    ("JZ from its first day", first_line("J1100", "2023-01-01", ("JZ",)), []),
    (
        "JZ before it existed",
        first_line("J1100", "2022-12-30", ("JZ",)),
        [(C.MODIFIER_NOT_VALID_ON_DATE, "service_lines[0].modifiers[0]")],
    ),
    ("SZ: real, outside I/OCE's list", first_line("97110", "2026-03-02", ("SZ",)), []),
    ("ambulance origin/destination", first_line("A0425", "2026-03-02", ("RH",)), []),
    ("category II exclusion", first_line("3074F", "2026-03-02", ("1P",)), []),
    (
        "unknown after the data",
        first_line("99214", "2026-07-01", ("ZX",)),
        [(C.MODIFIER_UNVERIFIED, "service_lines[0].modifiers[0]")],
    ),
]


POS_CASES: list[tuple[str, dict[str, Any], list[tuple[FindingCode, str]]]] = [
    ("office", {"place_of_service": "11", **first_line("99214", "2026-03-02")}, []),
    (
        "no such place",
        {"place_of_service": "28", **first_line("99214", "2026-03-02")},
        [(C.PLACE_OF_SERVICE, "place_of_service")],
    ),
    (
        "telehealth at home before 2022",
        {"place_of_service": "10", **first_line("99214", "2021-12-31", ("95",))},
        [(C.PLACE_OF_SERVICE_DATE, "place_of_service")],
    ),
    (
        "telehealth at home from 2022",
        {"place_of_service": "10", **first_line("99214", "2022-01-03")},
        [],
    ),
    (
        "a line's own place of service, before it existed",
        {"service_lines[0].place_of_service": "66", **first_line("99214", "2024-07-31")},
        [(C.PLACE_OF_SERVICE_DATE, "service_lines[0].place_of_service")],
    ),
    (
        "independent clinic in 2020 (49 is from 2003)",
        {"place_of_service": "49", **first_line("99214", "2020-05-04")},
        [],
    ),
]


CPT_CASES: list[tuple[str, dict[str, Any], list[tuple[FindingCode, str]]]] = [
    ("listed", first_line("99213", "2026-03-02"), []),
    (
        "not in the list",
        first_line("99999", "2026-03-02"),
        [(C.CPT_UNKNOWN, "service_lines[0].procedure_code")],
    ),
    ("last day of a category III code", first_line("0042T", "2025-12-31"), []),
    (
        "category III code ended",
        first_line("0042T", "2026-01-02"),
        [(C.CPT_NOT_VALID_ON_DATE, "service_lines[0].procedure_code")],
    ),
    (
        "new code before its year",
        first_line("0900T", "2025-12-31"),
        [(C.CPT_NOT_VALID_ON_DATE, "service_lines[0].procedure_code")],
    ),
    (
        "a year the list does not cover",
        first_line("99213", "2027-01-04"),
        [(C.CODE_DATA_COVERAGE, "service_lines[0].service_date")],
    ),
    (
        "unknown in a year the list does not cover",
        first_line("99999", "2027-01-04"),
        [
            (C.CPT_UNVERIFIED, "service_lines[0].procedure_code"),
            (C.CODE_DATA_COVERAGE, "service_lines[0].service_date"),
        ],
    ),
    ("HCPCS codes are not CPT", first_line("J1100", "2026-03-02"), []),
]


ALL_CASES = HCPCS_CASES + MODIFIER_CASES + POS_CASES + CPT_CASES
