"""Benchmark: encounters -> 837 files. Reports claims/s for parse+scrub, build, and the pyx12 check.

Generates N encounters (default 100,000) as JSON Lines by varying the contract examples (new claim
ids, members, dates and charges; a mix of professional and institutional, self and dependent), then:

1. parse+scrub: ``gateway.edits.check_stream`` over the file (contract + scrubber), streamed;
2. build: the same stream into ``Batcher`` writing 837 files to a temporary folder (the time spent
   in the builder only, parse+scrub excluded);
3. pyx12: the reference check on the first ``--pyx12-claims`` claims' worth of output (all of it
   with ``--pyx12-all``; at ~300 claims/s that takes minutes), extrapolated to N.

Peak memory (ru_maxrss) is measured in child processes at N/5 and N claims: flat memory means
the two are close. Rates are per CPU second of this process (``time.process_time``), so a busy
machine does not distort them much. Not a test; run ``python bench/build_837.py [--claims N]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds bench/tokenize.py, which would shadow the standard library's tokenize module
# when a script here runs as `python bench/x.py`: put the project root first instead
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from gateway.edits import check_stream  # noqa: E402
from gateway.models import Kind  # noqa: E402
from gateway.partners import TradingPartner, load_partners  # noqa: E402
from gateway.transactions.batching import Batcher, MemoryOutputs, Output  # noqa: E402
from gateway.transactions.claim837 import InterchangeSent  # noqa: E402
from gateway.transactions.control_numbers import MemoryAllocator  # noqa: E402
from gateway.validation.pyx12_adapter import check  # noqa: E402

SAMPLES = ROOT / "samples" / "encounters"
PARTNERS = ROOT / "config" / "partners"
TODAY = date(2026, 11, 20)
CREATED = datetime(2026, 11, 20, 9, 30)


def templates() -> list[dict[str, Any]]:
    """The single-encounter JSON samples, as dicts."""
    return [
        json.loads(p.read_text())
        for p in sorted(SAMPLES.glob("*.json"))
        if isinstance(json.loads(p.read_text()), dict)
        # the coordination-of-benefits samples balance only as written: bench/cob.py varies them
        and "other_payers" not in json.loads(p.read_text())
    ]


def generate(path: Path, count: int) -> None:
    """Write ``count`` varied encounters as JSON Lines."""
    bases = templates()
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            data = copy.deepcopy(bases[i % len(bases)])
            data["claim_id"] = f"BENCH-{i:08d}"
            data["frequency"] = "1"
            data.pop("original_payer_claim_number", None)
            # every 4th claim shares its subscriber with the previous ones (HL sharing)
            data["subscriber"]["member_id"] = f"M{(i // 4):09d}"
            shift = timedelta(days=i % 200)
            for n, line in enumerate(data["service_lines"]):
                line["line_id"] = f"B{i:08d}-{n + 1}"
                line["charge"] = str(Decimal(line["charge"]) + Decimal(i % 97))
                for key in ("service_date", "service_date_to"):
                    if line.get(key):
                        line[key] = str(date.fromisoformat(line[key]) - shift)
            inst = data.get("institutional")
            if inst:
                for key in ("statement_from", "statement_to", "admission_date"):
                    if inst.get(key):
                        inst[key] = str(date.fromisoformat(inst[key]) - shift)
                for occ in inst.get("occurrence_codes", []):
                    occ["date"] = str(date.fromisoformat(occ["date"]) - shift)
            data.pop("total_charge", None)
            out.write(json.dumps(data) + "\n")


class _NullOutputs:
    """Counts bytes instead of keeping them (the build stage measures the builder alone)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.files = 0

    def open(self, partner: TradingPartner, kind: Kind, isa13: str) -> Output:
        return self

    def write(self, text: str) -> None:
        self.bytes += len(text)

    def close(self, output: Output, sent: InterchangeSent) -> None:
        self.files += 1


def parse_scrub(path: Path) -> tuple[int, float]:
    """Stream the file through the contract and the scrubber; (encounters ok, CPU seconds)."""
    started = time.process_time()
    ok = 0
    with path.open("rb") as stream:
        for result in check_stream(stream, name=path.name, today=TODAY):
            if result.encounter is not None and not any(f.is_error for f in result.findings):
                ok += 1
    return ok, time.process_time() - started


