"""Revenue-cycle reports over the ledger: one query layer for the CLI, HTML and the console.

Every measure is SQL (SQLAlchemy Core, the same on SQLite and PostgreSQL) over the claims first
submitted in a period, grouped by payer, partner, billing or rendering provider, claim kind or
month; no claim list is loaded into Python but the claim ids of one cell (:meth:`Reports.claims`).

The facts the queries read are recorded as the ledger records events
(:mod:`gateway.ledger.report_facts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.ledger import tables as t
from gateway.ledger.report_facts import DENIED_OUTCOMES

__all__ = [
    "BY",
    "CELLS",
    "DEFAULT_NO_ANSWER_DAYS",
    "Period",
    "Reports",
    "Table",
]

#: The groupings every report can be split by.
BY = ("payer", "partner", "provider", "rendering", "kind", "month")
DEFAULT_NO_ANSWER_DAYS = 30
#: Claims the payer still owes an answer or money on (A/R).
OPEN_STATES = ("submitted", "acknowledged", "accepted", "rejected", "payer_rejected", "reversed",
               "crossed_over")  # fmt: skip
AGING_BUCKETS = ("0-30", "31-60", "61-90", "91-120", ">120")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Period:
    """First-submission dates from ``start`` to ``end``, both included (UTC days)."""

    start: date
    end: date

    @classmethod
    def last_days(cls, days: int = 30, today: date | None = None) -> Period:
        """The ``days`` days ending today."""
        end = today or datetime.now(UTC).date()
        return cls(end - timedelta(days=days - 1), end)

    @property
    def lower(self) -> datetime:
        """The first instant of the period."""
        return datetime.combine(self.start, time(), UTC)

    @property
    def upper(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)


@dataclass(frozen=True)
class Table:
    """A report table: named columns, rows of plain values (str, int, float, Decimal, None)."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts (column name: value)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


#: Cells ``--claims`` can trace: each names a set of claims of the period.
CELLS = (
    "submitted",
    "accepted_first_pass",
    "rejected_first_pass",
    "adjudicated",
    "denied_full",
    "denied_any",
    "paid",
    "resubmitted_more_than_once",
    "no_answer",
    "open",
    *(f"aging:{b}" for b in AGING_BUCKETS),
    "rejected:<stage>",
    "carc:<group>-<code>",
    "rarc:<code>",
    "scrubber_clean",
    "scrubber_dirty",
)


def _rate(part: int, whole: int) -> float | None:
    return None if not whole else round(part / whole, 4)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


