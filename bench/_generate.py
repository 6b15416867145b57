"""Synthetic 835 and 837P interchanges of any size, written with the gateway's own Writer.

Shared by the benchmarks; every name, id and amount is made up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gateway.x12 import Writer

_W = Writer(newline=True)


def _envelope_head(kind: str) -> list[str]:
    gs01, version, st01 = {
        "835": ("HP", "005010X221A1", "835"),
        "837P": ("HC", "005010X222A1", "837"),
    }[kind]
    return [
        _W.isa(
            "00",
            "",
            "00",
            "",
            "ZZ",
            "SENDER",
            "ZZ",
            "RECEIVER",
            "261120",
            "0930",
            "00501",
            "000000101",
            "0",
            "T",
        ),
        _W.segment("GS", gs01, "SENDER", "RECEIVER", "20261120", "0930", "101", "X", version),
        _W.segment("ST", st01, "0001", version),
    ]


def _claims_835(claims: int) -> Iterator[list[str]]:
    for i in range(claims):
        yield [
            _W.segment(
                "CLP",
                f"CLAIM{i:09d}",
                "1",
                "227.50",
                "182.00",
                "20.00",
                "12",
                f"PCN{i:012d}",
                "11",
                "1",
            ),
            _W.segment("NM1", "QC", "1", "DOE", "JANE", "", "", "", "MI", f"M{i:010d}"),
            _W.segment("DTM", "232", "20261101"),
            _W.segment("SVC", ["HC", "99214", "25"], "185.00", "148.00", "", "1"),
            _W.segment("DTM", "472", "20261101"),
            _W.segment("CAS", "PR", "3", "20.00"),
            _W.segment("CAS", "CO", "45", "17.00"),
            _W.segment("REF", "6R", f"L{i}-1"),
            _W.segment("AMT", "B6", "168.00"),
            _W.segment("SVC", ["HC", "83036"], "42.50", "34.00", "", "1"),
            _W.segment("DTM", "472", "20261101"),
            _W.segment("CAS", "CO", "45", "8.50"),
            _W.segment("REF", "6R", f"L{i}-2"),
        ]


def _claims_837(claims: int) -> Iterator[list[str]]:
    hl = 1
    for i in range(claims):
        parent = hl
        yield [
            _W.segment("HL", str(hl + 1), str(parent), "22", "0"),
            _W.segment("SBR", "P", "18", "GRP1", "", "", "", "", "", "CI"),
            _W.segment("NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", f"M{i:010d}"),
            _W.segment("N3", "42 OAK AVE"),
            _W.segment("N4", "SPRINGFIELD", "IL", "62704"),
            _W.segment("DMG", "D8", "19800412", "F"),
            _W.segment("NM1", "PR", "2", "UNITED HEALTHCARE", "", "", "", "", "PI", "87726"),
            _W.segment(
                "CLM", f"CLAIM{i:09d}", "227.5", "", "", ["11", "B", "1"], "Y", "A", "Y", "Y"
            ),
            _W.segment("HI", ["ABK", "E119"], ["ABF", "I10"]),
            _W.segment("LX", "1"),
            _W.segment("SV1", ["HC", "99214", "25"], "185", "UN", "1", "", "", ["1", "2"]),
            _W.segment("DTP", "472", "D8", "20261101"),
            _W.segment("REF", "6R", f"L{i}-1"),
            _W.segment("LX", "2"),
            _W.segment("SV1", ["HC", "83036"], "42.5", "UN", "1", "", "", ["1"]),
            _W.segment("DTP", "472", "D8", "20261101"),
            _W.segment("REF", "6R", f"L{i}-2"),
        ]
        hl += 1


def write(path: Path, kind: str, claims: int) -> int:
    """Write an interchange of ``claims`` claims to ``path``; returns its size in bytes."""
    count = 1  # ST
    with path.open("w", encoding="ascii") as out:
        head = _envelope_head(kind)
        out.write("".join(head))
        if kind == "835":
            fixed = [
                _W.segment(
                    "BPR",
                    "I",
                    "18200000.00",
                    "C",
                    "ACH",
                    "CCP",
                    "01",
                    "071000013",
                    "DA",
                    "123456789",
                    "1512345678",
                    "",
                    "01",
                    "111000025",
                    "DA",
                    "987654321",
                    "20261120",
                ),
                _W.segment("TRN", "1", "EFT1", "1512345678"),
                _W.segment("N1", "PR", "UNITED HEALTHCARE"),
                _W.segment("N1", "PE", "VALLEY FAMILY PRACTICE", "XX", "1234567893"),
                _W.segment("LX", "1"),
            ]
            claims_iter = _claims_835(claims)
        else:
            fixed = [
                _W.segment("BHT", "0019", "00", "B1", "20261120", "0930", "CH"),
                _W.segment("NM1", "41", "2", "VALLEY FAMILY PRACTICE", "", "", "", "", "46", "S1"),
                _W.segment("PER", "IC", "BILLING", "TE", "2175550100"),
                _W.segment("NM1", "40", "2", "CLEARINGHOUSE", "", "", "", "", "46", "R1"),
                _W.segment("HL", "1", "", "20", "1"),
                _W.segment(
                    "NM1", "85", "2", "VALLEY FAMILY PRACTICE", "", "", "", "", "XX", "1234567893"
                ),
                _W.segment("N3", "100 MAIN ST"),
                _W.segment("N4", "SPRINGFIELD", "IL", "627011234"),
                _W.segment("REF", "EI", "371234567"),
            ]
            claims_iter = _claims_837(claims)
        out.write("".join(fixed))
        count += len(fixed)
        for claim in claims_iter:
            out.write("".join(claim))
            count += len(claim)
        out.write(_W.segment("SE", str(count + 1), "0001"))
        out.write(_W.segment("GE", "1", "101"))
        out.write(_W.segment("IEA", "1", "000000101"))
    return path.stat().st_size
