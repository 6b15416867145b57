"""The streaming X12 tokenizer: bytes in, located segments out, defects recorded.

Sans-I/O in the manner of h11 and ``email.feedparser``: ``feed(chunk)`` takes bytes as they arrive,
iterating yields the segments complete so far, ``close()`` marks the end of input. Memory holds one
chunk and one partial segment, whatever the size of the file.

Bytes are decoded as Latin-1 so that one character is one byte (offsets stay byte offsets and no
input can fail to decode); a segment holding non-ASCII bytes is re-decoded as UTF-8 so that names
written by UTF-8 systems read correctly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import BinaryIO

from gateway.x12.defects import LENIENT, Defect, DefectCode, Policy, Severity, X12Error
from gateway.x12.delimiters import ISA_LENGTH, Delimiters, detect
from gateway.x12.envelope import ENVELOPE_TAGS, EnvelopeChecker
from gateway.x12.location import Location
from gateway.x12.segment import Segment

_WHITESPACE = " \t\r\n\x0b\x0c"
_UTF8_BOM = "\xef\xbb\xbf"  # the UTF-8 byte order mark, as Latin-1 characters
_SEEK_LIMIT = 65_536  # text kept while looking for an ISA before the excess is dropped
CHUNK_SIZE = 1 << 20


def _valid_tag(tag: str) -> bool:
    return 2 <= len(tag) <= 3 and tag.isascii() and tag.isalnum() and tag.upper() == tag


class Tokenizer:
    """Turns a stream of bytes into segments.

    >>> tok = Tokenizer()
    >>> tok.feed(b"ISA*00*          *00*          *ZZ*A              *ZZ*B              "
    ...          b"*260101*1200*^*00501*000000001*0*T*:~IEA*0*000000001~")
    >>> tok.close()
    >>> [s.tag for s in tok]
    ['ISA', 'IEA']
    """

    def __init__(self, policy: Policy = LENIENT, *, check_envelopes: bool = True) -> None:
        self.policy = policy
        self.defects: list[Defect] = []
        self.defects_dropped = 0
        self.delimiters: Delimiters | None = None
        self._check_envelopes = check_envelopes
        self._envelope = EnvelopeChecker(self._record)
        self._buffer = ""
        self._offset = 0  # byte offset of the start of _buffer
        self._line = 1  # line number at the start of _buffer
        self._index = 0  # index of the next segment
        self._at_start = True
        self._seen_isa = False
        self._junk_reported = False
        self._known_tags: set[str] = set()
        self._ready: deque[Segment] = deque()
        self._closed = False

    # -- public interface -------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Add bytes; complete segments become available to iteration."""
        if self._closed:
            raise ValueError("feed() after close()")
        self._ready.extend(self._process(data.decode("latin-1"), final=False))

    def close(self) -> None:
        """Mark the end of input: the last segment and any open envelope are settled."""
        if not self._closed:
            self._closed = True
            self._ready.extend(self._process("", final=True))

    def __iter__(self) -> Iterator[Segment]:
        return self

    def __next__(self) -> Segment:
        if self._ready:
            return self._ready.popleft()
        raise StopIteration

    @property
    def segment_count(self) -> int:
        """How many segments have been produced so far."""
        return self._index

    # -- defects --------------------------------------------------------------------------------
    def _record(self, defect: Defect) -> None:
        if self.policy.strict and defect.severity is Severity.ERROR:
            raise X12Error(defect)
        if len(self.defects) < self.policy.max_defects:
            self.defects.append(defect)
        else:
            self.defects_dropped += 1

    def _here(self, offset: int, line: int) -> Location:
        return Location(segment_index=self._index, offset=offset, line=line)

    # -- the work -------------------------------------------------------------------------------
    def _process(self, text: str, *, final: bool) -> list[Segment]:
        buf = self._buffer + text if self._buffer else text
        out: list[Segment] = []
        while True:
            if self.delimiters is None:
                buf = self._seek_isa(buf, final)
                if self.delimiters is None:
                    break
            buf, reseek = self._split(buf, out, final)
            if not reseek:
                break
        self._buffer = buf
        if final:
            self._finish()
        return out

    def _advance(self, consumed: str) -> None:
        self._offset += len(consumed)
        self._line += consumed.count("\n")

    def _seek_isa(self, buf: str, final: bool) -> str:
        """Skip to the next ISA and read its delimiters; report whatever text was skipped."""
        if self._at_start:
            if len(buf) < 3 and not final:
                return buf
            self._at_start = False
            if buf.startswith(_UTF8_BOM):
                self._advance(_UTF8_BOM)
                buf = buf[3:]
            elif buf.startswith(("\xff\xfe", "\xfe\xff")) or "\x00" in buf[:64]:
                self._record(
                    Defect(
                        DefectCode.NOT_X12,
                        "The file is UTF-16 (or binary), not X12 text.",
                        self._here(0, 1),
                        hint="Save or export the file as plain ASCII/UTF-8 text and send it again.",
                    )
                )
                self._junk_reported = True
                self._advance(buf)
                return ""
        while True:
            start = buf.find("ISA")
            if start < 0:
                keep = 2 if not final else 0
                junk = buf[: len(buf) - keep] if len(buf) > keep else ""
                if final or len(buf) > _SEEK_LIMIT:
                    self._skip_junk(junk)
                    buf = buf[len(junk) :]
                return buf
            junk = buf[:start]
            if len(buf) - start < ISA_LENGTH + 64 and not final:
                # wait for the whole header (an irregular one may run a little longer)
                if junk.strip(_WHITESPACE) and len(junk) > _SEEK_LIMIT:
                    self._skip_junk(junk)
                    buf = buf[start:]
                return buf
            header = detect(buf[start : start + ISA_LENGTH + 64])
            if header is None:
                # "ISA" inside some other text: skip past it
                self._skip_junk(buf[: start + 3])
                buf = buf[start + 3 :]
                continue
            self._skip_junk(junk)
            buf = buf[start:]
            conflicts = header.delimiters.conflicts()
            here = self._here(self._offset, self._line)
            if conflicts:
                self._record(
                    Defect(
                        DefectCode.TA1_026,
                        "The ISA header's delimiters cannot be used: " + "; ".join(conflicts) + ".",
                        here,
                        hint="Ask the sender to fix the delimiters in the ISA header.",
                    )
                )
                self._advance(buf[:3])
                buf = buf[3:]
                continue
            if header.irregular:
                self._record(
                    Defect(
                        DefectCode.ISA_LENGTH,
                        f"The ISA header is irregular: {header.irregular}; it was read anyway.",
                        here,
                        Severity.WARNING,
                        "Ask the sender to pad ISA fields to their fixed widths.",
                    )
                )
            self.delimiters = header.delimiters
            self._seen_isa = True
            self._junk_reported = False
            return buf

    def _skip_junk(self, junk: str) -> None:
        if not junk:
            return
        stripped = junk.lstrip(_WHITESPACE)
        if stripped and not self._junk_reported:
            lead = junk[: len(junk) - len(stripped)]
            offset = self._offset + len(lead)
            line = self._line + lead.count("\n")
            if self._seen_isa:
                code, message, hint = (
                    DefectCode.TEXT_AFTER_IEA,
                    "Text that is not X12 follows the end of an interchange; it was skipped.",
                    "Check that the file was not joined with something else.",
                )
            else:
                code, message, hint = (
                    DefectCode.TEXT_BEFORE_ISA,
                    "Text before the first ISA header was skipped.",
                    "Remove anything in front of the ISA (a mail header, a banner) and send again.",
                )
            severity = Severity.ERROR if code is DefectCode.TEXT_AFTER_IEA else Severity.WARNING
            self._record(Defect(code, message, self._here(offset, line), severity, hint))
            self._junk_reported = True
        self._advance(junk)

    def _split(self, buf: str, out: list[Segment], final: bool) -> tuple[str, bool]:
        """Cut complete segments off ``buf``. Returns the rest and whether to look for a new ISA."""
        d = self.delimiters
        assert d is not None
        term = d.segment
        sep = d.element
        chars = d.characters()
        lead_ws = "".join(c for c in _WHITESPACE if c not in chars)
        trail_ws = "".join(c for c in "\r\n" if c not in chars)
        term_lines = 1 if term == "\n" else 0
        pieces = buf.split(term)
        rest = pieces.pop()
        if final and rest.strip(_WHITESPACE):
            pieces.append(rest)
            rest = ""
            unterminated = len(pieces) - 1
        else:
            unterminated = -1
        offset = self._offset
        line = self._line
        index = self._index
        envelope = self._envelope
        check = self._check_envelopes
        known = self._known_tags
        append = out.append
        reseek = False
        for number, piece in enumerate(pieces):
            size = len(piece) + 1
            body = piece
            seg_offset = offset
            if body and body[0] in lead_ws:
                body = body.lstrip(lead_ws)
                lead = len(piece) - len(body)
                seg_offset += lead
                line += piece.count("\n", 0, lead)
                if not body:  # a blank line
                    offset += size
                    line += term_lines
                    continue
            elif not body:  # two terminators in a row
                offset += size
                line += term_lines
                continue
            seg_line = line
            if body[-1] in trail_ws:
                stripped = body.rstrip(trail_ws)
                line += body.count("\n", len(stripped))
                body = stripped
            if trail_ws and "\n" in body:
                # a segment wrapped over several lines (fixed-width line breaks)
                line += body.count("\n")
                body = body.replace("\r", "").replace("\n", "")
            if not body.isascii():
                body = body.encode("latin-1").decode("utf-8", "replace")
            parts = body.split(sep)
            tag = parts[0]
            del parts[0]
            seg = Segment(tag, parts, index, seg_offset, seg_line, d)
            index += 1
            offset += size
            line += term_lines
            if tag not in known:
                if _valid_tag(tag):
                    known.add(tag)
                else:
                    self._record(
                        Defect(
                            DefectCode.IK304_1,
                            f"{tag[:20]!r} is not a segment identifier (2-3 capital letters or "
                            "digits).",
                            seg.location,
                            hint="The file may be damaged or use other delimiters than its ISA "
                            "header says; ask the sender to check it.",
                        )
                    )
            if parts and not parts[-1] and tag != "ISA":
                self._record(
                    Defect(
                        DefectCode.TRAILING_SEPARATOR,
                        f"Segment {tag} ends with empty elements (trailing separators).",
                        seg.location,
                        Severity.WARNING,
                        "Harmless to read, but some receivers reject it; trailing empty elements "
                        "should be left out.",
                    )
                )
            if number == unterminated:
                self._record(
                    Defect(
                        DefectCode.UNTERMINATED_SEGMENT,
                        f"The last segment ({tag}) has no segment terminator.",
                        seg.location,
                        Severity.WARNING,
                        "The file may have been cut short.",
                    )
                )
            if check:
                if tag in ENVELOPE_TAGS:
                    self._index = index
                    envelope.segment(seg)
                elif not envelope.in_set:
                    envelope.outside_set(seg)
            append(seg)
            if tag == "IEA":
                # the next interchange may use other delimiters: look for its ISA afresh
                self._offset = offset
                self._line = line
                self._index = index
                self.delimiters = None
                tail = pieces[number + 1 :]
                if unterminated < 0:
                    tail.append(rest)
                return term.join(tail), True
        self._offset = offset
        self._line = line
        self._index = index
        return rest, False

    def _finish(self) -> None:
        leftover = self._buffer
        self._buffer = ""
        self._skip_junk(leftover)
        if not self._seen_isa:
            for position, defect in enumerate(self.defects):
                if defect.code is DefectCode.TEXT_BEFORE_ISA:
                    self.defects[position] = Defect(
                        DefectCode.NOT_X12,
                        "The file is not X12: no ISA interchange header was found in it.",
                        defect.location,
                        Severity.ERROR,
                        hint="Check that the right file was sent; X12 files start with 'ISA'.",
                    )
                    break
            else:
                if not any(d.code is DefectCode.NOT_X12 for d in self.defects):
                    self._record(
                        Defect(
                            DefectCode.NOT_X12,
                            "The file is empty: there is no X12 interchange in it.",
                            self._here(0, 1),
                            hint="Check that the right file was sent.",
                        )
                    )
        if self._check_envelopes:
            self._envelope.finish(self._here(self._offset, self._line))


