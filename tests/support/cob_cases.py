"""The rows of the coordination-of-benefits rule table (``gateway.edits.rules_cob``).

Each row is (code, sample, passing changes, failing changes, path of the failing finding), as in
the scrubber's main table: the passing variant raises no error and not this code; the failing one
raises it at the path. The samples: a secondary 837P with the primary's line-level adjudication,
a secondary 837I (to Medicare) with claim-level adjudication only, and a primary 837P that names
its secondary.
"""

from __future__ import annotations

from typing import Any

from gateway.edits import FindingCode
from tests.support.strategies import DELETE

C = FindingCode
SECONDARY = "professional-secondary"
INSTITUTIONAL = "institutional-secondary"
PRIMARY = "professional-primary-with-secondary"
A = "other_payers[0].adjudication"

# the primary's claim-level decision on PRIMARY's one line (charge 130.00), balanced
DENIED = {
    "paid_amount": "0.00",
    "paid_date": "2026-11-10",
    "adjustments": [{"group": "OA", "reason": "23", "amount": "130.00"}],
}
REMARKS = ["MA01", "N130", "M15", "N20", "MA130", "N4"]


def _many(group: str, count: int, total: str) -> list[dict[str, Any]]:
    """``count`` adjustments of ``group`` adding up to ``total`` (10.00 each, the rest last)."""
    rest = f"{float(total) - 10 * (count - 1):.2f}"
    amounts = ["10.00"] * (count - 1) + [rest]
    return [{"group": group, "reason": "45", "amount": amount} for amount in amounts]


