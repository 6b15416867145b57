"""The simulator as a process: folder custody of the pickup and drop folders, and the loop.

``Simulator`` (``gateway simulate``, ``gateway demo``) takes each complete 837 from the pickup
folder once (atomic rename into ``<work>/processed``), answers it with ``core.respond``, keeps the
answer as a pending bundle, and drops each response atomically into the drop folder when its
delay has passed. ``run_once()`` answers what is waiting and delivers everything at once.
``folders_from_settings`` finds the folders of a partner's directory transport.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog

from gateway.config import ConfigError, Settings
from gateway.service.files import (
    SettleTracker,
    atomic_write,
    ensure_private_dir,
    move_no_overwrite,
    read_file_sync,
    write_new_file,
)
from gateway.service.transports import DirectoryTransport, transport_from_config
from gateway.simulator.core import Answer, SimulatorState, respond
from gateway.simulator.rules import SimulatorRules, load_rules

__all__ = ["MAX_837_BYTES", "Simulator", "folders_from_settings"]

_log = structlog.stdlib.get_logger("gateway.simulator")
MAX_837_BYTES = 100 * 1024 * 1024


def folders_from_settings(
    settings: Settings, partner_name: str = "demo-clearinghouse"
) -> tuple[Path, Path]:
    """The pickup and drop folders of a partner's directory transport in ``settings``.

    Without that partner: the workspace outbox and the responses inbox. A partner whose transport
    is not a folder (SFTP) is a ``ConfigError``: the simulator serves folders only.
    """
    transport: DirectoryTransport | None = None
    if settings.partners_dir.is_dir():
        partners = settings.load_partners()
        if partner_name in partners:
            partner = partners.get(partner_name)
            source = partner.source or settings.partners_dir / f"{partner.name}.toml"
            found = transport_from_config(
                partner.transport,
                workspace=settings.workspace,
                base_dir=source.parent,
                source=str(source),
            )
            if not isinstance(found, DirectoryTransport):
                raise ConfigError(
                    str(source), "[transport] kind", "is not a directory; give the folders instead"
                )
            transport = found
    pickup = transport.pickup_dir if transport else settings.workspace.outbox
    drop = (transport.drop_dir if transport else None) or settings.workspace.responses_inbox
    return pickup, drop


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Simulator:
    """The simulator as a process: watches ``pickup``, answers into ``drop`` (see module docs).

    ``work`` holds ``state.json`` (control numbers), ``incoming/`` (an 837 being answered),
    ``processed/`` (every 837 answered, kept), ``pending/`` (answers whose responses are not all
    delivered yet) and ``delivered/`` (answers fully delivered, kept). A crash at any point loses
    nothing: an 837 in ``incoming/`` without a pending answer is answered again on start, and a
    pending answer resumes its deliveries (a response already in the drop folder is not written
    twice).
    """

    def __init__(
        self,
        pickup: Path,
        drop: Path,
        work: Path,
        *,
        rules: SimulatorRules | None = None,
        settle_seconds: float = 0.0,
        poll_interval: float = 0.5,
        use_delays: bool = True,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.pickup = Path(pickup)
        self.drop = Path(drop)
        self.work = Path(work)
        self.rules = rules or load_rules()
        self.poll_interval = poll_interval
        self.use_delays = use_delays
        self.clock = clock
        self._tracker = SettleTracker(settle_seconds)
        self.answers: list[Answer] = []
        self._recovered = False
        for folder in (self.drop, self.incoming, self.processed, self.pending, self.delivered):
            ensure_private_dir(folder)
        self.state = self._load_state()

    @property
    def incoming(self) -> Path:
        """Where an 837 waits while it is answered."""
        return self.work / "incoming"

    @property
    def processed(self) -> Path:
        """Every 837 answered (never deleted)."""
        return self.work / "processed"

    @property
    def pending(self) -> Path:
        """Answers with responses still to deliver."""
        return self.work / "pending"

    @property
    def delivered(self) -> Path:
        """Answers fully delivered (never deleted)."""
        return self.work / "delivered"

    @property
    def state_file(self) -> Path:
        """The control-number state (JSON)."""
        return self.work / "state.json"

    def _load_state(self) -> SimulatorState:
        try:
            return SimulatorState.from_json(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return SimulatorState()
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{self.state_file}: not a simulator state file ({exc})") from exc

    def _save_state(self) -> None:
        atomic_write(self.state_file, self.state.to_json().encode())

    # -- taking and answering ------------------------------------------------------------------

    def _take(self, path: Path) -> Path | None:
        """Move an 837 from the pickup folder into ``incoming`` (None when someone was faster)."""
        try:
            return move_no_overwrite(path, self.incoming, path.name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        # the pickup folder is on another file system (a network share): copy, then remove
        data = read_file_sync(path, MAX_837_BYTES)
        held = write_new_file(self.incoming, path.name, data)
        path.unlink(missing_ok=True)
        return held

    def _answer(self, held: Path) -> Answer:
        """Answer the 837 at ``held`` (in ``incoming``), store the pending bundle, file it."""
        data = read_file_sync(held, MAX_837_BYTES)
        now = self.clock()
        state = SimulatorState.from_json(self.state.to_json())
        answer = respond(data, self.rules, state, now=now, name=held.name)
        bundle = {
            "source": held.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "picked_up": now.isoformat(),
            "outcome": answer.outcome,
            "message": answer.message,
            "state": json.loads(state.to_json()),
            "responses": [
                {
                    "name": r.name,
                    "stage": r.stage.value,
                    "due": (now.timestamp() + (r.delay if self.use_delays else 0.0)),
                    "data": r.data.decode("latin-1"),
                    "delivered": False,
                }
                for r in answer.responses
            ],
        }
        bundle_name = f"{now:%Y%m%dT%H%M%S%f}-{held.name}.json"
        atomic_write(self.pending / bundle_name, json.dumps(bundle).encode())
        self.state = state
        self._save_state()
        move_no_overwrite(held, self.processed, held.name)
        _log.info(
            "837 answered",
            file=held.name,
            isa13=answer.isa13,
            outcome=answer.outcome,
            responses=[r.name for r in answer.responses],
            summary=answer.message,
        )
        self.answers.append(answer)
        return answer

    def _recover(self) -> None:
        """After a crash: adopt the newest pending state, file or re-answer held 837s."""
        bundles = sorted(self.pending.glob("*.json"))
        for path in bundles:
            saved = SimulatorState.from_json(json.dumps(json.loads(path.read_text())["state"]))
            if saved.interchange > self.state.interchange or saved.trace > self.state.trace:
                self.state = saved
                self._save_state()
        answered = {json.loads(p.read_text())["source"] for p in bundles}
        for held in sorted(self.incoming.iterdir()):
            if not held.is_file():
                continue
            if held.name in answered:
                move_no_overwrite(held, self.processed, held.name)
            else:
                self._answer_or_set_aside(held)

    def _deliver_due(self, *, everything: bool) -> list[Path]:
        """Drop every response whose time has come (all of them with ``everything``)."""
        written: list[Path] = []
        now = self.clock().timestamp()
        for path in sorted(self.pending.glob("*.json")):
            bundle = json.loads(path.read_text())
            changed = False
            for r in bundle["responses"]:
                if r["delivered"] or (not everything and r["due"] > now):
                    continue
                data = r["data"].encode("latin-1")
                target = self.drop / r["name"]
                if not (target.exists() and target.read_bytes() == data):
                    target = write_new_file(self.drop, r["name"], data)
                    written.append(target)
                    _log.info("response dropped", file=r["name"], stage=r["stage"])
                r["delivered"] = True
                changed = True
            if all(r["delivered"] for r in bundle["responses"]):
                if changed:
                    atomic_write(path, json.dumps(bundle).encode())
                move_no_overwrite(path, self.delivered, path.name)
            elif changed:
                atomic_write(path, json.dumps(bundle).encode())
        return written

    def next_due(self) -> float | None:
        """Seconds until the next pending response is due (None when nothing is pending)."""
        dues = [
            r["due"]
            for path in self.pending.glob("*.json")
            for r in json.loads(path.read_text())["responses"]
            if not r["delivered"]
        ]
        return max(0.0, min(dues) - self.clock().timestamp()) if dues else None

    @property
    def failed(self) -> Path:
        """837s the simulator could not answer (too large, unreadable): kept for a look."""
        return self.work / "failed"

    def _answer_or_set_aside(self, held: Path) -> None:
        try:
            self._answer(held)
        except (OSError, ValueError, UnicodeError) as exc:
            target = move_no_overwrite(held, self.failed, held.name)
            _log.error("837 not answered", file=held.name, error=str(exc), kept_as=str(target))

    def _cycle(self, *, everything: bool) -> list[Path]:
        for path in self._tracker.scan(self.pickup):
            held = self._take(path)
            if held is not None:
                self._answer_or_set_aside(held)
        return self._deliver_due(everything=everything)

    async def step(self) -> list[Path]:
        """Answer every complete 837 waiting, drop the responses now due (no waiting)."""
        if not self._recovered:
            await asyncio.to_thread(self._recover)
            self._recovered = True
        return await asyncio.to_thread(self._cycle, everything=not self.use_delays)

    async def run_once(self) -> list[Path]:
        """Answer every complete 837 waiting and drop all its responses now; returns them."""
        if not self._recovered:
            await asyncio.to_thread(self._recover)
            self._recovered = True
        return await asyncio.to_thread(self._cycle, everything=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Answer and deliver until ``stop`` is set (finishing the file in hand)."""
        while not stop.is_set():
            try:
                await self.step()
            except OSError as exc:  # a full disk, a folder gone: say so, try again next time
                _log.error("simulator step failed", error=str(exc))
            wait = self.poll_interval
            due = await asyncio.to_thread(self.next_due)
            if due is not None:
                wait = min(wait, max(due, 0.01))
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except TimeoutError:
                continue
