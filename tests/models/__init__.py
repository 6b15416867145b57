"""Tests of gateway.models."""
