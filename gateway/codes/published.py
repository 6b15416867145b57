"""The X12 code lists the gateway ships and the user may update: CARC, RARC, claim status (508)
and claim status category (507).

Each list is a TSV with a header ``code, description, start_date, stop_date, status, source``
(``SOURCES.md`` says where every row comes from). ``gateway codes update carc FILE`` checks a
newer list the user downloaded (``parse_list``), and ``install`` writes it, normalised to the same
TSV, into the user's data folder (``user_codes_dir``). Reading (``entries``) lays the user's rows
over the shipped ones, code by code: a code the newer list carries takes its wording, dates and
status; a code only the shipped list knows stays known. Whether a code is active is its
``status``, never an empty stop date (many deactivated codes have no known stop date).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path

from gateway.durable import atomic_write, ensure_private_dir

__all__ = [
    "LISTS",
    "CodeEntry",
    "ListFileError",
    "PublishedList",
    "entries",
    "install",
    "parse_list",
    "reset",
    "user_codes_dir",
    "user_list",
]

COLUMNS = ("code", "description", "start_date", "stop_date", "status", "source")


@dataclass(frozen=True)
class ListKind:
    """One updatable list: its table name, X12 code source, and the shape of its codes."""

    table: str
    title: str
    code_source: str
    shape: re.Pattern[str]
    example: str


LISTS: Mapping[str, ListKind] = {
    "carc": ListKind(
        "carc",
        "Claim adjustment reason codes (CARC)",
        "X12 code source 139",
        re.compile(r"\d{1,3}|[A-Z]\d{1,2}"),
        "45, A1, P32",
    ),
    "rarc": ListKind(
        "rarc",
        "Remittance advice remark codes (RARC)",
        "X12 code source 411 (maintained by CMS)",
        re.compile(r"(M|MA|N)\d{1,3}"),
        "M15, MA130, N206",
    ),
    "claim-status": ListKind(
        "claim_status",
        "Claim status codes",
        "X12 code list 508",
        re.compile(r"\d{1,4}"),
        "21, 673",
    ),
    "claim-status-category": ListKind(
        "claim_status_category",
        "Claim status category codes",
        "X12 code list 507",
        re.compile(r"[A-Z]{1,2}\d{0,2}[A-Z]?"),
        "A1, F3F, R17",
    ),
}
"""The lists ``gateway codes update`` accepts, by the name given on the command line."""

KIND_OF_TABLE: Mapping[str, str] = {kind.table: name for name, kind in LISTS.items()}


class ListFileError(ValueError):
    """A code list file that cannot be installed: where (line, column) and what is wrong."""


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One code of a list: its wording, dates and status (``current``, ``deactivated``...)."""

    code: str
    description: str
    start_date: date | None
    stop_date: date | None
    status: str
    source: str

    @property
    def is_active(self) -> bool:
        """Whether the publisher lists the code as current (the status decides, not the dates)."""
        return self.status == "current"


@dataclass(frozen=True)
class PublishedList:
    """A parsed list: its entries by code, the date it is as of, and where it came from."""

    kind: str
    entries: Mapping[str, CodeEntry]
    as_of: date | None
    origin: str  # "shipped" or "user-updated"
    path: str
    sha256: str = ""
    installed: str = ""


# --------------------------------------------------------------------------------- parsing


def _date(text: str, where: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        if "/" in text:  # x12.org writes MM/DD/YYYY
            return datetime.strptime(text, "%m/%d/%Y").date()
        return date.fromisoformat(text)
    except ValueError:
        raise ListFileError(
            f"{where}: {text!r} is not a date (write YYYY-MM-DD or MM/DD/YYYY)"
        ) from None


def parse_list(kind: str, text: str, *, name: str = "<list>", origin: str = "") -> PublishedList:
    """Read a code list: TSV or CSV with a header naming at least ``code`` and ``description``.

    Optional columns: ``start_date``, ``stop_date`` (YYYY-MM-DD or MM/DD/YYYY), ``status``
    (``current``/``deactivated``; without it a code with a stop date is deactivated) and
    ``source``. Every code must have the list's shape, once. Raises ``ListFileError`` saying
    the line and what to do.
    """
    spec = LISTS[kind]
    text = text.removeprefix("\ufeff")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise ListFileError(f"{name}: the file holds no rows")
    delimiter = "\t" if "\t" in lines[0] else ","
    # TSV is written without quoting (a description may hold a '"'); CSV quotes its commas
    if delimiter == "\t":
        reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(text), delimiter=",", quoting=csv.QUOTE_MINIMAL)
    header: list[str] | None = None
    found: dict[str, CodeEntry] = {}
    for row in reader:
        line = reader.line_num
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if header is None:
            header = [cell.strip().lower().replace(" ", "_") for cell in row]
            missing = [c for c in ("code", "description") if c not in header]
            if missing:
                raise ListFileError(
                    f"{name}:{line}: the header has no {' or '.join(missing)} column "
                    f"(found {', '.join(header)}); the first row must name the columns: "
                    f"{', '.join(COLUMNS)}"
                )
            continue
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        code = cells.get("code", "")
        where = f"{name}:{line}"
        if not spec.shape.fullmatch(code):
            raise ListFileError(
                f"{where}: {code!r} is not shaped like a {spec.title} code (e.g. {spec.example}); "
                f"is this the {kind} list?"
            )
        if code in found:
            raise ListFileError(f"{where}: code {code} is listed twice")
        start = _date(cells.get("start_date", ""), f"{where} start_date")
        stop = _date(cells.get("stop_date", ""), f"{where} stop_date")
        status = cells.get("status", "").lower() or ("deactivated" if stop else "current")
        found[code] = CodeEntry(
            code, " ".join(cells.get("description", "").split()), start, stop, status,
            cells.get("source", ""),
        )  # fmt: skip
    if not found:
        raise ListFileError(f"{name}: the file has a header but no codes")
    dates = [d for e in found.values() for d in (e.start_date, e.stop_date) if d is not None]
    return PublishedList(kind, found, max(dates) if dates else None, origin, name)


