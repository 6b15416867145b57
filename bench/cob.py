"""Benchmark: what the coordination-of-benefits rules add to the scrubber, in one run.

Generates N encounters (default 10,000) from the three COB samples (a secondary 837P with the
primary's line-level adjudication, a secondary 837I with claim-level adjudication, a primary 837P
naming its secondary): new claim ids, 1-12 service lines with random charges, and for each payer
ahead a balanced adjudication (line by line or for the claim, CO and PR adjustments, known
CARCs), so the rules do all their work and find nothing. The same number of encounters without
other payers (the professional and institutional samples) measures what the rules cost on the
common intake path, where they return at once.

The encounters are parsed once, outside the timings; then ``scrub`` runs over them with every
rule and with every rule but ``COB_RULES``. Times are CPU seconds of this process
(``time.process_time``), the best of ``--repeat`` runs. Not a test; run
``python bench/cob.py [--encounters N]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds bench/tokenize.py, which would shadow the standard library's tokenize module
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from gateway.edits import RULES, Rule, scrub  # noqa: E402
from gateway.edits.rules_cob import COB_RULES  # noqa: E402
from gateway.models import Encounter  # noqa: E402
from gateway.spec_cache import install_tabular_cache  # noqa: E402

SAMPLES = ROOT / "samples" / "encounters"
COB_SAMPLES = (
    "professional-secondary",
    "institutional-secondary",
    "professional-primary-with-secondary",
)
PLAIN_SAMPLES = ("professional-self", "institutional-outpatient")
TODAY = date(2026, 11, 23)


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return loaded


def _cents(amount: int) -> str:
    return f"{Decimal(amount) / 100:.2f}"


def _split(rng: random.Random, cents: int) -> tuple[int, list[dict[str, str]]]:
    """Paid cents and the CO/PR adjustments making up the rest of ``cents``."""
    paid = rng.randint(0, cents)
    contractual = rng.randint(0, cents - paid)
    patient = cents - paid - contractual
    adjustments = []
    if contractual:
        adjustments.append({"group": "CO", "reason": "45", "amount": _cents(contractual)})
    if patient:
        reason = rng.choice(("1", "2", "3"))
        adjustments.append({"group": "PR", "reason": reason, "amount": _cents(patient)})
    return paid, adjustments


def _adjudicate(rng: random.Random, lines: list[dict[str, Any]], old: dict[str, Any]) -> None:
    """Replace the amounts of adjudication ``old`` with balanced ones for ``lines``."""
    owed = 0
    if old.get("lines"):
        decided, paid_total = [], 0
        for line in lines:
            paid, adjustments = _split(rng, int(Decimal(line["charge"]) * 100))
            paid_total += paid
            owed += sum(int(Decimal(a["amount"]) * 100) for a in adjustments if a["group"] == "PR")
            decided.append(
                {
                    "line_id": line["line_id"],
                    "paid_amount": _cents(paid),
                    "adjustments": adjustments,
                }
            )
        old["lines"], old["adjustments"] = decided, []
        old["paid_amount"] = _cents(paid_total)
    else:
        total = sum(int(Decimal(line["charge"]) * 100) for line in lines)
        paid, adjustments = _split(rng, total)
        owed = sum(int(Decimal(a["amount"]) * 100) for a in adjustments if a["group"] == "PR")
        old["adjustments"], old["paid_amount"] = adjustments, _cents(paid)
    old["patient_responsibility"] = _cents(owed)


def generate(names: Sequence[str], count: int, seed: int = 17) -> list[Encounter]:
    """``count`` varied encounters from the samples ``names``, parsed."""
    rng = random.Random(seed)
    bases = [_sample(name) for name in names]
    out = []
    for i in range(count):
        data: dict[str, Any] = copy.deepcopy(bases[i % len(bases)])
        data["claim_id"] = f"BENCH-{i:08d}"
        template = data["service_lines"]
        lines = []
        for n in range(rng.randint(1, 12)):
            line = copy.deepcopy(template[n % len(template)])
            line["line_id"] = f"B{i:08d}-{n + 1}"
            line["charge"] = _cents(rng.randint(1000, 250_000))
            lines.append(line)
        data["service_lines"] = lines
        data.pop("total_charge", None)
        for payer in data.get("other_payers", []):
            if payer.get("adjudication"):
                _adjudicate(rng, lines, payer["adjudication"])
        out.append(Encounter.model_validate(data))
    return out


def _timed(encounters: Sequence[Encounter], rules: Sequence[Rule]) -> tuple[float, Counter[str]]:
    started = time.process_time()
    found: Counter[str] = Counter()
    for encounter in encounters:
        found.update(str(f.code) for f in scrub(encounter, today=TODAY, rules=rules))
    return time.process_time() - started, found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encounters", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    install_tabular_cache()  # the tabular from the user's cache folder, as the CLI has it
    without = tuple(rule for rule in RULES if rule not in COB_RULES)
    n = args.encounters
    print(f"{n} encounters of each kind; CPU seconds, best of {args.repeat}")
    for label, names in (("with other payers", COB_SAMPLES), ("without", PLAIN_SAMPLES)):
        encounters = generate(names, n)
        _timed(encounters, RULES)  # warm up: code sets loaded, code profiles learnt
        bases, fulls = [], []
        for _ in range(args.repeat):  # interleaved: a busy moment of the machine hits both
            bases.append(_timed(encounters, without)[0])
            seconds, found = _timed(encounters, RULES)
            fulls.append(seconds)
        base, full = min(bases), min(fulls)
        cob = {code: k for code, k in found.items() if "-COB-" in code}
        lines = sum(len(e.service_lines) for e in encounters) / n
        print(f"  {label} ({lines:.1f} lines each on average)")
        print(f"    scrub without the COB rules {base:7.3f} s  {base / n * 1e6:7.1f} us/encounter")
        print(
            f"    scrub with the COB rules    {full:7.3f} s  {full / n * 1e6:7.1f} us/encounter"
            f"  ratio {full / base:5.3f}x"
        )
        print(f"    COB findings: {cob or 'none'}")


if __name__ == "__main__":
    main()
