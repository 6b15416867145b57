"""The encounter as a form: the fields a billing person fixes, the findings at their fields.

Pure functions over the encounter as JSON data (no web framework): :func:`form_fields` lists the
fields the claim page shows (diagnoses, each line's codes, modifiers, units, charge, pointers and
dates, payer and subscriber ids, provider NPIs...), :func:`apply_form` takes a posted form back
into an encounter (the named fields over the JSON of the "advanced" box, which holds the rest),
and :func:`findings_by_field` puts each scrubber or payer finding at the field it names: a
scrubber path (``service_lines[1].procedure_code``) as it is, a 277CA entity (``entity IL``) at
that party's fields, a rejected line (``service line VFP0001-2``) at that line.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "ADVANCED_FIELD",
    "Field",
    "FormError",
    "apply_form",
    "changed_paths",
    "findings_by_field",
    "form_fields",
    "get_path",
    "set_path",
]

#: The form field holding the whole encounter as JSON (the "advanced" box).
ADVANCED_FIELD = "encounter_json"

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


class FormError(ValueError):
    """A posted form that cannot become an encounter: which field and what to do."""


@dataclass(frozen=True)
class Field:
    """One field of the form: its encounter path (also the input's name), label and kind.

    ``kind``: ``text``, ``code`` (upper-cased), ``list`` (comma-separated codes), ``pointers``
    (comma-separated numbers), ``money``/``number`` (decimal strings), ``date`` (YYYY-MM-DD);
    ``lookup`` names the code look-up that helps fill it (``icd``, ``hcpcs``, ``modifier``).
    """

    path: str
    label: str
    kind: str = "text"
    lookup: str = ""
    group: str = "claim"


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for name, index in _STEP.findall(path):
        steps.append(int(index) if index else name)
    return steps


def get_path(data: Any, path: str) -> Any:
    """The value at ``path`` (``service_lines[1].modifiers``), or None when any step is absent."""
    here = data
    for step in _steps(path):
        if isinstance(step, int):
            if not isinstance(here, list | tuple) or step >= len(here):
                return None
            here = here[step]
        else:
            if not isinstance(here, Mapping):
                return None
            here = here.get(step)
    return here


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in ``data``, making the objects on the way (a list grows by one at its end)."""
    steps = _steps(path)
    here: Any = data
    for step, following in itertools.pairwise(steps):
        blank: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            if step == len(here):
                here.append(blank)
            if here[step] is None:
                here[step] = blank
            here = here[step]
        else:
            if here.get(step) is None:
                here[step] = blank
            here = here[step]
    last = steps[-1]
    if isinstance(last, int):
        if last == len(here):
            here.append(value)
        else:
            here[last] = value
    else:
        here[last] = value


_PARTIES = (
    ("billing_provider", "Billing provider", ("npi", "tax_id", "taxonomy")),
    ("rendering_provider", "Rendering provider", ("npi", "taxonomy")),
    ("referring_provider", "Referring provider", ("npi",)),
    ("attending_provider", "Attending provider", ("npi",)),
    ("service_facility", "Service facility", ("npi",)),
)
_LINE_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("procedure_code", "Procedure", "code", "hcpcs"),
    ("modifiers", "Modifiers", "list", "modifier"),
    ("units", "Units", "number", ""),
    ("charge", "Charge", "money", ""),
    ("diagnosis_pointers", "Diagnosis pointers", "pointers", ""),
    ("service_date", "Date of service", "date", ""),
    ("place_of_service", "Place of service", "code", ""),
)


