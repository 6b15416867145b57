"""``gateway db upgrade``: bring the ledger schema up to date (also done on every start).

Also holds what the ledger commands (``queue``, ``claim``, ``status``, ``db``) share: the
``--config`` option and opening the ledger it names, with configuration and database problems
turned into exit 2 and a message instead of a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from gateway.cli import EXIT_OK, UsageError
from gateway.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from gateway.ledger.store import Ledger

DEFAULT_CONFIG = Path("config") / "gateway.toml"
T = TypeVar("T")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--config PATH`` option every ledger command takes."""
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the gateway configuration naming the workspace and the ledger URL "
        f"(default: {DEFAULT_CONFIG} in the current folder, else the built-in defaults)",
    )


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings named by ``--config`` (the default file when present, else the defaults)."""
    path: Path | None = Path(args.config) if args.config else None
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    try:
        return load_settings(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def run_with_ledger(
    args: argparse.Namespace,
    action: Callable[[Ledger, Settings], Awaitable[T]],
    *,
    upgrade: bool = True,
    create: bool = False,
) -> T:
    """Open the ledger of ``--config``, run ``action``, close it; database errors become exit 2.

    A SQLite ledger that does not exist yet is created only when ``create`` (``db upgrade``);
    the other commands say where they looked instead of leaving an empty database behind.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError  # the database stack loads only when needed

    from gateway.ledger.store import Ledger, LedgerError

    settings = settings_for(args)
    try:
        url = make_url(settings.ledger_url)
    except Exception as exc:  # any unparsable URL is a configuration error
        raise UsageError(f"ledger URL {settings.ledger_url!r} cannot be read: {exc}") from None
    database = url.database or ""
    is_file = url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if not create and is_file and not Path(database).exists():
        raise UsageError(
            f"no ledger at {database}: run `gateway run` (or `gateway db upgrade`) with "
            "this configuration first, or pass --config naming your workspace"
        )

    async def main() -> T:
        try:
            ledger = await Ledger.open(settings.ledger_url, upgrade=upgrade)
        except (LedgerError, SQLAlchemyError, OSError) as exc:
            raise UsageError(
                f"cannot open the ledger {_safe(settings.ledger_url)}: {_said(exc)}"
            ) from None
        try:
            return await action(ledger, settings)
        finally:
            await ledger.close()

    try:
        return asyncio.run(main())
    except SQLAlchemyError as exc:
        raise UsageError(f"ledger {_safe(settings.ledger_url)}: {_said(exc)}") from None


def _said(exc: BaseException) -> str:
    """What the database said, without SQLAlchemy's wrapper text and help links."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc)
    return text.split("\n(Background on this error")[0].strip() or exc.__class__.__name__


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``db`` sub-command."""
    parser = subparsers.add_parser(
        "db",
        help="ledger database maintenance (schema upgrade)",
        description="Ledger database maintenance. `gateway db upgrade` applies the schema "
        "migrations (the service does this on start too); `gateway db revision` prints the "
        "schema revision the database is at.",
    )
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION")
    actions.required = True
    upgrade = actions.add_parser("upgrade", help="apply every pending schema migration")
    add_config_argument(upgrade)
    upgrade.set_defaults(func=run_upgrade)
    revision = actions.add_parser("revision", help="print the schema revision of the ledger")
    add_config_argument(revision)
    revision.set_defaults(func=run_revision)


def run_upgrade(args: argparse.Namespace) -> int:
    """Run ``gateway db upgrade``."""

    async def action(ledger: Ledger, settings: Settings) -> str | None:
        await ledger.upgrade()
        return await ledger.revision()

    revision = run_with_ledger(args, action, create=True)
    settings = settings_for(args)
    print(f"ledger {_safe(settings.ledger_url)} is at schema revision {revision}")
    return EXIT_OK


def run_revision(args: argparse.Namespace) -> int:
    """Run ``gateway db revision``."""

    async def action(ledger: Ledger, settings: Settings) -> str | None:
        return await ledger.revision()

    print(run_with_ledger(args, action, upgrade=False) or "none", file=sys.stdout)
    return EXIT_OK
