"""The commands: ``firegrid gridlink status --json`` shows the configured platform's
figures; ``firegrid sharing webhooks add|list|show|remove`` manage a subscription (the secret
printed once, its scope the jurisdiction named)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from firegrid.cli import app
from firegrid.core.settings import Settings, get_settings
from tests.accounts.city import City
from tests.gridlink.conftest import PEER_ID

pytestmark = pytest.mark.postgres
runner = CliRunner()


def _run(settings: Settings, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    get_settings.cache_clear()  # the command reads ``env`` (another test may have cached them)
    try:
        result = runner.invoke(
            app, [*args, "--db", settings.database_url, "--json"], env=env, catch_exceptions=False
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.output)
    return parsed


def test_gridlink_status_lists_the_configured_platform(grid_settings: Settings, city: City) -> None:
    status = _run(
        grid_settings,
        "gridlink",
        "status",
        env={"FIREGRID_GRIDLINK_PEERS": str(grid_settings.gridlink_peers)},
    )
    assert status["link"] == "gridlink"
    assert [p["peer"] for p in status["peers"]] == [PEER_ID]
    assert status["peers"][0]["backlog"] == 0


def test_webhooks_from_the_command_line(settings: Settings, city: City) -> None:
    town = city.code("town", "in")
    added = _run(
        settings,
        "sharing",
        "webhooks",
        "add",
        "https://dept.example.org/hook",
        "--kinds",
        "hazard,venue",
        "--scope",
        town,
    )
    assert added["scope_path"] == city.paths["town:in"]
    assert added["kinds"] == ["hazard", "venue"]
    assert len(added["secret"]) == 64
    shown = _run(settings, "sharing", "webhooks", "show", str(added["id"]))
    assert "secret" not in shown
    assert shown["health"]["backlog"] == 0
    removed = _run(settings, "sharing", "webhooks", "remove", str(added["id"]))
    assert removed["status"] == "removed"
    listed = runner.invoke(
        app, ["sharing", "webhooks", "list", "--db", settings.database_url, "--json"]
    )
    assert json.loads(listed.output) == []
    bad = runner.invoke(
        app,
        ["sharing", "webhooks", "add", "ftp://x", "--db", settings.database_url, "--json"],
    )
    assert bad.exit_code == 2
    assert "url" in bad.output
