"""Streaming readers of JSON encounter files: an object, an array, objects in a row, JSON Lines.

Nothing holds more than one encounter's text at a time (plus a read-ahead chunk), so a batch of
100,000 encounters reads in flat memory. A syntax error is reported with its line and column; in
JSON Lines (and one-object-per-line files) reading resumes at the next line, in an array it stops
there (the rest of an array cannot be trusted once its syntax is broken).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any, BinaryIO

from gateway.edits.findings import Finding, finding
from gateway.edits.findings import FindingCode as C
from gateway.encounters.contract import EncounterRecord, validate_encounter

__all__ = ["MAX_ENCOUNTER_BYTES", "read_json", "read_json_lines"]

CHUNK = 1 << 16
MAX_ENCOUNTER_BYTES = 8 << 20
"""The largest single encounter accepted (a 999-line claim is well under 1 MB)."""
_WS = " \t\r\n"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


class _Decoder(json.JSONDecoder):
    """Exact decimals, no NaN/Infinity, and a note of every key repeated within one object."""

    def __init__(self) -> None:
        super().__init__(
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=self._object,
        )
        self.repeated: list[str] = []

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)  # the last of repeated keys wins, as in a loop; built in C
        if len(out) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.repeated.append(key)
                seen.add(key)
        return out

    def record(self, value: Any, source: str, index: int, line: int | None) -> EncounterRecord:
        """Validate a decoded value; a repeated key makes the encounter ambiguous (an error)."""
        record = validate_encounter(value, source=source, index=index, line=line)
        if not self.repeated:
            return record
        keys = ", ".join(sorted(set(self.repeated)))
        self.repeated.clear()
        found = finding(
            C.JSON_DUPLICATE_KEY, "", f"A key appears twice in one object: {keys}."
        ).located(source)
        return replace(
            record,
            encounter=None,
            partial=record.encounter or record.partial,
            findings=(found, *record.findings),
        )


def _file_finding(
    code: C, message: str, source: str, line: int | None, column: int | None = None
) -> Finding:
    return finding(code, "", message).located(source, line, column)


def _failed(source: str, index: int, found: Finding, line: int | None) -> EncounterRecord:
    return EncounterRecord(source, index, None, (found,), line)


class _Buffer:
    """Decoded text of a binary stream, read on demand, with line numbers of what was dropped."""

    def __init__(self, stream: BinaryIO, decoder: _Decoder) -> None:
        self.stream = stream
        self.json = decoder
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
        self.text = ""
        self.pos = 0
        self.line = 1  # line number of text[0]
        self.eof = False
        self.bytes_read = 0
        self._mark = 0  # a position in text whose line number is known: counting starts there
        self._mark_line = 1

    def fill(self) -> None:
        """Read one more chunk (drops consumed text first). Raises UnicodeDecodeError."""
        if self.pos:
            self.line, _ = self.where(self.pos)
            self.text = self.text[self.pos :]
            self.pos = 0
            self._mark, self._mark_line = 0, self.line
        chunk = self.stream.read(CHUNK)
        if not chunk:
            self.text += self.decoder.decode(b"", final=True)
            self.eof = True
            return
        self.bytes_read += len(chunk)
        self.text += self.decoder.decode(chunk)

    def skip_space(self) -> str:
        """Skip white space; the next character, or '' at the end of the stream."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if self.eof:
                return ""
            self.fill()

    def where(self, pos: int) -> tuple[int, int]:
        """(line, column) of a position in the buffer, 1-based."""
        if pos < self._mark:
            self._mark, self._mark_line = 0, self.line
        line = self._mark_line + self.text.count("\n", self._mark, pos)
        self._mark, self._mark_line = pos, line
        start = self.text.rfind("\n", 0, pos) + 1
        return line, pos - start + 1

    def decode_value(self) -> Any:
        """Decode one JSON value at ``pos``, reading more as needed. Raises JSONDecodeError."""
        while True:
            try:
                value, end = self.json.raw_decode(self.text, self.pos)
            except json.JSONDecodeError:
                if self.eof or len(self.text) - self.pos > MAX_ENCOUNTER_BYTES:
                    raise
                self.fill()
                continue
            self.pos = end
            return value

    def skip_line(self) -> None:
        """Move past the rest of the current line."""
        while True:
            newline = self.text.find("\n", self.pos)
            if newline >= 0:
                self.pos = newline + 1
                return
            if self.eof:
                self.pos = len(self.text)
                return
            self.pos = len(self.text)
            self.fill()


def read_json(stream: BinaryIO, source: str = "<input>") -> Iterator[EncounterRecord]:
    """Encounters of a JSON file: one object, an array of objects, or objects one after another."""
    decoder = _Decoder()
    buf = _Buffer(stream, decoder)
    index = 0
    try:
        first = buf.skip_space()
        if not first:
            yield _failed(
                source, 0, _file_finding(C.FILE_EMPTY, "The file is empty.", source, 1), 1
            )
            return
        if first == "[":
            yield from _array(buf, source)
            return
        one_per_line = True  # every object so far sat on one line: resume after an error
        while first:
            line, _ = buf.where(buf.pos)
            start = buf.pos
            problem: Finding | None = None
            try:
                value = buf.decode_value()
            except json.JSONDecodeError as exc:
                problem = _syntax(buf, exc, source)
            except ValueError as exc:
                problem = _constant(exc, source, line)
            if problem is not None:
                yield _failed(source, index, problem, line)
                index += 1
                if index == 1 or not one_per_line:
                    return
                buf.pos = start
                buf.skip_line()
                first = _next_object_line(buf)
                continue
            one_per_line = one_per_line and buf.text.find("\n", start, buf.pos) < 0
            yield decoder.record(value, source, index, line)
            index += 1
            first = buf.skip_space()
            if first == ",":  # tolerate objects separated by commas without the brackets
                buf.pos += 1
                first = buf.skip_space()
    except UnicodeDecodeError as exc:
        yield _failed(source, index, _encoding(buf, exc, source), None)


