"""Tests of gateway.codes."""
