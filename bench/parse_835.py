"""Benchmark: reading an 835 into typed claims with balancing, against other readers, in one run.

Generated remittances (synthetic, balanced, 5,000 claims per transaction set, two or three service
lines a claim): 10,000 claims (to show memory stays flat), 100,000 claims (about 40 MB) and, with
``--large``, 1,000,000 claims (about 400 MB; a few minutes). Each reader runs in its own subprocess
so its peak memory (``ru_maxrss``) is its own; times are CPU seconds (``process_time``), which a
busy shared machine disturbs far less than wall-clock time (shown beside them):

- ``gateway``: ``read_segments`` + ``iter_remittance``: every claim typed, balanced, summed.
- ``split``: a streaming ``str.split`` baseline (1 MiB chunks, segments and elements split, CLP04
  summed): the floor any Python reader pays.
- ``tokenizer``: ``read_segments`` alone (the X12 engine's share of our time).
- ``pyx12``: pyx12's ``X12ContextReader`` iterating 2100 claim loops, on a slice (its speed scaled).
- ``linuxforhealth``: linuxforhealth-x12's ``X12ModelReader`` on a slice, from its own virtual
  environment (it needs ``pydantic<2``): give its Python with ``--lfh-python`` or ``LFH_PYTHON``;
  skipped when not available.

    .venv/bin/python bench/parse_835.py [--large] [--claims 100000] [--slice-claims 1000]
        [--lfh-python /path/to/venv/bin/python] [--keep DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where a bench module may shadow the
# standard library (bench/tokenize.py shadows tokenize): read from the project root instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse  # noqa: E402
import ast  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

CLAIMS_PER_SET = 5_000

# -- generating remittances -----------------------------------------------------------------------


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def write_835(path: Path, claims: int, seed: int = 835, *, payer_contact: bool = True) -> int:
    """Write a balanced 835 with ``claims`` claims; returns its size in bytes.

    ``payer_contact=False`` leaves out the payer's PER*BL (which the TR3 requires), for
    linuxforhealth-x12, whose model fails on a single PER in loop 1000A.
    """
    rng = random.Random(seed)
    procedures = ["99213", "99214:25", "36415", "85025", "80053", "93000", "97110:GP", "J1885"]
    with path.open("w", encoding="ascii", newline="") as out:
        out.write(
            "ISA*00*          *00*          *ZZ*PAYERID        *ZZ*PROVIDERID     "
            "*261201*0800*^*00501*000000001*0*P*:~\n"
            "GS*HP*PAYERID*PROVIDERID*20261201*0800*1*X*005010X221A1~\n"
        )
        sets = 0
        number = 0
        while number < claims:
            sets += 1
            in_set = min(CLAIMS_PER_SET, claims - number)
            body: list[str] = []
            total = 0
            for _ in range(in_set):
                number += 1
                lines = []
                charge = paid = 0
                for _ in range(rng.randint(2, 3)):
                    line_charge = rng.randint(2_000, 40_000)
                    co = rng.randint(0, line_charge // 3)
                    pr = min(rng.choice((0, 0, 1_000, 2_000, line_charge)), line_charge - co)
                    line_paid = line_charge - co - pr
                    charge += line_charge
                    paid += line_paid
                    lines.append((rng.choice(procedures), line_charge, line_paid, co, pr))
                patient = sum(line[4] for line in lines)
                total += paid
                body.append(
                    f"CLP*PCN{number:09d}*1*{_cents(charge)}*{_cents(paid)}*{_cents(patient)}"
                    f"*12*PAYER{number:012d}*11*1~"
                )
                body.append(f"NM1*QC*1*PATIENT{number % 997}*FIRST****MI*MEMBER{number:08d}~")
                body.append("DTM*232*20261101~")
                for index, (proc, line_charge, line_paid, co, pr) in enumerate(lines, 1):
                    body.append(f"SVC*HC:{proc}*{_cents(line_charge)}*{_cents(line_paid)}**1~")
                    body.append("DTM*472*20261101~")
                    body.append(f"CAS*CO*45*{_cents(co)}~")
                    if pr:
                        body.append(f"CAS*PR*2*{_cents(pr)}~")
                    body.append(f"REF*6R*L{number:09d}-{index}~")
                    body.append(f"AMT*B6*{_cents(line_charge - co)}~")
            header = [
                f"ST*835*{sets:04d}~",
                f"BPR*I*{_cents(total)}*C*ACH*CCP*01*071000013*DA*123456789*1512345678**01"
                "*111000025*DA*987654321*20261201~",
                f"TRN*1*EFT{sets:09d}*1512345678~",
                "DTM*405*20261130~",
                "N1*PR*EXAMPLE HEALTH PLAN~",
                "N3*PO BOX 1000~",
                "N4*SPRINGFIELD*IL*627010000~",
                "PER*BL*PROVIDER SERVICES*TE*8005550100~",
                "N1*PE*EXAMPLE CLINIC*XX*1234567893~",
                "LX*1~",
            ]
            if not payer_contact:
                header.remove("PER*BL*PROVIDER SERVICES*TE*8005550100~")
            segments = header + body
            out.write("\n".join(segments))
            out.write(f"\nSE*{len(segments) + 1}*{sets:04d}~\n")
        out.write(f"GE*{sets}*1~\nIEA*1*000000001~\n")
    return path.stat().st_size


# -- the readers (each run in a worker subprocess) ------------------------------------------------


def run_gateway(path: Path) -> dict[str, Any]:
    """Our full typed read: every claim built, balanced and summed, streaming."""
    from gateway.models.remittance import Claim
    from gateway.transactions.remittance import iter_remittance
    from gateway.x12 import read_segments

    with path.open("rb") as stream:
        reader = iter_remittance(read_segments(stream))
        claims = sum(1 for item in reader if isinstance(item, Claim))
    return {
        "claims": claims,
        "paid": str(reader.summary.total_paid),
        "balanced": reader.summary.balanced,
        "findings": len(reader.findings),
    }


def run_tokenizer(path: Path) -> dict[str, Any]:
    """The X12 engine alone: located segments, no typing."""
    from gateway.x12 import read_segments

    with path.open("rb") as stream:
        segments = sum(1 for _ in read_segments(stream))
    return {"segments": segments}


def run_split(path: Path) -> dict[str, Any]:
    """Streaming str.split: 1 MiB chunks, segments split on ~, elements on *, CLP04 summed."""
    claims = 0
    paid = Decimal(0)
    rest = ""
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            pieces = (rest + chunk.decode("latin-1")).split("~")
            rest = pieces.pop()
            for piece in pieces:
                elements = piece.strip().split("*")
                if elements[0] == "CLP":
                    claims += 1
                    paid += Decimal(elements[4])
    return {"claims": claims, "paid": str(paid)}


def run_pyx12(path: Path) -> dict[str, Any]:
    """pyx12's X12ContextReader iterating the 2100 claim loops."""
    import logging

    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    logging.getLogger("pyx12").disabled = True
    param = pyx12.params.params()
    errh = pyx12.error_handler.errh_null()
    claims = 0
    with path.open(encoding="ascii") as stream:
        reader = pyx12.x12context.X12ContextReader(param, errh, stream)
        for tree in reader.iter_segments("2100"):
            if tree.id == "2100":
                claims += 1
    return {"claims": claims}


