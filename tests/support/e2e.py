"""A workspace and the ``gateway`` command run as a process, for the end-to-end tests."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.env import ROOT

SAMPLE = json.loads((ROOT / "samples/encounters/professional-self.json").read_text())


PARTNER = (ROOT / "config/partners/demo-clearinghouse.toml").read_text()


GATEWAY = [str(Path(sys.executable).parent / "gateway")]


def workspace(root: Path, *, max_wait: float = 0.3) -> Path:
    """A workspace with the demo partner, fast polling and quick batches; its config file."""
    (root / "partners").mkdir(parents=True)
    (root / "partners" / "demo-clearinghouse.toml").write_text(PARTNER)
    config = root / "gateway.toml"
    config.write_text(
        '[workspace]\nroot = "."\n'
        f"[batching]\nmax_claims = 20\nmax_wait_seconds = {max_wait}\n"
        '[intake]\nsettle_seconds = 0.0\nwatcher = "polling"\npoll_interval_seconds = 0.1\n'
        '[logging]\nformat = "json"\n'
    )
    for folder in ("inbox/encounters", "inbox/responses"):
        (root / folder).mkdir(parents=True)
    return config


def encounters(first: int, count: int) -> list[dict[str, Any]]:
    """``count`` copies of the professional sample as claims E2E-<n>."""
    out = []
    for n in range(first, first + count):
        enc = json.loads(json.dumps(SAMPLE))
        enc["claim_id"] = f"E2E-{n:05d}"
        for i, line in enumerate(enc["service_lines"], start=1):
            line["line_id"] = f"E{n:05d}-{i}"
        out.append(enc)
    return out


def drop(root: Path, name: str, items: list[dict[str, Any]]) -> None:
    """Write a JSON Lines encounter file into the inbox atomically (temp name, then rename)."""
    temp = root / "inbox/encounters" / f".{name}.tmp"
    temp.write_text("".join(json.dumps(e) + "\n" for e in items))
    temp.rename(root / "inbox/encounters" / name)


def gateway(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the gateway command line."""
    return subprocess.run(
        [*GATEWAY, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def run_once(config: Path, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """`gateway run --once`, killed with SIGKILL at ``crash_at`` when given."""
    env = {"GATEWAY_CRASH_AT": crash_at} if crash_at else {"GATEWAY_CRASH_AT": ""}
    return gateway("run", "--once", "--config", str(config), env=env)


def ledger_rows(root: Path, query: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the workspace's SQLite ledger."""
    with sqlite3.connect(root / "state/gateway.db") as db:
        return db.execute(query).fetchall()