# --------------------------------------------------------------------------- where it lives


def user_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The user's data folder: ``GATEWAY_DATA_DIR``, else ``$XDG_DATA_HOME/x12-claim-gateway``
    (``~/.local/share/x12-claim-gateway`` when XDG_DATA_HOME is not set)."""
    env = os.environ if environ is None else environ
    explicit = env.get("GATEWAY_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return Path(xdg) / "x12-claim-gateway"


def user_codes_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where updated code lists are installed: ``codes/`` in the user's data folder."""
    return user_data_dir(environ) / "codes"


def _meta_path(folder: Path, table: str) -> Path:
    return folder / f"{table}.meta.json"


@cache
def shipped_list(kind: str) -> PublishedList:
    """The list shipped in the package (see ``SOURCES.md``)."""
    table = LISTS[kind].table
    text = resources.files(__package__).joinpath(f"{table}.tsv").read_text(encoding="utf-8")
    parsed = parse_list(kind, text, name=f"{table}.tsv", origin="shipped")
    return PublishedList(kind, parsed.entries, SHIPPED_AS_OF[kind], "shipped", parsed.path)


SHIPPED_AS_OF: Mapping[str, date] = {
    "carc": date(2026, 8, 17),
    "rarc": date(2026, 8, 17),
    "claim-status": date(2018, 1, 1),
    "claim-status-category": date(2018, 1, 1),
}
"""The date each shipped list is as of (SOURCES.md): the x12.org capture, or the ~2017-2018 text."""


@cache
def user_list(kind: str) -> PublishedList | None:
    """The list the user installed with ``gateway codes update``, if any (None when absent).

    A file that no longer reads is skipped (the shipped list serves) rather than breaking the
    readers of every 835; ``gateway codes --sets`` shows it as unreadable.
    """
    folder = user_codes_dir()
    table = LISTS[kind].table
    path = folder / f"{table}.tsv"
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
        parsed = parse_list(kind, text, name=str(path), origin="user-updated")
    except (OSError, UnicodeDecodeError, ListFileError):
        return None
    meta: dict[str, str] = {}
    try:
        loaded = json.loads(_meta_path(folder, table).read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            meta = {str(k): str(v) for k, v in loaded.items()}
    except (OSError, ValueError):
        meta = {}
    as_of = parsed.as_of
    if meta.get("as_of"):
        try:
            as_of = date.fromisoformat(meta["as_of"])
        except ValueError:
            as_of = parsed.as_of
    return PublishedList(
        kind,
        parsed.entries,
        as_of,
        "user-updated",
        str(path),
        meta.get("sha256", ""),
        meta.get("installed", ""),
    )


@cache
def entries(kind: str) -> Mapping[str, CodeEntry]:
    """Every code of the list, the user's update laid over the shipped list code by code."""
    merged = dict(shipped_list(kind).entries)
    updated = user_list(kind)
    if updated is not None:
        merged.update(updated.entries)
    return merged


def reset() -> None:
    """Forget what was read (after an update, or in tests that change the data folder)."""
    shipped_list.cache_clear()
    user_list.cache_clear()
    entries.cache_clear()


def install(kind: str, data: bytes, *, name: str, as_of: date | None = None) -> PublishedList:
    """Check ``data`` as a ``kind`` list and install it in the user's data folder.

    The file is written normalised (the shipped TSV format), owner-only, by an atomic rename;
    a sidecar ``.meta.json`` records the source name, its SHA-256, the as-of date and when it was
    installed. Raises ``ListFileError`` (nothing written) when the file does not read.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ListFileError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    parsed = parse_list(kind, text, name=name)
    folder = user_codes_dir()
    ensure_private_dir(folder)
    table = LISTS[kind].table
    rows = ["\t".join(COLUMNS)]
    for entry in parsed.entries.values():
        cells = (
            entry.code,
            entry.description.replace("\t", " "),
            entry.start_date.isoformat() if entry.start_date else "",
            entry.stop_date.isoformat() if entry.stop_date else "",
            entry.status,
            entry.source or "user-update",
        )
        rows.append("\t".join(cells))
    meta = {
        "source_file": Path(name).name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "as_of": (as_of or parsed.as_of or date.today()).isoformat(),
        "installed": datetime.now().astimezone().isoformat(timespec="seconds"),
        "rows": str(len(parsed.entries)),
    }
    _write_private(folder / f"{table}.tsv", "\n".join(rows) + "\n")
    _write_private(_meta_path(folder, table), json.dumps(meta, indent=2) + "\n")
    reset()
    installed = user_list(kind)
    assert installed is not None  # just written and checked
    return installed


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` owner-only, through a temporary file and an atomic rename."""
    atomic_write(path, text.encode("utf-8"))
