"""Tests for gateway.logs: the PHI redaction processor and the logging configuration."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture

from gateway.config import LoggingSettings
from gateway.logs import REDACTED, configure_logging, get_logger, redact_phi, redact_text

CONTRACT = Path(__file__).resolve().parent.parent.parent / "shared" / "contract"
EXAMPLES = sorted(CONTRACT.glob("*.json"))
PERSON_FIELDS = ("first_name", "last_name", "middle_name", "birth_date", "member_id")
ADDRESS_FIELDS = ("line1", "line2")


def phi_values(encounter: dict[str, Any]) -> set[str]:
    """The names, birth dates, member ids and street addresses of an example's people."""
    found: set[str] = set()
    for role in ("subscriber", "patient"):
        person = encounter.get(role) or {}
        found |= {str(person[f]) for f in PERSON_FIELDS if person.get(f)}
        address = person.get("address") or {}
        found |= {str(address[f]) for f in ADDRESS_FIELDS if address.get(f)}
    return found


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put structlog and the root logger back as they were after a test configures them."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {"event": "claim queued", "claim_id": "C-1", "amount": "10.00", "isa13": "000000001"},
            {"event": "claim queued", "claim_id": "C-1", "amount": "10.00", "isa13": "000000001"},
        ),
        (
            {"event": "x", "first_name": "ANA", "last_name": "LI", "birth_date": "1990-01-02"},
            {"event": "x", "first_name": REDACTED, "last_name": REDACTED, "birth_date": REDACTED},
        ),
        (
            {"event": "x", "subscriber": {"member_id": "M1", "gender": "F"}, "patient": None},
            {"event": "x", "subscriber": REDACTED, "patient": None},
        ),
        (
            {"event": "x", "encounter": {"claim_id": "C-1"}, "Member-ID": "Z9", "dob": "x"},
            {"event": "x", "encounter": REDACTED, "Member-ID": REDACTED, "dob": REDACTED},
        ),
        (
            {"event": "x", "details": {"subscriber_last_name": "DOE", "code": "J069"}},
            {"event": "x", "details": {"subscriber_last_name": REDACTED, "code": "J069"}},
        ),
        (
            {"event": "x", "patient_control_number": "PCN-7", "file": "1975-01-02-in.json"},
            {"event": "x", "patient_control_number": "PCN-7", "file": "1975-01-02-in.json"},
        ),
        (
            {"event": "x", "lines": [{"charge": Decimal("1.50"), "date": date(2026, 1, 2)}]},
            {"event": "x", "lines": [{"charge": Decimal("1.50"), "date": date(2026, 1, 2)}]},
        ),
        (
            {"event": "rejected DOE JANE", "last_name": "DOE", "first_name": "JANE"},
            {
                "event": f"rejected {REDACTED} {REDACTED}",
                "last_name": REDACTED,
                "first_name": REDACTED,
            },
        ),
        (
            {"event": "x", "note": "member W123 moved", "ids": {"member_id": "W123"}},
            {"event": "x", "note": f"member {REDACTED} moved", "ids": {"member_id": REDACTED}},
        ),
    ],
)
def test_redact_phi_removes_phi_keys_and_keeps_operational_ones(
    event: dict[str, Any], expected: dict[str, Any]
) -> None:
    """PHI keys (at any depth, any spelling) are redacted; claim ids, codes and amounts are kept."""
    assert expected == redact_phi(None, "info", event)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("born 1975-09-30", f"born {REDACTED}"),
        ("born 09/30/1975", f"born {REDACTED}"),
        ("ssn 123-45-6789 phone (217) 555-0100", f"ssn {REDACTED} phone {REDACTED}"),
        ("mail jane.doe@example.org now", f"mail {REDACTED} now"),
        ("lives at 100 N Main St Apt 4 in town", f"lives at {REDACTED} in town"),
        ("lives at 18 LINCOLN DR", f"lives at {REDACTED}"),
        ("PO Box 42", REDACTED),
        ("NM1*IL*1*DOE*JANE****MI*W1~", f"NM1*IL*1*{REDACTED}*{REDACTED}****MI*{REDACTED}~"),
        ("N4*CHATHAM*IL*62629~", f"N4*{REDACTED}*{REDACTED}*{REDACTED}~"),
        ("DMG*D8*19750930*M~", f"DMG*D8*{REDACTED}*{REDACTED}~"),
        ("REF*6R*LINE-1~REF*SY*123456789~", f"REF*6R*LINE-1~REF*SY*{REDACTED}~"),
        ("DTP*434*RD8*20261012-20261015", f"DTP*434*RD8*{REDACTED}"),
        (
            "Subscriber(member_id='W1', gender='F')",
            f"Subscriber(member_id='{REDACTED}', gender='F')",
        ),
        ('{"last_name": "DOE", "code": "J069"}', f'{{"last_name": "{REDACTED}", "code": "J069"}}'),
        ("birth_date=datetime.date(1975, 9, 30) x", f"birth_date={REDACTED} x"),
        ("[type=too_long, input_value='KOWALSKI', input_type=str]", None),
        ("claim VFP-20261102-0007 ISA13 000000905 charge 125.00", None),
        ("3 claims in 2 files, 1 duplicate", None),
    ],
)
def test_redact_text_removes_phi_shaped_free_text(text: str, expected: str | None) -> None:
    """Dates, SSNs, phones, e-mails, addresses, PHI key=values and X12 person segments go."""
    if expected is None and "input_value" in text:
        expected = f"[type=too_long, input_value={REDACTED}, input_type=str]"
    elif expected is None:
        expected = text  # operational text is left exactly as it was
    assert expected == redact_text(text)


