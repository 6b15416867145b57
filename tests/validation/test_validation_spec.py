"""pyx12's maps loaded into frozen specs, and the compiled-spec cache."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway.spec_cache import SpecFileCache, default_cache_dir
from gateway.validation import compiled
from gateway.validation.spec import (
    MAXINT,
    SUPPORTED_MAPS,
    CompositeSpec,
    ElementSpec,
    LoopSpec,
    SegmentSpec,
    SpecError,
    load_map,
)

P837 = "837.5010.X222.A1.xml"


@pytest.fixture(scope="module")
def claim_map():  # type: ignore[no-untyped-def]
    """The 837P map."""
    return load_map(P837)


def test_loops_carry_usage_and_repeat(claim_map) -> None:  # type: ignore[no-untyped-def]
    """A loop keeps its usage and repeat count (">1" is unbounded)."""
    billing = claim_map.find("ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A")
    service = claim_map.find("ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2300/2400")
    assert isinstance(billing, LoopSpec)
    assert isinstance(service, LoopSpec)
    assert (billing.usage, billing.repeat) == ("R", MAXINT)
    assert (service.usage, service.repeat) == ("R", 50)


def test_segment_elements_types_and_codes(claim_map) -> None:  # type: ignore[no-untyped-def]
    """NM1 of 2010AA: its qualifier code list, data types and lengths from dataele.xml."""
    nm1 = claim_map.find("ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2010AA/NM1")
    assert isinstance(nm1, SegmentSpec)
    first, qualifier = nm1.elements[0], nm1.elements[7]
    assert isinstance(first, ElementSpec)
    assert isinstance(qualifier, ElementSpec)
    assert (first.codes, first.data_type, first.usage) == (("85",), "ID", "R")
    assert (qualifier.ref, qualifier.data_ele, qualifier.min_len,
                                     qualifier.max_len) == ("NM108", "66", 1, 2)  # fmt: skip
    assert "P0809" in [n.text for n in nm1.syntax]


def test_composites_have_components(claim_map) -> None:  # type: ignore[no-untyped-def]
    """CLM05 is a composite of facility code, qualifier and frequency."""
    clm = claim_map.find("ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2300/CLM")
    assert isinstance(clm, SegmentSpec)
    clm05 = clm.elements[4]
    assert isinstance(clm05, CompositeSpec)
    assert [c.ref for c in clm05.components] == ["CLM05-01", "CLM05-02", "CLM05-03"]


def test_specs_are_frozen(claim_map) -> None:  # type: ignore[no-untyped-def]
    """Specs cannot be changed once loaded."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        claim_map.id = "999"  # type: ignore[misc]


def test_every_supported_map_loads() -> None:
    """Each supported guide's map loads and knows it is for ISA12 00501."""
    assert {"00501"} == {load_map(name).icvn for name in SUPPORTED_MAPS.values()}


def test_bad_map_name_is_refused() -> None:
    """Only a plain file name from the map folder is accepted."""
    with pytest.raises(SpecError):
        load_map("../maps.xml")


def test_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled specs are cached privately per pyx12 version and read back equal."""
    monkeypatch.setenv("GATEWAY_CACHE_DIR", str(tmp_path / "cache"))
    cache = SpecFileCache(default_cache_dir())
    built = compiled.build(cache)
    path = cache.path(compiled.cache_key())
    assert path.parent == tmp_path / "cache"
    assert compiled.pyx12_version() in path.name
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert built == cache.load(compiled.cache_key())


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    """A damaged cache file is not used (the maps are parsed again)."""
    cache = SpecFileCache(tmp_path)
    cache.path(compiled.cache_key()).write_bytes(b"not a pickle")
    assert cache.load(compiled.cache_key()) is None


def test_installed_cache_is_filled_and_then_used(tmp_path: Path) -> None:
    """With a cache installed, the specs are parsed once and kept, then loaded from the cache."""
    cache = SpecFileCache(tmp_path)
    compiled.specs.cache_clear()
    compiled.use_spec_cache(cache)
    try:
        first = compiled.specs()
        assert cache.load(compiled.cache_key()) == first
        compiled.specs.cache_clear()
        assert compiled.specs() == first
    finally:
        compiled.use_spec_cache(None)
        compiled.specs.cache_clear()
