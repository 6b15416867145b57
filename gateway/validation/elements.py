"""Element checks: pyx12's element, composite and segment rules (``map_if``) for usage, length,
character set, code lists, data types (AN, ID, N0-N9, R, DT, TM, RD8), regular expressions and
the five syntax notes, with a generated straight-line "nothing to report" test per segment spec."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from gateway.validation.spec import CompositeSpec, ElementSpec, SegmentSpec
from gateway.validation.syntax import describe, holds
from gateway.x12 import DefectCode

_DATE_TYPES = ("RD8", "DT", "D8", "D6")
_NUMBER = re.compile(r"^-?[0-9]+")
_REAL = re.compile(r"^-?[0-9]*(\.[0-9]+)?")
# pyx12's extended 5010 character set: anything else in an AN / ID value is an invalid character
_BAD_CHAR = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>^`#$]""", re.ASCII)
_NOT_DIGIT = re.compile(r"[^0-9]+")
_NUMBER_FULL = re.compile(r"-?[0-9]+").fullmatch
_REAL_FULL = re.compile(r"-?[0-9]*(\.[0-9]+)?").fullmatch
_CONTROL = {
    "\x07": "BEL",
    "\x09": "HT",
    "\x0a": "LF",
    "\x0b": "VT",
    "\x0c": "FF",
    "\x0d": "CR",
    "\x1c": "FS",
    "\x1d": "GS",
    "\x1e": "RS",
    "\x1f": "US",
    "\x01": "SOH",
    "\x02": "STX",
    "\x03": "ETX",
    "\x04": "EOT",
    "\x05": "ENQ",
    "\x06": "ACK",
    "\x11": "DC1",
    "\x12": "DC2",
    "\x13": "DC3",
    "\x14": "DC4",
    "\x15": "NAK",
    "\x16": "SYN",
    "\x17": "ETB",
}
_CONTROL_RE = re.compile("[" + "".join(_CONTROL) + "]")

#: Codes pyx12's external lists are too old to hold, added to them (the lists are on by default,
#: so a valid address must not be refused): Canada's current province codes QC (Quebec, pyx12
#: has the retired PQ), NL (Newfoundland and Labrador, pyx12 has NF) and NU (Nunavut, 1999).
_CURRENT_CODES: dict[str, frozenset[str]] = {"states": frozenset({"QC", "NL", "NU"})}


