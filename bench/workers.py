"""Benchmark: claims per second end to end with several gateway workers, and the harness for it.

A workspace made like ``gateway demo``'s (the demo partner, its directory transport), generated
encounters (``gateway.demo.demo_encounters``: professional and institutional claims, some
the scrubber refuses) dropped into the inbox in files of 500, then ``gateway run --worker-id wN``
processes: 1, 2 and 4 of them on one PostgreSQL database, and 1 on SQLite, in the same run. The
clock runs from the moment the files are dropped until every clean claim is in an 837 handed to
the clearinghouse folder ("dropped to 837 written"); no simulator runs, so the workers have the
machine to themselves. Each run is audited: every claim in exactly one 837, control numbers unique.

Where the time goes: the seconds until every claim is recorded (intake: read, scrub, record) versus
the rest (lease, build, TR3 check, stage, hand over); the CPU seconds the workers and the
PostgreSQL server used (from /proc), against the wall-clock seconds; and the machine's load average,
since a shared machine's other work shows up as waiting.

    .venv/bin/python bench/workers.py [--claims 4000] [--workers 1,2,4] [--no-sqlite]
        [--keep DIR]      (PostgreSQL: GATEWAY_TEST_POSTGRES_URL, default 127.0.0.1:5432/test)

The module doubles as the harness of ``tests/e2e/test_workers_multi.py`` (``Cluster``, ``audit``).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where a bench module may shadow the
# standard library (bench/tokenize.py shadows tokenize): read from the project root instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import IO, Any  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from gateway.demo import SETTLED, demo_encounters, prepare_workspace  # noqa: E402
from gateway.ledger.store import sqlalchemy_url  # noqa: E402
from gateway.x12 import read_segments  # noqa: E402

__all__ = ["Audit", "Cluster", "audit", "ledger_counts"]

GATEWAY = str(Path(sys.executable).parent / "gateway")
_SETTLED = frozenset(s.value for s in SETTLED)
_CLM = re.compile(rb"~\s*CLM\*")


@dataclass
class Cluster:
    """A shared workspace, one ledger URL, and the worker and simulator processes running on it."""

    root: Path
    ledger_url: str
    config: Path = field(init=False)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, IO[bytes]] = field(default_factory=dict)
    claim_ids: list[str] = field(default_factory=list)
    dropped_at: float = 0.0

    def __post_init__(self) -> None:
        self.config = prepare_workspace(self.root)
        # Bigger batches than the demo's (fewer, larger 837s), and the polling watcher, which
        # sees files on any shared folder (several workers may sit on several machines).
        text = self.config.read_text()
        text = text.replace("max_claims = 100", "max_claims = 500")
        self.config.write_text(text)
        (self.root / "logs").mkdir(exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        """The environment every process gets: the ledger URL overrides the settings file."""
        return {
            **os.environ,
            "GATEWAY_LEDGER_URL": self.ledger_url,
            "GATEWAY_CRASH_AT": "",
            "GATEWAY_LOG_LEVEL": "info",
        }

    def drop(self, count: int, *, per_file: int = 500) -> int:
        """Drop ``count`` generated encounters in files of ``per_file``; returns files dropped."""
        inbox = self.root / "inbox" / "encounters"
        inbox.mkdir(parents=True, exist_ok=True)
        generated = demo_encounters(count)
        self.claim_ids = [e["claim_id"] for e in generated]
        self.dropped_at = time.monotonic()
        files = 0
        for start in range(0, len(generated), per_file):
            chunk = generated[start : start + per_file]
            temp = inbox / f".part-{files:04d}.tmp"
            temp.write_text("".join(json.dumps(e) + "\n" for e in chunk))
            temp.rename(inbox / f"encounters-{files:04d}.jsonl")
            files += 1
        return files

    def _start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.root / "logs" / f"{name}.log").open("ab")
        self.logs[name] = log
        process = subprocess.Popen(
            [GATEWAY, *args, "--config", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        self.processes[name] = process
        return process

    def start_worker(self, worker_id: str) -> subprocess.Popen[bytes]:
        """``gateway run --worker-id worker_id`` on the shared workspace and ledger."""
        return self._start(worker_id, ["run", "--worker-id", worker_id])

    def start_simulator(self) -> subprocess.Popen[bytes]:
        """``gateway simulate`` answering every 837 at once (no delays)."""
        return self._start(
            "simulator", ["simulate", "--no-delays", "--interval", "0.1", "--settle", "0"]
        )

    def started(self, name: str) -> bool:
        """Whether the process logged that it is up (a worker: "service started")."""
        path = self.root / "logs" / f"{name}.log"
        wanted = b"service started" if name != "simulator" else b"watching"
        return path.is_file() and wanted in path.read_bytes()

    def wait_started(self, timeout: float = 60) -> None:
        """Wait until every process is up (``RuntimeError`` when one ended instead)."""

        def up() -> bool:
            if self.exited():
                raise RuntimeError(f"ended at start: {self.exited()}")
            return all(self.started(name) for name in self.processes)

        wait_for(up, timeout, 0.1)

    def kill(self, name: str) -> None:
        """SIGKILL one process (as a crash or ``kill -9`` would) and reap it."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(30)

    def stop(self) -> dict[str, int]:
        """SIGTERM every process still running; their exit codes."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()
        self.processes.clear()
        for log in self.logs.values():
            log.close()
        self.logs.clear()
        return codes

    def exited(self) -> dict[str, int]:
        """Processes that ended on their own, with their exit codes."""
        return {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}

    def log_tail(self, name: str, lines: int = 30) -> str:
        """The end of one process's log (for assertion messages)."""
        path = self.root / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # ------------------------------------------------------------------ observing

    def sent_files(self) -> Iterator[Path]:
        """Every 837 handed to the clearinghouse: waiting in its pickup, or picked up."""
        for folder in (self.root / "clearinghouse" / "pickup", self.root / "state/simulator"):
            if folder.is_dir():
                for path in folder.rglob("*.x12"):
                    if path.is_file() and not path.name.startswith("."):
                        yield path

    def claims_sent(self) -> int:
        """How many claims the 837s handed over carry (a cheap count of CLM segments; the demo
        partner ends segments with ``~`` and a line break)."""
        return sum(len(_CLM.findall(p.read_bytes())) for p in self.sent_files())

    def files_in_flight(self) -> list[Path]:
        """Files not yet done with: inboxes, processing and staging folders, the drop folder."""
        folders = [
            self.root / "inbox" / "encounters",
            self.root / "inbox" / "responses",
            self.root / "state" / "processing",
            self.root / "state" / "outgoing",
            self.root / "clearinghouse" / "pickup",
            self.root / "clearinghouse" / "drop",
            self.root / "state" / "simulator" / "incoming",
            self.root / "state" / "simulator" / "pending",
        ]
        found = []
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in folder.rglob("*"):
                if path.is_file() and not path.name.startswith(".") and "fetched" not in path.parts:
                    found.append(path)
        return found


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.25) -> float:
    """Poll ``predicate`` until true; the seconds it took (``TimeoutError`` after ``timeout``)."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not reached within {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - started


async def _query(url: str, statements: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.connect() as conn:
            return {
                name: [tuple(r) for r in (await conn.execute(sa.text(sql))).all()]
                for name, sql in statements.items()
            }
    finally:
        await engine.dispose()


def query(url: str, statements: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """Run read-only SQL on the ledger at ``url`` (from synchronous code)."""
    return asyncio.run(_query(url, statements))


@contextmanager
def postgres_database(prefix: str = "gateway_workers") -> Iterator[str]:
    """A fresh PostgreSQL database for one run (``gateway.ledger.testing``), dropped after."""
    from gateway.ledger.testing import fresh_postgres_database

    manager = fresh_postgres_database(prefix)
    loop = asyncio.new_event_loop()
    try:
        url = loop.run_until_complete(manager.__aenter__())
        try:
            yield url
        finally:
            loop.run_until_complete(manager.__aexit__(None, None, None))
    finally:
        loop.close()


def ledger_counts(url: str) -> dict[str, int]:
    """Claims by state in the ledger."""
    rows = query(url, {"s": "SELECT state, count(*) FROM claims GROUP BY state"})["s"]
    return {str(state): int(n) for state, n in rows}


def invalid_claims(cluster: Cluster) -> set[str]:
    """The claims the scrubber stopped (state invalid): never sent, or not on their last leg."""
    rows = query(cluster.ledger_url, {"s": "SELECT claim_id FROM claims WHERE state = 'invalid'"})
    return {str(row[0]) for row in rows["s"]}


def settled(cluster: Cluster) -> bool:
    """Every claim dropped is recorded and settled, and no file is on its way."""
    counts = ledger_counts(cluster.ledger_url)
    total = sum(counts.values())
    done = sum(n for state, n in counts.items() if state in _SETTLED)
    return total == len(cluster.claim_ids) and done == total and not cluster.files_in_flight()


@dataclass(frozen=True)
class Audit:
    """What the 837s sent and the ledger say, checked for exactly-once."""

    claims_in_837s: Counter[str]  # CLM01:leg -> how many distinct interchanges carried it
    conflicting_isa13: list[str]  # ISA13s used by two different files
    control_numbers: Counter[tuple[str, str, str]]  # (ISA13, GS06, ST02) -> sets using it
    interchanges_by_status: dict[str, int]
    states: dict[str, int]
    submitted_events: Counter[str]  # claim -> 'submitted' events
    batched_events: Counter[str]  # claim -> 'batched' events
    responses: int  # rows in responses (one per response document)
    response_files: int  # response files archived as applied
    response_events: Counter[tuple[str, str]]  # (claim, ta1|999|277ca|835) -> events
    unmatched: int

    @property
    def claims_sent_twice(self) -> list[str]:
        """Claims carried by more than one interchange."""
        return sorted(c for c, n in self.claims_in_837s.items() if n > 1)

    @property
    def reused_control_numbers(self) -> list[tuple[str, str, str]]:
        """Control numbers used by more than one transaction set."""
        return sorted(k for k, n in self.control_numbers.items() if n > 1)


#: SBR01 of the 2000B loop -> the claim's leg (coordination of benefits: one leg per payer).
_LEGS = {"P": 1, "S": 2, "T": 3}

#: A claim's events keyed ``<claim_id>:<leg>``, the leg of the version each event is about.
_BY_LEG = (
    "SELECT e.claim_id || ':' || v.leg, count(*) FROM claim_events e JOIN claim_versions v "
    "ON v.claim_id = e.claim_id AND v.version = e.version WHERE e.kind = '{kind}' "
    "GROUP BY e.claim_id || ':' || v.leg"
)


def audit(cluster: Cluster) -> Audit:
    """Read every 837 the clearinghouse got and the ledger's records of them."""
    by_isa13: dict[str, bytes] = {}
    conflicting = []
    numbers: Counter[tuple[str, str, str]] = Counter()
    for path in cluster.sent_files():
        data = path.read_bytes()
        isa13 = next(iter(read_segments(data)))[13]
        if by_isa13.setdefault(isa13, data) != data:
            conflicting.append(isa13)
    claims: Counter[str] = Counter()
    for data in by_isa13.values():
        isa13 = gs06 = ""
        subscriber_hl = False
        leg = 1
        for seg in read_segments(data):
            if seg.tag == "ISA":
                isa13 = seg[13]
            elif seg.tag == "GS":
                gs06 = seg[6]
            elif seg.tag == "ST":
                numbers[(isa13, gs06, seg[2])] += 1
            elif seg.tag == "HL":
                subscriber_hl = seg[3] == "22"
            elif seg.tag == "SBR" and subscriber_hl:  # 2000B: the payer's place is the leg
                leg = _LEGS.get(seg[1], 1)
                subscriber_hl = False
            elif seg.tag == "CLM":
                claims[f"{seg[1]}:{leg}"] += 1
    rows = query(
        cluster.ledger_url,
        {
            "interchanges": "SELECT status, count(*) FROM interchanges GROUP BY status",
            "states": "SELECT state, count(*) FROM claims GROUP BY state",
            "submitted": _BY_LEG.format(kind="submitted"),
            "batched": _BY_LEG.format(kind="batched"),
            "responses": "SELECT count(*) FROM responses",
            "response_files": "SELECT count(*) FROM files WHERE status = 'applied'",
            "response_events": "SELECT e.claim_id || ':' || v.leg, e.kind, count(*) "
            "FROM claim_events e JOIN claim_versions v ON v.claim_id = e.claim_id "
            "AND v.version = e.version WHERE e.response_id IS NOT NULL "
            "GROUP BY e.claim_id || ':' || v.leg, e.kind",
            "delivered": "SELECT count(*) FROM files WHERE direction = 'in' AND kind <> "
            "'encounters'",
            "unmatched": "SELECT count(*) FROM unmatched",
        },
    )
    return Audit(
        claims_in_837s=claims,
        conflicting_isa13=conflicting,
        control_numbers=numbers,
        interchanges_by_status={str(s): int(n) for s, n in rows["interchanges"]},
        states={str(s): int(n) for s, n in rows["states"]},
        submitted_events=Counter({str(c): int(n) for c, n in rows["submitted"]}),
        batched_events=Counter({str(c): int(n) for c, n in rows["batched"]}),
        responses=int(rows["responses"][0][0]),
        response_files=int(rows["response_files"][0][0]),
        response_events=Counter({(str(c), str(k)): int(n) for c, k, n in rows["response_events"]}),
        unmatched=int(rows["unmatched"][0][0]),
    )


