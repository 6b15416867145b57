"""Reading other_payers (coordination of benefits) from every encounter format: JSON, JSON Lines
and XML give the same model, and a bad value deep in an adjudication is found where it is."""

from __future__ import annotations

import io
import json
from datetime import date

from lxml import etree

from gateway.edits import FindingCode, check_stream
from gateway.encounters import read_encounters
from gateway.encounters.xml_reader import encounter_to_xml, load_schema
from gateway.models import Encounter
from tests.support.strategies import sample_dict, with_changes

SECONDARY = sample_dict("professional-secondary")
INSTITUTIONAL = sample_dict("institutional-secondary")
A = "other_payers[0].adjudication"
TODAY = date(2026, 11, 23)


def _one(data: bytes, name: str) -> Encounter:
    (record,) = read_encounters(io.BytesIO(data), name=name)
    assert record.findings == ()
    assert record.encounter is not None
    return record.encounter


def test_json_and_json_lines_read_every_level_of_other_payers() -> None:
    """Payer, subscriber, adjudication, its lines and their adjustments all arrive."""
    from_json = _one(json.dumps(SECONDARY).encode(), "a.json")
    lines = f"{json.dumps(SECONDARY)}\n{json.dumps(INSTITUTIONAL)}\n".encode()
    from_lines = [r.encounter for r in read_encounters(io.BytesIO(lines), name="a.jsonl")]
    assert from_lines[0] == from_json
    (primary,) = from_json.other_payers
    assert primary.adjudication is not None
    assert (primary.payer.id, primary.subscriber.claim_filing_indicator) == ("00952", "MB")
    line = primary.adjudication.lines[0]
    assert [(a.group, a.reason, str(a.amount)) for a in line.adjustments] == [
        ("CO", "45", "53.80"),
        ("PR", "2", "26.24"),
    ]
    assert primary.adjudication.remark_codes == ("MA01",)
    institutional = from_lines[1]
    assert institutional is not None
    assert institutional.subscriber.insurance_type == "12"


def test_the_xml_form_names_each_list_item_and_reads_back_the_same() -> None:
    """<other_payers><other_payer>, <adjustments><adjustment>, <lines><line>,
    <remark_codes><remark_code>: valid against the XSD and the same model as the JSON."""
    for data in (SECONDARY, INSTITUTIONAL):
        encounter = Encounter.model_validate(data)
        xml = encounter_to_xml(encounter)
        root = etree.fromstring(xml)
        assert load_schema().validate(root), load_schema().error_log
        assert _one(xml, "a.xml") == encounter
    text = encounter_to_xml(Encounter.model_validate(SECONDARY)).decode()
    for tag in ("<other_payer>", "<adjustment>", "<line>", "<remark_code>", "<modifier>"):
        assert tag in text


HAND_WRITTEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<encounter>
  %s
  <other_payers>
    <other_payer>
      <responsibility>primary</responsibility>
      <payer><id>00952</id><name>MEDICARE PART B</name></payer>
      <subscriber>
        <member_id>1EG4TE5MK73</member_id><last_name>DOE</last_name>
        <claim_filing_indicator>MB</claim_filing_indicator>
      </subscriber>
      <adjudication>
        <paid_amount>118.28</paid_amount>
        <paid_date>2026-11-15</paid_date>
        <lines>
          <line>
            <line_id>VFP0101-1</line_id><paid_amount>104.96</paid_amount>
            <adjustments>
              <adjustment><group>CO</group><reason>45</reason><amount>53.80</amount></adjustment>
              <adjustment><group>PR</group><reason>2</reason><amount>26.24</amount></adjustment>
            </adjustments>
          </line>
          <line>
            <line_id>VFP0101-2</line_id><paid_amount>%s</paid_amount>
            <adjustments>
              <adjustment><group>%s</group><reason>45</reason><amount>29.18</amount></adjustment>
            </adjustments>
          </line>
        </lines>
        <remark_codes><remark_code>MA01</remark_code></remark_codes>
      </adjudication>
    </other_payer>
  </other_payers>
</encounter>
"""


def _hand_written(paid: str = "13.32", group: str = "CO") -> bytes:
    """The secondary sample in hand-written XML (its other fields from the XML writer)."""
    base = dict(SECONDARY)
    del base["other_payers"]
    xml = encounter_to_xml(Encounter.model_validate(base)).decode()
    inner = xml[xml.index("<encounter>") + len("<encounter>") : xml.rindex("</encounter>")]
    inner = inner.replace("<other_payers/>", "")
    return HAND_WRITTEN % (inner.encode(), paid.encode(), group.encode())


def test_hand_written_xml_reads_like_the_json() -> None:
    """An exporter's XML with nested other-payer lists is the same encounter as the JSON."""
    expected = Encounter.model_validate(
        with_changes(
            SECONDARY,
            {
                "other_payers[0].subscriber": {
                    "member_id": "1EG4TE5MK73",
                    "last_name": "DOE",
                    "claim_filing_indicator": "MB",
                },
                f"{A}.payer_claim_control_number": None,
                f"{A}.patient_responsibility": None,
                f"{A}.lines[0].procedure_code": None,
                f"{A}.lines[0].modifiers": [],
                f"{A}.lines[0].units": None,
            },
        )
    )
    assert _one(_hand_written(), "a.xml") == expected


def test_a_bad_amount_deep_in_xml_is_found_on_its_line_and_path() -> None:
    """A malformed line paid amount: E-AMOUNT-FORMAT at its JSON path and its own XML line."""
    data = _hand_written(paid="13.3X")
    (record,) = read_encounters(io.BytesIO(data), name="a.xml")
    assert record.encounter is None
    expected_line = data[: data.index(b"13.3X")].count(b"\n") + 1
    assert [(f.code, f.path, f.line) for f in record.findings] == [
        (FindingCode.AMOUNT_FORMAT, f"{A}.lines[1].paid_amount", expected_line)
    ]


def test_a_bad_group_code_in_xml_names_the_adjustment() -> None:
    """An adjustment group outside CO/CR/OA/PI/PR is refused at its path."""
    (record,) = read_encounters(io.BytesIO(_hand_written(group="XX")), name="a.xml")
    assert [(f.code, f.path) for f in record.findings] == [
        (FindingCode.CODE_NOT_IN_LIST, f"{A}.lines[1].adjustments[0].group")
    ]


def test_a_bad_group_code_in_json_names_the_adjustment() -> None:
    """The JSON form gives the same finding at the same path."""
    bad = with_changes(SECONDARY, {f"{A}.lines[1].adjustments[0].group": "XX"})
    (record,) = read_encounters(io.BytesIO(json.dumps(bad).encode()), name="a.json")
    assert [(f.code, f.path) for f in record.findings] == [
        (FindingCode.CODE_NOT_IN_LIST, f"{A}.lines[1].adjustments[0].group")
    ]


def test_a_refused_adjudication_is_not_also_reported_missing() -> None:
    """The contract refuses the adjudication's date; the scrubber, run without it, does not add
    "adjudication missing" on top, and still reports the rest of the claim."""
    bad = with_changes(
        SECONDARY,
        {f"{A}.paid_date": "15/11/2026", "billing_provider.npi": "1234567890"},
    )
    (result,) = check_stream(io.BytesIO(json.dumps(bad).encode()), name="a.json", today=TODAY)
    assert [(f.code, f.path) for f in result.findings] == [
        (FindingCode.DATE_FORMAT, f"{A}.paid_date"),
        (FindingCode.NPI_CHECKDIGIT, "billing_provider.npi"),
    ]
