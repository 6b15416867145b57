"""Write ``schemas/encounter.schema.json`` from the encounter model.

Usage: ``python -m gateway.models.encounter_schema [PATH]`` (default
``schemas/encounter.schema.json``). A test fails when the stored schema is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gateway.models.encounter import schema_text

DEFAULT_PATH = Path("schemas/encounter.schema.json")


def main(argv: list[str]) -> int:
    """Write the schema to the path given (or the default); returns the exit code."""
    target = Path(argv[0]) if argv else DEFAULT_PATH
    target.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":  # pragma: no cover - a developer tool
    sys.exit(main(sys.argv[1:]))
