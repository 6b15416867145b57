"""``gateway report --html``: one self-contained page, charts drawn by matplotlib as inline SVG.

No patient data goes in: the page holds payer ids, reason codes, counts, amounts and rates only.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.ledger.reports import Period, Table
    from gateway.ledger.store import Ledger


@dataclass(frozen=True)
class HtmlData:
    """The tables the page shows."""

    summary: Table
    rejections: Table
    weekly: Table
    top_carc: Table
    payers: Table
    aging: Table
    no_answer: Table
    rework: Table


async def gather(ledger: Ledger, period: Period, days: dict[str, int]) -> HtmlData:
    """Run the queries the page needs."""
    q = ledger.reports
    denials = await q.denials(period, None)
    aging, no_answer = await q.aging(period, "payer", no_answer_days=days)
    rework = await q.rework(period, None)
    return HtmlData(
        summary=await q.summary(period, None),
        rejections=await q.rejections(period, None),
        weekly=await q.weekly_acceptance(period),
        top_carc=denials[0],
        payers=await q.payers(period, "payer"),
        aging=aging,
        no_answer=no_answer,
        rework=rework[0],
    )


def _svg(figure: Any) -> str:
    import matplotlib.pyplot as plt

    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = out.getvalue()
    return text[text.index("<svg") :]


def _charts(data: HtmlData) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "gateway-report"
    charts: list[tuple[str, str]] = []

    fig, ax = plt.subplots(figsize=(7, 3))
    weeks = [r[0] for r in data.weekly.rows]
    rates = [(r[3] or 0) * 100 for r in data.weekly.rows]
    ax.plot(weeks, rates, marker="o")
    ax.set_ylim(0, 100)
    ax.set_ylabel("first-pass acceptance %")
    ax.set_xlabel("week of first submission")
    ax.tick_params(axis="x", labelrotation=45)
    charts.append(("First-pass acceptance by week", _svg(fig)))

    fig, ax = plt.subplots(figsize=(7, 3))
    labels = [str(r[1]) for r in data.top_carc.rows][::-1]
    counts = [int(r[2]) for r in data.top_carc.rows][::-1]
    ax.barh(labels or ["(none)"], counts or [0])
    ax.set_xlabel("claims denied")
    charts.append(("Denials by reason (CARC with group code)", _svg(fig)))

    fig, ax = plt.subplots(figsize=(7, 3))
    payers = [str(r[0]) for r in data.aging.rows]
    left = [0.0] * len(payers)
    buckets = ("0-30", "31-60", "61-90", "91-120", ">120")
    for i, bucket in enumerate(buckets):
        values = [float(r[2 + 2 * i]) for r in data.aging.rows]
        ax.barh(payers or ["(none)"], values or [0], left=left or [0], label=bucket)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel("open balance (days since date of service)")
    ax.legend(fontsize="small", ncols=5, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    charts.append(("A/R aging by payer", _svg(fig)))
    return charts


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(_value(c, v))}</td>" for c, v in zip(table.columns, row, strict=True)
        )
        + "</tr>"
        for row in table.rows
    )
    if not table.rows:
        body = f'<tr><td colspan="{len(table.columns)}">(none)</td></tr>'
    return f"<h3>{html.escape(table.name)}</h3><table><tr>{head}</tr>{body}</table>"


def _value(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column.endswith("_rate"):
        return f"{value * 100:.1f}%"
    return str(value)


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1em 0; } svg { max-width: 100%; height: auto; }
"""


def render_html(data: HtmlData, period: Period) -> str:
    """The page: charts first, then the tables they come from."""
    title = f"Revenue-cycle report, claims first submitted {period.start} to {period.end}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Claim ids and amounts only; no patient data. Trace any number with "
        "<code>gateway report --claims CELL</code>.</p>",
    ]
    for caption, svg in _charts(data):
        parts.append(
            f"<figure><figcaption><h2>{html.escape(caption)}</h2></figcaption>{svg}</figure>"
        )
    for table in (
        data.summary,
        data.rejections,
        data.weekly,
        data.top_carc,
        data.payers,
        data.aging,
        data.no_answer,
        data.rework,
    ):
        parts.append(_table(table))
    parts.append("</body></html>")
    return "\n".join(parts)
