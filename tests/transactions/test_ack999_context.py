"""CTX and IK4 positions in a 999 read the same whatever delimiters the sender chose."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from collections.abc import Sequence

import pytest

from gateway.ledger.reconcile import segment_error_claim
from gateway.models.acknowledgements import ImplementationAcknowledgementDocument
from gateway.transactions.ack999 import read_implementation_acknowledgement
from gateway.transactions.reader import to_data
from gateway.x12 import read_segments

# (element separator, repetition separator, component separator, segment terminator)
DELIMITERS = {
    "colon": ("*", "^", ":", "~"),
    "greater-than": ("*", "^", ">", "~"),
    "caret": ("|", "{", "^", "~"),
    "backslash": ("*", "^", "\\", "\n"),
}


def interchange(body: Sequence[Sequence[str | list[str]]], delimiters: Sequence[str]) -> bytes:
    """A 999 interchange of ``body`` (elements given as strings, composites as lists)."""
    element, repetition, component, terminator = delimiters

    def line(tag: str, *elements: str | list[str]) -> str:
        values = [e if isinstance(e, str) else component.join(e) for e in elements]
        return element.join([tag, *values]) + terminator

    isa = element.join(
        [
            "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "CLEARING".ljust(15), "ZZ",
            "CLINIC".ljust(15), "261102", "0930", repetition, "00501", "000000009", "0", "T",
            component,
        ]
    )  # fmt: skip
    segments = [
        line("ST", "999", "0001", "005010X231A1"),
        *(line(str(s[0]), *s[1:]) for s in body),
    ]
    segments.append(line("SE", str(len(segments) + 1), "0001"))
    text = (
        isa
        + terminator
        + line("GS", "FA", "CLEARING", "CLINIC", "20261102", "0930", "9", "X", "005010X231A1")
        + "".join(segments)
        + line("GE", "1", "9")
        + line("IEA", "1", "000000009")
    )
    return text.encode()


Seg = list[str | list[str]]

BODY: list[Seg] = [
    ["AK1", "HC", "17", "005010X222A1"],
    ["AK2", "837", "0032", "005010X222A1"],
    ["IK3", "CLM", "18", "2300", "8"],
    ["CTX", ["CLM01", "VFP-0007"]],
    ["CTX", ["SITUATIONAL TRIGGER"], "CLM", "18", "2300", ["5", "3"], ["1325"]],
    ["IK4", ["5", "3"], "1325", "7"],
    ["CTX", ["SITUATIONAL TRIGGER"], "SV1", "22", "2400", ["1", "2", "3"], ["C003", "234"]],
    ["IK3", "HI", "19", "2300", "8"],
    ["IK4", ["2", "", "4"], "1271", "7"],
    ["IK5", "R", "5"],
    ["AK9", "R", "1", "1", "0"],
]


def read(data: bytes) -> ImplementationAcknowledgementDocument:
    return read_implementation_acknowledgement(read_segments(data))


def contexts(document: ImplementationAcknowledgementDocument) -> list[tuple[object, ...]]:
    """Every CTX of the document as (name, reference, element, component, repetition, refs)."""
    found: list[tuple[object, ...]] = []
    for ack in document.acknowledgements:
        for group in ack.groups:
            for response in group.transaction_sets:
                for error in response.segment_errors:
                    every = list(error.contexts)
                    for element in error.element_errors:
                        every += element.contexts
                    found += [
                        (
                            c.context_name,
                            c.context_reference,
                            c.element_position,
                            c.component_position,
                            c.repetition,
                            c.data_element_reference,
                            c.component_data_element_reference,
                        )
                        for c in every
                    ]
    return found


@pytest.mark.parametrize("name", list(DELIMITERS))
def test_ctx_positions_and_references_are_numbers_split_on_isa16(name: str) -> None:
    """CTX05 (C030) becomes element / component / repetition numbers and CTX06 (C999) its two
    data element numbers, split on the interchange's own component separator."""
    document = read(interchange(BODY, DELIMITERS[name]))
    assert [
        ("CLM01", "VFP-0007", None, None, None, "", ""),
        ("SITUATIONAL TRIGGER", "", 5, 3, None, "1325", ""),
        ("SITUATIONAL TRIGGER", "", 1, 2, 3, "C003", "234"),
    ] == contexts(document)
    assert [] == document.findings