def form_fields(encounter: Mapping[str, Any]) -> list[Field]:
    """The fields the claim page shows for ``encounter`` (one spare diagnosis to add one)."""
    fields = [
        Field("payer.id", "Payer id", "code", group="payer"),
        Field("subscriber.member_id", "Member id", "code", group="payer"),
        Field("subscriber.group_number", "Group number", "code", group="payer"),
        Field("subscriber.claim_filing_indicator", "Claim filing indicator", "code", group="payer"),
    ]
    for name, title, keys in _PARTIES:
        if name == "billing_provider" or get_path(encounter, name) is not None:
            for key in keys:
                label = f"{title} {key.replace('_', ' ').replace('npi', 'NPI')}"
                fields.append(Field(f"{name}.{key}", label, "code", group="providers"))
    diagnoses = get_path(encounter, "diagnoses") or []
    for i in range(len(diagnoses) + 1):
        label = "Principal diagnosis" if i == 0 else f"Diagnosis {i + 1}"
        fields.append(Field(f"diagnoses[{i}]", label, "code", "icd", group="diagnoses"))
    fields += [
        Field("place_of_service", "Place of service", "code"),
        Field("prior_authorization", "Prior authorization"),
        Field("referral_number", "Referral number"),
        Field("medical_record_number", "Medical record number"),
        Field("note", "Claim note"),
    ]
    for i, line in enumerate(get_path(encounter, "service_lines") or []):
        line_keys = list(_LINE_FIELDS)
        if isinstance(line, Mapping) and line.get("revenue_code"):
            line_keys.insert(0, ("revenue_code", "Revenue code", "code", ""))
        for key, label, kind, lookup in line_keys:
            fields.append(
                Field(f"service_lines[{i}].{key}", label, kind, lookup, group=f"line {i + 1}")
            )
    return fields


def shown(field: Field, encounter: Mapping[str, Any]) -> str:
    """The field's value as the form shows it (lists comma-separated, absent as empty)."""
    value = get_path(encounter, field.path)
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _parsed(field: Field, text: str) -> Any:
    value = text.strip()
    if field.kind == "code":
        return value.upper() or None
    if field.kind == "list":
        return [v.strip().upper() for v in value.split(",") if v.strip()]
    if field.kind == "pointers":
        try:
            return [int(v) for v in value.split(",") if v.strip()]
        except ValueError:
            raise FormError(
                f"{field.path}: diagnosis pointers are numbers 1-12 separated by commas, "
                f"not {value!r}"
            ) from None
    if field.kind in ("money", "number"):
        if not value:
            return None
        try:
            Decimal(value)
        except InvalidOperation:
            raise FormError(
                f"{field.path}: {value!r} is not a number (write e.g. 185.00)"
            ) from None
        return value
    return value or None


