"""Generate the XML Schema of the encounter contract from the pydantic model.

``schemas/encounter.xsd`` is this generator's output (``python tools/write_schemas.py``
writes it; a test fails when it is stale), and the XML reader validates against the same text, so
the XML and JSON forms of the contract are one definition. Element names are the JSON field names;
list items are named by ``ITEM_NAMES``; optional fields are ``minOccurs="0"``; children may come in
any order (``xs:all``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from lxml import etree
from pydantic import BaseModel, StringConstraints
from pydantic.fields import FieldInfo

from gateway.encounters.shape import ITEM_NAMES, Shape, shape_of
from gateway.models.encounter import Encounter

__all__ = ["xsd_text"]

XS = "http://www.w3.org/2001/XMLSchema"


def _q(tag: str) -> str:
    return f"{{{XS}}}{tag}"


def _doc(parent: etree._Element, text: str | None) -> None:
    if text:
        annotation = etree.SubElement(parent, _q("annotation"))
        etree.SubElement(annotation, _q("documentation")).text = " ".join(text.split())


class _Builder:
    def __init__(self) -> None:
        self.root = etree.Element(_q("schema"), nsmap={"xs": XS})
        self.root.set("elementFormDefault", "qualified")
        self.done: set[str] = set()
        _doc(
            self.root,
            "The encounter contract of the X12 claim gateway in XML, generated from the model "
            "(gateway.models.encounter). Element names are the JSON field names; a file holds "
            "one <encounter> or an <encounters> list. Dates are YYYY-MM-DD, amounts decimals.",
        )

    def scalar_type(self, tp: Any) -> str:
        if isinstance(tp, type) and issubclass(tp, Enum):
            name = tp.__name__
            if name not in self.done:
                self.done.add(name)
                simple = etree.SubElement(self.root, _q("simpleType"), name=name)
                _doc(simple, tp.__doc__)
                restriction = etree.SubElement(simple, _q("restriction"), base="xs:token")
                for member in tp:
                    etree.SubElement(restriction, _q("enumeration"), value=str(member.value))
            return name
        if tp is bool:
            return "xs:boolean"
        if tp is int:
            return "xs:integer"
        if tp is Decimal:
            return "xs:decimal"
        if tp is date:
            return "xs:date"
        return "xs:string"

    def model_type(self, model: type[BaseModel]) -> str:
        name = model.__name__
        if name in self.done:
            return name
        self.done.add(name)
        complex_type = etree.SubElement(self.root, _q("complexType"), name=name)
        _doc(complex_type, model.__doc__)
        group = etree.SubElement(complex_type, _q("all"))
        for field_name, info in model.model_fields.items():
            shape = shape_of(info.annotation)
            element = etree.SubElement(group, _q("element"), name=field_name)
            if not info.is_required():
                element.set("minOccurs", "0")
            _doc(element, info.description)
            if not _restrict(element, info):
                self.fill(element, shape, field_name)
        return name

    def fill(self, element: etree._Element, shape: Shape, field_name: str) -> None:
        if shape.kind == "scalar":
            element.set("type", self.scalar_type(shape.py_type))
        elif shape.kind == "model":
            element.set("type", self.model_type(shape.py_type))
        else:
            assert shape.item is not None
            complex_type = etree.SubElement(element, _q("complexType"))
            sequence = etree.SubElement(complex_type, _q("sequence"))
            item = etree.SubElement(
                sequence,
                _q("element"),
                name=ITEM_NAMES.get(field_name, "item"),
                minOccurs="0",
                maxOccurs="unbounded",
            )
            self.fill(item, shape.item, field_name)


def _restrict(element: etree._Element, info: FieldInfo) -> bool:
    """Give a text field with a pattern or length limit the same facets in the XSD (anchors
    dropped: an XSD pattern always matches the whole value); False when it has none."""
    found = [m for m in info.metadata if isinstance(m, StringConstraints)]
    if not found or (found[0].pattern is None and found[0].max_length is None):
        return False
    constraints = found[0]
    simple = etree.SubElement(element, _q("simpleType"))
    restriction = etree.SubElement(simple, _q("restriction"), base="xs:token")
    if isinstance(constraints.pattern, str):
        pattern = constraints.pattern.removeprefix("^").removesuffix("$")
        etree.SubElement(restriction, _q("pattern"), value=pattern)
    if constraints.max_length is not None:
        etree.SubElement(restriction, _q("maxLength"), value=str(constraints.max_length))
    return True


def xsd_text() -> str:
    """The XSD of the contract, as stored in ``schemas/encounter.xsd``."""
    builder = _Builder()
    encounter = etree.SubElement(builder.root, _q("element"), name="encounter")
    _doc(encounter, Encounter.__doc__)
    encounters = etree.SubElement(builder.root, _q("element"), name="encounters")
    _doc(encounters, "A batch of encounters.")
    complex_type = etree.SubElement(encounters, _q("complexType"))
    sequence = etree.SubElement(complex_type, _q("sequence"))
    etree.SubElement(sequence, _q("element"), ref="encounter", minOccurs="0", maxOccurs="unbounded")
    encounter.set("type", builder.model_type(Encounter))
    text = etree.tostring(builder.root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return text.decode("utf-8")
