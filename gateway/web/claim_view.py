"""What the claim page tells, built from the ledger's claim history (no web framework here).

:func:`timeline` is every event with its file and control numbers; :func:`statuses` the 277CA
answers (each STC code in words, claim and lines); :func:`explanations_of_benefits` each 835
applied to the claim as a readable explanation of benefits: charge, paid, patient
responsibility, the claim and line adjustments with their group and CARC meanings and the RARC
remarks, all meanings from :mod:`gateway.codes` when the event did not keep one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway import codes
from gateway.ledger.records import EventRecord

__all__ = [
    "Adjustment",
    "Benefits",
    "BenefitsLine",
    "Remark",
    "StatusAnswer",
    "explanations_of_benefits",
    "money",
    "short",
    "statuses",
    "timeline",
]


@dataclass(frozen=True)
class Adjustment:
    """One CAS triplet: group (and its meaning), CARC (and its meaning), amount."""

    group: str
    group_meaning: str
    reason: str
    reason_meaning: str
    amount: str
    patient_owes: bool


@dataclass(frozen=True)
class Remark:
    """A remittance advice remark code (RARC) and its meaning."""

    code: str
    meaning: str


@dataclass(frozen=True)
class BenefitsLine:
    """One service line of an 835 claim payment."""

    line_control_number: str
    procedure: str
    charge: str
    allowed: str
    paid: str
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[Remark, ...]


@dataclass(frozen=True)
class Benefits:
    """One 835 claim payment, readable: what was billed, paid, adjusted and why."""

    at: str
    file_name: str
    status: str
    outcome: str
    charge: str
    paid: str
    patient_responsibility: str
    payment_date: str
    trace_number: str
    payer_claim_control_number: str
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[Remark, ...]
    lines: tuple[BenefitsLine, ...]
    patient_share: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class StatusAnswer:
    """One 277CA answer about the claim: its source, each status in words, and its lines."""

    at: str
    file_name: str
    cause: str
    source: str
    statuses: tuple[Mapping[str, str], ...]
    lines: tuple[Mapping[str, Any], ...]
    payer_claim_control_number: str


def _known(meaning: str) -> str:
    return "" if meaning == codes.UNKNOWN else meaning


def short(meaning: str) -> str:
    """A code's meaning without the list's usage notes (``Usage: ...``, ``Note: ...``)."""
    for cut in (" Usage:", " Note:"):
        meaning = meaning.split(cut, 1)[0]
    return meaning.strip()


def money(text: object) -> str:
    """An amount as the 835 gave it (``227.5``), written with two decimals (``227.50``)."""
    if text in (None, ""):
        return ""
    try:
        return f"{Decimal(str(text)):.2f}"
    except InvalidOperation:
        return str(text)


def _adjustment(data: Mapping[str, Any]) -> Adjustment:
    group = str(data.get("group", ""))
    reason = str(data.get("reason", ""))
    return Adjustment(
        group,
        _known(codes.meaning("cas_group", group)),
        reason,
        short(str(data.get("meaning") or "") or _known(codes.meaning("carc", reason))),
        money(data.get("amount")),
        group == "PR",
    )


def _remarks(items: Iterable[Mapping[str, Any]]) -> tuple[Remark, ...]:
    return tuple(
        Remark(
            str(r.get("code", "")),
            short(
                str(r.get("meaning") or "") or _known(codes.meaning("rarc", str(r.get("code", ""))))
            ),
        )
        for r in items
    )


def _sum(amounts: Iterable[str]) -> str:
    total = Decimal("0")
    for amount in amounts:
        try:
            total += Decimal(amount)
        except InvalidOperation:
            continue
    return f"{total:.2f}"


def _at(event: EventRecord) -> str:
    return event.at.isoformat(timespec="seconds")


def explanations_of_benefits(events: Sequence[EventRecord]) -> list[Benefits]:
    """Every 835 claim payment in the claim's history, oldest first."""
    out: list[Benefits] = []
    for event in events:
        if event.kind != "835":
            continue
        d = event.detail
        adjustments = tuple(_adjustment(a) for a in d.get("adjustments", ()))
        lines = tuple(
            BenefitsLine(
                str(ln.get("line_control_number") or ""),
                str(ln.get("procedure") or ""),
                money(ln.get("charge")),
                money(ln.get("allowed")),
                money(ln.get("paid")),
                tuple(_adjustment(a) for a in ln.get("adjustments", ())),
                _remarks(ln.get("remarks", ())),
            )
            for ln in d.get("lines", ())
        )
        every = adjustments + tuple(a for ln in lines for a in ln.adjustments)
        notes = tuple(str(d[k]) for k in ("charge_differs",) if d.get(k))
        out.append(
            Benefits(
                _at(event),
                event.file_name or "",
                str(d.get("status") or d.get("status_code") or ""),
                str(d.get("outcome", "")).replace("_", " "),
                money(d.get("charge")),
                money(d.get("paid")),
                money(d.get("patient_responsibility")),
                str(d.get("payment_date", "")),
                str(d.get("trace_number", "")),
                str(d.get("payer_claim_control_number", "")),
                adjustments,
                _remarks(d.get("remarks", ())),
                lines,
                _sum(a.amount for a in every if a.patient_owes),
                notes,
            )
        )
    return out


def statuses(events: Sequence[EventRecord]) -> list[StatusAnswer]:
    """Every 277CA answer in the claim's history, oldest first."""
    return [
        StatusAnswer(
            _at(e),
            e.file_name or "",
            e.cause,
            str(e.detail.get("source", "")),
            tuple(
                {k: short(str(v)) if k != "code" else str(v) for k, v in st.items()}
                for st in e.detail.get("statuses", ())
                if isinstance(st, Mapping)
            ),
            tuple(e.detail.get("lines", ())),
            str(e.detail.get("payer_claim_control_number", "")),
        )
        for e in events
        if e.kind == "277ca"
    ]


def timeline(events: Sequence[EventRecord]) -> list[dict[str, Any]]:
    """Every event, oldest first: when, version, what, the state change, the file and its
    control numbers (ISA13 9 digits, ST02 4), and the reasons or findings it recorded."""
    rows = []
    for e in events:
        numbers = []
        if e.isa13:
            numbers.append(("ISA13", e.isa13.zfill(9)))
        if e.gs06:
            numbers.append(("GS06", e.gs06))
        if e.st02:
            numbers.append(("ST02", e.st02.zfill(4)))
        reasons = e.detail.get("reasons", ()) or e.detail.get("findings", ())
        rows.append(
            {
                "at": _at(e),
                "version": e.version,
                "kind": e.kind,
                "from_state": str(e.from_state or ""),
                "to_state": str(e.to_state or ""),
                "cause": e.cause,
                "file": e.file_name or "",
                "numbers": numbers,
                "amount": "" if e.amount is None else f"{e.amount:.2f}",
                "reasons": [r for r in reasons if isinstance(r, Mapping)],
            }
        )
    return rows
