"""Benchmark: peak memory of pulling a response from a transport and applying it, in one run.

Pulling: an 835 of each size (synthetic, balanced, 5,000 claims per transaction set; written by
``bench/parse_835.py``) waits in a directory transport's drop folder and is pulled into the
responses inbox by each way below, each in its own subprocess so its peak memory (``ru_maxrss``)
is its own:

- ``pull``: ``pull_responses`` as it is now: streamed into a temp file in 1 MiB chunks
  (``Transport.fetch_to``), fsynced, renamed, then marked fetched.
- ``pull-bytes``: the approach it replaced (the baseline): ``Transport.fetch`` returns the whole
  file, ``write_new_file`` writes it, then it is marked fetched.
- ``pull+apply`` / ``pull-bytes+apply``: the same pull, then the service applies the stored file
  (``Service.take``: pass 1 and pass 2, streamed) to a ledger in which every claim was submitted;
  only up to ``--apply-max-mb`` (applying is minutes per 100 MB on a busy machine).
- ``idle``: the same imports and an open ledger, doing nothing (the floor).

277CA: a 277CA of each ``--ack-claims`` size (synthetic, 5,000 claims per set) applied by the
service (``277ca``: claims in batches of ``BATCH_CLAIMS``) and by the replaced approach
(``277ca-whole``: the document read whole and applied in one ledger transaction), each on a
fresh copy of a ledger in which the claims were submitted.

    .venv/bin/python bench/pull_memory.py [--mb 50,150,400] [--apply-max-mb 50]
        [--ack-claims 50000,200000] [--keep DIR]
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
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench.parse_835 import write_835  # noqa: E402
from bench.response_memory import _checkpoint, _config, _prepare_ledger  # noqa: E402

MIB = 1024 * 1024
#: Bytes per claim of the generated 835 (measured; sizes are asked in MB).
_BYTES_PER_CLAIM = 404
_ACK_CLAIMS_PER_SET = 5000


def write_277ca(path: Path, claims: int) -> int:
    """A 277CA (005010X214) accepting claims PCN000000001.. (5,000 a set); returns its size."""
    sets = (claims + _ACK_CLAIMS_PER_SET - 1) // _ACK_CLAIMS_PER_SET
    with path.open("w", encoding="ascii", newline="") as out:
        out.write(
            "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*SUBMITTER      "
            "*261121*0800*^*00501*000000777*0*T*:~\n"
            "GS*HN*CLEARINGHOUSE*SUBMITTER*20261121*0800*777*X*005010X214~\n"
        )
        for s in range(sets):
            first = s * _ACK_CLAIMS_PER_SET + 1
            numbers = range(first, min(claims, first + _ACK_CLAIMS_PER_SET - 1) + 1)
            control = f"{s + 1:04d}"
            body = [
                f"ST*277*{control}*005010X214",
                f"BHT*0085*08*TRACE{s}*20261121*0800*TH",
                "HL*1**20*1",
                "NM1*AY*2*BENCH CLEARINGHOUSE*****46*CH0001",
                f"TRN*1*TRACE{s}",
                "DTP*050*D8*20261121",
                "DTP*009*D8*20261121",
                "HL*2*1*21*1",
                "NM1*41*2*BENCH SUBMITTER*****46*SUB0001",
                f"TRN*2*{first}",
                f"STC*A1:19*20261121*WQ*{100 * len(numbers)}.00",
                f"QTY*90*{len(numbers)}",
                f"AMT*YU*{100 * len(numbers)}.00",
                "HL*3*2*19*1",
                "NM1*85*2*BENCH CLINIC*****XX*1234567893",
                f"TRN*1*TRACE{s}-3",
                f"STC*A1:19:85**WQ*{100 * len(numbers)}.00",
                f"QTY*QA*{len(numbers)}",
                f"AMT*YU*{100 * len(numbers)}.00",
            ]
            for hl, n in enumerate(numbers, start=4):
                body += [
                    f"HL*{hl}*3*PT",
                    f"NM1*QC*1*DOE*JANE****MI*M{n:010d}",
                    f"TRN*2*PCN{n:09d}",
                    "STC*A1:20*20261121*WQ*100.00",
                    f"REF*D9*CH{n:012d}",
                    "DTP*472*D8*20261101",
                ]
            body.append(f"SE*{len(body) + 1}*{control}")
            out.write("".join(segment + "~\n" for segment in body))
        out.write(f"GE*{sets}*777~\nIEA*1*000000777~\n")
    return path.stat().st_size


# -- the ways (each in a worker subprocess) -------------------------------------------------------


def _transport(root: Path) -> Any:
    from gateway.service.transports import DirectoryTransport

    return DirectoryTransport(root / "pickup", root / "drop", max_bytes=4 << 30)


async def _pull(root: Path, *, old: bool) -> Path:
    from gateway.service.files import write_new_file
    from gateway.service.transports import pull_responses

    inbox = root / "inbox" / "responses"
    inbox.mkdir(parents=True, exist_ok=True)
    transport = _transport(root)
    if not old:
        (stored,) = await pull_responses(transport, inbox)
        return stored
    (name,) = await transport.list_responses()
    data = await transport.fetch(name)  # the replaced path: the whole file in memory
    stored = await asyncio.to_thread(write_new_file, inbox, name, data)
    await transport.mark_fetched(name)
    return stored


async def _apply(root: Path, path: Path) -> dict[str, Any]:
    from gateway.config import load_settings
    from gateway.service.pipeline import Service

    svc = await Service.open(load_settings(root / "gateway.toml", environ={}))
    try:
        await svc.take(path)
        return {"state_changes": svc.stats.state_changes}
    finally:
        await svc.close()


async def _idle(root: Path) -> dict[str, Any]:
    from gateway.config import load_settings
    from gateway.ledger.store import Ledger
    from gateway.service.pipeline import Service  # noqa: F401  (the same imports)
    from gateway.service.transports import pull_responses  # noqa: F401

    ledger = await Ledger.open(load_settings(root / "gateway.toml", environ={}).ledger_url)
    await ledger.close()
    return {"state_changes": 0}


async def _ack_whole(root: Path, path: Path) -> dict[str, Any]:
    """The replaced 277CA path: the document read whole, applied in one ledger transaction."""
    from gateway.config import load_settings
    from gateway.ledger.reconcile import responses_in
    from gateway.ledger.store import Ledger
    from gateway.service.files import sha256_file_sync
    from gateway.transactions.claim_ack import read_claim_acknowledgement
    from gateway.x12 import read_segments

    settings = load_settings(root / "gateway.toml", environ={})
    with path.open("rb") as stream:
        document = read_claim_acknowledgement(read_segments(stream))
    ledger = await Ledger.open(settings.ledger_url)
    try:
        result = await ledger.apply_response(
            responses_in(document), content_hash=sha256_file_sync(path), kind="277CA"
        )
    finally:
        await ledger.close()
    return {"state_changes": result.state_changes}


async def _way(way: str, root: Path) -> dict[str, Any]:
    idle = await _idle(root)  # every way pays the same floor: imports and an open ledger
    if way == "idle":
        return idle
    if way.startswith("277ca"):
        (path,) = (root / "inbox" / "responses").iterdir()
        if way == "277ca":
            return await _apply(root, path)
        return await _ack_whole(root, path)
    stored = await _pull(root, old=way.startswith("pull-bytes"))
    if way.endswith("+apply"):
        return await _apply(root, stored)
    return {"state_changes": 0}


def _worker(way: str, root: Path) -> None:
    started = time.process_time()
    wall = time.perf_counter()
    result = asyncio.run(_way(way, root))
    result["cpu_seconds"] = time.process_time() - started
    result["wall_seconds"] = time.perf_counter() - wall
    result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def _run(way: str, workdir: Path, template: Path) -> dict[str, Any]:
    """``way`` in a subprocess on a fresh copy of the prepared workspace (a copy, not a hard
    link: the gateway takes only files with one name)."""
    run_dir = workdir / f"run-{way}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    shutil.copytree(template, run_dir)
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", way, str(run_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{way} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(run_dir)
    return result


def _template(workdir: Path, label: str, claims: int) -> Path:
    template = workdir / f"workspace-{label}"
    if template.exists():
        shutil.rmtree(template)
    config = _config(template)
    for folder in ("pickup", "drop", "inbox/responses"):
        (template / folder).mkdir(parents=True, exist_ok=True)
    if claims:
        asyncio.run(_prepare_ledger(config, claims))
        _checkpoint(template / "state" / "gateway.db")
    return template


def _line(label: str, size: int, way: str, result: dict[str, Any], idle: float) -> float:
    peak = result["peak_rss_kib"] / 1024
    over = peak - idle if way != "idle" else 0.0
    print(
        f"{label:>10} {size / MIB:>8.1f} {way:<17} {peak:>8.1f} {over:>9.1f} "
        f"{over / (size / MIB):>7.2f} {result['cpu_seconds']:>7.1f} {result['state_changes']:>8}",
        flush=True,
    )
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", default="50,150,400", help="835 sizes to pull, in MB")
    parser.add_argument("--apply-max-mb", type=float, default=50, metavar="MB",
                        help="also apply the pulled 835 up to this size")  # fmt: skip
    parser.add_argument("--ack-claims", default="50000,200000", help="277CA sizes, in claims")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep the files")
    parser.add_argument("--worker", nargs=2, metavar=("WAY", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        way, root = args.worker
        _worker(way, Path(root))
        return
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-pull-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"{'size':>10} {'file MB':>8} {'way':<17} {'peak MB':>8} {'over idle':>9} "
        f"{'x file':>7} {'CPU s':>7} {'changes':>8}"
    )
    try:
        for mb in (float(n) for n in args.mb.split(",") if n.strip()):
            claims = max(1, int(mb * MIB / _BYTES_PER_CLAIM))
            applying = mb <= args.apply_max_mb
            template = _template(workdir, f"{mb:g}", claims if applying else 0)
            size = write_835(template / "drop" / "835.x12", claims)
            ways = ["idle", "pull", "pull-bytes"]
            ways += ["pull+apply", "pull-bytes+apply"] if applying else []
            idle = 0.0
            for way in ways:
                peak = _line(f"{mb:g} MB", size, way, _run(way, workdir, template), idle)
                idle = peak if way == "idle" else idle
            if not args.keep:
                shutil.rmtree(template)
        for claims in (int(n) for n in args.ack_claims.split(",") if n.strip()):
            template = _template(workdir, f"277-{claims}", claims)
            size = write_277ca(template / "inbox" / "responses" / "277ca.x12", claims)
            idle = 0.0
            for way in ("idle", "277ca", "277ca-whole"):
                peak = _line(f"{claims} cl", size, way, _run(way, workdir, template), idle)
                idle = peak if way == "idle" else idle
            if not args.keep:
                shutil.rmtree(template)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
