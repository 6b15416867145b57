"""The claim page and fixing a claim over HTTP (``gateway.web.pages.claim`` and ``codes``), on a
ledger worked by the real service and simulator: every route, every role, 404s, CSRF, and the
audit trail of views and changes."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import re

import pytest

from gateway.ledger.users import Role
from tests.support.claim_web import worked  # noqa: F401  (the fixture)
from tests.support.web import Console

#: Every route of the claim page: method, path, form.
ROUTES = [
    ("GET", "/claims/{id}", {}),
    ("GET", "/claims/{id}/x12/1", {}),
    ("POST", "/claims/{id}/check", {}),
    ("POST", "/claims/{id}/resubmit", {}),
    ("POST", "/claims/{id}/void", {"note": "x"}),
    ("POST", "/claims/{id}/resolve", {"note": "x"}),
]


def page_form(console: Console, claim_id: str) -> dict[str, str]:
    """The fix form's fields as the page fills them (inputs and the JSON box)."""
    text = console.client.get(f"/claims/{claim_id}").text
    form = re.search(
        r'<form method="post" action="[^"]+/resubmit" id="fix-form".*?</form>', text, re.S
    )
    assert form is not None, "no fix form on the page"
    fields = {
        m.group(1): _unescape(m.group(2))
        for m in re.finditer(r'<input id="[^"]*" name="([^"]+)" value="([^"]*)"', form.group(0))
    }
    box = re.search(
        r'<textarea id="advanced" name="encounter_json"[^>]*>(.*?)</textarea>', form.group(0), re.S
    )
    assert box is not None
    fields["encounter_json"] = _unescape(box.group(1))
    return fields


def _unescape(text: str) -> str:
    return (
        text.replace("&#34;", '"').replace("&quot;", '"').replace("&#39;", "'")
        .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )  # fmt: skip


def audit_actions(console: Console, claim_id: str) -> list[tuple[str, str]]:
    """(actor, action) of the claim's audit entries, oldest first."""
    page = console.call(console.ledger.audit_entries, claim_id=claim_id)
    return [(e.actor, e.action) for e in reversed(page.entries)]


def test_the_page_tells_the_claims_story(worked: Console) -> None:  # noqa: F811
    """A viewer sees the timeline with control numbers, the 277CAs, the 835 as an explanation of
    benefits with CARC meanings, the versions and the files; no form; the view is audited."""
    worked.as_user(Role.VIEWER)
    page = worked.client.get("/claims/WEB-OK")
    assert 200 == page.status_code
    text = page.text
    for expected in (
        "Timeline",
        "ISA13 000000001",
        "ST02 0001",
        "demo-clearinghouse-837P-000000001.x12",
        "Claim acknowledgements (277CA)",
        "Explanation of benefits (835)",
        "Paid by the payer",
        "Versions",
        "Show this claim's segments",
    ):
        assert expected in text, expected
    assert re.search(r"<code>CO-45</code> [\d.]+: Charge exceeds fee schedule", text)
    assert 'id="fix-form"' not in text
    assert "/resubmit" not in text
    assert [("viewer", "view")] == audit_actions(worked, "WEB-OK")


def test_findings_are_shown_at_their_fields(worked: Console) -> None:  # noqa: F811
    """The 277CA rejection (A7:164:IL) marks the member id; the scrubber's NPI finding marks the
    billing NPI; a biller gets the form, the plan (frequency 1) and the look-up."""
    worked.as_user(Role.BILLER)
    rejected = worked.client.get("/claims/WEB-REJ").text
    invalid = worked.client.get("/claims/WEB-BAD").text
    flagged = re.compile(r'<div class="field flagged" data-path="([^"]+)"')
    assert ["subscriber.member_id"] == flagged.findall(rejected)
    assert ["billing_provider.npi"] == flagged.findall(invalid)
    assert "STC-A7:164:IL" in rejected
    assert "E-NPI-CHECKDIGIT" in invalid
    assert "Resubmit (frequency 1)" in rejected
    assert 'id="lookup-q"' in rejected