class Reports:
    """The report queries over one ledger's database (made by ``Ledger.reports``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    async def _rows(self, query: sa.Executable) -> list[Any]:
        async with self._engine.connect() as conn, conn.begin():
            return list((await conn.execute(query)).all())

    # ------------------------------------------------------------------ expressions

    def _days(self, later: Any, earlier: Any) -> sa.ColumnElement[Any]:
        """Days (fractional) from ``earlier`` to ``later`` (timestamps)."""
        if self._sqlite:
            return sa.func.julianday(later) - sa.func.julianday(earlier)
        return sa.extract("epoch", later - earlier) / 86400.0

    def _age(self, as_of: date, c: Any) -> sa.ColumnElement[float]:
        """Whole days from the claim's first date of service (else first submission) to as_of."""
        if self._sqlite:
            dos = sa.func.coalesce(c.service_date, sa.func.date(c.first_submitted_at))
            return sa.func.julianday(sa.literal(as_of.isoformat())) - sa.func.julianday(dos)
        dos = sa.func.coalesce(c.service_date, sa.cast(c.first_submitted_at, sa.Date))
        return sa.cast(sa.literal(as_of, sa.Date) - dos, sa.Integer)

    def _bucket(self, at: Any, fmt: str) -> sa.ColumnElement[str]:
        """A timestamp's month (``YYYY-MM``) or week (the Monday, ``YYYY-MM-DD``)."""
        if fmt == "month":
            if self._sqlite:
                return sa.func.strftime("%Y-%m", at)
            return sa.func.to_char(at, "YYYY-MM")
        if self._sqlite:
            return sa.func.date(at, "weekday 0", "-6 days")
        return sa.func.to_char(sa.func.date_trunc("week", at), "YYYY-MM-DD")

    def _group(self, by: str | None, c: Any, at: Any = None) -> sa.ColumnElement[Any]:
        if by is None:
            return sa.literal("all")
        column = {
            # A claim counts under the payer it was first billed to (its first leg), whichever
            # payer (a secondary) it is at now.
            "payer": self._first_payer(c),
            "partner": c.partner,
            "provider": c.billing_npi,
            "rendering": c.rendering_npi,
            "kind": c.kind,
        }.get(by)
        if column is not None:
            return sa.func.coalesce(column, "?")
        if by == "month":
            return self._bucket(c.first_submitted_at if at is None else at, "month")
        raise ValueError(f"--by {by}: use one of {', '.join(BY)}")

    @staticmethod
    def _first_payer(c: Any) -> sa.ColumnElement[Any]:
        legs = t.claim_legs
        first = (
            sa.select(legs.c.payer_id)
            .where(legs.c.claim_id == c.claim_id)
            .order_by(legs.c.leg)
            .limit(1)
            .scalar_subquery()
        )
        return sa.func.coalesce(first, c.payer_id)

    @staticmethod
    def _cohort(c: Any, period: Period) -> sa.ColumnElement[bool]:
        return sa.and_(c.first_submitted_at >= period.lower, c.first_submitted_at < period.upper)

    # predicates over claims ``c`` (of the cohort)

    @staticmethod
    def _rejected_first(c: Any, stage: str | None = None) -> sa.ColumnElement[bool]:
        if stage is None:
            return c.first_verdict == "rejected"  # type: ignore[no-any-return]
        r = t.report_rejections
        return sa.exists().where(
            r.c.claim_id == c.claim_id, r.c.version == c.first_version, r.c.stage == stage
        )

    @staticmethod
    def _accepted_first(c: Any) -> sa.ColumnElement[bool]:
        """Accepted by a 277CA (or adjudicated by an 835) at its first version, never rejected."""
        return c.first_verdict == "accepted"  # type: ignore[no-any-return]

    @staticmethod
    def _adjudicated(c: Any) -> sa.ColumnElement[bool]:
        return c.first_outcome.is_not(None)  # type: ignore[no-any-return]

    @staticmethod
    def _denied(c: Any, *, full: bool) -> sa.ColumnElement[bool]:
        """Denied in full (or, not ``full``, any line denied) at its first adjudication."""
        denied: sa.ColumnElement[bool] = c.first_outcome.in_(DENIED_OUTCOMES)
        return denied if full else sa.or_(denied, c.first_denied > 0)

    @staticmethod
    def _paid(c: Any) -> sa.ColumnElement[bool]:
        return c.first_paid_at.is_not(None)  # type: ignore[no-any-return]

    @staticmethod
    def _submissions(c: Any) -> sa.ScalarSelect[Any]:
        e = t.claim_events
        return (
            sa.select(sa.func.count())
            .where(e.c.claim_id == c.claim_id, e.c.kind == "submitted")
            .scalar_subquery()
        )

    def _no_answer(
        self, c: Any, as_of: date, days: Mapping[str, int], default: int
    ) -> sa.ColumnElement[bool]:
        e = t.claim_events
        limit: Any = sa.literal(default)
        if days:
            limit = sa.case(
                *((c.partner == p, sa.literal(n)) for p, n in sorted(days.items())),
                else_=sa.literal(default),
            )
        as_of_at = datetime.combine(as_of + timedelta(days=1), time(), UTC)
        answered = sa.exists().where(
            e.c.claim_id == c.claim_id, e.c.kind.in_(("ta1", "999", "277ca", "835"))
        )
        return sa.and_(
            self._days(
                sa.literal(as_of_at, t.claims.c.first_submitted_at.type), c.first_submitted_at
            )
            > limit,
            sa.not_(answered),
        )

    def _balance(self, c: Any) -> sa.ColumnElement[Any]:
        """Billed minus what the current version's 835s settled; for a later leg whose payer has
        not answered yet, minus what the last earlier leg's 835s paid and adjusted but the
        patient's part (a secondary's own 835 settles the whole charge: its OA 23 is the earlier
        payers' part, so the legs' sums are never added up)."""
        f, v, now = t.remit_facts, t.claim_versions, t.claim_versions.alias("now")
        settles = sa.func.sum(f.c.paid + f.c.co + f.c.pr + f.c.other)
        current = (
            sa.select(settles)
            .where(f.c.claim_id == c.claim_id, f.c.version == c.current_version)
            .scalar_subquery()
        )
        leg_now = (
            sa.select(now.c.leg)
            .where(now.c.claim_id == c.claim_id, now.c.version == c.current_version)
            .scalar_subquery()
        )
        with_leg = f.join(v, sa.and_(v.c.claim_id == f.c.claim_id, v.c.version == f.c.version))
        f2, v2 = t.remit_facts.alias("f2"), t.claim_versions.alias("v2")
        last_leg = (  # the latest earlier leg an 835 answered
            sa.select(sa.func.max(v2.c.leg))
            .select_from(
                f2.join(v2, sa.and_(v2.c.claim_id == f2.c.claim_id, v2.c.version == f2.c.version))
            )
            .where(f2.c.claim_id == c.claim_id, v2.c.leg < leg_now)
            .scalar_subquery()
        )
        earlier = (  # the patient's part (PR) of it is what the later payer is asked about
            sa.select(sa.func.sum(f.c.paid + f.c.co + f.c.other))
            .select_from(with_leg)
            .where(f.c.claim_id == c.claim_id, v.c.leg == last_leg)
            .scalar_subquery()
        )
        balance: sa.ColumnElement[Any] = c.total_charge - sa.func.coalesce(current, earlier, 0)
        return balance

    def _aging_bucket(self, c: Any, as_of: date) -> sa.ColumnElement[str]:
        age = self._age(as_of, c)
        return sa.case(
            (age <= 30, "0-30"),
            (age <= 60, "31-60"),
            (age <= 90, "61-90"),
            (age <= 120, "91-120"),
            else_=">120",
        )

    @staticmethod
    def _count(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.sum(sa.case((cond, 1), else_=0))

    # ------------------------------------------------------------------ reports

    async def summary(self, period: Period, by: str | None = None) -> Table:
        """Scrubber pass, first-pass acceptance, rejections, denial rate and amounts per group."""
        c = t.claims.c
        g = self._group(by, c).label("g")
        query = (
            sa.select(
                g,
                sa.func.count(),
                self._count(self._accepted_first(c)),
                self._count(self._rejected_first(c)),
                self._count(self._adjudicated(c)),
                self._count(self._denied(c, full=True)),
                self._count(self._denied(c, full=False)),
                sa.func.sum(c.total_charge),
                sa.func.sum(c.first_denied),
            )
            .where(self._cohort(c, period))
            .group_by(g)
            .order_by(g)
        )
        rows = await self._rows(query)
        scrub = {k: (n, clean) for k, n, clean in await self._scrubber(period, by)}
        out = Table(
            "summary",
            (
                by or "group",
                "encounters",
                "scrubber_clean",
                "scrubber_pass_rate",
                "submitted",
                "accepted_first_pass",
                "first_pass_rate",
                "rejected_first_pass",
                "adjudicated",
                "denied_full",
                "denied_any",
                "denial_rate",
                "any_line_denial_rate",
                "billed",
                "denied_amount",
                "denied_amount_rate",
            ),
        )
        keys = sorted({r[0] for r in rows} | set(scrub))
        by_key = {r[0]: r for r in rows}
        for key in keys:
            r = by_key.get(key, (key, 0, 0, 0, 0, 0, 0, 0, 0))
            n, clean = scrub.get(key, (0, 0))
            billed = _money(r[7])
            denied_amount = _money(r[8])
            out.rows.append(
                (
                    key,
                    n,
                    clean,
                    _rate(clean, n),
                    int(r[1]),
                    int(r[2] or 0),
                    _rate(int(r[2] or 0), int(r[1])),
                    int(r[3] or 0),
                    int(r[4] or 0),
                    int(r[5] or 0),
                    int(r[6] or 0),
                    _rate(int(r[5] or 0), int(r[4] or 0)),
                    _rate(int(r[6] or 0), int(r[4] or 0)),
                    billed,
                    denied_amount,
                    None if not billed else round(float(denied_amount / billed), 4),
                )
            )
        return out

    async def _scrubber(self, period: Period, by: str | None) -> list[Any]:
        """Encounters received in the period (first version) and those clean at intake."""
        c = t.claims.c
        g = self._group(by, c, c.created_at).label("g")
        query = (
            sa.select(g, sa.func.count(), self._count(c.intake_clean.is_(True)))
            .where(c.created_at >= period.lower, c.created_at < period.upper)
            .group_by(g)
        )
        return await self._rows(query)

    async def rejections(self, period: Period, by: str | None = None) -> Table:
        """First-submission rejections by stage and reason code (claims, per group)."""
        c = t.claims.c
        r = t.report_rejections
        g = self._group(by, c).label("g")
        query = (
            sa.select(g, r.c.stage, r.c.reason_code, sa.func.count(sa.distinct(r.c.claim_id)))
            .select_from(
                t.claims.join(
                    r, sa.and_(r.c.claim_id == c.claim_id, r.c.version == c.first_version)
                )
            )
            .where(self._cohort(c, period))
            .group_by(g, r.c.stage, r.c.reason_code)
            .order_by(
                g, r.c.stage, sa.func.count(sa.distinct(r.c.claim_id)).desc(), r.c.reason_code
            )
        )
        rows = await self._rows(query)
        return Table(
            "rejections", (by or "group", "stage", "reason", "claims"), [tuple(x) for x in rows]
        )

    async def weekly_acceptance(self, period: Period) -> Table:
        """First-pass acceptance by week of first submission."""
        c = t.claims.c
        week = self._bucket(c.first_submitted_at, "week").label("week")
        query = (
            sa.select(week, sa.func.count(), self._count(self._accepted_first(c)))
            .where(self._cohort(c, period))
            .group_by(week)
            .order_by(week)
        )
        rows = await self._rows(query)
        return Table(
            "weekly_acceptance",
            ("week", "submitted", "accepted_first_pass", "first_pass_rate"),
            [(w, int(n), int(a or 0), _rate(int(a or 0), int(n))) for w, n, a in rows],
        )

    async def denials(self, period: Period, by: str | None = None, *, top: int = 10) -> list[Table]:
        """Top denying CARCs (with group) and RARCs by claims and amount; by procedure too."""
        c = t.claims.c
        a = t.remit_adjustments
        g = self._group(by, c).label("g")
        tables = []
        for kind, title in (("CARC", "top_carc"), ("RARC", "top_rarc")):
            claims = sa.func.count(sa.distinct(a.c.claim_id))
            query = (
                sa.select(
                    g,
                    a.c.group_code,
                    a.c.code,
                    claims,
                    sa.func.coalesce(sa.func.sum(a.c.amount), 0),
                )
                .select_from(t.claims.join(a, a.c.claim_id == c.claim_id))
                .where(
                    self._cohort(c, period),
                    a.c.kind == kind,
                    a.c.denial.is_(True),
                )
                .group_by(g, a.c.group_code, a.c.code)
                .order_by(g, claims.desc(), sa.func.sum(a.c.amount).desc(), a.c.code)
            )
            rows = await self._rows(query)
            kept: list[tuple[Any, ...]] = []
            per: dict[Any, int] = {}
            for key, group_code, code, n, amount in rows:
                per[key] = per.get(key, 0) + 1
                if per[key] <= top:
                    label = f"{group_code}-{code}" if group_code else code
                    kept.append((key, label, int(n), _money(amount)))
            tables.append(Table(title, (by or "group", kind.lower(), "claims", "amount"), kept))
        proc = sa.func.coalesce(a.c.procedure, "(claim)")
        claims = sa.func.count(sa.distinct(a.c.claim_id))
        query = (
            sa.select(proc, a.c.group_code, a.c.code, claims, sa.func.sum(a.c.amount))
            .select_from(t.claims.join(a, a.c.claim_id == c.claim_id))
            .where(
                self._cohort(c, period),
                a.c.kind == "CARC",
                a.c.denial.is_(True),
            )
            .group_by(proc, a.c.group_code, a.c.code)
            .order_by(claims.desc(), sa.func.sum(a.c.amount).desc(), proc, a.c.code)
            .limit(top)
        )
        rows = await self._rows(query)
        tables.append(
            Table(
                "denials_by_procedure",
                ("procedure", "carc", "claims", "amount"),
                [(p, f"{gc}-{code}", int(n), _money(amt)) for p, gc, code, n, amt in rows],
            )
        )
        return tables

    async def payers(self, period: Period, by: str | None = "payer") -> Table:
        """Money (billed, allowed, paid, CO, PR, other, reversals) and days to payment per group."""
        c = t.claims.c
        f = t.remit_facts
        g = self._group(by, c).label("g")
        billed = await self._rows(
            sa.select(g, sa.func.count(), sa.func.sum(c.total_charge))
            .where(self._cohort(c, period))
            .group_by(g)
        )
        reversed_ = f.c.outcome == "reversed"
        money = await self._rows(
            sa.select(
                g,
                sa.func.sum(f.c.paid),
                sa.func.sum(f.c.co),
                sa.func.sum(f.c.pr),
                sa.func.sum(f.c.other),
                sa.func.sum(sa.case((reversed_, -f.c.paid), else_=0)),
                sa.func.sum(f.c.allowed),
                sa.func.count(f.c.allowed),
            )
            .select_from(t.claims.join(f, f.c.claim_id == c.claim_id))
            .where(self._cohort(c, period), f.c.at >= period.lower)
            .group_by(g)
        )
        days = {k: (p50, p90, n) for k, p50, p90, n in await self._days_to_payment(period, by)}
        sums = {r[0]: r[1:] for r in money}
        out = Table(
            "payers",
            (
                by or "group",
                "claims",
                "billed",
                "allowed",
                "allowed_835s",
                "paid",
                "co",
                "pr",
                "other_adjustments",
                "reversals",
                "paid_claims",
                "days_to_payment_median",
                "days_to_payment_p90",
            ),
        )
        for key, n, charge in sorted(billed, key=lambda r: str(r[0])):
            found = sums.get(key, (0, 0, 0, 0, 0, None, 0))
            paid, co, pr, other, rev = (_money(v) for v in found[:5])
            # Allowed as the 835s say it (their lines' AMT*B6); unknown when none of them does.
            allowed = None if not found[6] else _money(found[5])
            p50, p90, paid_n = days.get(key, (None, None, 0))
            money_cells = (allowed, int(found[6]), paid, co, pr, other, rev)
            out.rows.append((key, int(n), _money(charge), *money_cells, paid_n, p50, p90))
        return out

    async def days_to_payment(self, period: Period, by: str | None = None) -> Table:
        """Days to payment alone (median, 90th percentile, paid claims) per group."""
        return Table(
            "days_to_payment",
            (by or "group", "days_to_payment_median", "days_to_payment_p90", "paid_claims"),
            [tuple(r) for r in await self._days_to_payment(period, by)],
        )

    async def _days_to_payment(self, period: Period, by: str | None) -> list[Any]:
        c = t.claims.c
        # Whole days from the first submission's day to the payment date (BPR16; rows recorded
        # before it was kept: the day the 835 was applied).
        if self._sqlite:
            paid_on: Any = sa.func.coalesce(c.first_paid_on, sa.func.date(c.first_paid_at))
            first_day = sa.func.date(c.first_submitted_at)
            days = sa.func.julianday(paid_on) - sa.func.julianday(first_day)
        else:
            utc = sa.func.timezone
            paid_on = sa.func.coalesce(
                c.first_paid_on, sa.cast(utc("UTC", c.first_paid_at), sa.Date)
            )
            days = paid_on - sa.cast(utc("UTC", c.first_submitted_at), sa.Date)
        d = (
            sa.select(self._group(by, c).label("g"), days.label("d"))
            .where(self._cohort(c, period), c.first_paid_at.is_not(None))
            .subquery()
        )
        ranked = sa.select(
            d.c.g,
            d.c.d,
            sa.func.row_number().over(partition_by=d.c.g, order_by=d.c.d).label("rn"),
            sa.func.count().over(partition_by=d.c.g).label("n"),
        ).subquery()
        # Nearest rank: the median is the ceil(n/2)-th, the 90th percentile the ceil(0.9 n)-th.
        query = sa.select(
            ranked.c.g,
            sa.func.max(sa.case((ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.d))),
            sa.func.max(sa.case((ranked.c.rn == (ranked.c.n * 9 + 9) // 10, ranked.c.d))),
            sa.func.max(ranked.c.n),
        ).group_by(ranked.c.g)
        rows = await self._rows(query)
        return [(g, _round(p50), _round(p90), int(n)) for g, p50, p90, n in rows]

    async def aging(
        self,
        period: Period,
        by: str | None = "payer",
        *,
        no_answer_days: Mapping[str, int] | None = None,
        default_days: int = DEFAULT_NO_ANSWER_DAYS,
        listing: bool = True,
    ) -> list[Table]:
        """Open balance by age since date of service (as of the period end); no-answer claims
        (not listed, an empty table, when ``listing`` is False)."""
        c = t.claims.c
        g = self._group(by, c).label("g")
        bucket = self._aging_bucket(c, period.end).label("bucket")
        balance = self._balance(c)
        query = (
            sa.select(g, bucket, sa.func.count(), sa.func.sum(balance))
            .where(self._cohort(c, period), c.state.in_(OPEN_STATES))
            .group_by(g, bucket)
        )
        rows = await self._rows(query)
        cells: dict[Any, dict[str, tuple[int, Decimal]]] = {}
        for key, b, n, amount in rows:
            cells.setdefault(key, {})[b] = (int(n), _money(amount))
        columns = [by or "group"]
        for b in AGING_BUCKETS:
            columns += [f"{b}_claims", f"{b}_balance"]
        aging = Table("aging", (*columns, "total_balance"))
        for key in sorted(cells, key=str):
            row: list[Any] = [key]
            total = _money(0)
            for b in AGING_BUCKETS:
                n, amount = cells[key].get(b, (0, _money(0)))
                row += [n, amount]
                total += amount
            aging.rows.append((*row, total))
        if not listing:
            return [aging, Table("no_answer", ("claim_id", "partner", "payer", "days", "billed"))]
        days = no_answer_days or {}
        e_at = self._days(
            sa.literal(
                datetime.combine(period.end + timedelta(days=1), time(), UTC),
                t.claims.c.first_submitted_at.type,
            ),
            c.first_submitted_at,
        )
        query = (
            sa.select(c.claim_id, c.partner, c.payer_id, c.first_submitted_at, e_at, c.total_charge)
            .where(self._cohort(c, period), self._no_answer(c, period.end, days, default_days))
            .order_by(c.first_submitted_at, c.claim_id)
        )
        listed = await self._rows(query)
        no_answer = Table(
            "no_answer",
            ("claim_id", "partner", "payer", "first_submitted", "days", "billed"),
            [
                (cid, p, payer, _iso(at), int(float(d)), _money(amt))
                for cid, p, payer, at, d, amt in listed
            ],
        )
        return [aging, no_answer]

    async def unanswered(
        self,
        as_of: date,
        *,
        limit: int = 10,
        no_answer_days: Mapping[str, int] | None = None,
        default_days: int = DEFAULT_NO_ANSWER_DAYS,
    ) -> tuple[int, Table]:
        """Claims with no answer (the ``no_answer`` measure) as of ``as_of``, whenever first
        submitted: how many, and the oldest ``limit``. Only a claim still ``submitted`` can have
        no answer at all (every answer moves it on), so the state's index narrows the search."""
        c = t.claims.c
        where = sa.and_(
            c.state == "submitted",
            c.first_submitted_at.is_not(None),
            self._no_answer(c, as_of, no_answer_days or {}, default_days),
        )
        count = await self._rows(sa.select(sa.func.count()).where(where))
        listed = await self._rows(
            sa.select(c.claim_id, c.partner, c.payer_id, c.first_submitted_at, c.total_charge)
            .where(where)
            .order_by(c.first_submitted_at, c.claim_id)
            .limit(limit)
        )
        end = datetime.combine(as_of + timedelta(days=1), time(), UTC)
        return int(count[0][0]), Table(
            "no_answer",
            ("claim_id", "partner", "payer", "first_submitted", "days", "billed"),
            [
                (cid, p, payer, _iso(at), (end - _utc(at)).days, _money(amt))
                for cid, p, payer, at, amt in listed
            ],
        )

    async def rework(self, period: Period, by: str | None = None) -> list[Table]:
        """Correction items opened in the period by source and reason; median days to close."""
        c = t.claims.c
        i = t.correction_items
        g = self._group(by, c, i.c.opened_at).label("g")
        days = self._days(i.c.closed_at, i.c.opened_at)
        base = (
            sa.select(
                g,
                i.c.source,
                i.c.reason_code,
                sa.case((i.c.closed_at.is_not(None), days)).label("d"),
            )
            .select_from(i.join(t.claims, c.claim_id == i.c.claim_id))
            .where(i.c.opened_at >= period.lower, i.c.opened_at < period.upper)
            .subquery()
        )
        keys = (base.c.g, base.c.source, base.c.reason_code)
        counts = await self._rows(
            sa.select(*keys, sa.func.count(), sa.func.count(base.c.d)).group_by(*keys)
        )
        closed = sa.select(*keys, base.c.d).where(base.c.d.is_not(None)).subquery()
        ckeys = (closed.c.g, closed.c.source, closed.c.reason_code)
        ranked = sa.select(
            *ckeys,
            closed.c.d,
            sa.func.row_number().over(partition_by=ckeys, order_by=closed.c.d).label("rn"),
            sa.func.count().over(partition_by=ckeys).label("n"),
        ).subquery()
        rkeys = (ranked.c.g, ranked.c.source, ranked.c.reason_code)
        medians = await self._rows(
            sa.select(*rkeys, ranked.c.d).where(ranked.c.rn == (ranked.c.n + 1) // 2)
        )
        median = {(k, s_, r): d for k, s_, r, d in medians}
        rows = sorted(
            ((k, s_, r, o, cl, median.get((k, s_, r))) for k, s_, r, o, cl in counts),
            key=lambda x: (str(x[0]), str(x[1]), -int(x[3]), str(x[2])),
        )
        items = Table(
            "rework",
            (by or "group", "source", "reason", "opened", "closed", "median_days_to_close"),
            [(k, s, r, int(o), int(cl), _round(m)) for k, s, r, o, cl, m in rows],
        )
        c2 = t.claims.c
        g2 = self._group(by, c2).label("g")
        resub = await self._rows(
            sa.select(g2, sa.func.count(), self._count(self._submissions(c2) > 2))
            .where(self._cohort(c2, period))
            .group_by(g2)
            .order_by(g2)
        )
        resubmitted = Table(
            "resubmissions",
            (by or "group", "submitted", "resubmitted_more_than_once"),
            [(k, int(n), int(m or 0)) for k, n, m in resub],
        )
        return [items, resubmitted]

    # ------------------------------------------------------------------ tracing

    async def claims(
        self,
        period: Period,
        cell: str,
        *,
        by: str | None = None,
        group: str | None = None,
        no_answer_days: Mapping[str, int] | None = None,
        default_days: int = DEFAULT_NO_ANSWER_DAYS,
    ) -> list[str]:
        """The claim ids behind one cell (a name of :data:`CELLS`), optionally of one group."""
        c = t.claims.c
        name, _, arg = cell.partition(":")
        cond: sa.ColumnElement[bool]
        if name in ("scrubber_clean", "scrubber_dirty"):
            where: list[sa.ColumnElement[bool]] = [
                c.created_at >= period.lower,
                c.created_at < period.upper,
                c.intake_clean.is_(name == "scrubber_clean"),
            ]
            if by is not None and group is not None:
                where.append(self._group(by, c, c.created_at) == group)
            return [
                r[0]
                for r in await self._rows(sa.select(c.claim_id).where(*where).order_by(c.claim_id))
            ]
        a = t.remit_adjustments
        simple: dict[str, Any] = {
            "submitted": sa.true(),
            "accepted_first_pass": self._accepted_first(c),
            "rejected_first_pass": self._rejected_first(c),
            "adjudicated": self._adjudicated(c),
            "denied_full": self._denied(c, full=True),
            "denied_any": self._denied(c, full=False),
            "paid": self._paid(c),
            "resubmitted_more_than_once": self._submissions(c) > 2,
            "open": c.state.in_(OPEN_STATES),
            "no_answer": self._no_answer(c, period.end, no_answer_days or {}, default_days),
        }
        if name in simple and not arg:
            cond = simple[name]
        elif name == "aging" and arg in AGING_BUCKETS:
            cond = sa.and_(c.state.in_(OPEN_STATES), self._aging_bucket(c, period.end) == arg)
        elif name == "rejected" and arg:
            cond = self._rejected_first(c, arg)
        elif name in ("carc", "rarc") and arg:
            group_code, _, code = arg.rpartition("-") if name == "carc" else ("", "", arg)
            parts = [a.c.claim_id == c.claim_id, a.c.kind == name.upper(), a.c.code == code]
            parts.append(a.c.denial.is_(True))
            if group_code:
                parts.append(a.c.group_code == group_code)
            cond = sa.exists().where(*parts)
        else:
            raise ValueError(f"unknown cell {cell!r}: use one of {', '.join(CELLS)}")
        where = [self._cohort(c, period), cond]
        if by is not None and group is not None:
            where.append(self._group(by, c) == group)
        query = sa.select(c.claim_id).where(*where).order_by(c.claim_id)
        return [r[0] for r in await self._rows(query)]


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