def build(path: Path) -> tuple[int, float, int]:
    """Parse+scrub into the batcher; (claims built, seconds in the builder, bytes)."""
    partners = load_partners(PARTNERS)
    outputs = _NullOutputs()
    sets: list[int] = []
    batcher = Batcher(
        partners,
        MemoryAllocator(),
        outputs,
        created=CREATED,
        keep_claims=False,  # a ledger records each set through on_transaction instead
        on_transaction=lambda sent: sets.append(sent.claim_count),
    )
    in_builder = 0.0
    with path.open("rb") as stream:
        for result in check_stream(stream, name=path.name, today=TODAY):
            if result.encounter is None or any(f.is_error for f in result.findings):
                continue
            t = time.process_time()
            batcher.add(result.encounter)
            in_builder += time.process_time() - t
    t = time.process_time()
    sent = batcher.close()
    in_builder += time.process_time() - t
    assert not batcher.left_out, batcher.left_out[:3]
    assert sum(sets) == sum(s.claim_count for s in sent)
    return sum(s.claim_count for s in sent), in_builder, outputs.bytes


def pyx12_check(path: Path, claims: int) -> tuple[int, float, int, int]:
    """Build the first ``claims`` encounters in memory and check them with pyx12;
    (claims checked, seconds, bytes, defects)."""
    partners = load_partners(PARTNERS)
    outputs = MemoryOutputs()
    batcher = Batcher(partners, MemoryAllocator(), outputs, created=CREATED)
    with path.open("rb") as stream:
        for n, result in enumerate(check_stream(stream, name=path.name, today=TODAY)):
            if n >= claims:
                break
            if result.encounter is not None:
                batcher.add(result.encounter)
    batcher.close()
    started = time.process_time()
    size = defects = 0
    for built in outputs.built:
        size += len(built.data)
        defects += len(check(built.data).defects)
    checked = sum(b.sent.claim_count for b in outputs.built)
    return checked, time.process_time() - started, size, defects


def _child_peak(path_text: str, queue: Any) -> None:
    build(Path(path_text))
    queue.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss_kib(path: Path) -> int:
    """Peak resident memory of a child process that builds the file (KiB)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_peak, args=(str(path), queue))
    proc.start()
    value = int(queue.get())
    proc.join()
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--pyx12-claims", type=int, default=2_000)
    parser.add_argument("--pyx12-all", action="store_true")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "encounters.jsonl"
        generate(path, args.claims)
        mb = path.stat().st_size / 1e6
        print(f"{args.claims} encounters, {mb:.1f} MB of JSON Lines")

        ok, t_parse = parse_scrub(path)
        print(f"parse+scrub : {ok} ok in {t_parse:6.2f} s  = {ok / t_parse:9,.0f} claims/s")
        built, t_build, size = build(path)
        print(
            f"build       : {built} claims in {t_build:6.2f} s  = {built / t_build:9,.0f} claims/s"
            f"  ({size / 1e6:.1f} MB of X12)"
        )
        both = t_parse + t_build
        verdict = "meets" if built / both >= 10_000 else "misses"
        print(
            f"parse+scrub+build: {built / both:9,.0f} claims/s "
            f"({verdict} the 10,000 claims/s target)"
        )

        n = args.claims if args.pyx12_all else min(args.pyx12_claims, args.claims)
        checked, t_check, checked_bytes, defects = pyx12_check(path, n)
        rate = checked / t_check
        print(
            f"pyx12 check : {checked} claims in {t_check:6.2f} s  = {rate:9,.0f} claims/s "
            f"({checked_bytes / 1e6 / t_check:.2f} MB/s, {defects} defects); "
            f"{args.claims} claims would take {args.claims / rate / 60:.1f} min"
        )

        if not args.no_memory:
            small = Path(tmp) / "small.jsonl"
            generate(small, max(1, args.claims // 5))
            low, high = peak_rss_kib(small), peak_rss_kib(path)
            print(
                f"peak memory : {low / 1024:.0f} MiB at {args.claims // 5} claims, "
                f"{high / 1024:.0f} MiB at {args.claims} claims"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
