"""Finding codes for a person typing (``gateway.codes.lookup``): ICD-10-CM by code or words,
HCPCS by code start or words, modifiers by code start, each judged on the date of service."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from datetime import date

from gateway.codes.lookup import hcpcs_matches, icd_matches, modifier_matches

DAY = date(2026, 3, 2)


def test_icd_by_code_gives_the_code_and_its_billable_codes() -> None:
    """``E11.6`` is a heading (not billable); the billable codes under it follow."""
    rows = icd_matches("e11.6", DAY)
    assert ("E11.6", False) == (rows[0].code, rows[0].billable)
    assert "E11.65" in [r.code for r in rows]
    assert all(r.billable for r in rows[1:])


def test_icd_by_words_puts_billable_codes_first() -> None:
    """Words of the description find codes; billable ones come before headings."""
    rows = icd_matches("knee osteoarthritis", DAY, limit=10)
    assert rows
    assert all("osteoarthritis" in r.description.lower() for r in rows)
    flags = [r.billable for r in rows]
    assert flags == sorted(flags, reverse=True)


def test_hcpcs_by_code_start_and_by_words_with_validity() -> None:
    """``J110`` finds J1100; words find codes by descriptor; an ended code says so."""
    by_code = hcpcs_matches("J110", DAY)
    by_words = hcpcs_matches("dexamethasone", DAY)
    ended = hcpcs_matches("J1030", DAY)
    assert "J1100" in [r.code for r in by_code]
    assert "J1100" in [r.code for r in by_words]
    assert (False, "ended") == (ended[0].billable, ended[0].note.split(" ")[0])


def test_modifiers_by_code_start_and_families_outside_the_list() -> None:
    """``25`` is a CPT modifier; ``RH`` (ambulance) is accepted though not in CMS's list; ``ZX``
    finds nothing."""
    (mod25,) = modifier_matches("25", DAY)
    ambulance = modifier_matches("RH", DAY)
    assert ("25", True, "CPT modifier") == (mod25.code, mod25.billable, mod25.description)
    assert ("RH", "ambulance origin and destination") == (
        ambulance[0].code,
        ambulance[0].description,
    )
    assert [] == modifier_matches("ZX", DAY)
