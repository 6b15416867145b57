"""A worker process holding a worker id on PostgreSQL, for the presence tests."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import subprocess
import sys
import textwrap

# A child process registering a worker id and staying alive until killed.
WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from gateway.ledger.workers import WorkerPresence

    async def main(url: str, worker_id: str) -> None:
        presence = await WorkerPresence.register(url, worker_id)
        print("registered", flush=True)
        await asyncio.sleep(3600)
        await presence.close()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def start_worker(url: str, worker_id: str) -> subprocess.Popen[str]:
    """A process holding ``worker_id``, once it says it registered."""
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, worker_id], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert "registered" == process.stdout.readline().strip()
    return process
