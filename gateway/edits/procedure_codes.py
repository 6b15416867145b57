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

from gateway.codes import procedures
from gateway.codes.dated import DatedCodes, Validity, Verdict, quarter_name
from gateway.edits import codelists as cl
from gateway.edits.context import Context
from gateway.edits.findings import Finding, finding
from gateway.edits.findings import FindingCode as C
from gateway.models.encounter import Encounter

__all__ = ["cpt_codes", "procedure_code_sets"]


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


def procedure_code_sets(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """HCPCS Level II codes and modifiers are valid on their line's date of service (CMS I/OCE
    data).

    Past the data's last quarter, a code the data shows valid at its end passes (CMS carries codes
    forward until a quarterly update ends them), a code it shows ended is still an error, and a
    code it does not hold is a warning naming the last quarter (``W-HCPCS-UNVERIFIED``: it may be
    new). There is no claim-wide coverage warning here: with quarterly data it would sit on every
    claim between two releases and teach people to ignore warnings.

    One pass over the lines; a valid code costs two dict lookups and two date comparisons.
    """
    hcpcs: DatedCodes | None = None
    mods: DatedCodes | None = None
    for i, line in enumerate(enc.service_lines):
        code = line.procedure_code
        modifiers = line.modifiers
        is_hcpcs = code is not None and cl.HCPCS.fullmatch(code) is not None
        if not is_hcpcs and not modifiers:
            continue
        if hcpcs is None:
            hcpcs = procedures.hcpcs()
            mods = procedures.modifiers()
        assert mods is not None
        when = line.service_date
        if is_hcpcs and code is not None and not hcpcs.valid_on(code, when):
            yield _hcpcs_finding(hcpcs, code, when, f"service_lines[{i}].procedure_code")
        for j, mod in enumerate(modifiers):
            if mods.valid_on(mod, when) or not cl.MODIFIER.fullmatch(mod):
                continue  # valid, or the shape rule reports it
            found = _modifier_finding(mods, mod, when, f"service_lines[{i}].modifiers[{j}]")
            if found is not None:
                yield found


def _hcpcs_finding(data: DatedCodes, code: str, when: date, path: str) -> Finding:
    """What to say about a HCPCS code that is not valid on ``when``."""
    verdict = data.judge(code, when)
    if verdict.validity is Validity.UNKNOWN:
        return finding(
            C.HCPCS_UNKNOWN,
            path,
            f"{code} is not a HCPCS Level II code: CMS's data for service dates "
            f"{_coverage(data)} has no such code.",
        )
    if verdict.validity is Validity.UNVERIFIED:
        return finding(C.HCPCS_UNVERIFIED, path, _unverified_message("HCPCS", data, code, when))
    return finding(
        C.HCPCS_NOT_VALID_ON_DATE, path, _not_valid_message("HCPCS", data, code, when, verdict)
    )


def _modifier_finding(data: DatedCodes, mod: str, when: date, path: str) -> Finding | None:
    """What to say about a modifier that is not valid on ``when`` (None: a real modifier that
    the I/OCE list does not carry, see the module)."""
    verdict = data.judge(mod, when)
    if verdict.validity in (Validity.UNKNOWN, Validity.UNVERIFIED) and procedures.modifier_family(
        mod
    ):
        return None
    if verdict.validity is Validity.UNKNOWN:
        return finding(
            C.MODIFIER_UNKNOWN,
            path,
            f"Modifier {mod} is not a CPT or HCPCS modifier: CMS's list for service dates "
            f"{_coverage(data)} has no such modifier.",
        )
    if verdict.validity is Validity.UNVERIFIED:
        return finding(
            C.MODIFIER_UNVERIFIED, path, _unverified_message("Modifier", data, mod, when)
        )
    return finding(
        C.MODIFIER_NOT_VALID_ON_DATE, path, _not_valid_message("Modifier", data, mod, when, verdict)
    )


def cpt_codes(enc: Encounter, ctx: Context) -> Iterator[Finding]:
    """With the practice's CPT list configured, a CPT code is valid on its line's date; a CPT
    line dated outside the list gets one coverage warning per claim."""
    data = ctx.cpt
    if data is None:
        return
    outside: int | None = None
    for i, line in enumerate(enc.service_lines):
        code = line.procedure_code
        if code is None or not cl.CPT.fullmatch(code):
            continue
        when = line.service_date
        if outside is None and not data.covers(when):
            outside = i
        if data.valid_on(code, when):
            continue
        verdict = data.judge(code, when)
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
    if outside is not None:
        when = enc.service_lines[outside].service_date
        yield finding(
            C.CODE_DATA_COVERAGE,
            f"service_lines[{outside}].service_date",
            f"The practice's CPT list ([codes] cpt_file) covers service dates "
            f"{_coverage(data)}; this line is dated {when.isoformat()}: "
            "add the CPT codes of that year to the list.",
        )


def _coverage(data: DatedCodes) -> str:
    begins = data.covers_from.isoformat() if data.covers_from else "the start"
    ends = data.covers_to.isoformat() if data.covers_to else "today"
    return f"{begins} to {ends}"
