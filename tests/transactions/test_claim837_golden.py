"""Golden 837 files: the sample encounters always build into exactly samples/x12/837*.x12.

The goldens change only on purpose: after a deliberate change to the builder, regenerate them with
``python tests/transactions/test_claim837_golden.py --regenerate-golden`` and review the diff.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

from gateway.encounters import read_encounter_file  # noqa: E402
from gateway.models import Encounter, Kind  # noqa: E402
from gateway.partners import load_partners  # noqa: E402
from gateway.transactions.claim837 import build_837  # noqa: E402
from gateway.transactions.control_numbers import MemoryAllocator  # noqa: E402
from gateway.validation.pyx12_adapter import check  # noqa: E402

ENCOUNTERS = ROOT / "samples" / "encounters"
GOLDEN = {Kind.PROFESSIONAL: "837P-samples.x12", Kind.INSTITUTIONAL: "837I-samples.x12"}
CREATED = datetime(2026, 11, 20, 9, 30)  # fixed stamps and control numbers from 1: stable bytes


# the single-encounter samples (the batch files repeat them); named, so that a new sample does
# not change the goldens until someone adds it here and regenerates them on purpose
GOLDEN_INPUTS = (
    "institutional-inpatient-replacement.json",
    "institutional-inpatient.json",
    "institutional-outpatient.json",
    "professional-dependent.json",
    "professional-replacement-drug.json",
    "professional-self.json",
    "professional-several-lines.json",
    "professional-spouse-accident.xml",
    "professional-void.json",
)


def golden_inputs() -> list[Encounter]:
    """The encounters of ``GOLDEN_INPUTS``, in that order."""
    found: list[Encounter] = []
    for name in GOLDEN_INPUTS:
        for record in read_encounter_file(ENCOUNTERS / name):
            assert record.encounter is not None, record.findings
            found.append(record.encounter)
    return found


def build_goldens() -> dict[str, bytes]:
    """File name -> bytes of the golden files, built now."""
    partners = load_partners(ROOT / "config" / "partners")
    result = build_837(golden_inputs(), partners, MemoryAllocator(), created=CREATED)
    assert result.left_out == ()
    return {GOLDEN[b.sent.kind]: b.data for b in result.interchanges}


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return build_goldens()


@pytest.mark.parametrize("name", sorted(GOLDEN.values()))
def test_samples_build_into_the_golden_bytes(built: dict[str, bytes], name: str) -> None:
    """Building the samples again gives byte-for-byte the stored golden file."""
    expected = (ROOT / "samples" / "x12" / name).read_bytes()
    assert built[name] == expected


@pytest.mark.parametrize("name", sorted(GOLDEN.values()))
def test_golden_files_pass_pyx12(name: str) -> None:
    """pyx12 finds zero errors in each golden file."""
    report = check((ROOT / "samples" / "x12" / name).read_bytes(), file=name)
    assert [str(d) for d in report.defects] == []


def main(argv: list[str]) -> int:
    """``--regenerate-golden``: rewrite samples/x12/837*-samples.x12 from the samples."""
    if argv != ["--regenerate-golden"]:
        usage = "usage: python tests/transactions/test_claim837_golden.py --regenerate-golden"
        print(usage, file=sys.stderr)
        return 2
    for name, data in build_goldens().items():
        path = ROOT / "samples" / "x12" / name
        path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
