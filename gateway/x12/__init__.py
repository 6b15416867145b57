"""The X12 engine: delimiters, a streaming tokenizer, envelope checks, a serializer.

Standard library only, no I/O: bytes in, segments and defects out (and the reverse).

>>> from gateway.x12 import read_segments
>>> reader = read_segments(open("file.x12", "rb"))      # doctest: +SKIP
>>> for segment in reader: ...                          # doctest: +SKIP
>>> reader.defects                                      # complete once iteration ends  # doctest:
+SKIP
"""

from gateway.x12.defects import LENIENT, STRICT, Defect, DefectCode, Policy, Severity, X12Error
from gateway.x12.delimiters import DEFAULT as DEFAULT_DELIMITERS
from gateway.x12.delimiters import Delimiters, detect_isa
from gateway.x12.envelope import ENVELOPE_TAGS
from gateway.x12.location import Location
from gateway.x12.segment import Segment
from gateway.x12.serializer import Element, Writer, serialize
from gateway.x12.tokenizer import SegmentReader, Tokenizer, read_segments

__all__ = [
    "DEFAULT_DELIMITERS",
    "ENVELOPE_TAGS",
    "LENIENT",
    "STRICT",
    "Defect",
    "DefectCode",
    "Delimiters",
    "Element",
    "Location",
    "Policy",
    "Segment",
    "SegmentReader",
    "Severity",
    "Tokenizer",
    "Writer",
    "X12Error",
    "detect_isa",
    "read_segments",
    "serialize",
]
