"""``gateway codes``: look codes up the way billing staff need them, without a code book.

``gateway codes icd E11.6 [--date 2026-11-10]`` explains an ICD-10-CM code on a date of service
(description, billable or not, the billable codes under it, the tabular notes, 7th characters);
``gateway codes search "knee osteoarthritis"`` finds codes by words, billable ones first.
``--json`` prints data. Each look-up is one function below, registered on the ``codes`` parser.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any, TypeAlias

from gateway.cli import EXIT_INVALID, EXIT_OK, UsageError
from gateway.cli._common import dumps
from gateway.codes import icd10cm

if TYPE_CHECKING:
    SubParsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: SubParsers) -> None:
    """Add the ``codes`` sub-command and its look-ups."""
    parser = subparsers.add_parser(
        "codes",
        help="look up ICD-10-CM codes (and search them by words)",
        description="Look up codes by date of service, with what each means and what to send "
        "instead when it cannot be billed.",
    )
    lookups = parser.add_subparsers(dest="lookup", metavar="LOOKUP")
    lookups.required = True
    _register_icd(lookups)
    _register_search(lookups)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


# ------------------------------------------------------------------------------- icd


def _register_icd(lookups: SubParsers) -> None:
    parser = lookups.add_parser(
        "icd",
        help="explain an ICD-10-CM code on a date of service",
        description="Describe an ICD-10-CM code (with or without its dot): valid and billable on "
        "the date, the billable codes under it, its tabular notes and 7th characters. Exit 1 "
        "when the code cannot be billed on the date.",
    )
    parser.add_argument("code", help="an ICD-10-CM code, e.g. E11.6 or E116")
    parser.add_argument(
        "--date",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="date of service (default: today, or the data's last day when today is past it)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run_icd)


def icd_data(code: str, when: date) -> dict[str, Any]:
    """What the gateway knows of ``code`` on ``when``, as JSON-ready data."""
    first, last = icd10cm.coverage()
    covered = first <= when <= last
    valid = icd10cm.is_valid(code, when) if covered else None
    words = icd10cm.description(code)
    under = icd10cm.billable_under(code, when) if covered and not valid else []
    out: dict[str, Any] = {
        "code": icd10cm.dotted(code),
        "date": when.isoformat(),
        "description": words,
        "in_tabular": words is not None,
        "valid_on_date": valid,
        "billable": bool(valid),
        "billable_codes_under": [icd10cm.dotted(c) for c in under],
        "valid_ranges": [
            {"from": start.isoformat(), "to": end.isoformat()}
            for start, end in icd10cm.valid_ranges(code)
        ],
        "seventh_characters": dict(icd10cm.seventh_characters(code)),
        "notes": icd10cm.notes(icd10cm.nearest_known(code) or code),
        "data": {
            "tabular_edition": icd10cm.tabular().edition,
            "coverage": {"from": first.isoformat(), "to": last.isoformat()},
            "packages": icd10cm.package_versions(),
        },
    }
    found = icd10cm.profile(code, when)
    if found is not None and found.valid:
        out["edits"] = {
            "manifestation_never_first": "MANIFESTATION_AS_PDX" in found.principal_edits,
            "external_cause_never_first": code[0] in "VWXY",
            "unacceptable_inpatient_principal": "UNACCEPTABLE_PDX" in found.principal_edits,
            "questionable_admission": "QUESTIONABLE_ADMISSION" in found.principal_edits,
            "ages": None
            if found.ages is None
            else {
                "category": icd10cm.age_category(found.ages),
                "from": found.ages[0],
                "to": found.ages[1],
            },
            "fy2024_sex": found.sex,
        }
    if not covered:
        out["remark"] = (
            f"The installed ICD-10-CM data covers service dates {first} to {last}: "
            "upgrade x12-claim-gateway for later dates."
        )
    elif valid and words is None:
        out["remark"] = (
            f"Added after the {icd10cm.tabular().edition} tabular: valid on this date, "
            "no description yet."
        )
    if covered and not valid:
        instead = icd10cm.replacements(code, when) if out["valid_ranges"] else []
        out["replacements"] = [icd10cm.dotted(c) for c in instead]
    return out


def render_icd(data: dict[str, Any]) -> str:
    """The look-up for people."""
    lines = [f"{data['code']}  {data['description'] or '(no description in the tabular)'}"]
    if data["valid_on_date"] is None:
        state = "not judged (date outside the installed data)"
    elif data["billable"]:
        state = "valid and billable"
    else:
        state = "NOT billable"
    lines.append(f"  on {data['date']}: {state}")
    if data.get("remark"):
        lines.append(f"  {data['remark']}")
    ranges = ", ".join(f"{r['from']} to {r['to']}" for r in data["valid_ranges"])
    if ranges:
        lines.append(f"  valid: {ranges}")
    if data.get("replacements"):
        lines.append(f"  in force on the date instead: {', '.join(data['replacements'])}")
    under = data["billable_codes_under"]
    if under:
        lines.append(f"  billable codes under it ({len(under)}):")
        for code in under[:40]:
            words = icd10cm.description(code.replace(".", "")) or "(new: no description yet)"
            lines.append(f"    {code:<9} {words}")
        if len(under) > 40:
            lines.append(f"    ... and {len(under) - 40} more (--json lists them all)")
    edits = data.get("edits") or {}
    said = {
        "manifestation_never_first": "a manifestation code: never first-listed or principal",
        "external_cause_never_first": "an external cause code: never first-listed or principal",
        "unacceptable_inpatient_principal": "not acceptable as an inpatient principal diagnosis",
        "questionable_admission": "a questionable inpatient admission as principal",
    }
    lines.extend(f"  {text}" for key, text in said.items() if edits.get(key))
    if edits.get("ages"):
        ages = edits["ages"]
        lines.append(f"  {ages['category']} diagnosis: ages {ages['from']}-{ages['to']} (MCE)")
    if edits.get("fy2024_sex"):
        lines.append(f"  listed for sex {edits['fy2024_sex']} only by the FY2024 MCE")
    if data["seventh_characters"]:
        lines.append("  7th character:")
        lines.extend(f"    {ch}  {meaning}" for ch, meaning in data["seventh_characters"].items())
    titles = {
        "code_first": "code first",
        "use_additional_code": "use additional code",
        "code_also": "code also",
        "excludes1": "excludes1",
    }
    for key, title in titles.items():
        note = data["notes"].get(key)
        if not note:
            continue
        lines.append(f"  {title}:")
        items = note if isinstance(note, list) else note.splitlines()
        lines.extend(f"    {item.strip()}" for item in items if item.strip())
    source = data["data"]
    lines.append(
        f"  (tabular {source['tabular_edition']}; validity by date from the Medicare Code Editor, "
        f"{source['coverage']['from']} to {source['coverage']['to']})"
    )
    return "\n".join(lines)


def run_icd(args: argparse.Namespace) -> int:
    """``gateway codes icd``."""
    code = args.code.strip().upper().replace(".", "")
    if not code or not code.isalnum() or len(code) > 7:
        raise UsageError(f"{args.code!r} is not shaped like an ICD-10-CM code (e.g. E11.65)")
    when = args.date or min(date.today(), icd10cm.coverage()[1])
    data = icd_data(code, when)
    print(dumps(data) if args.json else render_icd(data))
    return EXIT_OK if data["billable"] else EXIT_INVALID


# ------------------------------------------------------------------------------- search


def _register_search(lookups: SubParsers) -> None:
    parser = lookups.add_parser(
        "search",
        help="find ICD-10-CM codes by words",
        description="Find ICD-10-CM codes whose description holds every word, billable codes "
        "first.",
    )
    parser.add_argument("words", help='words of the description, e.g. "knee osteoarthritis"')
    parser.add_argument("--limit", type=int, default=25, metavar="N", help="codes to show")
    parser.add_argument(
        "--date", type=_iso_date, default=None, metavar="YYYY-MM-DD", help="date of service"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.set_defaults(func=run_search)


def run_search(args: argparse.Namespace) -> int:
    """``gateway codes search``."""
    when = args.date or min(date.today(), icd10cm.coverage()[1])
    found = icd10cm.search(args.words, when, limit=args.limit)
    rows = [
        {
            "code": icd10cm.dotted(code),
            "description": icd10cm.description(code),
            "billable": bool(icd10cm.is_valid(code, when)) and not icd10cm.is_header(code),
        }
        for code in found
    ]
    if args.json:
        print(dumps(rows))
    elif not rows:
        print(f"no ICD-10-CM code matches {args.words!r}")
    else:
        for row in rows:
            mark = "" if row["billable"] else "  (heading: not billable)"
            print(f"{row['code']:<9} {row['description']}{mark}")
    return EXIT_OK if rows else EXIT_INVALID
