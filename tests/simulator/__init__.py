"""Tests of gateway.simulator."""
