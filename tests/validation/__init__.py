"""Tests of gateway.validation."""
