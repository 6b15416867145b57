"""``gateway demo``: the whole loop in one command, on a fresh install, with no configuration.

Creates ``./gateway-demo`` (or ``--workdir``) with its own ``gateway.toml``, drops the sample
encounters and a few hundred generated ones into its inbox, runs the service with the simulated
clearinghouse until every claim has settled, and prints what happened with the commands to look
further. The service's logs go to ``<workdir>/logs/gateway.log``; a progress bar to standard error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from gateway.cli import EXIT_INVALID, EXIT_OK, UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="run the whole loop on synthetic claims with a simulated clearinghouse",
        description="Create a demo workspace, drop the sample encounters and generated ones "
        "(some with mistakes) into its inbox, run the gateway service with the clearinghouse "
        "simulator until every claim has reached a final state, and print a report. Running "
        "it again replaces the previous demo workspace.",
    )
    parser.add_argument(
        "--workdir",
        default="gateway-demo",
        metavar="DIR",
        help="the demo workspace (default: ./gateway-demo; replaced if made by an earlier demo)",
    )
    parser.add_argument(
        "--claims",
        type=int,
        default=300,
        metavar="N",
        help="generated encounters besides the samples (default: 300)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gateway demo``."""
    from gateway.demo import (
        DemoError,
        prepare_workspace,
        previous_demo_ledger,
        render_report,
        run_demo,
    )
    from gateway.durable import ensure_private_dir, set_private_umask
    from gateway.logs import configure_logging

    if not 0 <= args.claims <= 20_000:
        raise UsageError("--claims: expected a number from 0 to 20000")
    set_private_umask()
    workdir = Path(args.workdir)
    previous = previous_demo_ledger(workdir.absolute())
    try:
        config = prepare_workspace(workdir)
    except (DemoError, OSError) as exc:
        raise UsageError(str(exc)) from None
    logs = config.parent / "logs"
    ensure_private_dir(logs)
    fd = os.open(logs / "gateway.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as log_stream:
        configure_logging(log_format="json", level="info", stream=log_stream)
        logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter on start
        print(f"gateway demo: workspace {config.parent}", file=sys.stderr)
        try:
            report = asyncio.run(
                run_demo(config, claims=args.claims, progress=sys.stderr, previous_ledger=previous)
            )
        except DemoError as exc:
            raise UsageError(str(exc)) from None
    shown = str(workdir / "gateway.toml")
    print(render_report(report, shown))
    return EXIT_OK if report.finished else EXIT_INVALID
