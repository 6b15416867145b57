"""Trading partners: who we send claim files to, and how their envelopes must look.

One TOML file per partner in ``config/partners/`` (the file name without ``.toml`` is the partner's
name, the value encounters carry in ``partner``). Read with ``tomllib`` into frozen dataclasses; a
mistake in a file is a ``PartnerConfigError`` naming the file and the key, never a traceback.

>>> partners = load_partners(Path("config/partners"))     # doctest: +SKIP
>>> partners.get("demo-clearinghouse").isa_receiver_id    # doctest: +SKIP
'DEMOCLEARING'
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gateway.x12 import Delimiters

__all__ = [
    "DEFAULT_MAX_CLAIMS_PER_TRANSACTION",
    "PartnerConfigError",
    "Partners",
    "TradingPartner",
    "load_partner",
    "load_partners",
]

DEFAULT_MAX_CLAIMS_PER_TRANSACTION = 5000
"""The TR3 recommendation: at most 5000 CLM per ST-SE."""

# ISA05/ISA07 interchange ID qualifiers allowed by the 5010 control map.
_ISA_QUALIFIERS = frozenset({"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# X12 basic + extended character set, minus the delimiters we would refuse anyway.
_X12_TEXT = re.compile(r"^[A-Za-z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]*$")


class PartnerConfigError(Exception):
    """A trading-partner file is missing, unreadable or holds a wrong value (names file and key)."""


@dataclass(frozen=True, slots=True)
class TradingPartner:
    """One clearinghouse or payer we exchange files with, as its envelopes need it.

    Example envelope this drives (``ISA05/06 -> ISA07/08``, ``GS02 -> GS03``, 1000A, 1000B)::

        ISA*00*          *00*          *ZZ*VALLEYGATEWAY  *ZZ*DEMOCLEARING   *...*1*T*:~
        GS*HC*VALLEYGATEWAY*DEMOCLEARING*20261102*0930*17*X*005010X222A1~
        NM1*41*2*VALLEY BILLING GATEWAY*****46*VBG0001~
        PER*IC*EDI DESK*TE*2175550199~
        NM1*40*2*DEMO CLEARINGHOUSE*****46*DEMOCH01~
    """

    name: str
    """The partner's key: its file name without ``.toml``; encounters name it in ``partner``."""
    display_name: str
    # --- ISA interchange header
    isa_sender_qualifier: str  # ISA05 interchange ID qualifier
    isa_sender_id: str  # ISA06 interchange sender ID
    isa_receiver_qualifier: str  # ISA07 interchange ID qualifier
    isa_receiver_id: str  # ISA08 interchange receiver ID
    usage_indicator: str = "T"  # ISA15 T test / P production
    acknowledgment_requested: str = "0"  # ISA14 0 no TA1 / 1 TA1 requested
    authorization_qualifier: str = "00"  # ISA01
    authorization_information: str = ""  # ISA02
    security_qualifier: str = "00"  # ISA03
    security_information: str = ""  # ISA04
    # --- GS functional group header
    gs_sender_code: str = ""  # GS02 application sender's code
    gs_receiver_code: str = ""  # GS03 application receiver's code
    # --- Loop 1000A submitter, 1000B receiver
    submitter_name: str = ""  # 1000A NM103
    submitter_id: str = ""  # 1000A NM109 (NM108 = 46, electronic transmitter id)
    submitter_entity_type: str = "2"  # 1000A NM102: 1 person, 2 organization
    submitter_first_name: str = ""  # 1000A NM104 when the submitter is a person
    contact_name: str = ""  # 1000A PER02
    contact_phone: str = ""  # 1000A PER TE
    contact_email: str = ""  # 1000A PER EM
    receiver_name: str = ""  # 1000B NM103
    receiver_id: str = ""  # 1000B NM109
    # --- claims
    max_claims_per_transaction: int = DEFAULT_MAX_CLAIMS_PER_TRANSACTION
    frequency_1_only: bool = False
    """The payer accepts only frequency 1 (original) on resubmission (e.g. Medicare)."""
    no_answer_days: int = 30
    """Days after submission with no response at all before ``gateway report aging`` lists it."""
    default: bool = False
    """The partner for encounters that name none."""
    # --- how files are written
    delimiters: Delimiters = field(default_factory=Delimiters)
    line_breaks: bool = False
    """Write a line break after every segment terminator (many clearinghouses accept it)."""
    transport: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, hash=False
    )
    """The ``[transport]`` table, read by the service's submitter (kind, folder, host...)."""
    source: Path | None = None
    """The file the partner was read from."""

    @property
    def is_production(self) -> bool:
        """Whether ISA15 says production (``P``) rather than test."""
        return self.usage_indicator == "P"


@dataclass(frozen=True, slots=True)
class Partners:
    """The trading partners of a configuration folder, by name, and which is the default."""

    by_name: Mapping[str, TradingPartner]
    default_name: str | None = None

    def __iter__(self) -> Iterator[TradingPartner]:
        return iter(self.by_name.values())

    def __len__(self) -> int:
        return len(self.by_name)

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    @property
    def default(self) -> TradingPartner | None:
        """The default partner (``default = true``, or the only one), None when ambiguous."""
        return self.by_name[self.default_name] if self.default_name else None

    def get(self, name: str | None) -> TradingPartner:
        """The partner called ``name``, in any case (the default for None); else ``KeyError``."""
        if name is None:
            if self.default is None:
                raise KeyError(
                    "the encounter names no partner and no partner file says `default = true`"
                )
            return self.default
        found = self.by_name.get(name)
        if found is None:
            # names are file names; look them up without regard to case (`DEMO-Clearinghouse`)
            folded = name.casefold()
            found = next((p for k, p in self.by_name.items() if k.casefold() == folded), None)
        if found is None:
            known = ", ".join(sorted(self.by_name)) or "none"
            raise KeyError(f"no trading partner {name!r} (known: {known})")
        return found


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
