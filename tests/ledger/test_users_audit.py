"""The web console's users and the audit trail in the ledger (SQLite and PostgreSQL)."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.ledger.audit import cli_actor
from gateway.ledger.repository import LedgerError
from gateway.ledger.store import Ledger
from gateway.ledger.users import Role, UnknownUserError

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_users_are_added_changed_and_disabled(ledger: Ledger) -> None:
    """Each change moves sessions_valid_after; names are unique and checked."""
    ann = await ledger.add_user("ann", Role.BILLER, "$argon2id$hash", now=T0)
    assert (Role.BILLER, True, T0) == (ann.role, ann.active, ann.sessions_valid_after)
    with pytest.raises(LedgerError, match="exists already"):
        await ledger.add_user("ann", Role.VIEWER, "h")
    with pytest.raises(LedgerError, match="letters, digits"):
        await ledger.add_user("ann smith", Role.VIEWER, "h")
    t1 = T0 + timedelta(minutes=1)
    role = await ledger.set_user_role("ann", Role.ADMIN, now=t1)
    assert (Role.ADMIN, t1) == (role.role, role.sessions_valid_after)
    t2 = t1 + timedelta(minutes=1)
    off = await ledger.disable_user("ann", now=t2)
    assert (False, t2, t2) == (off.active, off.disabled_at, off.sessions_valid_after)
    on = await ledger.enable_user("ann")
    assert on.active
    new = await ledger.set_user_password("ann", "$argon2id$other")
    assert "$argon2id$other" == new.password_hash
    await ledger.add_user("bob", Role.VIEWER, "h")
    assert ["ann", "bob"] == [u.name for u in await ledger.users()]
    assert (await ledger.user_by_id(ann.id)) == (await ledger.user_by_name("ann"))
    with pytest.raises(UnknownUserError, match="gateway users list"):
        await ledger.disable_user("nobody")


def test_roles_are_ordered() -> None:
    """viewer < biller < admin."""
    assert Role.ADMIN.allows(Role.BILLER)
    assert Role.BILLER.allows(Role.VIEWER)
    assert not Role.BILLER.allows(Role.ADMIN)
    assert not Role.VIEWER.allows(Role.BILLER)


async def test_audit_entries_page_newest_first(ledger: Ledger) -> None:
    """Filtered by claim and actor, paged with ``before``; details kept as JSON."""
    for n in range(7):
        await ledger.audit(
            "ann" if n % 2 else "bob",
            "view",
            claim_id=f"C{n % 2}",
            detail={"n": n},
            client="10.0.0.1",
            now=T0 + timedelta(seconds=n),
        )
    page = await ledger.audit_entries(limit=3)
    assert [6, 5, 4] == [e.detail["n"] for e in page.entries]
    assert page.next_before == page.entries[-1].id
    rest = await ledger.audit_entries(before=page.next_before, limit=10)
    assert ([3, 2, 1, 0], None) == ([e.detail["n"] for e in rest.entries], rest.next_before)
    ann = await ledger.audit_entries(actor="ann", claim_id="C1")
    assert [5, 3, 1] == [e.detail["n"] for e in ann.entries]
    first = rest.entries[-1]
    assert (T0, "bob", "view", "C0", "10.0.0.1") == (
        first.at,
        first.actor,
        first.action,
        first.claim_id,
        first.client,
    )


async def test_audit_refuses_patient_data(ledger: Ledger) -> None:
    """A detail keyed by a name, birth date, member id or address is refused."""
    for key in ("name", "birth_date", "member_id", "Address", "encounter"):
        with pytest.raises(LedgerError, match="patient data"):
            await ledger.audit("ann", "view", claim_id="C1", detail={key: "x"})
    assert () == (await ledger.audit_entries()).entries


def test_cli_actor_names_the_os_user() -> None:
    """``cli:<user>``, or the name the command was given."""
    assert cli_actor().startswith("cli:")
    assert "cli:pat" == cli_actor("pat")
