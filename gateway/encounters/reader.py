"""Reading encounter files of any supported form: the format is chosen by name, then by content."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from gateway.encounters.contract import EncounterRecord
from gateway.encounters.json_reader import read_json, read_json_lines
from gateway.encounters.xml_reader import read_xml
from gateway.models.findings import FindingCode as C
from gateway.models.findings import finding

__all__ = ["EncounterFormat", "detect_format", "read_encounter_file", "read_encounters"]


class EncounterFormat(StrEnum):
    """How an encounter file is written."""

    JSON = "json"  # one object, an array, or objects one after another
    JSON_LINES = "jsonl"  # one object per line
    XML = "xml"  # <encounter> or <encounters>


_SUFFIXES = {
    ".json": EncounterFormat.JSON,
    ".jsonl": EncounterFormat.JSON_LINES,
    ".ndjson": EncounterFormat.JSON_LINES,
    ".xml": EncounterFormat.XML,
}


def detect_format(name: str, head: bytes) -> EncounterFormat:
    """The format of a file from its name (``.json``, ``.jsonl``, ``.xml``), else its first byte."""
    by_name = _SUFFIXES.get(Path(name).suffix.lower())
    if by_name is not None:
        return by_name
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return EncounterFormat.XML if first == b"<" else EncounterFormat.JSON


def read_encounters(
    stream: BinaryIO, *, name: str = "<input>", fmt: EncounterFormat | None = None
) -> Iterator[EncounterRecord]:
    """Stream the encounters of a binary file object, one ``EncounterRecord`` each.

    ``name`` is used in findings and, with ``fmt`` absent, to choose the format. For a stream
    without a telling name the first bytes decide (``<`` XML, else JSON), peeked or read and
    rewound; a stream that allows neither is read as JSON unless ``fmt`` is given. Never raises
    for bad content: problems are findings.
    """
    if fmt is None:
        by_name = _SUFFIXES.get(Path(name).suffix.lower())
        if by_name is None:
            by_name = detect_format(name, _head(stream))
        fmt = by_name
    if fmt is EncounterFormat.XML:
        return read_xml(stream, name)
    if fmt is EncounterFormat.JSON_LINES:
        return read_json_lines(stream, name)
    return read_json(stream, name)


def _head(stream: BinaryIO) -> bytes:
    """The first bytes of a stream without consuming them ('' when that is impossible)."""
    peek = getattr(stream, "peek", None)
    if callable(peek):
        head = peek(512)
        if isinstance(head, bytes) and head:
            return head[:512]
    if stream.seekable():
        start = stream.tell()
        head = stream.read(512)
        stream.seek(start)
        return head
    return b""


def read_encounter_file(path: str | Path) -> Iterator[EncounterRecord]:
    """Stream the encounters of the file at ``path``; an unreadable file gives one finding."""
    name = str(path)
    try:
        stream = Path(path).open("rb")  # noqa: SIM115 (closed when the generator finishes)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        found = finding(C.FILE_UNREADABLE, "", f"The file cannot be read: {reason}.")
        yield EncounterRecord(name, 0, None, (found.located(name),))
        return
    with stream:
        yield from read_encounters(stream, name=name)