def with_current_codes(external: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """pyx12's external code sets with ``_CURRENT_CODES`` added."""
    return {name: codes | _CURRENT_CODES.get(name, frozenset()) for name, codes in external.items()}


@dataclass(frozen=True, slots=True)
class ElementFinding:
    """An element-level finding before it is placed in a file (cached per node and text)."""

    code: DefectCode
    message: str
    element: int | None = None
    component: int | None = None


def _valid_time(value: str) -> bool:
    if _NOT_DIGIT.search(value):
        return False
    if value[0:2] > "23" or value[2:4] > "59":
        return False
    return len(value) <= 4 or (6 <= len(value) <= 8 and value[4:6] <= "59")


def _valid_date(data_type: str, value: str) -> bool:
    if data_type == "D8" and len(value) != 8:
        return False
    if data_type == "D6" and len(value) != 6:
        return False
    if _NOT_DIGIT.search(value) or len(value) not in (6, 8, 12):
        return False
    if len(value) == 6:
        value = ("20" if int(value[0:2]) < 50 else "19") + value
    year, month, day = int(value[0:4]), int(value[4:6]), int(value[6:8])
    if year < 1800 or not 1 <= month <= 12:
        return False
    if month in (1, 3, 5, 7, 8, 10, 12):
        last = 31
    elif month in (4, 6, 9, 11):
        last = 30
    elif year % 4 == 0 and not (year % 100 == 0 and year % 400 != 0):
        last = 29
    else:
        last = 28
    if not 1 <= day <= last:
        return False
    return len(value) != 12 or _valid_time(value[8:12])


def _valid_type(value: str, data_type: str | None) -> bool:
    """pyx12's ``IsValidDataType`` (5010 extended character set)."""
    if not data_type:
        return True
    if data_type[0] == "N":
        found = _NUMBER.match(value)
        return found is not None and found.group(0) == value
    if data_type == "R":
        found = _REAL.match(value)
        return found is not None and found.group(0) == value
    if data_type in ("ID", "AN"):
        return _BAD_CHAR.search(value) is None
    if data_type == "RD8":
        parts = value.split("-")
        return len(parts) == 2 and all(_valid_date("D8", p) for p in parts)
    if data_type in ("DT", "D8", "D6"):
        return _valid_date(data_type, value)
    if data_type == "TM":
        return _valid_time(value)
    return data_type == "B"


def _never(value: str) -> bool:
    return False


_UNSET = object()


class ElementChecker:
    """pyx12's element, composite and segment checks (``map_if``), producing ``ElementFinding``s."""

    def __init__(self, external: dict[str, frozenset[str]] | None) -> None:
        self.external = external  # None: external code sets are not checked
        self.regex: dict[str, re.Pattern[str]] = {}
        self._fast: dict[int, Callable[[list[str], str], bool] | None] = {}

    # -- the fast path: a conservative "certainly nothing to report" test --------------------
    def clean(self, spec: SegmentSpec, els: list[str], sub: str) -> bool:
        """True only when ``segment`` would find nothing (most segments); else run ``segment``."""
        fast = self._fast.get(id(spec), _UNSET)
        if fast is _UNSET:
            fast = self._fast[id(spec)] = self._compile(spec)
        if fast is None:
            return False
        assert callable(fast)
        return bool(fast(els, sub))

    @staticmethod
    def _composite_ok(
        parts: tuple[tuple[Callable[[str], bool], bool], ...], usage: str, value: str, sub: str
    ) -> bool:
        if not value or not value.strip(sub):
            return usage != "R"
        if usage == "N":
            return False
        comps = value.split(sub)
        if len(comps) > len(parts):
            return False
        for j, (check, needed) in enumerate(parts):
            part = comps[j] if j < len(comps) else ""
            if part:
                if not check(part):
                    return False
            elif needed:
                return False
        return True

    def _compile(self, spec: SegmentSpec) -> Callable[[list[str], str], bool] | None:
        """Generate the segment's fast test as straight-line Python (one function per spec)."""
        if spec.id == "DTP" or any(
            isinstance(c, ElementSpec) and c.data_ele in ("1250", "1251") for c in spec.elements
        ):
            return None  # date-format qualified values: the exact path (memoised) handles them
        size = len(spec.elements)
        usage = [child.usage for child in spec.elements]
        tail_ok = [True] * (size + 1)  # the elements after the n present may all be absent
        for n in range(size - 1, -1, -1):
            tail_ok[n] = tail_ok[n + 1] and usage[n] != "R"
        names: dict[str, object] = {"TAIL": tuple(tail_ok), "BAD": _BAD_CHAR.search}
        # absent trailing elements read as empty (which they are to X12): pad, then check all
        width = max([size, *(p for note in spec.syntax for p in note.positions)])
        lines = [
            "def clean(els, sub):",
            "    n = len(els)",
            f"    if n > {size} or not TAIL[n]:",
            "        return False",
            f"    if n < {width}:",
            f"        els = els + [''] * ({width} - n)",
        ]
        for i, child in enumerate(spec.elements):
            if isinstance(child, CompositeSpec):
                parts = tuple(
                    (self._value_check(c), c.usage == "R" and (c.seq != 1 or child.usage == "R"))
                    for c in child.components
                )
                names[f"P{i}"] = parts
                lines.append(f"    if not COMP(P{i}, {child.usage!r}, els[{i}], sub):")
                lines.append("        return False")
                continue
            lines.append(f"    v = els[{i}]")
            lines.append("    if v:")
            lines.append(f"        if sub in v or not ({self._inline(child, i, names)}):")
            lines.append("            return False")
            if child.usage == "R":
                lines.append("    else:")
                lines.append("        return False")
        names["COMP"] = self._composite_ok
        for k, note in enumerate(spec.syntax):
            flags = []
            for p in note.positions:
                flags.append(f"f{k}_{p}")
                lines.append(f"    f{k}_{p} = els[{p - 1}].rstrip(sub) != ''")
            total = " + ".join(flags)
            first, rest = flags[0], flags[1:]
            test = {
                "P": f"({total}) not in (0, {len(flags)})",
                "R": f"not ({' or '.join(flags)})",
                "E": f"({total}) > 1",
                "C": f"{first} and not ({' and '.join(rest) or 'True'})",
                "L": f"{first} and not ({' or '.join(rest) or 'False'})",
            }[note.kind]
            lines.append(f"    if {test}:")
            lines.append("        return False")
        lines.append("    return True")
        exec("\n".join(lines), names)  # noqa: S102 -- our own generated code, map data as names
        return cast(Callable[[list[str], str], bool], names["clean"])

    def _inline(self, spec: ElementSpec, i: int, names: dict[str, object]) -> str:
        """A Python expression for "value ``v`` of this element draws no finding"."""
        if spec.usage == "N":
            return "False"
        data_type = spec.data_type or ""
        if spec.codes and spec.external is None:
            check = self._value_check(spec)
            names[f"G{i}"] = frozenset(c for c in spec.codes if check(c))
            return f"v in G{i}"
        if (
            data_type in ("AN", "ID")
            and not spec.codes
            and spec.external is None
            and not spec.regex
        ):
            # letters and digits alone are always in the character set; else the full test
            return (
                f"{spec.min_len} <= len(v) <= {spec.max_len} and "
                "((v.isalnum() and v.isascii()) or (BAD(v) is None and v[-1] != ' '))"
            )
        names[f"C{i}"] = self._value_check(spec)
        if not spec.codes and spec.external is None and not spec.regex:
            low, high = spec.min_len, spec.max_len
            if data_type == "R":  # plain amounts first: digits with at most one inner point
                return (
                    f"(v.isascii() and v.replace('.', '', 1).isdigit() and v[-1] != '.' and "
                    f"{low} <= len(v) - ('.' in v) <= {high}) or C{i}(v)"
                )
            if data_type[:1] == "N":
                return f"(v.isascii() and v.isdigit() and {low} <= len(v) <= {high}) or C{i}(v)"
        return f"C{i}(v)"

    def _value_check(self, spec: ElementSpec) -> Callable[[str], bool]:
        """A predicate that is True only when the non-empty ``value`` draws no finding."""
        if spec.usage == "N":
            return _never
        low, high, data_type = spec.min_len, spec.max_len, spec.data_type or ""
        codes = frozenset(spec.codes)
        check_codes = bool(codes) or spec.external is not None
        table: frozenset[str] | None = None
        if spec.external is not None and self.external is not None:
            table = self.external.get(spec.external)
        pattern = re.compile(spec.regex, re.S) if spec.regex else None
        numeric = data_type == "R" or data_type[:1] == "N"
        text_type = data_type in ("AN", "ID")
        known: dict[str, bool] = {}

        bad = _BAD_CHAR.search
        if text_type and not check_codes and pattern is None:

            def text_check(value: str) -> bool:
                return low <= len(value) <= high and bad(value) is None and value[-1] != " "

            return text_check
        if numeric and not check_codes and pattern is None:
            whole = _NUMBER_FULL if data_type != "R" else _REAL_FULL

            def number_check(value: str) -> bool:
                length = len(value.replace("-", "").replace(".", ""))
                return low <= length <= high and whole(value) is not None

            return number_check

        def check(value: str) -> bool:
            if (
                check_codes
                and value not in codes
                and (spec.external is None or (table is not None and value not in table))
            ):
                return False
            length = len(value.replace("-", "").replace(".", "")) if numeric else len(value)
            if length < low or length > high:
                return False
            if text_type:
                if _BAD_CHAR.search(value) is not None or value[-1] == " ":
                    return False
            elif data_type:
                ok = known.get(value)
                if ok is None:
                    ok = _CONTROL_RE.search(value) is None and _valid_type(value, data_type)
                    if len(known) < 4096:
                        known[value] = ok
                if not ok:
                    return False
            elif _CONTROL_RE.search(value) is not None:
                return False
            return pattern is None or pattern.search(value) is not None

        if codes and spec.external is None:
            good = frozenset(c for c in codes if check(c))  # codes that pass every other check
            return good.__contains__
        return check

    def segment(
        self, spec: SegmentSpec, tag: str, els: list[str], sub: str | None
    ) -> list[ElementFinding]:
        out: list[ElementFinding] = []
        children = spec.elements
        count = len(children)
        if len(els) > count:
            out.append(
                ElementFinding(
                    DefectCode.IK304_8,
                    f"{spec.name} ({tag}) has {len(els)} elements; the guide defines {count} "
                    "(too many data elements).",
                )
            )
        dtype: list[str] = []
        type_list: list[str] = []
        for i in range(min(len(els), count)):
            child = children[i]
            raw = els[i]
            if isinstance(child, CompositeSpec):
                comps = raw.split(sub) if sub is not None else [raw]
                if len(comps) > len(child.components) and child.usage != "N":
                    out.append(
                        ElementFinding(
                            DefectCode.IK403_13,
                            f"{child.name} ({tag}{i + 1:02d}) has {len(comps)} components; the "
                            f"guide defines {len(child.components)}.",
                            i + 1,
                        )
                    )
                    comps = comps[: len(child.components)]
                self._composite(child, comps, tag, out)
                continue
            if i == 1 and tag == "DTP":
                value = raw.rstrip(sub) if sub else raw
                if value in ("RD8", "D8", "D6", "DT", "TM"):
                    dtype = [value]
            if child.data_ele == "1250":
                type_list.extend(child.codes)
            if sub is not None and sub in raw:
                out.append(
                    ElementFinding(
                        DefectCode.IK403_6,
                        f"{child.name} ({child.ref}) holds a composite where the guide defines "
                        "a simple element.",
                        i + 1,
                    )
                )
                continue
            if i == 2 and tag == "DTP":
                self._element(child, raw, None, dtype, out)
            elif child.data_ele == "1251" and type_list:
                self._element(child, raw, None, type_list, out)
            else:
                self._element(child, raw, None, None, out)
        for i in range(min(len(els), count), count):
            child = children[i]
            if isinstance(child, CompositeSpec):
                self._composite(child, None, tag, out)
            else:
                self._element(child, "", None, None, out)
        if spec.syntax:

            def present(position: int) -> bool:
                if position > len(els):
                    return False
                value = els[position - 1]
                return bool(value.rstrip(sub) if sub else value)

            for note in spec.syntax:
                if not holds(note, present):
                    out.append(
                        ElementFinding(
                            DefectCode.IK304_8,
                            f"{spec.name} ({tag}) breaks syntax note {describe(note, tag)}.",
                        )
                    )
        return out

    def _composite(
        self, spec: CompositeSpec, comps: list[str] | None, tag: str, out: list[ElementFinding]
    ) -> None:
        empty = comps is None or not any(comps)
        if empty and spec.usage in ("N", "S"):
            return
        if spec.usage == "R" and empty:
            out.append(
                ElementFinding(
                    DefectCode.IK403_1,
                    f"Required composite {spec.name} ({tag}{spec.seq:02d}) is missing.",
                    spec.seq,
                )
            )
            return
        if comps is None:
            return
        if spec.usage == "N" and not empty:
            out.append(
                ElementFinding(
                    DefectCode.IK304_8,
                    f"Composite {spec.name} ({tag}{spec.seq:02d}) is marked Not Used in the guide.",
                )
            )
            return
        parts = spec.components
        for i, part in enumerate(parts):
            value = comps[i] if i < len(comps) else ""
            self._element(part, value, spec, None, out)

    def _element(
        self,
        spec: ElementSpec,
        value: str,
        composite: CompositeSpec | None,
        type_list: list[str] | None,
        out: list[ElementFinding],
    ) -> None:
        element, component = (composite.seq, spec.seq) if composite else (spec.seq, None)
        where = spec.ref
        if value == "":
            if spec.usage == "R" and (spec.seq != 1 or composite is None or composite.usage == "R"):
                out.append(
                    ElementFinding(
                        DefectCode.IK403_1,
                        f"Required element {spec.name} ({where}) is missing.",
                        element,
                        component,
                    )
                )
            return
        if spec.usage == "N":
            out.append(
                ElementFinding(
                    DefectCode.IK403_I10,
                    f"{spec.name} ({where}) is marked Not Used in the guide but has a value.",
                    element,
                    component,
                )
            )
            return
        data_type = spec.data_type
        shown = f" {value!r}" if data_type == "ID" else ""  # codes are safe to show, data is not
        if data_type is not None and (data_type == "R" or data_type[0] == "N"):
            length = len(value.replace("-", "").replace(".", ""))
        else:
            length = len(value)
        if length < spec.min_len:
            out.append(
                ElementFinding(
                    DefectCode.IK403_4,
                    f"{spec.name} ({where}) is too short: {length} characters, at least "
                    f"{spec.min_len}.",
                    element,
                    component,
                )
            )
        if length > spec.max_len:
            out.append(
                ElementFinding(
                    DefectCode.IK403_5,
                    f"{spec.name} ({where}) is too long: {length} characters, at most "
                    f"{spec.max_len}.",
                    element,
                    component,
                )
            )
        control = _CONTROL_RE.search(value)
        if control is not None:
            out.append(
                ElementFinding(
                    DefectCode.IK403_6,
                    f"{spec.name} ({where}) holds a control character "
                    f"<{_CONTROL[control.group(0)]}>.",
                    element,
                    component,
                )
            )
            return
        if data_type in ("AN", "ID") and value[-1] == " " and len(value.rstrip()) >= spec.min_len:
            out.append(
                ElementFinding(
                    DefectCode.IK403_6,
                    f"{spec.name} ({where}) has trailing spaces.",
                    element,
                    component,
                )
            )
        if spec.codes or spec.external is not None:
            ok = value in spec.codes
            if not ok and spec.external is not None:
                table = self.external.get(spec.external) if self.external is not None else None
                ok = table is None or value in table
            if not ok:
                out.append(
                    ElementFinding(
                        DefectCode.IK403_7,
                        f"{spec.name} ({where}):{shown or ' the value'} is not a valid code here.",
                        element,
                        component,
                    )
                )
        if not _valid_type(value, data_type):
            if data_type in _DATE_TYPES:
                code, what = DefectCode.IK403_8, "is not a valid date"
            elif data_type == "TM":
                code, what = DefectCode.IK403_9, "is not a valid time"
            else:
                code, what = DefectCode.IK403_6, f"has characters not allowed in type {data_type}"
            out.append(ElementFinding(code, f"{spec.name} ({where}) {what}.", element, component))
        if type_list and not any(_valid_type(value, t) for t in type_list):
            if "TM" in type_list:
                out.append(
                    ElementFinding(
                        DefectCode.IK403_9,
                        f"{spec.name} ({where}) is not a valid time.",
                        element,
                        component,
                    )
                )
            elif any(t in type_list for t in _DATE_TYPES):
                out.append(
                    ElementFinding(
                        DefectCode.IK403_8,
                        f"{spec.name} ({where}) is not a valid date in the format "
                        f"{'/'.join(type_list)}.",
                        element,
                        component,
                    )
                )
        if spec.regex:
            pattern = self.regex.get(spec.regex)
            if pattern is None:
                pattern = self.regex[spec.regex] = re.compile(spec.regex, re.S)
            if not pattern.search(value):
                out.append(
                    ElementFinding(
                        DefectCode.IK403_7,
                        f"{spec.name} ({where}) does not match the guide's pattern.",
                        element,
                        component,
                    )
                )
