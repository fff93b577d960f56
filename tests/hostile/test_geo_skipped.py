"""Issue #24, the engine: a station already in the database that the roads do not reach (a
row from before validation, or written by SQL) is skipped and reported by recommendation,
dispatch, nearest stations, coverage, isochrones, hydrant gaps and route — it no longer
turns every answer into a 500 ``PointOffNetwork``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.models import Vehicle
from tests.accounts.city import use_cheap_hasher
from tests.dispatch.city import DCity, build_dispatch_city
from tests.hostile.geo_hostile_city import (
    BEIJING,
    EAST_POINT,
    headers,
    misplace_hydrant,
    misplace_station,
)


@pytest.fixture(autouse=True, scope="module")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


@pytest.fixture
def dcity(db: Database) -> DCity:
    return build_dispatch_city(db)


@pytest.fixture
def client(settings: Settings, db: Database, dcity: DCity) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin(db: Database, settings: Settings, dcity: DCity) -> dict[str, str]:
    return headers(db, settings, dcity, "admin", "city")


def skipped_station(items: list[dict[str, Any]], code: str = "ST-BJ") -> dict[str, Any]:
    found = [s for s in items if s["kind"] == "station" and s["code"] == code]
    assert len(found) == 1, items
    assert found[0]["reason"] == "off_network"
    assert found[0]["snap_distance_m"] > 1_000_000  # Beijing is ~1,900 km away
    return found[0]


def test_recommendation_and_dispatch_answer_and_report_a_station_in_beijing(
    client: TestClient, admin: dict[str, str], db: Database, dcity: DCity
) -> None:
    bad = misplace_station(db, dcity)
    # a unit on the radio whose last fix is in Beijing too: timed from its station
    on_radio = next(v for v, info in dcity.vehicles.items() if info["town"] == "east")
    with db.session() as session:
        vehicle = session.get(Vehicle, on_radio)
        assert vehicle is not None
        vehicle.status = "available_on_radio"
        vehicle.last_lon, vehicle.last_lat = BEIJING
    point = {"lon": EAST_POINT[0], "lat": EAST_POINT[1]}
    rec = client.get(
        "/api/v1/recommendations",
        params={**point, "incident_type": "building_fire", "level": 1},
        headers=admin,
    )
    assert rec.status_code == 200, rec.text
    body = rec.json()
    assert body["units"]
    assert bad["vehicle_id"] not in {u["vehicle_id"] for u in body["units"]}
    skipped_station(body["skipped"])
    fix = [s for s in body["skipped"] if s["kind"] == "vehicle"]
    assert [s["id"] for s in fix] == [on_radio]
    assert any("ST-BJ skipped" in note for note in body["notes"])

    opened = client.post(
        "/api/v1/calls",
        headers=admin,
        json={**point, "incident_type": "building_fire", "level": 1, "auto": True},
    )
    assert opened.status_code == 201, opened.text
    incident_id = opened.json()["incident_id"]
    again = client.get(f"/api/v1/incidents/{incident_id}/recommendation", headers=admin)
    assert again.status_code == 200, again.text
    skipped_station(again.json()["skipped"])
    sent = client.post(f"/api/v1/incidents/{incident_id}/dispatch", json={}, headers=admin)
    assert sent.status_code == 200, sent.text
    assignments = sent.json()["assignments"]
    assert assignments
    assert bad["station_id"] not in {a["station_id"] for a in assignments}
    skipped_station(sent.json()["skipped"])


def test_geo_answers_skip_and_report_the_misplaced_station(
    client: TestClient, admin: dict[str, str], db: Database, dcity: DCity
) -> None:
    bad = misplace_station(db, dcity)
    misplace_hydrant(db, dcity)
    at = f"{EAST_POINT[0]},{EAST_POINT[1]}"

    nearest = client.get("/api/v1/geo/nearest-stations", params={"at": at}, headers=admin)
    assert nearest.status_code == 200, nearest.text
    assert "ST-BJ" not in {s["code"] for s in nearest.json()["items"]}
    skipped_station(nearest.json()["skipped"])

    coverage = client.get("/api/v1/geo/coverage", params={"minutes": 5}, headers=admin)
    assert coverage.status_code == 200, coverage.text
    band = coverage.json()["bands"][0]
    assert band["stations"] == len(dcity.stations)
    assert "ST-BJ" not in {s["code"] for s in band["per_station"]}
    skipped_station(coverage.json()["skipped"])

    good = next(iter(dcity.stations))
    both = client.get(
        "/api/v1/geo/isochrones",
        params={"station_id": [bad["station_id"], good], "bands_s": 300},
        headers=admin,
    )
    assert both.status_code == 200, both.text
    assert len(both.json()["features"]) == 1
    skipped_station(both.json()["properties"]["skipped"])
    alone = client.get(
        "/api/v1/geo/isochrones",
        params={"station_id": bad["station_id"], "bands_s": 300},
        headers=admin,
    )
    assert alone.status_code == 422
    assert "station ST-BJ skipped" in alone.json()["error"]["message"]

    gaps = client.get("/api/v1/geo/hydrant-gaps", headers=admin)
    assert gaps.status_code == 200, gaps.text
    hydrants = gaps.json()["properties"]["skipped"]
    assert [(h["kind"], h["code"], h["reason"]) for h in hydrants] == [
        ("hydrant", "HY-BJ", "off_network")
    ]

    route = client.get(
        "/api/v1/geo/route", params={"from": at, "to": "113.05,23.075"}, headers=admin
    )
    assert route.status_code == 200, route.text
    assert route.json()["travel_time_s"] > 0


def test_a_route_from_off_the_roads_names_the_origin_not_an_index(
    client: TestClient, admin: dict[str, str]
) -> None:
    route = client.get(
        "/api/v1/geo/route",
        params={"from": "113.25,22.5", "to": f"{EAST_POINT[0]},{EAST_POINT[1]}"},
        headers=admin,
    )
    assert route.status_code == 422, route.text
    message = route.json()["error"]["message"]
    assert "origin (113.250000, 22.500000)" in message
    assert "#0" not in message
