"""Issue #24, the commands: with a station in Beijing in the database, or an OSM extract
that covers only part of the city, ``firegrid incidents recommend``, ``route``,
``coverage``, ``isochrones`` and ``hydrants gaps`` answer (skipping and reporting it) or
fail with one line and a hint, exit code 2 — never a traceback; ``roads import`` refuses an
extract that leaves stations and venues off its roads unless ``--partial``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from firegrid.cli import app as cli
from firegrid.core.db import Database
from firegrid.core.settings import get_settings
from firegrid.dispatch.cli import incidents_app
from firegrid.geo.models import RoadNetworkRecord
from tests.dispatch.city import DCity, build_dispatch_city
from tests.hostile.geo_hostile_city import (
    EAST_POINT,
    drop_road_network,
    misplace_hydrant,
    misplace_station,
)

runner = CliRunner()
AT = f"{EAST_POINT[0]},{EAST_POINT[1]}"


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREGRID_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


@pytest.fixture
def dcity(db: Database) -> DCity:
    return build_dispatch_city(db)


def clean_failure(app: Any, args: list[str], exit_code: int = 2) -> dict[str, Any]:
    """The CLI contract: ``exit_code``, one ``error: … (hint: …)`` line on stderr and no
    traceback; with ``--json`` the error envelope (with its hint) on stdout."""
    result = runner.invoke(app, args)
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "(hint: " in lines[0], lines[0]
    as_json = runner.invoke(app, [*args, "--json"])
    assert as_json.exit_code == exit_code, as_json.output
    error: dict[str, Any] = json.loads(as_json.stdout)["error"]
    assert error["hint"]
    return error


def test_recommend_and_the_geo_commands_skip_a_station_in_beijing(
    dcity: DCity, db: Database, database_url: str, tmp_path: Path
) -> None:
    misplace_station(db, dcity)
    misplace_hydrant(db, dcity)
    args = ["recommend", "--at", AT, "--type", "building_fire", "--db", database_url]
    text = runner.invoke(incidents_app, args)
    assert text.exit_code == 0, (text.output, text.exception)
    assert "warning: station ST-BJ skipped (off_network:" in text.stderr
    assert "ETA" in text.stdout
    as_json = runner.invoke(incidents_app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    skipped = json.loads(as_json.stdout)["skipped"]
    assert [(s["kind"], s["code"]) for s in skipped] == [("station", "ST-BJ")]

    coverage = runner.invoke(cli, ["coverage", "--db", database_url])
    assert coverage.exit_code == 0, (coverage.output, coverage.exception)
    assert "warning: station ST-BJ skipped" in coverage.stderr
    assert "min:" in coverage.stdout
    gaps = runner.invoke(cli, ["hydrants", "gaps", "--db", database_url])
    assert gaps.exit_code == 0, (gaps.output, gaps.exception)
    assert "warning: hydrant HY-BJ skipped" in gaps.stderr
    route = runner.invoke(
        cli, ["route", "--from", AT, "--to", "113.05,23.075", "--db", database_url, "--json"]
    )
    assert route.exit_code == 0, (route.output, route.exception)
    assert json.loads(route.stdout)["travel_time_s"] > 0
    out = tmp_path / "iso.geojson"
    both = runner.invoke(
        cli,
        ["isochrones", "--station", "ST-BJ", "--station", "S01", "--db", database_url],
    )
    assert both.exit_code == 0, (both.output, both.exception)
    assert json.loads(both.stdout)["properties"]["skipped"][0]["code"] == "ST-BJ"
    error = clean_failure(
        cli, ["isochrones", "--station", "ST-BJ", "--out", str(out), "--db", database_url]
    )
    assert "station ST-BJ skipped" in error["message"]
    assert "road network" in error["hint"]


def test_bad_points_and_a_missing_network_fail_in_one_line(
    dcity: DCity, db: Database, database_url: str
) -> None:
    off = "113.25,22.5"  # 55 km south of every road
    error = clean_failure(
        incidents_app, ["recommend", "--at", off, "--type", "building_fire", "--db", database_url]
    )
    assert "incident (113.250000, 22.500000)" in error["message"]
    assert "#0" not in error["message"]
    assert error["hint"]
    error = clean_failure(cli, ["route", "--from", off, "--to", AT, "--db", database_url])
    assert "origin (113.250000, 22.500000)" in error["message"]
    assert "#0" not in error["message"]
    error = clean_failure(cli, ["isochrones", "--at", off, "--db", database_url])
    assert f"--at {off}" in error["message"]
    drop_road_network(db)
    for args in (
        ["route", "--from", AT, "--to", AT],
        ["coverage"],
        ["hydrants", "gaps"],
        ["isochrones", "--at", AT],
    ):
        # no road network is "not ready" (exit 3), with the fix as the hint
        error = clean_failure(cli, [*args, "--db", database_url], exit_code=3)
        assert "no road network" in error["message"], args
        assert "firegrid roads import" in error["hint"], args
    error = clean_failure(
        incidents_app,
        ["recommend", "--at", AT, "--type", "building_fire", "--db", database_url],
        exit_code=3,
    )
    assert "no road network" in error["message"]


def write_grid_pbf(path: Path, lon0: float, lon1: float, lat0: float, lat1: float) -> Path:
    """A street grid (~440 m blocks) of residential roads as an OSM extract (synthetic)."""
    lons = np.arange(lon0, lon1 + 1e-9, 0.004)
    lats = np.arange(lat0, lat1 + 1e-9, 0.004)
    ids = np.arange(1, lons.size * lats.size + 1).reshape(lats.size, lons.size)
    with osmium.SimpleWriter(str(path)) as writer:
        for r, lat in enumerate(lats):
            for c, lon in enumerate(lons):
                writer.add_node(
                    osmium.osm.mutable.Node(id=int(ids[r, c]), location=(float(lon), float(lat)))
                )
        way = 1
        for line in [*ids, *ids.T]:
            writer.add_way(
                osmium.osm.mutable.Way(
                    id=way, nodes=[int(n) for n in line], tags={"highway": "residential"}
                )
            )
            way += 1
    return path


def active_source(db: Database) -> str:
    with db.session() as session:
        return str(
            session.scalars(
                select(RoadNetworkRecord.source).where(RoadNetworkRecord.active.is_(True))
            ).one()
        )


def test_roads_import_refuses_an_extract_that_covers_only_the_west_town(
    dcity: DCity, db: Database, database_url: str, tmp_path: Path
) -> None:
    west = write_grid_pbf(tmp_path / "west.osm.pbf", 113.0, 113.1, 23.0, 23.1)
    before = active_source(db)
    error = clean_failure(cli, ["roads", "import", str(west), "--db", database_url])
    assert error["code"] == "network_does_not_cover_city"
    assert "nothing was imported" in error["message"]
    assert "--partial" in error["hint"]
    coverage = error["details"]["coverage"]
    # 3 of the 9 stations are in the west town; the 6 others lie beyond 500 m of its roads
    assert coverage["stations"]["total"] == 9
    assert coverage["stations"]["outside"] == 6
    assert set(coverage["stations"]["codes"]) <= {f"S{n:02d}" for n in range(4, 10)}
    assert len(coverage["stations"]["codes"]) == 5
    assert coverage["venues"] == {"total": 3, "outside": 2, "codes": ["VEN-middle", "VEN-east"]}
    assert "6 of 9 stations" in error["message"]
    assert active_source(db) == before

    accepted = runner.invoke(
        cli, ["roads", "import", str(west), "--partial", "--db", database_url, "--json"]
    )
    assert accepted.exit_code == 0, (accepted.output, accepted.exception)
    assert "warning: partial network: 6 of 9 stations" in accepted.stderr
    report = json.loads(accepted.stdout)
    assert report["coverage"]["covered"] is False
    assert report["coverage"]["stations"]["outside"] == 6
    assert active_source(db) == str(west)
    # dispatch still answers on the partial network, reporting what it cannot reach
    rec = runner.invoke(
        incidents_app,
        ["recommend", "--at", "113.05,23.075", "--type", "building_fire", "--db", database_url],
    )
    assert rec.exit_code == 0, (rec.output, rec.exception)
    assert rec.stderr.count("warning: station S") >= 1

    whole = write_grid_pbf(tmp_path / "whole.osm.pbf", 113.0, 113.3, 23.0, 23.1)
    covered = runner.invoke(cli, ["roads", "import", str(whole), "--db", database_url, "--json"])
    assert covered.exit_code == 0, (covered.output, covered.exception)
    assert json.loads(covered.stdout)["coverage"]["covered"] is True
