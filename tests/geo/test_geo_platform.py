"""The geo context inside the platform: stored network, warm engine, API and CLI."""

from __future__ import annotations

import json
import multiprocessing
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from firegrid.api.app import create_app
from firegrid.cli import app as cli
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.demo import DemoSpec, build_demo_city, demo_road_network
from firegrid.dispatch.models import Station
from firegrid.geo import store
from firegrid.geo.network import RoadNetwork
from firegrid.geo.parallel import MIN_PARALLEL_SEARCHES
from firegrid.geo.service import STATIONS, geo_context
from firegrid.places.models import Jurisdiction
from tests.helpers import bearer

SEED = 5


@pytest.fixture
def city(db: Database, settings: Settings) -> tuple[Database, Settings, RoadNetwork]:
    spec = DemoSpec.tiny()
    network = demo_road_network(spec, SEED)
    build_demo_city(db, spec, SEED, network=network)
    store.save_network(db, network, source="test", cache_dir=settings.data_dir)
    return db, settings, network


def codes(db: Database, level: str) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(Jurisdiction.code)
                .where(Jurisdiction.level == level)
                .order_by(Jurisdiction.code)
            )
        )


def test_network_round_trips_through_the_database(
    city: tuple[Database, Settings, RoadNetwork],
) -> None:
    db, _, network = city
    loaded = store.load_network(db)  # from rows, no cache
    for name in RoadNetwork._ARRAYS:
        assert np.array_equal(getattr(loaded, name), getattr(network, name)), name


