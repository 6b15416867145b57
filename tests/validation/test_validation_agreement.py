"""Differential tests: our validator and pyx12 agree, file by file and finding by finding.

For every corpus file of a supported 5010 guide and for mutated copies of generated 837P and 835
files and of 837P/837I claims with other payers (2320/2330/2430), the verdict of each transaction
set and the set of (segment position, element, component, code) findings must be equal. pyx12
runs through ``gateway.validation.pyx12_adapter``; both run with pyx12's defaults (external code
sets on).

Named exceptions (where pyx12's vocabulary is wrong for a 5010 999, we write the TR3 code):

* ``NOT_USED_ELEMENT``: pyx12 reports an element the guide marks Not Used with IK403 code 10
  ("exclusion condition violated"); the 999 TR3 (X231A1) code for it is I10.
* ``NOT_USED_SEGMENT``: pyx12 reports a segment or loop the guide marks Not Used with IK304 code 2
  ("unexpected segment"); the TR3 code is I4 ("implementation Not Used segment present").
* ``DUPLICATE_GROUP``: pyx12 reports a GS06 used twice in an interchange with its code 6 ("group
  control number violates syntax"); the AK905 code for "not unique" is 19.
* ``ENVELOPE_ELEMENTS``: pyx12 keeps element errors in ISA/GS/ST/SE/GE/IEA out of its error tree
  (only its overall result turns false, which the adapter reports as an unplaced IK502-5); we
  report them located, at the envelope, and - as pyx12 does - they do not reject the set.
* ``LEADING_TEXT``: pyx12 refuses a file with a byte order mark or blank lines before the ISA
  ("does not look like an X12 data file"); we skip them with a warning and validate the rest, so
  pyx12 is given the file without them.
* ``CURRENT_PROVINCES``: pyx12's state list predates Canada's QC, NL and NU (it has the retired
  PQ and NF); we accept them, since the external lists are checked by default and a valid address
  must not be refused (``tests/validation/test_external_codes.py``). No input here holds them.
* ``PYX12_CRASH``: inputs on which pyx12 raises (a composite with more components than the guide
  defines: ``IndexError`` in ``segment_if.is_valid_errors``; an RD8 with two hyphens: unpacking
  error) cannot be compared; we report IK403-13 / IK403-8 there.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gateway.models import Kind
from gateway.validation import pyx12_adapter
from gateway.validation.spec import SUPPORTED_MAPS
from gateway.validation.validator import Options, ValidationResult, validate
from gateway.x12 import Defect, Severity
from tests.support.cob import cob_file
from tests.support.x12_files import claims_837p, remittance_835

NOT_USED_ELEMENT = {"IK403-10": "IK403-I10"}
NOT_USED_SEGMENT = {"IK304-2": "IK304-I4"}
DUPLICATE_GROUP = {"AK905-6": "AK905-19"}
VOCABULARY = {**NOT_USED_ELEMENT, **NOT_USED_SEGMENT, **DUPLICATE_GROUP}
ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
ALL_CHECKS = Options(external_codes=True)

Key = tuple[int | None, int | None, int | None, str]


def _key(defect: Defect, code: str, *, element_known: bool = True) -> Key:
    where = defect.location
    if code.startswith(("TA1", "AK905", "IK502", "X12-NOT")):
        return (None, None, None, code)
    if code.startswith("IK403") and element_known:
        return (where.segment_position, where.element, where.component, code)
    return (where.segment_position, None, None, code)


def ours(result: ValidationResult) -> set[Key]:
    """Our findings as comparison keys (warnings and envelope elements left out, see above)."""
    keys: set[Key] = set()
    for d in result.defects:
        if d.severity is not Severity.ERROR:
            continue
        if d.location.tag in ENVELOPE and str(d.code).startswith("IK403"):
            continue  # ENVELOPE_ELEMENTS
        composite = d.message.startswith("Required composite")  # pyx12 files these unplaced
        keys.add(_key(d, str(d.code), element_known=not composite))
    return keys


def reference(report: pyx12_adapter.Pyx12Report, result: ValidationResult) -> set[Key]:
    """pyx12's findings as comparison keys, its vocabulary mapped to the TR3's."""
    keys: set[Key] = set()
    envelope_errors = any(
        d.severity is Severity.ERROR
        and d.location.tag in ENVELOPE
        and str(d.code).startswith("IK403")
        for d in result.defects
    )
    for d in report.defects:
        code = VOCABULARY.get(str(d.code), str(d.code))
        if code == "IK502-5" and d.location.segment_index is None and envelope_errors:
            continue  # ENVELOPE_ELEMENTS: "invalid without naming a segment"
        keys.add(_key(d, code))
    return keys


def verdicts(result: ValidationResult) -> dict[str, str]:
    """Our verdict per set, keyed as the adapter keys pyx12's (GS06/ST02 -> A or R)."""
    return {f"{s.group_control}/{s.control}": "A" if s.accepted else "R" for s in result.sets}


def crashed(report: pyx12_adapter.Pyx12Report) -> bool:
    """pyx12 raised instead of judging (PYX12_CRASH)."""
    return any("internal error" in d.message for d in report.defects)


Comparison = tuple[set[Key], set[Key], dict[str, str], dict[str, str]]


def compare(data: bytes) -> Comparison | None:
    """Run both: (our keys, pyx12's keys, our verdicts, pyx12's); None when pyx12 crashed."""
    result = validate(data, options=ALL_CHECKS)
    report = pyx12_adapter.check(_without_lead(data))
    if crashed(report):
        return None
    return ours(result), reference(report, result), verdicts(result), report.ack_codes


