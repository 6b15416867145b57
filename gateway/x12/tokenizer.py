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
from collections.abc import Callable, Iterator
from itertools import chain, count, repeat
from operator import attrgetter
from typing import BinaryIO

from gateway.x12.defects import LENIENT, Defect, DefectCode, Policy, Severity, X12Error
from gateway.x12.delimiters import (
    ISA_LENGTH,
    Delimiters,
    detect_headless,
    detect_isa,
    detect_wrap,
)
from gateway.x12.envelope import ENVELOPE_TAGS, EnvelopeChecker
from gateway.x12.location import Location
from gateway.x12.segment import _NEW, Segment, Span, Wrap

_WHITESPACE = " \t\r\n\x0b\x0c"
_UTF8_BOM = "\xef\xbb\xbf"  # the UTF-8 byte order mark, as Latin-1 characters
_INDENT = " \t\x0b\x0c"  # what may start an indented line
# What systems put between and after interchanges without meaning anything: whitespace, NUL
# padding to fixed-size records, the DOS end-of-file character, the BOM of a file joined on.
_PADDING = _WHITESPACE + "\x00\x1a" + _UTF8_BOM
_SEEK_LIMIT = 65_536  # text kept while looking for an ISA before the excess is dropped
CHUNK_SIZE = 1 << 16  # small chunks keep the working set in cache: faster than large ones
_TAG = attrgetter("tag")

try:  # the hot path in C; the Python below is the reference and the fallback
    from gateway.x12 import _speedups
except ImportError:  # built without a C compiler: the Python path below, then
    _speedups = None  # type: ignore[assignment]
_Splitter = Callable[[str, str, str, Span, type[Segment]], tuple[list[Segment], int, bool, int]]
_STATUS_TAIL = 0  # split_regular stopped at an incomplete segment (else at an irregular one)
_split_regular: _Splitter | None = _speedups.split_regular if _speedups is not None else None

ACCELERATED = _split_regular is not None
"""Whether the tokenizer's C hot path is in use (``use_accelerated(False)`` turns it off)."""

#: The switch the entry points (CLI, benches, tests) read: set, they call use_accelerated(False)
PURE_PYTHON_ENV = "GATEWAY_X12_PURE_PYTHON"


def use_accelerated(enabled: bool) -> bool:
    """Turn the C path on (if built) or off for tokenizers made from now on; whether it is on."""
    global _split_regular, ACCELERATED  # the process-wide choice, made once at start
    _split_regular = _speedups.split_regular if enabled and _speedups is not None else None
    ACCELERATED = _split_regular is not None
    return ACCELERATED


def _valid_tag(tag: str) -> bool:
    return 2 <= len(tag) <= 3 and tag.isascii() and tag.isalnum() and tag.upper() == tag


def _starts_segment(text: str, sep: str) -> bool:
    """Whether a line starts like a segment: a 2-3 character tag, then the element separator.

    X12 segment identifiers start with a letter: a line starting ``00*`` is the rest of a
    segment wrapped over lines (an amount, a date), not a segment of its own.
    """
    head = text[:4]
    cut = head.find(sep)
    return cut in (2, 3) and head[0].isalpha() and _valid_tag(head[:cut])


