"""Shared fixtures: the public corpus (GATEWAY_CORPUS) and the project's folders."""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.x12.tokenizer import PURE_PYTHON_ENV, use_accelerated
from tests.support.browser import (  # noqa: F401 (the browser fixtures)
    chromium,
    live_console,
    logged_in_page,
)
from tests.support.env import IN_CI, ROOT
from tests.support.ledger import ledger, ledger_url  # noqa: F401 (fixtures shared by the tests)
from tests.support.sftp import server  # noqa: F401 (the SFTP server fixture)
from tests.support.web import console  # noqa: F401 (the web console fixture)

SAMPLES = ROOT / "samples"

# tests never read or write the user's own data folder, where `gateway codes update` installs lists
os.environ["GATEWAY_DATA_DIR"] = tempfile.mkdtemp(prefix="gateway-test-data-")
if os.environ.get(PURE_PYTHON_ENV):  # the documented switch holds for a test run too
    use_accelerated(False)


def corpus_dir() -> Path | None:
    """The corpus folder: GATEWAY_CORPUS, else ../shared/corpus beside the checkout, else None."""
    named = os.environ.get("GATEWAY_CORPUS")
    if named:
        return Path(named)
    beside = ROOT.parent / "shared" / "corpus"
    return beside if beside.is_dir() else None


@dataclass(frozen=True)
class CorpusFile:
    """One row of the corpus MANIFEST.tsv."""

    path: Path
    transaction_set: str
    version: str
    valid: bool
    notes: str

    @property
    def anomalies(self) -> str:
        """The manifest's ANOMALIES text ('' when none are listed)."""
        _, _, after = self.notes.partition("ANOMALIES:")
        return after.split("||")[0].strip()


def load_manifest() -> list[CorpusFile]:
    """Every file the corpus manifest lists (empty when there is no corpus)."""
    folder = corpus_dir()
    if folder is None or not (folder / "MANIFEST.tsv").is_file():
        return []
    rows: list[CorpusFile] = []
    with (folder / "MANIFEST.tsv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            rows.append(
                CorpusFile(
                    folder / row["local_file"],
                    row["transaction_set"],
                    row["version"],
                    row["valid_or_invalid"].strip() == "valid",
                    row["notes"],
                )
            )
    return rows


@pytest.fixture(scope="session")
def corpus() -> list[CorpusFile]:
    """The corpus manifest rows; skips (fails in CI) when the corpus is missing."""
    rows = load_manifest()
    if not rows:
        if IN_CI:
            pytest.fail("GATEWAY_CORPUS is not set or the corpus is missing; CI needs it")
        pytest.skip("no X12 corpus here (set GATEWAY_CORPUS)")
    return rows
