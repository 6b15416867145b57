"""What a correction item's reason code means, in words, from the published code lists.

A queue row shows the reason code (``CO-50``, ``STC-A7:164:IL``, ``CLP02-4``,
``E-ICD-NOT-BILLABLE``) and this meaning beside it: the CARC, claim status or CLP02 wording,
or the scrubber's fix for a finding code. It is read from the code tables only, never from the
item's own text, so a row carries no patient data.
"""

from __future__ import annotations

import re
from functools import cache

from gateway import codes
from gateway.models.findings import CATALOGUE, FindingCode

__all__ = ["reason_meaning"]

_CAS = re.compile(r"^(?:CO|PR|OA|PI|CR)-([A-Z0-9]{1,5})$")
_STC = re.compile(r"^STC-([A-Z0-9]{1,3}):([A-Z0-9]{1,5})")
_CLP02 = re.compile(r"^CLP02-([0-9]{1,2})$")


@cache
def reason_meaning(code: str) -> str:
    """The meaning of a reason code, or ``""`` when no list names it."""
    if found := _CAS.match(code):
        return codes.table("carc").get(found[1], "")
    if found := _STC.match(code):
        status = codes.table("claim_status").get(found[2], "")
        category = codes.table("claim_status_category").get(found[1], "")
        return status or category
    if found := _CLP02.match(code):
        return codes.table("clp02").get(found[1], "")
    try:
        return CATALOGUE[FindingCode(code)].hint
    except (ValueError, KeyError):
        return ""
