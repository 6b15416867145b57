"""The in-memory transport, for tests: what was put, and the responses waiting."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.service.files import is_candidate_name
from gateway.service.transports.base import Transport, TransportError, check_name

__all__ = ["InMemoryTransport"]


@dataclass
class InMemoryTransport(Transport):
    """A transport for unit tests: ``sent`` holds what was put, ``responses`` what may be fetched.

    ``put_failures`` are raised, one per call, by the next puts (to test failure handling).
    """

    sent: dict[str, bytes] = field(default_factory=dict)
    responses: dict[str, bytes] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    put_failures: list[TransportError] = field(default_factory=list)
    label: str = "memory"

    async def put(self, name: str, data: bytes) -> None:
        check_name(name)
        if self.put_failures:
            raise self.put_failures.pop(0)
        if name in self.sent and self.sent[name] != data:
            raise TransportError(f"{self.label}: put {name}: a different file has that name")
        self.sent[name] = bytes(data)

    async def list_responses(self) -> list[str]:
        return sorted(n for n in self.responses if is_candidate_name(n))

    async def fetch(self, name: str) -> bytes:
        try:
            return self.responses[check_name(name)]
        except KeyError:
            raise TransportError(f"{self.label}: fetch {name}: no such response") from None

    async def mark_fetched(self, name: str) -> None:
        if self.responses.pop(check_name(name), None) is None:
            raise TransportError(f"{self.label}: mark {name} fetched: no such response")
        self.fetched.append(name)
