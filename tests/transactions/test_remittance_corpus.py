"""Every 835 of the public corpus reads without a crash; our counts agree with plain string sums."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal, InvalidOperation

import pytest

from gateway.transactions.remittance import read_remittance
from gateway.x12 import read_segments
from tests.conftest import CorpusFile
from tests.support.x12_files import plain_segments


def _independent_clp_totals(data: bytes) -> tuple[int, Decimal]:
    """Claims and sum of CLP04 in 835 sets, counted over ``plain_segments``."""
    claims = 0
    paid = Decimal(0)
    in_835 = False
    for parts in plain_segments(data):
        tag = parts[0]
        if tag == "ST":
            in_835 = len(parts) > 1 and parts[1] == "835"
        elif tag == "SE":
            in_835 = False
        elif tag == "CLP" and in_835:
            claims += 1
            with suppress(InvalidOperation):  # the reader reads an invalid amount as 0
                paid += Decimal(parts[4]) if len(parts) > 4 and parts[4] else Decimal(0)
    return claims, paid


def _remittance_files(corpus: list[CorpusFile]) -> list[CorpusFile]:
    return [row for row in corpus if "835" in row.transaction_set]


def test_corpus_has_remittances(corpus: list[CorpusFile]) -> None:
    """The corpus holds the 835s these tests read (guards against a silently empty loop)."""
    assert len(_remittance_files(corpus)) >= 20


def test_every_corpus_835_reads_and_agrees_with_clp_sums(corpus: list[CorpusFile]) -> None:
    """Each 835 reads without an exception; claim count and paid total equal the CLP sums."""
    disagreements = []
    for row in _remittance_files(corpus):
        data = row.path.read_bytes()
        doc = read_remittance(read_segments(data))
        expected = _independent_clp_totals(data)
        actual = (doc.summary.claims, doc.summary.total_paid)
        if expected != actual:
            disagreements.append((row.path.name, expected, actual))
    assert [] == disagreements


@pytest.mark.parametrize(
    ("name", "claims", "paid"),
    [
        ("tests__5010-835-example-1.txt", 3, Decimal("1790")),
        ("src__tests__resources__835_005010X221A1__secondary-payment.835", 2, Decimal("1222.00")),
        ("test__files__835_simple.txt", 3, Decimal("-510.25")),
    ],
)
def test_known_corpus_totals(
    corpus: list[CorpusFile], name: str, claims: int, paid: Decimal
) -> None:
    """Spot checks of files whose totals were read by hand (5010, and a 4010 with reversals)."""
    row = next(r for r in corpus if r.path.name == name)
    doc = read_remittance(read_segments(row.path.read_bytes()))
    assert (claims, paid) == (doc.summary.claims, doc.summary.total_paid)


def test_balanced_corpus_files_report_no_imbalance(corpus: list[CorpusFile]) -> None:
    """Payer-style examples that balance by hand are reported balanced."""
    names = {
        "tests__5010-835-example-1.txt",
        "tests__5010-835-example-2.txt",
        "tests__5010-835-example-3.txt",
        "src__tests__resources__835_005010X221A1__secondary-payment.835",
        "src__tests__resources__835_005010X221A1__cob-contractural-adjustment.835",
    }
    rows = [r for r in corpus if r.path.name in names]
    assert len(names) == len(rows)
    unbalanced = [
        r.path.name
        for r in rows
        if not read_remittance(read_segments(r.path.read_bytes())).summary.balanced
    ]
    assert [] == unbalanced
