"""How claim files reach the clearinghouse and its responses come back: one small async interface.

A ``Transport`` has four operations, and the pipeline never knows which transport it holds:

- ``put(name, data)``: deliver a file; returns only once the file is completely in place under
  ``name`` (written under a temporary name, then renamed), and raises ``TransportError`` otherwise:
  a failed upload is never reported as a success. Putting the same bytes under the same name again
  succeeds (a resend after a crash); different bytes under a taken name are refused.
- ``list_responses()``: the names of the response files waiting (no dotfiles, ``.tmp``, ``.part``).
- ``fetch(name)``: a response file's bytes; ``fetch_to(name, out)`` writes them into a local file
  in chunks instead (what ``pull_responses`` uses: a response of any size is pulled in bounded
  memory, and refused as soon as it passes the size limit).
- ``mark_fetched(name)``: once the response is stored safely on our side, move it out of the way
  (into a ``fetched`` folder) or delete it, as configured.

Implementations: ``DirectoryTransport`` (the clearinghouse's pickup and drop folders; the default),
``SftpTransport`` (asyncssh: key authentication only, the host key pinned from a known_hosts file,
retries with exponential back-off on network errors), and ``InMemoryTransport`` for tests.
Every ``TransportError`` says which transport, which operation and which file, and its ``kind``
(``ErrorKind``): a server missing from known_hosts (with the ``ssh-keyscan`` line and the
fingerprint to check), a key other than the pinned one (with the known_hosts line), our key
refused, a network problem... The service backs off between attempts by that kind
(``gateway.service.transport_health``).

``transport_from_config`` builds one from a trading partner's ``[transport]`` table.

The package's modules: ``base`` (the interface, its errors, ``check_name``), ``directory``,
``sftp``, ``memory`` (the transports), ``pull`` (pulling responses into the inbox) and
``from_config`` (the factory). Import from the package: ``gateway.service.transports``.
"""

from gateway.service.transports.base import (
    DEFAULT_MAX_BYTES,
    AfterFetch,
    ErrorKind,
    ResponseRefusedError,
    Transport,
    TransportError,
    check_name,
)
from gateway.service.transports.directory import DirectoryTransport
from gateway.service.transports.from_config import transport_from_config
from gateway.service.transports.memory import InMemoryTransport
from gateway.service.transports.pull import OnRefused, poll_responses, pull_responses
from gateway.service.transports.sftp import RetryPolicy, SftpTransport

__all__ = [
    "DEFAULT_MAX_BYTES",
    "AfterFetch",
    "DirectoryTransport",
    "ErrorKind",
    "InMemoryTransport",
    "OnRefused",
    "ResponseRefusedError",
    "RetryPolicy",
    "SftpTransport",
    "Transport",
    "TransportError",
    "check_name",
    "poll_responses",
    "pull_responses",
    "transport_from_config",
]
