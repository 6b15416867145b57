"""Implementation-guide specs: pyx12's XML maps loaded with lxml into frozen, typed objects.

pyx12 ships one XML map per implementation guide (loops, segments, elements, code lists) plus
``dataele.xml`` (data element types and lengths), ``codes.xml`` (external code sets) and
``maps.xml`` (which map serves which ISA12 / GS01 / GS08). This module reads them without importing
pyx12 (only its installed folder is located) and without resolving entities or touching the network.

>>> spec = load_map("837.5010.X222.A1.xml")                    # doctest: +SKIP
>>> spec.find("ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A").usage  # doctest: +SKIP
'R'
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

MAXINT = 2147483647  # pyx12's "unbounded" (a repeat or max use of ">1")

# the guides validated here (ISA12 00501), by GS08
SUPPORTED_MAPS: dict[str, str] = {
    "005010X222A1": "837.5010.X222.A1.xml",
    "005010X223A2": "837Q3.I.5010.X223.A1.xml",
    "005010X221A1": "835.5010.X221.A1.xml",
    "005010X214": "277.5010.X214.xml",
    "005010X231A1": "999.5010X231.A1.xml",
    "005010X231": "999.5010.xml",
}
CONTROL_MAP = "x12.control.00501.xml"


class SpecError(Exception):
    """A map file is missing or is not what pyx12's map schema describes."""


@dataclass(frozen=True, slots=True)
class SyntaxNote:
    """An X12 syntax note: ``kind`` is P, R, E, C or L; ``positions`` are element positions."""

    kind: str
    positions: tuple[int, ...]

    @property
    def text(self) -> str:
        """The note as the guides write it, e.g. ``P0304``."""
        return self.kind + "".join(f"{p:02d}" for p in self.positions)


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """A simple data element (or a component of a composite) as the guide uses it."""

    ref: str  # reference designator, e.g. NM108 or CLM05-1
    name: str
    data_ele: str  # the X12 data element number, e.g. 66
    seq: int  # position in its segment or composite, from 1
    usage: str  # R required, S situational, N not used
    data_type: str | None  # AN, ID, N0..N9, R, DT, TM, B (from dataele.xml)
    min_len: int
    max_len: int
    codes: tuple[str, ...] = ()  # internal code list, in the guide's order
    external: str | None = None  # name of an external code set (codes.xml), if any
    regex: str | None = None


@dataclass(frozen=True, slots=True)
class CompositeSpec:
    """A composite data element (C0xx) and its components."""

    ref: str
    name: str
    data_ele: str
    seq: int
    usage: str
    components: tuple[ElementSpec, ...]


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A segment at one position of a loop, with its max use, syntax notes and elements."""

    id: str
    name: str
    usage: str
    pos: int
    max_use: int
    elements: tuple[ElementSpec | CompositeSpec, ...]
    syntax: tuple[SyntaxNote, ...] = ()


@dataclass(frozen=True, slots=True)
class LoopSpec:
    """A loop: its usage, how often it may repeat, and its children in map order."""

    id: str
    name: str
    usage: str
    pos: int
    repeat: int
    children: tuple[LoopSpec | SegmentSpec, ...]

    def find(self, path: str) -> LoopSpec | SegmentSpec:
        """The descendant at a ``/``-separated path of loop ids ending in a loop or segment id."""
        head, _, rest = path.strip("/").partition("/")
        for child in self.children:
            if child.id.upper() == head.upper() and (isinstance(child, LoopSpec) or not rest):
                if not rest:
                    return child
                assert isinstance(child, LoopSpec)
                return child.find(rest)
        raise KeyError(path)


@dataclass(frozen=True, slots=True)
class MapSpec:
    """One implementation-guide map (a transaction set, with the envelope around it)."""

    id: str  # transaction set id, e.g. 837
    name: str
    file: str
    children: tuple[LoopSpec | SegmentSpec, ...]
    icvn: str | None = None  # ISA12 the map is written for

    def find(self, path: str) -> LoopSpec | SegmentSpec:
        """The node at a ``/``-separated path, e.g. ``ISA_LOOP/GS_LOOP/GS``."""
        root = LoopSpec("", self.name, "R", 0, 1, self.children)
        return root.find(path)


@dataclass(frozen=True, slots=True)
class MapEntry:
    """One line of ``maps.xml``: which map file serves an ISA12 / GS08 / GS01 triple."""

    icvn: str
    vriic: str
    fic: str
    tspc: str | None
    file: str
    abbr: str


@dataclass(frozen=True, slots=True)
class DataElement:
    """A data element's dictionary entry: type and length limits."""

    number: str
    data_type: str | None
    min_len: int
    max_len: int
    name: str


