"""pyx12 as the reference TR3 checker: bytes in, our located ``Defect``s out.

pyx12's ``x12n_document`` validates a whole file against its implementation-guide maps. The adapter
runs it on bytes in memory (it never writes a ``.999`` beside anything: pyx12's 999 generation
breaks on conformant 5010 files, and ``x12valid``'s exit code lies), reads the findings its error
handler collected (the ``errh_json`` visitor's tree of interchange, group, set, segment and element
errors) and turns each into a ``Defect`` with the segment, element and component positions.

pyx12 puts the offending values in its messages and logs (names, member ids: PHI), so the adapter
writes its own messages from the code and the guide's element names, and silences the ``pyx12``
logger. It is slow (about 0.15 MB/s) and CPU-bound: call ``check_in_thread`` (a worker thread) or
``check`` from a worker of your own, never on an event loop.

>>> report = check(open("claims.x12", "rb").read(), file="claims.x12")   # doctest: +SKIP
>>> report.ok, [str(d) for d in report.defects]                         # doctest: +SKIP
(True, [])
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gateway.x12 import Defect, DefectCode, Location, read_segments

__all__ = ["Pyx12Report", "check", "check_in_thread", "shutdown"]


class _QuietPyx12Logs:
    """pyx12 logs every finding with the offending value in it (PHI); we report them as defects
    instead. While any check runs (threads may overlap), the ``pyx12`` logger keeps its records to
    itself: a null handler, no propagation to the application's handlers. When the last check
    ends, the logger is as it was: nothing is reconfigured at import."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._handler = logging.NullHandler()
        self._propagate = True

    def __enter__(self) -> None:
        with self._lock:
            if self._running == 0:
                logger = logging.getLogger("pyx12")
                self._propagate = logger.propagate
                logger.addHandler(self._handler)
                logger.propagate = False
            self._running += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0:
                logger = logging.getLogger("pyx12")
                logger.removeHandler(self._handler)
                logger.propagate = self._propagate


_quiet_pyx12_logs = _QuietPyx12Logs()

_SEGMENT_CODES: dict[str, str] = {
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over its maximum times",
    "5": "segment exceeds its maximum use",
    "6": "segment not in the defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
}
_ELEMENT_CODES: dict[str, str] = {
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
}
# pyx12's own segment-level codes (not in the 999 vocabulary); their texts hold counts, not data.
_PYX12_SEGMENT_CODES: dict[str, tuple[DefectCode, str]] = {
    "SEG1": (DefectCode.TRAILING_SEPARATOR, "segment ends with empty elements"),
    "HL1": (DefectCode.IK304_8, "HL01 does not count the HL segments"),
    "HL2": (DefectCode.IK304_8, "HL02 names no earlier HL01"),
    "LX": (DefectCode.IK304_8, "LX01 does not count the service lines of the claim"),
}


@dataclass(frozen=True, slots=True)
class Pyx12Report:
    """What pyx12 found in one file: ``ok`` only when it found nothing at all."""

    ok: bool
    defects: tuple[Defect, ...] = ()
    seconds: float = 0.0
    file: str | None = None
    ack_codes: dict[str, str] = field(default_factory=dict)
    """pyx12's verdict per transaction set, ``"<GS06>/<ST02>" -> A|E|R``."""


def check(data: bytes, *, file: str | None = None) -> Pyx12Report:
    """Validate X12 ``data`` with pyx12; every finding becomes a located ``Defect``.

    Never raises for bad input: an unreadable file or a pyx12 failure is reported as a defect.
    """
    with _quiet_pyx12_logs:
        return _check(data, file)


