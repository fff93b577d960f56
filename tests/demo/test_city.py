"""The demo city: exact sizes, determinism, geometry that nests, and consistent links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import Table, func, select

from firegrid.core.db import Database
from firegrid.core.errors import Conflict, ValidationFailed
from firegrid.core.migrate import upgrade
from firegrid.demo import DemoSpec, build_demo_city, generate_demo_city
from firegrid.demo.categories import INDEX, PROFILES, THREE_SMALL
from firegrid.demo.geometry import apportion, load_outline
from firegrid.demo.names import luhn_check_digits
from firegrid.devices.models import Device
from firegrid.dispatch.models import Hydrant, LogisticsPoint, Station, Vehicle
from firegrid.places.models import Building, GridWorker, Jurisdiction, StandardAddress, Venue
from tests.conftest import make_database_url

TINY_COUNTS = {
    "towns": 3,
    "villages": 9,
    "grids": 27,
    "grid_workers": 60,
    "venues": 600,
    "stations": 6,
    "logistics_points": 3,
}
MODELS: list[Any] = [
    Jurisdiction,
    GridWorker,
    Venue,
    Building,
    StandardAddress,
    Station,
    Vehicle,
    Hydrant,
    LogisticsPoint,
    Device,
]


@pytest.fixture
def tiny(db: Database) -> Iterator[tuple[Database, dict[str, int]]]:
    counts = build_demo_city(db, DemoSpec.tiny(), seed=7)
    return db, counts


def _dump(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with database.engine.connect() as connection:
        for model in MODELS:
            table: Table = model.__table__
            rows = connection.execute(select(table).order_by(table.c.id)).all()
            out[table.name] = [tuple(row) for row in rows]
    return out


def _jurisdictions(database: Database) -> dict[int, Any]:
    with database.engine.connect() as connection:
        rows = connection.execute(select(Jurisdiction.__table__)).all()
    return {row.id: row for row in rows}


def test_tiny_city_has_exact_counts(tiny: tuple[Database, dict[str, int]]) -> None:
    database, counts = tiny
    for key, expected in TINY_COUNTS.items():
        assert counts[key] == expected, key
    with database.engine.connect() as connection:
        for model in MODELS:
            table: Table = model.__table__
            n = connection.execute(select(func.count()).select_from(table)).scalar_one()
            if table.name == "jurisdictions":
                assert n == 1 + counts["towns"] + counts["villages"] + counts["grids"]
            else:
                assert n == counts[table.name], table.name
            assert n > 0, table.name
    assert counts["buildings"] >= 1
    assert counts["standard_addresses"] >= counts["venues"]


def test_same_seed_gives_identical_rows(
    tiny: tuple[Database, dict[str, int]], tmp_path: Path
) -> None:
    database, _ = tiny
    for url in make_database_url(tmp_path / "second"):
        upgrade(url)
        other = Database(url)
        try:
            build_demo_city(other, DemoSpec.tiny(), seed=7)
            assert _dump(other) == _dump(database)
        finally:
            other.dispose()


def _all_rows(spec: DemoSpec, seed: int) -> list[list[dict[str, Any]]]:
    return [load.rows(0, load.count) for load in generate_demo_city(spec, seed)]


def test_generation_is_deterministic_and_seed_dependent() -> None:
    spec = DemoSpec.tiny()
    first = _all_rows(spec, 3)
    assert first == _all_rows(spec, 3)
    assert first != _all_rows(spec, 4)


def test_tree_levels_paths_and_codes(tiny: tuple[Database, dict[str, int]]) -> None:
    database, _ = tiny
    rows = _jurisdictions(database)
    city = [r for r in rows.values() if r.level == "city"]
    assert len(city) == 1
    assert (city[0].code, city[0].path, city[0].name_zh) == ("441900", "/441900/", "东莞市")
    digits = {"town": 3, "village": 3, "grid": 2}
    parent_level = {"town": "city", "village": "town", "grid": "village"}
    for row in rows.values():
        assert row.path.startswith("/")
        assert row.path.endswith("/")
        if row.level == "city":
            assert row.parent_id is None
            continue
        parent = rows[row.parent_id]
        assert parent.level == parent_level[row.level]
        assert row.code.startswith(parent.code)
        assert len(row.code) == len(parent.code) + digits[row.level]
        assert row.path == f"{parent.path}{row.code}/"
        assert row.name_zh
        assert row.name_en
    grid_names = [r.name_zh for r in rows.values() if r.level == "grid"]
    assert all(re.fullmatch(r"第\d+网格", name) for name in grid_names)
    village_names = [r.name_zh for r in rows.values() if r.level == "village"]
    assert all(name.endswith(("社区", "村")) for name in village_names)


def test_children_tile_their_parents(tiny: tuple[Database, dict[str, int]]) -> None:
    database, _ = tiny
    rows = _jurisdictions(database)
    polygons = {i: shape(r.boundary) for i, r in rows.items()}
    assert all(p.is_valid and not p.is_empty for p in polygons.values())
    for i, row in rows.items():
        assert polygons[i].contains(shapely.Point(row.center_lon, row.center_lat))
    outline = load_outline()
    city_id = next(i for i, r in rows.items() if r.level == "city")
    assert polygons[city_id].equals_exact(outline, 1e-12)
    for parent_id, parent in polygons.items():
        children = [polygons[i] for i, r in rows.items() if r.parent_id == parent_id]
        if not children:
            continue
        tol = parent.area * 1e-9
        assert abs(sum(c.area for c in children) - parent.area) < tol
        union = shapely.union_all(children)
        assert shapely.symmetric_difference(union, parent).area < tol
        for child in children:
            assert shapely.difference(child, parent).area < tol


def _grid_polygons(database: Database) -> dict[int, Any]:
    rows = _jurisdictions(database)
    return {i: shape(r.boundary) for i, r in rows.items() if r.level == "grid"}


@pytest.mark.parametrize("model", [Venue, Station, Hydrant, LogisticsPoint])
def test_points_lie_in_their_grid_and_the_city(
    tiny: tuple[Database, dict[str, int]], model: Any
) -> None:
    database, _ = tiny
    grids = _grid_polygons(database)
    paths = {r.id: r.path for r in _jurisdictions(database).values()}
    table: Table = model.__table__
    with database.engine.connect() as connection:
        rows = connection.execute(
            select(table.c.lon, table.c.lat, table.c.jurisdiction_id, table.c.jurisdiction_path)
        ).all()
    assert rows
    lon = np.array([r.lon for r in rows])
    lat = np.array([r.lat for r in rows])
    owner = np.array([grids[r.jurisdiction_id] for r in rows], dtype=object)
    assert shapely.contains_xy(owner, lon, lat).all()
    assert shapely.contains_xy(load_outline(), lon, lat).all()
    assert all(r.jurisdiction_path == paths[r.jurisdiction_id] for r in rows)


def test_venue_attributes_and_mix(tiny: tuple[Database, dict[str, int]]) -> None:
    database, counts = tiny
    with database.engine.connect() as connection:
        venues = connection.execute(select(Venue.__table__)).all()
        address_venues = connection.execute(
            select(StandardAddress.full_text, StandardAddress.jurisdiction_path)
        ).all()
        buildings = connection.execute(select(Building.venue_id)).all()
    n = counts["venues"]
    by_cat: dict[str, int] = {}
    for v in venues:
        by_cat[v.category] = by_cat.get(v.category, 0) + 1
        assert re.fullmatch(r"V\d{8}", v.code)
        assert v.address.startswith("东莞市")
        assert v.address.endswith("号")
        assert v.floor_area_m2 > 0
        assert v.floors >= 1
        assert v.occupancy >= 1
        assert v.construction_class in ("I", "II", "III", "IV")
        assert re.fullmatch(r"[A-Z]\d{2}", v.industry_code)
        assert re.fullmatch(r"1[358]\d{9}", v.contact_phone)
        assert v.is_key_unit == PROFILES[INDEX[v.category]].key_unit
    expected = apportion([p.share for p in PROFILES], n)
    assert by_cat == {p.code: int(k) for p, k in zip(PROFILES, expected, strict=True) if k}
    key_units = sum(v.is_key_unit for v in venues)
    assert key_units == pytest.approx(0.02 * n, abs=2)
    three_small = sum(by_cat.get(c, 0) for c in THREE_SMALL)
    assert three_small == pytest.approx(0.35 * n, abs=2)
    assert by_cat["rental_housing"] == pytest.approx(0.30 * n, abs=2)
    assert all(v.is_key_unit for v in venues if v.is_high_risk)
    rentals = [v for v in venues if v.category == "rental_housing"]
    assert all("night_occupied" in v.tags and v.night_occupancy >= 1 for v in rentals)
    # every venue address is in the register, under the venue's grid
    register = {(a.full_text, a.jurisdiction_path) for a in address_venues}
    assert all((v.address, v.jurisdiction_path) in register for v in venues)
    # key units have 1-3 buildings, other venues none
    per_venue: dict[int, int] = {}
    for (venue_id,) in buildings:
        per_venue[venue_id] = per_venue.get(venue_id, 0) + 1
    key_ids = {v.id for v in venues if v.is_key_unit}
    assert set(per_venue) == key_ids
    assert all(1 <= k <= 3 for k in per_venue.values())


def test_devices_belong_to_venues(tiny: tuple[Database, dict[str, int]]) -> None:
    database, _ = tiny
    with database.engine.connect() as connection:
        venues = {v.id: v for v in connection.execute(select(Venue.__table__)).all()}
        devices = connection.execute(select(Device.__table__)).all()
    kinds = {d.kind for d in devices}
    assert kinds == {"transmitter", "smoke_alarm", "sprinkler_pressure", "electrical_monitor"}
    transmitters = [d for d in devices if d.kind == "transmitter"]
    assert sorted(d.venue_id for d in transmitters) == sorted(
        i for i, v in venues.items() if v.is_key_unit
    )
    assert {(d.protocol, d.external_id) for d in devices}.__len__() == len(devices)
    for d in devices:
        venue = venues[d.venue_id]
        assert d.jurisdiction_path == venue.jurisdiction_path
        if d.kind == "transmitter":
            assert d.protocol == "gb26875"
            assert 0 < int(d.external_id) < 1 << 48
        else:
            assert d.protocol in ("mqtt", "http")
            assert re.fullmatch(r"86\d{13}", d.external_id)
            body = np.array([int(d.external_id[:14])], dtype=np.int64)
            assert int(luhn_check_digits(body, 14)[0]) == int(d.external_id[14])
        if d.kind == "smoke_alarm":
            assert venue.category in (*THREE_SMALL, "rental_housing")


def test_luhn_matches_a_known_imei() -> None:
    assert int(luhn_check_digits(np.array([49015420323751], dtype=np.int64), 14)[0]) == 8


def test_stations_and_vehicles(tiny: tuple[Database, dict[str, int]]) -> None:
    database, _ = tiny
    with database.engine.connect() as connection:
        stations = {s.id: s for s in connection.execute(select(Station.__table__)).all()}
        vehicles = connection.execute(select(Vehicle.__table__)).all()
    spec = DemoSpec.tiny()
    types = [s.station_type for s in stations.values()]
    assert {t: types.count(t) for t in set(types)} == spec.stations
    fleet_size = {
        "special": (10, 12),
        "standard": (7, 8),
        "secondary": (4, 5),
        "small": (2, 3),
        "micro": (1, 2),
    }
    for station in stations.values():
        own = [v for v in vehicles if v.station_id == station.id]
        lo, hi = fleet_size[station.station_type]
        assert lo <= len(own) <= hi
        assert all(v.jurisdiction_path == station.jurisdiction_path for v in own)
        assert all(v.status == "available_in_station" and v.capabilities for v in own)
        if station.station_type in ("special", "standard", "secondary"):
            assert station.force_kind == "state"
            assert station.name.endswith("消防救援站")
        else:
            assert station.force_kind in ("professional", "enterprise", "volunteer")
    special = next(s for s in stations.values() if s.station_type == "special")
    own_types = {v.vehicle_type for v in vehicles if v.station_id == special.id}
    assert {"ladder", "rescue", "hazmat", "tanker", "command"} <= own_types


def test_hydrant_statuses(tiny: tuple[Database, dict[str, int]]) -> None:
    database, counts = tiny
    with database.engine.connect() as connection:
        statuses = [s for (s,) in connection.execute(select(Hydrant.status)).all()]
    assert counts["hydrants"] == pytest.approx(DemoSpec.tiny().hydrants, rel=0.05)
    assert set(statuses) <= {"in_service", "low_pressure", "out_of_service"}
    assert statuses.count("in_service") > 0.85 * len(statuses)


def test_build_refuses_a_database_with_rows(tiny: tuple[Database, dict[str, int]]) -> None:
    database, _ = tiny
    with pytest.raises(Conflict):
        build_demo_city(database, DemoSpec.tiny(), seed=7)


def test_new_rows_after_the_build_get_fresh_ids(tiny: tuple[Database, dict[str, int]]) -> None:
    database, counts = tiny
    with database.session() as session:
        station = session.scalars(select(Station).limit(1)).one()
        vehicle = Vehicle(
            code="NEW-1",
            station_id=station.id,
            vehicle_type="pumper",
            call_sign="new",
            jurisdiction_path=station.jurisdiction_path,
        )
        session.add(vehicle)
        session.flush()
        assert vehicle.id > counts["vehicles"]


def test_spec_validation_and_scaling() -> None:
    spec = DemoSpec()
    assert (spec.towns, spec.villages, spec.grids, spec.grid_workers) == (33, 593, 2952, 9066)
    assert spec.venues >= 50_000
    assert 90 <= spec.station_count <= 110
    big = spec.scaled(20)
    assert big.venues == 1_000_000
    assert big.hydrants == 20 * spec.hydrants
    assert (big.grids, big.station_count) == (spec.grids, spec.station_count)
    with pytest.raises(ValidationFailed):
        DemoSpec(grids=10, villages=20)
    with pytest.raises(ValidationFailed):
        spec.scaled(0)


@pytest.mark.slow
def test_default_city_matches_published_figures(db: Database) -> None:
    import time

    start = time.perf_counter()
    counts = build_demo_city(db, DemoSpec(), seed=1)
    elapsed = time.perf_counter() - start
    assert (counts["towns"], counts["villages"], counts["grids"]) == (33, 593, 2952)
    assert counts["grid_workers"] == 9066
    assert counts["venues"] >= 50_000
    assert 90 <= counts["stations"] <= 110
    assert counts["standard_addresses"] >= counts["venues"]
    assert elapsed < 60, f"default city took {elapsed:.1f} s"
    with db.engine.connect() as connection:
        per_grid = connection.execute(
            select(GridWorker.grid_id, func.count()).group_by(GridWorker.grid_id)
        ).all()
    assert len(per_grid) == 2952


def test_categories_are_in_the_taxonomy() -> None:
    from firegrid.places.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    assert {p.code for p in PROFILES} <= set(taxonomy.categories)
    assert sum(p.share for p in PROFILES) == pytest.approx(1.0)
    for profile in PROFILES:
        assert profile.key_unit == taxonomy.category(profile.code).key_unit_default
    assert {p.code for p in PROFILES if taxonomy.is_three_small(p.code)} == set(THREE_SMALL)


def test_register_entries_compose_their_text(tiny: tuple[Database, dict[str, int]]) -> None:
    database, _ = tiny
    with database.engine.connect() as connection:
        rows = connection.execute(select(StandardAddress.__table__)).all()
    assert len({r.code for r in rows}) == len(rows)
    assert len({r.full_text for r in rows}) == len(rows)
    assert any(r.building for r in rows)
    assert any(r.room for r in rows)
    for r in rows:
        text = f"东莞市{r.town}{r.village}{r.road}{r.number}号"
        text += (f"{r.building}栋" if r.building else "") + (f"{r.unit}单元" if r.unit else "")
        text += f"{r.room}房" if r.room else ""
        assert r.full_text == text
