"""Finding codes for a person typing: ICD-10-CM, HCPCS Level II and modifiers, judged on a date.

``gateway codes search`` and the web console's code look-up call these. Each takes what was typed
(words of a description, or the start of a code) and returns :class:`CodeMatch` rows, the codes
the data holds and whether each can be billed on the date of service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from gateway.codes import icd10cm, procedures
from gateway.codes.dated import DatedCodes, Validity

__all__ = ["CodeMatch", "hcpcs_matches", "icd_matches", "modifier_matches"]

_ICD_START = re.compile(r"[A-Z]\d[0-9A-Z]?\.?[0-9A-Z]{0,4}")
_CODE_START = re.compile(r"[A-Z0-9]{1,5}")


@dataclass(frozen=True)
class CodeMatch:
    """A code found: its text (ICD-10-CM dotted), description and whether it is billable (valid)
    on the date asked about; ``note`` says more when there is something to say."""

    code: str
    description: str
    billable: bool
    note: str = ""


def _icd_row(code: str, when: date) -> CodeMatch:
    billable = bool(icd10cm.is_valid(code, when)) and not icd10cm.is_header(code)
    return CodeMatch(
        icd10cm.dotted(code),
        icd10cm.description(code) or "",
        billable,
        "" if billable else "heading or not valid on the date: not billable",
    )


def icd_matches(text: str, when: date | None = None, limit: int = 25) -> list[CodeMatch]:
    """ICD-10-CM codes for ``text``: a code or its start (``E11.6``: the code and the billable
    codes under it), else words of a description (billable codes first)."""
    day = when or min(date.today(), icd10cm.coverage()[1])
    typed = text.strip().upper()
    if _ICD_START.fullmatch(typed):
        code = typed.replace(".", "")
        found = [code] if icd10cm.description(code) is not None else []
        found += [c for c in icd10cm.billable_under(code, day) if c != code]
        if found:
            return [_icd_row(c, day) for c in found[:limit]]
    return [_icd_row(c, day) for c in icd10cm.search(text, day, limit=limit)]


def _dated_matches(
    data: DatedCodes, text: str, when: date, limit: int, describe: dict[str, str]
) -> list[CodeMatch]:
    typed = text.strip().upper()
    if _CODE_START.fullmatch(typed):
        codes = sorted(c for c in data.spans if c.startswith(typed))
    else:
        words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w]
        codes = sorted(
            c for c, d in data.descriptions.items() if words and all(w in d.lower() for w in words)
        )
    rows = []
    for code in codes[:limit]:
        verdict = data.judge(code, when)
        valid = verdict.validity is Validity.VALID
        note = "" if valid else f"{verdict.validity} on {when.isoformat()}: {data.span_text(code)}"
        rows.append(
            CodeMatch(code, data.descriptions.get(code) or describe.get(code, ""), valid, note)
        )
    return rows


def hcpcs_matches(text: str, when: date | None = None, limit: int = 25) -> list[CodeMatch]:
    """HCPCS Level II codes starting with ``text`` (``J11``) or whose short descriptor holds its
    words, with their validity on ``when`` (default today). CPT codes are the AMA's: not here."""
    return _dated_matches(procedures.hcpcs(), text, when or date.today(), limit, {})


def modifier_matches(text: str, when: date | None = None, limit: int = 25) -> list[CodeMatch]:
    """Modifiers starting with ``text``, described by their level (the data has no wording),
    with their validity on ``when``; a real modifier outside CMS's list by its family."""
    data = procedures.modifiers()
    day = when or date.today()
    typed = text.strip().upper()
    levels = {c: f"{procedures.modifier_level(c)} modifier" for c in data.spans if typed}
    rows = _dated_matches(data, typed, day, limit, levels) if _CODE_START.fullmatch(typed) else []
    family = procedures.modifier_family(typed)
    if family and typed not in data:
        rows.insert(0, CodeMatch(typed, family, True, "not in CMS's list; the scrubber accepts it"))
    return rows