def test_check_runs_the_scrubber_and_sends_nothing(worked: Console) -> None:  # noqa: F811
    """A fixed NPI checks clean, a wrong one still fails at its field; no version is recorded."""
    worked.as_user(Role.BILLER)
    form = page_form(worked, "WEB-BAD")
    clean = worked.post("/claims/WEB-BAD/check", {**form, "billing_provider.npi": "1234567893"})
    form["billing_provider.npi"] = "1234567891"
    still = worked.post("/claims/WEB-BAD/check", form)
    assert (200, 200) == (clean.status_code, still.status_code)
    assert "The scrubber finds no errors" in clean.text
    assert "The scrubber still finds 1 error(s)" in still.text
    assert 'data-path="billing_provider.npi"' in still.text
    claim = worked.call(worked.ledger.claim, "WEB-BAD")
    assert claim is not None
    assert ("invalid", 1) == (claim.state.value, claim.current_version)
    assert ("biller", "check") in audit_actions(worked, "WEB-BAD")


def test_resubmit_records_the_fixed_version(worked: Console) -> None:  # noqa: F811
    """The rejected claim with its member id fixed goes as frequency 1 (version 2, queued); the
    correction file goes; the page says what was done; the change is audited with the field."""
    worked.as_user(Role.BILLER)
    corrections = worked.settings.workspace.corrections
    assert (corrections / "WEB-REJ.json").exists()
    form = page_form(worked, "WEB-REJ")
    done = worked.post("/claims/WEB-REJ/resubmit", {**form, "subscriber.member_id": "UH4471829001"})
    assert 303 == done.status_code
    after = worked.client.get(done.headers["location"]).text
    version = worked.call(worked.ledger.claim_version, "WEB-REJ")
    assert ("1", 2) == (version.frequency, version.version)
    assert "UH4471829001" == version.encounter["subscriber"]["member_id"]
    assert "resubmitted as version 2 (frequency 1)" in after
    assert not (corrections / "WEB-REJ.json").exists()
    entries = worked.call(worked.ledger.audit_entries, claim_id="WEB-REJ").entries
    change = next(e for e in entries if e.action == "resubmit")
    assert ["subscriber.member_id"] == change.detail["fields"]


def test_resubmit_refuses_a_claim_still_wrong(worked: Console) -> None:  # noqa: F811
    """Still invalid: 422, the findings at their fields, nothing recorded; bad JSON: 422."""
    worked.as_user(Role.BILLER)
    form = page_form(worked, "WEB-BAD")
    refused = worked.post("/claims/WEB-BAD/resubmit", form)
    garbled = worked.post("/claims/WEB-BAD/resubmit", {**form, "encounter_json": "{"})
    assert (422, 422) == (refused.status_code, garbled.status_code)
    assert "still invalid; nothing was resubmitted" in refused.text
    assert 'data-path="billing_provider.npi"' in refused.text
    assert "the advanced box is not JSON" in garbled.text
    assert 1 == worked.call(worked.ledger.claim_version, "WEB-BAD").version


def test_void_and_resolve_follow_the_queue_rules(worked: Console) -> None:  # noqa: F811
    """Resolve needs a note; a claim never adjudicated is withdrawn; an adjudicated one is voided
    with frequency 8; resolving again is a conflict."""
    worked.as_user(Role.ADMIN)
    no_note = worked.post("/claims/WEB-BAD/resolve", {"note": "  "}, page="/claims/WEB-BAD")
    resolved = worked.post("/claims/WEB-BAD/resolve", {"note": "billed on paper"})
    again = worked.post("/claims/WEB-BAD/resolve", {"note": "again"})
    withdrawn = worked.post("/claims/WEB-REJ/void", {"note": "duplicate"})
    voided = worked.post("/claims/WEB-OK/void", {"note": "billed in error"})
    assert (422, 303, 409, 303, 303) == (
        no_note.status_code, resolved.status_code, again.status_code, withdrawn.status_code,
        voided.status_code,
    )  # fmt: skip
    states = {c: worked.call(worked.ledger.claim, c) for c in ("WEB-BAD", "WEB-REJ")}
    assert {"WEB-BAD": "resolved", "WEB-REJ": "voided"} == {
        c: s.state.value for c, s in states.items() if s is not None
    }
    assert "8" == worked.call(worked.ledger.claim_version, "WEB-OK").frequency
    assert {"resolve", "void"} <= {a for _, a in audit_actions(worked, "WEB-BAD")} | {
        a for _, a in audit_actions(worked, "WEB-OK")
    }


