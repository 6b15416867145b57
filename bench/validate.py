"""Benchmark: our TR3 validator against pyx12's ``x12n_document``, in the same run.

Inputs: a generated 10,000-claim 837P and 835 (valid per pyx12's maps), and every corpus file of a
supported 5010 guide (``GATEWAY_CORPUS`` or ../shared/corpus) that pyx12 reads without failing.
pyx12 is timed on a 1,000-claim file and its time scaled by the size ratio (it runs at about
0.1 MB/s; the output says when a figure is scaled). Both run with their maps loaded (pyx12's map
loading is cached for the run, ours comes from the compiled-spec cache); what ours learns from
data (findings and replays per segment text) is forgotten before every timed run. Times are CPU
seconds, the best of ``--repeat`` runs taken alternately (a busy shared host disturbs CPU time far
less than wall time). Last, the cost of pyx12's external code lists (checked by default) to ours:
the same files with them on and off.

    .venv/bin/python bench/validate.py [--claims 10000] [--pyx12-claims 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.spec_cache import install_spec_cache  # noqa: E402
from gateway.validation.spec import SUPPORTED_MAPS  # noqa: E402
from gateway.validation.validator import Options, reset_caches, validate  # noqa: E402
from tests.support.x12_files import claims_837p, remittance_835  # noqa: E402

logging.disable(logging.CRITICAL)  # pyx12 logs every finding (with the data) to stderr


def _pyx12() -> Callable[[str], bool]:
    """pyx12's ``x12n_document`` on text, with its map loading cached for the run."""
    import pyx12.map_if
    import pyx12.params
    import pyx12.x12n_document

    original = pyx12.map_if.load_map_file
    cache: dict[str, Any] = {}

    def load_map_file(name: str, param: Any, map_path: str | None = None) -> Any:
        if name not in cache:
            cache[name] = original(name, param, map_path)
        return cache[name]

    pyx12.map_if.load_map_file = load_map_file
    params = pyx12.params.params()

    def run(text: str) -> bool:
        return bool(pyx12.x12n_document.x12n_document(params, io.StringIO(text), None, None))

    return run


def _cpu(fn: Callable[[], object]) -> float:
    reset_caches()
    started = time.process_time()  # CPU time: steadier than the wall clock on a busy host
    fn()
    return time.process_time() - started


def _race(
    ours: Callable[[], object], theirs: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Best CPU time of each, the two run alternately so that load changes hit both alike."""
    best_ours = best_theirs = float("inf")
    for _ in range(repeat):
        best_ours = min(best_ours, _cpu(ours))
        best_theirs = min(best_theirs, _cpu(theirs))
    return best_ours, best_theirs


def _corpus() -> list[bytes]:
    folder = Path(os.environ.get("GATEWAY_CORPUS") or ROOT.parent / "shared" / "corpus")
    manifest = folder / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    out: list[bytes] = []
    with manifest.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            version = row["version"].split("/")[-1].strip()
            if row["version"].startswith("00501") and version in SUPPORTED_MAPS:
                out.append((folder / row["local_file"]).read_bytes())
    return out


def main() -> int:
    """Run the benchmark and print MB/s and the speed ratio per input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--pyx12-claims", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    install_spec_cache()  # ours loads its maps from the compiled-spec cache, as the CLI does
    pyx12_run = _pyx12()
    options = Options(external_codes=True)  # our default, and what pyx12 checks by default
    print(f"{'input':<34}{'MB':>8}{'ours MB/s':>12}{'pyx12 MB/s':>12}{'ratio':>9}")
    ratios: list[float] = []
    for name, make in (("837P", claims_837p), ("835", remittance_835)):
        full = make(args.claims)
        part = make(args.pyx12_claims).decode("latin-1")
        pyx12_run(part)  # load and cache its maps
        ours, theirs = _race(
            lambda full=full: validate(full, options=options),
            lambda part=part: pyx12_run(part),
            args.repeat,
        )
        theirs *= len(full) / len(part)
        scaled = " (scaled)" if args.pyx12_claims != args.claims else ""
        ratio = theirs / ours
        ratios.append(ratio)
        label = f"{name} {args.claims:,} claims{scaled}"
        print(
            f"{label:<34}{len(full) / 1e6:>8.2f}{len(full) / ours / 1e6:>12.2f}"
            f"{len(full) / theirs / 1e6:>12.3f}{ratio:>8.1f}x"
        )
    files = _corpus()
    readable: list[bytes] = []
    for data in files:
        try:
            pyx12_run(data.decode("latin-1"))
        except Exception:
            continue
        readable.append(data)
    if readable:
        size = sum(len(d) for d in readable)

        def ours_all() -> None:
            for data in readable:
                validate(data, options=options)

        def theirs_all() -> None:
            for data in readable:
                pyx12_run(data.decode("latin-1"))

        ours, theirs = _race(ours_all, theirs_all, args.repeat)
        ratio = theirs / ours
        ratios.append(ratio)
        label = f"corpus ({len(readable)} of {len(files)} files)"
        print(
            f"{label:<34}{size / 1e6:>8.2f}{size / ours / 1e6:>12.2f}"
            f"{size / theirs / 1e6:>12.3f}{ratio:>8.1f}x"
        )
    print(f"lowest ratio {min(ratios):.1f}x (target 50x)")
    _external_codes_cost(args.claims, args.repeat)
    return 0


def _external_codes_cost(claims: int, repeat: int) -> None:
    """What checking pyx12's external code lists (on by default) costs our validator."""
    off = Options(external_codes=False)
    on = Options(external_codes=True)
    print(f"{'external code lists':<34}{'MB':>8}{'off MB/s':>12}{'on MB/s':>12}{'cost':>9}")
    for name, make in (("837P", claims_837p), ("835", remittance_835)):
        data = make(claims)
        with_lists, without = _race(
            lambda data=data: validate(data, options=on),
            lambda data=data: validate(data, options=off),
            repeat,
        )
        label = f"{name} {claims:,} claims"
        print(
            f"{label:<34}{len(data) / 1e6:>8.2f}{len(data) / without / 1e6:>12.2f}"
            f"{len(data) / with_lists / 1e6:>12.2f}{(with_lists / without - 1) * 100:>8.1f}%"
        )


if __name__ == "__main__":
    sys.exit(main())
