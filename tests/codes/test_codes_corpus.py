"""The published CARC/RARC lists know every reason and remark code the corpus 835s use."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from collections import Counter

from gateway import codes
from tests.conftest import CorpusFile
from tests.support.x12_files import plain_segments

# MIA and MOA positions that hold remark codes (RARCs)
MIA_REMARKS = (5, 20, 21, 22, 23)
MOA_REMARKS = (3, 4, 5, 6, 7)


def _corpus_codes(corpus: list[CorpusFile]) -> tuple[Counter[str], Counter[str]]:
    """CARCs (CAS) and RARCs (LQ*HE, MIA, MOA) used in the corpus's 835 sets."""
    carcs: Counter[str] = Counter()
    rarcs: Counter[str] = Counter()
    for row in corpus:
        if "835" not in row.transaction_set:
            continue
        in_835 = False
        for parts in plain_segments(row.path.read_bytes()):
            tag = parts[0]
            if tag == "ST":
                in_835 = len(parts) > 1 and parts[1] == "835"
            elif not in_835:
                continue
            elif tag == "CAS":
                carcs.update(parts[i] for i in range(2, len(parts), 3) if parts[i])
            elif tag == "LQ" and len(parts) > 2 and parts[1] == "HE":
                rarcs[parts[2]] += 1
            elif tag in ("MIA", "MOA"):
                positions = MIA_REMARKS if tag == "MIA" else MOA_REMARKS
                rarcs.update(parts[i] for i in positions if len(parts) > i and parts[i])
    return carcs, rarcs


def test_corpus_reason_and_remark_codes_have_meanings(corpus: list[CorpusFile]) -> None:
    """Only the corpus's test values are unknown (the hand-typed tables missed A2, A7, M68...)."""
    carcs, rarcs = _corpus_codes(corpus)
    unknown_carcs = sorted(c for c in carcs if not codes.is_known("carc", c))
    unknown_rarcs = sorted(c for c in rarcs if not codes.is_known("rarc", c))
    assert (["909099", "ETEST", "ITEST"], ["0"]) == (unknown_carcs, unknown_rarcs)
    assert ["A2", "A7"] == sorted(c for c in carcs if c in ("A2", "A7"))
    assert all(codes.is_known("rarc", c) for c in ("M68", "MA02", "N14", "N142", "N220"))