def test_raw_segments_of_the_claim_only(worked: Console) -> None:  # noqa: F811
    """Each file shows only this claim's loop (CLM in the 837, CLP in the 835, 2200D in the
    277CA); a file of no concern to the claim is 404; each look is audited."""
    worked.as_user(Role.VIEWER)
    files = {f.kind: f.file_id for f in worked.call(worked.ledger.claim_files, "WEB-OK")}
    sent = worked.client.get(f"/claims/WEB-OK/x12/{files['837P']}").text
    paid = worked.client.get(f"/claims/WEB-OK/x12/{files['835']}").text
    status = worked.client.get(f"/claims/WEB-OK/x12/{files['277CA']}").text
    bad_files = {f.file_id for f in worked.call(worked.ledger.claim_files, "WEB-BAD")}
    foreign = worked.client.get(f"/claims/WEB-BAD/x12/{files['835']}")
    assert "CLM*WEB-OK*" in sent
    assert "CLM*WEB-REJ*" not in sent
    assert "CLP*WEB-OK*" in paid
    assert "TRN*2*WEB-OK~" in status
    assert files["835"] not in bad_files
    assert 404 == foreign.status_code
    assert 3 == sum(a == "view-x12" for _, a in audit_actions(worked, "WEB-OK"))


def test_code_lookup_finds_codes_on_the_date(worked: Console) -> None:  # noqa: F811
    """ICD-10-CM by code, HCPCS by words, modifiers by code, each with its validity."""
    worked.as_user(Role.BILLER)
    icd = worked.client.get(
        "/codes/lookup", params={"set": "icd", "q": "E11.6", "date": "2026-03-02"}
    )
    hcpcs = worked.client.get("/codes/lookup", params={"set": "hcpcs", "q": "dexamethasone"})
    modifier = worked.client.get("/codes/lookup", params={"set": "modifier", "q": "ZX"})
    assert "<code>E11.65</code>" in icd.text
    assert "<code>J1100</code>" in hcpcs.text
    assert "No modifier code matches" in modifier.text


@pytest.mark.parametrize(("method", "path", "data"), ROUTES)
def test_roles_unknown_claims_and_login(
    worked: Console,  # noqa: F811
    method: str,
    path: str,
    data: dict[str, str],
) -> None:
    """Nobody logged in: sent to the login page (GET) or 401; a viewer: 403 on every change;
    an unknown claim: 404 for a biller."""
    target = path.format(id="WEB-REJ")
    if method == "GET":
        anonymous = worked.client.get(target, follow_redirects=False)
        assert 303 == anonymous.status_code
        assert anonymous.headers["location"].startswith("/login?next=")
    else:
        assert 401 == worked.post(target, data, page="/login").status_code
    worked.as_user(Role.VIEWER)
    if method == "POST":
        assert 403 == worked.post(target, data).status_code
    worked.as_user(Role.BILLER, "biller")
    unknown = path.format(id="NOPE")
    if method == "GET":
        assert 404 == worked.client.get(unknown).status_code
    else:
        assert 404 == worked.post(unknown, data).status_code


def test_posts_need_the_csrf_token(worked: Console) -> None:  # noqa: F811
    """A change posted without the form's token is refused and changes nothing."""
    worked.as_user(Role.BILLER)
    refused = worked.client.post("/claims/WEB-BAD/resolve", data={"note": "x"})
    assert 403 == refused.status_code
    claim = worked.call(worked.ledger.claim, "WEB-BAD")
    assert claim is not None
    assert "invalid" == claim.state.value
