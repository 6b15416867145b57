"""``gateway web``: the console served by uvicorn, on 127.0.0.1 unless TLS is settled.

:func:`check_bind` is the rule: a loopback address is always allowed; any other address needs
``[web] tls_certificate`` and ``tls_key`` (uvicorn serves TLS) or ``[web] behind_tls_proxy = true``
(a proxy in front terminates it); otherwise a ``UsageError`` (exit 2) says what to set.

Stopping (Ctrl-C, SIGTERM) is quick: the app is told (``WebState.stopping``), so the open queue
pages' live feeds end at their next poll (the browsers reconnect once the console is back), and
uvicorn waits at most :data:`GRACEFUL_SECONDS` for requests still running.
"""

from __future__ import annotations

import logging
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.logging import AccessFormatter

from gateway.config import Settings, WebSettings
from gateway.errors import UsageError
from gateway.web.security import is_loopback

if TYPE_CHECKING:
    from gateway.web.application import WebState

__all__ = ["GRACEFUL_SECONDS", "PathOnlyAccessFormatter", "check_bind", "is_loopback", "serve"]

#: How long a stop waits for the requests still running before it ends them (seconds).
GRACEFUL_SECONDS = 3


def check_bind(web: WebSettings, host: str) -> None:
    """Refuse to listen on ``host`` without TLS unless it is a loopback address."""
    if is_loopback(host) or web.tls or web.behind_tls_proxy:
        return
    raise UsageError(
        f"refusing to listen on {host} without TLS: patient data would cross the network in "
        "clear text. Set [web] tls_certificate and tls_key (PEM files) in the configuration, or "
        "[web] behind_tls_proxy = true when a TLS proxy is in front, or listen on 127.0.0.1"
    )


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the console until interrupted (uvicorn, one process; access log without queries)."""
    server(settings, host, port).run()


class ConsoleServer(uvicorn.Server):
    """uvicorn's server, which tells the app when it is asked to stop."""

    def __init__(self, config: uvicorn.Config, state: WebState) -> None:
        super().__init__(config)
        self.web_state = state

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Stop: the live feeds end at their next poll, then uvicorn stops as it does."""
        self.web_state.stopping = True
        super().handle_exit(sig, frame)


def server(settings: Settings, host: str | None = None, port: int | None = None) -> ConsoleServer:
    """The console's uvicorn server for ``settings`` (not started)."""
    from gateway.web.application import app

    web = settings.web
    host = host or web.host
    port = port or web.port
    check_bind(web, host)
    for path in (web.tls_certificate, web.tls_key):
        if path is not None and not path.is_file():
            raise UsageError(f"[web] TLS file {path} does not exist; check tls_certificate/tls_key")
    application = app(settings)
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        ssl_certfile=str(web.tls_certificate) if web.tls_certificate else None,
        ssl_keyfile=str(web.tls_key) if web.tls_key else None,
        proxy_headers=web.behind_tls_proxy,
        forwarded_allow_ips="127.0.0.1" if web.behind_tls_proxy else None,
        server_header=False,
        access_log=True,
        log_config=_log_config(),
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    return ConsoleServer(config, application.state.web)


def _log_config() -> dict[str, object]:
    """uvicorn's logging, with its access lines showing the path without the query string."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, object] = {**LOGGING_CONFIG}
    formatters = dict(LOGGING_CONFIG["formatters"])
    formatters["access"] = {
        **LOGGING_CONFIG["formatters"]["access"],
        "()": "gateway.web.server.PathOnlyAccessFormatter",
    }
    config["formatters"] = formatters
    return config


class PathOnlyAccessFormatter(AccessFormatter):
    """uvicorn's access line without the query string (a search may have typed anything)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, full_path, version, status = args
            path = str(full_path).split("?", 1)[0]
            record = logging.makeLogRecord(
                {**record.__dict__, "args": (client, method, path, version, status)}
            )
        return super().formatMessage(record)
