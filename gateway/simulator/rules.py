"""The simulator's rules: who it pretends to be, which claims it rejects, how it pays the rest.

``load_rules(path)`` reads a TOML file (``config/simulator.toml`` documents every key) over the
embedded defaults ``DEFAULT_RULES_TEXT`` into a frozen ``SimulatorRules``; a mistake raises
``ConfigError`` naming the file and key. ``Rule.matches_claim`` / ``Rule.matching_lines`` decide
which claims and lines a rejection rule hits; they are pure and used by the simulator core.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gateway.config import ConfigError
from gateway.transactions.claim837_reader import SubmittedClaim, SubmittedLine

__all__ = [
    "DEFAULT_RULES_TEXT",
    "OUTCOMES",
    "SECONDARY_OUTCOMES",
    "Adjudication",
    "Delays",
    "Denial",
    "Payer",
    "Rule",
    "SecondaryAdjudication",
    "SimulatorRules",
    "load_rules",
    "parse_rules",
]

#: How an accepted claim can be adjudicated (the keys of ``[adjudication.outcomes]``).
OUTCOMES = ("paid_in_full", "contractual", "patient_share", "line_denied", "denied")
#: How a secondary or tertiary payer can decide (the keys of ``[adjudication.secondary.outcomes]``).
SECONDARY_OUTCOMES = ("pays_balance", "coinsurance", "denied")

#: The embedded rules (used when no file is given); ``config/simulator.toml`` holds the same.
DEFAULT_RULES_TEXT = """
seed = 837

[clearinghouse]
name = "DEMO CLEARINGHOUSE"
id = "DEMOCH01"
payer_acknowledgements = true
always_ta1 = false

[delays]
interchange_ack = 0.0
implementation_ack = 0.0
clearinghouse_ack = 1.0
payer_ack = 2.0
remittance = 3.0
adjustment = 4.0
crossover = 5.0

[[payers]]
id = "60054"
name = "AETNA"

[[payers]]
id = "87726"
name = "UNITED HEALTHCARE"

[[payers]]
id = "00621"
name = "BLUE CROSS BLUE SHIELD OF ILLINOIS"

[[payers]]
id = "00430"
name = "HEALTH ALLIANCE MEDICAL PLANS"

[[payers]]
id = "62308"
name = "CIGNA"

[[payers]]
id = "61101"
name = "HUMANA"

[[payers]]
id = "00952"
name = "MEDICARE PART B ILLINOIS"

[[payers]]
id = "77027"
name = "ILLINOIS MEDICAID"

[[rules]]
name = "member id starting with X"
level = "clearinghouse"
member_id_prefix = "X"
status = "A7:164:IL"

[[rules]]
name = "payer id the clearinghouse does not know"
level = "clearinghouse"
unknown_payer = true
status = "A3:116:PR"

[[rules]]
name = "Aetna needs a referral number on professional claims"
level = "payer"
payer_ids = ["60054"]
kinds = ["professional"]
missing_referral = true
status = "A6:94:DN"

[[rules]]
name = "claim total over the payer's electronic limit"
level = "payer"
total_charge_over = "99999.99"
status = "A7:178"

[[rules]]
name = "service line charge over the limit"
level = "payer"
line_charge_over = "25000.00"
status = "A7:178"

[[rules]]
name = "unlisted procedure codes need a paper claim with notes"
level = "payer"
procedure_codes = ["99499", "99199", "17999"]
status = "A7:454"

[adjudication]
allowed_percent = "80"
deductible = "50.00"
coinsurance_percent = "20"
copay = "25.00"
reversal_percent = "5"
interest_percent = "10"
recovery_percent = "5"

[adjudication.outcomes]
paid_in_full = 1
contractual = 4
patient_share = 3
line_denied = 1
denied = 1

[adjudication.secondary]
crossover_percent = "50"

[adjudication.secondary.outcomes]
pays_balance = 6
coinsurance = 3
denied = 1

