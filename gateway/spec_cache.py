"""Settings: where the validator's compiled specs and the ICD-10-CM tabular are kept between runs.

``gateway.validation.compiled``'s specs and ``gateway.codes.icd10cm``'s built tabular are pickled
privately in the user's cache folder (``GATEWAY_CACHE_DIR``, else
``$XDG_CACHE_HOME/x12-claim-gateway`` or ``~/.cache/x12-claim-gateway``), one file per pyx12
version and spec format (the tabular: per package versions and tabular format). Nothing is ever
written into site-packages. The folder is 0o700 and each file 0o600, and a file is unpickled only
when it belongs to the current user; a missing, stale or unreadable file is built again. The CLI
and the benches install the caches at start (``install_spec_cache``, ``install_tabular_cache``).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from pathlib import Path

from gateway.codes import icd10cm
from gateway.codes.icd10cm import Tabular
from gateway.validation.compiled import use_spec_cache
from gateway.validation.spec import Specs


def default_cache_dir() -> Path:
    """Where compiled specs are kept: ``GATEWAY_CACHE_DIR``, else the XDG user cache folder."""
    named = os.environ.get("GATEWAY_CACHE_DIR")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "x12-claim-gateway"


def _unpickle(path: Path) -> object | None:
    """What the private pickle file at ``path`` holds; None when missing, damaged or someone
    else's."""
    try:
        info = path.stat()
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return None  # someone else's file: never unpickle it
        with path.open("rb") as fh:
            loaded: object = pickle.load(fh)  # noqa: S301 -- our own private cache file, owner-checked
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return loaded


def _pickle_privately(path: Path, value: object) -> None:
    """Write ``value`` to ``path`` (0o600, atomically, in a 0o700 folder); a read-only home is
    fine (the value is simply built again)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".specs-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return


class SpecFileCache:
    """Compiled specs as private pickle files in one folder (a ``compiled.SpecCache``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        """The file the specs under ``key`` are kept in."""
        return self.folder / f"{key}.pickle"

    def load(self, key: str) -> Specs | None:
        """The specs kept under ``key``; None when missing, damaged or someone else's."""
        loaded = _unpickle(self.path(key))
        return loaded if isinstance(loaded, Specs) else None

    def store(self, key: str, specs: Specs) -> None:
        """Keep the specs under ``key``; a read-only home is fine (the maps are parsed again)."""
        _pickle_privately(self.path(key), specs)


def install_spec_cache(folder: Path | None = None) -> SpecFileCache:
    """Keep the validator's compiled specs in ``folder`` (default: ``default_cache_dir()``)."""
    cache = SpecFileCache(folder or default_cache_dir())
    use_spec_cache(cache)
    return cache


class TabularFileCache:
    """The built ICD-10-CM tabular as a private pickle file in one folder (an
    ``icd10cm.TabularCache``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        """The file the tabular under ``key`` is kept in."""
        return self.folder / f"{key}.pickle"

    def load(self, key: str) -> Tabular | None:
        """The tabular kept under ``key``; None when missing, damaged or someone else's."""
        loaded = _unpickle(self.path(key))
        return loaded if isinstance(loaded, Tabular) else None

    def store(self, key: str, built: Tabular) -> None:
        """Keep the tabular under ``key``; a read-only home is fine (it is built again)."""
        _pickle_privately(self.path(key), built)


def install_tabular_cache(folder: Path | None = None) -> TabularFileCache:
    """Keep the built ICD-10-CM tabular in ``folder`` (default: ``default_cache_dir()``)."""
    cache = TabularFileCache(folder or default_cache_dir())
    icd10cm.use_cache(cache)
    return cache