def test_redact_text_removes_known_values_as_whole_words_only() -> None:
    """Known PHI values are removed case-insensitively, but not from inside other words."""
    assert f"{REDACTED} and {REDACTED} (ANNEX)" == redact_text("Ann and ann (ANNEX)", ["ANN"])


@dataclass
class _Person:
    last_name: str
    claim_id: str


def test_objects_are_redacted_field_by_field() -> None:
    """Dataclass and exception values are turned into text or dicts and redacted like the rest."""
    event = {"event": "x", "who": _Person("DOE", "C-1"), "error": ValueError("bad DOB 1980-02-03")}
    expected = {
        "event": "x",
        "who": {"last_name": REDACTED, "claim_id": "C-1"},
        "error": f"ValueError: bad DOB {REDACTED}",
    }
    assert expected == redact_phi(None, "info", event)


def test_processor_in_a_structlog_pipeline_with_log_capture() -> None:
    """Through structlog (captured with LogCapture), bound PHI never reaches the captured events."""
    capture = LogCapture()
    structlog.configure(processors=[redact_phi, capture])
    try:
        log = structlog.get_logger().bind(file="in.json", claim_id="C-9")
        log.info("subscriber DOE", subscriber={"last_name": "DOE"}, last_name="DOE")
    finally:
        structlog.reset_defaults()
    expected = [
        {
            "event": f"subscriber {REDACTED}",
            "file": "in.json",
            "claim_id": "C-9",
            "subscriber": REDACTED,
            "last_name": REDACTED,
            "log_level": "info",
        }
    ]
    assert expected == capture.entries


