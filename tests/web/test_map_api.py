"""The console's basemap API (scoped GeoJSON layers) and the static console's serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.web.map_api import parse_bbox, road_groups_for_zoom, simplify_ring, tolerance_deg
from firegrid.web.serve import install_console
from tests.accounts.city import City, bearer, build_city, make_user, token_for, use_cheap_hasher

OUT = "990000002"


@pytest.fixture(autouse=True, scope="module")
def _cheap_hashing() -> None:
    use_cheap_hasher()


@pytest.fixture
def city(db: Database) -> City:
    return build_city(db)


@pytest.fixture
def client(settings: Settings, db: Database, city: City) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client


def header(db: Database, settings: Settings, name: str, role: str, scope: str) -> dict[str, str]:
    return bearer(token_for(db, settings, make_user(db, name, role, scope)))


@pytest.fixture
def town_user(db: Database, settings: Settings, city: City) -> dict[str, str]:
    return header(db, settings, "op_in", "monitor_operator", city.code("town", "in"))


@pytest.fixture
def city_admin(db: Database, settings: Settings, city: City) -> dict[str, str]:
    return header(db, settings, "admin_all", "admin", city.code("city", "in"))


def test_every_layer_needs_a_caller(client: TestClient) -> None:
    for path in ("boundaries", "roads?bbox=113,23,114,24", "venues", "stations", "hydrants"):
        response = client.get(f"/api/v1/map/{path}")
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthenticated"


def test_boundaries_are_scoped_but_keep_the_city_outline(
    client: TestClient, town_user: dict[str, str], city: City
) -> None:
    towns = client.get("/api/v1/map/boundaries?level=town&zoom=12", headers=town_user).json()
    codes = [f["properties"]["code"] for f in towns["features"]]
    assert codes == [city.code("town", "in")]
    assert towns["features"][0]["geometry"]["type"] == "Polygon"
    outline = client.get("/api/v1/map/boundaries?level=city", headers=town_user).json()
    assert [f["properties"]["level"] for f in outline["features"]] == ["city"]
    grids = client.get("/api/v1/map/boundaries?level=grid", headers=town_user).json()
    assert all(OUT not in f["properties"]["path"] for f in grids["features"])
    far = client.get(
        "/api/v1/map/boundaries?level=town&bbox=100,10,101,11", headers=town_user
    ).json()
    assert far["features"] == []


def test_points_are_scoped_and_clipped(
    client: TestClient, town_user: dict[str, str], city_admin: dict[str, str]
) -> None:
    for layer in ("venues", "stations", "hydrants"):
        mine = client.get(f"/api/v1/map/{layer}", headers=town_user).json()
        everything = client.get(f"/api/v1/map/{layer}", headers=city_admin).json()
        assert mine["features"], layer
        assert len(everything["features"]) > len(mine["features"]), layer
        assert all(OUT not in str(f["properties"]) for f in mine["features"]), layer
        assert all(f["geometry"]["type"] == "Point" for f in everything["features"])
    west = client.get("/api/v1/map/venues?bbox=113.0,23.0,113.1,23.2", headers=city_admin).json()
    lons = [f["geometry"]["coordinates"][0] for f in west["features"]]
    assert lons
    assert all(113.0 <= lon <= 113.1 for lon in lons)


def test_venues_carry_the_three_colour_status(
    client: TestClient, town_user: dict[str, str]
) -> None:
    venues = client.get("/api/v1/map/venues", headers=town_user).json()
    assert venues["colours"] is True
    assert {f["properties"]["colour"] for f in venues["features"]} <= {"red", "yellow", "green"}


def test_roads_by_zoom_and_bbox(
    client: TestClient, db: Database, settings: Settings, city_admin: dict[str, str]
) -> None:
    empty = client.get("/api/v1/map/roads?bbox=113,22,115,24", headers=city_admin).json()
    assert empty["features"] == []  # no road network yet: an empty layer, not an error
    from firegrid.demo import DemoSpec, demo_road_network
    from firegrid.geo.store import save_network

    network = demo_road_network(DemoSpec.tiny(), 7)
    save_network(db, network, source="test", cache_dir=settings.data_dir)
    west, south, east, north = network.bounds()
    bbox = f"{west},{south},{east},{north}"
    low = client.get(f"/api/v1/map/roads?bbox={bbox}&zoom=9", headers=city_admin).json()
    high = client.get(f"/api/v1/map/roads?bbox={bbox}&zoom=15", headers=city_admin).json()
    assert [f["properties"]["group"] for f in low["features"]] == ["major"]
    assert {f["properties"]["group"] for f in high["features"]} >= {"major", "minor"}
    segments = sum(f["properties"]["segments"] for f in high["features"])
    assert segments > sum(f["properties"]["segments"] for f in low["features"])
    assert segments <= network.n_edges
    line = high["features"][0]["geometry"]
    assert line["type"] == "MultiLineString"
    assert len(line["coordinates"][0]) == 2
    cx, cy = (west + east) / 2, (south + north) / 2
    corner = f"{cx},{cy},{cx + 0.01},{cy + 0.01}"
    part = client.get(f"/api/v1/map/roads?bbox={corner}&zoom=15", headers=city_admin).json()
    assert sum(f["properties"]["segments"] for f in part["features"]) < segments
    assert client.get("/api/v1/map/roads?bbox=", headers=city_admin).status_code == 422
    bad = client.get("/api/v1/map/roads?bbox=1,2,3&zoom=15", headers=city_admin)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_failed"


def test_extent_and_capabilities(client: TestClient, town_user: dict[str, str]) -> None:
    extent = client.get("/api/v1/map/extent", headers=town_user).json()
    assert extent["level"] == "town"
    assert len(extent["bbox"]) == 4
    caps = client.get("/api/v1/map/capabilities", headers=town_user).json()
    assert caps["alarm_feed"] is True
    assert caps["incidents"] is True
    assert set(caps) >= {"isochrones", "coverage", "hydrant_gaps"}


def test_helpers() -> None:
    assert parse_bbox(None) is None
    assert parse_bbox("1,2,3,4") == (1.0, 2.0, 3.0, 4.0)
    for bad in ("1,2,3", "a,b,c,d", "3,2,1,4", "1,2,3,nan"):
        with pytest.raises(Exception, match="bbox"):
            parse_bbox(bad)
    assert road_groups_for_zoom(8) == ["major"]
    assert road_groups_for_zoom(16) == ["major", "secondary", "minor"]
    assert tolerance_deg(10) > tolerance_deg(14) > 0
    import math

    ring = [[math.cos(a / 100 * 2 * math.pi), math.sin(a / 100 * 2 * math.pi)] for a in range(100)]
    ring.append(ring[0])
    coarse = simplify_ring(ring, 0.2)
    assert 4 <= len(coarse) < 20
    assert coarse[0] == coarse[-1]
    assert simplify_ring(ring, 0.0) == ring


# Serving the built console ----------------------------------------------------------------


@pytest.fixture
def static_app(tmp_path: Path, settings: Settings) -> TestClient:
    root = tmp_path / "static"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>console</title>", encoding="utf-8")
    (root / "assets" / "app-123.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    app = FastAPI()
    app.state.settings = settings

    @app.get("/api/v1/thing")
    def thing() -> dict[str, str]:
        return {"ok": "yes"}

    install_console(app, static_dir=root)
    return TestClient(app)


def test_console_files_and_spa_fallback(static_app: TestClient) -> None:
    index = static_app.get("/")
    assert index.status_code == 200
    assert "console" in index.text
    assert index.headers["cache-control"] == "no-cache"
    deep = static_app.get("/monitor/alarm/12")
    assert deep.status_code == 200
    assert "console" in deep.text
    asset = static_app.get("/assets/app-123.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    assert static_app.get("/assets/gone-999.js").status_code == 404
    assert static_app.get("/../secret.txt").text != "no"
    assert static_app.get("/%2e%2e/secret.txt").text != "no"
    config = static_app.get("/console-config.js")
    assert config.text.startswith("window.FIREGRID_CONFIG = ")


def test_console_never_shadows_the_api(static_app: TestClient, client: TestClient) -> None:
    assert static_app.get("/api/v1/thing").json() == {"ok": "yes"}
    assert static_app.get("/api/v1/other").status_code == 404
    assert static_app.post("/api/v1/other").status_code == 404
    assert static_app.post("/api/v1/thing").status_code == 405
    missing = client.get("/api/v1/no-such-route")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").status_code in (200, 503)
    assert client.get("/api/openapi.json").status_code == 200


def test_layers_go_compressed_to_a_client_that_asks(
    client: TestClient, db: Database, settings: Settings, city_admin: dict[str, str]
) -> None:
    from firegrid.demo import DemoSpec, demo_road_network
    from firegrid.geo.store import save_network

    network = demo_road_network(DemoSpec.tiny(), 7)
    save_network(db, network, source="test", cache_dir=settings.data_dir)
    west, south, east, north = network.bounds()
    url = f"/api/v1/map/roads?bbox={west},{south},{east},{north}&zoom=15"
    packed = client.get(url, headers={**city_admin, "Accept-Encoding": "gzip"})
    plain = client.get(url, headers={**city_admin, "Accept-Encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert packed.json() == plain.json()  # httpx decodes the gzip body
    assert int(packed.headers["content-length"]) < len(plain.content) / 3


def _crowd(db: Database, city: City, n: int) -> list[int]:
    """``n`` more venues in the town "in", spread over about 2 km (their ids)."""
    from tests.accounts.city import add_object

    rng = np.random.default_rng(5)
    ids = []
    with db.session() as session:
        for i in range(n):
            row = add_object(session, city, "venue", "in")
            row.lon += float(rng.uniform(-0.01, 0.01))
            row.lat += float(rng.uniform(-0.01, 0.01))
            row.is_key_unit = i < 7
            ids.append(row.id)
        session.commit()
    return ids


def test_crowded_views_come_as_clusters_that_split_when_zooming_in(
    client: TestClient, db: Database, city: City, town_user: dict[str, str]
) -> None:
    _crowd(db, city, 400)
    plain = client.get("/api/v1/map/venues", headers=town_user).json()
    total = plain["total"]
    assert total > 400
    assert plain["clustered"] is False
    assert len(plain["features"]) == total
    low = client.get("/api/v1/map/venues?zoom=11", headers=town_user).json()
    assert low["clustered"] is True
    assert low["truncated"] is False
    assert low["total"] == total
    clusters = [f["properties"] for f in low["features"] if f["properties"].get("cluster")]
    singles = [f for f in low["features"] if not f["properties"].get("cluster")]
    assert clusters
    assert sum(c["count"] for c in clusters) + len(singles) == total  # exact, nothing cut
    assert len(low["features"]) < total / 10
    assert all(set(c["flags"]) == {"red", "yellow"} for c in clusters)
    assert all(c["bounds"][0] <= c["bounds"][2] for c in clusters)
    street = client.get("/api/v1/map/venues?zoom=16", headers=town_user).json()
    assert street["clustered"] is False
    assert len(street["features"]) == total


def test_a_cut_layer_says_how_many_it_left_out_and_keeps_red_venues(
    client: TestClient, db: Database, city: City, town_user: dict[str, str]
) -> None:
    _crowd(db, city, 30)
    cut = client.get("/api/v1/map/venues?limit=10", headers=town_user).json()
    assert cut["truncated"] is True
    assert len(cut["features"]) == 10
    assert cut["total"] > 30
    hydrants = client.get("/api/v1/map/hydrants?limit=1", headers=town_user).json()
    assert hydrants["total"] >= 1
    assert hydrants["truncated"] is (hydrants["total"] > 1)


def test_layers_answer_304_to_their_etag_and_change_with_the_data(
    client: TestClient, db: Database, city: City, town_user: dict[str, str]
) -> None:
    first = client.get("/api/v1/map/venues?zoom=12", headers=town_user)
    assert first.headers["cache-control"] == "private, no-cache"
    etag = first.headers["etag"]
    same = client.get("/api/v1/map/venues?zoom=12", headers={**town_user, "If-None-Match": etag})
    assert same.status_code == 304
    _crowd(db, city, 1)  # a new venue: a new layer version, a new body
    changed = client.get("/api/v1/map/venues?zoom=12", headers={**town_user, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["total"] == first.json()["total"] + 1
    towns = client.get("/api/v1/map/boundaries?level=town", headers=town_user)
    again = client.get(
        "/api/v1/map/boundaries?level=town",
        headers={**town_user, "If-None-Match": towns.headers["etag"]},
    )
    assert again.status_code == 304


def test_roads_at_city_zoom_are_thinned_to_what_a_pixel_shows(
    client: TestClient, db: Database, settings: Settings, city_admin: dict[str, str]
) -> None:
    from firegrid.demo import DemoSpec, demo_road_network
    from firegrid.geo.store import save_network

    network = demo_road_network(DemoSpec.tiny(), 7)
    save_network(db, network, source="test", cache_dir=settings.data_dir)
    west, south, east, north = network.bounds()
    bbox = f"{west},{south},{east},{north}"
    far = client.get(f"/api/v1/map/roads?bbox={bbox}&zoom=8&groups=major", headers=city_admin)
    near = client.get(f"/api/v1/map/roads?bbox={bbox}&zoom=15&groups=major", headers=city_admin)
    far_segments = sum(f["properties"]["segments"] for f in far.json()["features"])
    near_segments = sum(f["properties"]["segments"] for f in near.json()["features"])
    assert 0 < far_segments < near_segments
    assert len(far.content) < len(near.content) * 0.7  # fewer segments, fewer decimals


def test_road_names_from_the_osm_import_at_street_zoom(
    client: TestClient,
    db: Database,
    settings: Settings,
    city_admin: dict[str, str],
    tmp_path: Path,
) -> None:
    from firegrid.geo.osm import import_osm
    from firegrid.geo.store import save_network
    from tests.geo.conftest import DATA, osm_xml_to_pbf

    network, report = import_osm(osm_xml_to_pbf(DATA / "town.osm", tmp_path / "town.osm.pbf"))
    saved = save_network(db, network, source="town.osm", report=report, labels=report.labels)
    assert saved["labels"] == len(report.labels) > 0
    west, south, east, north = network.bounds()
    bbox = f"{west - 0.01},{south - 0.01},{east + 0.01},{north + 0.01}"
    near = client.get(f"/api/v1/map/road-labels?bbox={bbox}&zoom=16", headers=city_admin)
    names = {f["properties"]["name"] for f in near.json()["features"]}
    assert {"Row 0", "Column 1"} <= names
    far = client.get(f"/api/v1/map/road-labels?bbox={bbox}&zoom=11", headers=city_admin).json()
    assert far["features"] == []  # names are written at street zoom only
    # a new import replaces the names with the network
    save_network(db, network, source="again", report=report, labels=report.labels[:1])
    again = client.get(f"/api/v1/map/road-labels?bbox={bbox}&zoom=16", headers=city_admin)
    assert len(again.json()["features"]) == 1


def test_devices_sit_at_their_venues_and_clusters_count_the_offline(
    client: TestClient, town_user: dict[str, str], city_admin: dict[str, str]
) -> None:
    assert client.get("/api/v1/map/devices").status_code == 401
    mine = client.get("/api/v1/map/devices", headers=town_user).json()
    everything = client.get("/api/v1/map/devices", headers=city_admin).json()
    assert mine["features"]
    assert everything["total"] > mine["total"] == len(mine["features"])
    assert all(OUT not in str(f["properties"]) for f in mine["features"])
    venues = client.get("/api/v1/map/venues", headers=town_user).json()
    at = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in venues["features"]}
    for f in mine["features"]:
        assert f["geometry"]["coordinates"] == at[f["properties"]["venue_id"]]
        assert f["properties"]["online"] is False  # no state stored yet: not seen online
