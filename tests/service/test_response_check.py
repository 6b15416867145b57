"""Pass 1 over a response file, as pure data: what it holds, whether its envelopes are complete,
and which 835 sets must wait for review, for the samples and damaged copies of them."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.service.responses import check_response_file, unit_hash

ROOT = Path(__file__).resolve().parents[2]
X12 = ROOT / "samples" / "x12"
REMIT = (X12 / "835-paid-denied-partial-reversal.x12").read_bytes()
SIMPLE = (X12 / "835-sample.x12").read_bytes()


def same(data: bytes) -> bytes:
    """The file as it is."""
    return data


def cut_in_clp04(data: bytes) -> bytes:
    """Cut inside the first claim's paid amount (182.00 -> 18)."""
    return data[: data.index(b"*182.00*") + 3]


def second_set_unbalanced(data: bytes) -> bytes:
    """The second set's claim paid 5,000.00 instead of 50.00 (BPR02 still 50.00)."""
    return data.replace(
        b"CLP*VFP-20261114-0005*2*70.00*50.00*", b"CLP*VFP-20261114-0005*2*70.00*5000.00*"
    )


def amount_not_a_number(data: bytes) -> bytes:
    """The first claim's CLP04 is not a number (read as 0: posting it would post 0)."""
    return data.replace(b"*182.00*", b"*18X.00*")


def se02_differs(data: bytes) -> bytes:
    """SE02 names another set than ST02."""
    return data.replace(b"SE*40*0001~", b"SE*40*0002~")


def ge01_counts_two(data: bytes) -> bytes:
    """GE01 says the group holds two sets; it holds one (a set was lost)."""
    return data.replace(b"GE*1*", b"GE*2*")


CASES: list[tuple[str, Callable[[bytes], bytes], bytes, list[str], list[str], list[int]]] = [
    # (name, damage, source, kinds, incomplete codes, held 835 set indexes)
    ("835 sample", same, SIMPLE, ["835"], [], []),
    ("835 two sets", same, REMIT, ["835"], [], []),
    ("277CA", same, (X12 / "277CA-accepted-rejected.x12").read_bytes(), ["277CA"], [], []),
    ("999", same, (X12 / "999-rejected-set.x12").read_bytes(), ["999"], [], []),
    ("TA1", same, (X12 / "TA1-rejected.x12").read_bytes(), ["TA1"], [], []),
    ("cut in CLP04", cut_in_clp04, SIMPLE, ["835"], ["IK502-2", "AK905-3", "TA1-023"], [0]),
    ("SE02 differs", se02_differs, SIMPLE, ["835"], ["IK502-3"], []),
    ("GE01 counts two", ge01_counts_two, SIMPLE, ["835"], ["AK905-5"], []),
    ("second set unbalanced", second_set_unbalanced, REMIT, ["835"], [], [1]),
    ("amount not a number", amount_not_a_number, SIMPLE, ["835"], [], [0]),
]


@pytest.mark.parametrize(
    ("name", "damage", "source", "kinds", "incomplete", "held"), CASES, ids=[c[0] for c in CASES]
)
def test_the_check_says_what_a_file_holds_whether_it_is_complete_and_what_waits(
    tmp_path: Path,
    name: str,
    damage: Callable[[bytes], bytes],
    source: bytes,
    kinds: list[str],
    incomplete: list[str],
    held: list[int],
) -> None:
    """Each file's kinds, its incomplete-envelope findings (in file order) and its held 835 sets
    are exactly what the case says."""
    path = tmp_path / "response.x12"
    path.write_bytes(damage(source))
    check = check_response_file(path, name)
    assert None is check.problem
    assert (kinds, incomplete, held) == (
        check.kinds,
        [str(d.code) for d in check.incomplete],
        sorted(check.held_sets),
    )


def test_a_held_set_names_its_control_numbers_and_the_amounts_that_disagree(
    tmp_path: Path,
) -> None:
    """The held set carries ST02, TRN02, BPR02 and each finding with expected and actual."""
    path = tmp_path / "response.x12"
    path.write_bytes(second_set_unbalanced(REMIT))
    held = check_response_file(path, "r.x12").held_sets[1]
    data = held.as_dict()
    assert ("0002", "50.00", 1) == (data["st02"], data["payment"], data["claims"])
    findings = data["findings"]
    assert isinstance(findings, list)
    found = {f["code"]: (f.get("expected"), f.get("actual")) for f in findings}
    assert ("50.00", "5000.00") == found["835-CLAIM-BALANCE"]
    assert ("5000.00", "50.00") == found["835-TRANSACTION-BALANCE"]


def test_batch_keys_are_the_document_key_first_and_distinct_after() -> None:
    """The first batch of a document is applied under the document's key (the file's hash for
    the first document, as before streaming); every other batch, and every batch of a release,
    gets its own key, the same for the same file every time."""
    digest = "f" * 64
    keys = {unit_hash(digest, 0, "835", n, release=r) for n in range(4) for r in (False, True)}
    assert 8 == len(keys)
    assert digest == unit_hash(digest, 0, "835", 0)
    assert unit_hash(digest, 1, "835", 2) == unit_hash(digest, 1, "835", 2)
