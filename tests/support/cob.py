"""Hand-made coordination-of-benefits encounters: the samples billed to a second or third payer.

``cob_encounters()`` holds the claims of the COB golden files (``tests/golden/claim837/``), each
named for what it shows; ``cob_files()`` builds them into those files' bytes. Every adjudication
balances as the TR3s require (per payer, each line's charge is its paid amount plus its line
adjustments; the claim's charge is the paid amount plus all adjustments). Names, ids and amounts
are synthetic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.models import Encounter, Kind
from gateway.partners import load_partners
from gateway.transactions.claim837 import build_837
from gateway.transactions.control_numbers import MemoryAllocator
from tests.support.env import ROOT
from tests.support.strategies import sample_dict, with_changes

__all__ = ["CREATED", "cob_dicts", "cob_encounters", "cob_file", "cob_files"]

CREATED = datetime(2026, 11, 20, 9, 30)
"""The stamp of the golden files (ISA09/ISA10, GS04/GS05, BHT04/BHT05)."""

# -------------------------------------------------------------------------------- parties

MEDICARE_B = {"id": "00952", "name": "MEDICARE PART B"}
MEDICARE_A = {"id": "00451", "name": "MEDICARE PART A"}
MEDICAID = {"id": "IL1MC", "name": "ILLINOIS MEDICAID"}
SUPPLEMENT = {"id": "61101", "name": "HUMANA MEDICARE SUPPLEMENT"}


def _subscriber(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An other subscriber made from a sample's subscriber (2330A)."""
    keep = ("member_id", "last_name", "first_name", "group_number", "claim_filing_indicator")
    other = {k: base[k] for k in keep if k in base}
    other.update(changes)
    return other


def _adjustment(group: str, reason: str, amount: str, **more: Any) -> dict[str, Any]:
    return {"group": group, "reason": reason, "amount": amount, **more}


# ------------------------------------------------------------------------------- encounters


def _secondary_837p_lines() -> dict[str, Any]:
    """837P to Medicaid (secondary) after the employer plan paid line by line (2430 per line)."""
    base = sample_dict("professional-several-lines")
    primary_sub = _subscriber(base["subscriber"], group_name="SANGAMON TOOL WORKS")
    return with_changes(
        base,
        {
            "claim_id": "VFP-20261110-0031S",
            "payer": MEDICAID,
            "subscriber.member_id": "IL9988776655",
            "subscriber.payer_responsibility": "secondary",
            "subscriber.claim_filing_indicator": "MC",
            "subscriber.group_number": None,
            "subscriber.group_name": None,
            "other_payers": [
                {
                    "responsibility": "primary",
                    "payer": base["payer"],
                    "subscriber": primary_sub,
                    "adjudication": {
                        "paid_amount": "290.00",
                        "paid_date": "2026-11-24",
                        "payer_claim_control_number": "AE2026112400417",
                        "patient_responsibility": "95.00",
                        "lines": [
                            {
                                "line_id": "VFP0031-1",
                                "paid_amount": "150.00",
                                "adjustments": [
                                    _adjustment("CO", "45", "75.00"),
                                    _adjustment("PR", "2", "40.00"),
                                ],
                            },
                            {
                                "line_id": "VFP0031-2",
                                "paid_amount": "80.00",
                                "adjustments": [
                                    _adjustment("CO", "45", "40.00"),
                                    _adjustment("PR", "2", "20.00"),
                                ],
                            },
                            {
                                "line_id": "VFP0031-3",
                                "paid_amount": "0",
                                "units": "80",
                                "adjustments": [
                                    _adjustment("PR", "1", "20.00"),
                                    _adjustment("CO", "45", "12.00"),
                                ],
                                "adjudication_date": "2026-11-23",
                            },
                            {
                                "line_id": "VFP0031-4",
                                "paid_amount": "60.00",
                                "procedure_code": "72100",
                                "modifiers": ["26"],
                                "adjustments": [
                                    _adjustment("CO", "45", "20.00"),
                                    _adjustment("PR", "2", "15.00"),
                                ],
                            },
                            {
                                "line_id": "VFP0031-5",
                                "paid_amount": "0",
                                "adjustments": [_adjustment("CO", "97", "80.00")],
                            },
                        ],
                    },
                }
            ],
        },
    )


