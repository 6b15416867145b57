"""Benchmark: peak memory of applying an 835 to the ledger, against its size, in one run.

For each size, a workspace and a SQLite ledger are prepared in which every claim of the generated
835 (synthetic, balanced, 5,000 claims per transaction set; ``bench/parse_835.py`` writes it) was
submitted, so the file's claims match and move to paid. Each way of applying it then runs in its
own subprocess on a fresh copy of that ledger, so its peak memory (``ru_maxrss``) is its own:

- ``service``: the service's response path as it is now (``Service.take`` on the file in the
  responses inbox): hashed streaming, pass 1 (envelopes, balancing, TR3 validation) and pass 2
  (claims posted in batches) each streamed.
- ``whole-file``: the approach it replaced (the baseline): the file read into memory, every
  document read whole (``read_response_file``, TR3 validation on the bytes) and applied in one
  ledger transaction. It grows with the file, so it runs only up to ``--baseline-max`` claims.
- ``idle``: the same imports and an open ledger, applying nothing (the floor of both).

    .venv/bin/python bench/response_memory.py [--claims 10000,40000,160000] [--baseline-max N]
        [--large] [--keep DIR]

``--large`` adds 1,000,000 claims (about 400 MB; the service path only; many minutes).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where a bench module may shadow the
# standard library (bench/tokenize.py shadows tokenize): read from the project root instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from bench.parse_835 import CLAIMS_PER_SET, write_835  # noqa: E402

PARTNER = ROOT / "config" / "partners" / "demo-clearinghouse.toml"
MIB = 1024 * 1024


def _config(root: Path) -> Path:
    (root / "partners").mkdir(parents=True, exist_ok=True)
    shutil.copy(PARTNER, root / "partners" / PARTNER.name)
    config = root / "gateway.toml"
    config.write_text(
        '[workspace]\nroot = "."\n'
        '[intake]\nsettle_seconds = 0.0\nwatcher = "polling"\n'
        "max_response_bytes = 4294967296\n"
        '[logging]\nformat = "json"\nlevel = "warning"\n'
    )
    return config


async def _prepare_ledger(config: Path, claims: int) -> None:
    """Record ``claims`` claims PCN000000001.. and submit them (what the 835 pays)."""
    from gateway.config import load_settings
    from gateway.ledger.records import (
        ClaimSent,
        GroupSent,
        IncomingClaim,
        SetSent,
        SubmissionIntent,
    )
    from gateway.ledger.store import Ledger

    settings = load_settings(config, environ={})
    settings.workspace.state.mkdir(parents=True, exist_ok=True)
    ledger = await Ledger.open(settings.ledger_url)
    try:
        for start in range(1, claims + 1, CLAIMS_PER_SET):
            numbers = range(start, min(claims, start + CLAIMS_PER_SET - 1) + 1)
            ids = [f"PCN{n:09d}" for n in numbers]
            await ledger.record_claims(
                [
                    IncomingClaim(
                        i,
                        "professional",
                        "demo-clearinghouse",
                        "87726",
                        Decimal("100.00"),
                        {"claim_id": i},
                    )
                    for i in ids
                ]
            )
            isa13 = f"{start:09d}"
            intent = SubmissionIntent(
                "demo-clearinghouse",
                "837P",
                isa13,
                f"bench-{isa13}.x12",
                (GroupSent(str(start), (SetSent("0001", tuple(ClaimSent(i) for i in ids)),)),),
            )
            await ledger.record_submission_success(await ledger.record_submission_intent(intent))
    finally:
        await ledger.close()


# -- the ways of applying (each in a worker subprocess) -------------------------------------------


async def _service(config: Path, path: Path) -> dict[str, Any]:
    from gateway.config import load_settings
    from gateway.service.pipeline import Service

    settings = load_settings(config, environ={})
    target = settings.workspace.responses_inbox / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, target)
    svc = await Service.open(settings)
    try:
        await svc.take(target)
        return {"state_changes": svc.stats.state_changes, "held": svc.stats.held_files}
    finally:
        await svc.close()


async def _whole_file(config: Path, path: Path) -> dict[str, Any]:
    """The replaced approach: the file in memory, documents read whole, one transaction each."""
    import hashlib

    from gateway.config import load_settings
    from gateway.ledger.reconcile import responses_in
    from gateway.ledger.store import Ledger
    from gateway.service.responses import document_hash, read_response_file

    settings = load_settings(config, environ={})
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    found = await asyncio.to_thread(read_response_file, data, path.name)
    ledger = await Ledger.open(settings.ledger_url)
    changes = 0
    try:
        for index, document in enumerate(found.documents):
            kind = found.kinds[index]
            result = await ledger.apply_response(
                responses_in(document), content_hash=document_hash(digest, index, kind), kind=kind
            )
            changes += result.state_changes
    finally:
        await ledger.close()
    return {"state_changes": changes, "held": 0}


async def _idle(config: Path, path: Path) -> dict[str, Any]:
    from gateway.config import load_settings
    from gateway.ledger.store import Ledger
    from gateway.service.pipeline import Service  # noqa: F401  (the same imports)
    from gateway.service.responses import read_response_file  # noqa: F401

    ledger = await Ledger.open(load_settings(config, environ={}).ledger_url)
    await ledger.close()
    return {"state_changes": 0, "held": 0}


WAYS = {"service": _service, "whole-file": _whole_file, "idle": _idle}


def _worker(way: str, config: Path, path: Path) -> None:
    started = time.process_time()
    wall = time.perf_counter()
    result = asyncio.run(WAYS[way](config, path))
    result["cpu_seconds"] = time.process_time() - started
    result["wall_seconds"] = time.perf_counter() - wall
    result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def _run(way: str, workdir: Path, template: Path, path: Path) -> dict[str, Any]:
    """``way`` in a subprocess on a fresh copy of the prepared workspace."""
    run_dir = workdir / f"run-{way}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    shutil.copytree(template, run_dir)
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", way, str(run_dir / "gateway.toml"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{way} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(run_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", default="10000,40000,160000", help="sizes, in claims")
    parser.add_argument("--baseline-max", type=int, default=40_000, metavar="N",
                        help="run the whole-file baseline up to this many claims")  # fmt: skip
    parser.add_argument("--large", action="store_true", help="add 1,000,000 claims")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep the files")
    parser.add_argument("--worker", nargs=3, metavar=("WAY", "CONFIG", "FILE"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.worker:
        way, config, path = args.worker
        _worker(way, Path(config), Path(path))
        return
    sizes = [int(n) for n in args.claims.split(",") if n.strip()]
    if args.large:
        sizes.append(1_000_000)
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-responses-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"{'claims':>9} {'file MB':>8} {'way':<11} {'peak MB':>8} {'over idle':>9} "
        f"{'x file':>7} {'CPU s':>7} {'changes':>8}"
    )
    try:
        for claims in sizes:
            path = workdir / f"835-{claims}.x12"
            size = write_835(path, claims)
            template = workdir / f"workspace-{claims}"
            if template.exists():
                shutil.rmtree(template)
            config = _config(template)
            asyncio.run(_prepare_ledger(config, claims))
            _checkpoint(template / "state" / "gateway.db")
            ways = ["idle", "service"] + (["whole-file"] if claims <= args.baseline_max else [])
            idle = 0.0
            for way in ways:
                result = _run(way, workdir, template, path)
                peak = result["peak_rss_kib"] / 1024
                if way == "idle":
                    idle = peak
                over = peak - idle
                print(
                    f"{claims:>9} {size / MIB:>8.1f} {way:<11} {peak:>8.1f} {over:>9.1f} "
                    f"{over / (size / MIB):>7.2f} {result['cpu_seconds']:>7.1f} "
                    f"{result['state_changes']:>8}",
                    flush=True,
                )
            if not args.keep:
                shutil.rmtree(template)
                path.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _checkpoint(database: Path) -> None:
    """Fold the WAL into the database file, so a copy of the folder is the whole ledger."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


if __name__ == "__main__":
    main()
