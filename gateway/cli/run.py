"""``gateway run``: the service until SIGTERM/SIGINT or ``--once``.

Everything the process writes is owner-only (umask 077). SIGTERM and SIGINT end the service after
the step in flight; a restart after a crash finishes what was half-done (``Service.recover``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from gateway.cli import EXIT_OK, UsageError
from gateway.cli.db import add_config_argument, settings_for
from gateway.config import Settings

if TYPE_CHECKING:
    from gateway.service.pipeline import Service


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` sub-command."""
    parser = subparsers.add_parser(
        "run",
        help="run the gateway service (watch the inboxes, send claims, read responses)",
        description="Run the gateway service: take encounter files from the encounter inbox, "
        "record and scrub them, batch clean claims into 837 files for each trading partner, "
        "hand them to the partner's transport, and read the responses (TA1, 999, 277CA, 835) "
        "back into the ledger. Runs until SIGTERM or Ctrl-C (the step in flight is finished); "
        "with --once, processes what is waiting and exits.",
    )
    add_config_argument(parser)
    parser.add_argument(
        "--once",
        action="store_true",
        help="process every complete file waiting and every queued claim, then exit",
    )
    parser.add_argument(
        "--worker-id",
        default="main",
        metavar="NAME",
        help="this worker's name when several run against one ledger and workspace "
        "(default: main); a restarted worker finishes what it left half-done",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gateway run``."""
    from gateway.logs import configure_logging
    from gateway.service.files import set_private_umask
    from gateway.service.pipeline import check_worker_id

    try:
        worker_id = check_worker_id(args.worker_id)
    except ValueError as exc:
        raise UsageError(f"--worker-id: {exc}") from None
    settings = settings_for(args)
    set_private_umask()
    configure_logging(settings)
    # Alembic announces every plugin and migration check at INFO on each start.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
    return asyncio.run(_main(settings, worker_id, once=args.once))


async def _main(settings: Settings, worker_id: str, *, once: bool) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from gateway.ledger.store import LedgerError
    from gateway.service.pipeline import Service

    try:
        service = await Service.open(settings, worker_id=worker_id)
    except (LedgerError, SQLAlchemyError, OSError) as exc:
        raise UsageError(f"cannot start: {exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this platform
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))
    try:
        if once:
            await service.run_once(stop)
        else:
            await service.run(stop)
    finally:
        await service.close()
    if once:
        print(f"gateway run --once: {_summary(service)}", file=sys.stderr)
    return EXIT_OK


def _summary(service: Service) -> str:
    stats, sent = service.stats, service.submitter.stats
    claims = ", ".join(f"{k} {v}" for k, v in sorted(stats.claims.items())) or "none"
    return (
        f"{stats.encounter_files} encounter file(s) (claims: {claims}), "
        f"{stats.response_files} response file(s), {stats.duplicate_files} duplicate file(s), "
        f"{stats.quarantined_files} quarantined; {sent.interchanges} interchange(s) sent "
        f"with {sent.claims} claim(s)"
    )
