"""``gateway web``: the console served by uvicorn, on 127.0.0.1 unless TLS is settled.

:func:`check_bind` is the rule: a loopback address is always allowed; any other address needs
``[web] tls_certificate`` and ``tls_key`` (uvicorn serves TLS) or ``[web] behind_tls_proxy = true``
(a proxy in front terminates it); otherwise a ``UsageError`` (exit 2) says what to set.
"""

from __future__ import annotations

import logging

from uvicorn.logging import AccessFormatter

from gateway.config import Settings, WebSettings
from gateway.errors import UsageError
from gateway.web.security import is_loopback

__all__ = ["PathOnlyAccessFormatter", "check_bind", "is_loopback", "serve"]


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
    import uvicorn

    from gateway.web.application import app

    web = settings.web
    host = host or web.host
    port = port or web.port
    check_bind(web, host)
    for path in (web.tls_certificate, web.tls_key):
        if path is not None and not path.is_file():
            raise UsageError(f"[web] TLS file {path} does not exist; check tls_certificate/tls_key")
    config = uvicorn.Config(
        app(settings),
        host=host,
        port=port,
        ssl_certfile=str(web.tls_certificate) if web.tls_certificate else None,
        ssl_keyfile=str(web.tls_key) if web.tls_key else None,
        proxy_headers=web.behind_tls_proxy,
        forwarded_allow_ips="127.0.0.1" if web.behind_tls_proxy else None,
        server_header=False,
        access_log=True,
        log_config=_log_config(),
    )
    uvicorn.Server(config).run()


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
