"""The XML form of encounters: a hardened, streaming lxml reader validated against the XSD.

A file holds one ``<encounter>`` or an ``<encounters>`` root with many. Each encounter element is
validated against ``schemas/encounter.xsd`` on its own (one bad encounter does not spoil the
others), then mapped to the same dict the JSON form gives and validated by the model, so both forms
yield the same ``Encounter``. The parser never resolves entities, never touches the network and
refuses DTDs. Findings carry the line of the element concerned. ``encounter_to_xml`` writes the
XML form of an encounter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, BinaryIO

from lxml import etree
from pydantic import BaseModel

from gateway.encounters.contract import (
    ENUM_CODES,
    EncounterRecord,
    claim_id_of,
    validate_encounter,
)
from gateway.encounters.shape import ITEM_NAMES, field_shapes, shape_of
from gateway.encounters.xsd import xsd_text
from gateway.models.encounter import Encounter
from gateway.models.findings import Finding, finding
from gateway.models.findings import FindingCode as C

__all__ = ["element_to_data", "encounter_to_xml", "load_schema", "read_xml"]


@lru_cache(maxsize=1)
def load_schema() -> etree.XMLSchema:
    """The encounter XSD, built from the model (the text ``schemas/encounter.xsd`` holds)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.fromstring(xsd_text().encode("utf-8"), parser))


def _line(element: etree._Element) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None


def _local(tag: Any) -> str:
    """The local name of an element tag; '' for comments and processing instructions."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2] if tag.startswith("{") else tag


def element_to_data(
    element: etree._Element, model: type[BaseModel], path: str, positions: dict[str, int]
) -> dict[str, Any]:
    """Map an XML element to the dict the JSON form would give; records each field's line."""
    data: dict[str, Any] = {}
    shapes = field_shapes(model)
    for child in element:
        name = _local(child.tag)
        if not name:
            continue  # comments, processing instructions
        field_path = f"{path}.{name}" if path else name
        line = _line(child)
        if line is not None:
            positions[field_path] = line
        shape = shapes.get(name)
        if shape is None:
            data[name] = _text(child)  # the model reports the unknown field
            continue
        data[name] = _value(child, shape, field_path, positions)
    return data


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


def _value(element: etree._Element, shape: Any, path: str, positions: dict[str, int]) -> Any:
    if shape.kind == "model":
        if len(element) == 0 and not _text(element):
            return None  # <patient/>: absent
        return element_to_data(element, shape.py_type, path, positions)
    if shape.kind == "list":
        items = []
        for i, child in enumerate(c for c in element if _local(c.tag)):
            item_path = f"{path}[{i}]"
            line = _line(child)
            if line is not None:
                positions[item_path] = line
            items.append(_value(child, shape.item, item_path, positions))
        return items
    text = _text(element)
    return None if text == "" and shape.optional else text


_XSD_PATH = re.compile(r"/?([A-Za-z_]+)(?:\[(\d+)\])?")


def _xsd_path_to_json(xpath: str | None, encounter_path: str | None) -> str:
    """``/encounter/service_lines/service_line[2]/charge`` -> ``service_lines[1].charge``."""
    if not xpath:
        return ""
    parts = list(_XSD_PATH.finditer(xpath))
    out = ""
    list_parent = False
    for m in parts[1:]:  # skip the encounter element itself
        name, position = m.group(1), m.group(2)
        if list_parent:
            out += f"[{int(position) - 1 if position else 0}]"
            list_parent = False
            continue
        out += f".{name}" if out else name
        list_parent = _is_list_path(out)
    return out


@lru_cache(maxsize=256)
def _list_fields() -> frozenset[str]:
    names: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            shape = shape_of(info.annotation)
            if shape.kind == "list":
                names.add(name)
                if shape.item is not None and shape.item.kind == "model":
                    walk(shape.item.py_type)
            elif shape.kind == "model":
                walk(shape.py_type)

    walk(Encounter)
    return frozenset(names)


def _is_list_path(path: str) -> bool:
    last = re.split(r"[.\[]", path)[-1]
    return last in _list_fields()


def _schema_code(path: str, message: str) -> C:
    """The finding code for an XSD error: the same code the JSON form gives where one fits."""
    name = re.split(r"[.\[]", path)[-1] if path else ""
    if path == "claim_id":
        return C.CLAIM_ID_FORMAT
    if "not an element of the set" in message:
        return ENUM_CODES.get(name, C.CODE_NOT_IN_LIST)
    if "xs:date" in message:
        return C.DATE_FORMAT
    if "xs:decimal" in message:
        return C.AMOUNT_FORMAT
    if "Missing child element" in message:
        return C.FIELD_MISSING
    if "This element is not expected" in message:
        return C.FIELD_UNKNOWN
    return C.XML_SCHEMA


