"""The trading partner as data: who we send claim files to, and how their envelopes must look.

``TradingPartner`` (one clearinghouse or payer) and ``Partners`` (those of a configuration, by
name) are frozen plain data; ``gateway.partners`` loads them from the partners' TOML files, and the
transactions take them as they are.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gateway.x12 import Delimiters

__all__ = ["DEFAULT_MAX_CLAIMS_PER_TRANSACTION", "Partners", "TradingPartner"]

DEFAULT_MAX_CLAIMS_PER_TRANSACTION = 5000
"""The TR3 recommendation: at most 5000 CLM per ST-SE."""


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
