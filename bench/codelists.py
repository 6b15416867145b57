"""Benchmark: what the date-aware code lists cost (HCPCS Level II, modifiers, POS, CPT, X12 lists).

1. load: reading each shipped code set once (what the first claim of a process pays), cold;
2. scrub: N encounters (default 10,000; the demo's generator, half of their lines given real
   HCPCS Level II codes and modifiers from the data) scrubbed with every rule, and with the
   code-set rules left out, in the same run: per-encounter cost and the ratio;
3. ``gateway check`` of one encounter, wall time of the whole command (a fresh process), which the
   issue budgets at 0.6 s.

Times are CPU seconds of this process (``time.process_time``; best of ``--repeat``), so a busy
machine distorts them little. Not a test; run ``python bench/codelists.py [--encounters N]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds bench/tokenize.py, which would shadow the standard library's tokenize module
# when a script here runs as `python bench/x.py`: put the project root first instead
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from datetime import date  # noqa: E402
from typing import Any  # noqa: E402

from gateway import codes  # noqa: E402
from gateway.codes import procedures, published  # noqa: E402
from gateway.demo import demo_encounters  # noqa: E402
from gateway.edits import RULES, procedure_codes, scrub  # noqa: E402
from gateway.edits.rules import Rule  # noqa: E402
from gateway.models import Encounter  # noqa: E402

CODE_SET_RULES = (
    procedure_codes.procedure_code_sets,
    procedure_codes.cpt_codes,
)
TODAY = date(2026, 11, 23)
COMMAND = (sys.executable, "-c", "from gateway.cli import run; run()")


def _cold_loads() -> list[tuple[str, float]]:
    """Each code set read from the package with every cache emptied first (CPU seconds)."""
    loaders: list[tuple[str, Callable[[], Any], Callable[[], None]]] = [
        ("hcpcs_level2.tsv", procedures.hcpcs, procedures.hcpcs.cache_clear),
        ("modifiers.tsv", procedures.modifiers, procedures.modifiers.cache_clear),
        (
            "places_of_service.tsv",
            procedures.places_of_service,
            procedures.places_of_service.cache_clear,
        ),
        ("carc.tsv", lambda: codes.table("carc"), codes.reload),
        ("rarc.tsv", lambda: codes.table("rarc"), codes.reload),
        ("claim_status.tsv", lambda: codes.table("claim_status"), codes.reload),
    ]
    out = []
    for name, load, clear in loaders:
        best = float("inf")
        for _ in range(5):
            clear()
            published.reset()
            start = time.process_time()
            load()
            best = min(best, time.process_time() - start)
        out.append((name, best))
    return out


def _encounters(count: int, seed: int = 1) -> list[Encounter]:
    """The demo's encounters, half of the professional lines given HCPCS codes and modifiers."""
    rng = random.Random(seed)  # synthetic data, reproducible on purpose
    hcpcs = procedures.hcpcs()
    mods = procedures.modifiers()
    valid = [c for c, spans in hcpcs.spans.items() if spans[-1].end is None and c[0] != "D"]
    modifiers = [m for m, spans in mods.spans.items() if spans[-1].end is None]
    out = []
    for data in demo_encounters(count, today=TODAY):
        for line in data["service_lines"]:
            if rng.random() < 0.5 and data["kind"] == "professional":
                line["procedure_code"] = rng.choice(valid)
                line["modifiers"] = rng.sample(modifiers, rng.randint(0, 2))
        out.append(Encounter.model_validate(data))
    return out


def _time_scrub(encounters: Sequence[Encounter], rules: Sequence[Rule], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for encounter in encounters:
            scrub(encounter, today=TODAY, rules=rules)
        best = min(best, time.process_time() - start)
    return best


def _wall(argv: Sequence[str]) -> float:
    """Wall time of a ``gateway`` command in a fresh process (best of 3)."""
    best = float("inf")
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([*COMMAND, *argv], cwd=folder, capture_output=True, check=False)
            best = min(best, time.perf_counter() - start)
    return best


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    print("load (CPU s, cold, best of 5):")
    for name, seconds in _cold_loads():
        print(f"  {name:<24} {seconds * 1000:8.1f} ms")

    encounters = _encounters(args.encounters)
    lines = sum(len(e.service_lines) for e in encounters)
    without = tuple(r for r in RULES if r not in CODE_SET_RULES)
    scrub(encounters[0], today=TODAY)  # load the code sets before timing (paid once, above)
    t_without = _time_scrub(encounters, without, args.repeat)
    t_with = _time_scrub(encounters, RULES, args.repeat)
    n = len(encounters)
    print(f"scrub {n} encounters ({lines} lines), CPU s, best of {args.repeat}:")
    print(
        f"  without the code-set rules {t_without:7.3f} s  {t_without / n * 1e6:7.1f} us/encounter"
    )
    print(f"  with the code-set rules    {t_with:7.3f} s  {t_with / n * 1e6:7.1f} us/encounter")
    print(f"  ratio with/without         {t_with / t_without:7.3f}x")
    sample = ROOT / "samples" / "encounters" / "professional-several-lines.json"
    wall = _wall(["check", str(sample), "--today", "2026-11-23"])
    base = _wall(["check", "--list-codes"])  # the same imports, no encounter, no code set read
    print("fresh process, wall, best of 3:")
    print(f"  gateway check of one encounter {wall:.3f} s (budget 0.6 s)")
    print(f"  gateway check --list-codes     {base:.3f} s (start-up alone)")
    print(json.dumps({"ratio": round(t_with / t_without, 3), "check_one_wall_s": round(wall, 3)}))


if __name__ == "__main__":
    main()
