"""The four X12 delimiters and their detection from the ISA header."""

from __future__ import annotations

from dataclasses import dataclass

ISA_LENGTH = 106
"""The ISA segment is fixed length: 105 characters and the segment terminator."""


@dataclass(frozen=True, slots=True)
class Delimiters:
    """Element, repetition (None before 00402) and component separators, and the terminator."""

    element: str = "*"
    repetition: str | None = "^"
    component: str = ":"
    segment: str = "~"

    def characters(self) -> frozenset[str]:
        """Every delimiter character in use."""
        chars = {self.element, self.component, self.segment}
        if self.repetition is not None:
            chars.add(self.repetition)
        return frozenset(chars)

    def conflicts(self) -> list[str]:
        """Why this set cannot work (roles sharing a character, or an alphanumeric delimiter)."""
        problems: list[str] = []
        roles = [
            ("element", self.element),
            ("component", self.component),
            ("segment", self.segment),
        ]
        if self.repetition is not None:
            roles.append(("repetition", self.repetition))
        seen: dict[str, str] = {}
        for role, char in roles:
            if len(char) != 1:
                problems.append(f"the {role} separator must be one character, not {char!r}")
            elif char.isalnum():
                problems.append(f"the {role} separator {char!r} is a letter or digit")
            elif char in seen:
                problems.append(f"the {role} and {seen[char]} separators are both {char!r}")
            else:
                seen[char] = role
        return problems


DEFAULT = Delimiters()


@dataclass(frozen=True, slots=True)
class DetectedHeader:
    """Delimiters read from an ISA, how long the ISA really was, and why it was not regular."""

    delimiters: Delimiters
    length: int
    irregular: str | None = None


def detect_isa(isa: str) -> DetectedHeader | None:
    """Read the delimiters from text that starts with ``ISA``.

    The fixed positions are used when they hold together (element separator at offset 3 and at every
    field boundary, component separator at 104, terminator at 105). A header whose fields were not
    padded to their fixed widths is still read, by counting its 16 element separators, and reported
    as irregular. Returns None when the text cannot be an ISA (too short to tell, or no separators).
    """
    if len(isa) < 4 or not isa.startswith("ISA"):
        return None
    sep = isa[3]
    if sep.isalnum() or sep in " \r\n":
        return None
    fixed = _fixed(isa, sep)
    if fixed is not None:
        return DetectedHeader(_line_break_first(fixed, isa, ISA_LENGTH - 1), ISA_LENGTH)
    # Irregular ISA: find the 16th separator; ISA16 is the one character after it.
    pos = 3
    for _ in range(15):
        pos = isa.find(sep, pos + 1)
        if pos < 0:
            return None
    # pos is the separator before ISA16
    if len(isa) < pos + 3:
        return None
    component = isa[pos + 1]
    terminator = isa[pos + 2]
    repetition = _repetition(isa.split(sep, 13)[11:13])
    delimiters = _line_break_first(Delimiters(sep, repetition, component, terminator), isa, pos + 2)
    return DetectedHeader(
        delimiters,
        pos + 3,
        f"the ISA is {pos + 3} characters long instead of the fixed {ISA_LENGTH}",
    )


def _line_break_first(found: Delimiters, text: str, at: int) -> Delimiters:
    """Files that put the line break *before* the terminator (``...*:\\n~GS*...``).

    Position 105 then holds the line break; the real terminator is the punctuation that starts the
    next line.
    """
    if found.segment not in "\r\n":
        return found
    probe = text[at:].lstrip("\r\n")
    if not probe:
        return found
    candidate = probe[0]
    if candidate.isalnum() or candidate in " \t" or candidate in found.characters():
        return found
    return Delimiters(found.element, found.repetition, found.component, candidate)