def _without_lead(data: bytes) -> bytes:
    """The file as pyx12 can read it: no BOM or blank lines before the ISA (LEADING_TEXT)."""
    while True:
        stripped = data.lstrip(b" \t\r\n\x0b\x0c").removeprefix(b"\xef\xbb\xbf")
        if stripped == data:
            return data
        data = stripped


def _supported(row_version: str) -> bool:
    icvn, _, gs08 = row_version.partition("/")
    return icvn.strip() == "00501" and gs08.strip() in SUPPORTED_MAPS


def test_corpus_agrees_with_pyx12(corpus) -> None:  # type: ignore[no-untyped-def]
    """Every corpus file of a supported guide: same verdict per set, same located findings."""
    rows = [r for r in corpus if _supported(r.version)]
    assert len(rows) >= 40
    disagreements: list[str] = []
    for row in rows:
        data = row.path.read_bytes()
        result = validate(data, options=ALL_CHECKS)
        report = pyx12_adapter.check(_without_lead(data))
        if crashed(report):
            continue
        mine, theirs = ours(result), reference(report, result)
        if mine != theirs or verdicts(result) != report.ack_codes:
            disagreements.append(
                f"{row.path.name}: ours only {sorted(mine - theirs, key=str)[:5]}, pyx12 only "
                f"{sorted(theirs - mine, key=str)[:5]}, verdicts {verdicts(result)} vs "
                f"{report.ack_codes}"
            )
    assert disagreements == []


# ------------------------------------------------------------------------------- mutations

Mutation = Callable[[list[list[str]], int, int], None]


def _drop(segs: list[list[str]], i: int, j: int) -> None:
    del segs[i]


def _repeat(segs: list[list[str]], i: int, j: int) -> None:
    for _ in range(j % 3 + 1):
        segs.insert(i, list(segs[i]))


def _set(value: str) -> Mutation:
    def mutate(segs: list[list[str]], i: int, j: int) -> None:
        seg = segs[i]
        position = 1 + j % max(1, len(seg) - 1)
        while len(seg) <= position:
            seg.append("")
        seg[position] = value

    return mutate


def _wrong_count(segs: list[list[str]], i: int, j: int) -> None:
    trailer = next(k for k, s in enumerate(segs) if s[0] == ["SE", "GE", "IEA"][j % 3])
    segs[trailer][1] = str(int(segs[trailer][1]) + 1 + i % 3)


def _swap(segs: list[list[str]], i: int, j: int) -> None:
    k = min(i + 1 + j % 4, len(segs) - 4)
    segs[i], segs[k] = segs[k], segs[i]


def _unknown(segs: list[list[str]], i: int, j: int) -> None:
    segs.insert(i, ["ZZ" + "ABCDE"[j % 5], "1"])


def _trailing(segs: list[list[str]], i: int, j: int) -> None:
    segs[i].extend([""] * (1 + j % 2))


MUTATIONS: dict[str, Mutation] = {
    "drop a segment": _drop,
    "repeat a segment": _repeat,
    "bad code": _set("ZZ"),
    "too long": _set("X" * 81),
    "wrong date": _set("20261345"),
    "empty element": _set(""),
    "bad character": _set("A\x07B"),
    "wrong count": _wrong_count,
    "out of order": _swap,
    "unknown segment": _unknown,
    "trailing separators": _trailing,
    "wrong qualifier": _set("QQ"),
}


def _mutated(data: bytes, name: str, i: int, j: int) -> bytes:
    text = data.decode("ascii")
    segs = [s.split("*") for s in text.split("~") if s]
    body = [k for k, s in enumerate(segs) if s[0] not in ENVELOPE]
    MUTATIONS[name](segs, body[i % len(body)], j)
    isa = "*".join(segs[0])
    return (isa + "~" + "".join("*".join(s) + "~" for s in segs[1:])).encode("latin-1")


BASES = {
    "837P": claims_837p(3),
    "835": remittance_835(3),
    # claims with other payers: 2320/2330A/2330B and 2430 loops (one segment a line in the file)
    "837P-COB": cob_file(Kind.PROFESSIONAL).replace(b"~\n", b"~"),
    "837I-COB": cob_file(Kind.INSTITUTIONAL).replace(b"~\n", b"~"),
}


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    base=st.sampled_from(sorted(BASES)),
    name=st.sampled_from(sorted(MUTATIONS)),
    i=st.integers(0, 200),
    j=st.integers(0, 30),
)
def test_mutations_agree_with_pyx12(base: str, name: str, i: int, j: int) -> None:
    """A generated file broken one way: same verdicts and findings as pyx12."""
    compared = compare(_mutated(BASES[base], name, i, j))
    assume(compared is not None)  # PYX12_CRASH
    assert compared is not None
    mine, theirs, our_verdicts, their_verdicts = compared
    assert (theirs, their_verdicts) == (mine, our_verdicts)


@pytest.mark.parametrize("base", sorted(BASES))
def test_generated_files_agree_with_pyx12(base: str) -> None:
    """The unbroken generated files: both accept them, with no findings."""
    compared = compare(BASES[base])
    assert compared is not None
    mine, theirs, our_verdicts, their_verdicts = compared
    assert (set(), {"1/0001": "A"}) == (theirs, their_verdicts)
    assert (theirs, their_verdicts) == (mine, our_verdicts)
