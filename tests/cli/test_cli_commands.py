"""The command line: every sub-command module is named after its command, so it loads alone."""

from __future__ import annotations

import argparse

import pytest

from gateway.cli import _command_in, _command_modules, build_parser


def _choices(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


@pytest.mark.parametrize("module", _command_modules())
def test_each_module_registers_its_own_command(module: str) -> None:
    """Building the parser for one command imports only its module, which registers that command."""
    command = module.replace("_", "-")
    assert _choices(build_parser(command)) == {command}


def test_the_full_parser_lists_every_command() -> None:
    """Without a command (gateway --help) every command is registered."""
    assert _choices(build_parser()) == {m.replace("_", "-") for m in _command_modules()}


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["parse", "--segments", "f"], "parse"),
        (["--help"], None),
        (["-h", "parse"], None),
        ([], None),
        (["queue", "list"], "queue"),
    ],
)
def test_command_is_found_in_argv(argv: list[str], command: str | None) -> None:
    """The first word that is not an option names the command; --help asks for all."""
    assert _command_in(argv) == command
