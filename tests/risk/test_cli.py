"""``firegrid assess --json`` and ``--report`` (the command function the CLI mounts)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from firegrid.core.cli import command_group
from firegrid.core.db import Database
from firegrid.core.settings import Settings, get_settings
from firegrid.places.models import Jurisdiction
from firegrid.risk.cli import assess_command
from tests.risk.test_runs import build_city


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[typer.Typer]:
    monkeypatch.setenv("FIREGRID_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    app = command_group("assess under test")  # the error contract, as under `firegrid`
    app.command("assess")(assess_command)
    app.command("noop")(lambda: None)  # keep "assess" a sub-command, as under `firegrid`
    yield app
    get_settings.cache_clear()


def test_assess_json_and_report(
    cli: typer.Typer, db: Database, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    city = build_city(db, settings)
    runner = CliRunner()
    result = runner.invoke(cli, ["assess", "--db", database_url, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["counts"]["venues"] == city["counts"]["venues"]
    assert set(out["counts"]["grades"]) == {"red", "orange", "yellow", "blue"}
    for level in ("town", "village", "grid", "industry", "category"):
        assert sum(out["levels"][level]["venue_grades"].values()) == city["counts"]["venues"]
    assert out["top_units"]
    v = out["validation"]
    assert {"auc", "precision_at_top", "calibration"} <= set(v)
    assert len(v["calibration"]) == 10
    assert out["run_id"] == 1
    assert out["report"] is None
    population = out["area_population"]  # no register imported: the tree's figures
    assert population["register_rows"] == 0
    assert population["levels"]["town"]["from_tree"] == city["counts"]["towns"]

    report = tmp_path / "report"
    result = runner.invoke(
        cli, ["assess", "--db", database_url, "--model", "equal-weights", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert "validation auc" in result.stdout
    assert "population sources (register / tree / none)" in result.stdout
    html = (report / "index.html").read_text(encoding="utf-8")
    assert "SYNTHETIC" in html
    assert 'aria-label="risk map"' in html
    assert "<polygon" in html
    assert "run 2" in html
    with db.session() as session:  # towns are labelled by name, with their code
        code, name = session.execute(
            select(Jurisdiction.code, Jurisdiction.name_zh)
            .where(Jurisdiction.level == "town")
            .limit(1)
        ).one()
    assert f"{name} ({code})" in html

    bad = runner.invoke(cli, ["assess", "--db", database_url, "--model", "nope"])
    assert bad.exit_code == 2
    assert "unknown risk model" in bad.output