def test_failed_replacement_keeps_the_old_network(
    city: tuple[Database, Settings, RoadNetwork], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _, network = city
    with db.session() as session:
        old = store.active_record(session).checksum

    def broken(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_insert_rows", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        store.save_network(db, network.subgraph(np.arange(network.n_nodes) < 100), source="bad")
    with db.session() as session:
        assert store.active_record(session).checksum == old
    assert store.load_network(db).n_nodes == network.n_nodes


def test_engine_has_every_station_registered(
    city: tuple[Database, Settings, RoadNetwork],
) -> None:
    db, settings, _ = city
    context = geo_context(db, settings)
    with db.session() as session:
        station_ids = sorted(session.scalars(select(Station.id)))
    assert sorted(context.engine.facilities(STATIONS).ids) == station_ids
    assert geo_context(db, settings) is context  # warm: not rebuilt


def test_a_replaced_engine_stops_its_matrix_workers(
    city: tuple[Database, Settings, RoadNetwork],
) -> None:
    """A station edit rebuilds the engine; the old one's worker processes (each a fork
    holding the city's graph) stop instead of living as long as the server."""
    db, settings, _network = city
    old = geo_context(db, settings)
    nodes = np.arange(MIN_PARALLEL_SEARCHES * 2)
    before = set(multiprocessing.active_children())
    matrix = old.engine.node_matrix(nodes, nodes)  # starts the workers
    workers = set(multiprocessing.active_children()) - before
    assert len(workers) == old.engine.search_pool.workers > 1
    with db.session() as session:  # a station closes: one fewer to register
        closed = old.stations[0].id
        session.execute(
            update(Station).where(Station.id == closed).values(deleted_at=datetime.now(UTC))
        )
    new = geo_context(db, settings)
    assert new is not old
    assert closed not in {s.id for s in new.stations}
    deadline = time.monotonic() + 10
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(w.is_alive() for w in workers)
    assert not old.engine.search_pool.started
    # a request still holding the old engine gets its answer, searched in its own process
    assert np.array_equal(old.engine.node_matrix(nodes, nodes), matrix)
    assert not old.engine.search_pool.started
    assert set(multiprocessing.active_children()) <= before


def test_route_and_nearest_stations_through_the_api(
    city: tuple[Database, Settings, RoadNetwork],
) -> None:
    db, settings, network = city
    client = TestClient(create_app(settings, db))
    headers = bearer(db, settings, "dispatcher", codes(db, "city")[0])
    a = (float(network.node_lon[0]), float(network.node_lat[0]))
    b = (float(network.node_lon[-1]), float(network.node_lat[-1]))
    response = client.get(
        "/api/v1/geo/route",
        params={"from": f"{a[0]},{a[1]}", "to": f"{b[0]},{b[1]}"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = geo_context(db, settings).engine.route(a, b)
    assert body["travel_time_s"] == pytest.approx(expected.travel_time_s)
    assert body["node_ids"] == expected.node_ids.tolist()

    nearest = client.get(
        "/api/v1/geo/nearest-stations", params={"at": f"{a[0]},{a[1]}", "k": 3}, headers=headers
    ).json()["items"]
    times = [item["travel_time_s"] for item in nearest]
    assert times == sorted(times)
    assert len(nearest) == 3


def test_nearest_stations_are_scoped(city: tuple[Database, Settings, RoadNetwork]) -> None:
    db, settings, network = city
    client = TestClient(create_app(settings, db))
    town = codes(db, "town")[0]
    headers = bearer(db, settings, "commander", town)
    a = (float(network.node_lon[10]), float(network.node_lat[10]))
    items = client.get(
        "/api/v1/geo/nearest-stations", params={"at": f"{a[0]},{a[1]}", "k": 50}, headers=headers
    ).json()["items"]
    with db.session() as session:
        town_path = session.scalars(
            select(Jurisdiction.path).where(Jurisdiction.code == town)
        ).one()
        inside = set(
            session.scalars(
                select(Station.id).where(Station.jurisdiction_path.startswith(town_path))
            )
        )
    assert {item["station_id"] for item in items} == inside


def test_bad_points_get_clear_errors(city: tuple[Database, Settings, RoadNetwork]) -> None:
    db, settings, _ = city
    client = TestClient(create_app(settings, db))
    headers = bearer(db, settings, "dispatcher", codes(db, "city")[0])
    malformed = client.get(
        "/api/v1/geo/route", params={"from": "113.7", "to": "113.7,23.0"}, headers=headers
    )
    assert malformed.status_code == 422
    assert "lon,lat" in malformed.json()["error"]["message"]
    far = client.get(
        "/api/v1/geo/route", params={"from": "100.0,30.0", "to": "113.7,23.0"}, headers=headers
    )
    assert far.status_code == 422
    assert far.json()["error"]["details"]["kind"] == "PointOffNetwork"
    negative = client.get(
        "/api/v1/geo/isochrones",
        params={"at": "113.7,23.0", "bands_s": -5},
        headers=headers,
    )
    assert negative.status_code == 422


def test_isochrones_api_returns_nested_bands(
    city: tuple[Database, Settings, RoadNetwork],
) -> None:
    db, settings, _ = city
    client = TestClient(create_app(settings, db))
    headers = bearer(db, settings, "analyst", codes(db, "city")[0])
    station_id = geo_context(db, settings).stations[0].id
    response = client.get(
        "/api/v1/geo/isochrones",
        params={"station_id": station_id, "bands_s": [120, 300]},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    features = response.json()["features"]
    assert [f["properties"]["time_s"] for f in features] == [120.0, 300.0]
    assert features[0]["properties"]["area_km2"] <= features[1]["properties"]["area_km2"]


def test_route_cli_prints_time_distance_and_path(
    city: tuple[Database, Settings, RoadNetwork], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, settings, network = city
    monkeypatch.setenv("FIREGRID_DATA_DIR", str(settings.data_dir))
    from firegrid.core.settings import get_settings

    get_settings.cache_clear()
    a = f"{network.node_lon[3]},{network.node_lat[3]}"
    b = f"{network.node_lon[-3]},{network.node_lat[-3]}"
    by_time = CliRunner().invoke(cli, ["route", "--from", a, "--to", b, "--db", db.url, "--json"])
    by_length = CliRunner().invoke(
        cli, ["route", "--from", a, "--to", b, "--by", "distance", "--db", db.url, "--json"]
    )
    get_settings.cache_clear()
    assert by_time.exit_code == 0, by_time.output
    fastest, shortest = json.loads(by_time.stdout), json.loads(by_length.stdout)
    assert fastest["travel_time_s"] <= shortest["travel_time_s"] + 1e-6
    assert shortest["distance_m"] <= fastest["distance_m"] + 1e-6
    assert len(fastest["coordinates"]) == len(fastest["node_ids"]) + 2


def test_roads_import_cli_replaces_the_network(db: Database, tmp_path: Path) -> None:
    from tests.geo.conftest import DATA, osm_xml_to_pbf

    pbf = osm_xml_to_pbf(DATA / "town.osm", tmp_path / "town.osm.pbf")
    result = CliRunner().invoke(cli, ["roads", "import", str(pbf), "--db", db.url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    with db.session() as session:
        assert store.active_record(session).node_count == report["nodes"]
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
    failed = CliRunner().invoke(cli, ["roads", "import", str(empty), "--db", db.url])
    assert failed.exit_code == 2
    assert "drivable" in failed.stderr
    with db.session() as session:
        assert store.active_record(session).node_count == report["nodes"]


def test_coverage_cli_and_api_agree_and_are_scoped(
    city: tuple[Database, Settings, RoadNetwork], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, settings, _ = city
    from firegrid.geo.reports import coverage_report

    full = coverage_report(db, settings, [2.0, 5.0])
    assert [b["minutes"] for b in full["bands"]] == [2.0, 5.0]
    small, large = full["bands"]
    assert small["population_reached"] <= large["population_reached"] <= large["population"]
    assert small["area_km2"] <= large["area_km2"]
    assert sum(t["venues"] for t in large["per_town"]) == large["venues"]
    assert (
        sum(s["venues"] for s in full["first_due"]["venues_per_station"])
        + full["first_due"]["venues_unreached"]
        == large["venues"]
    )

    town = codes(db, "town")[0]
    client = TestClient(create_app(settings, db))
    headers = bearer(db, settings, "commander", town)
    scoped = client.get("/api/v1/geo/coverage", params={"minutes": 5}, headers=headers)
    assert scoped.status_code == 200, scoped.text
    band = scoped.json()["bands"][0]
    assert {t["code"] for t in band["per_town"]} == {town}
    assert band["venues"] < large["venues"]

    monkeypatch.setenv("FIREGRID_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(cli, ["coverage", "--minutes", "5", "--db", db.url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["bands"][0]["venues_reached"] == large["venues_reached"]


def test_hydrant_gaps_cli_and_api(city: tuple[Database, Settings, RoadNetwork]) -> None:
    db, settings, _ = city
    result = CliRunner().invoke(cli, ["hydrants", "gaps", "--db", db.url, "--json"])
    assert result.exit_code == 0, result.output
    collection = json.loads(result.stdout)
    properties = collection["properties"]
    kinds = {f["properties"]["kind"] for f in collection["features"]}
    assert properties["venues"] > 0
    if properties["venues_uncovered"]:
        assert "uncovered_venue" in kinds
    if properties["hydrants_needed"]:
        assert "proposed_hydrant" in kinds
    client = TestClient(create_app(settings, db))
    headers = bearer(db, settings, "analyst", codes(db, "city")[0])
    api = client.get("/api/v1/geo/hydrant-gaps", headers=headers)
    assert api.status_code == 200
    assert api.json()["properties"]["venues_uncovered"] == properties["venues_uncovered"]
