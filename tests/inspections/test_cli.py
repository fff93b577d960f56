"""``firegrid inspections``: list, hazards, overdue and summary as JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firegrid.core.db import Database
from firegrid.inspections.cli import inspections_app
from firegrid.inspections.service import HazardSpec
from tests.accounts.city import City
from tests.inspections.conftest import record

pytestmark = pytest.mark.postgres
runner = CliRunner()


def test_list_and_overdue_as_json(database_url: str, db: Database, city: City) -> None:
    inspection, (late, fresh) = record(
        db,
        city,
        "in",
        days_ago=10,
        hazards=(HazardSpec("blocked_exit"), HazardSpec("fire_system_fault")),
    )
    result = runner.invoke(inspections_app, ["list", "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    assert [i["id"] for i in json.loads(result.output)] == [inspection]

    result = runner.invoke(inspections_app, ["overdue", "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    overdue = json.loads(result.output)
    assert [(h["id"], h["status"]) for h in overdue] == [(late, "overdue")]

    result = runner.invoke(
        inspections_app, ["hazards", "--db", database_url, "--status", "open", "--json"]
    )
    assert {h["id"] for h in json.loads(result.output)} == {late, fresh}

    venue = str(city.id("venue", "in"))
    result = runner.invoke(inspections_app, ["summary", venue, "--db", database_url, "--json"])
    summary = json.loads(result.output)
    assert summary["open_hazards"] == 2
    assert summary["overdue_rectifications"] == 1

    result = runner.invoke(inspections_app, ["summary", "999999", "--db", database_url])
    assert result.exit_code == 2  # an unknown id is bad input (the CLI contract)
