"""Procedure code sets by date of service: HCPCS Level II, modifiers and (when licensed) CPT.

Each line's codes are judged on the line's date of service against the installed data
(``gateway.codes.procedures``, read once per process on first use; the practice's CPT list comes
in through the ``Context``). A code the data shows as ended, not yet valid or unknown on a date
the data covers is an error; a code the data does not know on a date it does not cover is a
warning (it may be new), and such a date gets one coverage warning per claim, so nothing passes
silently and nothing is blocked on a guess.

Modifiers: the shipped list is the set CMS's outpatient code editor (I/OCE) accepts. It holds the
CPT modifiers and the HCPCS modifiers professional claims use too, but not the families used only
by professional or supplier claims, which ``modifier_family`` recognises (ambulance
origin/destination pairs, CPT category II 1P-3P, SZ). Any other modifier absent from the list is
an error: nearly always a typo, and one that clearinghouses reject.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

from gateway.codes import procedures
from gateway.codes.dated import DatedCodes, Validity, Verdict, quarter_name
from gateway.edits import codelists as cl
from gateway.edits.findings import Finding, finding
from gateway.edits.findings import FindingCode as C
from gateway.models.encounter import Encounter

if TYPE_CHECKING:  # rules.py lists these rules in RULES: import its Context for types only
    from gateway.edits.rules import Context

__all__ = ["code_data_coverage", "cpt_codes", "hcpcs_codes", "modifier_codes"]


def _named(data: DatedCodes, code: str) -> str:
    """``J1100 (Dexamethasone sodium phos)``, or the code alone when there is no description."""
    description = data.descriptions.get(code)
    return f"{code} ({description})" if description else code


def _not_valid_message(what: str, data: DatedCodes, code: str, when: date, v: Verdict) -> str:
    """Why a code the data knows is not valid on ``when``, with the dates that say so."""
    named = _named(data, code)
    spans = data.span_text(code)
    if v.validity is Validity.ENDED:
        end = v.spans[-1].end
        assert end is not None  # ENDED means the last span has an end
        return (
            f"{what} {named} ended on {end.isoformat()}; the line's date of service "
            f"{when.isoformat()} is after it (valid {spans})."
        )
    if v.validity is Validity.NOT_YET:
        start = v.spans[0].start
        assert start is not None
        return (
            f"{what} {named} is valid from {start.isoformat()}; the line's date of service "
            f"{when.isoformat()} is before it."
        )
    return f"{what} {named} was not valid on {when.isoformat()} (valid {spans})."


def _unverified_message(what: str, data: DatedCodes, code: str, when: date) -> str:
    """A code the data does not know, on a date the data does not cover."""
    if data.covers_to is not None and when > data.covers_to:
        return (
            f"{what} {code} is not in the installed data, which ends with "
            f"{quarter_name(data.covers_to)} ({data.covers_to.isoformat()}); the line's date of "
            f"service {when.isoformat()} is later, so it may be a new code."
        )
    begins = data.covers_from.isoformat() if data.covers_from else "?"
    return (
        f"{what} {code} is not in the installed data, which begins {begins}; the line's date "
        f"of service {when.isoformat()} is earlier, so it may be a code retired before then."
    )


def hcpcs_codes(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """A HCPCS Level II code is valid on its line's date of service (CMS I/OCE data)."""
    data: DatedCodes | None = None
    for i, line in enumerate(enc.service_lines):
        code = line.procedure_code
        if code is None or not cl.HCPCS.fullmatch(code):
            continue
        if data is None:
            data = procedures.hcpcs()
        when = line.service_date
        verdict = data.judge(code, when)
        if verdict.is_valid:
            continue
        path = f"service_lines[{i}].procedure_code"
        if verdict.validity is Validity.UNKNOWN:
            yield finding(
                C.HCPCS_UNKNOWN,
                path,
                f"{code} is not a HCPCS Level II code: CMS's data for service dates "
                f"{_coverage(data)} has no such code.",
            )
        elif verdict.validity is Validity.UNVERIFIED:
            yield finding(C.HCPCS_UNVERIFIED, path, _unverified_message("HCPCS", data, code, when))
        else:
            yield finding(
                C.HCPCS_NOT_VALID_ON_DATE,
                path,
                _not_valid_message("HCPCS", data, code, when, verdict),
            )