def detect_headless(text: str) -> Delimiters | None:
    """Delimiters of X12 that lacks its ISA header and starts with GS or ST.

    The element separator follows the tag; the terminator is the character that ends the first
    segment, found where the next envelope segment starts. There is no component or repetition
    separator to read, so the usual ``:`` is assumed and repetition is left off.
    """
    body = text.lstrip(" \t\r\n")
    if len(body) < 3 or body[:2] not in ("GS", "ST") or body[2].isalnum() or body[2] in " \r\n":
        return None
    sep = body[2]
    for tag in ("ST", "BHT", "SE", "GE", "BPR", "AK1"):
        at = body.find(tag + sep, 3)
        if at > 0:
            before = body[:at].rstrip(" \t\r\n")
            if before:
                terminator = before[-1]
                if body[at - 1] in "\r\n" and terminator.isalnum():
                    terminator = body[at - 1]
                if terminator != sep and not terminator.isalnum():
                    component = ":" if ":" not in (sep, terminator) else ">"
                    return Delimiters(sep, None, component, terminator)
    return None


def _fixed(isa: str, sep: str) -> Delimiters | None:
    if len(isa) < ISA_LENGTH:
        return None
    # separators precede ISA01..ISA16 at these offsets
    for offset in (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103):
        if isa[offset] != sep:
            return None
    component = isa[104]
    terminator = isa[105]
    repetition = _repetition([isa[82], isa[84:89]])
    return Delimiters(sep, repetition, component, terminator)


def _repetition(isa11_isa12: list[str]) -> str | None:
    """ISA11 is the repetition separator from version 00402 on; before that it is a standards id."""
    if len(isa11_isa12) < 2:
        return None
    isa11, version = isa11_isa12[0], isa11_isa12[1].strip()
    if len(isa11) != 1 or isa11.isalnum() or isa11 == " ":
        return None
    if version.isascii() and version.isdigit() and int(version) < 402:
        return None
    return isa11


def detect_wrap(text: str) -> tuple[int, str] | None:
    """Fixed-width records: ``(width, line break)`` when ``text`` (the start of a file, from its
    ISA) is cut into lines of one length with segments running over the line breaks.

    Mainframe and older PC systems write X12 as 80-column records. The sign is unmistakable:
    every line but the last is exactly as long as the first, and lines end inside segments
    rather than after the terminator. A file with one segment per line is not wrapped, whatever
    its lines' lengths.
    """
    if not text.startswith("ISA"):
        return None
    sample = text[:8192]
    lines = sample.split("\n")
    complete = lines[:-1]
    if len(complete) < 2:
        return None
    newline = "\n"
    if all(line.endswith("\r") for line in complete):
        newline = "\r\n"
        complete = [line[:-1] for line in complete]
    if any("\r" in line for line in complete):
        return None
    width = len(complete[0])
    full = complete[:-1]  # the last record (of the file, or of what came so far) may be short
    if width < 20 or any(len(line) != width for line in full) or len(complete[-1]) > width:
        return None
    header = detect_isa(("".join(complete) + lines[-1])[: ISA_LENGTH + 64])
    if header is None or header.delimiters.segment in "\r\n":
        return None
    term = header.delimiters.segment
    if all(line.rstrip(" ").endswith(term) for line in complete):
        return None  # one segment per line (perhaps padded): nothing runs over a line break
    return width, newline


@dataclass(frozen=True, slots=True)
class FixedIsaHeader:
    """An ISA read at its fixed positions as they stand (pyx12's reading, for the validator)."""

    delimiters: tuple[str, str, str, str]  # segment terminator, element, component, repetition
    version: str  # ISA12, the interchange control version (00501)


def fixed_isa_header(text: str) -> FixedIsaHeader | None:
    """The delimiters and version at the ISA's fixed positions (105, 3, 104, 82; 84-88), unchecked.

    ``detect_isa`` is the tolerant reader (irregular widths, line breaks before the terminator);
    the TR3 validator reads the header exactly as pyx12 does, so that its findings fall where
    pyx12's fall. None when ``text`` does not start with 106 characters of ``ISA``.
    """
    if len(text) < ISA_LENGTH or not text.startswith("ISA"):
        return None
    return FixedIsaHeader((text[105], text[3], text[104], text[82]), text[84:89])
