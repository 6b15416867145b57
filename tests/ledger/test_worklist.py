"""``Ledger.worklist``: the open correction items filtered, sorted and paged by key, and what
came after an item (the live queue page), on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ledger.store import Ledger
from gateway.ledger.worklist import SORTS, CursorError, WorkFilter
from tests.support.worklist import Item, close_item, item_ids, open_items

ITEMS = [
    Item("C-001", payer="87726", reason="E-NPI-CHECKDIGIT", charge="50.00", days_old=40),
    Item("C-002", payer="60054", reason="STC-A7:562:85", charge="900.00", days_old=35),
    Item("C-003", payer="87726", reason="CO-50", charge="75.25", days_old=20),
    Item("C-004", payer="60054", reason="CO-16", charge="10.00", days_old=10, partner="other"),
    Item("X-005", payer="00430", reason="IK403-7", charge="300.00", days_old=5),
    Item("X-006", payer="87726", reason="STC-A6:94:DN", charge="120.00", days_old=1),
    Item("C-007", payer="00430", reason="E-ICD-UNKNOWN", charge="64.00", days_old=0.5),
]


async def walk(ledger: Ledger, where: WorkFilter | None, sort: str, size: int) -> list[str]:
    """Every claim id of every page, following the cursors."""
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        page = await ledger.worklist.page(where, sort=sort, after=cursor, size=size)
        seen += [r.claim_id for r in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the cursors never ended")


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("size", [1, 2, 3, 50])
async def test_pages_by_key_visit_every_open_item_once_in_sort_order(
    ledger: Ledger, sort: str, size: int
) -> None:
    """Following the cursors gives every open item once, in the order of the sort, whatever
    the page size; a closed item is never listed."""
    await open_items(ledger, ITEMS)
    await close_item(ledger, "C-003")
    seen = await walk(ledger, None, sort, size)
    open_ = [i for i in ITEMS if i.claim_id != "C-003"]
    ids = await item_ids(ledger)
    expected = {
        "oldest": sorted(open_, key=lambda i: -i.days_old),
        "newest": sorted(open_, key=lambda i: i.days_old),
        "amount": sorted(open_, key=lambda i: -Decimal(i.charge)),
        "claim": sorted(open_, key=lambda i: i.claim_id),
        "payer": sorted(open_, key=lambda i: (i.payer, -i.days_old)),
        "reason": sorted(open_, key=lambda i: (i.reason, -i.days_old, ids[i.claim_id])),
    }[sort]
    assert [i.claim_id for i in expected] == seen


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (WorkFilter(payer="60054"), ["C-002", "C-004"]),
        (WorkFilter(partner="other"), ["C-004"]),
        (WorkFilter(reason="co"), ["C-003", "C-004"]),  # the start of the code, any case
        (WorkFilter(reason="STC-A7"), ["C-002"]),
        (WorkFilter(reason="C_"), []),  # LIKE wildcards are literal text
        (WorkFilter(claim="x-"), ["X-005", "X-006"]),  # anywhere in the id, any case
        (WorkFilter(claim="%"), []),
        (WorkFilter(min_age_days=15), ["C-001", "C-002", "C-003"]),
        (WorkFilter(payer="87726", min_age_days=15), ["C-001", "C-003"]),
        (WorkFilter(payer="nobody"), []),
    ],
)
async def test_filters_narrow_the_items_and_the_total(
    ledger: Ledger, where: WorkFilter, expected: list[str]
) -> None:
    """Each filter keeps the items it names; the total is the filter's, not the page's."""
    await open_items(ledger, ITEMS)
    page = await ledger.worklist.page(where, sort="oldest", size=1)
    assert expected == await walk(ledger, where, "oldest", 1)
    assert len(expected) == page.total
    assert (page.next_cursor is not None) == (len(expected) > 1)


async def test_a_row_carries_what_a_biller_needs_and_no_patient_data(ledger: Ledger) -> None:
    """Claim id, payer, partner, source, reason code, claim state, amount, age: nothing else."""
    await open_items(ledger, ITEMS[:1])
    row = (await ledger.worklist.page()).rows[0]
    assert (
        row.claim_id,
        row.payer_id,
        row.partner,
        row.source,
        row.reason_code,
        row.state,
    ) == ("C-001", "87726", "demo", "scrubber", "E-NPI-CHECKDIGIT", "invalid")
    assert Decimal("50.00") == row.amount
    assert row.age_days() == 40
    assert set(row.__dataclass_fields__) == {
        "id", "claim_id", "payer_id", "partner", "source", "reason_code", "state", "amount",
        "opened_at",
    }  # fmt: skip


async def test_after_follows_new_items_under_the_filter(ledger: Ledger) -> None:
    """``after`` gives the open items created after an id, oldest first, filtered."""
    await open_items(ledger, ITEMS[:2])
    last = await ledger.worklist.last_id()
    assert await ledger.worklist.after(last) == []
    await open_items(ledger, ITEMS[2:5])
    assert [r.claim_id for r in await ledger.worklist.after(last)] == ["C-003", "C-004", "X-005"]
    narrowed = await ledger.worklist.after(last, WorkFilter(payer="60054"))
    assert [r.claim_id for r in narrowed] == ["C-004"]
    assert last + 3 == await ledger.worklist.last_id()


async def test_facets_count_the_open_items_per_payer_and_reason(ledger: Ledger) -> None:
    """The filter choices: payers and reason codes of open items, most items first."""
    await open_items(ledger, ITEMS)
    await close_item(ledger, "C-007")
    facets = await ledger.worklist.facets()
    assert facets["payer"] == [("87726", 3), ("60054", 2), ("00430", 1)]
    assert sum(n for _, n in facets["reason"]) == 6


@pytest.mark.parametrize("cursor", ["!!!", "W10", "WyJuZXdlc3QiLDFd"])
async def test_a_cursor_not_ours_or_of_another_sort_is_refused(ledger: Ledger, cursor: str) -> None:
    """A damaged cursor, or one from another sort, raises CursorError (never a wrong page)."""
    await open_items(ledger, ITEMS[:3])
    with pytest.raises(CursorError):
        await ledger.worklist.page(sort="oldest", after=cursor)


async def test_an_unknown_sort_is_refused(ledger: Ledger) -> None:
    """Only the sorts of SORTS."""
    with pytest.raises(ValueError, match="sort 'age'"):
        await ledger.worklist.page(sort="age")
