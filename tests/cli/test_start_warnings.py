"""The gateway starts without asyncssh's CryptographyDeprecationWarnings on stderr (issue 18),
and the filter that silences them is narrow: other warnings still show."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

IMPORT_TRANSPORTS = "import gateway.service.transports"
#: What `gateway run` and `gateway demo` load once they start (their modules import lazily).
IMPORT_SERVICE = "import gateway.service.pipeline, gateway.demo"
CLI = "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))"


def _stderr(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter with every warning shown once; its stderr."""
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    return done.stderr


@pytest.mark.parametrize(
    ("code", "args"),
    [
        (IMPORT_TRANSPORTS, ()),
        (IMPORT_SERVICE, ()),
        (CLI, ("--help",)),
        (CLI, ("run", "--help")),
        (CLI, ("demo", "--help")),
    ],
)
def test_start_prints_no_asyncssh_deprecation_warnings(code: str, args: tuple[str, ...]) -> None:
    """Importing the transports and starting the command line leave stderr empty."""
    assert "" == _stderr(code, *args)


def test_the_filter_does_not_hide_other_deprecation_warnings() -> None:
    """After the import, a CryptographyDeprecationWarning raised elsewhere is still shown."""
    code = (
        "import warnings\n"
        "import gateway.service.transports\n"
        "from cryptography.utils import CryptographyDeprecationWarning\n"
        "warnings.warn('still shown', CryptographyDeprecationWarning)\n"
    )
    assert "still shown" in _stderr(code)
