"""Benchmark: each page of the web console over a large ledger, against its 200 ms budget.

The ledger is filled in bulk (the generator of ``bench/report.py``: N claims first submitted over
the year before today with their events, rejections, 835 facts and correction items), then
topped up so that ``--items`` correction items are open (default 100,000: every claim in the
queue, the worst case for the worklist), with files set aside and held, response files whose
answers matched nothing, and today's 837 interchanges. The console app runs in-process (Starlette's
test client, logged in as an admin) and each page is requested several times:

- the dashboard the first time (its monthly measures still being computed in the background,
  started with the app: the page comes with the counts and a placeholder) and then (the
  measures kept; what everyone else gets); how long the background computation took is printed
  after the table;
- the claim page (``/claims/{id}``) of a claim with a full history: after the bulk fill, three
  encounters are taken in by the real service and answered by the simulator (as in the claim
  page's tests): WEB-OK sent, accepted (999, 277CA) and paid by an 835; WEB-REJ rejected by the
  277CA, an open correction item;
- the queue's first page (oldest first), largest first, filtered by payer, and a deep page
  (after the 90,000th item, by key);
- the files page.

Times are the median of the runs, in milliseconds, client to client (the in-process test client
adds well under a millisecond). The baseline, measured in the same run on the same database, is a
plain ``SELECT count(*) FROM claims``; the ratio of each page to it is printed.

    .venv/bin/python bench/web.py [--claims 100000] [--items 100000] [--runs 5] [--no-postgres]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from bench.report import fill  # noqa: E402
from gateway.ledger import tables as t  # noqa: E402
from gateway.ledger.store import Ledger  # noqa: E402
from gateway.ledger.users import Role  # noqa: E402
from gateway.ledger.worklist import SORTS, WorkRow, _encode  # noqa: E402
from gateway.web.application import app  # noqa: E402
from gateway.web.passwords import hash_password  # noqa: E402
from tests.support.claim_web import (  # noqa: E402
    settle,
    worked_encounters,
    worked_settings,
)
from tests.support.service import drop  # noqa: E402

BUDGET_MS = 200.0
PASSWORD = "bench password for the console"
_CSRF = re.compile(r'name="csrftoken" value="([^"]+)"')


async def move_item_sequence(conn: AsyncConnection) -> None:
    """After items inserted with their ids: PostgreSQL's sequence moved past them."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('correction_items', 'id'), "
                "(SELECT max(id) FROM correction_items))"
            )
        )


