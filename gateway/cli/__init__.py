"""The ``gateway`` command line.

Each sub-command lives in its own module of this package and exposes ``register(subparsers)``;
``main`` discovers them, so adding a command never edits a shared table.
Exit codes: 0 success, 1 the input or the claims were found invalid, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

from gateway.errors import UsageError

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main", "run"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def _command_modules() -> list[str]:
    """The sub-command modules of this package, found without importing them."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every sub-command module registered, or only ``command``'s.

    Each module is named after its command (``build_837`` for ``build-837``); importing only the
    one asked for keeps start-up fast, since some commands pull in the ledger or the models.
    """
    parser = argparse.ArgumentParser(
        prog="gateway",
        description="X12 claim gateway: encounters in, 837 claims out, acknowledgements and "
        "remittances matched back to their claims.",
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="print the version and the installed code sets (version, coverage), and exit",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    names = _command_modules()
    module_name = command.replace("-", "_") if command else None
    if module_name in names:
        names = [module_name]
    for name in names:
        mod = importlib.import_module(f"{__name__}.{name}")
        register = getattr(mod, "register", None)
        if register is not None:
            register(subparsers)
    return parser


class _VersionAction(argparse.Action):
    """``--version``: the package version and every installed code set, read only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        from gateway.cli.codes import version_text

        sys.stdout.write(version_text())
        parser.exit()


def _command_in(argv: Sequence[str]) -> str | None:
    """The sub-command named on the command line (the first word not starting with '-')."""
    for word in argv:
        if not word.startswith("-"):
            return word
        if word in ("-h", "--help"):
            return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_in(words))
    args = parser.parse_args(words)
    _set_up_engines()
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


def _set_up_engines() -> None:
    """The validator's compiled maps and the ICD-10-CM tabular kept in the user's cache folder;
    the tokenizer's C hot path off when ``GATEWAY_X12_PURE_PYTHON`` is set."""
    from gateway.spec_cache import install_spec_cache, install_tabular_cache
    from gateway.x12.tokenizer import PURE_PYTHON_ENV, use_accelerated

    install_spec_cache()
    install_tabular_cache()
    if os.environ.get(PURE_PYTHON_ENV):
        use_accelerated(False)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
