"""``gateway codes``: look codes up in the installed code sets, list the sets, update a list.

``gateway codes hcpcs J1100``, ``modifier 25``, ``carc 45``, ``rarc N206`` show what the data
holds (``--date`` judges validity on a date of service; ``--json`` for machines);
``gateway codes --sets`` lists every installed code set with its version and coverage;
``gateway codes update carc|rarc|claim-status|claim-status-category FILE`` installs a newer list
downloaded from the publisher into the user's data folder. A code the data does not hold exits 1.

Each sub-command is registered by its own ``_register_*`` function so that more can be added
beside them (ICD-10-CM lookups live in their own functions).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from gateway.cli import EXIT_INVALID, EXIT_OK, UsageError
from gateway.cli._common import dumps, open_input

__all__ = ["register", "version_text"]

if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``codes`` command and its sub-commands."""
    parser = subparsers.add_parser(
        "codes",
        help="look up HCPCS, modifier, CARC and RARC codes; list or update the code sets",
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
        out.append(f"{'':<22} {s.title}; {s.rows} rows; {s.origin}")
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
