"""Defects: what is wrong with an X12 file, where, and what to do about it.

Codes are named after the acknowledgement vocabulary a receiver would answer with, so a defect maps
straight onto a TA1 note (``TA1-001``), a 999 segment error (``IK304-2``), element error
(``IK403-7``),
set error (``IK502-4``) or group error (``AK905-4``). Problems no acknowledgement has a code for
(bytes that are not X12 at all, text before the first ISA) use the ``X12-`` prefix.

A defect never carries PHI: it names where a value is, never the value, except for envelope control
numbers and codes, which identify files, not people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gateway.x12.location import Location


class Severity(StrEnum):
    """How bad a defect is: ``error`` makes the file (or set) unacceptable, ``warning`` does not."""

    ERROR = "error"
    WARNING = "warning"


class DefectCode(StrEnum):
    """Stable defect codes in the TA1 / 999 vocabulary (value = ``<element>-<code>``)."""

    # TA1 interchange note codes (TA105)
    TA1_001 = "TA1-001"  # ISA13 and IEA02 differ
    TA1_002 = "TA1-002"  # control standard not supported
    TA1_003 = "TA1-003"  # control version not supported
    TA1_004 = "TA1-004"  # segment terminator invalid
    TA1_005 = "TA1-005"
    TA1_006 = "TA1-006"
    TA1_007 = "TA1-007"
    TA1_008 = "TA1-008"
    TA1_009 = "TA1-009"
    TA1_010 = "TA1-010"
    TA1_011 = "TA1-011"
    TA1_012 = "TA1-012"
    TA1_013 = "TA1-013"
    TA1_014 = "TA1-014"  # invalid interchange date
    TA1_015 = "TA1-015"  # invalid interchange time
    TA1_016 = "TA1-016"
    TA1_017 = "TA1-017"
    TA1_018 = "TA1-018"  # invalid interchange control number
    TA1_019 = "TA1-019"  # invalid acknowledgment requested
    TA1_020 = "TA1-020"  # invalid test indicator
    TA1_021 = "TA1-021"  # wrong number of included groups
    TA1_022 = "TA1-022"  # invalid control structure
    TA1_023 = "TA1-023"  # premature end of file
    TA1_024 = "TA1-024"  # invalid interchange content
    TA1_025 = "TA1-025"  # duplicate interchange control number
    TA1_026 = "TA1-026"  # invalid data element separator
    TA1_027 = "TA1-027"  # invalid component element separator
    # AK905 functional group errors
    AK905_1 = "AK905-1"
    AK905_2 = "AK905-2"
    AK905_3 = "AK905-3"  # GE missing
    AK905_4 = "AK905-4"  # GS06 and GE02 differ
    AK905_5 = "AK905-5"  # GE01 wrong
    AK905_6 = "AK905-6"  # group control number violates syntax
    AK905_19 = "AK905-19"  # group control number not unique in interchange
    # IK502 transaction set errors
    IK502_1 = "IK502-1"  # transaction set not supported
    IK502_2 = "IK502-2"  # SE missing
    IK502_3 = "IK502-3"  # ST02 and SE02 differ
    IK502_4 = "IK502-4"  # SE01 wrong
    IK502_5 = "IK502-5"  # one or more segments in error
    IK502_6 = "IK502-6"  # missing or invalid transaction set identifier
    IK502_7 = "IK502-7"  # missing or invalid transaction set control number
    IK502_23 = "IK502-23"  # ST02 not unique in the group
    IK502_I5 = "IK502-I5"
    IK502_I6 = "IK502-I6"
    # IK304 segment errors
    IK304_1 = "IK304-1"  # unrecognized segment id
    IK304_2 = "IK304-2"  # unexpected segment
    IK304_3 = "IK304-3"  # required segment missing
    IK304_4 = "IK304-4"  # loop occurs over maximum times
    IK304_5 = "IK304-5"  # segment exceeds maximum use
    IK304_6 = "IK304-6"  # segment not in defined transaction set
    IK304_7 = "IK304-7"  # segment not in proper sequence
    IK304_8 = "IK304-8"  # segment has data element errors
    IK304_I4 = "IK304-I4"  # implementation "not used" segment present
    IK304_I6 = "IK304-I6"  # implementation dependent segment missing
    IK304_I7 = "IK304-I7"  # implementation loop occurs under minimum times
    IK304_I8 = "IK304-I8"  # implementation segment below minimum use
    IK304_I9 = "IK304-I9"  # implementation dependent "not used" segment present
    # IK403 element errors
    IK403_1 = "IK403-1"  # required data element missing
    IK403_2 = "IK403-2"  # conditional required data element missing
    IK403_3 = "IK403-3"  # too many data elements
    IK403_4 = "IK403-4"  # data element too short
    IK403_5 = "IK403-5"  # data element too long
    IK403_6 = "IK403-6"  # invalid character in data element
    IK403_7 = "IK403-7"  # invalid code value
    IK403_8 = "IK403-8"  # invalid date
    IK403_9 = "IK403-9"  # invalid time
    IK403_10 = "IK403-10"  # exclusion condition violated
    IK403_12 = "IK403-12"  # too many repetitions
    IK403_13 = "IK403-13"  # too many components
    IK403_I6 = "IK403-I6"  # code value not used in implementation
    IK403_I9 = "IK403-I9"  # implementation dependent data element missing
    IK403_I10 = "IK403-I10"  # implementation "not used" data element present
    IK403_I11 = "IK403-I11"  # implementation too few repetitions
    IK403_I12 = "IK403-I12"  # implementation pattern match failure
    IK403_I13 = "IK403-I13"  # implementation dependent "not used" data element present
    # Problems below the acknowledgement vocabulary
    NOT_X12 = "X12-NOT-X12"  # no ISA header: not an X12 file (or UTF-16, or binary)
    TEXT_BEFORE_ISA = "X12-TEXT-BEFORE-ISA"
    TEXT_AFTER_IEA = "X12-TEXT-AFTER-IEA"
    ISA_LENGTH = "X12-ISA-LENGTH"  # ISA is not the fixed 106 characters
    TRAILING_SEPARATOR = "X12-TRAILING-SEPARATOR"  # empty elements at the end of a segment
    UNTERMINATED_SEGMENT = "X12-UNTERMINATED-SEGMENT"  # last segment has no terminator
    DELIMITER_IN_DATA = "X12-DELIMITER-IN-DATA"  # writer refused a value holding a delimiter
    ENCODING = "X12-ENCODING"  # bytes that are not in the X12 character set
    WRAPPED_LINES = "X12-WRAPPED-LINES"  # fixed-width records: segments run over line breaks
    SEGMENT_TOO_LONG = "X12-SEGMENT-TOO-LONG"  # no terminator within Policy.max_segment_length

    @property
    def vocabulary(self) -> str:
        """The acknowledgement element the code belongs to (``TA1``, ``IK502``, ... or ``X12``)."""
        return self.value.rsplit("-", 1)[0] if not self.value.startswith("X12-") else "X12"

    @property
    def ack_code(self) -> str | None:
        """The code as the acknowledgement writes it (``001``, ``4``, ``I6``), None for ``X12-``."""
        if self.value.startswith("X12-"):
            return None
        return self.value.rsplit("-", 1)[1]


@dataclass(frozen=True, slots=True)
class Defect:
    """One problem found in a file: a code, where it is, what it means and what to do."""

    code: DefectCode
    message: str
    location: Location = field(default_factory=Location)
    severity: Severity = Severity.ERROR
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.severity}: {self.location}: [{self.code}] {self.message}"
        if self.hint:
            text += f" -- {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        """The defect as a JSON-ready dict."""
        return {
            "code": str(self.code),
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
            "location": self.location.as_dict(),
        }


class X12Error(Exception):
    """The engine's only exception: raised for a defect under a strict policy, or by the writer."""

    def __init__(self, defect: Defect) -> None:
        super().__init__(str(defect))
        self.defect = defect


@dataclass(frozen=True, slots=True)
class Policy:
    """What to do with defects: record them (lenient, the default for reading) or raise (strict).

    ``max_defects`` bounds how many are kept, so a garbage file of any size stays in bounded memory;
    the count of those dropped is kept by the reader. ``max_segment_length`` bounds the text held
    while waiting for a segment terminator (a file whose ISA names the wrong terminator would
    otherwise be held whole): longer text is reported and skipped up to the next terminator.
    """

    strict: bool = False
    max_defects: int = 10_000
    max_segment_length: int = 1 << 20


LENIENT = Policy()
STRICT = Policy(strict=True)
