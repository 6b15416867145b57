"""Streaming readers of JSON encounter files: an object, an array, objects in a row, JSON Lines.

Nothing holds more than one encounter's text at a time (plus a read-ahead chunk), so a batch of
100,000 encounters reads in flat memory. A syntax error is reported with its line and column; in
JSON Lines (and one-object-per-line files) reading resumes at the next line, in an array it stops
there (the rest of an array cannot be trusted once its syntax is broken).

Limits: one encounter may hold ``MAX_ENCOUNTER_BYTES`` (8 MiB) of text and nest objects and lists
``MAX_DEPTH`` levels deep; beyond either it is one located finding (``E-JSON-TOO-LARGE``,
``E-JSON-TOO-DEEP``) and reading goes on with the next encounter where its end can be found.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any, BinaryIO

from gateway.encounters.contract import EncounterRecord, claim_id_of, validate_encounter
from gateway.models.findings import Finding, finding
from gateway.models.findings import FindingCode as C

__all__ = ["MAX_DEPTH", "MAX_ENCOUNTER_BYTES", "read_json", "read_json_lines"]

CHUNK = 1 << 16
MAX_ENCOUNTER_BYTES = 8 << 20
"""The largest single encounter accepted (a 999-line claim is well under 1 MB)."""
MAX_DEPTH = 64
"""The deepest nesting of objects and lists accepted in one encounter (the contract needs 8:
``other_payers[].adjudication.lines[].adjustments[]``)."""
_WS = " \t\r\n"
_MIB = MAX_ENCOUNTER_BYTES >> 20
_TOO_LARGE = (
    f"The encounter is longer than {_MIB} MiB, the limit for one encounter "
    "(a field this long cannot travel in an 837)."
)


class _TooLargeError(Exception):
    """An encounter whose text goes on past ``MAX_ENCOUNTER_BYTES``."""


class _TooDeepError(Exception):
    """An encounter nested deeper than ``MAX_DEPTH`` (or than the decoder can recurse)."""

    def __init__(self, deep_at: int | None) -> None:
        super().__init__("too deep")
        self.deep_at = deep_at  # where the nesting passes MAX_DEPTH, when seen


_BRACKET = re.compile(r'[\[\]{}"]')
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def _nesting(text: str, start: int, limit: int) -> tuple[int | None, int | None]:
    """Scan the JSON value at ``start`` without decoding it (no recursion): where its nesting
    passes ``limit`` (or None), and where the value ends (None when not within ``text``)."""
    depth = 0
    deep_at: int | None = None
    pos = start
    while True:
        found = _BRACKET.search(text, pos)
        if found is None:
            return deep_at, None
        ch, pos = found.group(), found.end()
        if ch == '"':
            rest = _STRING_REST.match(text, pos)
            if rest is None:
                return deep_at, None
            pos = rest.end()
            if depth == 0:
                return deep_at, pos
        elif ch in "[{":
            depth += 1
            if depth > limit and deep_at is None:
                deep_at = found.start()
        else:
            depth -= 1
            if depth <= 0:
                return deep_at, pos


def _deep_path(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """The JSON path of the first object or list nested deeper than ``limit``, or None."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    too_deep = False
    while stack:  # a cheap walk first: most encounters nest 3-4 levels
        node, depth = stack.pop()
        if depth > limit:
            too_deep = True
            break
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    if not too_deep:
        return None
    paths: list[tuple[Any, int, str]] = [(value, 1, "")]
    while paths:
        node, depth, path = paths.pop()
        if depth > limit:
            return path
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(child, dict | list):
                step = f"[{key}]" if isinstance(key, int) else (f".{key}" if path else str(key))
                paths.append((child, depth + 1, path + step))
    return None  # pragma: no cover - the first walk found one


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
        """Validate a decoded value; a repeated key makes the encounter ambiguous (an error), and
        nesting beyond ``MAX_DEPTH`` is refused before validation (it could exhaust the stack)."""
        if isinstance(value, dict | list):
            deep = _deep_path(value)
            if deep is not None:
                self.repeated.clear()
                msg = f"Objects and lists nest more than {MAX_DEPTH} levels deep here."
                found = finding(C.JSON_TOO_DEEP, deep, msg).located(source, line)
                return EncounterRecord(source, index, None, (found,), line, claim_id_of(value))
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
        """Decode one JSON value at ``pos``, reading more as needed. Raises JSONDecodeError,
        ``_TooLargeError`` (``pos`` unchanged) or ``_TooDeepError`` (``pos`` after the value when
        its end was found, else at the end of what was read)."""
        while True:
            try:
                value, end = self.json.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.text) - self.pos > MAX_ENCOUNTER_BYTES and _cut_short(exc):
                    raise _TooLargeError from None
                if self.eof or len(self.text) - self.pos > MAX_ENCOUNTER_BYTES:
                    raise
                self.fill()
                continue
            except RecursionError:
                raise self._too_deep() from None
            self.pos = end
            return value

    def _too_deep(self) -> _TooDeepError:
        """Find where the value at ``pos`` passes ``MAX_DEPTH`` and skip past its end."""
        while True:
            deep_at, end = _nesting(self.text, self.pos, MAX_DEPTH)
            if end is not None:
                error = _TooDeepError(deep_at)
                self.pos = end
                return error
            if self.eof or len(self.text) - self.pos > MAX_ENCOUNTER_BYTES:
                error = _TooDeepError(deep_at)
                self.pos = len(self.text)
                return error
            self.fill()

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
            except _TooLargeError:
                yield _failed(source, index, _too_large(source, line), line)
                return
            except _TooDeepError as exc:
                yield _failed(source, index, _too_deep(buf, exc, source, line), line)
                index += 1
                first = buf.skip_space()
                if first == ",":
                    buf.pos += 1
                    first = buf.skip_space()
                continue
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
        except _TooLargeError:
            yield _failed(source, index, _too_large(source, line), line)
            return
        except _TooDeepError as exc:
            yield _failed(source, index, _too_deep(buf, exc, source, line), line)
        else:
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


def _cut_short(exc: json.JSONDecodeError) -> bool:
    """Whether a decoding error means the text ran out (not a mistake inside the text)."""
    return exc.msg.startswith("Unterminated string") or exc.pos >= len(exc.doc) - 1


def _too_large(source: str, line: int | None) -> Finding:
    return _file_finding(C.ENCOUNTER_TOO_LARGE, _TOO_LARGE, source, line)


def _too_deep(buf: _Buffer, exc: _TooDeepError, source: str, line: int | None) -> Finding:
    msg = f"Objects and lists nest more than {MAX_DEPTH} levels deep here."
    if exc.deep_at is None or exc.deep_at >= len(buf.text):
        return _file_finding(C.JSON_TOO_DEEP, msg, source, line)
    deep_line, column = buf.where(exc.deep_at)
    return _file_finding(C.JSON_TOO_DEEP, msg, source, deep_line, column)


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
            yield _failed(source, index, _too_large(source, number), number)
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
        except RecursionError:
            deep_at, _ = _nesting(text, 0, MAX_DEPTH)
            column = None if deep_at is None else deep_at + 1
            msg = f"Objects and lists nest more than {MAX_DEPTH} levels deep here."
            yield _failed(
                source, index, _file_finding(C.JSON_TOO_DEEP, msg, source, number, column), number
            )
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
