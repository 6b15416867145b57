"""Trading-partner files: what they hold, and the located errors for what they get wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.partners import (
    DEFAULT_MAX_CLAIMS_PER_TRANSACTION,
    PartnerConfigError,
    load_partner,
    load_partners,
)

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = """
[interchange]
sender_qualifier = "ZZ"
sender_id = "SENDER"
receiver_qualifier = "30"
receiver_id = "RECEIVER"
[submitter]
name = "SUBMITTER"
id = "S1"
contact_phone = "5555550100"
[receiver]
name = "RECEIVER INC"
id = "R1"
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_clearinghouse_drives_the_envelope_fields() -> None:
    """The shipped demo partner loads with the values its file states."""
    partner = load_partners(ROOT / "config" / "partners").get("demo-clearinghouse")
    expected = (
        "ZZ", "VALLEYGATEWAY", "ZZ", "DEMOCLEARING", "T", "1",
        "VALLEYGATEWAY", "DEMOCLEARING", "VALLEY BILLING GATEWAY", "VBG0001",
        "DEMO CLEARINGHOUSE", "DEMOCH01", 5000, False, True, "directory",
    )  # fmt: skip
    actual = (
        partner.isa_sender_qualifier, partner.isa_sender_id, partner.isa_receiver_qualifier,
        partner.isa_receiver_id, partner.usage_indicator, partner.acknowledgment_requested,
        partner.gs_sender_code, partner.gs_receiver_code, partner.submitter_name,
        partner.submitter_id, partner.receiver_name, partner.receiver_id,
        partner.max_claims_per_transaction, partner.frequency_1_only, partner.default,
        partner.transport["kind"],
    )  # fmt: skip
    assert expected == actual


def test_defaults_fill_what_a_minimal_file_leaves_out(tmp_path: Path) -> None:
    """Usage T, no TA1, GS codes from the ISA ids, 5000 claims per set, frequency any."""
    partner = load_partner(write(tmp_path, "minimal", MINIMAL))
    expected = ("minimal", "T", "0", "SENDER", "RECEIVER", DEFAULT_MAX_CLAIMS_PER_TRANSACTION)
    actual = (
        partner.name,
        partner.usage_indicator,
        partner.acknowledgment_requested,
        partner.gs_sender_code,
        partner.gs_receiver_code,
        partner.max_claims_per_transaction,
    )
    assert expected == actual
    assert partner.frequency_1_only is False


@pytest.mark.parametrize(
    ("change", "expected_fragment"),
    [
        (("[interchange]", '[interchange]\nusage = "X"'), "interchange.usage: must be one of P, T"),
        (('sender_qualifier = "ZZ"', 'sender_qualifier = "99"'), "interchange.sender_qualifier"),
        (('sender_id = "SENDER"', 'sender_id = "A-SENDER-ID-TOO-LONG"'), "longer than 15"),
        (('contact_phone = "5555550100"', ""), "needs a phone or an e-mail"),
        (('name = "SUBMITTER"', 'name = "BAD*NAME"'), "submitter.name: holds a character"),
        (("[receiver]", "[claims]\nmax_claims_per_transaction = 0\n[receiver]"), "whole number"),
        (("[receiver]", '[claims]\nfrequency_1_only = "yes"\n[receiver]'), "true or false"),
        (("[receiver]", "[claims]\nno_answer_days = 0\n[receiver]"), "claims.no_answer_days"),
        (("[receiver]", '[delimiters]\nelement = ":"\n[receiver]'), "[delimiters]"),
        (('id = "R1"', "id = 7"), "receiver.id: must be a string"),
        (("[receiver]\n", "[receivers]\n"), "[receiver]: this table is required"),
        (("[submitter]", "[submitter"), "not valid TOML"),
    ],
)
def test_mistakes_name_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], expected_fragment: str
) -> None:
    """A wrong value is a PartnerConfigError naming file and key, not a traceback."""
    path = write(tmp_path, "p", MINIMAL.replace(*change, 1))
    with pytest.raises(PartnerConfigError) as caught:
        load_partner(path)
    assert str(path) in str(caught.value)
    assert expected_fragment in str(caught.value)


def test_lookup_ignores_case_and_unknown_names_list_the_known(tmp_path: Path) -> None:
    """Encounters may write the partner in capitals; an unknown one names those configured."""
    write(tmp_path, "acme-ch", MINIMAL)
    partners = load_partners(tmp_path)
    assert partners.get("ACME-CH").name == "acme-ch"
    with pytest.raises(KeyError, match="known: acme-ch"):
        partners.get("other")


@pytest.mark.parametrize(
    ("files", "expected_default"),
    [
        ({"a": MINIMAL}, "a"),  # the only partner is the default
        ({"a": MINIMAL, "b": MINIMAL}, None),  # ambiguous
        ({"a": MINIMAL, "b": "default = true\n" + MINIMAL}, "b"),
    ],
)
def test_default_partner(
    tmp_path: Path, files: dict[str, str], expected_default: str | None
) -> None:
    """The default is the one marked `default = true`, or the only one."""
    for name, text in files.items():
        write(tmp_path, name, text)
    assert expected_default == load_partners(tmp_path).default_name


def test_two_defaults_are_refused(tmp_path: Path) -> None:
    """Two partners both marked default is a configuration error."""
    write(tmp_path, "a", "default = true\n" + MINIMAL)
    write(tmp_path, "b", "default = true\n" + MINIMAL)
    with pytest.raises(PartnerConfigError, match="more than one"):
        load_partners(tmp_path)


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    """A partners folder that does not exist is reported as such."""
    with pytest.raises(PartnerConfigError, match="does not exist"):
        load_partners(tmp_path / "nope")


def test_partners_are_hashable_values() -> None:
    """A partner can key a dict or sit in a set (its transport table does not take part)."""
    partner = load_partners(ROOT / "config" / "partners").get(None)
    assert {partner: 1}[partner] == 1
