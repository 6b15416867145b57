"""The compiled spec cache: pyx12's maps parsed once per pyx12 version, then loaded in milliseconds.

Parsing the XML maps takes a few hundred milliseconds; the parsed, frozen ``Specs`` are pickled into
the user's cache folder (``$XDG_CACHE_HOME/x12-claim-gateway`` or ``~/.cache/...``), keyed by the
pyx12 version and this module's format number. Nothing is ever written into site-packages. The
cache is private (folder 0o700, file 0o600) and is read only when it belongs to the current user;
a missing, stale or unreadable cache is rebuilt from the maps.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from gateway.validation.spec import Specs, load_specs

FORMAT = 1  # bump when the spec dataclasses change shape


def pyx12_version() -> str:
    """The installed pyx12 version (the maps come with it)."""
    try:
        return version("pyx12")
    except PackageNotFoundError:
        return "unknown"


def cache_dir() -> Path:
    """Where compiled specs are kept: ``GATEWAY_CACHE_DIR``, else the XDG user cache folder."""
    named = os.environ.get("GATEWAY_CACHE_DIR")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "x12-claim-gateway"


def cache_file(folder: Path | None = None) -> Path:
    """The cache file for the installed pyx12 version."""
    return (folder or cache_dir()) / f"specs-pyx12-{pyx12_version()}-v{FORMAT}.pickle"


def _read(path: Path) -> Specs | None:
    try:
        info = path.stat()
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return None  # someone else's file: never unpickle it
        with path.open("rb") as fh:
            loaded = pickle.load(fh)  # noqa: S301 -- our own private cache file, owner-checked
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return loaded if isinstance(loaded, Specs) else None


def _write(path: Path, specs: Specs) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".specs-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(specs, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return  # a read-only home is fine: we simply parse the maps every time


def build(folder: Path | None = None) -> Specs:
    """Parse the maps and store them in the cache (returns the fresh specs)."""
    specs = load_specs()
    _write(cache_file(folder), specs)
    return specs


@lru_cache(maxsize=1)
def specs() -> Specs:
    """The specs for the supported guides: from the cache when present, else parsed and cached."""
    path = cache_file()
    cached = _read(path)
    if cached is not None:
        return cached
    return build(path.parent)
