"""Tests of gateway.cli: the commands as a user runs them."""
