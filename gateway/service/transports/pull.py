"""Pulling responses: copy what a transport holds into the responses inbox, then mark it fetched."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

import structlog

from gateway.service.files import (
    FileProblem,
    crash_point,
    fit_name,
    fsync_directory,
    numbered_name,
    rename_no_replace,
)
from gateway.service.transports.base import ResponseRefusedError, Transport, TransportError

__all__ = ["OnRefused", "poll_responses", "pull_responses"]

_log = structlog.stdlib.get_logger("gateway.transport")

#: Called once for each response a pull refuses: (name, problem, where it was quarantined).
OnRefused = Callable[[str, FileProblem, Path | None], Awaitable[None]]


async def pull_responses(
    transport: Transport,
    inbox: Path,
    *,
    quarantine: Path | None = None,
    on_refused: OnRefused | None = None,
) -> list[Path]:
    """Copy every waiting response into ``inbox``, then mark it fetched; returns the new files.

    Each response is streamed into a temp file in ``inbox`` (``Transport.fetch_to``: bounded
    memory whatever its size), fsynced, and given its name without ever replacing another file.
    It is marked fetched only once it is safely on disk, so a crash in between fetches it again
    next time, and the ledger recognises the copy by its content hash. A response that cannot be
    fetched for a reason retrying will not cure (too large, unreadable) is moved to
    ``quarantine`` with its ``.error.json`` where the transport can (``Transport.set_aside``),
    else left where it is; either way it is logged and passed to ``on_refused`` once, not at
    every pull. A network failure stops the pull and is raised (the caller tries again later).
    """
    stored: list[Path] = []
    for name in await transport.list_responses():
        try:
            path = await _store_response(transport, inbox, name)
        except TransportError as exc:
            if exc.retryable:
                raise
            await _refuse_response(transport, name, exc, quarantine, on_refused)
            continue
        crash_point("after-response-stored")
        await transport.mark_fetched(name)
        _log.info("response fetched", transport=transport.label, file=name, stored_as=path.name)
        stored.append(path)
    return stored


async def _store_response(transport: Transport, inbox: Path, name: str) -> Path:
    """Stream the response ``name`` into ``inbox`` as ``name`` (``name-2``... if taken).

    The bytes go to an owner-only temp file of the form ``atomic_write`` uses (a dotfile ending
    ``.tmp``: watchers ignore it and ``tidy_folder`` removes one a crash left), which is fsynced
    and then renamed without replacing anything (``rename_no_replace``); the folder is fsynced.
    Whatever fails on the way (a refusal at the size limit, a dropped line), the temp file goes.
    """
    prefix = "." + fit_name(name, reserve=len("..") + 8 + len(".tmp")) + "."
    fd, temp_name = await asyncio.to_thread(
        tempfile.mkstemp, dir=inbox, prefix=prefix, suffix=".tmp"
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            await transport.fetch_to(name, out)
            await asyncio.to_thread(_flush_and_sync, out)
        return await asyncio.to_thread(_name_new_file, temp, inbox, name)
    except BaseException:
        await asyncio.to_thread(temp.unlink, missing_ok=True)
        raise


def _flush_and_sync(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())


def _name_new_file(temp: Path, folder: Path, name: str) -> Path:
    """Rename ``temp`` to ``folder/name``, or ``name-2``, ``name-3``... if taken; never replaces."""
    for n in range(1, 100_000):
        target = folder / (name if n == 1 else numbered_name(name, n))
        try:
            rename_no_replace(temp, target)
        except FileExistsError:
            continue
        fsync_directory(folder)
        return target
    raise FileExistsError(f"no free name for {name} in {folder}")  # pragma: no cover


#: Responses already reported as refused (transport label, name): each is logged once.
_REFUSED: set[tuple[str, str]] = set()


async def _refuse_response(
    transport: Transport,
    name: str,
    exc: TransportError,
    quarantine: Path | None,
    on_refused: OnRefused | None,
) -> None:
    code = exc.code if isinstance(exc, ResponseRefusedError) else "unreadable"
    problem = FileProblem(
        code,
        str(exc),
        "Ask the clearinghouse to split the file, or raise [intake] max_file_bytes, then drop "
        "the response into the responses inbox."
        if code == "too-large"
        else "Check the file in the clearinghouse's folder; once it can be read, drop it into "
        "the responses inbox.",
    )
    where: Path | None = None
    if quarantine is not None:
        try:
            where = await transport.set_aside(name, quarantine, problem)
        except (OSError, ValueError) as error:
            _log.error(
                "response could not be quarantined", transport=transport.label, file=name,
                error=str(error),
            )  # fmt: skip
    key = (transport.label, name)
    if where is None and key in _REFUSED:
        return
    if where is None:
        _REFUSED.add(key)
    else:
        _REFUSED.discard(key)
    _log.error(
        "response refused" + ("; quarantined" if where is not None else "; left where it is"),
        transport=transport.label,
        file=name,
        problem=code,
        error=str(exc),
        quarantined_as=where.name if where is not None else None,
    )
    if on_refused is not None:
        await on_refused(name, problem, where)


async def poll_responses(
    transport: Transport,
    inbox: Path,
    *,
    interval: float,
    stop: asyncio.Event,
    quarantine: Path | None = None,
    on_refused: OnRefused | None = None,
) -> None:
    """Pull responses into ``inbox`` every ``interval`` seconds until ``stop`` is set.

    Transport failures are logged and tried again at the next interval; the inbox watcher takes
    the stored files from there. Cancelling the task also ends it.
    """
    while not stop.is_set():
        try:
            await pull_responses(transport, inbox, quarantine=quarantine, on_refused=on_refused)
        except TransportError as exc:
            _log.warning("response pull failed", transport=transport.label, error=str(exc))
        except OSError as exc:  # the inbox itself (a full disk): keep the service alive, say so
            _log.error("response pull failed", transport=transport.label, error=str(exc))
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            continue
