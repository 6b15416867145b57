"""Synthetic 837P and 835 interchanges for the validator's tests and benchmark.

``claims_837p(n)`` and ``remittance_835(n)`` write interchanges that conform to pyx12's maps (no
PHI: every name, id and address is made up). ``bench/validate.py`` imports them too.
``plain_segments`` splits a file without the engine; ``two_sets`` re-envelopes an 835.
"""

from __future__ import annotations

import re
from decimal import Decimal

from gateway.x12 import Writer


def _envelope_head(w: Writer, functional_id: str, version: str, control: int) -> list[str]:
    return [
        w.isa(
            "00",
            "",
            "00",
            "",
            "ZZ",
            "SUBMITTER01",
            "ZZ",
            "RECEIVER01",
            "260115",
            "1200",
            "00501",
            f"{control:09d}",
            "0",
            "T",
        ),
        w.segment(
            "GS",
            functional_id,
            "SUBMITTER01",
            "RECEIVER01",
            "20260115",
            "1200",
            str(control),
            "X",
            version,
        ),
    ]


def _envelope_tail(w: Writer, control: int) -> list[str]:
    return [w.segment("GE", "1", str(control)), w.segment("IEA", "1", f"{control:09d}")]


def claims_837p(claims: int, *, control: int = 1, lines_per_claim: int = 2) -> bytes:
    """A valid 837P (005010X222A1) holding ``claims`` claims, one subscriber each."""
    w = Writer()
    body: list[str] = [
        w.segment("ST", "837", "0001", "005010X222A1"),
        w.segment("BHT", "0019", "00", f"BATCH{control}", "20260115", "1200", "CH"),
        w.segment("NM1", "41", "2", "SUBMITTER CLINIC", "", "", "", "", "46", "S12345"),
        w.segment("PER", "IC", "BILLING OFFICE", "TE", "5555551234"),
        w.segment("NM1", "40", "2", "RECEIVER CH", "", "", "", "", "46", "R67890"),
        w.segment("HL", "1", "", "20", "1"),
        w.segment("NM1", "85", "2", "BILLING GROUP", "", "", "", "", "XX", "1234567893"),
        w.segment("N3", "100 MAIN ST"),
        w.segment("N4", "SPRINGFIELD", "IL", "627011234"),
        w.segment("REF", "EI", "123456789"),
    ]
    for n in range(claims):
        charge = 75 * lines_per_claim
        body += [
            w.segment("HL", str(n + 2), "1", "22", "0"),
            w.segment("SBR", "P", "18", "", "", "", "", "", "", "CI"),
            w.segment(
                "NM1", "IL", "1", "SUBSCRIBER", f"PATIENT{n % 97}", "", "", "", "MI", f"M{n:08d}"
            ),
            w.segment("N3", f"{n % 900 + 1} ELM ST"),
            w.segment("N4", "SPRINGFIELD", "IL", "62701"),
            w.segment("DMG", "D8", f"19{50 + n % 40}0{n % 9 + 1}1{n % 9}", "F" if n % 2 else "M"),
            w.segment("NM1", "PR", "2", "HEALTH PLAN", "", "", "", "", "PI", "PAYER01"),
            w.segment(
                "CLM", f"CLAIM{n:07d}", str(charge), "", "", ["11", "B", "1"], "Y", "A", "Y", "Y"
            ),
            w.segment("HI", ["ABK", "J069"], ["ABF", "R05"]),
        ]
        for line_no in range(1, lines_per_claim + 1):
            body += [
                w.segment("LX", str(line_no)),
                w.segment(
                    "SV1",
                    ["HC", "99213" if line_no % 2 else "87880"],
                    "75",
                    "UN",
                    "1",
                    "",
                    "",
                    ["1", "2"],
                ),
                w.segment("DTP", "472", "D8", f"202601{n % 28 + 1:02d}"),
                w.segment("REF", "6R", f"L{n:07d}{line_no:02d}"),
            ]
    body.append(w.segment("SE", str(len(body) + 1), "0001"))
    return "".join(
        _envelope_head(w, "HC", "005010X222A1", control) + body + _envelope_tail(w, control)
    ).encode("ascii")


