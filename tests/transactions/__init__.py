"""Tests of gateway.transactions."""
