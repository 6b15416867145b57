"""Tests of gateway.edits."""
