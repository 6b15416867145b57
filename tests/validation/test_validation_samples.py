"""Synthetic 837P and 835 files for the validator's tests and benchmark, and proof they are valid.

``claims_837p(n)`` and ``remittance_835(n)`` write interchanges that conform to pyx12's maps (no
PHI: every name, id and address is made up). ``bench/validate.py`` imports them too.
"""

from __future__ import annotations

from gateway.validation.validator import Options, validate
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


def test_generated_837p_is_valid() -> None:
    """A generated 837P passes our validator with no findings at all."""
    result = validate(claims_837p(20), options=Options(external_codes=True))
    assert [str(d) for d in result.defects] == []
    assert [s.verdict for s in result.sets] == ["accepted"]


def test_generated_835_is_valid() -> None:
    """A generated 835 passes our validator with no findings at all."""
    result = validate(remittance_835(20), options=Options(external_codes=True))
    assert [str(d) for d in result.defects] == []
    assert [s.verdict for s in result.sets] == ["accepted"]
