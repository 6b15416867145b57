"""The dashboard (``/``), the correction queue (``/queue``, ``/queue/events``) and the files page
(``/files``) over HTTP, for every role, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.ledger.store import Ledger
from gateway.ledger.users import Role
from gateway.web import measures
from gateway.web.application import app
from tests.support import responses as r
from tests.support.clock import ManualClock
from tests.support.ledger import incoming, submit
from tests.support.web import Console, console_settings
from tests.support.worklist import Item, open_items

PAGES = ("/", "/queue", "/files")
#: What the synthetic encounters hold beside the claim: never on a page of these.
PATIENT = "SYNTHETIC-PATIENT-NAME"


def fill_items(console: Console, n: int, **extra: object) -> list[Item]:
    """``n`` open items, the i-th opened i days ago, alternating payers and reasons."""
    items = [
        Item(
            f"Q-{i:04d}",
            payer=("87726", "60054")[i % 2],
            reason=("E-NPI-CHECKDIGIT", "CO-50")[i % 2],
            charge=f"{10 + i}.00",
            days_old=i + 0.5,
        )
        for i in range(n)
    ]
    console.call(open_items, console.ledger, items)
    return items


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_login(console: Console, path: str) -> None:
    """Nobody logged in is sent to the login page, with the page to come back to."""
    response = console.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_three_pages(console: Console, role: Role) -> None:
    """Viewers, billers and admins all read the dashboard, the queue and the files page."""
    fill_items(console, 3)
    console.refresh_dashboard()
    console.as_user(role)
    for path in PAGES:
        response = console.client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        assert "Q-0000" in response.text or path == "/files"
        assert response.headers["cache-control"] == "no-store"


def _chart_data(text: str) -> dict[str, object]:
    found = re.search(r"<div id=\"measures-block\" data-charts='([^']*)'>", text)
    assert found is not None
    data: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return data


def test_the_dashboard_shows_states_measures_and_what_needs_attention(console: Console) -> None:
    """Claims by state with amounts, twelve months of each measure for the charts (the numbers
    of the reports), the oldest open items, and the claims with no answer."""
    fill_items(console, 2)
    ledger = console.ledger
    console.call(ledger.record_claims, [incoming(f"D{n}", "250.00") for n in range(3)])
    console.call(submit, ledger, ["D0", "D1", "D2"], "301")
    console.call(ledger.apply_response, r.ta1("301", "A"), content_hash="ta1", kind="TA1")
    console.refresh_dashboard()
    console.as_user(Role.VIEWER)
    page = console.client.get("/")
    assert page.status_code == 200
    text = page.text
    assert re.search(r"<td>invalid</td><td class=\"num\">2</td><td class=\"num\">21.00</td>", text)
    data = _chart_data(text)
    months = data["months"]
    assert isinstance(months, list)
    assert len(months) == 12
    assert months[-1] == datetime.now(UTC).strftime("%Y-%m")
    assert data["submitted"] == [0] * 11 + [3]
    assert len(data["first_pass_rate"]) == 12  # type: ignore[arg-type]
    assert data["aging"]["buckets"] == ["0-30", "31-60", "61-90", "91-120", ">120"]  # type: ignore[index]
    assert 'href="/claims/Q-0001"' in text  # the oldest open item first
    assert text.index("Q-0001") < text.index("Q-0000", text.index("Oldest open items"))
    assert '<canvas data-chart="first_pass_rate"' in text
    assert PATIENT not in text


def test_the_dashboard_shows_the_counts_while_its_measures_are_computed(
    tmp_path: Path, ledger_url: str
) -> None:
    """The measures start computing when the console starts; a request that comes before they
    are in gets the page at once, counts and a placeholder that asks ``/dashboard/measures``,
    which answers the placeholder again until the measures are in, then the measures."""
    gate = asyncio.Event()
    runs: list[date] = []

    async def held(ledger: Ledger, today: date, days: Mapping[str, int]) -> measures.Trends:
        runs.append(today)
        await gate.wait()
        return await measures.trends(ledger, today, days)

    async def release() -> None:
        gate.set()

    settings = console_settings(tmp_path / "ws", ledger_url)
    clock = ManualClock(now=time.time())
    with TestClient(app(settings, clock=clock, trends=held), base_url="http://127.0.0.1") as client:
        console = Console(client, clock, settings)
        fill_items(console, 2)
        console.call(client.app.state.web.refresh_counts)  # type: ignore[attr-defined]
        console.as_user(Role.VIEWER)
        assert runs == [measures.today_utc()]  # started with the app, before any request
        page = console.client.get("/")
        assert page.status_code == 200
        assert "measures are being computed" in page.text
        assert 'hx-get="/dashboard/measures" hx-trigger="load delay:1s"' in page.text
        assert 'href="/claims/Q-0001"' in page.text  # the counts and lists are there
        assert "data-charts" not in page.text
        waiting = console.client.get("/dashboard/measures")
        assert "measures are being computed" in waiting.text
        assert "<html" not in waiting.text  # a fragment, not a page
        console.call(release)
        block = waiting
        for _ in range(200):
            block = console.client.get("/dashboard/measures")
            if "data-charts" in block.text:
                break
            console.call(asyncio.sleep, 0.02)
        data = _chart_data(block.text)
        assert len(data["months"]) == 12  # type: ignore[arg-type]
        assert '<canvas data-chart="first_pass_rate"' in block.text
        assert "hx-get" not in block.text
        assert "measures are being computed" not in console.client.get("/").text
        assert len(runs) == 1  # asking again never started a second computation


def test_the_queue_filters_sorts_and_pages_by_key(console: Console) -> None:
    """Filters and sorts are query parameters; "next" follows by key to the last item."""
    fill_items(console, 120)
    console.as_user(Role.BILLER)
    first = console.client.get("/queue?payer=60054&sort=amount")
    assert first.status_code == 200
    ids = re.findall(r'data-item="\d+">\s*<td><a href="/claims/([^"]+)"', first.text)
    assert len(ids) == 50
    assert ids[0] == "Q-0119"  # 60054 holds the odd ones; the largest charge first
    assert all(int(i[2:]) % 2 == 1 for i in ids)
    assert ">60<" in first.text  # the filter's total
    found = re.search(r'href="(/queue\?[^"]*after=[^"]+)" rel="next"', first.text)
    assert found is not None
    second = console.client.get(found.group(1).replace("&amp;", "&"))
    more = re.findall(r'data-item="\d+">\s*<td><a href="/claims/([^"]+)"', second.text)
    assert len(more) == 10
    assert not set(ids) & set(more)
    assert 'rel="next"' not in second.text
    narrow = console.client.get("/queue?claim=q-011&age=115&reason=e-npi")
    assert re.findall(r'href="/claims/([^"]+)"', narrow.text) == ["Q-0118", "Q-0116"]


@pytest.mark.parametrize(
    "query", ["sort=age", "after=not-a-cursor", "age=many", "claim=" + "x" * 40]
)
def test_a_bad_parameter_is_a_400_that_says_why(console: Console, query: str) -> None:
    """An unknown sort, a damaged cursor, an age that is not a number, an overlong text."""
    console.as_user(Role.VIEWER)
    response = console.client.get(f"/queue?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.text or "page link" in response.text


def test_the_live_feed_sends_new_items_and_ends_when_the_session_would(console: Console) -> None:
    """``/queue/events`` sends each open item after the page's last one (under its filter) as
    an ``item`` event with the table row, then ``end`` once the session would be idle."""
    fill_items(console, 1)
    console.as_user(Role.VIEWER)
    page = console.client.get("/queue?payer=60054")
    found = re.search(r'sse-connect="([^"]+)"', page.text)
    assert found is not None
    feed = found.group(1).replace("&amp;", "&")
    assert "payer=60054" in feed
    console.call(
        open_items,
        console.ledger,
        [Item("NEW-1", payer="87726"), Item("NEW-2", payer="60054", charge="42.00")],
    )
    received: list[str] = []
    with console.client.stream("GET", feed) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            received.append(line)
            if line.startswith("data:") and "NEW-2" in line:
                console.clock.advance(16 * 60)  # the idle limit passes
            if line == "event: end":
                break
    text = "\n".join(received)
    assert "event: item" in text
    assert 'href="/claims/NEW-2"' in text
    assert "42.00" in text
    assert "NEW-1" not in text  # another payer
    assert re.search(r"^id: \d+$", text, re.M)


def test_the_live_feed_ends_when_the_console_stops(console: Console) -> None:
    """Once the server is asked to stop, an open feed ends at its next poll, without ``end``
    (the browser reconnects to the console once it is back)."""
    console.as_user(Role.VIEWER)
    console.call(open_items, console.ledger, [Item("S-1")])
    state = console.client.app.state.web  # type: ignore[attr-defined]
    received: list[str] = []
    with console.client.stream("GET", "/queue/events?after=0") as stream:
        for line in stream.iter_lines():
            received.append(line)
            if "S-1" in line:
                state.stopping = True  # as ConsoleServer.handle_exit does
    text = "\n".join(received)
    assert 'href="/claims/S-1"' in text
    assert "event: end" not in text


def test_the_live_feed_resumes_after_the_last_event_id(console: Console) -> None:
    """A reconnecting browser sends Last-Event-ID: nothing it already has is sent again."""
    console.as_user(Role.VIEWER)
    console.call(open_items, console.ledger, [Item("R-1"), Item("R-2")])
    first_id = console.call(console.ledger.worklist.page).rows[0].id
    received: list[str] = []
    with console.client.stream(
        "GET", "/queue/events?after=0", headers={"Last-Event-ID": str(first_id)}
    ) as stream:
        for line in stream.iter_lines():
            received.append(line)
            if "R-2" in line:
                console.clock.advance(16 * 60)
            if line == "event: end":
                break
    text = "\n".join(received)
    assert "R-2" in text
    assert "R-1" not in text


def test_the_files_page_explains_set_aside_held_unmatched_and_sent(console: Console) -> None:
    """A quarantined file with its .error.json read readably, a held 835, an unmatched TA1,
    and today's 837 with its claim count."""
    ledger = console.ledger
    quarantine = console.settings.workspace.quarantine
    quarantine.mkdir(parents=True, exist_ok=True)
    kept = quarantine / "bad.x12"
    kept.write_text("junk")
    report = {
        "file": "bad.x12",
        "quarantined_as": "bad.x12",
        "quarantined_at": "2026-12-06T06:00:00Z",
        "error": {
            "code": "not-x12",
            "what": "the file does not start with an ISA segment",
            "where": {"segment": 1, "offset": 0},
            "what_to_do": "Ask the sender for the file as X12",
            "findings": [{"code": "X12-NO-ISA", "message": "no ISA", "location": {"segment": 1}}],
        },
    }
    Path(str(kept) + ".error.json").write_text(json.dumps(report))
    record = console.call(ledger.record_file, "q1", "bad.x12", "unknown", status="quarantined")
    console.call(ledger.update_file, record.id, archive_path=str(kept))
    held = console.call(ledger.record_file, "h1", "cut.835", "835", status="held")
    detail = {"hold": "out-of-balance", "held_sets": [{"st02": "0001", "claims": 2}]}
    console.call(ledger.update_file, held.id, detail=detail)
    stray = console.call(ledger.record_file, "t1", "stray.ta1", "TA1")
    console.call(
        ledger.apply_response, r.ta1("777", "A"), content_hash="t1", kind="TA1", file_id=stray.id
    )
    console.call(ledger.record_claims, [incoming("S1"), incoming("S2")])
    console.call(submit, ledger, ["S1", "S2"], "401")
    console.as_user(Role.VIEWER)
    text = console.client.get("/files").text
    assert "the file does not start with an ISA segment" in text
    assert "Ask the sender for the file as X12" in text
    assert "segment 1, offset 0" in text
    assert "X12-NO-ISA" in text
    assert "bad.x12.error.json" in text
    assert "cut.835" in text
    assert "out-of-balance" in text
    assert "stray.ta1" in text
    assert "<code>777</code>" in text
    assert re.search(r"<strong>demo</strong>: 1 file, 2 claims", text)


def test_an_error_json_outside_the_quarantine_folder_is_not_read(
    console: Console, tmp_path: Path
) -> None:
    """Only the quarantine folder's .error.json files are read; else the ledger's record."""
    elsewhere = tmp_path / "elsewhere.x12"
    Path(str(elsewhere) + ".error.json").write_text(json.dumps({"error": {"what": "SECRET"}}))
    record = console.call(console.ledger.record_file, "q2", "x.x12", "unknown", status="refused")
    console.call(
        console.ledger.update_file,
        record.id,
        archive_path=str(elsewhere),
        detail={"code": "symlink", "what": "a symbolic link", "what_to_do": "copy it"},
    )
    console.as_user(Role.ADMIN)
    text = console.client.get("/files").text
    assert "SECRET" not in text
    assert "a symbolic link" in text
    assert "the ledger&#39;s record" in text


def test_the_pages_keep_working_for_an_item_opened_just_now(console: Console) -> None:
    """An item opened this second is 0 days old (no negative ages from clock skew)."""
    console.call(open_items, console.ledger, [Item("NOW-1")])
    console.as_user(Role.VIEWER)
    assert re.search(r">0 d</td>", console.client.get("/queue").text)
