"""The clearinghouse and payer simulator: 837 files in, TA1 / 999 / 277CA / 835 responses out.

A separate product beside the gateway (``gateway simulate``, ``gateway demo``), a layer of its
own above the service: ``core`` answers one 837 (pure, seeded, repeatable), ``adjudication``
pays its claims, ``rules`` reads ``config/simulator.toml``, ``runner`` watches the pickup folder
and drops the answers. It has no X12 of its own: it reads 837s with
``gateway.transactions.claim837_reader`` and writes 277CAs and 835s with
``gateway.transactions.claim_ack_writer`` / ``remittance_writer``.
"""

from gateway.simulator.core import (
    Answer,
    ClaimDecision,
    ResponseFile,
    SimulatorState,
    Stage,
    respond,
)
from gateway.simulator.rules import SimulatorRules, load_rules, parse_rules
from gateway.simulator.runner import Simulator, folders_from_settings

__all__ = [
    "Answer",
    "ClaimDecision",
    "ResponseFile",
    "Simulator",
    "SimulatorRules",
    "SimulatorState",
    "Stage",
    "folders_from_settings",
    "load_rules",
    "parse_rules",
    "respond",
]
