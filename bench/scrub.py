"""Benchmark: the claim scrubber with and without the ICD-10-CM code-set rules, in one run.

Generates N encounters (default 10,000) by varying the contract examples: new claim ids, members,
birth dates and genders, service dates over 2025-2026 (both sides of the October 1 updates), and
1-8 diagnoses drawn from a pool of real ICD-10-CM codes (every 250th code of the tabular that is
billable through 2025-2026) that fit the patient's age and sex, as a coder would pick them; one
claim in twenty carries a coding mistake (``MISTAKES``). The encounters are parsed once, outside
the timings; then ``scrub`` runs over all of them with the shape rules only, and with every rule.

The first run with the code-set rules pays for loading them (the MCE, once per process) and for
learning each code's profile (once per code and month): it is reported apart ("cold") from the
best of the later runs ("warm"). Times are CPU seconds of this process (``time.process_time``).
Budget: warm ratio at most 1.3x. Not a test; run ``python bench/scrub.py [--encounters N]``.
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
from collections.abc import Callable, Sequence  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from gateway.codes import icd10cm  # noqa: E402
from gateway.edits import RULES, scrub  # noqa: E402
from gateway.edits.diagnosis_codes import CODE_SET_RULES  # noqa: E402
from gateway.models import Encounter  # noqa: E402
from gateway.spec_cache import install_tabular_cache  # noqa: E402

SAMPLES = ROOT / "samples" / "encounters"
TODAY = date(2027, 1, 15)
FIRST_SERVICE = date(2025, 1, 1)
LAST_SERVICE = date(2026, 12, 31)


def code_pool(step: int = 250) -> list[str]:
    """Real codes billable from 2025-01-01 to 2026-12-31 (every ``step``-th of the tabular)."""
    pool = []
    for n, code in enumerate(sorted(icd10cm.iter_codes())):
        if n % step or icd10cm.is_header(code):
            continue
        if icd10cm.is_valid(code, FIRST_SERVICE) and icd10cm.is_valid(code, LAST_SERVICE):
            pool.append(code)
    return pool


MISTAKES = ("E116", "T50901", "W010XXA", "Q9999", "G63", "I420")
"""A category, a missing 7th character, an external cause first, no such code, a manifestation
first, a code deleted on 2026-10-01 (wrong on the later dates only)."""


def _fits(code: str, served: date, age: int, gender: str, first: bool) -> bool:
    """Whether a coder would list ``code`` for this patient (the MCE finds nothing to say)."""
    found = icd10cm.profile(code, served)
    if found is None or not found.valid:
        return False
    if found.ages is not None and not found.ages[0] <= age <= found.ages[1]:
        return False
    if found.sex not in (None, gender) or (gender == "M" and code[0] == "O"):
        return False
    return not first or (not found.principal_edits and code[0] not in "VWXY")


def _coded(
    rng: random.Random, pool: Sequence[str], count: int, served: date, age: int, gender: str
) -> list[str]:
    """``count`` distinct codes from ``pool`` that fit the patient, the first one a principal."""
    chosen: list[str] = []
    while len(chosen) < count:
        code = rng.choice(pool)
        if code not in chosen and _fits(code, served, age, gender, not chosen):
            chosen.append(code)
    return chosen


def generate(count: int, pool: Sequence[str], seed: int = 13) -> list[Encounter]:
    """``count`` varied encounters, parsed."""
    rng = random.Random(seed)
    bases = [
        json.loads(p.read_text())
        for p in sorted(SAMPLES.glob("*.json"))
        if isinstance(json.loads(p.read_text()), dict)
        # the coordination-of-benefits samples balance only as written: bench/cob.py varies them
        and "other_payers" not in json.loads(p.read_text())
    ]
    out = []
    for i in range(count):
        data: dict[str, Any] = copy.deepcopy(bases[i % len(bases)])
        data["claim_id"] = f"BENCH-{i:08d}"
        data["frequency"] = "1"
        data.pop("original_payer_claim_number", None)
        data["subscriber"]["member_id"] = f"M{i:09d}"
        served = FIRST_SERVICE + timedelta(days=rng.randrange((LAST_SERVICE - FIRST_SERVICE).days))
        person = data["patient"] or data["subscriber"]
        person["birth_date"] = str(served - timedelta(days=rng.randrange(1, 90 * 365)))
        person["gender"] = rng.choice("MF")
        if data["patient"] is not None and data["patient"]["relationship_to_subscriber"] == "19":
            data["subscriber"]["birth_date"] = str(
                date.fromisoformat(person["birth_date"]) - timedelta(days=20 * 365)
            )
        count_dx = rng.randint(1, 8)
        born = date.fromisoformat(person["birth_date"])
        age = served.year - born.year - ((served.month, served.day) < (born.month, born.day))
        data["diagnoses"] = _coded(rng, pool, count_dx, served, age, person["gender"])
        if i % 20 == 7:  # one claim in twenty carries a coding mistake
            data["diagnoses"][0] = MISTAKES[(i // 20) % len(MISTAKES)]
        for n, line in enumerate(data["service_lines"]):
            line["line_id"] = f"B{i:08d}-{n + 1}"
            line["service_date"] = str(served)
            line.pop("service_date_to", None)
            if line.get("diagnosis_pointers"):
                line["diagnosis_pointers"] = [1 + (n % count_dx)]
        inst = data.get("institutional")
        if inst:
            inst["statement_from"] = inst["statement_to"] = str(served)
            if inst.get("admission_date"):
                inst["admission_date"] = str(served)
                inst.pop("discharge_hour", None)
            inst["admitting_diagnosis"] = None
            inst["reason_for_visit_diagnoses"] = []
            inst["occurrence_codes"] = []
            inst["occurrence_span_codes"] = []
        out.append(Encounter.model_validate(data))
    return out


def _timed(run: Callable[[], Counter[str]]) -> tuple[float, Counter[str]]:
    started = time.process_time()
    found = run()
    return time.process_time() - started, found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encounters", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    install_tabular_cache()  # the tabular from the user's cache folder, as the CLI has it
    pool = code_pool()
    encounters = generate(args.encounters, pool)
    shape_rules = tuple(rule for rule in RULES if rule not in CODE_SET_RULES)

    def run(rules: Sequence[Any]) -> Callable[[], Counter[str]]:
        def scrub_all() -> Counter[str]:
            found: Counter[str] = Counter()
            for encounter in encounters:
                found.update(str(f.code) for f in scrub(encounter, today=TODAY, rules=rules))
            return found

        return scrub_all

    shape_cold, _ = _timed(run(shape_rules))
    with_cold, found = _timed(run(RULES))
    shape_times, with_times = [shape_cold], []
    for _ in range(args.repeat):
        shape_times.append(_timed(run(shape_rules))[0])
        with_times.append(_timed(run(RULES))[0])
    shape, warm = min(shape_times), min(with_times)
    n = len(encounters)
    print(f"{n} encounters, {len(pool)} distinct ICD-10-CM codes, service dates 2025-2026")
    print(f"  shape rules only          {shape:7.3f} s  {n / shape:9,.0f} encounters/s")
    print(f"  with code sets (cold)     {with_cold:7.3f} s  ratio {with_cold / shape:5.2f}x")
    print(f"  with code sets (warm)     {warm:7.3f} s  ratio {warm / shape:5.2f}x  (budget 1.3x)")
    icd = {code: k for code, k in found.most_common() if code[2:].startswith("ICD-")}
    print(f"  ICD-10-CM findings: {icd}")


if __name__ == "__main__":
    main()