CASES: list[tuple[FindingCode, str, dict[str, Any], dict[str, Any], str]] = [
    # the order of responsibility
    (
        C.COB_RESPONSIBILITY_REPEATED,
        SECONDARY,
        {},
        {"other_payers[0].responsibility": "secondary"},
        "other_payers[0].responsibility",
    ),
    (
        C.COB_PAYER_REPEATED,
        PRIMARY,
        {"other_payers[0].payer.id": "00952"},  # the same payer, another coverage: fine
        {
            "other_payers[0].payer.id": "00952",
            "other_payers[0].subscriber.member_id": "1EG4TE5MK73",
        },
        "other_payers[0]",
    ),
    (
        C.COB_PAYER_AHEAD_MISSING,
        SECONDARY,
        {},
        {"subscriber.payer_responsibility": "tertiary"},  # no secondary named
        "other_payers",
    ),
    (
        C.COB_PAYER_AHEAD_MISSING,
        INSTITUTIONAL,
        {},
        {"other_payers": []},
        "other_payers",
    ),
    (
        C.COB_ADJUDICATION_MISSING,
        SECONDARY,
        {},
        {f"{A}": None},
        A,
    ),
    (
        C.COB_ADJUDICATION_NOT_AHEAD,
        PRIMARY,
        {f"{A}": None},
        {f"{A}": DENIED},
        A,
    ),
    # lines
    (
        C.COB_LINE_UNKNOWN,
        SECONDARY,
        {  # lines without line_id are named by their 1-based position
            "service_lines[0].line_id": DELETE,
            "service_lines[1].line_id": DELETE,
            f"{A}.lines[0].line_id": "1",
            f"{A}.lines[1].line_id": "2",
        },
        {f"{A}.lines[1].line_id": "VFP0101-9"},
        f"{A}.lines[1].line_id",
    ),
    (
        C.COB_LINE_UNKNOWN,
        SECONDARY,
        {},
        {f"{A}.lines[1].line_id": "2"},  # a position, but that line has a line_id
        f"{A}.lines[1].line_id",
    ),
    (
        C.COB_LINE_REPEATED,
        SECONDARY,
        {},
        {f"{A}.lines[1].line_id": "VFP0101-1"},
        f"{A}.lines[1].line_id",
    ),
    (
        C.COB_LINE_NOT_ADJUDICATED,
        SECONDARY,
        {},
        {f"{A}.lines[1]": DELETE, f"{A}.paid_amount": "104.96"},
        f"{A}.lines",
    ),
    # balances (TR3 2430 and 2320)
    (
        C.COB_LINE_UNBALANCED,
        SECONDARY,
        {  # paid less, adjusted more: still balanced
            f"{A}.lines[0].paid_amount": "100.00",
            f"{A}.lines[0].adjustments[0].amount": "58.76",
            f"{A}.paid_amount": "113.32",
        },
        {f"{A}.lines[0].paid_amount": "100.00", f"{A}.paid_amount": "113.32"},
        f"{A}.lines[0].paid_amount",
    ),
    (
        C.COB_CLAIM_UNBALANCED,
        SECONDARY,
        {  # line detail and a claim-level adjustment: lines' paid less claim CAS
            f"{A}.paid_amount": "113.28",
            f"{A}.adjustments": [{"group": "OA", "reason": "23", "amount": "5.00"}],
        },
        {f"{A}.paid_amount": "120.00"},
        f"{A}.paid_amount",
    ),
    (
        C.COB_CLAIM_UNBALANCED,
        INSTITUTIONAL,
        {f"{A}.paid_amount": "1220.40", f"{A}.adjustments[0].amount": "402.60"},
        {f"{A}.paid_amount": "1200.00"},  # claim charge 1856.00 - 645.60 is 1210.40
        f"{A}.paid_amount",
    ),
    (
        C.AMOUNT_PRECISION,
        SECONDARY,
        {f"{A}.lines[0].paid_amount": "104.960"},
        {f"{A}.lines[0].paid_amount": "104.955"},
        f"{A}.lines[0].paid_amount",
    ),
    (
        C.COB_PATIENT_RESPONSIBILITY,
        SECONDARY,
        {f"{A}.patient_responsibility": DELETE},
        {f"{A}.patient_responsibility": "30.00"},
        f"{A}.patient_responsibility",
    ),
    # codes
    (
        C.COB_ADJUSTMENT_COUNT,
        INSTITUTIONAL,
        {
            f"{A}.adjustments": [
                *_many("CO", 6, "412.60"),
                {"group": "PR", "reason": "1", "amount": "233.00"},
            ]
        },
        {
            f"{A}.adjustments": [
                *_many("CO", 7, "412.60"),
                {"group": "PR", "reason": "1", "amount": "233.00"},
            ]
        },
        f"{A}.adjustments",
    ),
    (
        C.COB_CARC_UNKNOWN,
        SECONDARY,
        {f"{A}.lines[0].adjustments[0].reason": "253"},
        {f"{A}.lines[0].adjustments[0].reason": "ZZ9"},
        f"{A}.lines[0].adjustments[0].reason",
    ),
    (
        C.COB_REMARK_COUNT,
        SECONDARY,
        {f"{A}.remark_codes": REMARKS[:5]},
        {f"{A}.remark_codes": REMARKS},
        f"{A}.remark_codes",
    ),
    (
        C.COB_RARC_UNKNOWN,
        SECONDARY,
        {f"{A}.remark_codes": ["MA01", "N130"]},
        {f"{A}.remark_codes": ["MA01", "X999"]},
        f"{A}.remark_codes[1]",
    ),
    # dates
    (
        C.COB_ADJUDICATION_DATE,
        SECONDARY,
        {f"{A}.paid_date": "2026-11-01"},  # the day of service
        {f"{A}.paid_date": "2026-10-31"},
        f"{A}.paid_date",
    ),
    (
        C.COB_ADJUDICATION_DATE,
        SECONDARY,
        {f"{A}.lines[0].adjudication_date": "2026-11-23"},  # today
        {f"{A}.lines[0].adjudication_date": "2026-11-24"},
        f"{A}.lines[0].adjudication_date",
    ),
    # Medicare as a secondary payer (SBR05)
    (
        C.COB_INSURANCE_TYPE_MISSING,
        INSTITUTIONAL,
        {"subscriber.insurance_type": "43"},
        {"subscriber.insurance_type": DELETE},
        "subscriber.insurance_type",
    ),
    (
        C.COB_INSURANCE_TYPE_MISSING,
        PRIMARY,
        {
            "other_payers[0].subscriber.claim_filing_indicator": "MB",
            "other_payers[0].subscriber.member_id": "2C84TG7MN92",
            "other_payers[0].subscriber.insurance_type": "42",
        },
        {
            "other_payers[0].subscriber.claim_filing_indicator": "MB",
            "other_payers[0].subscriber.member_id": "2C84TG7MN92",
        },
        "other_payers[0].subscriber.insurance_type",
    ),
    (
        C.COB_INSURANCE_TYPE,
        INSTITUTIONAL,
        {"subscriber.insurance_type": "47"},
        {"subscriber.insurance_type": "11"},
        "subscriber.insurance_type",
    ),
    (
        C.FIELD_NOT_USED,
        SECONDARY,
        {},
        {"subscriber.insurance_type": "12"},  # the claim's payer is not Medicare
        "subscriber.insurance_type",
    ),
    (
        C.MEDICARE_ID_FORMAT,
        SECONDARY,
        {},
        {"other_payers[0].subscriber.member_id": "1EG4-TE5-MK73"},
        "other_payers[0].subscriber.member_id",
    ),
]
"""Every coordination-of-benefits finding: a passing and a failing variant of a sample."""
