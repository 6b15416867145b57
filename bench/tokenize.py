"""Tokenizer benchmark: ours vs the streaming str.split baseline vs pyx12's X12Reader.

Generates an 835 and an 837P of 100,000 claims (about 40 MB each), reads each with all three in the
same run, and prints MB/s, the ratios, and peak memory (each reader runs in its own subprocess, so
its peak resident size is its own). ``--large`` adds files ten times larger (about 400 MB) to show
memory staying flat; ``--pyx12-claims`` bounds the slice pyx12 reads (it is slow), scaled to MB/s.

    python bench/tokenize.py [--claims 100000] [--large] [--pyx12-claims 20000]
"""

from __future__ import annotations

import os
import sys

# This file shares its name with the standard library's tokenize module: run as a script, its own
# folder must not shadow the standard library, so the repository root takes its place on the path.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from bench._generate import write  # noqa: E402

CHUNK = 1 << 16


def run_ours(path: str) -> int:
    from gateway.x12 import read_segments
    from gateway.x12.tokenizer import PURE_PYTHON_ENV, use_accelerated

    if os.environ.get(PURE_PYTHON_ENV):  # the documented switch: the pure-Python reference
        use_accelerated(False)

    count = 0
    with open(path, "rb") as stream:
        for segment in read_segments(stream):
            _ = segment.elements  # materialized already; touched as a consumer would
            count += 1
    return count


def run_split(path: str) -> int:
    count = 0
    rest = ""
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            text = rest + chunk.decode("latin-1")
            pieces = text.split("~")
            rest = pieces.pop()
            for piece in pieces:
                piece.split("*")
                count += 1
    return count


def run_pyx12(path: str) -> int:
    from pyx12.x12file import X12Reader

    count = 0
    with open(path, encoding="latin-1") as stream:
        for _segment in X12Reader(stream):
            count += 1
    return count


RUNNERS = {"ours": run_ours, "split": run_split, "pyx12": run_pyx12}


def child(name: str, path: str) -> None:
    """Run one reader in this process and print its timing and peak memory as JSON."""
    import resource

    start = time.perf_counter()
    cpu = time.process_time()
    segments = RUNNERS[name](path)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"segments": segments, "wall": wall, "cpu": cpu, "peak_mib": peak_kib / 1024}))


def measure(name: str, path: Path, repeat: int) -> dict[str, float]:
    best: dict[str, float] | None = None
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out)
        if best is None or result["cpu"] < best["cpu"]:
            best = result
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--pyx12-claims", type=int, default=20_000)
    parser.add_argument("--large", action="store_true", help="also 10x larger files (memory)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (CPU time)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        sizes = [args.claims] + ([args.claims * 10] if args.large else [])
        print(f"{'file':<22}{'reader':<8}{'MB':>8}{'MB/s':>9}{'x split':>9}{'peak MiB':>10}")
        for kind in ("835", "837P"):
            for claims in sizes:
                path = Path(tmp) / f"{kind}-{claims}.x12"
                size = write(path, kind, claims) / 1e6
                results = {name: measure(name, path, args.repeat) for name in ("split", "ours")}
                if claims == args.claims:
                    slice_path = Path(tmp) / f"{kind}-{args.pyx12_claims}.x12"
                    slice_size = write(slice_path, kind, args.pyx12_claims) / 1e6
                    pyx = measure("pyx12", slice_path, 1)
                    pyx["cpu"] *= size / slice_size  # scaled to the full file
                    results["pyx12"] = pyx
                base = results["split"]["cpu"]
                for name, r in results.items():
                    print(
                        f"{path.name:<22}{name:<8}{size:>8.1f}{size / r['cpu']:>9.1f}"
                        f"{r['cpu'] / base:>9.2f}{r['peak_mib']:>10.1f}"
                    )
                if "pyx12" in results:
                    ratio = results["pyx12"]["cpu"] / results["ours"]["cpu"]
                    print(f"{'':<22}ours is {ratio:.1f}x faster than pyx12's X12Reader")
                path.unlink()


if __name__ == "__main__":
    main()
