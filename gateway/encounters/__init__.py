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
from gateway.encounters.xml_reader import encounter_to_xml
from gateway.encounters.xsd import xsd_text

__all__ = [
    "EncounterFormat",
    "EncounterRecord",
    "detect_format",
    "encounter_to_xml",
    "read_encounter_file",
    "read_encounters",
    "validate_encounter",
    "xsd_text",
]