# ---------------------------------------------------------------------------------- benchmark


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (from /proc; 0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL server process alive now (a server-wide estimate)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text or "(postmaster)" in text:
            total += _cpu_seconds(int(stat.parent.name))
    return total


@dataclass(frozen=True)
class Result:
    """One benchmark run: how many claims went out how fast, and whose CPU it took."""

    label: str
    workers: int
    claims: int  # claims in the 837s written
    seconds: float  # files dropped -> last claim in an 837
    intake_seconds: float  # files dropped -> every claim recorded
    worker_cpu: float  # CPU seconds of all workers
    database_cpu: float  # CPU seconds of the PostgreSQL server (0 on SQLite)
    interchanges: int
    exactly_once: bool
    load: float  # the machine's 1-minute load average when the run ended

    @property
    def rate(self) -> float:
        """Claims per second, end to end."""
        return self.claims / self.seconds if self.seconds else 0.0


def run_one(label: str, root: Path, url: str, workers: int, claims: int) -> Result:
    """Start ``workers`` workers, drop ``claims`` encounters, time them into 837s."""
    cluster = Cluster(root, url)
    names = [f"w{n}" for n in range(1, workers + 1)]
    try:
        for name in names:
            cluster.start_worker(name)
        cluster.wait_started()
        postgres_before = _postgres_cpu() if url.startswith("postgres") else 0.0
        cpu_before = {n: _cpu_seconds(cluster.processes[n].pid) for n in names}
        cluster.drop(claims)

        def recorded() -> bool:
            return sum(ledger_counts(url).values()) == claims

        def all_sent() -> bool:
            counts = ledger_counts(url)
            waiting = sum(counts.get(s, 0) for s in ("received", "queued", "batched"))
            clean = claims - counts.get("invalid", 0)
            return not waiting and cluster.claims_sent() >= clean

        intake = wait_for(recorded, 1800, 0.2)
        wait_for(all_sent, 1800, 0.2)
        seconds = time.monotonic() - cluster.dropped_at
        worker_cpu = sum(_cpu_seconds(cluster.processes[n].pid) - cpu_before[n] for n in names)
        database_cpu = _postgres_cpu() - postgres_before if postgres_before else 0.0
    finally:
        cluster.stop()
    found = audit(cluster)
    return Result(
        label,
        workers,
        sum(found.claims_in_837s.values()),
        seconds,
        intake,
        worker_cpu,
        database_cpu,
        len({p.name for p in cluster.sent_files()}),
        not found.claims_sent_twice and not found.reused_control_numbers,
        os.getloadavg()[0],
    )


def main() -> int:
    """Run the configurations in one go and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker counts")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the workspaces under this folder")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-workers-"))
    runs: list[Result] = []
    plan: list[tuple[str, int]] = [("postgresql", int(n)) for n in args.workers.split(",")]
    if not args.no_sqlite:
        plan.append(("sqlite", 1))
    for backend, workers in plan:
        label = f"{backend} x{workers}"
        root = base / label.replace(" ", "-")
        print(f"running {label} ...", file=sys.stderr, flush=True)
        if backend == "sqlite":
            runs.append(
                run_one(label, root, f"sqlite:///{root}/state/gateway.db", workers, args.claims)
            )
        else:
            with postgres_database("gateway_bench") as url:
                runs.append(run_one(label, root, url, workers, args.claims))
    first = runs[0].rate or 1.0
    print(f"{args.claims} encounters dropped in files of 500, os.cpu_count() = {os.cpu_count()}")
    header = (
        f"{'ledger':<14}{'claims':>8}{'seconds':>9}{'claims/s':>10}{'vs x1':>7}"
        f"{'intake s':>10}{'worker CPU s':>14}{'db CPU s':>10}{'837s':>6}{'once':>6}{'load':>6}"
    )
    print(header)
    for r in runs:
        print(
            f"{r.label:<14}{r.claims:>8}{r.seconds:>9.1f}{r.rate:>10.1f}{r.rate / first:>7.2f}"
            f"{r.intake_seconds:>10.1f}{r.worker_cpu:>14.1f}{r.database_cpu:>10.1f}"
            f"{r.interchanges:>6}{'yes' if r.exactly_once else 'NO':>6}{r.load:>6.1f}"
        )
    if not args.keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    return 0 if all(r.exactly_once for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
