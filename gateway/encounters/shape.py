"""The shape of the encounter model as the XML form sees it: scalars, nested models and lists.

Both the XML reader (element tree -> dict) and the XSD generator walk the pydantic model through
``shape_of``, so the XML form cannot drift from the JSON contract. ``ITEM_NAMES`` names the child
element of each list (``<diagnoses><diagnosis>E119</diagnosis></diagnoses>``).
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = ["ITEM_NAMES", "Shape", "field_shapes", "shape_of"]

ITEM_NAMES: dict[str, str] = {
    "diagnoses": "diagnosis",
    "reason_for_visit_diagnoses": "diagnosis",
    "modifiers": "modifier",
    "diagnosis_pointers": "pointer",
    "service_lines": "service_line",
    "condition_codes": "code",
    "occurrence_codes": "occurrence_code",
    "occurrence_span_codes": "occurrence_span_code",
    "value_codes": "value_code",
    "other_procedures": "procedure",
    "related_causes": "cause",
    "other_payers": "other_payer",
    "adjustments": "adjustment",
    "lines": "line",
    "remark_codes": "remark_code",
}
"""Element name of one item of each list field."""


@dataclass(frozen=True)
class Shape:
    """What a field holds: ``scalar`` (``py_type`` str/int/bool/Decimal/date/an Enum),
    ``model`` (``py_type`` a model class) or ``list`` (of ``item``)."""

    kind: str
    py_type: Any = None
    item: Shape | None = None
    optional: bool = False


def _strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def shape_of(annotation: Any) -> Shape:
    """The shape of a (resolved) field annotation."""
    tp = _strip_annotated(annotation)
    optional = False
    if get_origin(tp) in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m is not type(None)]
        optional = len(members) < len(get_args(tp))
        if len(members) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        tp = _strip_annotated(members[0])
    if get_origin(tp) is tuple:
        item = shape_of(get_args(tp)[0])
        return Shape("list", tuple, item, optional)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return Shape("model", tp, None, optional)
    if isinstance(tp, type) and issubclass(tp, str | int | bool | Decimal | date | Enum):
        return Shape("scalar", tp, None, optional)
    raise TypeError(f"unsupported field type {tp!r}")


@cache
def field_shapes(model: type[BaseModel]) -> dict[str, Shape]:
    """The shape of every field of a model (computed once per model)."""
    return {name: shape_of(info.annotation) for name, info in model.model_fields.items()}
