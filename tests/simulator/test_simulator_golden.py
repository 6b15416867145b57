"""Golden simulator answers: fixed 837s, seed and clock always give exactly these response files.

A characterisation test: the simulator (the ``Simulator`` runner, folders in and out) answers the
837s in ``tests/golden/simulator/in`` under a few rule sets, and every file it drops must equal,
byte for byte, the one in ``tests/golden/simulator/<scenario>/``. The inputs are kept as files so
that a change to the 837 builder does not move these goldens. They change only on purpose: after
a deliberate change to the simulator, regenerate them with
``python tests/simulator/test_simulator_golden.py --regenerate-golden`` and review the diff.
"""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

from gateway.encounters import read_encounter_file  # noqa: E402
from gateway.models import Encounter  # noqa: E402
from gateway.partners import Partners, load_partners  # noqa: E402
from gateway.simulator import Simulator  # noqa: E402
from gateway.simulator.rules import SimulatorRules, load_rules, parse_rules  # noqa: E402
from gateway.transactions.claim837 import build_837  # noqa: E402
from gateway.transactions.control_numbers import MemoryAllocator  # noqa: E402
from tests.support import cob837  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "simulator"
INPUTS = GOLDEN / "in"
ENCOUNTERS = ROOT / "samples" / "encounters"
SAMPLE_837S = ROOT / "samples" / "x12"
CREATED = datetime(2026, 11, 20, 9, 30)
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)

#: The rule sets the inputs are answered under (name -> rules).
SCENARIOS: dict[str, SimulatorRules] = {
    "default": load_rules(),
    "config-file": load_rules(ROOT / "config" / "simulator.toml"),
    "one-level-busy": parse_rules(
        """
        seed = 4242
        [clearinghouse]
        payer_acknowledgements = false
        always_ta1 = true
        [adjudication]
        reversal_percent = "60"
        interest_percent = "70"
        recovery_percent = "70"
        """,
        "one-level-busy",
    ),
}


def _variants() -> list[Encounter]:
    """Copies of the single-encounter samples with their own claim ids, some made to hit rules."""
    bases = sorted(ENCOUNTERS.glob("*.json"))  # the batch files repeat these
    found: list[Encounter] = []
    n = 0
    for copy in range(4):
        for path in bases:
            for record in read_encounter_file(path):
                assert record.encounter is not None, record.findings
                n += 1
                data = json.loads(record.encounter.model_dump_json())
                data["claim_id"] = f"GLD-{n:04d}"
                for i, line in enumerate(data["service_lines"], 1):
                    line["line_id"] = f"G{n:04d}-{i}"
                if copy == 1 and n % 3 == 0:
                    data["subscriber"]["member_id"] = "X" + data["subscriber"]["member_id"][1:]
                if copy == 2 and n % 4 == 0:
                    data["service_lines"][0]["charge"] = "26000.00"
                found.append(Encounter.model_validate(data))
    return found


def _partners() -> Partners:
    demo = load_partners(ROOT / "config" / "partners").get("demo-clearinghouse")
    return Partners({demo.name: demo}, demo.name)


