"""The compiled specs: pyx12's maps parsed once per pyx12 version, then loaded in milliseconds.

Parsing the XML maps takes a few hundred milliseconds. Where the parsed, frozen ``Specs`` are kept
between runs is the caller's decision, not this layer's: an entry point (the CLI, the service, a
benchmark) installs a ``SpecCache`` with ``use_spec_cache`` (``gateway.spec_cache`` keeps
them in the user's private cache folder); without one the maps are simply parsed once per process.
A cache is asked for the specs under ``cache_key()`` (the pyx12 version and this module's format
number) and given freshly parsed ones to keep.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

from gateway.validation.spec import Specs, load_specs

FORMAT = 1  # bump when the spec dataclasses change shape


class SpecCache(Protocol):
    """Somewhere to keep compiled specs between runs."""

    def load(self, key: str) -> Specs | None:
        """The specs kept under ``key``, or None (missing, stale, unreadable or not ours)."""

    def store(self, key: str, specs: Specs) -> None:
        """Keep ``specs`` under ``key`` (failing quietly: the maps can always be parsed again)."""


_installed: list[SpecCache] = []  # at most one: the cache an entry point installed


def pyx12_version() -> str:
    """The installed pyx12 version (the maps come with it)."""
    try:
        return version("pyx12")
    except PackageNotFoundError:
        return "unknown"


def cache_key() -> str:
    """The name compiled specs are kept under: the pyx12 version and this module's format."""
    return f"specs-pyx12-{pyx12_version()}-v{FORMAT}"


def use_spec_cache(cache: SpecCache | None) -> None:
    """Keep compiled specs in ``cache`` from now on (None: parse the maps once per process)."""
    _installed[:] = [cache] if cache is not None else []


def build(cache: SpecCache | None = None) -> Specs:
    """Parse the maps and give them to ``cache`` to keep (returns the fresh specs)."""
    specs = load_specs()
    if cache is not None:
        cache.store(cache_key(), specs)
    return specs


@lru_cache(maxsize=1)
def specs() -> Specs:
    """The specs for the supported guides: from the installed cache when it has them, else parsed
    (and given to the cache)."""
    cache = _installed[0] if _installed else None
    if cache is not None:
        cached = cache.load(cache_key())
        if cached is not None:
            return cached
    return build(cache)