def _secondary_837p_claim_level() -> dict[str, Any]:
    """837P to Medicare (secondary, working aged: SBR05 12) after the employer plan answered
    for the claim as a whole (2320 CAS, AMT*D, AMT*EAF; 2330B DTP*573)."""
    base = sample_dict("professional-self")
    return with_changes(
        base,
        {
            "claim_id": "VFP-20261101-0001S",
            "payer": MEDICARE_B,
            "subscriber.member_id": "1EG4TE5MK73",
            "subscriber.payer_responsibility": "secondary",
            "subscriber.claim_filing_indicator": "MB",
            "subscriber.insurance_type": "12",
            "subscriber.group_number": None,
            "other_payers": [
                {
                    "responsibility": "primary",
                    "payer": {**base["payer"], "address": _payer_address()},
                    "subscriber": _subscriber(base["subscriber"]),
                    "adjudication": {
                        "paid_amount": "131.40",
                        "paid_date": "2026-11-18",
                        "payer_claim_control_number": "UHC20261118009",
                        "patient_responsibility": "45.00",
                        "adjustments": [
                            _adjustment("CO", "45", "51.10"),
                            _adjustment("PR", "3", "25.00"),
                            _adjustment("PR", "2", "20.00"),
                        ],
                    },
                }
            ],
        },
    )


def _payer_address() -> dict[str, Any]:
    return {"line1": "PO BOX 30555", "city": "SALT LAKE CITY", "state": "UT", "zip": "841300555"}


def _primary_naming_secondary() -> dict[str, Any]:
    """837P to the primary that names the secondary (2320/2330 without adjudication)."""
    base = sample_dict("professional-dependent")
    return with_changes(
        base,
        {
            "claim_id": "VFP-20261102-0007",
            "other_payers": [
                {
                    "responsibility": "secondary",
                    "payer": {"id": "00621", "name": "BLUE CROSS BLUE SHIELD OF ILLINOIS"},
                    "subscriber": {
                        "member_id": "XOF771200345",
                        "last_name": "SMITH",
                        "first_name": "ELENA",
                        "address": {
                            "line1": "9 ELM ST",
                            "line2": "APT 4",
                            "city": "CHATHAM",
                            "state": "IL",
                            "zip": "626291002",
                        },
                        "group_number": "IL4410",
                        "group_name": "CAPITAL AREA SCHOOLS",
                        "claim_filing_indicator": "BL",
                        "relationship_to_patient": "19",
                    },
                }
            ],
        },
    )


def _tertiary_837p() -> dict[str, Any]:
    """837P to Medicaid (tertiary) after the employer plan (line detail) and Medicare
    (secondary, working aged: 2320 SBR05 12; claim level with remark codes: MOA)."""
    base = sample_dict("professional-self")
    sub = base["subscriber"]
    return with_changes(
        base,
        {
            "claim_id": "VFP-20261101-0001T",
            "payer": MEDICAID,
            "subscriber.member_id": "IL5544332211",
            "subscriber.payer_responsibility": "tertiary",
            "subscriber.claim_filing_indicator": "MC",
            "subscriber.group_number": None,
            "other_payers": [
                {
                    "responsibility": "primary",
                    "payer": base["payer"],
                    "subscriber": _subscriber(sub),
                    "adjudication": {
                        "paid_amount": "131.40",
                        "paid_date": "2026-11-18",
                        "payer_claim_control_number": "UHC20261118009",
                        "lines": [
                            {
                                "line_id": "VFP0001-1",
                                "paid_amount": "100.00",
                                "adjustments": [
                                    _adjustment("CO", "45", "40.00"),
                                    _adjustment("PR", "3", "25.00"),
                                    _adjustment("PR", "2", "20.00"),
                                ],
                            },
                            {
                                "line_id": "VFP0001-2",
                                "paid_amount": "31.40",
                                "adjustments": [_adjustment("CO", "45", "11.10")],
                            },
                        ],
                    },
                },
                {
                    "responsibility": "secondary",
                    "payer": MEDICARE_B,
                    "subscriber": _subscriber(
                        sub,
                        member_id="1EG4TE5MK73",
                        group_number=None,
                        claim_filing_indicator="MB",
                        insurance_type="12",
                    ),
                    "adjudication": {
                        "paid_amount": "36.00",
                        "paid_date": "2026-11-27",
                        "payer_claim_control_number": "22026331123450",
                        "patient_responsibility": "9.00",
                        "adjustments": [
                            _adjustment("CO", "45", "182.50"),
                            _adjustment("PR", "2", "9.00"),
                        ],
                        "remark_codes": ["N130", "MA01"],
                    },
                },
            ],
        },
    )


