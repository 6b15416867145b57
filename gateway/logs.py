"""Structured logging for the gateway: structlog configured once per process, PHI redacted.

``configure_logging(settings)`` sends every log event (ours through structlog, and other libraries'
through the standard ``logging`` module) through one pipeline to standard error: JSON lines by
default, a pretty console layout on a terminal. ``redact_phi`` is the structlog processor that
removes protected health information before anything is rendered:

- values under keys that name PHI (first/last/patient/subscriber names, birth dates, member ids,
  SSNs, addresses, phone numbers, e-mail addresses) and whole values under keys that hold a
  person (``encounter``, ``subscriber``, ``patient``...), at any depth;
- in free text (the event message, exception text, anything not known to be safe): the PHI values
  found elsewhere in the same event, dates, SSN/phone/e-mail shaped text, street addresses,
  pydantic ``input_value=...`` echoes, and the personal elements of raw X12 segments quoted in
  text (NM1 names and ids, N3/N4 addresses, DMG birth dates, PER contacts, identifying REFs).

Claim ids, control numbers, file names, codes and amounts are kept: they are what operators need.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from gateway.config import LoggingSettings, Settings

__all__ = [
    "REDACTED",
    "configure_logging",
    "get_logger",
    "redact_phi",
    "redact_text",
]

REDACTED = "[REDACTED]"
_CHATTY_LIBRARIES = ("asyncssh", "watchfiles")

# Keys whose whole value is a person or part of one: replaced entirely, whatever it holds.
_PERSON_KEYS = frozenset(
    {
        "encounter",
        "encounters",
        "subscriber",
        "subscribers",
        "patient",
        "patients",
        "insured",
        "dependent",
        "guarantor",
        "responsible_party",
        "demographics",
        "address",
        "addresses",
        "pay_to_address",
    }
)

# Keys whose value identifies a person.
_PHI_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "middle_name",
        "full_name",
        "name_suffix",
        "name_prefix",
        "birth_date",
        "date_of_birth",
        "dob",
        "birthdate",
        "member_id",
        "subscriber_id",
        "insured_id",
        "patient_id",
        "medical_record_number",
        "mrn",
        "ssn",
        "social_security_number",
        "line1",
        "line2",
        "address1",
        "address2",
        "address_line",
        "street",
        "city",
        "zip",
        "zip_code",
        "postal_code",
        "phone",
        "phone_number",
        "telephone",
        "fax",
        "email",
        "email_address",
        "group_number",
    }
)

# Keys that look personal by their shape but are safe and useful to operators.
_SAFE_KEYS = frozenset(
    {
        "event",
        "level",
        "logger",
        "logger_name",
        "timestamp",
        "file",
        "file_name",
        "filename",
        "path",
        "source",
        "archived_to",
        "quarantined_to",
        "error_file",
        "sha256",
        "content_hash",
        "claim_id",
        "claim_ids",
        "patient_control_number",
        "patient_account_number",
        "payer_name",
        "payer_id",
        "partner",
        "partner_name",
        "organization_name",
        "submitter_name",
        "receiver_name",
        "host",
        "host_name",
        "worker_id",
        "isa13",
        "gs06",
        "st02",
        "interchange_control_number",
        "group_control_number",
        "transaction_set_control_number",
        "control_number",
        "control_numbers",
    }
)

_PHI_KEY_PARTS = ("birth", "member_id", "ssn", "street", "address", "phone", "email")
_PERSON_PREFIXES = ("patient_", "subscriber_", "insured_", "dependent_", "guarantor_")

_MONTHS = r"(?:0?[1-9]|1[0-2])"
_DAYS = r"(?:0?[1-9]|[12]\d|3[01])"
_STREET_TYPES = (
    r"ST|STREET|AVE|AVENUE|RD|ROAD|DR|DRIVE|LN|LANE|BLVD|BOULEVARD|CT|COURT|WAY|PL|PLACE|PKWY|"
    r"PARKWAY|HWY|HIGHWAY|CIR|CIRCLE|TER|TERRACE|TRL|TRAIL"
)

# Free-text patterns, applied in order.
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # pydantic echoes the offending input: "input_value='SMITH', input_type=str"
    (
        re.compile(r"input_value=(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^,\]]*)"),
        f"input_value={REDACTED}",
    ),
    # ISO dates (also inside timestamps of free text), US dates, and X12 D8/RD8 date values
    (re.compile(rf"\b(?:1[89]|20)\d\d-{_MONTHS}-{_DAYS}\b"), REDACTED),
    (re.compile(rf"\b{_MONTHS}/{_DAYS}/(?:1[89]|20)?\d\d\b"), REDACTED),
    (re.compile(r"\b(R?D8)\*\d{8}(?:-\d{8})?\b"), rf"\1*{REDACTED}"),
    # SSN, phone numbers, e-mail addresses
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), REDACTED),
    (re.compile(r"(?:\(\d{3}\)\s?|\b\d{3}[-.\s])\d{3}[-.]\d{4}\b"), REDACTED),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), REDACTED),
    # street addresses: a house number, up to four words, a street type
    (
        re.compile(
            rf"\b\d{{1,6}}[A-Z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z0-9][\w.'-]*\s+){{0,4}}"
            rf"(?:{_STREET_TYPES})\b\.?(?:\s+(?:APT|UNIT|STE|SUITE|#)\s*\w+)?",
            re.IGNORECASE,
        ),
        REDACTED,
    ),
    (re.compile(r"\bP\.?\s?O\.?\s+BOX\s+\d+\b", re.IGNORECASE), REDACTED),
)

# Raw X12 segments quoted in text (any element separator among the usual ones).
_SEGMENT = re.compile(r"\b(NM1|N3|N4|DMG|PER|REF)([*|^:])([^~\n\r]*)")
# REF qualifiers whose values are claim or provider references, not personal ones.
_SAFE_REF_QUALIFIERS = frozenset({"6R", "F8", "D9", "1K", "EI", "G1", "9F", "TJ", "EV", "2U"})


def _normal_key(key: object) -> str:
    return str(key).strip().lower().replace("-", "_").replace(" ", "_")


def _is_person_key(key: str) -> bool:
    return key in _PERSON_KEYS


def _is_phi_key(key: str) -> bool:
    if key in _SAFE_KEYS:
        return False
    if key in _PHI_KEYS or any(part in key for part in _PHI_KEY_PARTS):
        return True
    if key.startswith(_PERSON_PREFIXES):
        return True
    return key.endswith(("_first_name", "_last_name", "_middle_name", "_dob", "_zip"))


def _redact_segment(match: re.Match[str]) -> str:
    tag, separator, rest = match.group(1), match.group(2), match.group(3)
    elements = rest.split(separator)
    if tag == "NM1":
        # NM101 entity, NM102 type and NM108 id qualifier are kept; names and NM109 id are not.
        kept = {0, 1, 7}
    elif tag == "REF" and elements and elements[0] in _SAFE_REF_QUALIFIERS:
        kept = {0, 1, 2}
    elif tag in ("REF", "PER", "DMG"):
        kept = {0}  # the qualifier only
    else:  # N3, N4: every element is part of an address
        kept = set()
    redacted = [e if i in kept or not e else REDACTED for i, e in enumerate(elements)]
    return tag + separator + separator.join(redacted)


# key=value, key: value, "key": "value" in text (reprs, JSON, messages): redacted for PHI keys.
# A value is a quoted string, a call such as datetime.date(1975, 9, 30), or a bare word.
_KEY_VALUE = re.compile(
    r"""(?P<q>["']?)(?P<key>[A-Za-z_][\w-]*)(?P=q)(?P<sep>\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
    r"""|[\w.]+\((?:[^()]|\([^()]*\))*\)|[^\s,;{}()\[\]]+)"""
)


def _redact_key_value(match: re.Match[str]) -> str:
    key = _normal_key(match.group("key"))
    if not (_is_phi_key(key) or _is_person_key(key)) or match.group("value") in ("None", "null"):
        return match.group(0)
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('q')}{match.group('key')}{match.group('q')}{match.group('sep')}" + (
        f"{quote}{REDACTED}{quote}"
    )