def modifier_codes(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """Each modifier is valid on its line's date of service (CMS I/OCE data; see the module)."""
    data: DatedCodes | None = None
    for i, line in enumerate(enc.service_lines):
        if not line.modifiers:
            continue
        if data is None:
            data = procedures.modifiers()
        when = line.service_date
        for j, mod in enumerate(line.modifiers):
            if not cl.MODIFIER.fullmatch(mod):
                continue  # the shape rule reports it
            verdict = data.judge(mod, when)
            if verdict.is_valid:
                continue
            path = f"service_lines[{i}].modifiers[{j}]"
            if verdict.validity is Validity.UNKNOWN:
                if procedures.modifier_family(mod):
                    continue
                yield finding(
                    C.MODIFIER_UNKNOWN,
                    path,
                    f"Modifier {mod} is not a CPT or HCPCS modifier: CMS's list for service "
                    f"dates {_coverage(data)} has no such modifier.",
                )
            elif verdict.validity is Validity.UNVERIFIED:
                if procedures.modifier_family(mod):
                    continue
                yield finding(
                    C.MODIFIER_UNVERIFIED, path, _unverified_message("Modifier", data, mod, when)
                )
            else:
                yield finding(
                    C.MODIFIER_NOT_VALID_ON_DATE,
                    path,
                    _not_valid_message("Modifier", data, mod, when, verdict),
                )


def cpt_codes(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """With the practice's CPT list configured, a CPT code is valid on its line's date."""
    data = ctx.cpt
    if data is None:
        return
    for i, line in enumerate(enc.service_lines):
        code = line.procedure_code
        if code is None or not cl.CPT.fullmatch(code):
            continue
        when = line.service_date
        verdict = data.judge(code, when)
        if verdict.is_valid:
            continue
        path = f"service_lines[{i}].procedure_code"
        if verdict.validity is Validity.UNKNOWN:
            yield finding(
                C.CPT_UNKNOWN,
                path,
                f"{code} is not in the practice's CPT list for service dates {_coverage(data)}.",
            )
        elif verdict.validity is Validity.UNVERIFIED:
            yield finding(
                C.CPT_UNVERIFIED,
                path,
                f"CPT {code} is not in the practice's CPT list, which covers service dates "
                f"{_coverage(data)}; the line's date of service {when.isoformat()} is outside it.",
            )
        else:
            yield finding(
                C.CPT_NOT_VALID_ON_DATE, path, _not_valid_message("CPT", data, code, when, verdict)
            )


def _coverage(data: DatedCodes) -> str:
    begins = data.covers_from.isoformat() if data.covers_from else "the start"
    ends = data.covers_to.isoformat() if data.covers_to else "today"
    return f"{begins} to {ends}"


def code_data_coverage(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """A line dated outside what the installed code data covers gets one warning per claim."""
    hcpcs: DatedCodes | None = None
    for i, line in enumerate(enc.service_lines):
        code = line.procedure_code
        if not line.modifiers and (code is None or not cl.HCPCS.fullmatch(code)):
            continue
        if hcpcs is None:
            hcpcs = procedures.hcpcs()
        if not hcpcs.covers(line.service_date):
            yield finding(
                C.CODE_DATA_COVERAGE,
                f"service_lines[{i}].service_date",
                f"The installed HCPCS Level II and modifier data ({procedures.HCPCS_VERSION}) "
                f"covers service dates {_coverage(hcpcs)}; this line is dated "
                f"{line.service_date.isoformat()}, so its codes were checked against the "
                "nearest data: upgrade x12-claim-gateway.",
            )
            break
    cpt = ctx.cpt
    if cpt is None:
        return
    for i, line in enumerate(enc.service_lines):
        code = line.procedure_code
        if code is not None and cl.CPT.fullmatch(code) and not cpt.covers(line.service_date):
            yield finding(
                C.CODE_DATA_COVERAGE,
                f"service_lines[{i}].service_date",
                f"The practice's CPT list ([codes] cpt_file) covers service dates "
                f"{_coverage(cpt)}; this line is dated {line.service_date.isoformat()}: "
                "add the CPT codes of that year to the list.",
            )
            break