@pytest.mark.skipif(not EXAMPLES, reason="the contract examples are in ../shared/contract")
@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("log_format", ["json", "pretty"])
def test_no_phi_of_the_contract_examples_reaches_the_log_output(log_format: str) -> None:
    """Logging each example every way the service might leaves no name, DOB, id or street."""
    from gateway.models.encounter import Encounter

    stream = io.StringIO()
    configure_logging(
        LoggingSettings(format="json", level="debug"), log_format=log_format, stream=stream
    )
    secrets: set[str] = set()
    for path in EXAMPLES:
        raw = json.loads(path.read_text(encoding="utf-8"))
        secrets |= phi_values(raw)
        sub = raw["subscriber"]
        log = get_logger("gateway.intake", file=path.name, claim_id=raw["claim_id"])
        log.info("encounter received", encounter=raw)
        log.info("subscriber", **sub)
        log.info(
            f"claim for {sub['first_name']} {sub['last_name']} born {sub['birth_date']}",
            subscriber_last_name=sub["last_name"],
            subscriber_first_name=sub["first_name"],
        )
        log.info(f"address {sub['address']['line1']}")
        log.info("as json " + json.dumps(raw))
        log.info("as repr", detail=repr(raw))
        model = Encounter.model_validate(raw)
        log.info("model", claim=model, text=str(model))
        log.debug("parts", who=model.subscriber, where=model.subscriber.address)
        try:
            raise ValueError(f"cannot bill {model.subscriber!r}")
        except ValueError:
            log.exception("failed")
        logging.getLogger("asyncssh").warning("foreign %s", json.dumps(raw["subscriber"]))
    output = stream.getvalue()
    assert len(EXAMPLES) == output.count("encounter received")
    assert sorted(s for s in secrets if s.lower() in output.lower()) == []
    assert "VFP-20261102-0007" in output  # claim ids stay
    assert output.count(REDACTED) > 50


@pytest.mark.usefixtures("restore_logging")
def test_json_format_writes_one_object_a_line_with_level_time_and_logger() -> None:
    """The JSON renderer writes parseable lines carrying event, level, logger and timestamp."""
    stream = io.StringIO()
    configure_logging(log_format="json", level="info", stream=stream)
    get_logger("gateway.test").info("batch written", claims=3, total=Decimal("12.50"))
    get_logger("gateway.test").debug("not shown at info")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    record = lines[0]
    expected = {
        "event": "batch written",
        "claims": 3,
        "total": "12.50",
        "level": "info",
        "logger": "gateway.test",
    }
    assert expected == {k: record[k] for k in expected}
    assert record["timestamp"].endswith("Z")


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(
    ("settings_format", "override", "tty", "expect_json"),
    [
        ("auto", None, False, True),
        ("auto", None, True, False),
        ("json", None, True, True),
        ("pretty", None, False, False),
        ("pretty", "json", False, True),
    ],
)
def test_format_follows_settings_override_and_terminal(
    settings_format: str, override: str | None, tty: bool, expect_json: bool
) -> None:
    """'auto' is pretty only on a terminal; an explicit format (e.g. from the CLI) wins."""

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    stream = Stream()
    settings = LoggingSettings(format=settings_format, level="info")  # type: ignore[arg-type]
    configure_logging(settings, log_format=override, stream=stream)
    get_logger("t").info("hello")
    line = stream.getvalue().strip()
    assert expect_json == line.startswith("{")


@pytest.mark.usefixtures("restore_logging")
def test_configuring_twice_replaces_the_handler() -> None:
    """A second configure_logging call does not duplicate output."""
    first, second = io.StringIO(), io.StringIO()
    configure_logging(log_format="json", stream=first)
    configure_logging(log_format="json", stream=second)
    get_logger("t").info("once")
    assert (first.getvalue(), second.getvalue().count("once")) == ("", 1)


def test_an_unknown_level_is_refused() -> None:
    """A level that logging does not know is a ValueError, not a silent default."""
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging(log_format="json", level="loud", stream=io.StringIO())


@pytest.mark.usefixtures("restore_logging")
def test_chatty_libraries_are_held_to_warnings() -> None:
    """asyncssh and watchfiles INFO chatter is dropped at level info; their warnings still show."""
    stream = io.StringIO()
    configure_logging(log_format="json", level="info", stream=stream)
    logging.getLogger("watchfiles.main").info("3 changes detected")
    logging.getLogger("asyncssh").info("Opening SSH connection")
    logging.getLogger("asyncssh").warning("host key mismatch")
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events == ["host key mismatch"]
