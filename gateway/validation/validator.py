"""The fast TR3 validator: pyx12's rules, driven by pyx12's maps, some 30-50 times faster.

``validate(data)`` checks an X12 file against the implementation guide of each functional group
(837P X222A1, 837I X223A2, 835 X221A1, 277CA X214, 999 X231/X231A1) and returns a
``ValidationResult``: a verdict per transaction set (accepted / rejected) and located ``Defect``s in
the 999 / TA1 vocabulary. It agrees with pyx12's ``x12n_document`` finding for finding (the
differential tests in ``tests/validation/test_validation_agreement.py`` hold it to that), so it
walks the loop tree the way pyx12's ``map_walker`` does:

* a segment is looked for from the current map position forward, then in each enclosing loop;
  entering a loop is decided by its first segment and, where several candidates share a segment
  id, by the ID qualifier pyx12 picks (``NM1*85`` vs ``NM1*87``, ``HL03``, ``REF01``...);
* loop and segment counters are kept per map path; a loop entry clears the counts beneath it;
* required segments and loops passed over are reported at the segment where that was noticed;
* elements are checked for usage, length, character set, code lists, data type (AN, ID, N0-N9,
  R, DT, TM, RD8), regular expressions and the five syntax-note rules; envelopes and counts as
  pyx12's reader checks them (SE01, GE01, IEA01, control numbers, HL and LX numbering).

Public API:

* ``validate(data, *, file=None, options=None) -> ValidationResult``; ``data`` is bytes, text, a
  binary file object (read in 1 MiB chunks) or segments from ``gateway.x12.read_segments``.
  ``Validator(options).validate(...)`` is the same, reusable. pyx12's external code lists
  (states, countries...) are checked unless ``Options(external_codes=False)``.
* ``ValidationResult``: ``ok``, ``defects`` (every finding in file order; ``Severity.WARNING``
  ones do not count), ``sets`` (``SetResult``: ``control``, ``transaction``, ``version``,
  ``group_control``, ``accepted``, ``verdict``, ``defects``), ``groups``, ``interchanges``
  (control numbers, sender/receiver, group-level AK905 and interchange-level TA1 findings) and
  ``as_dict()`` for JSON. ``gateway.validation.acks`` writes the 999 and TA1 for a result.
* Locations: ``segment_index`` (0-based in the file), ``offset``, ``line``, ``tag``,
  ``segment_position`` (ST = 1, as IK302), ``element`` / ``component`` (IK401), ``loop``.
  Messages never hold element values except codes (ID elements).

Speed comes from memoising what does not depend on the data's position: the walk from a map
node for a given segment id and qualifier is computed once into a small plan (the counter checks
stay live), each segment spec gets a generated straight-line "nothing to report" test, a segment
text seen cleanly at a map position replays its plan, and element findings are cached per map
node and segment text. Memory is bounded by the loop depth and these bounded caches, never by
the file size. The caches are shared by threads (plain dict operations); ``reset_caches()``
forgets what was learnt from data.

>>> result = validate(open("claims.x12", "rb"))          # doctest: +SKIP
>>> result.ok, [(s.control, s.verdict) for s in result.sets]   # doctest: +SKIP
(True, [('0001', 'accepted')])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO, cast

from gateway.validation.engine import Engine
from gateway.validation.results import (
    GroupResult,
    InterchangeResult,
    Options,
    SetResult,
    ValidationResult,
)
from gateway.validation.runtime import shared_runtime
from gateway.x12 import Segment

__all__ = [
    "GroupResult",
    "InterchangeResult",
    "Options",
    "SetResult",
    "ValidationResult",
    "Validator",
    "reset_caches",
    "validate",
]

CHUNK = 1 << 20

_Input = bytes | bytearray | memoryview | str | BinaryIO | Iterable[Segment]


class Validator:
    """A reusable validator (the compiled maps are shared by every instance in a process)."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.runtime = shared_runtime()

    def validate(self, data: _Input, *, file: str | None = None) -> ValidationResult:
        """Validate X12 bytes, text, a binary file object or segments from ``read_segments``."""
        engine = Engine(self.runtime, self.options, file)
        if isinstance(data, (bytes, bytearray, memoryview)):
            return engine.run((), bytes(data).decode("latin-1"))
        if isinstance(data, str):
            return engine.run((), data)
        if hasattr(data, "read"):
            return engine.run(_chunks(cast(BinaryIO, data)), "")
        texts = _segment_texts(data)
        return engine.run(texts, next(texts, ""))


def _chunks(stream: BinaryIO) -> Iterator[str]:
    while True:
        block = stream.read(CHUNK)
        if not block:
            return
        yield block.decode("latin-1") if isinstance(block, bytes) else str(block)


def _segment_texts(segments: Iterable[Segment]) -> Iterator[str]:
    for seg in segments:
        d = seg.delimiters
        yield d.element.join([seg.tag, *seg.elements]) + d.segment


def validate(
    data: _Input, *, file: str | None = None, options: Options | None = None
) -> ValidationResult:
    """Validate an X12 file against its implementation guides; see the module docstring."""
    return Validator(options).validate(data, file=file)


def reset_caches() -> None:
    """Forget what was learnt from data: the element findings and the replay plans kept per
    segment text (benchmarks call this so that every run starts cold). The walk plans stay: they
    depend on the maps alone (a map node, a segment id and a qualifier code), like compiled code."""
    for program in shared_runtime().programs.values():
        stack = [program.root]
        while stack:
            node = stack.pop()
            node.memo.clear()
            node.trans.clear()
            stack.extend(node.children)
