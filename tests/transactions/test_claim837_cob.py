"""Coordination of benefits in the 837P/837I: 2320/2330A/2330B for each other payer, 2430 for
each payer's decision on a line, where the TR3s put them, with amounts exactly as given.

The golden files (``tests/golden/claim837/``) change only on purpose: regenerate them with
``python tests/transactions/test_claim837_cob.py --regenerate-golden`` and review the diff.
"""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

from gateway.models import Encounter, Kind  # noqa: E402
from gateway.models.cob import service_line_index  # noqa: E402
from gateway.partners import load_partners  # noqa: E402
from gateway.transactions.claim837 import BuildResult, build_837  # noqa: E402
from gateway.transactions.control_numbers import MemoryAllocator  # noqa: E402
from gateway.validation.pyx12_adapter import check  # noqa: E402
from gateway.validation.validator import validate  # noqa: E402
from gateway.x12 import Segment  # noqa: E402
from tests.support.claim837 import hl_checks, segments  # noqa: E402
from tests.support.cob import CREATED, cob_dicts, cob_files  # noqa: E402
from tests.support.strategies import sample_dict, with_changes  # noqa: E402

GOLDEN = ROOT / "tests" / "golden" / "claim837"
NAMES = {Kind.PROFESSIONAL: "837P-cob.x12", Kind.INSTITUTIONAL: "837I-cob.x12"}
PARTNERS = load_partners(ROOT / "config" / "partners")

# ------------------------------------------------------------------------------- helpers


def build(*encounters: Encounter) -> BuildResult:
    return build_837(encounters, PARTNERS, MemoryAllocator(), created=CREATED)


def built_segments(encounter: Encounter) -> list[Segment]:
    """The segments of one claim's file, which our validator and pyx12 both accept."""
    result = build(encounter)
    assert [str(x) for x in result.left_out] == []
    (built,) = result.interchanges
    assert [str(d) for d in validate(built.data).defects] == []
    assert [str(d) for d in check(built.data).defects] == []
    return segments(built.data)


def left_out(encounter: Encounter) -> list[tuple[str, str]]:
    """(path, reason) of each claim the builder refused."""
    return [(x.path, x.reason) for x in build(encounter).left_out]


def claim(name: str, changes: dict[str, Any] | None = None) -> Encounter:
    """A COB encounter of ``tests.support.cob`` with JSON paths changed."""
    return Encounter.model_validate(with_changes(cob_dicts()[name], changes or {}))


LINE_LEVEL = "837P secondary, line level"
CLAIM_LEVEL = "837P secondary to Medicare, claim level"
NAMING = "837P primary naming the secondary"
TERTIARY = "837P tertiary"
I_LINES = "837I outpatient secondary, line level"
I_INPATIENT = "837I inpatient secondary, claim level"
PRIMARY = "other_payers[0]"
CLAIM_END = ("SE", "HL", "CLM")


def loops(segs: list[Segment], claim_id: str) -> list[str]:
    """The loops one claim's segments open, in file order (2310, 2320, 2330A, 2400, 2430...)."""
    found: list[str] = []
    inside = False
    for seg in segs:
        if seg.tag == "CLM":
            inside = seg[1] == claim_id
            if inside:
                found.append("2300")
            continue
        if not inside:
            continue
        if seg.tag in CLAIM_END:
            break
        line = "2400" in found
        opened = {"SBR": "2320", "LX": "2400", "LIN": "2410", "SVD": "2430"}.get(seg.tag)
        if seg.tag == "NM1":
            opened = {"IL": "2330A", "PR": "2330B"}.get(seg[1], "2420" if line else "2310")
        if opened:
            found.append(opened)
    return found


def claim_segments(segs: list[Segment], claim_id: str) -> list[Segment]:
    """The segments of one claim, CLM included, up to the next claim or HL."""
    start = next(i for i, s in enumerate(segs) if s.tag == "CLM" and s[1] == claim_id)
    end = next(i for i in range(start + 1, len(segs)) if segs[i].tag in CLAIM_END)
    return segs[start:end]


def texts(segs: list[Segment], *tags: str) -> list[str]:
    """``TAG*e1*e2`` of each segment (of those with one of ``tags``, when given), as written."""
    return ["*".join([seg.tag, *seg.elements]) for seg in segs if not tags or seg.tag in tags]


def other_payer_part(claim_segs: list[Segment]) -> list[Segment]:
    """A claim's 2320/2330 loops: from its first SBR to its first LX."""
    tags = [s.tag for s in claim_segs]
    return claim_segs[tags.index("SBR") : tags.index("LX")]


