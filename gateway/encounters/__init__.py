"""Reading encounter files: JSON (object, array, JSON Lines) and XML, streamed, never raising.

>>> from gateway.encounters import read_encounter_file
>>> for record in read_encounter_file("visit.json"):       # doctest: +SKIP
...     record.encounter, record.findings
"""

from gateway.encounters.contract import EncounterRecord, validate_encounter
from gateway.encounters.reader import (
    EncounterFormat,
    detect_format,
    read_encounter_file,
    read_encounters,
)

__all__ = [
    "EncounterFormat",
    "EncounterRecord",
    "detect_format",
    "read_encounter_file",
    "read_encounters",
    "validate_encounter",
]
