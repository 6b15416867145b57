"""Control numbers: unique per partner, never repeated; the ledger owns the real sequences
(``gateway build-837`` and the service share them, see test_claim837_cli)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.transactions.control_numbers import (
    ControlNumberAllocator,
    ControlNumberError,
    MemoryAllocator,
)


def test_memory_allocator_counts_per_partner_and_counter() -> None:
    """Each partner has its own ISA13, GS06 and ST02 sequences."""
    allocator = MemoryAllocator()
    actual = [
        allocator.next_isa13("a"),
        allocator.next_isa13("a"),
        allocator.next_isa13("b"),
        allocator.next_gs06("a"),
        allocator.next_st02("a"),
        allocator.next_st02("a"),
    ]
    assert actual == [1, 2, 1, 1, 1, 2]


def test_memory_allocator_satisfies_the_protocol() -> None:
    """The builder's allocators only have to provide the three methods."""
    assert isinstance(MemoryAllocator(), ControlNumberAllocator)


def test_memory_allocator_never_wraps_around() -> None:
    """ISA13 has nine digits: past 999999999 the allocator refuses instead of reusing one."""
    allocator = MemoryAllocator(start=999_999_999)
    assert allocator.next_isa13("p") == 999_999_999
    with pytest.raises(ControlNumberError, match="exhausted"):
        allocator.next_isa13("p")


async def test_the_ledger_refuses_an_exhausted_counter(tmp_path: Path) -> None:
    """The ledger's sequence (the one the service and build-837 share) never wraps either."""
    import sqlalchemy as sa

    from gateway.ledger.store import Ledger, LedgerError

    async with await Ledger.open(f"sqlite:///{tmp_path / 'gateway.db'}") as ledger:
        assert await ledger.allocate("p", "isa13") == 1
        async with ledger._write() as conn:
            await conn.execute(sa.text("UPDATE control_numbers SET last_value = 999999999"))
        with pytest.raises(LedgerError, match="exhausted"):
            await ledger.allocate("p", "isa13")
