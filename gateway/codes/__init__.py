"""Code meanings as data: CARC, RARC, claim status, CAS groups, 999/TA1 codes and the like.

Each table is a TSV file in this package (``code<TAB>meaning``, ``#`` comments), read once with
``importlib.resources``; updating a code list is editing a data file, never code. A code that is
not in its table is shown as unknown, never rejected: the external code lists change several times
a year. The published X12 lists (CARC, RARC, claim status and category) come from
``gateway.codes.published``, which lays a list the user installed (``gateway codes update``) over
the shipped one. The dated code sets the scrubber uses (HCPCS Level II, modifiers, places of
service, CPT) are in ``gateway.codes.procedures``; ``gateway.codes.sets`` lists what is installed.

>>> meaning("carc", "45")[:27]
'Charge exceeds fee schedule'
>>> meaning("carc", "XYZ")
'unknown code'
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from gateway.codes import published

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
    if table not in TABLES and table != CATEGORY_CLASS:
        raise KeyError(f"no code table named {table!r}")
    text = resources.files(__name__).joinpath(f"{table}.tsv").read_text(encoding="utf-8")
    rows: list[tuple[str, ...]] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        rows.append(tuple(part.strip() for part in raw.split("\t")))
    return tuple(rows)


CATEGORY_CLASS = "claim_status_class"
"""How the gateway reads each claim status category (its own table, not published data)."""


@cache
def table(name: str) -> dict[str, str]:
    """The table ``name`` as ``{code: meaning}`` (the last column is the meaning)."""
    kind = published.KIND_OF_TABLE.get(name)
    if kind is not None:
        meanings = {code: entry.description for code, entry in published.entries(kind).items()}
        if name == "claim_status_category":  # codes the published list lacks (DR0-DR08)
            for row in _rows(CATEGORY_CLASS):
                if len(row) > 2:
                    meanings.setdefault(row[0], row[2])
        return meanings
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
    return column(CATEGORY_CLASS, 1).get(category.strip(), "unknown")


def reload() -> None:
    """Read the tables again (after ``gateway codes update`` installed a newer list)."""
    published.reset()
    table.cache_clear()
    column.cache_clear()