def _next_object_line(buf: _Buffer) -> str:
    """Skip lines until one starts (after spaces) with '{'; that character, or ''."""
    while True:
        ch = buf.skip_space()
        if ch in ("{", ""):
            return ch
        buf.skip_line()


def _array(buf: _Buffer, source: str) -> Iterator[EncounterRecord]:
    open_line, _ = buf.where(buf.pos)
    buf.pos += 1  # the '['
    index = 0
    ch = buf.skip_space()
    if ch == "]":
        buf.pos += 1
        msg = "The file is an empty array: it holds no encounter."
        yield _failed(source, 0, _file_finding(C.FILE_EMPTY, msg, source, open_line), open_line)
        yield from _trailing(buf, source, index)
        return
    while True:
        line, column = buf.where(buf.pos)
        if not ch:
            msg = "The array is not closed with ']'."
            yield _failed(
                source, index, _file_finding(C.JSON_SYNTAX, msg, source, line, column), line
            )
            return
        try:
            value = buf.decode_value()
        except json.JSONDecodeError as exc:
            yield _failed(source, index, _syntax(buf, exc, source), line)
            return
        except ValueError as exc:
            yield _failed(source, index, _constant(exc, source, line), line)
            return
        yield buf.json.record(value, source, index, line)
        index += 1
        ch = buf.skip_space()
        if ch == ",":
            buf.pos += 1
            ch = buf.skip_space()
            continue
        if ch == "]":
            buf.pos += 1
            yield from _trailing(buf, source, index)
            return
        line, column = buf.where(buf.pos)
        msg = "Expecting ',' or ']' after an encounter in the array."
        yield _failed(source, index, _file_finding(C.JSON_SYNTAX, msg, source, line, column), line)
        return


def _trailing(buf: _Buffer, source: str, index: int) -> Iterator[EncounterRecord]:
    if buf.skip_space():
        line, column = buf.where(buf.pos)
        msg = "Unexpected text after the end of the array."
        yield _failed(source, index, _file_finding(C.JSON_SYNTAX, msg, source, line, column), line)


def _syntax(buf: _Buffer, exc: json.JSONDecodeError, source: str) -> Finding:
    line, column = buf.where(exc.pos)
    return _file_finding(C.JSON_SYNTAX, f"Invalid JSON: {exc.msg}.", source, line, column)


def _constant(exc: ValueError, source: str, line: int) -> Finding:
    return _file_finding(C.JSON_SYNTAX, f"Invalid JSON: {exc}.", source, line)


def _encoding(buf: _Buffer, exc: UnicodeDecodeError, source: str) -> Finding:
    line, _ = buf.where(len(buf.text))
    return _file_finding(C.FILE_ENCODING, "The file is not UTF-8 text.", source, line)


def read_json_lines(stream: BinaryIO, source: str = "<input>") -> Iterator[EncounterRecord]:
    """Encounters of a JSON Lines file: one object per line; blank lines are skipped."""
    decoder = _Decoder()
    index = 0
    seen_any = False
    for number, raw in enumerate(_lines(stream), start=1):
        if raw is None:
            msg = f"The line is longer than {MAX_ENCOUNTER_BYTES} bytes."
            yield _failed(
                source, index, _file_finding(C.FILE_TOO_LARGE, msg, source, number), number
            )
            index += 1
            continue
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = f"The line is not UTF-8 (byte {exc.start + 1} of the line)."
            yield _failed(
                source, index, _file_finding(C.FILE_ENCODING, msg, source, number), number
            )
            index += 1
            continue
        if not text.strip():
            continue
        seen_any = True
        try:
            value = decoder.decode(text)
        except json.JSONDecodeError as exc:
            msg = f"Invalid JSON: {exc.msg}."
            found = _file_finding(C.JSON_SYNTAX, msg, source, number, exc.colno)
            yield _failed(source, index, found, number)
        except ValueError as exc:
            found = _file_finding(C.JSON_SYNTAX, f"Invalid JSON: {exc}.", source, number)
            yield _failed(source, index, found, number)
        else:
            yield decoder.record(value, source, index, number)
        index += 1
    if not seen_any:
        yield _failed(source, 0, _file_finding(C.FILE_EMPTY, "The file is empty.", source, 1), 1)


def _lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """The stream's lines; ``None`` for a line too long to hold (its bytes are skipped)."""
    while True:
        raw = stream.readline(MAX_ENCOUNTER_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_ENCOUNTER_BYTES and not raw.endswith(b"\n"):
            while True:  # discard the rest of the over-long line
                rest = stream.readline(CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield raw
