"""Benchmark: each revenue-cycle report over a large generated ledger, on SQLite and PostgreSQL.

The ledger is filled in bulk (multi-row INSERTs, no gateway logic): N claims first submitted over
the year before today (so a 30-day period holds about N/12), each with the rows the reports read:
its intake check, its submission, a 999, a 277CA (one in ten rejected, by the clearinghouse or the
payer), for most an 835 (paid, partly paid with a denied line, denied, now and then reversed) with
its CAS adjustments and remark codes, correction items for the rejections and denials, and one in
twenty answered by nothing. Then every report runs for the last 30 days (and split by payer), timed;
the baseline is a plain count of the period's claims on the same database, and the ratio is printed.

    .venv/bin/python bench/report.py [--claims 100000] [--days 30] [--no-postgres] [--keep FILE]
        (PostgreSQL: a fresh database on 127.0.0.1:5432, dropped at the end)

Budget (issue 15): every report under 2 s on SQLite for 30 days at 1,000,000 claims.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable, Iterator  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from gateway.ledger import tables as t  # noqa: E402
from gateway.ledger.reports import Period  # noqa: E402
from gateway.ledger.store import Ledger  # noqa: E402

PAYERS = ("87726", "60054", "00430", "00621", "61101", "62308", "99999", "12345")
CHUNK = 5000


def generate(n: int, today: date, seed: int = 15) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Rows for the tables, in chunks of claims."""
    rnd = random.Random(seed)
    end = datetime.combine(today, datetime.min.time(), UTC)
    item_id = 0
    for start in range(0, n, CHUNK):
        rows: dict[str, list[dict[str, Any]]] = {
            "claims": [],
            "claim_events": [],
            "report_rejections": [],
            "remit_facts": [],
            "remit_adjustments": [],
            "correction_items": [],
        }
        for i in range(start, min(n, start + CHUNK)):
            cid = f"B{i:08d}"
            sent = end - timedelta(seconds=rnd.randrange(365 * 86400))
            charge = Decimal(rnd.randrange(5000, 200000)) / 100
            payer = rnd.choice(PAYERS)
            ev = rows["claim_events"]

            def event(
                kind: str, at: datetime, to: str | None, v: int = 1, cid: str = cid, ev: Any = ev
            ) -> None:
                ev.append(
                    {
                        "claim_id": cid, "version": v, "at": at, "kind": kind,
                        "from_state": None, "to_state": to, "cause": kind,
                    }
                )  # fmt: skip

            roll = rnd.random()
            answered = roll > 0.05
            state = "submitted"
            verdict: str | None = None
            outcome: str | None = None
            denied_first: Decimal | None = None
            paid_at: datetime | None = None
            event("checked", sent - timedelta(hours=1), "queued")
            event("submitted", sent, "submitted")
            if answered:
                event("999", sent + timedelta(hours=2), "acknowledged")
                rejected = rnd.random() < 0.10
                at277 = sent + timedelta(days=1)
                if rejected:
                    state = "payer_rejected"
                    verdict = "rejected"
                    event("277ca", at277, "payer_rejected")
                    stage = rnd.choice(("277CA-clearinghouse", "277CA-payer"))
                    code = rnd.choice(("STC-A7:562:85", "STC-A6:94:DN", "STC-A3:116:PR"))
                    rows["report_rejections"].append(
                        {"claim_id": cid, "version": 1, "at": at277, "stage": stage,
                         "reason_code": code}
                    )  # fmt: skip
                    item_id += 1
                    closed = (
                        at277 + timedelta(days=rnd.randrange(1, 20)) if rnd.random() < 0.6 else None
                    )
                    rows["correction_items"].append(
                        {"id": item_id, "claim_id": cid, "version": 1,
                         "state_at_open": "payer_rejected", "source": "277CA",
                         "reason_code": code, "reasons": [], "payer_id": payer,
                         "opened_at": at277, "closed_at": closed,
                         "closed_by": "resolved" if closed else None}
                    )  # fmt: skip
                else:
                    state = "accepted"
                    verdict = "accepted"
                    event("277ca", at277, "accepted")
                    if rnd.random() < 0.85:
                        paid_at = sent + timedelta(days=rnd.randrange(7, 60))
                        kind = rnd.random()
                        co = (charge * Decimal("0.2")).quantize(Decimal("0.01"))
                        pr = Decimal("20.00") if kind < 0.5 else Decimal("0")
                        denied = Decimal("0")
                        if kind < 0.75:
                            outcome, paid = "paid", charge - co - pr
                        elif kind < 0.9:
                            denied = Decimal("15.00")
                            outcome, paid = "partially_paid", charge - co - pr - denied
                        else:
                            outcome, paid, co, pr, denied = (
                                "denied",
                                Decimal(0),
                                charge,
                                Decimal(0),
                                charge,
                            )
                        state = outcome
                        denied_first = denied
                        event("835", paid_at, outcome)
                        co_all = co if outcome == "denied" else co + denied
                        rows["remit_facts"].append(
                            {"claim_id": cid, "version": 1, "at": paid_at, "outcome": outcome,
                             "charge": charge, "paid": paid, "co": co_all,
                             "pr": pr, "other": Decimal(0), "denied": denied}
                        )  # fmt: skip
                        adj = rows["remit_adjustments"]
                        adj.append(
                            {"claim_id": cid, "at": paid_at, "procedure": None, "kind": "CARC",
                             "group_code": "CO", "code": "45", "amount": co, "denial": False}
                        )  # fmt: skip
                        if denied:
                            code = rnd.choice(("50", "16", "97", "197", "29"))
                            procedure = rnd.choice(("99213", "99214", "80061"))
                            adj.append(
                                {"claim_id": cid, "at": paid_at, "procedure": procedure,
                                 "kind": "CARC", "group_code": "CO", "code": code, "amount": denied,
                                 "denial": True}
                            )  # fmt: skip
                            adj.append(
                                {"claim_id": cid, "at": paid_at, "procedure": None, "kind": "RARC",
                                 "group_code": None, "code": "N290", "amount": None, "denial": True}
                            )  # fmt: skip
                            if outcome == "denied":
                                item_id += 1
                                rows["correction_items"].append(
                                    {"id": item_id, "claim_id": cid, "version": 1,
                                     "state_at_open": "denied", "source": "835",
                                     "reason_code": f"CO-{code}", "reasons": [], "payer_id": payer,
                                     "opened_at": paid_at, "closed_at": None, "closed_by": None}
                                )  # fmt: skip
                        if outcome == "paid" and rnd.random() < 0.02:
                            state = "reversed"
                            event("835", paid_at + timedelta(days=5), "reversed")
                            rows["remit_facts"].append(
                                {"claim_id": cid, "version": 1, "at": paid_at + timedelta(days=5),
                                 "outcome": "reversed", "charge": -charge, "paid": -paid,
                                 "co": -co, "pr": -pr, "other": Decimal(0), "denied": Decimal(0)}
                            )  # fmt: skip
            rows["claims"].append(
                {"claim_id": cid, "kind": "professional" if i % 10 else "institutional",
                 "partner": "demo", "payer_id": payer, "payer_name": None, "state": state,
                 "current_version": 1, "total_charge": charge,
                 "created_at": sent - timedelta(hours=1),
                 "updated_at": sent, "billing_npi": f"10000000{i % 20:02d}",
                 "rendering_npi": f"20000000{i % 50:02d}",
                 "service_date": (sent - timedelta(days=rnd.randrange(0, 10))).date(),
                 "first_submitted_at": sent, "first_version": 1, "intake_clean": True,
                 "first_verdict": verdict, "first_outcome": outcome, "first_denied": denied_first,
                 "first_paid_at": paid_at if outcome in ("paid", "partially_paid") else None}
            )  # fmt: skip
        yield rows


