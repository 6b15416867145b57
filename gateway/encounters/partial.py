"""A best-effort encounter for scrubbing when the contract refused some optional fields.

When an encounter breaks the contract only in fields it could do without (an unknown field, an
optional field with a bad value), those fields are left out and the rest is validated again, so
the scrubber can report everything else in the same pass: staff fix a file once, not field by
field. Findings about the fields left out are withheld (they would only repeat the contract error).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from gateway.encounters.shape import shape_of
from gateway.models.encounter import Encounter

__all__ = ["partial_encounter", "withheld"]


def _optional_prefix(loc: Sequence[int | str], extra: bool) -> int | None:
    """Length of the longest prefix of ``loc`` naming a field that may be left out, if any."""
    if extra:
        return len(loc)  # an unknown field: leave it out
    model: type[BaseModel] | None = Encounter
    best: int | None = None
    for k, step in enumerate(loc, start=1):
        if isinstance(step, int):
            continue
        if model is None or step not in model.model_fields:
            return best
        info = model.model_fields[step]
        if not info.is_required():
            best = k
        shape = shape_of(info.annotation)
        if shape.kind == "list" and shape.item is not None:
            shape = shape.item
        model = shape.py_type if shape.kind == "model" else None
    return best


def _delete(data: Any, loc: Sequence[int | str]) -> bool:
    target = data
    for step in loc[:-1]:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(target, dict) and loc[-1] in target:
        del target[loc[-1]]
        return True
    return False


def partial_encounter(
    data: Mapping[str, Any], errors: Sequence[Mapping[str, Any]]
) -> tuple[Encounter, tuple[tuple[int | str, ...], ...]] | None:
    """The encounter without the refused optional fields and their locations, or None."""
    fixed = copy.deepcopy(dict(data))
    removed: list[tuple[int | str, ...]] = []
    for error in errors:
        loc = tuple(p for p in error.get("loc", ()) if isinstance(p, int | str))
        if not loc:
            return None
        cut = _optional_prefix(loc, error.get("type") == "extra_forbidden")
        if cut is None:
            return None  # a required field is missing or wrong: nothing sensible to scrub
        if _delete(fixed, loc[:cut]):
            removed.append(loc[:cut])
    try:
        return Encounter.model_validate(fixed), tuple(removed)
    except ValidationError:
        return None


def withheld(path: str, removed_paths: Sequence[str]) -> bool:
    """Whether a finding at ``path`` concerns a field that was left out."""
    return any(
        path == cut or path.startswith((f"{cut}.", f"{cut}[")) for cut in removed_paths if cut
    )