def redact_text(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with PHI-looking content replaced by ``[REDACTED]``.

    ``known`` are PHI values (names, ids...) to remove wherever they appear as whole words.
    """
    for value in sorted({k for k in known if len(k.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value.strip())}(?!\w)", REDACTED, text, flags=re.I)
    text = _SEGMENT.sub(_redact_segment, text)
    text = _KEY_VALUE.sub(_redact_key_value, text)
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _collect_phi(value: Any, under_phi_key: bool, found: set[str]) -> None:
    """Gather the values held under PHI keys (names, ids, birth dates...), at any depth."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _collect_phi(item, under_phi_key or _is_phi_key(_normal_key(key)), found)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _collect_phi(item, under_phi_key, found)
    elif isinstance(value, str | int | date) and not isinstance(value, bool):
        if under_phi_key:
            found.add(value.isoformat() if isinstance(value, date) else str(value))
    elif not isinstance(value, float | Decimal | PurePath | type(None)):
        plain = _plain(value)
        if plain is not value:
            _collect_phi(plain, under_phi_key, found)


def _plain(value: Any) -> Any:
    """Models and dataclasses as dicts, so their fields go through the same redaction."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:  # a broken model must not break logging
            return repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _redact_value(value: Any, known: set[str], scan_text: bool) -> Any:
    if isinstance(value, Mapping):
        return {key: _redact_item(str(key), item, known) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(item, known, scan_text) for item in value]
    if isinstance(value, str):
        return redact_text(value, known) if scan_text else value
    if value is None or isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, BaseException):
        return redact_text(f"{type(value).__name__}: {value}", known)
    plain = _plain(value)
    if plain is not value:
        return _redact_value(plain, known, scan_text)
    return redact_text(repr(value), known)


def _redact_item(key: str, value: Any, known: set[str]) -> Any:
    k = _normal_key(key)
    if value is None or value == "":
        return value
    if _is_person_key(k) or _is_phi_key(k):
        return REDACTED
    return _redact_value(value, known, scan_text=k not in _SAFE_KEYS or k == "event")


def redact_phi(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: remove PHI from the event (see the module docstring for what)."""
    known: set[str] = set()
    _collect_phi(event_dict, False, known)
    return {key: _redact_item(str(key), value, known) for key, value in event_dict.items()}


def _want_pretty(fmt: str, stream: TextIO) -> bool:
    if fmt == "pretty":
        return True
    if fmt == "json":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False


class _GatewayHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure_logging`` installs (recognised so a second call replaces it)."""


def configure_logging(
    settings: Settings | LoggingSettings | None = None,
    *,
    log_format: str | None = None,
    level: str | None = None,
    stream: TextIO | None = None,
) -> None:
    """Configure structlog and the standard ``logging`` module for this process.

    ``log_format`` and ``level`` (e.g. from command-line options) win over ``settings``; with
    neither, the format is ``auto`` (pretty on a terminal, JSON otherwise) and the level ``info``.
    Logs go to ``stream`` (standard error by default). A second call replaces the first.
    """
    log_settings = settings.logging if isinstance(settings, Settings) else settings
    fmt = (log_format or (log_settings.format if log_settings else "auto")).lower()
    level_name = (level or (log_settings.level if log_settings else "info")).upper()
    numeric_level = logging.getLevelName(level_name)
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")
    out = stream if stream is not None else sys.stderr
    pretty = _want_pretty(fmt, out)

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
        # Exceptions become text here so that the redaction below sees their messages.
        structlog.processors.format_exc_info,
        redact_phi,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=_colors(out))
        if pretty
        else structlog.processors.JSONRenderer(default=_json_default)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = _GatewayHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _GatewayHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    # asyncssh reports every channel and watchfiles every change at INFO; their warnings are
    # what an operator needs.
    for chatty in _CHATTY_LIBRARIES:
        logging.getLogger(chatty).setLevel(max(numeric_level, logging.WARNING))


def _colors(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False


def _json_default(value: object) -> object:
    if isinstance(value, Decimal | PurePath):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return REDACTED  # unknown objects were already turned to text by redact_phi


def get_logger(name: str | None = None, **bound: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger named ``name`` with ``bound`` key/values (file, claim id, ...)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger.bind(**bound) if bound else logger
