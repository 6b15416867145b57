"""Benchmark: peak memory of encounter intake against file size, streamed versus whole-file.

For each size a JSON Lines file of generated encounters (the professional sample, unique claim
ids) is taken in by a fresh process over a fresh SQLite workspace, two ways in the same run:

- ``streamed``: the service's path (``Service.take``): hashed in chunks, read one encounter at a
  time, claims recorded ``BATCH_CLAIMS`` per ledger transaction;
- ``whole-file``: the path before (the baseline): the file's bytes read whole, every claim parsed
  into one list, recorded in one call.

Each prints the peak resident set size (``ru_maxrss``) of its process, and the growth over the
process's size before the file was touched; the ratio is whole-file / streamed growth.

    .venv/bin/python bench/intake_memory.py [--sizes 10,50,100] [--keep DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

PARTNER = (ROOT / "config" / "partners" / "demo-clearinghouse.toml").read_text()
SAMPLE = json.loads((ROOT / "samples" / "encounters" / "professional-self.json").read_text())
MB = 1 << 20


def write_encounters(path: Path, megabytes: int) -> int:
    """A JSON Lines file of about ``megabytes`` MB; returns how many encounters it holds."""
    target = megabytes * MB
    written = n = 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            n += 1
            data = dict(SAMPLE)
            data["claim_id"] = f"BENCH-{n:07d}"
            data["service_lines"] = [
                {**line, "line_id": f"B{n:07d}-{i}"}
                for i, line in enumerate(SAMPLE["service_lines"], start=1)
            ]
            text = json.dumps(data) + "\n"
            out.write(text)
            written += len(text)
    return n


def workspace(root: Path) -> Path:
    """A workspace like the tests' (demo partner, polling, settle 0); returns its config."""
    (root / "partners").mkdir(parents=True, exist_ok=True)
    (root / "partners" / "demo-clearinghouse.toml").write_text(PARTNER)
    config = root / "gateway.toml"
    config.write_text(
        '[workspace]\nroot = "."\n'
        "[intake]\nsettle_seconds = 0.0\nmax_file_bytes = 1073741824\n"
        'watcher = "polling"\n[logging]\nformat = "json"\nlevel = "warning"\n'
    )
    return config


def rss_mb() -> float:
    """The peak resident set size of this process so far, in MB (Linux: ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """The resident set size of this process now, in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / MB


async def streamed(config: Path, source: Path) -> int:
    """Take the file through the service (the new path); returns the claims recorded."""
    from gateway.config import load_settings
    from gateway.service.pipeline import Service

    service = await Service.open(load_settings(config, environ={}))
    try:
        inbox = service.settings.workspace.encounters_inbox
        target = inbox / source.name
        source.rename(target)
        await service.take(target)
        return sum((await service.ledger.status()).counts.values())
    finally:
        await service.close()


async def whole_file(config: Path, source: Path) -> int:
    """Take the file the way intake did before: all bytes, all claims, one call."""
    from gateway.config import load_settings
    from gateway.ledger.store import Ledger
    from gateway.service.intake import parse_encounter_file

    settings = load_settings(config, environ={})
    settings.workspace.create()
    partners = settings.load_partners()
    ledger = await Ledger.open(settings.ledger_url)
    try:
        data = source.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        record = await ledger.record_file(digest, source.name, "encounters", size=len(data))
        parsed = await asyncio.to_thread(parse_encounter_file, data, source.name, partners)
        await ledger.record_claims(parsed.claims, file_id=record.id, origin="intake")
        return sum((await ledger.status()).counts.values())
    finally:
        await ledger.close()


def child(mode: str, config: Path, source: Path) -> None:
    """Run one intake and print its measurements as JSON (a fresh process per measurement)."""
    import gateway.service.pipeline  # noqa: F401  (imports are not the file's memory)
    from gateway.logs import configure_logging

    configure_logging(log_format="json", level="warning", stream=sys.stderr)
    before = current_rss_mb()
    start = time.perf_counter()
    run = streamed if mode == "streamed" else whole_file
    claims = asyncio.run(run(config, source))
    print(
        json.dumps(
            {
                "claims": claims,
                "seconds": round(time.perf_counter() - start, 1),
                "start_mb": round(before, 1),
                "peak_mb": round(rss_mb(), 1),
            }
        )
    )


def measure(mode: str, megabytes: int, folder: Path) -> dict[str, float]:
    """One measurement in a fresh process over a fresh workspace."""
    root = folder / f"{mode}-{megabytes}"
    config = workspace(root)
    source = root / f"encounters-{megabytes}mb.jsonl"
    write_encounters(source, megabytes)
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(config), str(source)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Measure each size both ways and print a table with the ratio of memory growth."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,50,100", help="file sizes in MB")
    parser.add_argument("--keep", type=Path, help="keep the workspaces in this folder")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "CONFIG", "FILE"), help="internal")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="intake-memory-"))
    print(f"{'file':>8} {'claims':>8} {'path':>11} {'peak RSS':>9} {'growth':>8} {'seconds':>8}")
    for megabytes in sizes:
        growth: dict[str, float] = {}
        for mode in ("streamed", "whole-file"):
            m = measure(mode, megabytes, folder)
            growth[mode] = m["peak_mb"] - m["start_mb"]
            print(
                f"{megabytes:>6}MB {int(m['claims']):>8} {mode:>11} {m['peak_mb']:>7.0f}MB "
                f"{growth[mode]:>6.0f}MB {m['seconds']:>8.1f}"
            )
        ratio = growth["whole-file"] / max(growth["streamed"], 1.0)
        print(f"{'':>8} whole-file / streamed growth: {ratio:.1f}x")
    if args.keep is None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
