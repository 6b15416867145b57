"""Every supported map compiled for walking, with the element checkers, shared by the runs of a
process (``shared_runtime()``)."""

from __future__ import annotations

from functools import lru_cache

from gateway.validation.compiled import specs as load_compiled_specs
from gateway.validation.elements import ElementChecker, with_current_codes
from gateway.validation.mapwalk import Program
from gateway.validation.spec import CONTROL_MAP, Specs


class Runtime:
    """Every supported map compiled, sharing one table of counter slots (pyx12 counts by path)."""

    def __init__(self, specs: Specs) -> None:
        self.specs = specs
        self.slots: dict[str, int] = {"/": 0}
        self.programs = {name: Program(spec, self.slots) for name, spec in specs.maps.items()}
        self.control = self.programs[CONTROL_MAP]
        self._checkers: dict[bool, ElementChecker] = {}
        parents: list[int] = [-1] * len(self.slots)
        for path, slot in self.slots.items():
            if path != "/":
                parent = path.rsplit("/", 1)[0] or "/"
                parents[slot] = self.slots.setdefault(parent, len(self.slots))
        parents.extend([0] * (len(self.slots) - len(parents)))
        self.parents = parents

    def checker(self, external_codes: bool) -> ElementChecker:
        """The element checker (shared, with its compiled fast paths) for one option set."""
        found = self._checkers.get(external_codes)
        if found is None:
            codes = with_current_codes(self.specs.external_codes) if external_codes else None
            found = self._checkers[external_codes] = ElementChecker(codes)
        return found

    def program_for_group(
        self, interchange_version: str, group_version: str, functional_id: str
    ) -> Program | None:
        """The compiled guide for a functional group: ISA12 (``00501``), GS08 (``005010X222A1``)
        and GS01 (``HC``) looked up in pyx12's ``maps.xml`` (there: icvn, vriic and fic)."""
        for entry in self.specs.index:
            if (
                entry.icvn == interchange_version
                and entry.vriic == group_version
                and entry.fic == functional_id
            ):
                return self.programs.get(entry.file)
        return None


@lru_cache(maxsize=1)
def shared_runtime() -> Runtime:
    return Runtime(load_compiled_specs())