def remittance_835(claims: int, *, control: int = 1) -> bytes:
    """A valid 835 (005010X221A1) paying ``claims`` claims of one service line each."""
    w = Writer()
    paid_each = 80
    body: list[str] = [
        w.segment("ST", "835", "0001"),
        w.segment(
            "BPR",
            "I",
            str(paid_each * claims),
            "C",
            "ACH",
            "CCP",
            "01",
            "999999999",
            "DA",
            "123456",
            "1512345678",
            "",
            "01",
            "999999999",
            "DA",
            "654321",
            "20260120",
        ),
        w.segment("TRN", "1", f"EFT{control:08d}", "1512345678"),
        w.segment("DTM", "405", "20260120"),
        w.segment("N1", "PR", "HEALTH PLAN"),
        w.segment("N3", "1 PAYER WAY"),
        w.segment("N4", "HARTFORD", "CT", "06101"),
        w.segment("PER", "BL", "PROVIDER SERVICES", "TE", "8005550000"),
        w.segment("N1", "PE", "BILLING GROUP", "XX", "1234567893"),
        w.segment("LX", "1"),
    ]
    for n in range(claims):
        body += [
            w.segment(
                "CLP", f"CLAIM{n:07d}", "1", "100", str(paid_each), "20", "12", f"PCN{n:09d}"
            ),
            w.segment(
                "NM1", "QC", "1", "SUBSCRIBER", f"PATIENT{n % 97}", "", "", "", "MI", f"M{n:08d}"
            ),
            w.segment("DTM", "232", f"202601{n % 28 + 1:02d}"),
            w.segment("SVC", ["HC", "99213"], "100", str(paid_each), "", "1"),
            w.segment("DTM", "472", f"202601{n % 28 + 1:02d}"),
            w.segment("CAS", "PR", "2", "20"),
            w.segment("REF", "6R", f"L{n:07d}01"),
        ]
    body.append(w.segment("SE", str(len(body) + 1), "0001"))
    return "".join(
        _envelope_head(w, "HP", "005010X221A1", control) + body + _envelope_tail(w, control)
    ).encode("ascii")


def two_sets(data: bytes) -> bytes:
    """The 835 re-enveloped as two transaction sets: SVC-0001 alone, then SVC-0002 and SVC-0003
    (each set's BPR02 the sum of its claims' CLP04, every count right)."""
    lines = [s for s in data.decode().split("~\n") if s]
    st = next(i for i, s in enumerate(lines) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(lines) if s.startswith("SE*"))
    first_clp = next(i for i, s in enumerate(lines) if s.startswith("CLP*"))
    header = lines[st + 1 : first_clp]
    blocks: list[list[str]] = []
    for seg in lines[first_clp:se]:
        if seg.startswith("CLP*"):
            blocks.append([])
        blocks[-1].append(seg)
    gs06 = lines[1].split("*")[6]
    out = lines[:2]
    for n, group in enumerate([blocks[:1], blocks[1:]], start=1):
        paid = sum((Decimal(b[0].split("*")[4]) for b in group), Decimal(0))
        head = [re.sub(r"^BPR\*I\*[^*]*", f"BPR*I*{paid}", h) for h in header]
        body = [f"ST*835*000{n}", *head, *(seg for b in group for seg in b)]
        out += [*body, f"SE*{len(body) + 1}*000{n}"]
    out += [f"GE*2*{gs06}", lines[-1]]
    return ("~\n".join(out) + "~\n").encode()


def plain_segments(data: bytes) -> list[list[str]]:
    """The file's segments split into elements with plain str operations, independent of the engine.

    The segment terminator is the character after ISA16; when that is a line break followed by a
    non-letter (``^\n~GS``), the line break is layout and the non-letter is the terminator.
    """
    text = data.decode("latin-1")
    start = text.find("ISA")
    if start < 0:
        return []
    element = text[start + 3]
    position = start
    for _ in range(16):  # ISA16 follows the 16th element separator
        position = text.index(element, position + 1)
    terminator = text[position + 2]
    after = text[position + 2 :].lstrip()
    if terminator.isspace() and after and not after[0].isalpha():
        terminator = after[0]
    return [raw.strip().split(element) for raw in text[start:].split(terminator)]
