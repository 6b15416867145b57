"""Pulling responses: copy what a transport holds into the responses inbox, then mark it fetched."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from gateway.service.files import FileProblem, write_new_file
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

    A response is marked fetched only once it is safely on disk (written atomically, never over
    another file), so a crash in between fetches it again next time, and the ledger recognises
    the copy by its content hash. A response that cannot be fetched for a reason retrying will
    not cure (too large, unreadable) is moved to ``quarantine`` with its ``.error.json`` where
    the transport can (``Transport.set_aside``), else left where it is; either way it is logged
    and passed to ``on_refused`` once, not at every pull. A network failure stops the pull and is
    raised (the caller tries again later).
    """
    stored: list[Path] = []
    for name in await transport.list_responses():
        try:
            data = await transport.fetch(name)
        except TransportError as exc:
            if exc.retryable:
                raise
            await _refuse_response(transport, name, exc, quarantine, on_refused)
            continue
        path = await asyncio.to_thread(write_new_file, inbox, name, data)
        await transport.mark_fetched(name)
        _log.info("response fetched", transport=transport.label, file=name, stored_as=path.name)
        stored.append(path)
    return stored


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
