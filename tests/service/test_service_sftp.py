"""The service over SFTP: 837s uploaded to a real asyncssh server on 127.0.0.1, the simulator
answering in the server's folders, responses pulled back and reconciled; a round trip."""

# ruff: noqa: SIM300  (the house style is `assert expected == actual`)

from __future__ import annotations

import json
from pathlib import Path

import structlog

from gateway.cli.status import status_data
from gateway.config import load_settings
from gateway.ledger.lifecycle import ClaimState
from gateway.service.pipeline import Service
from gateway.simulator import Simulator
from gateway.x12 import read_segments
from tests.support.sftp import Server

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "samples/encounters/professional-self.json").read_text())
PARTNER = (ROOT / "config/partners/demo-clearinghouse.toml").read_text()
SETTLED = {ClaimState.PAID, ClaimState.PARTIALLY_PAID, ClaimState.DENIED, ClaimState.REVERSED}


def sftp_partner(sftp: Server) -> str:
    """The demo partner with an SFTP transport to the test server."""
    head, _, _ = PARTNER.partition("[transport]")
    return head + (
        "[transport]\n"
        'kind = "sftp"\n'
        'host = "127.0.0.1"\n'
        f"port = {sftp.port}\n"
        'username = "gateway"\n'
        f'private_key = "{sftp.client_key}"\n'
        f'known_hosts = "{sftp.known_hosts}"\n'
        'outbound_dir = "/outbound"\n'
        'inbound_dir = "/inbound"\n'
        'fetched_dir = "/inbound/fetched"\n'
        "attempts = 3\n"
        "initial_delay = 0.01\n"
    )


async def test_claims_go_out_and_answers_come_back_over_sftp(
    server: Server,
    tmp_path: Path,
) -> None:
    """Five claims are uploaded in one 837, the simulated payer's 999/277CA/835 are pulled back
    over SFTP, and every claim ends adjudicated; the remote responses are moved to fetched/."""
    workspace = tmp_path / "ws"
    (workspace / "partners").mkdir(parents=True)
    (workspace / "partners" / "demo-clearinghouse.toml").write_text(sftp_partner(server))
    config = workspace / "gateway.toml"
    config.write_text('[workspace]\nroot = "."\n[intake]\nsettle_seconds = 0.0\n')
    settings = load_settings(config, environ={})
    service = await Service.open(settings)
    try:
        ids = [f"SFTP-{n}" for n in range(1, 6)]
        items = []
        for n, claim_id in enumerate(ids, start=1):
            enc = json.loads(json.dumps(SAMPLE))
            enc["claim_id"] = claim_id
            for i, line in enumerate(enc["service_lines"], start=1):
                line["line_id"] = f"F{n}-{i}"
            items.append(enc)
        (settings.workspace.encounters_inbox / "claims.json").write_text(json.dumps(items))
        await service.run_once()
        (uploaded,) = list((server.root / "outbound").glob("*.x12"))
        claims = [s[1] for s in read_segments(uploaded.read_bytes()) if s.tag == "CLM"]
        assert ids == claims

        simulator = Simulator(server.root / "outbound", server.root / "inbound", tmp_path / "sim")
        answered = await simulator.run_once()
        assert answered  # 999, 277CAs, 835s in the server's inbound folder
        await service.run_once()
        states = {}
        for claim_id in ids:
            claim = await service.ledger.claim(claim_id)
            assert claim is not None
            states[claim_id] = claim.state
        assert set() == {s for s in states.values() if s not in SETTLED}, states
        fetched = {p.name for p in (server.root / "inbound/fetched").iterdir()}
        assert {p.name for p in answered} == fetched
        assert [] == [p for p in (server.root / "inbound").iterdir() if p.is_file()]
    finally:
        await service.close()


async def test_a_server_missing_from_known_hosts_backs_off_and_shows_in_status(
    server: Server,
    tmp_path: Path,
) -> None:
    """A refused host key is logged once, not tried again at the next look (it was every 5 s,
    forever), shown failing in `gateway status`; once known_hosts is fixed, the staged 837 goes
    at the next look and the transport shows ok."""
    known = tmp_path / "known_hosts_without_the_server"
    known.write_text("")
    workspace = tmp_path / "ws"
    (workspace / "partners").mkdir(parents=True)
    partner = sftp_partner(server).replace(str(server.known_hosts), str(known))
    (workspace / "partners" / "demo-clearinghouse.toml").write_text(partner)
    config = workspace / "gateway.toml"
    config.write_text('[workspace]\nroot = "."\n[intake]\nsettle_seconds = 0.0\n')
    settings = load_settings(config, environ={})
    service = await Service.open(settings)
    try:
        enc = json.loads(json.dumps(SAMPLE))
        enc["claim_id"] = "SFTP-HK-1"
        (settings.workspace.encounters_inbox / "claim.json").write_text(json.dumps(enc))
        with structlog.testing.capture_logs() as events:
            for _ in range(3):
                await service.run_once()
        failing = [e for e in events if e["event"].startswith("transport failing")]
        assert 1 == len(failing)
        assert "host-key-unknown" == failing[0]["error_kind"]
        (state,) = status_data(await service.ledger.status())["transports"]
        assert ("failing", "host-key-unknown", 1) == (
            state["state"],
            state["error_kind"],
            state["failures"],
        )
        assert f"is not in known_hosts {known}" in state["error"]
        assert state["next_attempt_at"] > state["since"]
        assert [] == list((server.root / "outbound").glob("*.x12"))

        known.write_text(server.known_hosts.read_text())  # a person adds the checked key
        with structlog.testing.capture_logs() as events:
            await service.run_once()
        assert ["transport working again"] == [
            e["event"] for e in events if e["event"].startswith("transport ")
        ]
        assert 1 == len(list((server.root / "outbound").glob("*.x12")))
        (state,) = status_data(await service.ledger.status())["transports"]
        assert ("ok", None) == (state["state"], state["error"])
        claim = await service.ledger.claim("SFTP-HK-1")
        assert claim is not None
        assert ClaimState.SUBMITTED == claim.state
    finally:
        await service.close()