def _schema_findings(source: str, log: Any) -> tuple[Finding, ...]:
    out: list[Finding] = []
    for entry in log:
        path = _xsd_path_to_json(entry.path, None)
        message = re.sub(r"^Element '[^']*': ", "", entry.message)
        # lxml quotes the offending value; it may be PHI, so it is not repeated here
        message = re.sub(r"'[^']*' is not a valid value", "The value is not a valid value", message)
        message = re.sub(r"\[facet '[^']*'\] The value '[^']*'", "The value", message)
        code = _schema_code(path, message)
        out.append(finding(code, path, message).located(source, entry.line, entry.column))
    return tuple(out)


def read_xml(stream: BinaryIO, source: str = "<input>") -> Iterator[EncounterRecord]:
    """Encounters of an XML file (``<encounter>`` or ``<encounters>``), one record each."""
    schema = load_schema()
    index = 0
    events = etree.iterparse(
        stream,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    depth = 0
    root_name = ""
    try:
        for event, element in events:
            if event == "start":
                if depth == 0:
                    root_name = _local(element.tag)
                    if element.getroottree().docinfo.doctype:
                        msg = "The XML has a DOCTYPE; DTDs and entities are not accepted."
                        found = finding(C.XML_SYNTAX, "", msg).located(source, 1)
                        yield EncounterRecord(source, index, None, (found,), 1)
                        return
                    if root_name not in ("encounter", "encounters"):
                        msg = f"The root element is <{root_name}>, not <encounters> or <encounter>."
                        found = finding(C.XML_SCHEMA, "", msg).located(source, _line(element))
                        yield EncounterRecord(source, index, None, (found,), _line(element))
                        return
                depth += 1
                continue
            depth -= 1
            is_encounter = _local(element.tag) == "encounter" and (
                depth == 0 or (depth == 1 and root_name == "encounters")
            )
            if depth == 1 and root_name == "encounters" and not is_encounter:
                line = _line(element)
                msg = f"<{_local(element.tag)}> is not expected in <encounters>."
                yield EncounterRecord(
                    source,
                    index,
                    None,
                    (finding(C.XML_SCHEMA, "", msg).located(source, line),),
                    line,
                )
                index += 1
                element.clear()
                continue
            if not is_encounter:
                continue
            yield _encounter(element, schema, source, index)
            index += 1
            element.clear()
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        if not root_name:
            found = finding(C.FILE_EMPTY, "", "The file holds no XML element.").located(source, 1)
            if exc.msg and "no element found" not in exc.msg and "empty" not in exc.msg.lower():
                found = finding(C.XML_SYNTAX, "", f"Invalid XML: {exc.msg}").located(
                    source, exc.lineno
                )
            yield EncounterRecord(source, index, None, (found,), 1)
            return
        line, column = exc.position if exc.position else (exc.lineno, None)
        msg = f"Invalid XML: {exc.msg}" if exc.msg else "Invalid XML."
        found = finding(C.XML_SYNTAX, "", msg).located(source, line, column)
        yield EncounterRecord(source, index, None, (found,), line)
        return
    if index == 0 and root_name == "encounters":
        found = finding(C.FILE_EMPTY, "", "<encounters> holds no encounter.").located(source, 1)
        yield EncounterRecord(source, 0, None, (found,), 1)


def _encounter(
    element: etree._Element, schema: etree.XMLSchema, source: str, index: int
) -> EncounterRecord:
    line = _line(element)
    positions: dict[str, int] = {}
    data = element_to_data(element, Encounter, "", positions)
    _drop_namespaces(element)
    if not schema.validate(element):
        found = _schema_findings(source, schema.error_log)
        return EncounterRecord(source, index, None, found, line, claim_id_of(data), positions)
    return validate_encounter(data, source=source, index=index, line=line, positions=positions)


def _drop_namespaces(element: etree._Element) -> None:
    """Validate exporters' namespaced elements (``<e:encounter xmlns:e=...>``) by local name."""
    for node in element.iter():
        if isinstance(node.tag, str) and node.tag.startswith("{"):
            node.tag = _local(node.tag)


def encounter_to_xml(encounter: Encounter) -> bytes:
    """The XML form of an encounter (``<encounter>``, absent fields left out), UTF-8 encoded."""
    root = etree.Element("encounter")
    _fill(root, encounter.model_dump(mode="json", exclude_none=True))
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def _fill(parent: etree._Element, data: dict[str, Any]) -> None:
    for name, value in data.items():
        child = etree.SubElement(parent, name)
        _put(child, name, value)


def _put(element: etree._Element, name: str, value: Any) -> None:
    if isinstance(value, dict):
        _fill(element, value)
    elif isinstance(value, list):
        for item in value:
            _put(etree.SubElement(element, ITEM_NAMES.get(name, "item")), name, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)
