"""``firegrid settings`` lists every setting: the core ones and each context's."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firegrid.cli import app


def test_settings_lists_the_alarms_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREGRID_ALARMS_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("FIREGRID_ALARMS_WEBHOOK_SECRET", "s3cret")
    result = CliRunner().invoke(app, ["settings", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows["database_url"]["env"] == "FIREGRID_DATABASE_URL"  # core keys unchanged
    assert rows["alarms_webhook_url"] == {
        "value": "http://127.0.0.1:9/hook",
        "env": "FIREGRID_ALARMS_WEBHOOK_URL",
        "description": "Webhook receiving alarm notifications.",
    }
    assert rows["alarms_webhook_secret"]["value"] == "***"
    assert "s3cret" not in result.stdout
    assert rows["alarms_file_channels"]["env"] == "FIREGRID_ALARMS_FILE_CHANNELS"
    alarms = sorted(r["env"] for r in rows.values() if r["env"].startswith("FIREGRID_ALARMS_"))
    assert alarms == [
        "FIREGRID_ALARMS_BACKLOG_LINGER_S",
        "FIREGRID_ALARMS_FILE_CHANNELS",
        "FIREGRID_ALARMS_WEBHOOK_SECRET",
        "FIREGRID_ALARMS_WEBHOOK_URL",
    ]