def _check(data: bytes, file: str | None) -> Pyx12Report:
    import pyx12.errors  # pyx12 is a heavy import: load it on first use
    import pyx12.params
    import pyx12.x12n_document

    _install_map_cache()
    started = time.perf_counter()
    text = data.decode("utf-8", errors="replace")
    findings = io.StringIO()
    try:
        valid = bool(
            pyx12.x12n_document.x12n_document(
                pyx12.params.ParamsBase(), io.StringIO(text), None, None, None, findings
            )
        )
    except pyx12.errors.EngineError as exc:
        defect = Defect(
            DefectCode.IK502_1,
            f"pyx12 has no implementation guide for this file ({_safe(str(exc))}).",
            Location(file=file),
            hint="Check GS01 and GS08 (the version/release/industry identifier).",
        )
        return Pyx12Report(False, (defect,), time.perf_counter() - started, file)
    except Exception as exc:  # pyx12 fails on malformed input in many ways; report, do not crash
        defect = Defect(
            DefectCode.IK502_5,
            f"pyx12 stopped with an internal error ({type(exc).__name__}) and could not check "
            "the file.",
            Location(file=file),
        )
        return Pyx12Report(False, (defect,), time.perf_counter() - started, file)
    tree_text = findings.getvalue()
    tree: dict[str, Any] = json.loads(tree_text) if tree_text else {"interchanges": []}
    defects, acks = _translate(tree, file)
    if not tree["interchanges"]:
        defects.append(
            Defect(
                DefectCode.NOT_X12,
                "pyx12 does not read this as an X12 file (no ISA header it accepts).",
                Location(file=file),
            )
        )
    elif not valid and not defects:
        defects.append(
            Defect(
                DefectCode.IK502_5,
                "pyx12 judged the file invalid without naming a segment.",
                Location(file=file),
            )
        )
    if defects:
        defects = _place(defects, data)
    return Pyx12Report(not defects, tuple(defects), time.perf_counter() - started, file, acks)


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def check_in_thread(data: bytes, *, file: str | None = None) -> Future[Pyx12Report]:
    """Run ``check`` in the adapter's worker thread; returns its future.

    One worker: pyx12 is pure Python and holds the GIL, so more threads would not go faster; the
    point is to keep the caller (an event loop, or a builder writing the next file) responsive.
    From asyncio: ``await asyncio.wrap_future(check_in_thread(data))``.
    """
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyx12")
        return _executor.submit(check, data, file=file)


def shutdown() -> None:
    """Stop the worker thread (waits for the checks in progress)."""
    global _executor
    with _executor_lock:
        if _executor is not None:
            _executor.shutdown(wait=True)
            _executor = None


# ------------------------------------------------------------------------------ translation


def _translate(tree: dict[str, Any], file: str | None) -> tuple[list[Defect], dict[str, str]]:
    defects: list[Defect] = []
    acks: dict[str, str] = {}
    for isa in tree.get("interchanges", []):
        isa_where = Location(segment_index=_index(isa.get("cur_line")), tag="IEA", file=file)
        for err in isa.get("errors", []):
            code = _code(f"TA1-{err['err_cde']}", DefectCode.TA1_024)
            defects.append(
                Defect(
                    code,
                    f"Interchange {isa.get('isa_trn_set_id')}: {_safe(err['err_str'])}.",
                    isa_where,
                )
            )
        for gs in isa.get("groups", []):
            gs_where = Location(segment_index=_index(gs.get("cur_line")), tag="GE", file=file)
            for err in gs.get("errors", []):
                code = _code(f"AK905-{err['err_cde']}", DefectCode.AK905_1)
                defects.append(
                    Defect(
                        code,
                        f"Group {gs.get('gs_control_num')}: {_safe(err['err_str'])}.",
                        gs_where,
                    )
                )
            for st in gs.get("transactions", []):
                set_id = f"{gs.get('gs_control_num')}/{st.get('trn_set_control_num')}"
                acks[set_id] = str(st.get("ack_code") or "")
                st_where = Location(segment_index=_index(st.get("cur_line")), tag="SE", file=file)
                for err in st.get("errors", []):
                    code = _code(f"IK502-{err['err_cde']}", DefectCode.IK502_5)
                    defects.append(
                        Defect(
                            code,
                            f"Transaction set {st.get('trn_set_control_num')}: "
                            f"{_safe(err['err_str'])}.",
                            st_where,
                        )
                    )
                for seg in st.get("segments", []):
                    defects.extend(_segment_defects(seg, file))
    return defects, acks


