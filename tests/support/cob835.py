"""Coordination of benefits for the crossover tests: an encounter with a second (and third)
payer, and 835s as a payer writes them (hand-made X12 text, balanced, with CAS, SVC and REF*6R,
NM1*TT)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from gateway.models.remittance import Remittance
from gateway.transactions.remittance import read_remittance
from gateway.x12 import read_segments
from tests.support.env import ROOT

SAMPLE = json.loads((ROOT / "samples/encounters/professional-self.json").read_text())

SECONDARY = {
    "responsibility": "secondary",
    "payer": {"id": "60054", "name": "AETNA"},
    "subscriber": {
        "member_id": "W123456789",
        "last_name": "DOE",
        "first_name": "JANE",
        "birth_date": "1980-04-12",
        "gender": "F",
        "group_number": "G77",
        "claim_filing_indicator": "CI",
        "relationship_to_patient": "18",
    },
}
TERTIARY = {
    "responsibility": "tertiary",
    "payer": {"id": "77027", "name": "STATE MEDICAID"},
    "subscriber": {
        "member_id": "MCD0001122",
        "last_name": "DOE",
        "first_name": "JANE",
        "claim_filing_indicator": "MC",
        "relationship_to_patient": "18",
    },
}


def cob_encounter(claim_id: str, *others: dict[str, Any]) -> dict[str, Any]:
    """The professional sample (two lines: 185.00 and 42.50, REF*6R ``<claim_id>-L1``/``-L2``)
    billed to its primary payer 87726, with ``others`` (default: the secondary) after it."""
    data: dict[str, Any] = json.loads(json.dumps(SAMPLE))
    data["claim_id"] = claim_id
    for i, line in enumerate(data["service_lines"], start=1):
        line["line_id"] = f"{claim_id}-L{i}"
    data["other_payers"] = [json.loads(json.dumps(o)) for o in (others or (SECONDARY,))]
    return data


def clp(
    claim_id: str,
    status: str,
    charge: str,
    paid: str,
    patient: str,
    control: str,
    *body: str,
) -> list[str]:
    """A 2100 claim payment: CLP, its CAS, NM1*QC, its other NM1 (``NM1*TT``...), then the
    2110 lines (from :func:`svc`), in the guide's order whatever the order of ``body``."""
    first_line = next((i for i, seg in enumerate(body) if seg.startswith("SVC*")), len(body))
    head, lines = body[:first_line], body[first_line:]
    return [
        f"CLP*{claim_id}*{status}*{charge}*{paid}*{patient}*12*{control}*11*1",
        *[seg for seg in head if seg.startswith("CAS*")],
        "NM1*QC*1*DOE*JANE****MI*UH4471829001",
        *[seg for seg in head if not seg.startswith("CAS*")],
        *lines,
    ]


def svc(
    procedure: str, charge: str, paid: str, line_id: str | None, *cas: str, units: str = "1"
) -> list[str]:
    """A 2110 line: SVC, DTM*472, its CAS, REF*6R (when ``line_id``)."""
    out = [f"SVC*HC:{procedure}*{charge}*{paid}**{units}", "DTM*472*20261101", *cas]
    if line_id:
        out.append(f"REF*6R*{line_id}")
    return out


def x835(
    claims: Sequence[Sequence[str]],
    *,
    payer_id: str = "87726",
    payer_name: str = "UNITEDHEALTHCARE",
    trace: str = "EFT0001",
    payment_date: str = "20261120",
    isa13: str = "000000901",
    sender: str = "",
) -> bytes:
    """A whole 835 interchange holding ``claims`` (from :func:`clp`); BPR02 is their CLP04 sum."""
    total = sum(
        (Decimal(seg.split("*")[4]) for c in claims for seg in c if seg.startswith("CLP*")),
        Decimal(0),
    )
    body = [
        "ST*835*0001",
        f"BPR*I*{total:.2f}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765"
        f"*{payment_date}",
        f"TRN*1*{trace}*1512345678",
        "DTM*405*20261119",
        f"N1*PR*{payer_name}*XV*{payer_id}",
        "N3*PO BOX 30555",
        "N4*SALT LAKE CITY*UT*841300555",
        "PER*BL*EDI SUPPORT*TE*8005550100",
        "N1*PE*VALLEY FAMILY PRACTICE*XX*1234567893",
        "LX*1",
        *[seg for c in claims for seg in c],
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [
        f"ISA*00*          *00*          *ZZ*{sender or payer_id:<15}*ZZ*VALLEYGATEWAY  *261120"
        f"*1200*^*00501*{isa13}*0*T*:",
        f"GS*HP*{sender or payer_id}*VALLEYGATEWAY*20261120*1200*{int(isa13)}*X*005010X221A1",
        *body,
        f"GE*1*{int(isa13)}",
        f"IEA*1*{isa13}",
    ]
    return ("~\n".join(segments) + "~\n").encode()


def remittance_of(data: bytes) -> Remittance:
    """The one 835 transaction set of ``data``, as the reader gives it."""
    (remit,) = read_remittance(read_segments(data)).remittances
    return remit
