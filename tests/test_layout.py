"""The tests are laid out like the code, and no module under tests/ imports a test module."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.env import ROOT

TESTS = ROOT / "tests"
#: Folders of tests/ that are not a part of gateway/: whole-service runs, shared helpers, goldens.
NOT_PARTS = {"e2e", "support", "golden"}


def imported_test_modules(path: Path) -> list[str]:
    """The modules ``path`` imports that are test modules (``test_*``), as written there."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names = [base] if _is_test_module(base) else [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found += [f"line {node.lineno}: {name}" for name in names if _is_test_module(name)]
    return found


def _is_test_module(name: str) -> bool:
    """Whether a dotted (maybe relative) module name names a ``test_*`` module or one inside it."""
    return any(part.startswith("test_") for part in name.split("."))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tests.service.test_service import drop", ["line 1: tests.service.test_service"]),
        ("import tests.e2e.test_demo", ["line 1: tests.e2e.test_demo"]),
        ("from tests.e2e import test_demo", ["line 1: tests.e2e.test_demo"]),
        ("from .test_ack import x", ["line 1: .test_ack"]),
        ("from tests.support.service import drop\nimport pytest", []),
        ("from gateway.edits import scrub", []),
    ],
)
def test_the_check_finds_every_way_of_importing_a_test_module(
    source: str, expected: list[str], tmp_path: Path
) -> None:
    """``from``, plain and relative imports of a ``test_*`` module are found; others are not."""
    path = tmp_path / "sample.py"
    path.write_text(source)
    assert expected == imported_test_modules(path)


def test_no_module_under_tests_imports_a_test_module() -> None:
    """Helpers the tests share live in tests/support/, so no test depends on another's module."""
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := imported_test_modules(path))
    }
    assert {} == offenders


def test_every_test_folder_is_a_part_of_the_code() -> None:
    """tests/<part>/ exists only for a gateway/<part>/ (or e2e, support, golden), as a package."""
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    parts = {p.name for p in (ROOT / "gateway").iterdir() if (p / "__init__.py").is_file()}
    assert set() == folders - parts - NOT_PARTS
    packages = {p for p in folders - {"golden"} if not (TESTS / p / "__init__.py").is_file()}
    assert set() == packages
