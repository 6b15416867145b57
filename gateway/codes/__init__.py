"""Code meanings as data: CARC, RARC, claim status, CAS groups, 999/TA1 codes and the like.

Each table is a TSV file in this package (``code<TAB>meaning``, ``#`` comments), read once with
``importlib.resources``; updating a code list is editing a data file, never code. A code that is
not in its table is shown as unknown, never rejected: the external code lists change several times
a year.

>>> meaning("carc", "45")[:27]
'Charge exceeds fee schedule'
>>> meaning("carc", "XYZ")
'unknown code'
"""

from __future__ import annotations

from functools import cache
from importlib import resources

UNKNOWN = "unknown code"

TABLES = (
    "ack_status",
    "ak905",
    "bpr_handling",
    "carc",
    "cas_group",
    "claim_filing_indicator",
    "claim_status",
    "claim_status_category",
    "clp02",
    "entity_identifier",
    "ik304",
    "ik403",
    "ik502",
    "outcome_rules",
    "payment_method",
    "plb_reason",
    "qty_qualifier",
    "rarc",
    "stc_action",
    "ta1_ack",
    "ta1_note",
)


@cache
def _rows(table: str) -> tuple[tuple[str, ...], ...]:
    if table not in TABLES:
        raise KeyError(f"no code table named {table!r}")
    text = resources.files(__name__).joinpath(f"{table}.tsv").read_text(encoding="utf-8")
    rows: list[tuple[str, ...]] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        rows.append(tuple(part.strip() for part in raw.split("\t")))
    return tuple(rows)


@cache
def table(name: str) -> dict[str, str]:
    """The table ``name`` as ``{code: meaning}`` (the last column is the meaning)."""
    return {row[0]: row[-1] for row in _rows(name) if len(row) >= 2}


@cache
def column(name: str, position: int) -> dict[str, str]:
    """Column ``position`` (0-based; 0 is the code) of a table with extra columns, by code."""
    return {row[0]: row[position] for row in _rows(name) if len(row) > position}


def meaning(name: str, code: str) -> str:
    """What ``code`` means in table ``name``; ``UNKNOWN`` when it is not listed."""
    return table(name).get(code.strip(), UNKNOWN)


def is_known(name: str, code: str) -> bool:
    """Whether ``code`` is listed in table ``name``."""
    return code.strip() in table(name)


def category_class(category: str) -> str:
    """How a claim status category (STC01-1) reads: accepted, rejected, pending, ... or unknown."""
    return column("claim_status_category", 1).get(category.strip(), "unknown")