[[adjudication.denials]]
group = "CO"
reason = "50"
remark = "N115"

[[adjudication.denials]]
group = "CO"
reason = "16"
remark = "M51"

[[adjudication.denials]]
group = "PR"
reason = "204"
remark = "N130"
"""

_LEVELS = ("clearinghouse", "payer")
_CATEGORIES_REJECTED = ("A3", "A4", "A6", "A7", "A8")


@dataclass(frozen=True, slots=True)
class Payer:
    """A payer the clearinghouse routes claims to."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A rejection: the claims (or lines) it hits and the STC01 it answers them with.

    Every condition given must hold (they are and-ed); ``payer_ids`` and ``kinds`` narrow a rule
    to some payers or claim kinds. A rule with ``line_charge_over`` or ``procedure_codes`` is a
    line rule: the claim is rejected with A3:21 and each line hit gets its own STC and REF*FJ.
    """

    name: str
    level: str  # "clearinghouse" (first 277CA) or "payer" (payer 277CA)
    status: str  # STC01: category:status[:entity], e.g. "A7:164:IL"
    member_id_prefix: str = ""
    unknown_payer: bool = False
    missing_referral: bool = False
    total_charge_over: Decimal | None = None
    line_charge_over: Decimal | None = None
    procedure_codes: tuple[str, ...] = ()
    payer_ids: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    @property
    def is_line_rule(self) -> bool:
        """Whether the rule looks at service lines (and answers per line)."""
        return self.line_charge_over is not None or bool(self.procedure_codes)

    def matches_claim(self, claim: SubmittedClaim, known_payers: frozenset[str]) -> bool:
        """Whether every claim-level condition holds for ``claim`` (line conditions aside)."""
        if self.payer_ids and claim.payer_id not in self.payer_ids:
            return False
        if self.kinds and claim.kind not in self.kinds:
            return False
        if self.member_id_prefix and not claim.member_id.upper().startswith(
            self.member_id_prefix.upper()
        ):
            return False
        if self.unknown_payer and claim.payer_id in known_payers:
            return False
        if self.missing_referral and claim.referral_number:
            return False
        return not (
            self.total_charge_over is not None and claim.total_charge <= self.total_charge_over
        )

    def matching_lines(self, claim: SubmittedClaim) -> list[SubmittedLine]:
        """The lines of ``claim`` this line rule hits (empty for claim rules)."""
        if not self.is_line_rule:
            return []
        hits = []
        for line in claim.lines:
            if self.line_charge_over is not None and line.charge <= self.line_charge_over:
                continue
            if self.procedure_codes and line.procedure not in self.procedure_codes:
                continue
            hits.append(line)
        return hits


@dataclass(frozen=True, slots=True)
class Denial:
    """A way the payer denies a claim: CAS group and CARC, with a RARC (LQ*HE)."""

    group: str
    reason: str
    remark: str = ""


@dataclass(frozen=True, slots=True)
class SecondaryAdjudication:
    """How the payers after the first decide, and how often Medicare forwards a claim itself.

    A claim whose 2000B SBR01 is S or T is paid from the 2320/2430 data of the payers ahead, never
    more than the balance they left: ``pays_balance`` pays it all, ``coinsurance`` leaves the
    patient ``coinsurance_percent`` of it (PR 2), ``denied`` pays nothing (CLP02 4). A primary
    Medicare claim (SBR09 MA/MB) naming a secondary in 2320 with patient responsibility left is
    forwarded by the payer itself in ``crossover_percent`` of cases (CLP02 19 + NM1*TT), and the
    secondary's own 835 follows.
    """

    crossover_percent: Decimal
    outcomes: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Adjudication:
    """How the payer adjudicates accepted claims (percentages are of 100)."""

    allowed_percent: Decimal
    deductible: Decimal
    coinsurance_percent: Decimal
    copay: Decimal
    reversal_percent: Decimal
    interest_percent: Decimal
    recovery_percent: Decimal
    outcomes: Mapping[str, int]
    denials: tuple[Denial, ...]
    secondary: SecondaryAdjudication


@dataclass(frozen=True, slots=True)
class Delays:
    """Seconds after pickup when each response is dropped (used when running as a process)."""

    interchange_ack: float
    implementation_ack: float
    clearinghouse_ack: float
    payer_ack: float
    remittance: float
    adjustment: float
    crossover: float  # the secondary's 835 for a claim the primary forwarded (CLP02 19)


@dataclass(frozen=True, slots=True)
class SimulatorRules:
    """Everything the simulator is configured with."""

    seed: int
    clearinghouse_name: str
    clearinghouse_id: str
    payer_acknowledgements: bool
    always_ta1: bool
    delays: Delays
    payers: tuple[Payer, ...]
    rules: tuple[Rule, ...]
    adjudication: Adjudication
    source: str = "<embedded rules>"

    @property
    def known_payers(self) -> frozenset[str]:
        """The payer ids of ``payers``."""
        return frozenset(p.id for p in self.payers)

    def payer_name(self, payer_id: str, fallback: str) -> str:
        """The configured name of a payer, else ``fallback`` (the name the claim gave)."""
        return next((p.name for p in self.payers if p.id == payer_id), fallback)


# --- reading -------------------------------------------------------------------------------------


def load_rules(path: str | os.PathLike[str] | None = None) -> SimulatorRules:
    """The rules of ``path`` over the embedded defaults (the defaults alone when None).

    A file's ``[[payers]]``, ``[[rules]]`` and ``[[adjudication.denials]]`` replace the default
    lists; other keys are merged one by one.
    """
    if path is None:
        return parse_rules(DEFAULT_RULES_TEXT)
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, "", "no such file; pass --config with an existing file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, "", f"cannot be read as UTF-8 text ({exc})") from None
    return parse_rules(text, source)


def parse_rules(text: str, source: str = "<embedded rules>") -> SimulatorRules:
    """Rules from TOML text over the embedded defaults; ``ConfigError`` names a bad key."""
    defaults = tomllib.loads(DEFAULT_RULES_TEXT)
    try:
        user = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"is not valid TOML: {exc}") from None
    data = _merge(defaults, user, source)
    r = _Reader(source)
    r.only(data, "", {"seed", "clearinghouse", "delays", "payers", "rules", "adjudication"})
    ch = r.table(data, "clearinghouse")
    r.only(ch, "clearinghouse", {"name", "id", "payer_acknowledgements", "always_ta1"})
    dl = r.table(data, "delays")
    delay_keys = (
        "interchange_ack",
        "implementation_ack",
        "clearinghouse_ack",
        "payer_ack",
        "remittance",
        "adjustment",
        "crossover",
    )
    r.only(dl, "delays", set(delay_keys))
    delays = Delays(*(r.seconds(dl, "delays", k) for k in delay_keys))
    payers = tuple(
        Payer(r.text(p, f"payers[{i}]", "id"), r.text(p, f"payers[{i}]", "name"))
        for i, p in enumerate(r.tables(data, "payers"))
    )
    rules = tuple(r.rule(t, f"rules[{i}]") for i, t in enumerate(r.tables(data, "rules")))
    adj = r.table(data, "adjudication")
    r.only(
        adj,
        "adjudication",
        {
            "allowed_percent",
            "deductible",
            "coinsurance_percent",
            "copay",
            "reversal_percent",
            "interest_percent",
            "recovery_percent",
            "outcomes",
            "denials",
            "secondary",
        },
    )
    outcomes_table = r.table(adj, "outcomes")
    r.only(outcomes_table, "adjudication.outcomes", set(OUTCOMES))
    outcomes = {k: r.weight(outcomes_table, "adjudication.outcomes", k) for k in OUTCOMES}
    if sum(outcomes.values()) == 0:
        raise ConfigError(source, "[adjudication.outcomes]", "at least one weight must be above 0")
    denials = []
    for i, t in enumerate(r.tables(adj, "denials")):
        where = f"adjudication.denials[{i}]"
        r.only(t, where, {"group", "reason", "remark"})
        group = r.text(t, where, "group")
        if group not in ("CO", "OA", "PI", "PR"):
            raise ConfigError(source, f"[{where}] group", "expected CO, OA, PI or PR", group)
        denials.append(Denial(group, r.text(t, where, "reason"), r.text(t, where, "remark", "")))
    if not denials and outcomes["denied"]:
        raise ConfigError(source, "[[adjudication.denials]]", "denied claims need a denial reason")
    secondary = r.table(adj, "secondary")
    r.only(secondary, "adjudication.secondary", {"crossover_percent", "outcomes"})
    secondary_table = r.table(secondary, "outcomes")
    where = "adjudication.secondary.outcomes"
    r.only(secondary_table, where, set(SECONDARY_OUTCOMES))
    secondary_outcomes = {k: r.weight(secondary_table, where, k) for k in SECONDARY_OUTCOMES}
    if sum(secondary_outcomes.values()) == 0:
        raise ConfigError(source, f"[{where}]", "at least one weight must be above 0")
    if not denials and secondary_outcomes["denied"]:
        raise ConfigError(source, "[[adjudication.denials]]", "denied claims need a denial reason")
    adjudication = Adjudication(
        allowed_percent=r.percent(adj, "adjudication", "allowed_percent"),
        deductible=r.money(adj, "adjudication", "deductible"),
        coinsurance_percent=r.percent(adj, "adjudication", "coinsurance_percent"),
        copay=r.money(adj, "adjudication", "copay"),
        reversal_percent=r.percent(adj, "adjudication", "reversal_percent"),
        interest_percent=r.percent(adj, "adjudication", "interest_percent"),
        recovery_percent=r.percent(adj, "adjudication", "recovery_percent"),
        outcomes=outcomes,
        denials=tuple(denials),
        secondary=SecondaryAdjudication(
            crossover_percent=r.percent(secondary, "adjudication.secondary", "crossover_percent"),
            outcomes=secondary_outcomes,
        ),
    )
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(source, "seed", "expected a whole number", seed)
    return SimulatorRules(
        seed=seed,
        clearinghouse_name=r.text(ch, "clearinghouse", "name"),
        clearinghouse_id=r.text(ch, "clearinghouse", "id"),
        payer_acknowledgements=r.flag(ch, "clearinghouse", "payer_acknowledgements"),
        always_ta1=r.flag(ch, "clearinghouse", "always_ta1"),
        delays=delays,
        payers=payers,
        rules=rules,
        adjudication=adjudication,
        source=source,
    )


def _merge(defaults: dict[str, Any], user: dict[str, Any], source: str) -> dict[str, Any]:
    """``user`` over ``defaults``: tables merge key by key, lists of tables replace."""
    out = dict(defaults)
    for key, value in user.items():
        base = out.get(key)
        if isinstance(value, dict) and isinstance(base, dict):
            out[key] = _merge(base, value, source)
        else:
            out[key] = value
    return out


class _Reader:
    """Typed, located reads from the parsed TOML."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, key: str, expected: str, found: object = None) -> ConfigError:
        name = f"[{where}] {key}" if where else key
        return ConfigError(self.source, name, expected, found)

    def only(self, table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(where, key, f"unknown key; expected one of {known}")

    def table(self, data: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail("", key, "expected a table", value)
        return value

    def tables(self, data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail("", key, f"expected [[{key}]] tables", value)
        return value

    def text(self, t: Mapping[str, Any], where: str, key: str, default: str | None = None) -> str:
        value = t.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(where, key, "expected a non-empty string", value)
        if any(c in value for c in "*~:^"):
            raise self.fail(where, key, "must not hold an X12 delimiter (* ~ : ^)", value)
        return value.strip()

    def texts(self, t: Mapping[str, Any], where: str, key: str) -> tuple[str, ...]:
        value = t.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(where, key, "expected a list of strings", value)
        return tuple(v.strip() for v in value)

    def flag(self, t: Mapping[str, Any], where: str, key: str, default: bool = False) -> bool:
        value = t.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, key, "expected true or false", value)
        return value

    def seconds(self, t: Mapping[str, Any], where: str, key: str) -> float:
        value = t.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.fail(where, key, "expected a number of seconds, 0 or more", value)
        return float(value)

    def weight(self, t: Mapping[str, Any], where: str, key: str) -> int:
        value = t.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(where, key, "expected a whole number, 0 or more", value)
        return value

    def money(self, t: Mapping[str, Any], where: str, key: str) -> Decimal:
        value = t.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(where, key, 'expected an amount in quotes, e.g. "50.00"', value)
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(where, key, 'expected an amount, e.g. "50.00"', value) from None
        if not amount.is_finite() or amount < 0:
            raise self.fail(where, key, "expected an amount of 0 or more", value)
        return amount.quantize(Decimal("0.01"))

    def percent(self, t: Mapping[str, Any], where: str, key: str) -> Decimal:
        amount = self.money(t, where, key)
        if amount > 100:
            raise self.fail(where, key, "expected a percentage from 0 to 100", t.get(key))
        return amount

    def rule(self, t: Mapping[str, Any], where: str) -> Rule:
        self.only(
            t,
            where,
            {
                "name",
                "level",
                "status",
                "member_id_prefix",
                "unknown_payer",
                "missing_referral",
                "total_charge_over",
                "line_charge_over",
                "procedure_codes",
                "payer_ids",
                "kinds",
            },
        )
        level = self.text(t, where, "level", "clearinghouse")
        if level not in _LEVELS:
            raise self.fail(where, "level", "expected clearinghouse or payer", level)
        status = str(t.get("status", ""))
        parts = status.split(":") if isinstance(t.get("status"), str) else []
        if not 2 <= len(parts) <= 3 or parts[0] not in _CATEGORIES_REJECTED or not parts[1]:
            raise self.fail(
                where,
                "status",
                "expected a rejecting STC01 category:status[:entity] "
                f"(category one of {', '.join(_CATEGORIES_REJECTED)}), e.g. A7:164:IL",
                t.get("status"),
            )
        kinds = self.texts(t, where, "kinds")
        for kind in kinds:
            if kind not in ("professional", "institutional"):
                raise self.fail(where, "kinds", "expected professional and/or institutional", kind)
        rule = Rule(
            name=self.text(t, where, "name"),
            level=level,
            status=status,
            member_id_prefix=self.text(t, where, "member_id_prefix", ""),
            unknown_payer=self.flag(t, where, "unknown_payer"),
            missing_referral=self.flag(t, where, "missing_referral"),
            total_charge_over=self._optional_money(t, where, "total_charge_over"),
            line_charge_over=self._optional_money(t, where, "line_charge_over"),
            procedure_codes=self.texts(t, where, "procedure_codes"),
            payer_ids=self.texts(t, where, "payer_ids"),
            kinds=kinds,
        )
        conditions: Sequence[object] = (
            rule.member_id_prefix,
            rule.unknown_payer,
            rule.missing_referral,
            rule.total_charge_over is not None,
            rule.is_line_rule,
        )
        if not any(conditions):
            raise self.fail(
                where,
                "name",
                "a rule needs a condition: member_id_prefix, unknown_payer, missing_referral, "
                "total_charge_over, line_charge_over or procedure_codes",
            )
        return rule

    def _optional_money(self, t: Mapping[str, Any], where: str, key: str) -> Decimal | None:
        return self.money(t, where, key) if key in t else None
