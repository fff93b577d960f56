"""Issue #24, the doors: a station, hydrant, logistics point or AVL fix the road network
does not reach is refused (422, error envelope naming the record and the distance) by the
API and by the importers; without a road network the city outline alone applies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.errors import ImportFailed
from firegrid.core.settings import Settings
from firegrid.dispatch.models import Hydrant, LogisticsPoint, Station, Vehicle
from firegrid.places.importexport import import_bytes
from tests.accounts.city import use_cheap_hasher
from tests.dispatch.city import DCity, build_dispatch_city
from tests.hostile.geo_hostile_city import (
    BEIJING,
    EAST_POINT,
    drop_road_network,
    headers,
    keep_only_west_roads,
    near_node,
)

#: In the west town, on a road node (the west-only network keeps it).
WEST_POINT = near_node(113.05, 23.075)


@pytest.fixture(autouse=True, scope="module")
def _cheap_password_hashing() -> None:
    use_cheap_hasher()


@pytest.fixture
def dcity(db: Database, settings: Settings) -> DCity:
    city = build_dispatch_city(db)
    keep_only_west_roads(db, settings)
    return city


@pytest.fixture
def client(settings: Settings, db: Database, dcity: DCity) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin(db: Database, settings: Settings, dcity: DCity) -> dict[str, str]:
    return headers(db, settings, dcity, "admin", "city")


def station(code: str, lon: float, lat: float) -> dict[str, object]:
    return {
        "code": code,
        "name": f"station {code}",
        "station_type": "standard",
        "force_kind": "state",
        "lon": lon,
        "lat": lat,
    }


def count(db: Database, model: object) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


def assert_off_network(response: object, kind: str, code: str) -> dict[str, object]:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "off_road_network"
    assert f"{kind} {code}" in error["message"]
    assert " m from the nearest road node" in error["message"]
    details = error["details"]
    assert details["code"] == code
    assert details["kind"] == kind.replace(" ", "_")
    assert details["snap_distance_m"] > details["limit_m"] == 500.0
    return details


def test_a_station_the_roads_do_not_reach_is_refused_by_the_api(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    before = count(db, Station)
    refused = client.post("/api/v1/stations", json=station("ST-E9", *EAST_POINT), headers=admin)
    details = assert_off_network(refused, "station", "ST-E9")
    # the east point is about 14 km from the west town's roads
    assert 10_000 < float(details["snap_distance_m"]) < 20_000  # type: ignore[arg-type]
    assert count(db, Station) == before
    # outside the city it is (still) refused as outside the city
    far = client.post("/api/v1/stations", json=station("ST-BJ", *BEIJING), headers=admin)
    assert far.status_code == 422
    assert far.json()["error"]["code"] == "outside_city"
    # on the roads it is accepted
    made = client.post("/api/v1/stations", json=station("ST-W9", *WEST_POINT), headers=admin)
    assert made.status_code == 201, made.text
    # and cannot be moved off them
    moved = client.patch(
        f"/api/v1/stations/{made.json()['id']}",
        json={"lon": EAST_POINT[0], "lat": EAST_POINT[1]},
        headers=admin,
    )
    assert_off_network(moved, "station", "ST-W9")
    assert count(db, Station) == before + 1
    # without a road network the city outline alone applies
    drop_road_network(db)
    made = client.post("/api/v1/stations", json=station("ST-E7", *EAST_POINT), headers=admin)
    assert made.status_code == 201, made.text
    far = client.post("/api/v1/stations", json=station("ST-BJ", *BEIJING), headers=admin)
    assert far.json()["error"]["code"] == "outside_city"


def test_hydrants_and_logistics_points_off_the_roads_are_refused(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    hydrant = client.post(
        "/api/v1/hydrants",
        json={"code": "HY-E9", "lon": EAST_POINT[0], "lat": EAST_POINT[1]},
        headers=admin,
    )
    assert_off_network(hydrant, "hydrant", "HY-E9")
    depot = client.post(
        "/api/v1/logistics-points",
        json={"code": "LP-E9", "name": "depot", "lon": EAST_POINT[0], "lat": EAST_POINT[1]},
        headers=admin,
    )
    assert_off_network(depot, "logistics point", "LP-E9")
    assert count(db, Hydrant) == 0
    assert count(db, LogisticsPoint) == 0
    ok = client.post(
        "/api/v1/hydrants",
        json={"code": "HY-W9", "lon": WEST_POINT[0], "lat": WEST_POINT[1]},
        headers=admin,
    )
    assert ok.status_code == 201, ok.text


def test_an_avl_fix_off_the_roads_is_refused_and_nothing_of_the_batch_is_stored(
    client: TestClient, admin: dict[str, str], db: Database, dcity: DCity
) -> None:
    west = next(v for v, info in dcity.vehicles.items() if info["town"] == "west")
    other = next(v for v, info in dcity.vehicles.items() if v != west)
    refused = client.post(
        "/api/v1/avl/positions",
        headers=admin,
        json={
            "positions": [
                {"vehicle_id": other, "lon": WEST_POINT[0], "lat": WEST_POINT[1]},
                {"vehicle_id": west, "lon": EAST_POINT[0], "lat": EAST_POINT[1]},
            ]
        },
    )
    assert_off_network(refused, "vehicle", dcity.vehicles[west]["code"])
    with db.session() as session:
        assert session.get(Vehicle, other).last_lon is None  # type: ignore[union-attr]
        assert session.get(Vehicle, west).last_lon is None  # type: ignore[union-attr]
    accepted = client.post(
        "/api/v1/avl/positions",
        headers=admin,
        json={"positions": [{"vehicle_id": west, "lon": WEST_POINT[0], "lat": WEST_POINT[1]}]},
    )
    assert accepted.json() == {"accepted": 1, "stale": 0}


def test_the_importer_reports_each_off_network_row_and_imports_nothing(
    db: Database, dcity: DCity
) -> None:
    csv = (
        "code,name,station_type,force_kind,lon,lat\n"
        f"ST-W8,west,standard,state,{WEST_POINT[0]},{WEST_POINT[1]}\n"
        f"ST-E8,east,standard,state,{EAST_POINT[0]},{EAST_POINT[1]}\n"
    ).encode()
    before = count(db, Station)
    with pytest.raises(ImportFailed) as caught:
        import_bytes(db, "stations", csv, "csv")
    errors = caught.value.details["errors"]
    assert len(errors) == 1
    assert errors[0]["line"] == 3
    assert "station ST-E8" in errors[0]["reason"]
    assert "m from the nearest road node" in errors[0]["reason"]
    assert count(db, Station) == before