async def fill(ledger: Ledger, n: int, today: date) -> float:
    """Insert ``n`` generated claims and their rows; the seconds it took."""
    started = time.perf_counter()
    engine = ledger._engine
    order = ("claims", "claim_events", "report_rejections", "remit_facts", "remit_adjustments",
             "correction_items")  # fmt: skip
    for rows in generate(n, today):
        async with engine.begin() as conn:
            for name in order:
                if rows[name]:
                    await conn.execute(t.metadata.tables[name].insert(), rows[name])
        done = int(rows["claims"][-1]["claim_id"][1:]) + 1
        if done % 100000 < CHUNK:
            print(
                f"  {done} claims inserted ({time.perf_counter() - started:.0f} s)", file=sys.stderr
            )
    async with engine.begin() as conn:
        await conn.execute(sa.text("ANALYZE"))
    return time.perf_counter() - started


async def timed(what: Callable[[], Awaitable[Any]]) -> float:
    """The best of two runs, in seconds (the first also warms the cache)."""
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        await what()
        best = min(best, time.perf_counter() - started)
    return best


async def measure(url: str, n: int, days: int) -> list[tuple[str, float]]:
    """Fill a ledger at ``url`` and time every report."""
    today = datetime.now(UTC).date()
    ledger = await Ledger.open(url)
    try:
        seconds = await fill(ledger, n, today)
        print(f"  filled in {seconds:.0f} s", file=sys.stderr)
        period = Period.last_days(days, today)
        q = ledger.reports
        c = t.claims.c

        async def baseline() -> Any:
            async with ledger._engine.connect() as conn:
                query = sa.select(sa.func.count()).where(
                    c.first_submitted_at >= period.lower, c.first_submitted_at < period.upper
                )
                return (await conn.execute(query)).scalar_one()

        runs: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("baseline: count the period's claims", baseline),
            ("summary", lambda: q.summary(period)),
            ("summary --by payer", lambda: q.summary(period, "payer")),
            ("summary --by month", lambda: q.summary(period, "month")),
            ("rejections (summary)", lambda: q.rejections(period)),
            ("weekly acceptance (html)", lambda: q.weekly_acceptance(period)),
            ("denials", lambda: q.denials(period)),
            ("denials --by payer", lambda: q.denials(period, "payer")),
            ("payers", lambda: q.payers(period, "payer")),
            ("aging", lambda: q.aging(period, "payer")),
            ("rework", lambda: q.rework(period)),
            ("--claims denied_full", lambda: q.claims(period, "denied_full")),
            ("--claims no_answer", lambda: q.claims(period, "no_answer")),
        ]
        out = []
        for label, run in runs:
            out.append((label, await timed(run)))
            print(f"  {label}: {out[-1][1]:.3f} s", file=sys.stderr, flush=True)
        return out
    finally:
        await ledger.close()