def _glued_isa(body: str, sep: str) -> int:
    """Where a next ISA starts inside an IEA whose terminator was left out (0 if none).

    ``IEA*1*000000001ISA*00*...``: IEA02 is always nine digits, so an ISA right after them is
    the next interchange, whatever delimiters it goes on to use.
    """
    at = body.find("ISA", 4)
    if at < 0 or len(body) < at + 4 or body[at + 3].isalnum():
        return 0
    parts = body[:at].split(sep)
    if len(parts) != 3 or len(parts[2]) != 9:
        return 0
    return at if all(p.isascii() and p.isdigit() for p in parts[1:]) else 0


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
        self._encoding_reported = False
        self._overlong = False  # skipping text that ran past max_segment_length unterminated
        self._wrap: Wrap | None = None  # fixed-width records: read with their line breaks removed
        self._wrap_carry = ""
        self._known_tags: set[str] = set()
        self._joined = "~"  # the terminator plus the line break that follows it in this interchange
        self._ready: deque[Segment] = deque()
        self._closed = False
        self._accelerated: _Splitter | None = _split_regular

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
        if self._wrap is not None:
            offset, line = self._wrap.offset(offset), self._wrap.line(offset)
        return Location(segment_index=self._index, offset=offset, line=line)

    # -- the work -------------------------------------------------------------------------------
    def _process(self, text: str, *, final: bool) -> list[Segment]:
        if self._wrap is not None:
            text = self._unwrap(text, final)
        buf = self._buffer + text if self._buffer else text
        out: list[Segment] = []
        while True:
            if self.delimiters is None:
                buf = self._seek_isa(buf, final)
                if self.delimiters is None:
                    break
            if self._overlong:
                buf = self._skip_overlong(buf)
                if self._overlong:
                    break
            buf, reseek = self._split(buf, out, final)
            if not reseek:
                break
        if len(buf) > self.policy.max_segment_length and self.delimiters is not None:
            self._start_overlong(buf)
            buf = ""
        self._buffer = buf
        if final:
            self._finish()
        return out

    def _unwrap(self, text: str, final: bool) -> str:
        """Text of fixed-width records without their line breaks (a CR LF may span chunks)."""
        assert self._wrap is not None
        newline = self._wrap.newline
        if self._wrap_carry:
            text = self._wrap_carry + text
            self._wrap_carry = ""
        if not final and len(newline) > 1 and text.endswith(newline[0]):
            self._wrap_carry = newline[0]
            text = text[:-1]
        return text.replace(newline, "")

    def _detect_wrap(self, buf: str, final: bool) -> str:
        """At the start of a file: fixed-width records are unwrapped from here on (a warning)."""
        found = detect_wrap(buf)
        if found is None:
            return buf
        width, newline = found
        self._wrap = Wrap(width, newline, self._offset, self._line)
        self._record(
            Defect(
                DefectCode.WRAPPED_LINES,
                f"The file is cut into lines of {width} characters with segments running over "
                "the line breaks (fixed-width records); it was read with the line breaks removed.",
                self._here(self._offset, self._line),
                Severity.WARNING,
                "Nothing to do if the file reads correctly; some receivers want one segment per "
                "line or none.",
            )
        )
        return self._unwrap(buf, final)

    def _start_overlong(self, buf: str) -> None:
        """Text with no terminator past the limit: report it, drop it up to the next terminator."""
        d = self.delimiters
        assert d is not None
        lead = len(buf) - len(buf.lstrip(_WHITESPACE))
        self._record(
            Defect(
                DefectCode.SEGMENT_TOO_LONG,
                f"No segment terminator ({d.segment!r}) in {len(buf):,} characters from here; "
                "the text up to the next terminator was skipped. The file may use another "
                "terminator than its ISA header names, or be damaged.",
                self._here(self._offset + lead, self._line + buf.count("\n", 0, lead)),
                hint="Check the segment terminator (the character after ISA16) against the "
                "file's segments, and ask the sender to correct the file.",
            )
        )
        self._advance(buf)
        self._overlong = True

    def _skip_overlong(self, buf: str) -> str:
        """Drop text up to and including the next terminator (see ``_start_overlong``)."""
        d = self.delimiters
        assert d is not None
        cut = buf.find(d.segment)
        if cut < 0:
            self._advance(buf)
            return ""
        self._advance(buf[: cut + 1])
        self._overlong = False
        return buf[cut + 1 :]

    def _advance(self, consumed: str) -> None:
        self._offset += len(consumed)
        self._line += consumed.count("\n")

    def _seek_isa(self, buf: str, final: bool) -> str:
        """Skip to the next ISA and read its delimiters; report whatever text was skipped."""
        if self._at_start:
            if len(buf) < 4096 and not final:
                return buf  # enough to see a header (or its absence)
            self._at_start = False
            if buf.startswith(_UTF8_BOM):
                self._advance(_UTF8_BOM)
                buf = buf[3:]
            if buf.startswith("ISA"):
                buf = self._detect_wrap(buf, final)
            elif not buf.lstrip(_WHITESPACE).startswith("ISA") and (
                headless := detect_headless(buf[:_SEEK_LIMIT])
            ):
                self._record(
                    Defect(
                        DefectCode.TA1_024,
                        "The file has no ISA interchange header; it starts with "
                        f"{buf.lstrip(_WHITESPACE)[:2]}. It was read with the delimiters its "
                        "segments use.",
                        self._here(self._offset, self._line),
                        hint="Ask the sender for the complete interchange, ISA header included.",
                    )
                )
                self.delimiters = headless
                self._joined = headless.segment
                self._seen_isa = True
                skipped = len(buf) - len(buf.lstrip(_WHITESPACE))
                self._advance(buf[:skipped])
                return buf[skipped:]
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
            header = detect_isa(buf[start : start + ISA_LENGTH + 64])
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
            term = header.delimiters.segment
            after = buf[header.length : header.length + 2]
            suffix = ""
            for candidate in ("\r\n", "\n", "\r"):
                if after.startswith(candidate) and candidate[0] != term:
                    suffix = candidate
                    break
            self._joined = term + suffix
            self._seen_isa = True
            self._junk_reported = False
            return buf

    def _skip_junk(self, junk: str) -> None:
        if not junk:
            return
        stripped = junk.lstrip(_PADDING)
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
        if not final:
            if self._accelerated is not None:
                buf, reseek, regular = self._split_accelerated(d, buf, out)
            else:
                buf, reseek, regular = self._split_fast(d, buf, out)
            if reseek or regular:
                return buf, reseek
        return self._split_slow(d, buf, final, out)

    def _split_accelerated(
        self, d: Delimiters, buf: str, out: list[Segment]
    ) -> tuple[str, bool, bool]:
        """``_split_fast`` in C (gateway/x12/_speedups.c), segment by segment.

        Returns the rest of ``buf``, False (an IEA is left to the careful way), and whether the
        rest is only an incomplete segment; when it is not, the rest starts with a segment that
        is not regular, or an IEA, and goes the careful way.
        """
        joined = self._joined
        line_step = 1 if "\n" in joined else 0
        span = Span(
            d,
            self._index,
            text=buf,
            joined=joined,
            first_offset=self._offset,
            first_line=self._line,
            line_step=line_step,
            wrap=self._wrap,
        )
        assert self._accelerated is not None
        segments, end, trailing, status = self._accelerated(buf, joined, d.element, span, Segment)
        if segments:
            done = len(segments)
            self._index += done
            self._offset += end
            self._line += done * line_step
            self._check_bulk(segments, trailing)
            out.extend(segments)
        return buf[end:] if end else buf, False, status == _STATUS_TAIL

    def _split_fast(self, d: Delimiters, buf: str, out: list[Segment]) -> tuple[str, bool, bool]:
        """The common case: ASCII text where every terminator is followed by the same line break.

        Splitting on terminator-plus-line-break leaves nothing to strip, and lines advance by one
        per segment (or not at all, for a file on one line). Anything irregular in the chunk
        (blank or indented lines, a line break elsewhere, non-ASCII bytes) leaves the chunk as it
        is (the third value False) for the careful way, piece by piece. Returns the rest, whether
        an IEA ended the interchange, and whether the chunk was regular.
        """
        joined = self._joined
        cut = buf.rfind(joined)
        if cut < 0:
            return buf, False, False
        cut += len(joined)
        head = buf if cut == len(buf) else buf[:cut]
        if not head.isascii():
            return buf, False, False
        terminators = head.count(joined)
        term = d.segment
        if head.count(term) != terminators:
            return buf, False, False
        for char in "\r\n":
            if head.count(char) != terminators * joined.count(char):
                return buf, False, False
        if head[0] in _WHITESPACE or any(joined + c in head for c in _INDENT):
            return buf, False, False  # indented lines
        pieces = head.split(joined)
        pieces.pop()
        if "" in pieces:
            return buf, False, False
        sep = d.element
        index = self._index
        line_step = 1 if "\n" in joined else 0
        parts = list(map(str.split, pieces, repeat(sep)))
        tags = list(map(list.pop, parts, repeat(0)))
        regular = "IEA" not in tags  # an interchange's end is left to the careful way
        if not regular:
            stop = tags.index("IEA")
            del tags[stop:], parts[stop:]
        span = Span(
            d,
            index,
            pieces=pieces,
            step=len(joined),
            first_offset=self._offset,
            first_line=self._line,
            line_step=line_step,
            wrap=self._wrap,
        )
        segments = list(map(_NEW, zip(tags, parts, repeat(span), count())))
        done = len(segments)
        self._index = index + done
        if done == len(pieces):
            self._offset += cut
        else:
            self._offset += sum(map(len, pieces[:done])) + done * len(joined)
        self._line += done * line_step
        rest = buf[cut:]
        if not regular:
            rest = joined.join(pieces[done:]) + joined + rest
        self._check_bulk(segments, sep + joined in head)
        out.extend(segments)
        return rest, False, regular

    def _whitespace(self, d: Delimiters) -> tuple[str, str]:
        chars = d.characters()
        lead_ws = "".join(c for c in _WHITESPACE if c not in chars)
        trail_ws = "".join(c for c in "\r\n" if c not in chars)
        return lead_ws, trail_ws

    def _check_bulk(self, segments: list[Segment], trailing: bool) -> None:
        """Tag syntax, trailing separators and envelopes for a chunk, touching only what needs it.

        ``trailing`` says whether any segment may end with an element separator.
        """
        known = self._known_tags
        tags = set(map(_TAG, segments))
        for tag in tags - known:
            if _valid_tag(tag):
                known.add(tag)
        per_segment = not tags.issubset(known) or trailing
        envelope = self._envelope
        envelopes = self._check_envelopes and (
            not envelope.in_set or not ENVELOPE_TAGS.isdisjoint(tags)
        )
        if not (per_segment or envelopes):
            return
        for seg in segments:
            if per_segment:
                elements = seg.elements
                self._check_one(seg, bool(elements) and not elements[-1])
            if envelopes:
                if seg.tag in ENVELOPE_TAGS:
                    envelope.segment(seg)
                elif not envelope.in_set:
                    envelope.outside_set(seg)

    def _check_one(self, seg: Segment, trailing: bool) -> None:
        tag = seg.tag
        if tag not in self._known_tags and not _valid_tag(tag):
            self._record(
                Defect(
                    DefectCode.IK304_1,
                    f"{tag[:20]!r} is not a segment identifier (2-3 capital letters or digits).",
                    seg.location,
                    hint="The file may be damaged or use other delimiters than its ISA "
                    "header says; ask the sender to check it.",
                )
            )
        if trailing and tag != "ISA":
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

    def _split_slow(
        self, d: Delimiters, buf: str, final: bool, out: list[Segment]
    ) -> tuple[str, bool]:
        """Piece by piece, for irregular text.

        Handles blank and indented lines, line breaks before a terminator, segments wrapped over
        lines, a line break standing in for a missing terminator, non-ASCII bytes and a last
        segment without a terminator. Returns the rest of ``buf`` and whether to look for a new ISA.
        """
        term = d.segment
        sep = d.element
        lead_ws, trail_ws = self._whitespace(d)
        pieces = buf.split(term)
        rest = pieces.pop()
        unterminated_last = False
        if final and rest.strip(_WHITESPACE):
            pieces.append(rest)
            rest = ""
            unterminated_last = True
        known = self._known_tags
        base = self._offset
        span_offsets: list[int] = []
        span_lines: list[int] = []
        span = Span(d, self._index, span_offsets, span_lines, wrap=self._wrap)
        k = 0
        position = 0  # where the current piece starts in buf
        line = self._line
        index = self._index
        envelope = self._envelope
        check = self._check_envelopes
        for number, piece in enumerate(pieces):
            piece_end = position + len(piece)  # the terminator's position in buf
            for body, start, seg_line, missing_term in self._bodies(
                piece, position, line, lead_ws, trail_ws, sep
            ):
                if not body.isascii():
                    body = self._decode(body, base + start, seg_line)
                why = " before the line break."
                if body.startswith("IEA") and (glued := _glued_isa(body, sep)):
                    body, missing_term, why = body[:glued], True, " before the next ISA."
                parts = body.split(sep)
                tag = parts[0]
                del parts[0]
                span_offsets.append(base + start)
                span_lines.append(seg_line)
                seg = _NEW((tag, parts, span, k))
                k += 1
                index += 1
                self._index = index
                if tag not in known and _valid_tag(tag):
                    known.add(tag)
                trailing = bool(parts) and not parts[-1]
                if tag not in known or trailing:
                    self._check_one(seg, trailing)
                last_of_file = unterminated_last and number == len(pieces) - 1
                if missing_term or last_of_file:
                    self._record(
                        Defect(
                            DefectCode.UNTERMINATED_SEGMENT,
                            f"Segment {tag} has no segment terminator"
                            + (why if missing_term else "."),
                            seg.location,
                            Severity.WARNING,
                            "Read as a segment of its own; the file may have been cut short or "
                            "edited by hand.",
                        )
                    )
                if check:
                    if tag in ENVELOPE_TAGS:
                        envelope.segment(seg)
                    elif not envelope.in_set:
                        envelope.outside_set(seg)
                out.append(seg)
                if tag == "IEA":
                    # the next interchange may use other delimiters: look for its ISA afresh
                    end = start + len(body)
                    if not missing_term:
                        end = piece_end + 1
                    end = min(end, len(buf))
                    consumed = buf[:end]
                    self._offset = base + end
                    self._line = self._line + consumed.count("\n")
                    self.delimiters = None
                    return buf[end:], True
            line += piece.count("\n") + (1 if term == "\n" else 0)
            position = piece_end + 1
        self._offset = base + position
        self._line = line
        return rest, False

    def _decode(self, body: str, offset: int, line: int) -> str:
        """Text of a segment holding non-ASCII bytes: UTF-8, else Windows-1252 (reported once).

        X12's character sets are ASCII; names from UTF-8 systems are common and read as such.
        Bytes that are not UTF-8 come from Windows code pages (``O\x92BRIEN``): read as
        Windows-1252, whose printable characters include all of Latin-1's.
        """
        raw = body.encode("latin-1")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        if not self._encoding_reported:
            self._encoding_reported = True
            self._record(
                Defect(
                    DefectCode.ENCODING,
                    "The file holds bytes that are not UTF-8 (first here); they were read as "
                    "Windows-1252. Other segments like it are read the same way and not "
                    "reported again.",
                    self._here(offset, line),
                    Severity.WARNING,
                    "Check names and addresses in this file; ask the sender for UTF-8 or "
                    "plain ASCII.",
                )
            )
        return raw.decode("cp1252", "replace")  # its five undefined bytes are controls anyway

    def _bodies(
        self, piece: str, position: int, line: int, lead_ws: str, trail_ws: str, sep: str
    ) -> Iterator[tuple[str, int, int, bool]]:
        """The segment text(s) in one piece: (body, start in buf, line, missing terminator).

        A piece normally holds one segment. A line break inside it is either a segment wrapped over
        lines (joined back together) or a line break standing in for a forgotten terminator, when
        the next line starts like a segment (``TAG`` and an element separator).
        """
        body = piece.lstrip(lead_ws)
        if not body:
            return
        start = position + len(piece) - len(body)
        seg_line = line + piece.count("\n", 0, len(piece) - len(body))
        body = body.rstrip(trail_ws) if trail_ws else body
        if not trail_ws or "\n" not in body:
            yield body, start, seg_line, False
            return
        lines = body.split("\n")
        if all(_starts_segment(text.lstrip(lead_ws), sep) for text in lines[1:]):
            offset = start
            for number, text in enumerate(lines):
                stripped = text.lstrip(lead_ws)
                lead = len(text) - len(stripped)
                stripped = stripped.rstrip(trail_ws)
                if stripped:
                    yield stripped, offset + lead, seg_line + number, number < len(lines) - 1
                offset += len(text) + 1
        else:
            yield body.replace("\r", "").replace("\n", ""), start, seg_line, False

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
        # chunks of segments, flattened in C: no generator resumption per segment
        return chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[Segment]]:
        tok = self.tokenizer
        process = tok._process
        source = self._source
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = memoryview(source).cast("B")
            step = self._chunk_size
            for start in range(0, len(data), step):
                yield process(bytes(data[start : start + step]).decode("latin-1"), final=False)
        else:
            read = source.read
            while chunk := read(self._chunk_size):
                yield process(chunk.decode("latin-1"), final=False)
        tok._closed = True
        yield process("", final=True)


def read_segments(
    source: bytes | bytearray | memoryview | BinaryIO,
    policy: Policy = LENIENT,
    *,
    check_envelopes: bool = True,
) -> SegmentReader:
    """Read X12 from bytes or a binary file object, streaming; see ``SegmentReader``."""
    return SegmentReader(source, policy, check_envelopes=check_envelopes)