class SegmentReader:
    """Iterates the segments of a byte string or binary file; ``defects`` is complete once done.

    >>> reader = read_segments(b"not x12")
    >>> list(reader)
    []
    >>> [d.code.value for d in reader.defects]
    ['X12-NOT-X12']
    """

    def __init__(
        self,
        source: bytes | bytearray | memoryview | BinaryIO,
        policy: Policy = LENIENT,
        *,
        check_envelopes: bool = True,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._source = source
        self._chunk_size = chunk_size
        self.tokenizer = Tokenizer(policy, check_envelopes=check_envelopes)
        self._iterator = self._run()

    @property
    def defects(self) -> list[Defect]:
        """Defects found so far (all of them once iteration has finished)."""
        return self.tokenizer.defects

    @property
    def delimiters(self) -> Delimiters | None:
        """The delimiters of the interchange being read (None before the first ISA)."""
        return self.tokenizer.delimiters

    def __iter__(self) -> Iterator[Segment]:
        return self._iterator

    def __next__(self) -> Segment:
        return next(self._iterator)

    def _run(self) -> Iterator[Segment]:
        tok = self.tokenizer
        process = tok._process
        source = self._source
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            step = self._chunk_size
            for start in range(0, len(data), step):
                yield from process(data[start : start + step].decode("latin-1"), final=False)
        else:
            read = source.read
            while chunk := read(self._chunk_size):
                yield from process(chunk.decode("latin-1"), final=False)
        tok._closed = True
        yield from process("", final=True)


def read_segments(
    source: bytes | bytearray | memoryview | BinaryIO,
    policy: Policy = LENIENT,
    *,
    check_envelopes: bool = True,
) -> SegmentReader:
    """Read X12 from bytes or a binary file object, streaming; see ``SegmentReader``."""
    return SegmentReader(source, policy, check_envelopes=check_envelopes)