async def top_up(ledger: Ledger, items: int) -> dict[str, int]:
    """Open items up to ``items`` (one per claim), files set aside and held, unmatched
    answers, and today's 837s; what was added."""
    engine = ledger._engine
    ci, cl = t.correction_items.c, t.claims.c
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        open_now = (
            await conn.execute(sa.select(sa.func.count()).where(ci.closed_at.is_(None)))
        ).scalar_one()
        wanted = max(0, items - int(open_now))
        free = (
            await conn.execute(
                sa.select(cl.claim_id, cl.payer_id, cl.state, cl.first_submitted_at)
                .where(~sa.exists().where(ci.claim_id == cl.claim_id, ci.closed_at.is_(None)))
                .order_by(cl.claim_id)
                .limit(wanted)
            )
        ).all()
        reasons = ("E-NPI-CHECKDIGIT", "STC-A7:562:85", "CO-50", "IK403-7", "CO-16", "TA1-008")
        first_id = int(
            (await conn.execute(sa.select(sa.func.coalesce(sa.func.max(ci.id), 0)))).scalar_one()
        )
        rows = [
            {
                "id": first_id + 1 + n,
                "claim_id": cid,
                "version": 1,
                "state_at_open": state,
                "source": "277CA",
                "reason_code": reasons[n % len(reasons)],
                "reasons": [],
                "payer_id": payer,
                "opened_at": (at or now) + timedelta(days=1),
            }
            for n, (cid, payer, state, at) in enumerate(free)
        ]
        for start in range(0, len(rows), 5000):
            await conn.execute(t.correction_items.insert(), rows[start : start + 5000])
        await move_item_sequence(conn)
        files = [
            {
                "content_hash": f"bench-{n}",
                "name": f"file-{n}.{'json' if status != 'held' else '835'}",
                "kind": "encounters" if status != "held" else "835",
                "direction": "in",
                "status": status,
                "detail": {"code": "not-x12", "what": "no ISA segment", "what_to_do": "resend"}
                if status != "held"
                else {"hold": "out-of-balance", "held_sets": [{"st02": "0001", "claims": 3}]},
                "received_at": now,
                "updated_at": now - timedelta(minutes=n),
            }
            for n, status in enumerate(["quarantined"] * 300 + ["refused"] * 50 + ["held"] * 5)
        ]
        await conn.execute(t.files.insert(), files)
        responses = [
            {"content_hash": f"bench-r{n}", "kind": "999", "events": 0, "applied_at": now}
            for n in range(500)
        ]
        await conn.execute(t.responses.insert(), responses)
        ids = (await conn.execute(sa.select(t.responses.c.id))).scalars().all()
        await conn.execute(
            t.unmatched.insert(),
            [
                {"response_id": rid, "reference": f"{rid}", "reason": "no such group sent",
                 "recorded_at": now}
                for rid in ids
            ],
        )  # fmt: skip
        claim_ids = (await conn.execute(sa.select(cl.claim_id).limit(4000))).scalars().all()
        for n in range(40):
            result = await conn.execute(
                t.interchanges.insert().values(
                    partner="demo", isa13=str(900000 + n), kind="837P",
                    file_name=f"837-{n}.x12", status="submitted", created_at=now,
                    submitted_at=now - timedelta(minutes=n),
                )
            )  # fmt: skip
            group = await conn.execute(
                t.functional_groups.insert().values(
                    interchange_id=result.inserted_primary_key[0], gs06=str(n)
                )
            )
            tset = await conn.execute(
                t.transaction_sets.insert().values(
                    group_id=group.inserted_primary_key[0], st02="0001"
                )
            )
            await conn.execute(
                t.submitted_claims.insert(),
                [
                    {"set_id": tset.inserted_primary_key[0], "claim_id": cid, "version": 1,
                     "line_control_numbers": []}
                    for cid in claim_ids[n * 100 : (n + 1) * 100]
                ],
            )  # fmt: skip
        await conn.execute(sa.text("ANALYZE"))
    return {"items added": len(rows), "files": len(files), "unmatched": len(ids)}


async def deep_cursor(ledger: Ledger, position: int) -> str | None:
    """The worklist cursor after the ``position``-th open item, oldest first."""
    keys, _ = SORTS["oldest"]
    ci = t.correction_items.c
    async with ledger._engine.connect() as conn:
        found = (
            await conn.execute(
                sa.select(ci.opened_at, ci.id)
                .where(ci.closed_at.is_(None))
                .order_by(ci.opened_at, ci.id)
                .offset(position)
                .limit(1)
            )
        ).first()
    if found is None:
        return None
    opened = found[0] if found[0].tzinfo else found[0].replace(tzinfo=UTC)
    row = WorkRow(int(found[1]), "", "", "", "", "", "", 0, opened)  # type: ignore[arg-type]
    return _encode(row, "oldest", keys)