async def main() -> None:
    """Run on SQLite, then PostgreSQL, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--keep", type=Path, help="the SQLite file to fill (kept)")
    args = parser.parse_args()
    results: dict[str, list[tuple[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        print(f"SQLite: filling {args.claims} claims ...", file=sys.stderr)
        results["sqlite"] = await measure(f"sqlite:///{path}", args.claims, args.days)
    if not args.no_postgres:
        from gateway.ledger.testing import fresh_postgres_database, postgres_available

        if await postgres_available():
            print(f"PostgreSQL: filling {args.claims} claims ...", file=sys.stderr)
            async with fresh_postgres_database("gateway_bench") as url:
                results["postgresql"] = await measure(url, args.claims, args.days)
        else:
            print("PostgreSQL is not running on 127.0.0.1:5432: skipped", file=sys.stderr)
    print(
        f"{args.claims} claims over a year; reports over the last {args.days} days "
        f"(~{args.claims * args.days // 365} claims); seconds (best of 2), ratio to baseline"
    )
    names = list(results)
    print(f"{'report':<36}" + "".join(f"{n:>22}" for n in names))
    for i, (label, _) in enumerate(results[names[0]]):
        cells = ""
        for name in names:
            seconds = results[name][i][1]
            base = results[name][0][1]
            cells += f"{seconds:>12.3f} ({seconds / base:>6.0f}x)"
        print(f"{label:<36}{cells}")
    worst = max(s for label, s in results["sqlite"][1:])
    print(f"slowest SQLite report: {worst:.3f} s (budget 2 s at 1,000,000 claims)")


if __name__ == "__main__":
    asyncio.run(main())
