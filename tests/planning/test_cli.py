"""``firegrid plan simulate`` / ``plan list`` on the planning city, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firegrid.accounts.principal import system_principal
from firegrid.core.db import Database
from firegrid.core.settings import get_settings
from firegrid.dispatch.generate import generate_records, load_points, write_jsonl
from firegrid.planning.commands import plan_app
from firegrid.planning.store import get_plan, save_plan
from tests.dispatch.city import DCity

runner = CliRunner()


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREGRID_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


def test_simulate_a_stored_plan_keeps_the_simulation(
    pcity: DCity, db: Database, database_url: str, tmp_path: Path
) -> None:
    calls = tmp_path / "calls.jsonl"
    write_jsonl(generate_records(load_points(db), 150, seed=2), calls)
    result = {
        "kind": "stations",
        "model": "mclp",
        "parameters": {"add": 1},
        "sites": [{"code": "N1", "lon": 113.29, "lat": 23.09, "node": 1}],
    }
    with db.session() as session:
        plan_id = save_plan(session, system_principal("test"), result, "north-east").id
    done = runner.invoke(
        plan_app,
        ["simulate", "--plan", str(plan_id), "--calls", str(calls), "--db", database_url, "--json"],
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["plan_id"] == plan_id
    assert report["before"]["calls"] == report["after"]["calls"] == 150
    assert report["new_units"] > 0
    with db.session() as session:
        stored = get_plan(session, plan_id, system_principal("test"))
        assert stored.simulation is not None
        assert stored.simulation["comparison"] == report["comparison"]
    listed = runner.invoke(plan_app, ["list", "--db", database_url, "--json"])
    assert listed.exit_code == 0, listed.output
    item = json.loads(listed.output)["items"][0]
    assert item["id"] == plan_id
    assert item["simulated"] is True
    assert item["name"] == "north-east"


def test_simulate_names_what_is_wrong(pcity: DCity, database_url: str, tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text("not json\n")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"kind": "stations", "sites": []}))
    bad = runner.invoke(
        plan_app,
        ["simulate", "--plan", str(plan), "--calls", str(calls), "--db", database_url, "--json"],
    )
    assert bad.exit_code == 2
    assert "not JSON lines" in json.loads(bad.output)["error"]["message"]
    missing = runner.invoke(
        plan_app,
        ["simulate", "--plan", "999", "--calls", str(calls), "--db", database_url, "--json"],
    )
    assert missing.exit_code == 2
    assert json.loads(missing.output)["error"]["message"] == "plan 999 not found"


def test_plan_stations_prints_the_interface_and_stores_the_plan(
    pcity: DCity, database_url: str, db: Database
) -> None:
    done = runner.invoke(
        plan_app,
        [
            "stations",
            "--model",
            "mclp",
            "--add",
            "2",
            "--minutes",
            "4",
            "--spacing",
            "4000",
            "--save",
            "--name",
            "two more",
            "--db",
            database_url,
            "--json",
            "--quiet",
        ],
    )
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    for key in ("sites", "objective", "bound", "gap", "optimal", "coverage", "plan_id"):
        assert key in out
    assert set(out["coverage"]) >= {"before", "after"}
    assert all({"lon", "lat", "node"} <= set(site) for site in out["sites"])
    with db.session() as session:
        assert get_plan(session, out["plan_id"], system_principal("t")).name == "two more"
    bad = runner.invoke(
        plan_app, ["stations", "--model", "best", "--db", database_url, "--json", "--quiet"]
    )
    assert bad.exit_code == 2
    assert "model must be one of" in json.loads(bad.output)["error"]["message"]
