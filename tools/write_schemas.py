"""Write the encounter contract's schemas from the encounter model (a developer tool).

Usage: ``python tools/write_schemas.py [FOLDER]`` (default ``schemas/``): writes
``encounter.schema.json`` (``gateway.models.encounter.schema_text``) and ``encounter.xsd``
(``gateway.encounters.xsd.xsd_text``). A test fails when a stored schema is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gateway.encounters.xsd import xsd_text
from gateway.models.encounter import schema_text

DEFAULT_FOLDER = Path("schemas")


def main(argv: list[str]) -> int:
    """Write both schemas into the folder given (or the default); returns the exit code."""
    folder = Path(argv[0]) if argv else DEFAULT_FOLDER
    for name, text in (("encounter.schema.json", schema_text()), ("encounter.xsd", xsd_text())):
        target = folder / name
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
