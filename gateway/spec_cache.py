"""Settings: where the validator's compiled specs are kept between runs.

``gateway.validation.compiled``'s specs are pickled privately in the user's cache folder
(``GATEWAY_CACHE_DIR``, else ``$XDG_CACHE_HOME/x12-claim-gateway`` or
``~/.cache/x12-claim-gateway``), one file per pyx12 version and spec format. Nothing is ever
written into site-packages. The folder is 0o700 and the file 0o600, and a file is unpickled only
when it belongs to the current user; a missing, stale or unreadable file is rebuilt from the maps.
The CLI and the benches install it at start (``install_spec_cache``).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from pathlib import Path

from gateway.validation.compiled import use_spec_cache
from gateway.validation.spec import Specs


def default_cache_dir() -> Path:
    """Where compiled specs are kept: ``GATEWAY_CACHE_DIR``, else the XDG user cache folder."""
    named = os.environ.get("GATEWAY_CACHE_DIR")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "x12-claim-gateway"


class SpecFileCache:
    """Compiled specs as private pickle files in one folder (a ``compiled.SpecCache``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        """The file the specs under ``key`` are kept in."""
        return self.folder / f"{key}.pickle"

    def load(self, key: str) -> Specs | None:
        """The specs kept under ``key``; None when missing, damaged or someone else's."""
        path = self.path(key)
        try:
            info = path.stat()
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                return None  # someone else's file: never unpickle it
            with path.open("rb") as fh:
                loaded = pickle.load(fh)  # noqa: S301 -- our own private cache file, owner-checked
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            return None
        return loaded if isinstance(loaded, Specs) else None

    def store(self, key: str, specs: Specs) -> None:
        """Keep the specs under ``key``; a read-only home is fine (the maps are parsed again)."""
        path = self.path(key)
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
            return


def install_spec_cache(folder: Path | None = None) -> SpecFileCache:
    """Keep the validator's compiled specs in ``folder`` (default: ``default_cache_dir()``)."""
    cache = SpecFileCache(folder or default_cache_dir())
    use_spec_cache(cache)
    return cache
