"""``gateway codes``: look codes up in the installed code sets, list the sets, update a list.

``gateway codes icd E11.6 [--date 2026-11-10]`` explains an ICD-10-CM code on a date of service
(description, billable or not, the billable codes under it, the tabular notes, 7th characters);
``gateway codes search "knee osteoarthritis"`` finds codes by words, billable ones first.
``gateway codes hcpcs J1100``, ``modifier 25``, ``carc 45``, ``rarc N206`` show what the data
holds (``--date`` judges validity on a date of service; ``--json`` for machines);
``gateway codes --sets`` lists every installed code set with its version and coverage;
``gateway codes update carc|rarc|claim-status|claim-status-category FILE`` installs a newer list
downloaded from the publisher into the user's data folder. A code the data does not hold exits 1.

Each sub-command is registered by its own ``_register_*`` function.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from gateway.cli import EXIT_INVALID, EXIT_OK, UsageError
from gateway.cli._common import dumps, open_input
from gateway.codes import icd10cm

__all__ = ["register", "version_text"]

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``codes`` command and its sub-commands."""
    parser = subparsers.add_parser(
        "codes",
        help="look up ICD-10-CM, HCPCS, modifier, CARC and RARC codes; list or update the sets",
        description="Look codes up in the installed code sets, list the sets with their versions "
        "and coverage (--sets), or install a newer CARC/RARC/claim status list (update).",
    )
    parser.add_argument(
        "--sets", action="store_true", help="list the installed code sets (version, coverage)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the gateway configuration, for the practice's CPT list ([codes] cpt_file)",
    )
    parser.set_defaults(func=_run_sets, codes_parser=parser)
    commands = parser.add_subparsers(dest="codes_command", metavar="SUBCOMMAND")
    _register_hcpcs(commands)
    _register_modifier(commands)
    _register_carc(commands)
    _register_rarc(commands)
    _register_update(commands)
    _register_icd(commands)
    _register_search(commands)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from exc