@dataclass(frozen=True, slots=True)
class Specs:
    """All the spec data one validation run needs."""

    maps: dict[str, MapSpec] = field(default_factory=dict)  # by file name
    index: tuple[MapEntry, ...] = ()
    external_codes: dict[str, frozenset[str]] = field(default_factory=dict)


def map_folder() -> Path:
    """The folder of XML maps shipped with the installed pyx12 (located without importing it)."""
    found = importlib.util.find_spec("pyx12")
    if found is None or not found.submodule_search_locations:
        raise SpecError("pyx12 is not installed: its implementation-guide maps are needed")
    folder = Path(next(iter(found.submodule_search_locations))) / "map"
    if not folder.is_dir():
        raise SpecError(f"pyx12's map folder is missing: {folder}")
    return folder


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        return etree.parse(str(path), parser).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise SpecError(f"cannot read map {path.name}: {exc}") from exc


def _value(elem: etree._Element, name: str) -> str | None:
    """An attribute, or else the text of a child element (pyx12's maps use both forms)."""
    attr = elem.get(name)
    if attr:
        return attr
    return elem.findtext(name)


def _required_int(elem: etree._Element, name: str) -> int:
    text = _value(elem, name)
    if text is None:
        raise SpecError(f"<{elem.tag} xid={elem.get('xid')!r}> has no {name}")
    return int(text)


def _repeat(text: str | None) -> int:
    if text is None or text in (">1", "&gt;1"):
        return MAXINT
    return int(text)


def load_data_elements(folder: Path | None = None) -> dict[str, DataElement]:
    """``dataele.xml``: every data element's type and length limits, by number."""
    root = _parse((folder or map_folder()) / "dataele.xml")
    out: dict[str, DataElement] = {}
    for item in root.iter("data_ele"):
        number = item.get("ele_num") or ""
        out[number] = DataElement(
            number,
            item.get("data_type"),
            int(item.get("min_len") or 0),
            int(item.get("max_len") or 0),
            item.get("name") or "",
        )
    return out


def load_external_codes(folder: Path | None = None) -> dict[str, frozenset[str]]:
    """``codes.xml``: external code sets (states, countries, ...) by their id."""
    root = _parse((folder or map_folder()) / "codes.xml")
    out: dict[str, frozenset[str]] = {}
    for codeset in root.iter("codeset"):
        ident = codeset.findtext("id") or ""
        out[ident] = frozenset(c.text or "" for c in codeset.iterfind("version/code"))
    return out


def load_index(folder: Path | None = None) -> tuple[MapEntry, ...]:
    """``maps.xml``: which map serves which ISA12 / GS08 / GS01."""
    root = _parse((folder or map_folder()) / "maps.xml")
    out: list[MapEntry] = []
    for version in root.iter("version"):
        for item in version.iterfind("map"):
            out.append(
                MapEntry(
                    version.get("icvn") or "",
                    item.get("vriic") or "",
                    item.get("fic") or "",
                    item.get("tspc"),
                    (item.text or "").strip(),
                    item.get("abbr") or "",
                )
            )
    return tuple(out)


def _element(elem: etree._Element, data: dict[str, DataElement]) -> ElementSpec:
    number = _value(elem, "data_ele") or ""
    entry = data.get(number)
    codes: tuple[str, ...] = ()
    external: str | None = None
    valid = elem.find("valid_codes")
    if valid is not None:
        external = valid.get("external")
        codes = tuple(c.text or "" for c in valid.findall("code"))
    regex = elem.findtext("regex") or None
    return ElementSpec(
        ref=elem.get("xid") or "",
        name=_value(elem, "name") or "",
        data_ele=number,
        seq=_required_int(elem, "seq"),
        usage=_value(elem, "usage") or "",
        data_type=entry.data_type if entry else None,
        min_len=entry.min_len if entry else 0,
        max_len=entry.max_len if entry else MAXINT,
        codes=codes,
        external=external,
        regex=regex,
    )