LFH_SCRIPT = """
import sys, time, resource
from linuxforhealth.x12.io import X12ModelReader
start = time.perf_counter()
cpu = time.process_time()
claims = 0
with X12ModelReader(sys.argv[1]) as reader:
    for model in reader.models():
        for loop in getattr(model, "loop_2000", None) or []:
            claims += len(getattr(loop, "loop_2100", None) or [])
print({"seconds": time.process_time() - cpu, "wall": time.perf_counter() - start,
       "claims": claims,
       "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
"""

WORKERS = {
    "gateway": run_gateway,
    "tokenizer": run_tokenizer,
    "split": run_split,
    "pyx12": run_pyx12,
}


def _import_for(name: str) -> None:
    """Import what a reader needs before its clock starts (imports are not reading)."""
    sys.path.insert(0, str(ROOT))
    if name in ("gateway", "tokenizer"):
        import gateway.transactions.remittance  # noqa: F401
    elif name == "pyx12":
        import pyx12.x12context  # noqa: F401


def worker(name: str, path: Path) -> None:
    """Run one reader on one file and print its timing and peak memory as JSON."""
    _import_for(name)
    start = time.perf_counter()
    cpu = time.process_time()
    result = WORKERS[name](path)
    result["seconds"] = time.process_time() - cpu
    result["wall"] = time.perf_counter() - start
    result["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def measure(name: str, path: Path) -> dict[str, Any]:
    """Run a worker subprocess and read its result."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", name, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure_lfh(python: str | None, path: Path) -> dict[str, Any]:
    """linuxforhealth-x12 from its own environment, or why it was skipped."""
    if not python:
        return {"skipped": "no --lfh-python / LFH_PYTHON given"}
    if not Path(python).exists():
        return {"skipped": f"{python} does not exist"}
    try:
        done = subprocess.run(
            [python, "-c", LFH_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
    except subprocess.TimeoutExpired:
        return {"skipped": "timed out after 30 minutes"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["failed"]
        return {"skipped": tail[0][:200]}
    return dict(ast.literal_eval(done.stdout.strip().splitlines()[-1]))


def slice_835(path: Path, claims: int, out: Path) -> int:
    """The first ``claims`` claims of a generated file as a file of their own."""
    return write_835(out, claims)


# -- reporting ------------------------------------------------------------------------------------


def _row(label: str, result: dict[str, Any], size: int, base: float | None) -> str:
    if "seconds" not in result:
        why = result.get("skipped") or result.get("error")
        return f"  {label:<34} skipped: {why}"
    seconds = float(result["seconds"])
    mbs = size / 1e6 / seconds if seconds else float("inf")
    ratio = f"{seconds / base:7.2f}x" if base else "      -"
    peak = int(result.get("peak_kb", 0)) / 1024
    wall = float(result.get("wall", seconds))
    return (
        f"  {label:<34} {seconds:8.2f} s cpu {mbs:7.2f} MB/s {ratio} split"
        f"  peak {peak:6.1f} MB  (wall {wall:.2f} s)"
    )


def main() -> int:
    """Generate the files, run every reader and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--large", action="store_true", help="also 10x --claims (a few minutes)")
    parser.add_argument("--slice-claims", type=int, default=1_000, help="claims for pyx12 / LFH")
    parser.add_argument("--lfh-python", default=os.environ.get("LFH_PYTHON"))
    parser.add_argument("--keep", help="write the generated files here and keep them")
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return 0

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench835-"))
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [10_000, args.claims] + ([args.claims * 10] if args.large else [])
    print(f"835 read benchmark (files in {folder}; {os.cpu_count()} CPUs)")
    flat: list[tuple[int, float]] = []
    big_ratio = None
    for claims in sizes:
        path = folder / f"835-{claims}.x12"
        started = time.perf_counter()
        size = write_835(path, claims)
        print(
            f"\n{claims:,} claims, {size / 1e6:.1f} MB "
            f"(generated in {time.perf_counter() - started:.1f} s)"
        )
        split = measure("split", path)
        ours = measure("gateway", path)
        tokens = measure("tokenizer", path)
        base = float(split["seconds"]) if "seconds" in split else None
        print(_row("str.split baseline (streaming)", split, size, base))
        print(_row("gateway tokenizer only", tokens, size, base))
        print(_row("gateway typed claims + balancing", ours, size, base))
        if "seconds" in ours:
            same = (ours["claims"], ours["paid"]) == (split.get("claims"), split.get("paid"))
            print(
                f"  claims {ours['claims']:,}, paid {ours['paid']}, balanced {ours['balanced']}, "
                f"agrees with split baseline: {same}"
            )
            flat.append((size, int(ours["peak_kb"]) / 1024))
        if claims == args.claims:
            sliced = folder / f"835-slice-{args.slice_claims}.x12"
            slice_size = slice_835(path, args.slice_claims, sliced)
            ours_slice = measure("gateway", sliced)
            pyx12 = measure("pyx12", sliced)
            lfh_slice = folder / f"835-slice-lfh-{args.slice_claims}.x12"
            write_835(lfh_slice, args.slice_claims, payer_contact=False)
            lfh = measure_lfh(args.lfh_python, lfh_slice)
            print(f"  on a {args.slice_claims:,}-claim slice ({slice_size / 1e6:.2f} MB):")
            print(_row("gateway typed claims + balancing", ours_slice, slice_size, None))
            print(_row("pyx12 X12ContextReader (2100 loops)", pyx12, slice_size, None))
            print(_row("linuxforhealth-x12 X12ModelReader", lfh, slice_size, None))
            if "seconds" in ours and base:
                big_ratio = float(ours["seconds"]) / base
            for label, other in (("pyx12", pyx12), ("linuxforhealth-x12", lfh)):
                if "seconds" in other and "seconds" in ours_slice:
                    speedup = float(other["seconds"]) / float(ours_slice["seconds"])
                    line = f"  gateway is {speedup:,.0f}x faster than {label} on the same slice"
                    if "seconds" in ours:
                        # their rate on the slice, scaled to the whole file, against ours on it
                        scaled = float(other["seconds"]) * size / slice_size
                        line += f", {scaled / float(ours['seconds']):,.0f}x scaled to this file"
                    print(line)
    print("\nTargets: at most 4x the split baseline; at least 50x pyx12's context reader.")
    if big_ratio is not None:
        print(f"  gateway / split at {args.claims:,} claims: {big_ratio:.2f}x")
    if len(flat) >= 2:
        print(
            "  peak memory by file size: "
            + ", ".join(f"{size / 1e6:.0f} MB -> {peak:.0f} MB" for size, peak in flat)
        )
    if not args.keep:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
