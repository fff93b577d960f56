"""Issue #24, the jurisdictions: schemathesis reached stations at (0, 0) and in Beijing by
first making jurisdictions far outside the city. A town, village or grid outline outside
the city outline is refused (API and importer), the city outline cannot shrink away from
its towns, and the city (or a jurisdiction with live children) cannot be deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.errors import ImportFailed
from firegrid.core.settings import Settings
from firegrid.places.importexport import import_bytes
from firegrid.places.models import Jurisdiction
from tests.accounts.city import use_cheap_hasher
from tests.dispatch.city import CITY, TOWNS, DCity, build_dispatch_city, square
from tests.hostile.geo_hostile_city import BEIJING, headers

WEST_TOWN = TOWNS["west"][0]
WEST_NORTH_VILLAGE = f"{WEST_TOWN}001"


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


def jurisdiction(
    code: str, level: str, parent: str, lon: float, lat: float, boundary: dict[str, Any]
) -> dict[str, Any]:
    return {
        "code": code,
        "level": level,
        "parent_code": parent,
        "name_zh": code,
        "name_en": code,
        "lon": lon,
        "lat": lat,
        "boundary": boundary,
    }


def live_codes(db: Database) -> set[str]:
    with db.session() as session:
        return set(
            session.scalars(select(Jurisdiction.code).where(Jurisdiction.deleted_at.is_(None)))
        )


def test_towns_and_grids_outside_the_city_outline_are_refused(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    before = live_codes(db)
    # centre inside the city, outline around Beijing
    far = jurisdiction(
        "800000009",
        "town",
        CITY,
        113.15,
        23.05,
        square(BEIJING[0] - 0.1, BEIJING[1] - 0.1, BEIJING[0] + 0.1, BEIJING[1] + 0.1),
    )
    refused = client.post("/api/v1/jurisdictions", json=far, headers=admin)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "outside_city"
    assert "town 800000009" in error["message"]
    assert error["details"]["outside_share"] == 1.0
    # a grid reaching 0.05° (~5 km) south of the city
    grid = jurisdiction(
        f"{WEST_NORTH_VILLAGE}09",
        "grid",
        WEST_NORTH_VILLAGE,
        113.05,
        23.02,
        square(113.0, 22.95, 113.1, 23.05),
    )
    refused = client.post("/api/v1/jurisdictions", json=grid, headers=admin)
    assert refused.status_code == 422, refused.text
    assert f"grid {WEST_NORTH_VILLAGE}09" in refused.json()["error"]["message"]
    assert live_codes(db) == before
    # one that follows the city's edge (within the tolerance) is accepted
    grid["boundary"] = square(113.0, 23.0 - 0.0005, 113.05, 23.05)
    made = client.post("/api/v1/jurisdictions", json=grid, headers=admin)
    assert made.status_code == 201, made.text
    # and cannot be moved outside by a PATCH
    moved = client.patch(
        f"/api/v1/jurisdictions/{made.json()['id']}",
        json={"boundary": square(112.0, 23.0, 112.1, 23.05)},
        headers=admin,
    )
    assert moved.status_code == 422, moved.text
    assert moved.json()["error"]["code"] == "outside_city"


def test_the_city_outline_cannot_leave_its_towns_out_nor_the_city_be_deleted(
    client: TestClient, admin: dict[str, str], db: Database
) -> None:
    with db.session() as session:
        rows = session.execute(select(Jurisdiction.code, Jurisdiction.id)).all()
    ids = {str(code): int(id_) for code, id_ in rows}
    shrunk = client.patch(
        f"/api/v1/jurisdictions/{ids[CITY]}",
        json={"boundary": square(113.0, 23.0, 113.1, 23.1)},  # the west town only
        headers=admin,
    )
    assert shrunk.status_code == 422, shrunk.text
    assert TOWNS["east"][0] in shrunk.json()["error"]["details"]["outside"]
    grown = client.patch(
        f"/api/v1/jurisdictions/{ids[CITY]}",
        json={"boundary": square(112.9, 22.9, 113.4, 23.2)},
        headers=admin,
    )
    assert grown.status_code == 200, grown.text

    gone = client.delete(f"/api/v1/jurisdictions/{ids[CITY]}", headers=admin)
    assert gone.status_code == 409, gone.text
    assert gone.json()["error"]["code"] == "conflict"
    town = client.delete(f"/api/v1/jurisdictions/{ids[WEST_TOWN]}", headers=admin)
    assert town.status_code == 409, town.text
    assert {CITY, WEST_TOWN} <= live_codes(db)
    # so a second "city" far away cannot be made to host stations in Beijing
    other = client.post(
        "/api/v1/jurisdictions",
        json={
            "code": "110000",
            "level": "city",
            "name_zh": "x",
            "name_en": "x",
            "lon": BEIJING[0],
            "lat": BEIJING[1],
        },
        headers=admin,
    )
    assert other.status_code in {409, 422}, other.text


def test_the_importer_refuses_a_grid_outline_outside_the_city(db: Database, dcity: DCity) -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": square(113.0, 23.05, 113.05, 23.1),
                "properties": {
                    "code": f"{WEST_NORTH_VILLAGE}07",
                    "level": "grid",
                    "parent_code": WEST_NORTH_VILLAGE,
                    "name_zh": "ok",
                    "name_en": "ok",
                },
            },
            {
                "type": "Feature",
                "geometry": square(0.0, 0.0, 0.1, 0.1),
                "properties": {
                    "code": f"{WEST_NORTH_VILLAGE}08",
                    "level": "grid",
                    "parent_code": WEST_NORTH_VILLAGE,
                    "name_zh": "far",
                    "name_en": "far",
                    "lon": 113.02,
                    "lat": 23.07,
                },
            },
        ],
    }
    before = live_codes(db)
    with pytest.raises(ImportFailed) as caught:
        import_bytes(db, "jurisdictions", json.dumps(collection).encode(), "geojson")
    errors = caught.value.details["errors"]
    assert [e["line"] for e in errors] == [2]
    assert f"grid {WEST_NORTH_VILLAGE}08" in errors[0]["reason"]
    assert "outside the city outline" in errors[0]["reason"]
    assert live_codes(db) == before
