"""The admin pages (users, audit trail), every role against every route, and the dashboard."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import pytest

from gateway.ledger.users import Role
from tests.support.ledger import incoming
from tests.support.web import PASSWORD, Console

#: Every route of the core: method, path, form, the lowest role that may use it, its answer.
ROUTES = [
    ("GET", "/", {}, Role.VIEWER, 200),
    ("GET", "/audit", {}, Role.ADMIN, 200),
    ("GET", "/users", {}, Role.ADMIN, 200),
    ("POST", "/users", {"name": "new", "role": "viewer", "password": PASSWORD}, Role.ADMIN, 303),
    ("POST", "/users/other", {"action": "enable"}, Role.ADMIN, 303),
    ("POST", "/logout", {}, Role.VIEWER, 303),
]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_only_its_routes(console: Console, role: Role) -> None:
    """Viewers and billers get 403 on the admin routes; each role reaches what it may."""
    console.add_user("other", Role.VIEWER)
    console.as_user(role)
    for method, path, data, needed, answer in ROUTES:
        if method == "GET":
            status = console.client.get(path, follow_redirects=False).status_code
        else:
            status = console.post(path, data).status_code
        assert (answer if role.allows(needed) else 403) == status, path
    names = {u.name for u in console.call(console.ledger.users)}
    assert ("new" in names) == (role == Role.ADMIN)
    console.as_user(role, f"{role.value}2")
    assert (role == Role.ADMIN) == ('href="/users"' in console.client.get("/").text)


def test_forbidden_page_says_which_role_is_needed(console: Console) -> None:
    """A biller asking for the users page gets 403 in the layout, saying why."""
    console.as_user(Role.BILLER)
    page = console.client.get("/users")
    assert 403 == page.status_code
    assert "This needs the admin role; you are logged in as a biller." in page.text


def test_admin_adds_changes_and_disables_users(console: Console) -> None:
    """Add (argon2 hash stored, never the password), new role, disable, enable; all audited."""
    console.as_user(Role.ADMIN, "root")
    added = console.post("/users", {"name": "ann", "role": "biller", "password": PASSWORD})
    assert (303, "/users?done=added") == (added.status_code, added.headers["location"])
    stored = console.call(console.ledger.user_by_name, "ann")
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    page = console.client.get("/users?done=added")
    assert "User added." in page.text
    assert ">ann<" in page.text
    assert 303 == console.post("/users/ann", {"action": "role", "role": "viewer"}).status_code
    assert 303 == console.post("/users/ann", {"action": "disable"}).status_code
    ann = console.call(console.ledger.user_by_name, "ann")
    assert ann is not None
    assert (Role.VIEWER, False) == (ann.role, ann.active)
    assert 303 == console.post("/users/ann", {"action": "enable"}).status_code
    actions = [
        (e.action, e.detail)
        for e in console.call(console.ledger.audit_entries, actor="root").entries
    ]
    assert [
        ("user-enable", {"user": "ann"}),
        ("user-disable", {"user": "ann"}),
        ("user-role", {"user": "ann", "role": "viewer"}),
        ("user-add", {"user": "ann", "role": "biller"}),
        ("login", {}),
    ] == actions


def test_user_form_mistakes_are_explained(console: Console) -> None:
    """A short password, a taken or malformed name, a bad role, an unknown user, oneself."""
    console.as_user(Role.ADMIN, "root")
    short = console.post("/users", {"name": "ann", "role": "biller", "password": "short"})
    taken = console.post("/users", {"name": "root", "role": "biller", "password": PASSWORD})
    odd = console.post("/users", {"name": "a b/c", "role": "biller", "password": PASSWORD})
    role = console.post("/users", {"name": "ann", "role": "owner", "password": PASSWORD})
    unknown = console.post("/users/nobody", {"action": "disable"})
    myself = console.post("/users/root", {"action": "disable"})
    demote = console.post("/users/root", {"action": "role", "role": "biller"})
    assert [400, 400, 400, 400, 404, 400, 400] == [
        r.status_code for r in (short, taken, odd, role, unknown, myself, demote)
    ]
    assert "at least 12 characters" in short.text
    assert "exists already" in taken.text
    assert "letters, digits" in odd.text
    assert "Pick a role" in role.text
    assert "cannot disable yourself" in myself.text
    assert ["root"] == [u.name for u in console.call(console.ledger.users)]


def test_audit_page_filters_and_pages(console: Console) -> None:
    """Newest first, filtered by claim and user, 50 a page with a link to older entries."""
    console.as_user(Role.ADMIN, "root")
    for n in range(60):
        console.call(
            console.ledger.audit,
            "ann" if n % 2 else "bob",
            "view",
            claim_id=f"C{n % 3}",
            client="10.0.0.9",
        )
    first = console.client.get("/audit")
    assert 200 == first.status_code
    assert first.text.count("<tr>") == 51  # header + 50
    older = first.text.split('class="pager"><a href="')[1].split('"')[0].replace("&amp;", "&")
    second = console.client.get(older)
    assert second.text.count("<tr>") == 1 + 11  # 60 views + the login, less 50
    only = console.client.get("/audit?claim=C1&user=ann")
    rows = only.text.count("<tr>") - 1
    assert rows == len([n for n in range(60) if n % 3 == 1 and n % 2])
    assert '<a href="/claims/C1">C1</a>' in only.text
    assert 400 == console.client.get("/audit?before=x").status_code


def test_dashboard_counts_claims_by_state(console: Console) -> None:
    """The placeholder dashboard shows the ledger's claims by state with their charges."""
    console.call(console.ledger.record_claims, [incoming("A1", "100.00"), incoming("A2", "50.25")])
    console.refresh_dashboard()
    console.as_user(Role.VIEWER)
    page = console.client.get("/")
    assert '<td>queued</td><td class="num">2</td><td class="num">150.25</td>' in page.text
