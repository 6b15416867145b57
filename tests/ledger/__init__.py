"""Tests of gateway.ledger."""