# ------------------------------------------------------------------------------- goldens


@pytest.fixture(scope="module")
def files() -> dict[Kind, bytes]:
    return cob_files()


@pytest.mark.parametrize("kind", list(NAMES))
def test_cob_claims_build_into_the_golden_bytes(files: dict[Kind, bytes], kind: Kind) -> None:
    """The COB encounters build byte for byte into the stored golden 837P and 837I."""
    assert (GOLDEN / NAMES[kind]).read_bytes() == files[kind]


@pytest.mark.parametrize("kind", list(NAMES))
def test_cob_golden_files_pass_our_validator_and_pyx12(kind: Kind) -> None:
    """Our TR3 validator and pyx12 both accept every set of the golden files, finding nothing."""
    data = (GOLDEN / NAMES[kind]).read_bytes()
    ours = validate(data)
    assert [] == [str(d) for d in ours.defects]
    assert [True] == [s.accepted for s in ours.sets]
    assert [] == [str(d) for d in check(data).defects]
    hl_checks(data)


def test_cob_loops_sit_where_the_tr3s_put_them(files: dict[Kind, bytes]) -> None:
    """2320/2330A/2330B follow the last 2310 loop and precede the first 2400; each 2430 closes
    its 2400, after the 2410 and 2420 loops; other payers keep the order they were given in."""
    p = segments(files[Kind.PROFESSIONAL])
    assert [
        "2300", "2310", "2310", "2310", "2320", "2330A", "2330B",
        "2400", "2430", "2400", "2430", "2400", "2410", "2430", "2400", "2420", "2430",
        "2400", "2430",
    ] == loops(p, "VFP-20261110-0031S")  # fmt: skip
    assert [
        "2300", "2310", "2320", "2330A", "2330B", "2320", "2330A", "2330B",
        "2400", "2430", "2400", "2430",
    ] == loops(p, "VFP-20261101-0001T")  # fmt: skip
    tertiary = claim_segments(p, "VFP-20261101-0001T")
    assert ["SBR*P*18*GRP00451******CI", "SBR*S*18***12****MB"] == texts(tertiary, "SBR")
    i = segments(files[Kind.INSTITUTIONAL])
    assert [
        "2300", "2310", "2320", "2330A", "2330B", "2400", "2430", "2400", "2430", "2400", "2430",
    ] == loops(i, "SMH-OP-2026-55121S")  # fmt: skip


# ------------------------------------------------------------------------------ 2000B SBR


@pytest.mark.parametrize(
    ("place", "code"), [("primary", "P"), ("secondary", "S"), ("tertiary", "T"), ("fourth", "A")]
)
def test_2000b_sbr01_is_the_place_of_the_claims_own_payer(place: str, code: str) -> None:
    """SBR01 of 2000B says where the payer the claim goes to stands in the order of payment."""
    enc = Encounter.model_validate(
        with_changes(sample_dict("professional-self"), {"subscriber.payer_responsibility": place})
    )
    assert [code] == [s[1] for s in built_segments(enc) if s.tag == "SBR"]


def test_insurance_type_is_sbr05_on_an_837p_for_a_payer_that_is_not_primary() -> None:
    """SBR05 carries why Medicare is secondary, in 2000B and in 2320, on the 837P only; a
    primary payer's insurance type is not sent ("if not required, do not send")."""
    segs = built_segments(claim(CLAIM_LEVEL))
    assert ["SBR*S*18***12****MB", "SBR*P*18*GRP00451******CI"] == texts(segs, "SBR")
    primary = claim(CLAIM_LEVEL, {"subscriber.payer_responsibility": "primary", "other_payers": []})
    assert ["SBR*P*18*******MB"] == texts(built_segments(primary), "SBR")
    inst = claim(
        I_LINES,
        {"subscriber.insurance_type": "12", "other_payers[0].subscriber.insurance_type": "12"},
    )
    assert ["SBR*S*18*******CI", "SBR*P*18*IL0098******BL"] == texts(built_segments(inst), "SBR")


# --------------------------------------------------------------------------- 2320 / 2330


