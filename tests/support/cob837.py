"""Hand-written 837P/837I claims with coordination-of-benefits loops (2320/2330A/2330B/2430).

Written segment by segment after the TR3s (X222A1, X223A2) so the reader and the simulator can be
tested without the 837 builder: ``claim(...)`` lays out one subscriber loop and its claim, with a
2320 loop per ``Other`` payer (in the TR3 order: SBR, CAS, AMT*D, AMT*A8, AMT*EAF, OI, MOA; 2330A
NM1*IL N3 N4; 2330B NM1*PR N3 N4 DTP*573 REF*F8) and per line its 2430 loops (SVD, CAS, DTP*573,
AMT*EAF); ``interchange(kind, claims)`` wraps claims in one valid interchange (HL numbers, SE01,
GE01 and IEA01 counted). Synthetic people only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["Line", "LineDecision", "Other", "claim", "interchange"]

BILLING_NPI = "1234567893"
DOS = "20261102"


@dataclass(frozen=True)
class LineDecision:
    """One other payer's decision on one line (a 2430 loop)."""

    paid: str
    adjustments: tuple[tuple[str, str, str], ...] = ()  # (group, reason, amount)
    date: str = "20261116"
    patient_responsibility: str = ""  # AMT*EAF


@dataclass(frozen=True)
class Line:
    """A service line: procedure (837P) or revenue code and procedure (837I)."""

    procedure: str
    charge: str
    revenue_code: str = "0510"
    decisions: dict[str, LineDecision] = field(default_factory=dict)  # by other payer id


@dataclass(frozen=True)
class Other:
    """Another payer of the claim (a 2320 loop with its 2330A and 2330B)."""

    responsibility: str  # P, S, T
    payer_id: str
    payer_name: str
    filing: str  # SBR09
    member_id: str = "OTH000111"
    paid: str = ""  # AMT*D: empty when that payer has not adjudicated
    adjustments: tuple[tuple[str, str, str], ...] = ()  # claim-level CAS
    patient_responsibility: str = ""  # AMT*EAF
    date: str = ""  # 2330B DTP*573
    control_number: str = ""  # 2330B REF*F8
    remarks: tuple[str, ...] = ()  # MOA03-07 (837P only)


def _cas(adjustments: Sequence[tuple[str, str, str]]) -> list[str]:
    by_group: dict[str, list[str]] = {}
    for group, reason, amount in adjustments:
        by_group.setdefault(group, []).extend([reason, amount, ""])
    segments = []
    for group, triplets in by_group.items():
        text = "*".join(["CAS", group, *triplets]).rstrip("*")
        segments.append(text)
    return segments


def _money(text: str) -> str:
    value = Decimal(text)
    return str(int(value)) if value == value.to_integral() else f"{value:.2f}"