def _composite(elem: etree._Element, data: dict[str, DataElement]) -> CompositeSpec:
    return CompositeSpec(
        ref=elem.findtext("refdes") or elem.get("xid") or "",
        name=_value(elem, "name") or "",
        data_ele=_value(elem, "data_ele") or "",
        seq=_required_int(elem, "seq"),
        usage=_value(elem, "usage") or "",
        components=tuple(_element(e, data) for e in elem.findall("element")),
    )


def _syntax(text: str | None) -> SyntaxNote | None:
    if not text or text[0] not in "PRCLE":
        return None
    body = text[1:]
    return SyntaxNote(text[0], tuple(int(body[i : i + 2]) for i in range(0, len(body) - 1, 2)))


def _segment(elem: etree._Element, data: dict[str, DataElement]) -> SegmentSpec:
    by_seq: dict[int, ElementSpec | CompositeSpec] = {}
    for child in elem:
        if child.tag == "element":
            by_seq[_required_int(child, "seq")] = _element(child, data)
        elif child.tag == "composite":
            by_seq[_required_int(child, "seq")] = _composite(child, data)
    notes = [_syntax(s.text) for s in elem.findall("syntax")]
    return SegmentSpec(
        id=elem.get("xid") or "",
        name=_value(elem, "name") or "",
        usage=_value(elem, "usage") or "",
        pos=_required_int(elem, "pos"),
        max_use=_repeat(_value(elem, "max_use")),
        elements=tuple(by_seq[k] for k in sorted(by_seq)),
        syntax=tuple(n for n in notes if n is not None),
    )


def _children(
    elem: etree._Element, data: dict[str, DataElement]
) -> tuple[LoopSpec | SegmentSpec, ...]:
    # pyx12 files loops before segments at one position, then orders by position (stable)
    loops: list[LoopSpec | SegmentSpec] = [_loop(e, data) for e in elem.findall("loop")]
    segments: list[LoopSpec | SegmentSpec] = [_segment(e, data) for e in elem.findall("segment")]
    return tuple(sorted(loops + segments, key=lambda n: n.pos))


def _loop(elem: etree._Element, data: dict[str, DataElement]) -> LoopSpec:
    return LoopSpec(
        id=elem.get("xid") or "",
        name=_value(elem, "name") or "",
        usage=_value(elem, "usage") or "",
        pos=_required_int(elem, "pos"),
        repeat=_repeat(_value(elem, "repeat")),
        children=_children(elem, data),
    )


def load_map(
    file: str, folder: Path | None = None, data: dict[str, DataElement] | None = None
) -> MapSpec:
    """Load one map file (a base name from ``maps.xml``) into a ``MapSpec``."""
    if Path(file).name != file:
        raise SpecError(f"not a map file name: {file!r}")
    folder = folder or map_folder()
    data = data if data is not None else load_data_elements(folder)
    root = _parse(folder / file)
    spec = MapSpec(
        id=root.get("xid") or "",
        name=_value(root, "name") or "",
        file=file,
        children=_children(root, data),
    )
    icvn: str | None = None
    try:
        isa = spec.find("ISA_LOOP/ISA")
        assert isinstance(isa, SegmentSpec)
        isa12 = isa.elements[11]
        if isinstance(isa12, ElementSpec) and isa12.codes:
            icvn = isa12.codes[0]
    except (KeyError, IndexError, AssertionError):
        icvn = None
    return MapSpec(spec.id, spec.name, spec.file, spec.children, icvn)


def load_specs(files: tuple[str, ...] | None = None, folder: Path | None = None) -> Specs:
    """Load the supported maps (or the named ones), the control map, the index and code sets."""
    folder = folder or map_folder()
    data = load_data_elements(folder)
    wanted = files if files is not None else (CONTROL_MAP, *SUPPORTED_MAPS.values())
    maps = {name: load_map(name, folder, data) for name in dict.fromkeys(wanted)}
    return Specs(maps, load_index(folder), load_external_codes(folder))
