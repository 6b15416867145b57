"""Whether an encounter file looks complete, from its bytes: a writer that paused is not done.

A file that has stopped changing (the settle interval) may still be half-written: its writer may
pause longer than the interval. Before an encounter file is taken, its end is checked:

- JSON Lines: the last byte is a newline (every record is terminated);
- JSON: up to ``FULL_CHECK_BYTES``, the text decodes to its end, or fails somewhere other than
  at its end (a broken file is complete: the reader reports it); larger files must end with the
  bracket that closes the one they start with (``]`` for ``[``, ``}`` for ``{``);
- XML: the text ends with the closing tag of its root element (or the root closes itself).

Pure: the caller passes the first and last bytes (and the whole text when small). Empty files are
incomplete (a writer created the file and has not written yet).
"""

from __future__ import annotations

import json
import re

from gateway.encounters.reader import EncounterFormat, detect_format

__all__ = ["FULL_CHECK_BYTES", "HEAD_BYTES", "TAIL_BYTES", "looks_complete"]

#: JSON files up to this size are decoded whole to see whether they end where they should.
FULL_CHECK_BYTES = 8 << 20
HEAD_BYTES = 4096
TAIL_BYTES = 4096
_WS = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.DOTALL)


def looks_complete(name: str, head: bytes, tail: bytes, whole: bytes | None = None) -> bool:
    """Whether the file ``name`` (its first and last bytes, or ``whole`` when small) looks
    complete by the rules of its format (see the module)."""
    data = whole if whole is not None else head
    if not head.strip(_WS) or not (whole if whole is not None else tail).strip(_WS):
        return False
    fmt = detect_format(name, head)
    if fmt is EncounterFormat.JSON_LINES:
        return tail.endswith(b"\n")
    if fmt is EncounterFormat.XML:
        return _xml_closed(head, tail)
    if whole is not None:
        return _json_decodes_to_its_end(data)
    first = head.lstrip(_WS).removeprefix(_BOM).lstrip(_WS)[:1]
    last = tail.rstrip(_WS)[-1:]
    closing = {b"[": b"]", b"{": b"}"}.get(first)
    return closing is None or last == closing


def _json_decodes_to_its_end(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return exc.end < len(data) - 3  # a character cut at the very end: still being written
    decoder = json.JSONDecoder()
    pos = 0
    length = len(text.rstrip())
    try:
        while True:
            while pos < length and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= length:
                return True
            _, pos = decoder.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        return not (exc.msg.startswith("Unterminated string") or exc.pos >= length - 1)
    except (RecursionError, ValueError):
        return True  # complete enough: the reader reports what is wrong with it


def _xml_closed(head: bytes, tail: bytes) -> bool:
    text = head.removeprefix(_BOM)
    pos = 0
    while (prolog := _PROLOG.match(text, pos)) is not None and prolog.end() > pos:
        pos = prolog.end()
    root = _ROOT.match(text, pos + len(text[pos:]) - len(text[pos:].lstrip()))
    if root is None:
        return True  # not XML we understand: the reader reports it
    name = re.escape(root.group(1))
    end = tail.rstrip(_WS)
    if re.search(rb"</" + name + rb"\s*>$", end):
        return True
    self_closed = re.compile(rb"<" + name + rb"(?:\s[^>]*)?/>")
    return bool(self_closed.match(text, root.start())) and end.endswith(b"/>")