def test_a_claim_level_decision_fills_2320_and_dates_2330b() -> None:
    """Without line detail: CAS by group code, AMT*D, AMT*EAF in 2320; DTP*573 and REF*F8 in
    2330B (with the payer's address); no 2430."""
    segs = claim_segments(built_segments(claim(CLAIM_LEVEL)), "VFP-20261101-0001S")
    assert [
        "SBR*P*18*GRP00451******CI",
        "CAS*CO*45*51.1",
        "CAS*PR*3*25**2*20",
        "AMT*D*131.4",
        "AMT*EAF*45",
        "OI***Y***Y",
        "NM1*IL*1*DOE*JANE****MI*UH4471829001",
        "NM1*PR*2*UNITED HEALTHCARE*****PI*87726",
        "N3*PO BOX 30555",
        "N4*SALT LAKE CITY*UT*841300555",
        "DTP*573*D8*20261118",
        "REF*F8*UHC20261118009",
    ] == texts(other_payer_part(segs))
    assert [] == texts(segs, "SVD")


def test_line_detail_moves_the_date_and_patient_liability_to_each_2430() -> None:
    """With line detail, 2330B has no DTP*573 and 2320 no AMT*EAF (one level, never both); each
    2430 has its line's date (else the claim's paid date) and its patient-responsibility sum."""
    segs = claim_segments(built_segments(claim(LINE_LEVEL)), "VFP-20261110-0031S")
    assert ["AMT*D*290", "AMT*EAF*40", "AMT*EAF*20", "AMT*EAF*20", "AMT*EAF*15"] == texts(
        segs, "AMT"
    )
    dates = [s[3] for s in segs if s.tag == "DTP" and s[1] == "573"]
    assert ["20261124", "20261124", "20261123", "20261124", "20261124"] == dates
    assert [
        "SVD*60054*150*HC:99204:25**1",
        "SVD*60054*80*HC:20552:RT:59**1",
        "SVD*60054*0*HC:J1010**80",
        "SVD*60054*60*HC:72100:26**1",  # the procedure as the payer adjudicated it
        "SVD*60054*0*HC:80061:QW**1",
    ] == texts(segs, "SVD")


def test_the_claim_to_the_primary_names_the_secondary_without_a_decision() -> None:
    """An other payer with no adjudication: SBR (SBR02 the patient's relationship), OI, 2330A
    with the subscriber's address, 2330B; no CAS, AMT, MOA, DTP*573, REF*F8 or 2430."""
    segs = claim_segments(built_segments(claim(NAMING)), "VFP-20261102-0007")
    assert [
        "SBR*S*19*IL4410*CAPITAL AREA SCHOOLS*****BL",
        "OI***Y***Y",
        "NM1*IL*1*SMITH*ELENA****MI*XOF771200345",
        "N3*9 ELM ST*APT 4",
        "N4*CHATHAM*IL*626291002",
        "NM1*PR*2*BLUE CROSS BLUE SHIELD OF ILLINOIS*****PI*00621",
    ] == texts(other_payer_part(segs))
    assert [] == texts(segs, "SVD")


def test_oi_repeats_the_claims_assignment_and_release() -> None:
    """OI03 is CLM08 (benefits assigned), OI06 is CLM09 (release of information)."""
    enc = claim(NAMING, {"benefits_assigned": False, "release_of_information": "I"})
    assert ["OI***N***I"] == texts(built_segments(enc), "OI")


def test_amounts_are_written_as_given_never_computed() -> None:
    """AMT*D is the stated paid amount even when the lines say otherwise: balancing is the
    scrubber's; the builder writes what the adjudication says."""
    enc = claim(LINE_LEVEL, {f"{PRIMARY}.adjudication.paid_amount": "999.99"})
    assert "AMT*D*999.99" in texts(built_segments(enc), "AMT")


def test_cas_holds_one_group_and_at_most_six_adjustments() -> None:
    """Adjustments are grouped by group code in order of first appearance, six to a CAS, with
    their quantities."""
    reasons = [{"group": "PR", "reason": str(n), "amount": "1.00"} for n in range(1, 8)]
    extra = [{"group": "CO", "reason": "45", "amount": "2.50", "quantity": "3"}]
    adjustments = reasons[:1] + extra + reasons[1:]
    enc = claim(CLAIM_LEVEL, {f"{PRIMARY}.adjudication.adjustments": adjustments})
    assert [
        "CAS*PR*1*1**2*1**3*1**4*1**5*1**6*1",
        "CAS*PR*7*1",
        "CAS*CO*45*2.5*3",
    ] == texts(built_segments(enc), "CAS")


def test_remark_codes_go_in_moa_except_on_an_inpatient_837i() -> None:
    """MOA03-07 on the 837P and an outpatient 837I; an inpatient 837I reports remarks in MIA,
    whose covered days the contract lacks, so they are left out."""
    assert ["MOA***N130*MA01"] == texts(built_segments(claim(TERTIARY)), "MOA")
    assert ["MOA***N130"] == texts(built_segments(claim(I_LINES)), "MOA")
    assert [] == texts(built_segments(claim(I_INPATIENT)), "MOA", "MIA")