def apply_form(
    current: Mapping[str, Any], form: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The encounter a posted form describes, and the paths it changed from ``current``.

    The "advanced" box (:data:`ADVANCED_FIELD`, the whole encounter as JSON) is read first, when
    posted; then every named field whose value differs from ``current`` is set over it, so a
    change made in either place is kept. A blank spare diagnosis adds nothing; a diagnosis
    emptied is removed. Raises :class:`FormError` for JSON that is not an encounter object or a
    field that cannot be read.
    """
    base: dict[str, Any] = copy.deepcopy(dict(current))
    text = form.get(ADVANCED_FIELD)
    if text is not None and text.strip():
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormError(
                f"the advanced box is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        if not isinstance(loaded, dict):
            raise FormError("the advanced box must hold one encounter object ({ ... })")
        base = loaded
    for field in form_fields(current):
        if field.path not in form:
            continue
        posted = form[field.path]
        if posted.strip() == shown(field, current).strip():
            continue
        set_path(base, field.path, _parsed(field, posted))
    diagnoses = base.get("diagnoses")
    if isinstance(diagnoses, list):
        base["diagnoses"] = [d for d in diagnoses if d not in (None, "")]
    return base, changed_paths(current, base)


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """The paths whose values differ between two encounters (field names only, no values)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            out += changed_paths(before.get(key), after.get(key), path)
        return out
    if (
        isinstance(before, list | tuple)
        and isinstance(after, list | tuple)
        and len(before) == len(after)
        and any(isinstance(v, Mapping) for v in before)
    ):
        out = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            out += changed_paths(b, a, f"{prefix}[{i}]")
        return out
    if _normal(before) != _normal(after):
        return [prefix or "(encounter)"]
    return []


def _normal(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    if isinstance(value, str):
        try:
            return Decimal(value).normalize() if re.fullmatch(r"-?\d+(\.\d+)?", value) else value
        except InvalidOperation:
            return value
    return value


#: 277CA STC01-3 entity identifier codes, and where that party is in the encounter.
_ENTITY_PATHS = {
    "85": "billing_provider",
    "87": "billing_provider",
    "82": "rendering_provider",
    "DN": "referring_provider",
    "71": "attending_provider",
    "72": "operating_provider",
    "77": "service_facility",
    "FA": "service_facility",
    "IL": "subscriber",
    "QC": "patient",
    "PR": "payer",
    "40": "payer",
}
#: 277CA STC01-2 claim status codes that name one field of the party (507: 164 the member id,
#: 562 the NPI, 116 the payer, 128 the taxonomy, 21 tax id).
_STATUS_FIELDS = {"164": "member_id", "562": "npi", "116": "id", "128": "taxonomy", "21": "tax_id"}
_ENTITY = re.compile(r"^entity (\w+)")
_LINE = re.compile(r"^service line (\S+)")


@dataclass(frozen=True)
class Placed:
    """A finding (its code, meaning, what to do) and the encounter path it is placed at."""

    path: str
    code: str
    meaning: str
    action: str
    where: str


def _line_index(encounter: Mapping[str, Any], control: str) -> int | None:
    for i, line in enumerate(get_path(encounter, "service_lines") or []):
        if isinstance(line, Mapping) and line.get("line_id") == control:
            return i
    return None


def place(where: str, encounter: Mapping[str, Any], code: str = "") -> str:
    """The encounter path a finding's ``where`` names (``""``: the claim as a whole); a 277CA
    status (``STC-A7:164:IL``) that names a field of the party points at that field."""
    text = where.strip()
    if not text or text == "claim":
        return ""
    entity = _ENTITY.match(text)
    if entity:
        party = _ENTITY_PATHS.get(entity.group(1), "")
        parts = code.removeprefix("STC-").split(":")
        key = _STATUS_FIELDS.get(parts[1]) if len(parts) > 1 else None
        return f"{party}.{key}" if party and key else party
    line = _LINE.match(text)
    if line:
        index = _line_index(encounter, line.group(1))
        return "" if index is None else f"service_lines[{index}]"
    if _STEP.match(text) and " " not in text:
        return text
    return ""


def findings_by_field(
    reasons: Iterable[Any], encounter: Mapping[str, Any], fields: Sequence[Field]
) -> tuple[dict[str, list[Placed]], list[Placed]]:
    """Each finding (objects with ``code``, ``meaning``, ``where``, ``action``) at the form
    fields it names, and the findings no shown field holds (the claim as a whole, or a field
    only the advanced box has). A finding at a party or a line marks all of its fields."""
    at: dict[str, list[Placed]] = {}
    elsewhere: list[Placed] = []
    for reason in reasons:
        path = place(str(reason.where or ""), encounter, str(reason.code))
        placed = Placed(path, reason.code, reason.meaning, reason.action, reason.where)
        hits = [f.path for f in fields if path and _covers(path, f.path)]
        if not hits and "." in path and str(reason.code).startswith("STC-"):
            party = path.rsplit(".", 1)[0]  # a party's field the form lacks: the party
            hits = [f.path for f in fields if _covers(party, f.path)]
        for hit in hits:
            at.setdefault(hit, []).append(placed)
        if not hits:
            elsewhere.append(placed)
    return at, elsewhere


def _covers(finding: str, field: str) -> bool:
    """Whether a finding at ``finding`` belongs to the form field ``field``: the same path, a
    part of it (``modifiers[0]`` of ``modifiers``) or a whole it is part of (a line, a party)."""
    if finding == field:
        return True
    if finding.startswith(field) and finding[len(field)] in ".[":
        return True
    return field.startswith(finding) and field[len(finding)] in ".["
