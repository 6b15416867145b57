"""``gateway web``: the web console for billing staff (``gateway.web``), beside ``gateway run``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from gateway.cli import EXIT_OK, UsageError
from gateway.cli.db import add_config_argument, run_with_ledger, settings_for
from gateway.config import Settings

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``web`` sub-command."""
    parser = subparsers.add_parser(
        "web",
        help="serve the web console (dashboard, correction queue, claims) for billing staff",
        description="Serve the web console on the ledger of --config. It listens on 127.0.0.1 "
        "unless told otherwise; any other address needs [web] tls_certificate and tls_key, or "
        "[web] behind_tls_proxy = true. Users are made with `gateway users add`.",
    )
    add_config_argument(parser)
    parser.add_argument("--host", help="the address to listen on (default: [web] host, 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, help="the port to listen on (default: [web] port, 8080)"
    )
    parser.set_defaults(func=run_web)


def run_web(args: argparse.Namespace) -> int:
    """Run ``gateway web`` until interrupted."""
    from gateway.web.server import check_bind, serve

    settings = settings_for(args)
    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port}: expected a port number from 1 to 65535")
    check_bind(settings.web, args.host or settings.web.host)  # before anything is opened

    async def users(ledger: Ledger, _settings: Settings) -> int:
        return len(await ledger.users())

    if run_with_ledger(args, users) == 0:  # also: no ledger yet is exit 2 saying what to run
        print(
            "gateway web: nobody can log in yet; add a user with "
            "`gateway users add NAME --role admin`",
            file=sys.stderr,
        )
    serve(settings, args.host, args.port)
    return EXIT_OK
