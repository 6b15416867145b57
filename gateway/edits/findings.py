"""The scrubber's findings vocabulary. It lives in ``gateway.models.findings`` (plain data the
encounter readers share); this module keeps the scrubber's import path."""

from gateway.models.findings import CATALOGUE, Finding, FindingCode, Severity, finding

__all__ = ["CATALOGUE", "Finding", "FindingCode", "Severity", "finding"]
