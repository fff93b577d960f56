"""``firegrid incidents eido ID`` prints a valid EIDO; ``firegrid link110 status --json``
gives the figures per peer; bad input is a clear error with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firegrid.cli import app
from firegrid.core.db import Database
from firegrid.core.settings import Settings, get_settings
from firegrid.interop.eido import parse_eido
from tests.dispatch.city import DCity
from tests.interop.conftest import PEER_ID, open_incident

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link_settings: Settings) -> None:
    monkeypatch.setenv("FIREGRID_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FIREGRID_LINK110_PEERS", str(link_settings.link110_peers))
    get_settings.cache_clear()


def test_incidents_eido_and_link_status(db: Database, database_url: str, dcity: DCity):
    incident_id = open_incident(db, dcity, 2)
    printed = runner.invoke(app, ["incidents", "eido", str(incident_id), "--db", database_url])
    assert printed.exit_code == 0, printed.output
    parsed = parse_eido(json.loads(printed.output))
    assert parsed.internal_id == str(incident_id)
    missing = runner.invoke(app, ["incidents", "eido", "999999", "--db", database_url])
    assert missing.exit_code == 2
    status = runner.invoke(app, ["link110", "status", "--db", database_url, "--json"])
    assert status.exit_code == 0, status.output
    peers = json.loads(status.output)["peers"]
    assert [p["peer"] for p in peers] == [PEER_ID]
    assert peers[0]["backlog"] == 0  # nothing relayed: no worker ran


def test_peer_simulator_refuses_bad_options():
    bad = runner.invoke(app, ["link110", "peer", "--listen", "nowhere", "--target", "http://x"])
    assert bad.exit_code == 2
    share = runner.invoke(
        app, ["link110", "peer", "--listen", "127.0.0.1:1", "--target", "http://x", "--drop", "2"]
    )
    assert share.exit_code == 2