def claim(
    kind: str,
    claim_id: str,
    *,
    responsibility: str = "S",
    payer: tuple[str, str] = ("61101", "HUMANA"),
    filing: str = "CI",
    member_id: str = "W123456789",
    lines: Sequence[Line] = (Line("99213", "125"), Line("87880", "28")),
    others: Sequence[Other] = (),
) -> list[str]:
    """The segments from the subscriber HL's SBR to the last line (HL itself left out)."""
    institutional = kind == "institutional"
    total = sum((Decimal(ln.charge) for ln in lines), Decimal(0))
    segs = [
        f"SBR*{responsibility}*18*GRP100******{filing}",
        f"NM1*IL*1*DOE*JOHN****MI*{member_id}",
        "N3*12 ELM ST",
        "N4*SPRINGFIELD*IL*62704",
        "DMG*D8*19510203*M",
        f"NM1*PR*2*{payer[1]}*****PI*{payer[0]}",
    ]
    if institutional:
        segs += [
            f"CLM*{claim_id}*{_money(str(total))}***13:A:1**A*Y*Y",
            f"DTP*434*RD8*{DOS}-{DOS}",
            "CL1*1*1*01",
            "HI*ABK:R0789",
            "NM1*71*1*NGUYEN*TOM****XX*1765432103",
        ]
    else:
        segs += [
            f"CLM*{claim_id}*{_money(str(total))}***11:B:1*Y*A*Y*Y",
            "HI*ABK:J069",
        ]
    for o in others:
        segs.append(f"SBR*{o.responsibility}*18*GRP{o.payer_id}******{o.filing}")
        segs += _cas(o.adjustments)
        if o.paid:
            segs.append(f"AMT*D*{o.paid}")
        if o.patient_responsibility:
            segs.append(f"AMT*EAF*{o.patient_responsibility}")
        segs.append("OI***Y***Y")
        if o.remarks and not institutional:
            segs.append("*".join(["MOA", "", "", *o.remarks]))
        segs += [
            f"NM1*IL*1*DOE*JOHN****MI*{o.member_id}",
            "N3*12 ELM ST",
            "N4*SPRINGFIELD*IL*62704",
            f"NM1*PR*2*{o.payer_name}*****PI*{o.payer_id}",
        ]
        if o.date:
            segs.append(f"DTP*573*D8*{o.date}")
        if o.control_number:
            segs.append(f"REF*F8*{o.control_number}")
    for n, ln in enumerate(lines, 1):
        segs.append(f"LX*{n}")
        if institutional:
            segs.append(f"SV2*{ln.revenue_code}*HC:{ln.procedure}*{ln.charge}*UN*1")
        else:
            segs.append(f"SV1*HC:{ln.procedure}*{ln.charge}*UN*1***1")
        segs += [f"DTP*472*D8*{DOS}", f"REF*6R*{claim_id}-{n}"]
        for payer_id, d in ln.decisions.items():
            if institutional:
                segs.append(f"SVD*{payer_id}*{d.paid}*HC:{ln.procedure}*{ln.revenue_code}*1")
            else:
                segs.append(f"SVD*{payer_id}*{d.paid}*HC:{ln.procedure}**1")
            segs += _cas(d.adjustments)
            segs.append(f"DTP*573*D8*{d.date}")
            if d.patient_responsibility:
                segs.append(f"AMT*EAF*{d.patient_responsibility}")
    return segs


def interchange(kind: str, claims: Sequence[list[str]], isa13: int = 1) -> bytes:
    """One interchange holding ``claims`` (from ``claim``) under one billing provider."""
    institutional = kind == "institutional"
    version = "005010X223A2" if institutional else "005010X222A1"
    body = [
        f"ST*837*0001*{version}",
        "BHT*0019*00*COB0001*20261120*0930*CH",
        "NM1*41*2*VALLEY BILLING GATEWAY*****46*VBG0001",
        "PER*IC*EDI DESK*TE*2175550199",
        "NM1*40*2*DEMO CLEARINGHOUSE*****46*DEMOCH01",
        "HL*1**20*1",
        "NM1*85*2*VALLEY FAMILY PRACTICE*****XX*" + BILLING_NPI,
        "N3*100 MAIN ST",
        "N4*SPRINGFIELD*IL*627011234",
        "REF*EI*371234567",
    ]
    for n, segs in enumerate(claims, 2):
        body.append(f"HL*{n}*1*22*0")
        body += segs
    body.append(f"SE*{len(body) + 1}*0001")
    control = f"{isa13:09d}"
    lines = [
        "ISA*00*          *00*          *ZZ*VALLEYGATEWAY  *ZZ*DEMOCLEARING   *261120*0930*^*00501*"
        f"{control}*0*T*:",
        f"GS*HC*VALLEYGATEWAY*DEMOCLEARING*20261120*0930*{isa13}*X*{version}",
        *body,
        f"GE*1*{isa13}",
        f"IEA*1*{control}",
    ]
    return ("~\n".join(lines) + "~\n").encode()
