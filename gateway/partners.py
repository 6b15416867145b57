"""Trading partners: who we send claim files to, and how their envelopes must look.

One TOML file per partner in ``config/partners/`` (the file name without ``.toml`` is the partner's
name, the value encounters carry in ``partner``). Read with ``tomllib`` into the frozen model
``gateway.models.partner.TradingPartner`` (the transactions take the model, never these files); a
mistake in a file is a ``PartnerConfigError`` naming the file and the key, never a traceback.

>>> partners = load_partners(Path("config/partners"))     # doctest: +SKIP
>>> partners.get("demo-clearinghouse").isa_receiver_id    # doctest: +SKIP
'DEMOCLEARING'
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gateway.models.partner import DEFAULT_MAX_CLAIMS_PER_TRANSACTION, Partners, TradingPartner
from gateway.x12 import Delimiters

__all__ = [
    "DEFAULT_MAX_CLAIMS_PER_TRANSACTION",
    "PartnerConfigError",
    "Partners",
    "TradingPartner",
    "load_partner",
    "load_partners",
]

# ISA05/ISA07 interchange ID qualifiers allowed by the 5010 control map.
_ISA_QUALIFIERS = frozenset({"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# X12 basic + extended character set, minus the delimiters we would refuse anyway.
_X12_TEXT = re.compile(r"^[A-Za-z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]*$")


class PartnerConfigError(Exception):
    """A trading-partner file is missing, unreadable or holds a wrong value (names file and key)."""


def load_partners(folder: Path) -> Partners:
    """Read every ``*.toml`` of ``folder``; raises ``PartnerConfigError`` on the first bad file."""
    if not folder.is_dir():
        raise PartnerConfigError(f"{folder}: the partners folder does not exist")
    partners: dict[str, TradingPartner] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name.startswith("."):
            continue
        partner = load_partner(path)
        partners[partner.name] = partner
    defaults = [p.name for p in partners.values() if p.default]
    if len(defaults) > 1:
        raise PartnerConfigError(
            f"{folder}: more than one partner says `default = true` ({', '.join(defaults)})"
        )
    default_name = (
        defaults[0] if defaults else (next(iter(partners)) if len(partners) == 1 else None)
    )
    return Partners(MappingProxyType(partners), default_name)


def load_partner(path: Path) -> TradingPartner:
    """Read one partner file (see ``config/partners/demo-clearinghouse.toml`` for every key)."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise PartnerConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PartnerConfigError(f"{path}: not valid TOML ({exc})") from exc
    name = path.stem
    if not _NAME.match(name):
        raise PartnerConfigError(
            f"{path}: a partner file name may hold only letters, digits, '.', '_' and '-'"
        )
    return _Reader(path, data).partner(name)


