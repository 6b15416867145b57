"""Screenshots of the console's main pages for the README (``docs/screenshots/*.png``).

Usage: ``.venv/bin/python tools/screenshots.py [--workdir DIR] [--claims N]`` (default: a
scratch folder, 4,000 claims). It makes a demo workspace (``gateway demo``: the sample and
generated encounters worked today by the real service and the clearinghouse simulator), adds
``N`` generated claims over the year before (``bench/report.py``'s generator; synthetic, like
everything here) so that the charts show months, serves the console on it (uvicorn on
127.0.0.1) and has the system's Chromium (Playwright) take the dashboard with its charts drawn,
the correction queue and the files page at 1280x800. The claim page's screenshot is taken by
``tests/web/test_claim_browser.py`` (``GATEWAY_SCREENSHOTS=1``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from bench.report import generate  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.ledger import tables as t  # noqa: E402
from gateway.ledger.store import Ledger  # noqa: E402
from gateway.ledger.users import Role  # noqa: E402
from tests.support.browser import CHROMIUM, LiveConsole, add_user, log_in, serve_console  # noqa: E402

SHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
LIMIT = 150_000  # bytes a PNG may take in the repository


async def add_year(url: str, n: int) -> None:
    """``n`` generated claims over the year before today, their items numbered after ours."""
    ledger = await Ledger.open(url)
    try:
        async with ledger._engine.begin() as conn:
            ci = t.correction_items.c
            offset = int(
                (await conn.execute(sa.select(sa.func.coalesce(sa.func.max(ci.id), 0)))).scalar()
            )
            for rows in generate(n, datetime.now(UTC).date()):
                for item in rows["correction_items"]:
                    item["id"] += offset
                for name, chunk in rows.items():
                    if chunk:
                        await conn.execute(t.metadata.tables[name].insert(), chunk)
            await conn.execute(sa.text("ANALYZE"))
    finally:
        await ledger.close()


def shoot(console: LiveConsole) -> list[Path]:
    """The three pages, as PNGs in ``docs/screenshots``."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    made = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        page.set_default_timeout(120_000)
        log_in(page, console)
        page.wait_for_selector("canvas[data-points]")  # the measures are in, the charts drawn
        for name, path, ready in (
            ("dashboard.png", "/", "canvas[data-points]"),
            ("queue.png", "/queue", "#rows"),
            ("files.png", "/files", "main h1"),
        ):
            page.goto(f"{console.url}{path}")
            page.wait_for_selector(ready)
            target = SHOTS / name
            page.screenshot(path=str(target))
            _shrink(target)
            made.append(target)
        browser.close()
    return made


def _shrink(path: Path) -> None:
    """The PNG in 256 colours (text and flat colours lose nothing visible; a third the size)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)


def set_aside(workdir: Path) -> None:
    """A file the service refuses and one it quarantines, so the files page shows them."""
    inbox = workdir / "inbox"
    (inbox / "encounters" / "clinic-batch-0412.json").write_text("not json at all\n")
    (inbox / "responses" / "payer-answer-0412.x12").write_text("GS*HP*NOT AN ISA FIRST~")
    gateway = Path(sys.executable).parent / "gateway"
    config = str(workdir / "gateway.toml")
    subprocess.run([str(gateway), "run", "--once", "--config", config], check=False)  # noqa: S603


def main() -> int:
    """Make the workspace, serve it, take the screenshots; say where they are."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="where the demo workspace goes (scratch)")
    parser.add_argument("--claims", type=int, default=4000, help="generated claims over a year")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch) / "gateway-demo"
        gateway = Path(sys.executable).parent / "gateway"
        subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [str(gateway), "demo", "--workdir", str(workdir), "--claims", "150"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        set_aside(workdir)
        settings = load_settings(workdir / "gateway.toml", environ={})
        asyncio.run(add_year(settings.ledger_url, args.claims))
        add_user(settings, "screens", Role.ADMIN, "screenshots only")
        with serve_console(settings) as url:
            made = shoot(LiveConsole(url, settings, "screens", "screenshots only"))
    for path in made:
        size = path.stat().st_size
        print(f"{path.relative_to(ROOT)}: {size // 1000} KB{' (too big)' if size > LIMIT else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
