"""``gateway demo``: the whole loop on a fresh machine, the simulator standing in for the payer.

``prepare_workspace(folder)`` writes a self-contained workspace (its own ``gateway.toml``, the demo
trading partner with a directory transport to a simulated clearinghouse, short simulator delays);
``demo_encounters(n)`` makes synthetic encounters from the sample templates, some with mistakes
the scrubber catches, some the simulated payer rejects and some with a second payer (Medicare and
a Medigap plan, a commercial plan and Medicaid); ``coordination_encounters`` are a few more with
two payers, one billed to the secondary with the primary's paper EOB. ``run_demo`` drops the
samples and the generated files into the inbox, runs the service and the simulator in this
process until every claim has reached a final state, and returns a ``DemoReport`` that
``render_report`` prints.
Everything is synthetic: no real patient appears anywhere.

Pointed at PostgreSQL (``GATEWAY_LEDGER_URL``), the demo makes a database of its own on that
server (``gateway_demo_<UTC time>_<random>``) and records it in the demo's ``gateway.toml``: the
claims already in the database named never mix with the demo's (it used to count them as its own
and never finish). The next demo run in the same folder drops the previous run's database.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import shutil
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import make_url

from gateway.config import Settings, load_settings
from gateway.demo_coordination import (
    COVERAGES,
    SecondarySummary,
    after_paper_eob,
    secondary_lines,
    secondary_summary,
    with_secondary,
)
from gateway.ledger.databases import (
    create_postgres_database,
    drop_postgres_database,
    is_postgres,
)
from gateway.ledger.lifecycle import ClaimState
from gateway.ledger.records import StatusSummary
from gateway.ledger.reports import Period
from gateway.ledger.store import LedgerError
from gateway.service.files import atomic_write, ensure_private_dir
from gateway.service.pipeline import Service
from gateway.simulator import Simulator, folders_from_settings, load_rules

__all__ = [
    "DEMO_DATABASE_PREFIX",
    "DEMO_MARKER",
    "DemoError",
    "DemoReport",
    "SecondarySummary",
    "coordination_encounters",
    "demo_encounters",
    "prepare_workspace",
    "previous_demo_ledger",
    "render_report",
    "run_demo",
    "sample_files",
    "secondary_summary",
]

S = ClaimState
DEMO_MARKER = ".gateway-demo"
#: The names of the PostgreSQL databases the demo makes for itself start so.
DEMO_DATABASE_PREFIX = "gateway_demo_"
#: States after which nothing more happens to a claim without a person (in the demo's world).
SETTLED = frozenset(
    {
        S.INVALID,
        S.REJECTED,
        S.PAYER_REJECTED,
        S.PAID,
        S.PARTIALLY_PAID,
        S.DENIED,
        S.REVERSED,
        S.VOIDED,
        S.RESOLVED,
    }
)
#: Demo samples that would only be duplicates of claims in flight (a void, a replacement).
_SKIPPED_SAMPLES = frozenset({"professional-void.json", "institutional-inpatient-replacement.json"})

GATEWAY_TOML = """\
# The demo workspace of `gateway demo` (every folder is relative to this file).
[workspace]
root = "."

[batching]
max_claims = 100
max_wait_seconds = 0.3

[intake]
settle_seconds = 0.0
watcher = "polling"
poll_interval_seconds = 0.1

[logging]
format = "json"
level = "info"

[partners]
dir = "partners"
"""

PARTNER_TOML = """\
# The demo clearinghouse: 837s go to clearinghouse/pickup, responses come back in
# clearinghouse/drop (the simulator plays the clearinghouse and the payers).
name = "Demo Clearinghouse"
default = true

[interchange]
sender_qualifier = "ZZ"
sender_id = "VALLEYGATEWAY"
receiver_qualifier = "ZZ"
receiver_id = "DEMOCLEARING"
usage = "T"
acknowledgment_requested = "1"

[group]
sender_code = "VALLEYGATEWAY"
receiver_code = "DEMOCLEARING"

