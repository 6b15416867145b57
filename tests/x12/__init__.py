"""Tests of gateway.x12."""
