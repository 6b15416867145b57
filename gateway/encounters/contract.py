"""From raw decoded data to an ``Encounter``, with contract violations turned into findings.

``validate_encounter`` never raises for bad data: a pydantic ``ValidationError`` becomes one finding
per error, with a stable code chosen by the field (a wrong ``gender`` is ``E-GENDER``, a missing
field ``E-FIELD-MISSING``...) and the JSON path of the field. No input value is ever echoed into a
message (it may be PHI).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from gateway.encounters.partial import partial_encounter
from gateway.models.encounter import Encounter
from gateway.models.encounter_types import CLAIM_ID_PATTERN
from gateway.models.findings import Finding, finding
from gateway.models.findings import FindingCode as C

__all__ = ["ENUM_CODES", "EncounterRecord", "claim_id_of", "json_path", "validate_encounter"]

ENUM_CODES: dict[str, C] = {  # fields whose code list has its own finding code
    "kind": C.KIND,
    "frequency": C.FREQUENCY,
    "gender": C.GENDER,
    "relationship_to_subscriber": C.RELATIONSHIP_CODE,
    "unit_type": C.UNIT_TYPE,
    "claim_filing_indicator": C.CLAIM_FILING_INDICATOR,
    "payer_responsibility": C.PAYER_RESPONSIBILITY,
    "tax_id_type": C.TAX_ID_TYPE,
}


@dataclass(frozen=True)
class EncounterRecord:
    """One encounter read from a file: the model when it could be read, and the findings so far.

    ``index`` is the 0-based position in the file; ``line`` the line it starts on (when known);
    ``claim_id`` is taken from the raw data when possible, even if the encounter is invalid.
    """

    source: str
    index: int
    encounter: Encounter | None
    findings: tuple[Finding, ...] = ()
    line: int | None = None
    claim_id: str | None = None
    positions: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    partial: Encounter | None = field(default=None, compare=False, repr=False)
    """When the contract refused only optional fields: the encounter without them, to scrub."""
    left_out: tuple[str, ...] = ()
    """JSON paths of the fields ``partial`` leaves out."""

    @property
    def ok(self) -> bool:
        """Whether the encounter was read (it may still have scrubber findings)."""
        return self.encounter is not None


def json_path(loc: Sequence[int | str]) -> str:
    """``("service_lines", 1, "charge")`` -> ``service_lines[1].charge``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_CLAIM_ID = re.compile(CLAIM_ID_PATTERN.removesuffix("$") + r"\Z")
_CLAIM_ID_MESSAGE = (
    "claim_id is not 1-38 letters, digits or '-' starting with a letter or digit "
    "(the contract's claim id)."
)


def claim_id_of(data: Any) -> str | None:
    """The claim id of raw encounter data when it follows the contract (claim ids are not PHI);
    None for anything else, so that an id with a newline, a text-direction character or a path
    never reaches the ledger, a log or a file name."""
    if isinstance(data, Mapping):
        value = data.get("claim_id")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and _CLAIM_ID.match(value.strip()):
            return value.strip()
    return None


_PLAIN_WORDS = (
    (re.compile(r"a valid tuple"), "a list [...]"),
    (re.compile(r"a valid dictionary or instance of \w+"), "an object {...}"),
    (re.compile(r"a valid dictionary"), "an object {...}"),
    (re.compile(r"a valid string"), "text in quotes"),
    (re.compile(r"a valid boolean, unable to interpret input"), "true or false"),
)


def _plain(message: str) -> str:
    """Pydantic's words for types, in the words of the contract (list, object, text)."""
    for pattern, words in _PLAIN_WORDS:
        message = pattern.sub(words, message)
    return message


def _finding_for(error: Mapping[str, Any]) -> Finding:
    loc = tuple(error.get("loc", ()))
    # a wrap validator adds no location segment of its own; drop tagged-union noise if any
    path = json_path([p for p in loc if isinstance(p, int | str)])
    names = [p for p in loc if isinstance(p, str)]
    name = names[-1] if names else ""
    kind = str(error.get("type", ""))
    message = _plain(str(error.get("msg", "invalid value")))
    if kind == "missing":
        return finding(C.FIELD_MISSING, path, f"Required field {path} is missing.")
    if loc == ("claim_id",):
        return finding(C.CLAIM_ID_FORMAT, path, _CLAIM_ID_MESSAGE)
    if kind == "extra_forbidden":
        return finding(C.FIELD_UNKNOWN, path, f"{path} is not a field of the contract.")
    if kind == "model_type" and not loc:
        return finding(C.NOT_AN_OBJECT, "", "The encounter is not a JSON object.")
    if kind in ("enum", "literal_error") or (name in ENUM_CODES and kind.endswith("_type")):
        return finding(ENUM_CODES.get(name, C.CODE_NOT_IN_LIST), path, f"{message}.")
    if kind.startswith("date") or (kind == "value_error" and "date" in message):
        return finding(C.DATE_FORMAT, path, f"{path} is not a date written YYYY-MM-DD.")
    if kind.startswith("decimal"):
        return finding(C.AMOUNT_FORMAT, path, f"{path} is not a decimal number.")
    return finding(C.FIELD_TYPE, path, f"{message}.")


def findings_of(error: ValidationError) -> tuple[Finding, ...]:
    """One finding per error of a pydantic ``ValidationError`` (without input values)."""
    return tuple(_finding_for(e) for e in error.errors(include_input=False, include_url=False))


def validate_encounter(
    data: Any,
    *,
    source: str = "<input>",
    index: int = 0,
    line: int | None = None,
    positions: Mapping[str, int] | None = None,
) -> EncounterRecord:
    """Validate decoded data (a dict from JSON or XML) against the contract; never raises."""
    positions = positions or {}
    if not isinstance(data, Mapping):
        found = finding(C.NOT_AN_OBJECT, "", "The encounter is not a JSON object {...}.")
        return EncounterRecord(
            source, index, None, (_locate(found, source, line, positions),), line
        )
    try:
        encounter = Encounter.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        found_all = tuple(_locate(f, source, line, positions) for f in findings_of(exc))
        best = partial_encounter(data, errors)
        partial, left_out = (
            (best[0], tuple(json_path(loc) for loc in best[1])) if best else (None, ())
        )
        return EncounterRecord(
            source, index, None, found_all, line, claim_id_of(data), positions, partial, left_out
        )
    return EncounterRecord(source, index, encounter, (), line, encounter.claim_id, positions)


def _locate(found: Finding, source: str, line: int | None, positions: Mapping[str, int]) -> Finding:
    # a field's own line when the form gives one (XML); the record carries the encounter's line
    return found.located(source, position_of(found.path, positions, None))


def position_of(path: str, positions: Mapping[str, int], default: int | None) -> int | None:
    """The line of the field at ``path`` (or of its nearest enclosing field) when known."""
    probe = path
    while probe:
        if probe in positions:
            return positions[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return default
