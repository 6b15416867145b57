"""Tests of gateway.encounters."""
