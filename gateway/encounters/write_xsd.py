"""Write ``schemas/encounter.xsd`` from the encounter model.

Usage: ``python -m gateway.encounters.write_xsd [PATH]`` (default ``schemas/encounter.xsd``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from gateway.encounters.xsd import xsd_text

DEFAULT_PATH = Path("schemas/encounter.xsd")


def main(argv: list[str]) -> int:
    """Write the XSD to the path given (or the default); returns the exit code."""
    target = Path(argv[0]) if argv else DEFAULT_PATH
    target.write_text(xsd_text(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":  # pragma: no cover - a developer tool
    sys.exit(main(sys.argv[1:]))
