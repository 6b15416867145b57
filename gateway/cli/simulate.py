"""``gateway simulate``: the clearinghouse and payer simulator as its own process.

It watches the folder the gateway hands 837 files to (the pickup folder of the partner's directory
transport, by default the workspace outbox) and drops TA1 / 999 / 277CA / 835 responses where the
gateway looks for them (the transport's drop folder, or the responses inbox when there is none).
``--once`` answers what is waiting, delivers every response at once and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli import EXIT_OK, UsageError
from gateway.cli._common import dumps

if TYPE_CHECKING:
    from gateway.config import Settings
    from gateway.simulator.runner import Simulator


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``simulate`` sub-command."""
    parser = subparsers.add_parser(
        "simulate",
        help="run the clearinghouse/payer simulator (answers 837s with 999, 277CA, 835)",
        description="Run a stand-in clearinghouse and payer: every 837 that appears in the pickup "
        "folder is taken once and answered with a TA1 (when asked), a 999, 277CAs that reject "
        "claims by the rules file, and 835s for the accepted claims. Folders default to the "
        "trading partner's directory transport in the gateway settings.",
    )
    parser.add_argument("--config", help="the gateway settings file (gateway.toml)")
    parser.add_argument(
        "--rules",
        help="the simulator rules (default: simulator.toml beside the settings file, "
        "else the embedded rules)",
    )
    parser.add_argument(
        "--partner",
        default="demo-clearinghouse",
        help="the trading partner whose folders to serve (default: demo-clearinghouse)",
    )
    parser.add_argument("--pickup", help="the folder 837 files appear in")
    parser.add_argument("--drop", help="the folder responses are written to")
    parser.add_argument(
        "--work", help="the simulator's own folder (state, processed 837s, pending answers)"
    )
    parser.add_argument("--seed", type=int, help="the random seed (overrides the rules file)")
    parser.add_argument(
        "--once", action="store_true", help="answer what is waiting, deliver everything, exit"
    )
    parser.add_argument(
        "--no-delays", action="store_true", help="drop every response as soon as it is made"
    )
    parser.add_argument(
        "--interval", type=float, default=0.5, help="seconds between looks at the pickup folder"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="seconds an 837 must stay unchanged before it is taken (default 1; --once: 0)",
    )
    parser.add_argument("--json", action="store_true", help="with --once: print answers as JSON")
    parser.set_defaults(func=run)


def _folders(args: argparse.Namespace) -> tuple[Path, Path, Path, Settings]:
    """Pickup, drop and work folders, and the settings they default from."""
    from gateway.config import load_settings
    from gateway.simulator.runner import folders_from_settings

    settings = load_settings(args.config)
    if args.pickup and args.drop:
        pickup, drop = Path(args.pickup), Path(args.drop)
    else:
        default_pickup, default_drop = folders_from_settings(settings, args.partner)
        pickup = Path(args.pickup) if args.pickup else default_pickup
        drop = Path(args.drop) if args.drop else default_drop
    work = Path(args.work) if args.work else settings.workspace.state / "simulator"
    return pickup, drop, work, settings


def run(args: argparse.Namespace) -> int:
    """Run ``gateway simulate``."""
    from gateway.logs import configure_logging
    from gateway.service.files import ensure_private_dir, set_private_umask
    from gateway.simulator.rules import load_rules
    from gateway.simulator.runner import Simulator

    if args.interval <= 0:
        raise UsageError("--interval: expected a number of seconds above 0")
    if args.settle < 0:
        raise UsageError("--settle: expected a number of seconds, 0 or more")
    set_private_umask()
    pickup, drop, work, settings = _folders(args)
    base = settings.config_file.parent if settings.config_file else None
    rules_path = args.rules
    if rules_path is None and base is not None and (base / "simulator.toml").is_file():
        rules_path = str(base / "simulator.toml")
    rules = load_rules(rules_path)
    if args.seed is not None:
        rules = replace(rules, seed=args.seed)
    configure_logging(settings)
    for folder in (pickup, drop, work):
        ensure_private_dir(folder)
    simulator = Simulator(
        pickup,
        drop,
        work,
        rules=rules,
        poll_interval=args.interval,
        settle_seconds=0.0 if args.once else args.settle,
        use_delays=not (args.no_delays or args.once),
    )
    if args.once:
        written = asyncio.run(simulator.run_once())
        if args.json:
            print(
                dumps(
                    [
                        {
                            "source": a.source,
                            "isa13": a.isa13,
                            "outcome": a.outcome,
                            "message": a.message,
                            "responses": [r.name for r in a.responses],
                            "claims": [
                                {
                                    "claim_id": d.claim_id,
                                    "outcome": d.outcome,
                                    "status": d.status,
                                    "rule": d.rule,
                                    "paid": d.paid,
                                    "reversed": d.reversed,
                                }
                                for d in a.claims
                            ],
                        }
                        for a in simulator.answers
                    ],
                    indent=2,
                )
            )
        else:
            for a in simulator.answers:
                print(f"{a.source}: {a.outcome}: {a.message}")
            print(
                f"{len(simulator.answers)} file(s) answered, {len(written)} response(s) in {drop}"
            )
        return EXIT_OK
    print(f"gateway simulate: watching {pickup}, answering into {drop} (Ctrl-C stops)",
          file=sys.stderr)  # fmt: skip
    asyncio.run(_serve(simulator))
    return EXIT_OK


async def _serve(simulator: Simulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    await simulator.run(stop)