def timed(client: TestClient, path: str, runs: int) -> tuple[float, list[float]]:
    """The median of ``runs`` requests of ``path`` (ms), and every time."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
    return statistics.median(times), times


def measure(url: str, root: Path, claims: int, items: int, runs: int) -> list[tuple[str, float]]:
    """Fill the ledger at ``url`` and time every page."""
    today = datetime.now(UTC).date()
    settings = worked_settings(root, url)
    drop(settings, "worked.json", worked_encounters())

    async def prepare() -> tuple[float, dict[str, int], str | None]:
        ledger = await Ledger.open(url)
        try:
            seconds = await fill(ledger, claims, today)
            async with ledger._engine.begin() as conn:
                await move_item_sequence(conn)
        finally:
            await ledger.close()
        # The claims with a full history, through the real service and simulator, before the
        # top-up's made-up interchanges (whose group numbers the answers would match).
        await settle(settings)
        ledger = await Ledger.open(url)
        try:
            added = await top_up(ledger, items)
            await ledger.add_user("bench", Role.ADMIN, hash_password(PASSWORD))
            return seconds, added, await deep_cursor(ledger, min(90_000, items - 100))
        finally:
            await ledger.close()

    started = time.perf_counter()
    seconds, added, cursor = asyncio.run(prepare())
    print(
        f"  filled {claims} claims in {seconds:.0f} s, then {added} "
        f"({time.perf_counter() - started:.0f} s in all)",
        file=sys.stderr,
    )
    out: list[tuple[str, float]] = []
    with TestClient(app(settings), base_url="http://127.0.0.1") as client:
        begun_at = time.perf_counter()
        login = client.get("/login")
        token = _CSRF.search(login.text)
        assert token is not None
        done = client.post(
            "/login",
            data={"username": "bench", "password": PASSWORD, "next": "/", "csrftoken": token[1]},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        ledger: Ledger = client.app.state.web.ledger  # type: ignore[attr-defined]

        async def count() -> int:
            async with ledger._engine.connect() as conn:
                return int(
                    (
                        await conn.execute(sa.select(sa.func.count()).select_from(t.claims))
                    ).scalar_one()
                )

        def baseline() -> None:
            assert client.portal is not None
            client.portal.call(count)

        base = []
        for _ in range(runs):
            begun = time.perf_counter()
            baseline()
            base.append((time.perf_counter() - begun) * 1000)
        out.append(("baseline: SELECT count(*) FROM claims", statistics.median(base)))
        cold, _ = timed(client, "/", 1)
        pending = "measures are being computed" in client.get("/dashboard/measures").text
        out.append(
            (
                f"dashboard, first request ({'measures computing' if pending else 'measures in'})",
                cold,
            )
        )
        while "data-charts" not in client.get("/dashboard/measures").text:
            time.sleep(0.05)
        print(
            f"  measures in after {time.perf_counter() - begun_at:.1f} s (in the background)",
            file=sys.stderr,
        )
        pages: list[tuple[str, str]] = [
            ("dashboard (measures kept)", "/"),
            ("queue, first page (oldest first)", "/queue"),
            ("queue, largest amount first", "/queue?sort=amount"),
            ("queue, filtered by payer", "/queue?payer=60054"),
            ("queue, claim id text", "/queue?claim=B0009"),
        ]
        if cursor is not None:
            pages.append(("queue, deep page (after item 90,000)", f"/queue?after={cursor}"))
        pages.append(("files", "/files"))
        pages.append(("claim page, paid claim (999, 277CA, 835)", "/claims/WEB-OK"))
        pages.append(("claim page, rejected claim (277CA, open item)", "/claims/WEB-REJ"))
        for label, path in pages:
            median, _ = timed(client, path, runs)
            out.append((label, median))
            print(f"  {label}: {median:.1f} ms", file=sys.stderr, flush=True)
    return out


def main() -> None:
    """Run on SQLite, then PostgreSQL, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=100_000, help="open correction items")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[tuple[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"SQLite: filling {args.claims} claims ...", file=sys.stderr)
        (root / "sqlite").mkdir()
        results["sqlite"] = measure(
            f"sqlite:///{root}/bench.db", root / "sqlite", args.claims, args.items, args.runs
        )
        if not args.no_postgres:
            results.update(_postgres(root, args))
    names = list(results)
    print(
        f"{args.claims:,} claims over a year, {args.items:,} open correction items; "
        f"median of {args.runs} requests, ms (ratio to the baseline); budget {BUDGET_MS:.0f} ms"
    )
    print(f"{'page':<48}" + "".join(f"{n:>24}" for n in names))
    for i, (label, _) in enumerate(results[names[0]]):
        cells = ""
        for name in names:
            ms = results[name][i][1]
            base = results[name][0][1]
            mark = "" if i == 0 or ms <= BUDGET_MS else " OVER"
            cells += f"{ms:>10.1f} ({ms / base:>6.1f}x){mark:>5}"
        print(f"{label:<48}{cells}")


def _postgres(root: Path, args: argparse.Namespace) -> dict[str, list[tuple[str, float]]]:
    from gateway.ledger.testing import fresh_postgres_database, postgres_available

    async def run() -> dict[str, list[tuple[str, float]]]:
        if not await postgres_available():
            print("PostgreSQL is not running on 127.0.0.1:5432: skipped", file=sys.stderr)
            return {}
        async with fresh_postgres_database("gateway_webbench") as url:
            print(f"PostgreSQL: filling {args.claims} claims ...", file=sys.stderr)
            (root / "postgres").mkdir()
            found = await asyncio.to_thread(
                measure, url, root / "postgres", args.claims, args.items, args.runs
            )
            return {"postgresql": found}

    return asyncio.run(run())


if __name__ == "__main__":
    main()