def _secondary_837i_lines() -> dict[str, Any]:
    """837I outpatient to the Medicare supplement (secondary) after the primary paid line by
    line (SVD with revenue codes in SVD04; MOA remark codes)."""
    base = sample_dict("institutional-outpatient")
    return with_changes(
        base,
        {
            "claim_id": "SMH-OP-2026-55121S",
            "payer": SUPPLEMENT,
            "subscriber.member_id": "H5521900711",
            "subscriber.payer_responsibility": "secondary",
            "subscriber.claim_filing_indicator": "CI",
            "subscriber.group_number": None,
            "other_payers": [
                {
                    "responsibility": "primary",
                    "payer": base["payer"],
                    "subscriber": _subscriber(base["subscriber"]),
                    "adjudication": {
                        "paid_amount": "1100.00",
                        "paid_date": "2026-11-12",
                        "payer_claim_control_number": "BCBS26316000221",
                        "remark_codes": ["N130"],
                        "lines": [
                            {
                                "line_id": "SMH55121-1",
                                "paid_amount": "900.00",
                                "adjustments": [
                                    _adjustment("CO", "45", "350.00"),
                                    _adjustment("PR", "2", "200.00"),
                                ],
                            },
                            {
                                "line_id": "SMH55121-2",
                                "paid_amount": "200.00",
                                "adjustments": [
                                    _adjustment("CO", "45", "60.00"),
                                    _adjustment("PR", "2", "50.00"),
                                ],
                            },
                            {
                                "line_id": "SMH55121-3",
                                "paid_amount": "0",
                                "revenue_code": "0301",
                                "units": "2",
                                "adjustments": [
                                    _adjustment("CO", "45", "46.00"),
                                    _adjustment("PR", "1", "50.00"),
                                ],
                            },
                        ],
                    },
                }
            ],
        },
    )


def _secondary_837i_claim_level() -> dict[str, Any]:
    """837I inpatient to the supplement (secondary) after Medicare Part A answered for the claim
    as a whole (its remark codes belong in MIA, which needs covered days: left out)."""
    base = sample_dict("institutional-inpatient")
    return with_changes(
        base,
        {
            "claim_id": "SMH-IP-2026-10077S",
            "payer": SUPPLEMENT,
            "subscriber.member_id": "H5521900899",
            "subscriber.payer_responsibility": "secondary",
            "subscriber.claim_filing_indicator": "CI",
            "subscriber.group_number": None,
            "other_payers": [
                {
                    "responsibility": "primary",
                    "payer": MEDICARE_A,
                    "subscriber": _subscriber(
                        base["subscriber"],
                        member_id="7KT2WQ4RX19",
                        group_number=None,
                        claim_filing_indicator="MA",
                    ),
                    "adjudication": {
                        "paid_amount": "14120.30",
                        "paid_date": "2026-11-30",
                        "payer_claim_control_number": "21326334000512",
                        "patient_responsibility": "1676.00",
                        "adjustments": [
                            _adjustment("CO", "45", "6146.00"),
                            _adjustment("PR", "1", "1676.00"),
                        ],
                        "remark_codes": ["MA01"],
                    },
                }
            ],
        },
    )


_BUILDERS = {
    "837P secondary, line level": _secondary_837p_lines,
    "837P secondary to Medicare, claim level": _secondary_837p_claim_level,
    "837P primary naming the secondary": _primary_naming_secondary,
    "837P tertiary": _tertiary_837p,
    "837I outpatient secondary, line level": _secondary_837i_lines,
    "837I inpatient secondary, claim level": _secondary_837i_claim_level,
}


def cob_dicts() -> dict[str, dict[str, Any]]:
    """The COB encounters as decoded JSON, by what each shows."""
    return {name: build() for name, build in _BUILDERS.items()}


def cob_encounters() -> dict[str, Encounter]:
    """The COB encounters, by what each shows (in the golden files' order)."""
    return {name: Encounter.model_validate(data) for name, data in cob_dicts().items()}


def cob_files(created: datetime = CREATED) -> dict[Kind, bytes]:
    """The 837P and 837I interchanges of ``cob_encounters()`` (the golden files' bytes), built
    for the demo partner with control numbers from 1."""
    partners = load_partners(ROOT / "config" / "partners")
    result = build_837(cob_encounters().values(), partners, MemoryAllocator(), created=created)
    assert result.left_out == ()
    return {built.sent.kind: built.data for built in result.interchanges}


def cob_file(kind: Kind) -> bytes:
    """One kind's COB claims alone in one interchange (ISA13, GS06 and ST02 from 1), one segment
    a line."""
    partners = load_partners(ROOT / "config" / "partners")
    claims = [e for e in cob_encounters().values() if e.kind is kind]
    result = build_837(claims, partners, MemoryAllocator(), created=CREATED)
    assert result.left_out == ()
    (built,) = result.interchanges
    return built.data
