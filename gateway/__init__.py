"""X12 claim gateway: encounters to 837 claims, acknowledgements and remittances back to claims."""

__version__ = "0.1.0"
