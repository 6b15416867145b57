"""Tests of gateway.service."""
