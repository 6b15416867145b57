"""The ``gateway`` command line.

Each sub-command lives in its own module of this package and exposes ``register(subparsers)``;
``main`` discovers them, so adding a command never edits a shared table.
Exit codes: 0 success, 1 the input or the claims were found invalid, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with how the command was called or configured (exit 2)."""


def build_parser() -> argparse.ArgumentParser:
    """The parser with every sub-command module registered."""
    parser = argparse.ArgumentParser(
        prog="gateway",
        description="X12 claim gateway: encounters in, 837 claims out, acknowledgements and "
        "remittances matched back to their claims.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{module.name}")
        register = getattr(mod, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
    except UsageError as exc:
        print(f"gateway {args.command}: {exc}", file=sys.stderr)
        code = EXIT_USAGE
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = EXIT_OK
    return code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