def _segment_defects(seg: dict[str, Any], file: str | None) -> list[Defect]:
    tag = str(seg.get("seg_id") or "")
    name = str(seg.get("name") or tag)
    where = Location(
        segment_index=_index(seg.get("cur_line")),
        tag=tag or None,
        segment_position=seg.get("seg_count"),
        file=file,
    )
    out: list[Defect] = []
    for err in seg.get("errors", []):
        cde = str(err["err_cde"])
        if cde in _PYX12_SEGMENT_CODES:
            code, text = _PYX12_SEGMENT_CODES[cde]
            detail = _safe(err["err_str"]) if cde != "SEG1" else ""
            message = f"{name} ({tag}): {text}" + (f" ({detail})" if detail else "") + "."
        elif cde == "8" and "composite" in str(err["err_str"]).lower():
            # pyx12 files a missing required composite as a segment error with code 8
            code = DefectCode.IK403_1
            message = f"{name} ({tag}): a required composite is missing ({_element_ref(err)})."
        else:
            code = _code(f"IK304-{cde}", DefectCode.IK304_8)
            message = f"{name} ({tag}): {_SEGMENT_CODES.get(cde, 'segment error ' + cde)}."
        out.append(Defect(code, message, where, hint=_HINTS.get(code, "")))
    for ele in seg.get("elements", []):
        ref = f"{tag}{int(ele['ele_pos']):02d}" if ele.get("ele_pos") else tag
        if ele.get("subele_pos"):
            ref += f"-{ele['subele_pos']}"
        ele_where = where.with_element(
            int(ele["ele_pos"]), ele.get("subele_pos"), ele.get("repeat_pos")
        )
        for err in ele.get("errors", []):
            cde = str(err["err_cde"])
            code = _code(f"IK403-{cde}", DefectCode.IK403_7)
            text = _ELEMENT_CODES.get(cde, f"element error {cde}")
            out.append(
                Defect(
                    code,
                    f"{ele.get('name') or ref} ({ref}): {text}.",
                    ele_where,
                    hint=_HINTS.get(code, ""),
                )
            )
    return out


_HINTS: dict[DefectCode, str] = {
    DefectCode.IK403_7: "Use a code from the implementation guide's list for this element.",
    DefectCode.IK403_5: "Shorten the value at its source.",
    DefectCode.IK304_3: "The implementation guide requires this segment here.",
}


def _element_ref(err: dict[str, Any]) -> str:
    text = str(err.get("err_str") or "")
    start, end = text.rfind("("), text.rfind(")")
    return text[start + 1 : end] if 0 <= start < end else "composite"


def _code(value: str, fallback: DefectCode) -> DefectCode:
    try:
        return DefectCode(value)
    except ValueError:
        return fallback


def _index(cur_line: object) -> int | None:
    """pyx12's ``cur_line`` counts segments from 1 in the file; ours count from 0."""
    return cur_line - 1 if isinstance(cur_line, int) and cur_line > 0 else None


def _safe(text: object) -> str:
    """pyx12 envelope messages hold control numbers and counts only; cut any quoted value."""
    value = str(text).rstrip(".")
    return value if len(value) <= 200 else value[:200] + "..."


def _place(defects: list[Defect], data: bytes) -> list[Defect]:
    """Add byte offsets and line numbers to the defects' locations (read the file once more)."""
    wanted = {d.location.segment_index for d in defects if d.location.segment_index is not None}
    if not wanted:
        return defects
    found: dict[int, tuple[int, int, str]] = {}
    reader = read_segments(data)
    for seg in reader:
        if seg.index in wanted:
            found[seg.index] = (seg.offset, seg.line, seg.tag)
    placed: list[Defect] = []
    for d in defects:
        loc = d.location
        spot = found.get(loc.segment_index) if loc.segment_index is not None else None
        if spot is not None:
            loc = Location(
                loc.segment_index,
                spot[0],
                spot[1],
                loc.tag or spot[2],
                loc.segment_position,
                loc.element,
                loc.component,
                loc.repetition,
                loc.loop,
                loc.file,
            )
        placed.append(Defect(d.code, d.message, loc, d.severity, d.hint))
    return placed


# ------------------------------------------------------------------------------ map cache

_map_cache_installed = False
_map_cache_lock = threading.Lock()


def _install_map_cache() -> None:
    """Parse each pyx12 map once per process instead of on every call (0.3-0.5 s each).

    ``x12n_document`` looks ``pyx12.map_if.load_map_file`` up at call time; the maps are read-only
    while a file is validated (walk state lives in the walker, verified for pyx12 4.0.0 by
    ``tests/validation/test_pyx12_adapter.py``), so sharing them between calls is safe.
    """
    global _map_cache_installed
    with _map_cache_lock:
        if _map_cache_installed:
            return
        import pyx12.map_if

        original: Callable[..., Any] = pyx12.map_if.load_map_file
        cache: dict[tuple[str, str | None], Any] = {}
        lock = threading.Lock()

        def load_map_file(map_file: str, param: Any, map_path: str | None = None) -> Any:
            key = (map_file, map_path)
            with lock:
                if key not in cache:
                    cache[key] = original(map_file, param, map_path)
                return cache[key]

        pyx12.map_if.load_map_file = load_map_file
        _map_cache_installed = True
