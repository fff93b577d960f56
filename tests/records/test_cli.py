"""The records commands: import fire records, the incident report, response analytics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firegrid.cli import app
from firegrid.core.db import Database
from tests.dispatch.city import DCity
from tests.records.test_analytics import build_incidents
from tests.records.test_import_and_lock import GOOD, write_csv

pytestmark = pytest.mark.postgres
runner = CliRunner()


def test_import_report_and_analytics_commands(
    db: Database, dcity: DCity, database_url: str, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "f.csv", GOOD)
    imported = runner.invoke(
        app, ["import", "fire-records", str(source), "--db", database_url, "--json"]
    )
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["created"] == 3
    incident_id = build_incidents(db, dcity)[0]
    report = runner.invoke(
        app, ["incidents", "report", str(incident_id), "--db", database_url, "--json"]
    )
    assert report.exit_code == 0, report.output
    assert json.loads(report.output)["intervals"]["first_arrival_s"] == 200.0
    table = runner.invoke(
        app,
        ["analytics", "response", "--by", "town", "--period", "2025-03", "--db", database_url,
         "--json", "--xlsx", str(tmp_path / "r.xlsx")],
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    assert json.loads(table.output)["totals"]["calls"] == 6
    assert (tmp_path / "r.xlsx").read_bytes()[:2] == b"PK"
    bad = runner.invoke(app, ["analytics", "response", "--by", "weather", "--db", database_url])
    assert bad.exit_code == 2
    missing = runner.invoke(app, ["incidents", "report", "999999", "--db", database_url])
    assert missing.exit_code != 0