def test_837i_2430_carries_the_revenue_code_and_the_procedure_when_there_is_one() -> None:
    """SVD04 is the revenue code (the payer's when it gave one); a line without a procedure
    has no SVD03."""
    lines = [
        {"line_id": "SMH10077-1", "paid_amount": "5000", "units": "3", "revenue_code": "0121"},
        {"line_id": "2", "paid_amount": "842.30"},
    ]
    enc = claim(
        I_INPATIENT,
        {
            "service_lines[1].line_id": None,
            f"{PRIMARY}.adjudication.lines": lines,
            f"{PRIMARY}.adjudication.adjustments": [],
        },
    )
    segs = built_segments(enc)
    assert ["SVD*00451*5000**0121*3", "SVD*00451*842.3**0250*1"] == texts(segs, "SVD")
    # line detail: the paid date is on each 2430, not on 2330B
    assert ["20261130"] * 2 == [s[3] for s in segs if s.tag == "DTP" and s[1] == "573"]


# --------------------------------------------------------------------- what is refused


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        (
            {f"{PRIMARY}.responsibility": "secondary"},
            f"{PRIMARY}.responsibility",
            "already the claim's own payer",
        ),
        (
            {f"{PRIMARY}.adjudication.lines[2].line_id": "NOPE"},
            f"{PRIMARY}.adjudication.lines[2].line_id",
            "names no service line",
        ),
        (
            {f"{PRIMARY}.adjudication.lines[0].modifiers": ["25", "59", "RT", "LT", "XU"]},
            f"{PRIMARY}.adjudication.lines[0].modifiers",
            "at most 4 modifiers",
        ),
        (
            {
                f"{PRIMARY}.adjudication.lines[0].adjustments": [
                    {"group": "CO", "reason": "45", "amount": "1"}
                ]
                * 31
            },
            f"{PRIMARY}.adjudication.lines[0].adjustments",
            "need 6 CAS segments",
        ),
        (
            {f"{PRIMARY}.adjudication.remark_codes": ["N1", "N2", "N3", "N4", "N5", "N6"]},
            f"{PRIMARY}.adjudication.remark_codes",
            "at most 5 remark codes",
        ),
        (
            {f"{PRIMARY}.adjudication.lines": [{"line_id": "VFP0031-1", "paid_amount": "1"}] * 16},
            "service_lines[0]",
            "at most 15",
        ),
    ],
)
def test_what_the_tr3_cannot_carry_leaves_the_claim_out(
    changes: dict[str, Any], path: str, words: str
) -> None:
    """A COB the TR3 forbids (a place twice, a line named nowhere, too many CAS, remarks or
    decisions) leaves the claim out, naming the field."""
    ((where, reason),) = left_out(claim(LINE_LEVEL, changes))
    assert (path, True) == (where, words in reason)


def test_more_than_ten_other_payers_leave_the_claim_out() -> None:
    """Loop 2320 repeats at most 10 times."""
    other = cob_dicts()[NAMING]["other_payers"][0]
    unknown = {**other, "responsibility": "unknown"}  # U may repeat: only the count is wrong
    assert [] == left_out(claim(NAMING, {"other_payers": [unknown] * 10}))
    assert [("other_payers", "a claim names at most 10 other payers (loop 2320)")] == left_out(
        claim(NAMING, {"other_payers": [unknown] * 11})
    )


def test_a_line_is_named_by_line_id_control_number_or_position() -> None:
    """``line_id`` first; a line without one by its REF*6R (``<claim_id>-<n>``) or position."""
    enc = claim(LINE_LEVEL, {"service_lines[1].line_id": None, "service_lines[3].line_id": "3"})
    assert 0 == service_line_index(enc, "VFP0031-1")
    assert 1 == service_line_index(enc, "VFP-20261110-0031S-2")
    assert 1 == service_line_index(enc, "2")
    assert 3 == service_line_index(enc, "3")  # a line_id wins over a position
    assert None is service_line_index(enc, "1")  # line 1 has a line_id: not named by position
    assert None is service_line_index(enc, "6")


def main(argv: list[str]) -> int:
    """``--regenerate-golden``: rewrite tests/golden/claim837/837*-cob.x12."""
    if argv != ["--regenerate-golden"]:
        print("usage: python tests/transactions/test_claim837_cob.py --regenerate-golden")
        return 2
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for kind, data in cob_files().items():
        path = GOLDEN / NAMES[kind]
        path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
