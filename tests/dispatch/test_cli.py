"""The ``firegrid incidents`` commands: generate a year, replay it (all three intakes become
incidents with dispatched units), recommend for a point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from firegrid.core.db import Database
from firegrid.core.settings import get_settings
from firegrid.dispatch.cli import incidents_app
from firegrid.dispatch.incident_models import Assignment, Incident, IncidentCall
from tests.dispatch.city import DCity

runner = CliRunner()


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREGRID_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


def test_generate_then_replay_through_intake_dispatch_and_close(
    dcity: DCity, db: Database, database_url: str, tmp_path: Path
):
    out = tmp_path / "calls.jsonl"
    made = runner.invoke(
        incidents_app,
        [
            "generate",
            "--count",
            "600",
            "--seed",
            "4",
            "--out",
            str(out),
            "--db",
            database_url,
            "--json",
        ],
    )
    assert made.exit_code == 0, made.output
    report = json.loads(made.output)
    assert report["records"] == 600
    assert set(report["by_source"]) == {"call_119", "transfer_110", "alarm"}
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["t"] for r in lines] == sorted(r["t"] for r in lines)
    assert all(r["t"].endswith("+08:00") for r in lines)
    again = runner.invoke(
        incidents_app,
        [
            "generate",
            "--count",
            "600",
            "--seed",
            "4",
            "--out",
            str(tmp_path / "b.jsonl"),
            "--db",
            database_url,
        ],
    )
    assert again.exit_code == 0
    assert (tmp_path / "b.jsonl").read_text(encoding="utf-8") == out.read_text(encoding="utf-8")

    done = runner.invoke(incidents_app, ["replay", str(out), "--db", database_url, "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["received"] == 600
    assert result["created"] + result["merged"] + result["errors"] == 600
    assert result["merged"] >= report["repeat_calls"] * 0.8
    assert result["closed"] == result["created"]
    assert result["dispatched"] >= 0.95 * result["created"]
    assert result["intervals_s"]["response_s"]["p50"] > 0
    with db.session() as session:
        by_source = dict(
            session.execute(
                select(Incident.source, func.count(Incident.id))
                .where(Incident.dispatched_at.is_not(None))
                .group_by(Incident.source)
            ).all()
        )
        assert set(by_source) == {"call_119", "transfer_110", "alarm"}
        assert session.scalar(select(func.count(IncidentCall.id))) == 600
        assert (
            session.scalar(
                select(func.count(Assignment.id)).where(Assignment.released_at.is_(None))
            )
            == 0
        )
        open_incidents = session.scalar(
            select(func.count(Incident.id)).where(Incident.status != "closed")
        )
        assert open_incidents == 0


def test_recommend_for_a_point(dcity: DCity, database_url: str):
    done = runner.invoke(
        incidents_app,
        [
            "recommend",
            "--at",
            "113.05,23.075",
            "--type",
            "building_fire",
            "--level",
            "2",
            "--category",
            "high_rise_office",
            "--db",
            database_url,
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["complete"]
    assert sorted(u["vehicle_type"] for u in result["units"]) == [
        "command",
        "ladder",
        "pumper",
        "pumper",
    ]
    bad = runner.invoke(
        incidents_app, ["recommend", "--at", "nowhere", "--type", "flood", "--db", database_url]
    )
    assert bad.exit_code == 2
