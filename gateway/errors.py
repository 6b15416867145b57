"""Errors shared across the layers, so that no layer has to import a face to raise them.

``UsageError``: a problem with how the gateway was called or configured. The settings raise it
(``gateway.config.ConfigError`` is one); the command line reports it and exits 2.
"""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """A problem with how the command was called or configured (exit 2)."""
