"""HCPCS Level II codes, modifiers and places of service with their dates; a practice's CPT list.

The shipped data (``hcpcs_level2.tsv``, ``modifiers.tsv``, ``places_of_service.tsv``; provenance
in ``SOURCES.md``) is read once per process, on first use. CPT descriptors are the AMA's and are
not shipped: ``cpt_codes(path)`` reads the practice's own licensed list (CSV ``code, from, to``)
when the configuration names one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from gateway.codes.dated import DatedCodes

__all__ = [
    "HCPCS_COVERS_FROM",
    "HCPCS_COVERS_TO",
    "HCPCS_VERSION",
    "CptFileError",
    "cpt_codes",
    "hcpcs",
    "modifier_family",
    "modifier_level",
    "modifiers",
    "parse_cpt",
    "places_of_service",
]

HCPCS_VERSION = "I/OCE 27.1, 2026-Q2"
HCPCS_COVERS_FROM = date(2019, 7, 1)
"""The first quarter of the data (I/OCE 20.2): a code valid then may be older."""
HCPCS_COVERS_TO = date(2026, 6, 30)
"""The last day of the last quarter of the data (I/OCE 27.1, 2026-Q2)."""
POS_AS_OF = date(2025, 4, 26)
POS_CORRECTIONS = {"49": date(2003, 10, 1), "57": date(2003, 10, 1)}
"""Start dates the source got wrong: CMS lists 49 and 57 as effective October 1, 2003 (the source
file says 2023-10-01; SOURCES.md flags it). Applied on reading; the shipped file is kept as
extracted."""


def _tsv(name: str) -> Iterator[list[str]]:
    """The data rows of a shipped TSV (the header row skipped)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    lines = text.splitlines()
    for line in lines[1:]:
        if line.strip():
            yield line.split("\t")


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@cache
def hcpcs() -> DatedCodes:
    """HCPCS Level II codes with their validity spans and short descriptors (D codes: none)."""
    rows = ((r[0], _day(r[1]), _day(r[2]), r[3]) for r in _tsv("hcpcs_level2.tsv"))
    return DatedCodes.from_rows(
        "HCPCS Level II", rows, covers_from=HCPCS_COVERS_FROM, covers_to=HCPCS_COVERS_TO
    )


@cache
def modifiers() -> DatedCodes:
    """The modifiers CMS's outpatient code editor (I/OCE) accepts, with their validity spans."""
    rows = ((r[0], _day(r[1]), _day(r[2]), "") for r in _tsv("modifiers.tsv"))
    return DatedCodes.from_rows(
        "modifiers", rows, covers_from=HCPCS_COVERS_FROM, covers_to=HCPCS_COVERS_TO
    )


@cache
def _modifier_levels() -> dict[str, str]:
    return {r[0]: r[3] for r in _tsv("modifiers.tsv")}


def modifier_level(modifier: str) -> str:
    """``CPT`` or ``HCPCS`` for a listed modifier, ``""`` otherwise."""
    return _modifier_levels().get(modifier, "")


_AMBULANCE_ENDS = "DEGHIJNPRSX"
_OUTSIDE_OCE = {
    "1P": "CPT category II performance measure exclusion (medical reasons)",
    "2P": "CPT category II performance measure exclusion (patient reasons)",
    "3P": "CPT category II performance measure exclusion (system reasons)",
    "SZ": "HCPCS habilitative services",
}


def modifier_family(modifier: str) -> str:
    """What a real modifier absent from the I/OCE list is, or ``""`` (see the module's README).

    The I/OCE list is the set of modifiers outpatient facility claims may carry; modifiers used
    only on professional or supplier claims are missing from it: the ambulance origin/destination
    pairs (both letters from D, E, G, H, I, J, N, P, R, S, X, e.g. RH), CPT category II 1P-3P, SZ.
    """
    if modifier in _OUTSIDE_OCE:
        return _OUTSIDE_OCE[modifier]
    if len(modifier) == 2 and all(ch in _AMBULANCE_ENDS for ch in modifier):
        return "ambulance origin and destination"
    return ""


@cache
def places_of_service() -> DatedCodes:
    """CMS place of service codes with their names and effective dates (as of 2025-04-26)."""
    rows = (
        (r[0], POS_CORRECTIONS.get(r[0], _day(r[2])), _day(r[3]), r[1])
        for r in _tsv("places_of_service.tsv")
    )
    return DatedCodes.from_rows("place of service", rows, covers_to=None)


# ----------------------------------------------------------------------------------- CPT


class CptFileError(ValueError):
    """A practice CPT file that cannot be read: where (file, line) and what is wrong."""


_CPT = re.compile(r"\d{4}[0-9FTU]")


def parse_cpt(text: str, *, name: str = "<cpt file>") -> DatedCodes:
    """Read a CPT list written ``code,from,to`` (a header row is optional; ``to`` may be empty).

    Coverage runs from the earliest ``from`` to the end of the latest year any date names: CPT
    changes each January 1 (category III and PLA codes quarterly), so a list with 2026 dates
    speaks for 2026 and no later.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    rows: list[tuple[str, date | None, date | None, str]] = []
    for row in reader:
        cells = [cell.strip() for cell in row]
        if not cells or not "".join(cells) or cells[0].startswith("#"):
            continue
        where = f"{name}:{reader.line_num}"
        if cells[0].lower() == "code":
            continue
        if len(cells) < 2:
            raise CptFileError(f"{where}: expected code,from,to (found {','.join(cells)!r})")
        code = cells[0].upper()
        if not _CPT.fullmatch(code):
            raise CptFileError(f"{where}: {cells[0]!r} is not a CPT code (5 digits, or 4 + F/T/U)")
        try:
            start = date.fromisoformat(cells[1])
            end = date.fromisoformat(cells[2]) if len(cells) > 2 and cells[2] else None
        except ValueError:
            raise CptFileError(f"{where}: dates must be written YYYY-MM-DD") from None
        if end is not None and end < start:
            raise CptFileError(f"{where}: the code ends ({end}) before it starts ({start})")
        rows.append((code, start, end, ""))
    if not rows:
        raise CptFileError(f"{name}: the file lists no CPT codes")
    first = min(r[1] for r in rows if r[1] is not None)
    last_year = max(d.year for r in rows for d in (r[1], r[2]) if d is not None)
    codes = DatedCodes.from_rows("CPT", rows, covers_to=date(last_year, 12, 31))
    return replace(codes, covers_from=first)


@cache
def cpt_codes(path: Path) -> DatedCodes:
    """The practice's CPT list at ``path``, read once per process (see ``parse_cpt``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CptFileError(f"{path}: cannot be read ({exc})") from None
    return parse_cpt(text, name=str(path))