[submitter]
name = "VALLEY BILLING GATEWAY"
id = "VBG0001"
entity_type = "2"
contact_name = "EDI DESK"
contact_phone = "2175550199"
contact_email = "edi@valley-billing.example"

[receiver]
name = "DEMO CLEARINGHOUSE"
id = "DEMOCH01"

[claims]
max_claims_per_transaction = 5000

[delimiters]
line_breaks = true

[transport]
kind = "directory"
pickup = "clearinghouse/pickup"
drop = "clearinghouse/drop"
"""

SIMULATOR_TOML = """\
# The simulator's rules for the demo: the embedded defaults with short delays.
[delays]
interchange_ack = 0.0
implementation_ack = 0.0
clearinghouse_ack = 0.3
payer_ack = 0.6
remittance = 0.9
adjustment = 1.2
crossover = 1.5
"""


class DemoError(Exception):
    """The demo cannot run here (the message says why and what to do)."""


# ------------------------------------------------------------------------------------ workspace


def prepare_workspace(folder: Path) -> Path:
    """Create (or reset) the demo workspace at ``folder``; returns its ``gateway.toml``.

    A folder that exists, is not empty and was not made by the demo is refused, never wiped.
    """
    folder = folder.absolute()
    if folder.exists():
        if not folder.is_dir():
            raise DemoError(f"{folder} exists and is not a folder; use --workdir elsewhere")
        if any(folder.iterdir()):
            if not (folder / DEMO_MARKER).is_file():
                raise DemoError(
                    f"{folder} is not empty and was not made by `gateway demo`; "
                    "use --workdir with a new or empty folder"
                )
            shutil.rmtree(folder)
    ensure_private_dir(folder)
    atomic_write(folder / DEMO_MARKER, b"made by `gateway demo`; removed by the next demo run\n")
    atomic_write(folder / "gateway.toml", GATEWAY_TOML.encode())
    atomic_write(folder / "simulator.toml", SIMULATOR_TOML.encode())
    ensure_private_dir(folder / "partners")
    atomic_write(folder / "partners" / "demo-clearinghouse.toml", PARTNER_TOML.encode())
    return folder / "gateway.toml"


def previous_demo_ledger(folder: Path) -> str | None:
    """The PostgreSQL database an earlier demo run in ``folder`` made for itself (its URL, from
    that run's ``gateway.toml``), or None. Read before ``prepare_workspace`` resets the folder."""
    if not (folder / DEMO_MARKER).is_file():
        return None
    try:
        table = tomllib.loads((folder / "gateway.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    url = table.get("ledger", {}).get("url")
    if not isinstance(url, str) or not is_postgres(url):
        return None
    database = make_url(url).database or ""
    return url if database.startswith(DEMO_DATABASE_PREFIX) else None


async def _own_database(config: Path, settings: Settings, env: dict[str, str]) -> Settings:
    """On PostgreSQL, a new database for this run, recorded in the demo's ``gateway.toml``; the
    settings that use it. On SQLite (the demo folder's own file) the settings as they are."""
    if not is_postgres(settings.ledger_url):
        return settings
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    name = f"{DEMO_DATABASE_PREFIX}{stamp}_{secrets.token_hex(3)}"
    try:
        url = await create_postgres_database(settings.ledger_url, name)
    except LedgerError as exc:
        raise DemoError(
            f"{exc}. On PostgreSQL the demo runs in a database of its own, never among the "
            "claims of the database GATEWAY_LEDGER_URL names: let that user create databases "
            "(CREATEDB), or unset GATEWAY_LEDGER_URL to run the demo on SQLite in its folder"
        ) from exc
    shown = make_url(url).set(password=None).render_as_string(hide_password=False)
    text = (config.read_text(encoding="utf-8") + "\n[ledger]\n"
            "# This demo run's own database, made on the server GATEWAY_LEDGER_URL named.\n"
            f"url = {json.dumps(shown)}\n")  # fmt: skip
    atomic_write(config, text.encode(), overwrite=True)
    env["GATEWAY_LEDGER_URL"] = url
    return load_settings(config, environ=env)


def sample_files() -> list[tuple[str, bytes]]:
    """The sample encounter files shipped with the package (copies of ``samples/encounters``)."""
    root = resources.files("gateway") / "demo_samples"
    found = [
        (item.name, item.read_bytes())
        for item in root.iterdir()
        if item.is_file() and item.name not in _SKIPPED_SAMPLES and not item.name.startswith(".")
    ]
    return sorted(found)


def _template(name: str) -> dict[str, Any]:
    data = (resources.files("gateway") / "demo_samples" / name).read_bytes()
    loaded: dict[str, Any] = json.loads(data)
    return loaded


# ------------------------------------------------------------------------------------ encounters

_FIRST = ("ALEX", "SAM", "JORDAN", "TAYLOR", "MORGAN", "CASEY", "RILEY", "JAMIE", "AVERY", "DREW")
_LAST = ("SAMPLE", "EXAMPLE", "TESTER", "DEMO", "PLACEHOLDER", "FICTION", "MOCK", "DUMMY")
_PAYERS = (
    ("87726", "UNITED HEALTHCARE"),
    ("00621", "BLUE CROSS BLUE SHIELD OF ILLINOIS"),
    ("62308", "CIGNA"),
    ("61101", "HUMANA"),
    ("00430", "HEALTH ALLIANCE MEDICAL PLANS"),
)
_OFFICE_VISITS = (("99213", "110.00"), ("99214", "185.00"), ("99203", "150.00"), ("99212", "75.00"))
_LAB = (("83036", "42.50"), ("80053", "64.00"), ("85025", "28.00"), ("36415", "12.00"))
#: Mistakes the scrubber catches (applied to every 23rd encounter, in turn).
_SCRUBBER_MISTAKES = (
    "npi-check-digit",
    "icd-category",  # E11.6: a subcategory, not a billable code
    "pointer-out-of-range",
    "icd-seventh-character",  # T50.901: the 7th character is missing
    "future-service-date",
    "icd-external-cause-first",  # W01.0XXA (a fall) listed before the injury
)
#: What the simulated clearinghouse and payers reject (every 12th encounter, in turn).
_PAYER_REJECTIONS = ("member-id-x", "unknown-payer", "aetna-without-referral")


def demo_encounters(
    count: int, *, today: date | None = None, seed: int = 837, other_payers: bool = True
) -> list[dict[str, Any]]:
    """``count`` synthetic encounters (claim ids ``DEMO-00001``...): mostly clean professional
    claims, every 5th institutional, every 23rd with a scrubber mistake, every 12th with
    something the simulated payer rejects and (unless ``other_payers`` is false) every 7th
    professional one from the 3rd with a second payer."""
    today = today or date.today()
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible on purpose
    professional = _template("professional-self.json")
    institutional = _template("institutional-outpatient.json")
    out: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        base = institutional if n % 5 == 0 else professional
        enc: dict[str, Any] = json.loads(json.dumps(base))
        enc["claim_id"] = f"DEMO-{n:05d}"
        enc["partner"] = "demo-clearinghouse"
        served = today - timedelta(days=rng.randint(2, 40))
        payer_id, payer_name = _PAYERS[rng.randrange(len(_PAYERS))]
        enc["payer"] = {"id": payer_id, "name": payer_name}
        subscriber = enc["subscriber"]
        subscriber["member_id"] = f"M{rng.randrange(10**9):09d}"
        subscriber["first_name"] = _FIRST[rng.randrange(len(_FIRST))]
        subscriber["last_name"] = _LAST[rng.randrange(len(_LAST))]
        subscriber["birth_date"] = (
            date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 60))
        ).isoformat()
        subscriber["address"]["line1"] = f"{rng.randint(1, 9999)} DEMO AVE"
        if base is professional:
            visit, visit_charge = _OFFICE_VISITS[rng.randrange(len(_OFFICE_VISITS))]
            lab, lab_charge = _LAB[rng.randrange(len(_LAB))]
            lines = enc["service_lines"]
            lines[0].update(procedure_code=visit, charge=visit_charge)
            lines[1].update(procedure_code=lab, charge=lab_charge)
        else:
            enc["institutional"]["statement_from"] = served.isoformat()
            enc["institutional"]["statement_to"] = served.isoformat()
        for i, line in enumerate(enc["service_lines"], start=1):
            line["line_id"] = f"D{n:05d}-{i}"
            line["service_date"] = served.isoformat()
        if n % 23 == 0:
            _mistake(enc, _SCRUBBER_MISTAKES[(n // 23) % len(_SCRUBBER_MISTAKES)], today)
        elif n % 12 == 0:
            _payer_rejection(enc, _PAYER_REJECTIONS[(n // 12) % len(_PAYER_REJECTIONS)])
        elif other_payers and n % 7 == 3 and base is professional:
            with_secondary(enc, n, COVERAGES[(n // 7) % len(COVERAGES)])
        out.append(enc)
    return out


def coordination_encounters(*, today: date | None = None) -> list[dict[str, Any]]:
    """Four encounters with two payers (claim ids ``DEMO-COB-1``...): Medicare then a Medigap
    plan (two), a commercial plan then Medicaid, and one billed to the Medigap plan with
    Medicare's decision from a paper EOB (a secondary claim from the start)."""
    today = today or date.today()
    out = demo_encounters(4, today=today, seed=1701, other_payers=False)
    for n, enc in enumerate(out, start=1):
        enc["claim_id"] = f"DEMO-COB-{n}"
        for i, line in enumerate(enc["service_lines"], start=1):
            line["line_id"] = f"DCOB{n}-{i}"
        if n == 4:
            after_paper_eob(enc, n, today)
        else:
            with_secondary(enc, n, "commercial-medicaid" if n == 3 else "medicare-medigap")
    return out


def _mistake(enc: dict[str, Any], kind: str, today: date) -> None:
    if kind == "npi-check-digit":
        enc["billing_provider"]["npi"] = enc["billing_provider"]["npi"][:-1] + (
            "0" if enc["billing_provider"]["npi"][-1] != "0" else "1"
        )
    elif kind == "pointer-out-of-range" and "diagnosis_pointers" in enc["service_lines"][0]:
        enc["service_lines"][0]["diagnosis_pointers"] = [1, 9]
    elif kind == "icd-category":
        enc["diagnoses"][0] = "E116"
    elif kind == "icd-seventh-character":
        enc["diagnoses"][-1] = "T50901"
    elif kind == "icd-external-cause-first":
        enc["diagnoses"][:1] = ["W010XXA", "S93401A"]
    elif kind == "future-service-date":
        later = (today + timedelta(days=10)).isoformat()
        for line in enc["service_lines"]:
            line["service_date"] = later
        if "institutional" in enc:
            enc["institutional"]["statement_from"] = later
            enc["institutional"]["statement_to"] = later


def _payer_rejection(enc: dict[str, Any], kind: str) -> None:
    if kind == "member-id-x":
        enc["subscriber"]["member_id"] = "X" + enc["subscriber"]["member_id"][1:]
    elif kind == "unknown-payer":
        enc["payer"] = {"id": "99999", "name": "UNHEARD OF HEALTH PLAN"}
    elif enc["kind"] == "professional":
        enc["payer"] = {"id": "60054", "name": "AETNA"}
        enc["prior_authorization"] = None
        enc.pop("referral_number", None)
    else:
        enc["subscriber"]["member_id"] = "X" + enc["subscriber"]["member_id"][1:]


def drop_encounters(settings: Settings, count: int, *, today: date | None = None) -> int:
    """Drop the samples, the ``coordination_encounters`` and ``count`` generated encounters (JSON
    Lines, 50 a file) into the encounter inbox, plus one copy of a file (a duplicate); returns
    the files dropped."""
    inbox = settings.workspace.encounters_inbox
    ensure_private_dir(inbox)
    files = 0
    for name, data in sample_files():
        atomic_write(inbox / name, data)
        files += 1
    coordination = coordination_encounters(today=today)
    atomic_write(
        inbox / "demo-cob.jsonl", "".join(json.dumps(e) + "\n" for e in coordination).encode()
    )
    files += 1
    generated = demo_encounters(count, today=today)
    chunks = [generated[i : i + 50] for i in range(0, len(generated), 50)]
    for number, chunk in enumerate(chunks, start=1):
        text = "".join(json.dumps(e) + "\n" for e in chunk)
        atomic_write(inbox / f"demo-{number:03d}.jsonl", text.encode())
        files += 1
    if chunks:
        first = (inbox / "demo-001.jsonl").read_bytes()
        atomic_write(inbox / "demo-001-sent-again.jsonl", first)
        files += 1
    return files


# ------------------------------------------------------------------------------------ running


@dataclass
class DemoReport:
    """What the demo did and where every claim ended."""

    workspace: Path
    config: Path
    seconds: float
    finished: bool
    files_dropped: int
    summary: StatusSummary
    duplicate_files: int
    duplicate_claims: int
    interchanges: int
    responses: int
    rejected_by_reason: list[tuple[str, str, int]] = field(default_factory=list)
    queue_by_reason: list[tuple[str, str, int]] = field(default_factory=list)
    example_claim: str | None = None
    #: First-pass acceptance and full denial rates of the run (``gateway.ledger.reports``).
    clean_claim_rate: float | None = None
    denial_rate: float | None = None
    #: The ledger's URL without its password (on PostgreSQL: the database made for this run).
    ledger: str = ""
    #: The claims with more than one payer, and how far past the primary they went.
    secondary: SecondarySummary | None = None


class Progress:
    """A plain-text progress bar on a stream (redrawn on a terminal, a line a second if not)."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = 0.0

    def update(self, done: int, total: int, detail: str) -> None:
        """Show ``done`` of ``total``."""
        now = time.monotonic()
        if not self.tty and now - self._last < 1.0 and done < total:
            return
        self._last = now
        share = done / total if total else 0.0
        filled = int(share * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        text = f"[{bar}] {done:>5}/{total:<5} claims settled  {detail}"
        if self.tty:
            self.stream.write("\r" + text[:160].ljust(100))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


async def run_demo(
    config: Path,
    *,
    claims: int = 300,
    progress: TextIO | None = None,
    timeout: float = 55.0,
    today: Callable[[], date] = date.today,
    environ: Mapping[str, str] | None = None,
    previous_ledger: str | None = None,
) -> DemoReport:
    """Drop the encounters, run service and simulator until every claim settles; the report.

    ``environ`` (default ``os.environ``): ``GATEWAY_LEDGER_URL`` may point the demo at a
    PostgreSQL server, where it makes a database of its own (``DemoError`` when it may not).
    ``previous_ledger``: an earlier demo's database (``previous_demo_ledger``), dropped.
    """
    env = dict(os.environ if environ is None else environ)
    settings = await _own_database(config, load_settings(config, environ=env), env)
    if previous_ledger is not None and previous_ledger != settings.ledger_url:
        try:
            await drop_postgres_database(previous_ledger)
        except LedgerError as exc:  # the demo runs all the same; the report says so
            print(f"gateway demo: {exc}", file=progress or sys.stderr)
    started = time.monotonic()
    day = today()
    files = drop_encounters(settings, claims, today=day)
    coordination = [*coordination_encounters(today=day), *demo_encounters(claims, today=day)]
    with_others = [e["claim_id"] for e in coordination if e.get("other_payers")]
    service = await Service.open(settings)
    pickup, drop = folders_from_settings(settings)
    simulator = Simulator(
        pickup,
        drop,
        settings.workspace.state / "simulator",
        rules=load_rules(config.parent / "simulator.toml"),
        poll_interval=0.1,
    )
    bar = Progress(progress or sys.stderr)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(service.run(stop), name="service"),
        asyncio.create_task(simulator.run(stop), name="simulator"),
    ]
    finished = False
    try:
        while time.monotonic() - started < timeout:
            await asyncio.sleep(0.2)
            failed = [t for t in tasks if t.done()]
            if failed:
                failed[0].result()  # raises what ended it
                break
            summary = await service.ledger.status(oldest=0)
            total = sum(summary.counts.values())
            settled = sum(n for s, n in summary.counts.items() if s in SETTLED)
            busy = _in_flight(settings, simulator)
            bar.update(settled, max(total, 1), _detail(summary))
            if total and settled == total and not busy:
                finished = True
                break
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        bar.close()
    try:
        report = await _report(service, settings, config, started, finished, files)
        report.secondary = await secondary_summary(service.ledger, with_others)
        return report
    finally:
        await service.close()


def _in_flight(settings: Settings, simulator: Simulator) -> bool:
    """Whether any file is still on its way (inboxes, pickup, drop, pending answers)."""
    ws = settings.workspace
    folders = [ws.encounters_inbox, ws.responses_inbox, simulator.pickup, simulator.drop]
    for folder in folders:
        try:
            if any(p.is_file() and not p.name.startswith(".") for p in folder.iterdir()):
                return True
        except FileNotFoundError:
            continue
    return simulator.next_due() is not None


def _detail(summary: StatusSummary) -> str:
    order = (S.QUEUED, S.SUBMITTED, S.ACKNOWLEDGED, S.ACCEPTED, S.PAID, S.INVALID)
    return "  ".join(f"{s} {summary.counts[s]}" for s in order if summary.counts.get(s))


async def _report(
    service: Service,
    settings: Settings,
    config: Path,
    started: float,
    finished: bool,
    files: int,
) -> DemoReport:
    ledger = service.ledger
    summary = await ledger.status(oldest=0)
    items = await ledger.open_items()
    rejected: Counter[str] = Counter()
    queue: Counter[str] = Counter()
    meanings: dict[str, str] = {}
    for item in items:
        meanings.setdefault(item.reason_code, item.reasons[0].meaning if item.reasons else "")
        queue[item.reason_code] += 1
        if item.state in (S.REJECTED, S.PAYER_REJECTED):
            rejected[item.reason_code] += 1
    example = next((i.claim_id for i in items if i.state == S.PAYER_REJECTED), None)
    if example is None and items:
        example = items[0].claim_id
    stats = service.stats
    today = datetime.now(UTC).date()
    rates = (await ledger.reports.summary(Period(today - timedelta(days=3650), today))).records()
    return DemoReport(
        workspace=settings.workspace.root,
        config=config,
        seconds=time.monotonic() - started,
        finished=finished,
        files_dropped=files,
        summary=summary,
        duplicate_files=stats.duplicate_files,
        duplicate_claims=stats.claims.get("duplicate", 0),
        interchanges=service.submitter.stats.interchanges,
        responses=stats.response_files,
        rejected_by_reason=[(c, meanings[c], n) for c, n in rejected.most_common()],
        queue_by_reason=[(c, meanings[c], n) for c, n in queue.most_common()],
        example_claim=example,
        clean_claim_rate=rates[0]["first_pass_rate"] if rates else None,
        denial_rate=rates[0]["denial_rate"] if rates else None,
        ledger=make_url(settings.ledger_url).set(password=None).render_as_string(False),
    )


# ------------------------------------------------------------------------------------ report


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def render_report(report: DemoReport, shown_config: str) -> str:
    """The report as text, with the commands to look further."""
    s = report.summary
    count = s.counts.get
    total = sum(s.counts.values())
    after_batch = {
        S.SUBMITTED, S.ACKNOWLEDGED, S.REJECTED, S.ACCEPTED, S.PAYER_REJECTED, S.PAID,
        S.PARTIALLY_PAID, S.DENIED, S.REVERSED, S.VOIDED,
    }  # fmt: skip
    submitted = sum(n for st, n in s.counts.items() if st in after_batch)
    rejected = count(S.REJECTED, 0)
    acknowledged = submitted - rejected - count(S.SUBMITTED, 0)
    accepted_states = (S.ACCEPTED, S.PAID, S.PARTIALLY_PAID, S.DENIED, S.REVERSED)
    accepted = sum(count(st, 0) for st in accepted_states)
    paid = s.paid.get(S.PAID, Decimal(0)) + s.paid.get(S.PARTIALLY_PAID, Decimal(0))
    denied_charges = s.charges.get(S.DENIED, Decimal(0))
    verdict = "done" if report.finished else "STOPPED before every claim settled"
    lines = [
        f"gateway demo {verdict} in {report.seconds:.1f} s: {total} claims from "
        f"{report.files_dropped} files, workspace {report.workspace}",
        "",
        f"  encounter files            {report.files_dropped:>6}   "
        f"({report.duplicate_files} duplicate file(s) and {report.duplicate_claims} duplicate "
        "claim(s) reported, not billed twice)",
        f"  invalid at intake          {count(S.INVALID, 0):>6}   (scrubber errors: queued for "
        "correction)",
        f"  submitted                  {submitted:>6}   in {report.interchanges} 837 file(s); "
        f"{report.responses} response file(s) read",
        f"  acknowledged (999)         {acknowledged:>6}",
        f"  rejected (TA1/999)         {rejected:>6}",
        f"  accepted (277CA)           {accepted:>6}",
        f"  rejected by the payer      {count(S.PAYER_REJECTED, 0):>6}",
    ]
    for code, meaning, n in report.rejected_by_reason:
        lines.append(f"      {code:<22} {n:>5}  {meaning[:60]}")
    lines += [
        f"  paid in full               {count(S.PAID, 0):>6}",
        f"  partially paid             {count(S.PARTIALLY_PAID, 0):>6}",
        f"  amount paid            {_money(paid):>10}",
        f"  denied                     {count(S.DENIED, 0):>6}   "
        f"charges denied {_money(denied_charges)}",
        f"  reversed                   {count(S.REVERSED, 0):>6}",
        f"  correction queue           {s.open_items:>6}   open item(s)",
    ]
    for code, meaning, n in report.queue_by_reason[:12]:
        lines.append(f"      {code:<22} {n:>5}  {meaning[:60]}")
    lines += secondary_lines(report.secondary)
    if s.quarantined_files:
        lines.append(f"  quarantined files          {s.quarantined_files:>6}")
    lines += [
        f"  clean-claim rate           {_percent(report.clean_claim_rate):>6}   (accepted on first "
        "submission; gateway report)",
        f"  denial rate                {_percent(report.denial_rate):>6}   (denied in full / "
        "adjudicated)",
    ]
    example = report.example_claim or "DEMO-00001"
    # On PostgreSQL the demo's own database; named, as GATEWAY_LEDGER_URL would override it.
    env = ""
    if report.ledger and is_postgres(report.ledger):
        env = f"GATEWAY_LEDGER_URL={report.ledger} "
        lines += [
            "",
            f"The demo's ledger is a database of its own: {report.ledger} (the claims already "
            "in the database GATEWAY_LEDGER_URL names were not touched).",
        ]
    lines += [
        "",
        "Look further:",
        f"  {env}gateway status --config {shown_config}",
        f"  {env}gateway queue list --config {shown_config}",
        f"  {env}gateway claim show {example} --config {shown_config}",
        f"  the files: {report.workspace}/archive, corrections/ (one JSON per open item), "
        "clearinghouse/, logs/gateway.log",
    ]
    return "\n".join(lines)
