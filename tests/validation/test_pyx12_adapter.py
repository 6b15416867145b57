"""The pyx12 adapter: pyx12's findings as located Defects, without PHI and without stray files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.validation.pyx12_adapter import check, check_in_thread
from gateway.x12 import DefectCode

ISA = "ISA*00*          *00*          *ZZ*VALLEYGATEWAY  *ZZ*DEMOCLEARING   *261120*0930*^*00501"
VALID_837P = f"""\
{ISA}*000000002*1*T*:~
GS*HC*VALLEYGATEWAY*DEMOCLEARING*20261120*0930*2*X*005010X222A1~
ST*837*0002*005010X222A1~
BHT*0019*00*000000002-0002*20261120*0930*CH~
NM1*41*2*VALLEY BILLING GATEWAY*****46*VBG0001~
PER*IC*EDI DESK*TE*2175550199~
NM1*40*2*DEMO CLEARINGHOUSE*****46*DEMOCH01~
HL*1**20*1~
NM1*85*2*VALLEY FAMILY PRACTICE*****XX*1234567893~
N3*100 MAIN ST~
N4*SPRINGFIELD*IL*627011234~
REF*EI*371234567~
HL*2*1*22*1~
SBR*P**A77120******CI~
NM1*IL*1*SMITH*ROBERT****MI*W123987650~
NM1*PR*2*AETNA*****PI*60054~
HL*3*2*23*0~
PAT*19~
NM1*QC*1*SMITH*LILY~
N3*9 ELM ST*APT 4~
N4*CHATHAM*IL*626291002~
DMG*D8*20150603*F~
CLM*VFP-20261102-0007*153***11:B:1*Y*A*Y*Y~
HI*ABK:J069*ABF:R509~
LX*1~
SV1*HC:99213*125*UN*1***1:2~
DTP*472*D8*20261102~
REF*6R*VFP0007-1~
LX*2~
SV1*HC:87880:QW*28*UN*1***1~
DTP*472*D8*20261102~
REF*6R*VFP0007-2~
SE*31*0002~
GE*1*2~
IEA*1*000000002~
"""


def test_a_valid_file_has_no_defects() -> None:
    """pyx12 accepts the file: ok, no defects, set acknowledged A."""
    report = check(VALID_837P.encode())
    assert (report.ok, report.defects, report.ack_codes) == (True, (), {"2/0002": "A"})


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # (code, tag, element, segment index in the file (0-based))
        ("N4*CHATHAM*IL*", "N4*CHATHAM*ZZ*", (DefectCode.IK403_7, "N4", 2, 20)),
        ("DTP*472*D8*20261102~\nREF*6R*VFP0007-2", "REF*6R*VFP0007-2", None),
        ("HL*3*2*23*0~", "HL*3*2*23*~", (DefectCode.IK403_1, "HL", 4, 16)),
        ("SV1*HC:87880:QW*28*UN*1***1~", "SV1*HC:87880:QW*28*UN*1**~", None),
        ("DMG*D8*20150603*F~", "DMG*D8*20150603*X~", (DefectCode.IK403_7, "DMG", 3, 21)),
        ("GE*1*2~", "GE*1*3~", (DefectCode.AK905_4, "GE", None, 33)),
    ],
)
def test_findings_are_located_defects(
    old: str, new: str, expected: tuple[DefectCode, str, int | None, int] | None
) -> None:
    """Each injected fault comes back with its code, segment and element position."""
    bad = VALID_837P.replace(old, new, 1)
    assert bad != VALID_837P
    report = check(bad.encode(), file="bad.837")
    assert not report.ok
    assert all(d.location.file == "bad.837" for d in report.defects)
    if expected is not None:
        code, tag, element, index = expected
        found = [
            (d.code, d.location.tag, d.location.element, d.location.segment_index)
            for d in report.defects
        ]
        assert (code, tag, element, index) in found


@pytest.mark.parametrize(
    ("old", "new", "expected_code"),
    [
        ("DTP*472*D8*20261102~\nREF*6R*VFP0007-2", "REF*6R*VFP0007-2", DefectCode.IK304_3),
        ("SV1*HC:87880:QW*28*UN*1***1~", "SV1*HC:87880:QW*28*UN*1~", DefectCode.IK403_1),
        ("HL*3*2*23*0~", "HL*3*7*23*0~", DefectCode.IK304_8),
        ("REF*EI*371234567~", "REF*EI*371234567**~", DefectCode.TRAILING_SEPARATOR),
    ],
)
def test_segment_level_codes(old: str, new: str, expected_code: DefectCode) -> None:
    """Missing segments, missing composites, HL parents and trailing separators map to our codes."""
    report = check(VALID_837P.replace(old, new, 1).encode())
    assert expected_code in {d.code for d in report.defects}


def test_locations_carry_offset_and_line() -> None:
    """Defects point at the byte offset and line of the segment in the input."""
    bad = VALID_837P.replace("N4*CHATHAM*IL*", "N4*CHATHAM*ZZ*", 1)
    defect = next(d for d in check(bad.encode()).defects if d.location.tag == "N4")
    assert (bad.index("N4*CHATHAM"), 21) == (defect.location.offset, defect.location.line)


def test_messages_never_echo_values() -> None:
    """pyx12 quotes the bad value; our messages name the element instead (values may be PHI)."""
    secret = "ZQXJVW" * 20  # a last name far too long for NM103
    bad = VALID_837P.replace("NM1*QC*1*SMITH*LILY~", f"NM1*QC*1*{secret}*LILY~", 1)
    report = check(bad.encode())
    assert not report.ok
    assert all(secret[:6] not in str(d) for d in report.defects)
    assert any(d.code is DefectCode.IK403_5 for d in report.defects)


def test_not_x12_is_a_defect_not_a_crash() -> None:
    """Bytes that are not X12 give one NOT_X12 defect."""
    report = check(b"hello, world", file="x")
    assert [d.code for d in report.defects] == [DefectCode.NOT_X12]


def test_unknown_implementation_is_reported() -> None:
    """A GS08 pyx12 has no map for is reported as an unsupported transaction set."""
    report = check(VALID_837P.replace("005010X222A1", "005010X999A9").encode())
    assert DefectCode.IK502_1 in {d.code for d in report.defects}


def test_shared_maps_give_the_same_findings_as_fresh_ones() -> None:
    """Validating other files in between does not change what pyx12 finds (maps are shared)."""
    bad = VALID_837P.replace("N4*CHATHAM*IL*", "N4*CHATHAM*ZZ*", 1).encode()
    first = check(bad).defects
    check(VALID_837P.encode())
    check(VALID_837P.replace("DMG*D8*20150603*F~", "DMG*D8*20150603*X~").encode())
    assert first == check(bad).defects


def test_worker_thread_writes_nothing_beside_anything(tmp_path: Path) -> None:
    """Checking in the worker thread leaves the working folder untouched (no .999 files)."""
    before = set(os.listdir(tmp_path))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        report = check_in_thread(VALID_837P.encode(), file="claims.x12").result(timeout=60)
    finally:
        os.chdir(cwd)
    assert report.ok
    assert before == set(os.listdir(tmp_path))


def test_pyx12_logs_reach_no_handler_and_the_logger_is_left_as_found() -> None:
    """pyx12's log records (which quote values) stay out of the application's handlers while a
    check runs, and the ``pyx12`` logger is configured only for that time, not at import."""
    import logging

    secret = "ZQXJVW" * 20
    bad = VALID_837P.replace("NM1*QC*1*SMITH*LILY~", f"NM1*QC*1*{secret}*LILY~", 1)
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    pyx12_logger = logging.getLogger("pyx12")
    handlers_before = list(pyx12_logger.handlers)
    assert pyx12_logger.propagate
    root = logging.getLogger()
    keep = Keep(logging.DEBUG)
    root.addHandler(keep)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        assert not check(bad.encode()).ok
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
    assert not [r for r in seen if r.name.startswith("pyx12")]
    assert pyx12_logger.propagate
    assert pyx12_logger.handlers == handlers_before