def _lookup_parser(commands: Subparsers, name: str, help_text: str, *, dated: bool) -> Any:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("code", metavar="CODE")
    if dated:
        parser.add_argument(
            "--date",
            type=_iso_date,
            default=None,
            metavar="YYYY-MM-DD",
            help="the date of service to judge the code on (default: today)",
        )
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _emit(args: argparse.Namespace, document: dict[str, Any], lines: list[str], found: bool) -> int:
    if args.json:
        sys.stdout.write(dumps(document, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK if found else EXIT_INVALID


# ------------------------------------------------------------------------------ code sets


def _run_sets(args: argparse.Namespace) -> int:
    """``gateway codes --sets`` (also what ``gateway codes`` alone prints)."""
    if not args.sets and args.codes_command is None:
        args.codes_parser.print_help(sys.stderr)
        raise UsageError("give a sub-command (hcpcs, modifier, carc, rarc, update) or --sets")
    from gateway.codes.sets import code_sets

    sets = code_sets(_cpt_file(args.config))
    if args.json:
        sys.stdout.write(dumps([s.as_dict() for s in sets], indent=2) + "\n")
        return EXIT_OK
    sys.stdout.write(_sets_table(sets))
    return EXIT_OK


def _cpt_file(config: str | None) -> Path | None:
    """``[codes] cpt_file`` of ``--config`` (else config/gateway.toml when present)."""
    from gateway.config import load_settings

    path = Path(config) if config else Path("config", "gateway.toml")
    if config is None and not path.is_file():
        return None
    return load_settings(path).codes.cpt_file


def _sets_table(sets: list[Any]) -> str:
    out = []
    for s in sets:
        covers = (
            f"{s.covers_from.isoformat() if s.covers_from else '...'} to "
            f"{s.covers_to.isoformat() if s.covers_to else '...'}"
        )
        out.append(f"{s.name:<22} {s.version}")
        rows = f"; {s.rows} rows" if s.rows else ""
        out.append(f"{'':<22} {s.title}{rows}; {s.origin}")
        out.append(f"{'':<22} covers: {covers}; source: {s.source}")
        if s.path:
            out.append(f"{'':<22} file: {s.path}")
    return "\n".join(out) + "\n"


def version_text() -> str:
    """What ``gateway --version`` prints: the package version and every installed code set."""
    from gateway import __version__
    from gateway.codes.sets import code_sets

    return f"gateway (x12-claim-gateway) {__version__}\ncode sets:\n" + _sets_table(code_sets())


# ---------------------------------------------------------------------------------- HCPCS


def _register_hcpcs(commands: Subparsers) -> None:
    parser = _lookup_parser(
        commands, "hcpcs", "a HCPCS Level II code: description, dates, validity", dated=True
    )
    parser.set_defaults(func=_run_hcpcs)


def _spans(data: Any, code: str) -> list[dict[str, Any]]:
    """Each validity span; ``from_or_earlier`` when it starts with the data (valid before too)."""
    return [
        {"from": s.start or data.covers_from, "from_or_earlier": s.start is None, "to": s.end}
        for s in data.spans.get(code, ())
    ]


def _judged(data: Any, code: str, when: date) -> dict[str, Any]:
    from gateway.codes.dated import Validity

    verdict = data.judge(code, when)
    note = ""
    if verdict.validity is Validity.VALID and not data.covers(when):
        note = f"valid in the data's last quarter; {when.isoformat()} is after the data"
    return {"date": when, "validity": str(verdict.validity), "covered": data.covers(when)} | (
        {"note": note} if note else {}
    )


def _run_hcpcs(args: argparse.Namespace) -> int:
    from gateway.codes import procedures
    from gateway.edits import codelists as cl

    code = args.code.strip().upper()
    when = args.date or date.today()
    data = procedures.hcpcs()
    data_info = {
        "version": procedures.HCPCS_VERSION,
        "covers_from": data.covers_from,
        "covers_to": data.covers_to,
    }
    if cl.CPT.fullmatch(code):
        text = (
            f"{code} is a CPT code: CPT descriptors are the AMA's and are not shipped "
            "(point [codes] cpt_file at the practice's licensed list to check CPT by date)."
        )
        return _emit(
            args, {"code": code, "set": "CPT", "found": False, "note": text}, [text], False
        )
    found = code in data
    document: dict[str, Any] = {
        "code": code,
        "set": "HCPCS Level II",
        "found": found,
        "description": data.descriptions.get(code, ""),
        "spans": _spans(data, code),
        **_judged(data, code, when),
        "data": data_info,
    }
    coverage = f"{data.covers_from} to {data.covers_to}"
    if not found:
        lines = [
            f"{code}: not a HCPCS Level II code in the installed data "
            f"({procedures.HCPCS_VERSION}, service dates {coverage})."
        ]
        if not cl.HCPCS.fullmatch(code):
            lines.append("HCPCS Level II codes are a letter A-V and 4 digits, e.g. J1100.")
        return _emit(args, document, lines, False)
    description = document["description"] or "(no description: CDT descriptors are the ADA's)"
    lines = [
        f"{code}  {description}",
        f"  valid: {data.span_text(code)}",
        f"  on {when.isoformat()}: {document['validity']}"
        + (f" ({document['note']})" if "note" in document else ""),
        f"  data: {procedures.HCPCS_VERSION}, service dates {coverage}",
    ]
    return _emit(args, document, lines, True)


# ------------------------------------------------------------------------------ modifiers


def _register_modifier(commands: Subparsers) -> None:
    parser = _lookup_parser(
        commands, "modifier", "a CPT/HCPCS modifier: level, dates, validity", dated=True
    )
    parser.set_defaults(func=_run_modifier)


def _run_modifier(args: argparse.Namespace) -> int:
    from gateway.codes import procedures

    code = args.code.strip().upper()
    when = args.date or date.today()
    data = procedures.modifiers()
    found = code in data
    family = procedures.modifier_family(code)
    document: dict[str, Any] = {
        "code": code,
        "set": "modifiers (CMS I/OCE)",
        "found": found,
        "level": procedures.modifier_level(code),
        "spans": _spans(data, code),
        **_judged(data, code, when),
        "data": {
            "version": procedures.HCPCS_VERSION,
            "covers_from": data.covers_from,
            "covers_to": data.covers_to,
        },
    }
    if not found:
        if family:
            document["accepted_as"] = family
            lines = [
                f"{code}: not in CMS's I/OCE modifier list, but a real modifier ({family}): "
                "the scrubber accepts it."
            ]
            return _emit(args, document, lines, True)
        lines = [f"{code}: not a modifier in the installed data ({procedures.HCPCS_VERSION})."]
        return _emit(args, document, lines, False)
    lines = [
        f"{code}  {document['level']} modifier (the data has no descriptions)",
        f"  valid: {data.span_text(code)}",
        f"  on {when.isoformat()}: {document['validity']}"
        + (f" ({document['note']})" if "note" in document else ""),
        f"  data: {procedures.HCPCS_VERSION}, service dates {data.covers_from} to {data.covers_to}",
    ]
    return _emit(args, document, lines, True)


# ---------------------------------------------------------------------------- CARC, RARC


def _register_carc(commands: Subparsers) -> None:
    parser = _lookup_parser(
        commands, "carc", "a claim adjustment reason code: meaning, dates, status", dated=False
    )
    parser.set_defaults(func=_run_published, kind="carc")


def _register_rarc(commands: Subparsers) -> None:
    parser = _lookup_parser(
        commands, "rarc", "a remittance advice remark code: meaning, dates, status", dated=False
    )
    parser.set_defaults(func=_run_published, kind="rarc")


def _run_published(args: argparse.Namespace) -> int:
    from gateway.codes import published

    kind: str = args.kind
    code = args.code.strip().upper()
    entry = published.entries(kind).get(code)
    updated = published.user_list(kind)
    source = "user-updated" if updated is not None and code in updated.entries else "shipped"
    spec = published.LISTS[kind]
    if entry is None:
        document = {"code": code, "list": kind, "found": False, "meaning": "unknown code"}
        lines = [
            f"{code}: unknown code (not in the installed {spec.title} list; "
            f"`gateway codes update {kind} FILE` installs a newer one)."
        ]
        return _emit(args, document, lines, False)
    document = {
        "code": code,
        "list": kind,
        "found": True,
        "meaning": entry.description,
        "status": entry.status,
        "active": entry.is_active,
        "start_date": entry.start_date,
        "stop_date": entry.stop_date,
        "from": source,
    }
    dates = f"from {entry.start_date}" if entry.start_date else "start date not known"
    if entry.stop_date:
        dates += f" to {entry.stop_date}"
    elif not entry.is_active:
        dates += "; stop date not known"
    lines = [
        f"{code}  {entry.description}",
        f"  {entry.status} ({dates}); {spec.title}, {source} list",
    ]
    return _emit(args, document, lines, True)


# ---------------------------------------------------------------------------------- update


def _register_update(commands: Subparsers) -> None:
    from gateway.codes.published import COLUMNS, LISTS

    parser = commands.add_parser(
        "update",
        help="install a newer CARC/RARC/claim status list downloaded from the publisher",
        description="Check FILE (TSV or CSV with a header row: "
        f"{', '.join(COLUMNS)}; code and description are required, dates YYYY-MM-DD or "
        "MM/DD/YYYY) and install it in the user's data folder (GATEWAY_DATA_DIR, else "
        "$XDG_DATA_HOME/x12-claim-gateway/codes). Its rows take precedence over the shipped "
        "list code by code; codes only the shipped list knows stay known.",
    )
    parser.add_argument("list", choices=sorted(LISTS), metavar="LIST", help=", ".join(LISTS))
    parser.add_argument("file", metavar="FILE")
    parser.add_argument(
        "--as-of",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the date the list is as of (default: the latest date in it)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=_run_update)


def _run_update(args: argparse.Namespace) -> int:
    from gateway import codes
    from gateway.codes import published

    with open_input(args.file) as handle:
        data = handle.read()
    shipped = published.shipped_list(args.list).entries
    try:
        installed = published.install(args.list, data, name=args.file, as_of=args.as_of)
    except published.ListFileError as exc:
        sys.stderr.write(f"gateway codes update: {exc}\n")
        return EXIT_INVALID
    codes.reload()
    new = sorted(set(installed.entries) - set(shipped))
    changed = sorted(
        c
        for c, e in installed.entries.items()
        if c in shipped and (e.description, e.status) != (shipped[c].description, shipped[c].status)
    )
    document = {
        "list": args.list,
        "installed": installed.path,
        "rows": len(installed.entries),
        "as_of": installed.as_of,
        "new_codes": new,
        "changed_codes": changed,
        "sha256": installed.sha256,
    }
    lines = [
        f"installed {len(installed.entries)} {args.list} codes into {installed.path}",
        f"  as of {installed.as_of}; {len(new)} new, {len(changed)} changed against the shipped "
        "list; codes only the shipped list has stay known",
    ]
    if new:
        lines.append(f"  new: {', '.join(new[:20])}" + (" ..." if len(new) > 20 else ""))
    return _emit(args, document, lines, True)


# ------------------------------------------------------------------------------- icd


def _register_icd(lookups: Subparsers) -> None:
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


def _register_search(lookups: Subparsers) -> None:
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
    """``gateway codes search`` (the console's look-up calls the same ``icd_matches``)."""
    from gateway.codes.lookup import icd_matches

    rows = [
        {"code": m.code, "description": m.description, "billable": m.billable}
        for m in icd_matches(args.words, args.date, limit=args.limit)
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
