"""``gateway users``: the web console's users (add, list, disable, enable, role, password).

Passwords come from a prompt (asked twice, never echoed) or one line of standard input with
``--password-stdin``; the ledger keeps only their argon2 hash. Every change is on the audit trail
as ``cli:<operating-system user>``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from gateway.cli import EXIT_OK, UsageError
from gateway.cli._common import dumps
from gateway.cli.db import add_config_argument, run_with_ledger
from gateway.config import Settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from gateway.ledger.store import Ledger
    from gateway.ledger.users import UserRecord

    Change = Callable[[Ledger], Awaitable[UserRecord]]

__all__ = ["register"]

_ROLES = ("viewer", "biller", "admin")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``users`` sub-command and its actions."""
    parser = subparsers.add_parser(
        "users",
        help="the web console's users: add, list, disable",
        description="The web console's users and their roles: viewers read, billers also work "
        "the correction queue, admins also manage users and read the audit trail.",
    )
    actions = parser.add_subparsers(dest="users_action", metavar="ACTION")
    actions.required = True

    add = actions.add_parser("add", help="add a user (the password is asked for)")
    add.add_argument("name", metavar="NAME", help="the user name (letters, digits, . _ - @)")
    add.add_argument("--role", choices=_ROLES, required=True, help="what the user may do")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(func=run_add)

    listing = actions.add_parser("list", help="list the users")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(func=run_list)

    disable = actions.add_parser("disable", help="stop a user logging in (ends their sessions)")
    disable.add_argument("name", metavar="NAME")
    disable.set_defaults(func=run_disable)

    enable = actions.add_parser("enable", help="let a disabled user log in again")
    enable.add_argument("name", metavar="NAME")
    enable.set_defaults(func=run_enable)

    role = actions.add_parser("role", help="give a user another role (ends their sessions)")
    role.add_argument("name", metavar="NAME")
    role.add_argument("role", choices=_ROLES)
    role.set_defaults(func=run_role)

    password = actions.add_parser("password", help="set a new password (ends their sessions)")
    password.add_argument("name", metavar="NAME")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    password.set_defaults(func=run_password)

    for sub in (add, listing, disable, enable, role, password):
        add_config_argument(sub)


def _password(args: argparse.Namespace) -> str:
    """The new password: one line of standard input, or asked twice on the terminal."""
    from gateway.web.passwords import PasswordError, check_new_password

    if args.password_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise UsageError("no terminal to ask for the password; use --password-stdin")
        text = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != text:
            raise UsageError("the two passwords differ; nothing was changed")
    try:
        return check_new_password(text)
    except PasswordError as exc:
        raise UsageError(str(exc)) from None


def _change(args: argparse.Namespace, action: str, change: Change) -> int:
    from gateway.ledger.audit import cli_actor
    from gateway.ledger.repository import LedgerError

    async def run(ledger: Ledger, _settings: Settings) -> UserRecord:
        try:
            user = await change(ledger)
        except LedgerError as exc:
            raise UsageError(str(exc)) from None
        await ledger.audit(
            cli_actor(), f"user-{action}", detail={"user": user.name, "role": user.role.value}
        )
        return user

    user = run_with_ledger(args, run, create=action == "add")
    print(f"user {user.name}: {user.role.value}, {'active' if user.active else 'disabled'}")
    return EXIT_OK


def run_add(args: argparse.Namespace) -> int:
    """Run ``gateway users add NAME --role ROLE``."""
    from gateway.ledger.repository import LedgerError
    from gateway.ledger.users import Role, check_user_name
    from gateway.web.passwords import hash_password

    try:
        check_user_name(args.name)
    except LedgerError as exc:
        raise UsageError(str(exc)) from None
    hashed = hash_password(_password(args))
    return _change(args, "add", lambda ledger: ledger.add_user(args.name, Role(args.role), hashed))


def run_list(args: argparse.Namespace) -> int:
    """Run ``gateway users list``."""

    async def run(ledger: Ledger, _settings: Settings) -> list[UserRecord]:
        return await ledger.users()

    users = run_with_ledger(args, run)
    if args.json:
        rows = [
            {
                "name": u.name,
                "role": u.role.value,
                "active": u.active,
                "created_at": u.created_at,
                "disabled_at": u.disabled_at,
            }
            for u in users
        ]
        print(dumps(rows, indent=2))
        return EXIT_OK
    if not users:
        print("no users; add one with `gateway users add NAME --role admin`")
    for u in users:
        state = "active" if u.active else f"disabled {u.disabled_at:%Y-%m-%d}"
        print(f"{u.name:<24} {u.role.value:<7} {state:<20} since {u.created_at:%Y-%m-%d}")
    return EXIT_OK


def run_disable(args: argparse.Namespace) -> int:
    """Run ``gateway users disable NAME``."""
    return _change(args, "disable", lambda ledger: ledger.disable_user(args.name))


def run_enable(args: argparse.Namespace) -> int:
    """Run ``gateway users enable NAME``."""
    return _change(args, "enable", lambda ledger: ledger.enable_user(args.name))


def run_role(args: argparse.Namespace) -> int:
    """Run ``gateway users role NAME ROLE``."""
    from gateway.ledger.users import Role

    return _change(args, "role", lambda ledger: ledger.set_user_role(args.name, Role(args.role)))


def run_password(args: argparse.Namespace) -> int:
    """Run ``gateway users password NAME``."""
    from gateway.web.passwords import hash_password

    hashed = hash_password(_password(args))
    return _change(args, "password", lambda ledger: ledger.set_user_password(args.name, hashed))