def build_inputs() -> dict[str, bytes]:
    """File name -> bytes of the golden inputs, made now (only when regenerating)."""
    out: dict[str, bytes] = {}
    for path in sorted(SAMPLE_837S.glob("837*.x12")):
        out[f"a-{path.name}"] = path.read_bytes()
    built = build_837(_variants(), _partners(), MemoryAllocator(500), created=CREATED)
    assert () == built.left_out
    for n, interchange in enumerate(built.interchanges, 1):
        out[f"b-variants-{n}.x12"] = interchange.data
    sample = (SAMPLE_837S / "837P-samples.x12").read_bytes()
    # the same ISA13 again: exactly the same file (ignored) and a changed one (TA1 note 025)
    out["c-resent-same.x12"] = sample
    out["d-resent-changed.x12"] = sample.replace(b"NM1*IL*1*", b"NM1*IL*1*Z", 1)
    # an ISA with its padding trimmed (TA1 note 022) and one asking for a TA1 (ISA14 = 1)
    isa_end = sample.index(b"~")
    isa = sample[:isa_end].split(b"*")
    trimmed = [f.strip() if i in (2, 4, 6, 8) else f for i, f in enumerate(isa)]
    out["e-trimmed-isa.x12"] = b"*".join(trimmed) + sample[isa_end:]
    asking = list(isa)
    asking[13] = b"000000777"
    asking[14] = b"1"
    body = sample[isa_end:].replace(b"IEA*1*" + isa[13], b"IEA*1*000000777")
    out["f-ta1-requested.x12"] = b"*".join(asking) + body
    # a transaction set with a bad code (BHT02): that set is rejected by the 999
    bad = list(isa)
    bad[13] = b"000000888"
    body = sample[isa_end:].replace(b"IEA*1*" + isa[13], b"IEA*1*000000888")
    out["g-set-rejected.x12"] = b"*".join(bad) + body.replace(b"BHT*0019*00*", b"BHT*0019*99*", 1)
    # coordination of benefits: secondaries after Medicare, and Medicare claims naming a secondary
    medicare = cob837.Other(
        "P", "00952", "MEDICARE PART B ILLINOIS", "MB", paid="80", date="20261116",
        control_number="2026320000123",
    )  # fmt: skip
    decided = {"00952": cob837.LineDecision("80", (("CO", "45", "25"), ("PR", "2", "20")))}
    lines = (cob837.Line("99213", "125", decisions=decided),)
    out["h-cob-secondary.x12"] = cob837.interchange(
        "professional",
        [cob837.claim("professional", f"GLD-S{n}", lines=lines, others=(medicare,))
         for n in range(6)],
        isa13=901,
    )  # fmt: skip
    humana = cob837.Other("S", "61101", "HUMANA", "CI", member_id="HUM555")
    out["i-cob-medicare.x12"] = cob837.interchange(
        "institutional",
        [cob837.claim("institutional", f"GLD-M{n}", responsibility="P", filing="MB",
                      payer=("00952", "MEDICARE PART B ILLINOIS"), others=(humana,))
         for n in range(12)],
        isa13=902,
    )  # fmt: skip
    return out


def run_scenario(rules: SimulatorRules, work: Path) -> dict[str, bytes]:
    """Answer every golden input (one at a time, in name order); drop-folder name -> bytes."""
    pickup, drop = work / "pickup", work / "drop"
    pickup.mkdir(parents=True)
    sim = Simulator(pickup, drop, work / "sim", rules=rules, use_delays=False, clock=lambda: NOW)
    for path in sorted(INPUTS.iterdir()):
        shutil.copyfile(path, pickup / path.name)
        asyncio.run(sim.run_once())
    return {p.name: p.read_bytes() for p in sorted(drop.iterdir())}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_simulator_answers_match_goldens_byte_for_byte(scenario: str, tmp_path: Path) -> None:
    """Every response file the simulator drops equals its golden file, and no file is missing."""
    expected_dir = GOLDEN / scenario
    expected = {p.name: p.read_bytes() for p in sorted(expected_dir.iterdir())}
    assert expected, f"no goldens in {expected_dir}"
    actual = run_scenario(SCENARIOS[scenario], tmp_path)
    assert sorted(expected) == sorted(actual)
    for name, data in expected.items():
        assert data == actual[name], f"{scenario}/{name} differs from its golden"


def test_golden_scenarios_cover_every_response_kind() -> None:
    """The goldens hold a TA1, 999, both 277CAs, an 835, an adjustment 835 and a crossover 835
    (a real spread)."""
    names = {p.name.split(".")[1] for d in GOLDEN.iterdir() if d.name != "in" for p in d.iterdir()}
    assert {"ta1", "999", "277ca", "277ca-payer", "835", "835-adjustment", "835-crossover"} <= names


def _regenerate() -> None:
    shutil.rmtree(GOLDEN, ignore_errors=True)
    INPUTS.mkdir(parents=True)
    for name, data in build_inputs().items():
        (INPUTS / name).write_bytes(data)
    import tempfile

    for scenario, rules in SCENARIOS.items():
        with tempfile.TemporaryDirectory() as tmp:
            answers = run_scenario(rules, Path(tmp))
        (GOLDEN / scenario).mkdir()
        for name, data in answers.items():
            (GOLDEN / scenario / name).write_bytes(data)
        print(f"{scenario}: {len(answers)} response files")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate-golden"]:
        sys.exit("usage: python tests/simulator/test_simulator_golden.py --regenerate-golden")
    _regenerate()