def test_the_same_999_gives_the_same_document_whatever_its_delimiters() -> None:
    """The JSON document of a 999 does not depend on the sender's delimiters."""
    documents = [to_data(read(interchange(BODY, d))) for d in DELIMITERS.values()]
    for document in documents:
        for ack in document["acknowledgements"]:
            ack.pop("envelope")  # the envelope keeps the ISA16 the sender used
    assert all(documents[0] == d for d in documents[1:])


def test_ik401_with_a_repetition_and_no_component() -> None:
    """IK401 ``2::4`` is element 2, repetition 4, no component."""
    (response,) = (
        read(interchange(BODY, DELIMITERS["greater-than"]))
        .acknowledgements[0]
        .groups[0]
        .transaction_sets
    )
    element = response.segment_errors[1].element_errors[0]
    assert (2, None, 4, "1271") == (
        element.element_position,
        element.component_position,
        element.repetition,
        element.data_element_reference,
    )


@pytest.mark.parametrize("name", list(DELIMITERS))
def test_business_unit_context_names_the_claim(name: str) -> None:
    """CTX*CLM01<ISA16><id> is read as identifier and claim id, and the ledger puts the claim on
    the segment error whatever the separator."""
    document = read(interchange(BODY, DELIMITERS[name]))
    (ack,) = document.acknowledgements
    errors = ack.groups[0].transaction_sets[0].segment_errors
    assert ["VFP-0007", ""] == [segment_error_claim(e) for e in errors]


def test_a_claim_id_holding_a_colon_under_another_isa16_stays_whole() -> None:
    """With ISA16 ``>``, ``CLM01>A:1`` is claim ``A:1``: only the component separator splits."""
    body: list[Seg] = [*BODY[:3], ["CTX", ["CLM01", "A:1"]], *BODY[9:]]
    document = read(interchange(body, DELIMITERS["greater-than"]))
    assert [("CLM01", "A:1", None, None, None, "", "")] == contexts(document)
    assert [] == document.findings


def test_a_literal_colon_under_another_isa16_still_names_the_claim() -> None:
    """A sender writing ``CTX*CLM01:A1`` under ISA16 ``>`` is read as CLM01 / A1, with a warning
    (the claim is named; the file is not what its ISA16 says)."""
    body: list[Seg] = [*BODY[:3], ["CTX", "CLM01:A1"], *BODY[9:]]
    document = read(interchange(body, DELIMITERS["greater-than"]))
    assert [("CLM01", "A1", None, None, None, "", "")] == contexts(document)
    assert [("999-CONTEXT", "warning", 1)] == [
        (f.code, str(f.severity), f.location and f.location.element) for f in document.findings
    ]


def test_a_colon_in_a_situational_trigger_is_not_split_under_another_isa16() -> None:
    """Only the business-unit names are split on a literal colon: other contexts stay whole."""
    body: list[Seg] = [*BODY[:3], ["CTX", "OTHER:X", "CLM", "18"], *BODY[9:]]
    document = read(interchange(body, DELIMITERS["greater-than"]))
    assert [("OTHER:X", "", None, None, None, "", "")] == contexts(document)


def test_a_position_that_is_not_a_number_is_reported() -> None:
    """A CTX05 part that is not a number is left out with a warning, never kept as text."""
    body: list[Seg] = [
        *BODY[:3],
        ["CTX", ["SITUATIONAL TRIGGER"], "CLM", "18", "", ["5", "X"]],
        *BODY[9:],
    ]
    document = read(interchange(body, DELIMITERS["colon"]))
    assert [("SITUATIONAL TRIGGER", "", 5, None, None, "", "")] == contexts(document)
    assert [("999-CONTEXT", 5)] == [
        (f.code, f.location and f.location.element) for f in document.findings
    ]