class _Reader:
    """Typed, located access to the TOML document of one partner."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, key: str, problem: str) -> PartnerConfigError:
        return PartnerConfigError(f"{self.path}: {key}: {problem}")

    def table(self, name: str, *, required: bool = True) -> dict[str, Any]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(f"[{name}]", "this table is required")
            return {}
        if not isinstance(value, dict):
            raise self.fail(name, "must be a table")
        return value

    def text(
        self,
        table: str,
        key: str,
        *,
        default: str | None = None,
        max_length: int | None = None,
        choices: frozenset[str] | None = None,
    ) -> str:
        where = f"{table}.{key}" if table else key
        source = self.table(table, required=default is None) if table else self.data
        value = source.get(key, default)
        if value is None:
            raise self.fail(where, "is required")
        if not isinstance(value, str):
            raise self.fail(where, "must be a string (in quotes)")
        if not _X12_TEXT.match(value):
            raise self.fail(where, "holds a character X12 cannot carry")
        if max_length is not None and len(value) > max_length:
            raise self.fail(where, f"is longer than {max_length} characters")
        if choices is not None and value not in choices:
            raise self.fail(where, f"must be one of {', '.join(sorted(choices))}")
        return value

    def boolean(self, table: str, key: str, default: bool) -> bool:
        source = self.table(table, required=False) if table else self.data
        value = source.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{table}.{key}" if table else key, "must be true or false")
        return value

    def partner(self, name: str) -> TradingPartner:
        isa, gs, sub, rcv = "interchange", "group", "submitter", "receiver"
        claims = self.table("claims", required=False)
        max_claims = claims.get("max_claims_per_transaction", DEFAULT_MAX_CLAIMS_PER_TRANSACTION)
        if isinstance(max_claims, bool) or not isinstance(max_claims, int) or max_claims < 1:
            raise self.fail("claims.max_claims_per_transaction", "must be a whole number >= 1")
        no_answer = claims.get("no_answer_days", 30)
        if isinstance(no_answer, bool) or not isinstance(no_answer, int) or no_answer < 1:
            raise self.fail("claims.no_answer_days", "must be a whole number of days >= 1")
        sender_id = self.text(isa, "sender_id", max_length=15)
        receiver_id = self.text(isa, "receiver_id", max_length=15)
        phone = self.text(sub, "contact_phone", default="", max_length=256)
        email = self.text(sub, "contact_email", default="", max_length=256)
        if not phone and not email:
            raise self.fail(
                "submitter.contact_phone", "1000A PER needs a phone or an e-mail (contact_email)"
            )
        transport = self.table("transport", required=False)
        return TradingPartner(
            name=name,
            display_name=self.text("", "name", default=name),
            isa_sender_qualifier=self.text(isa, "sender_qualifier", choices=_ISA_QUALIFIERS),
            isa_sender_id=sender_id,
            isa_receiver_qualifier=self.text(isa, "receiver_qualifier", choices=_ISA_QUALIFIERS),
            isa_receiver_id=receiver_id,
            usage_indicator=self.text(isa, "usage", default="T", choices=frozenset("TP")),
            acknowledgment_requested=self.text(
                isa, "acknowledgment_requested", default="0", choices=frozenset("01")
            ),
            authorization_qualifier=self.text(
                isa, "authorization_qualifier", default="00", choices=frozenset({"00", "03"})
            ),
            authorization_information=self.text(
                isa, "authorization_information", default="", max_length=10
            ),
            security_qualifier=self.text(
                isa, "security_qualifier", default="00", choices=frozenset({"00", "01"})
            ),
            security_information=self.text(isa, "security_information", default="", max_length=10),
            gs_sender_code=self.text(gs, "sender_code", default=sender_id.strip(), max_length=15),
            gs_receiver_code=self.text(
                gs, "receiver_code", default=receiver_id.strip(), max_length=15
            ),
            submitter_name=self.text(sub, "name", max_length=60),
            submitter_id=self.text(sub, "id", max_length=80),
            submitter_entity_type=self.text(
                sub, "entity_type", default="2", choices=frozenset("12")
            ),
            submitter_first_name=self.text(sub, "first_name", default="", max_length=35),
            contact_name=self.text(sub, "contact_name", default="", max_length=60),
            contact_phone=phone,
            contact_email=email,
            receiver_name=self.text(rcv, "name", max_length=60),
            receiver_id=self.text(rcv, "id", max_length=80),
            max_claims_per_transaction=max_claims,
            no_answer_days=no_answer,
            frequency_1_only=self.boolean("claims", "frequency_1_only", False),
            default=self.boolean("", "default", False),
            delimiters=self.delimiters(),
            line_breaks=self.boolean("delimiters", "line_breaks", False),
            transport=MappingProxyType(dict(transport)),
            source=self.path,
        )

    def delimiters(self) -> Delimiters:
        table = self.table("delimiters", required=False)
        base = Delimiters()
        values: dict[str, str] = {}
        for role in ("element", "repetition", "component", "segment"):
            value = table.get(role, getattr(base, role))
            if not isinstance(value, str):
                raise self.fail(f"delimiters.{role}", "must be a one-character string")
            values[role] = value
        delimiters = Delimiters(
            values["element"], values["repetition"], values["component"], values["segment"]
        )
        problems = delimiters.conflicts()
        if problems:
            raise self.fail("[delimiters]", "; ".join(problems))
        return delimiters
