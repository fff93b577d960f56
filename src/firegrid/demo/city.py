"""Build the synthetic demo city and write it to the database, fast.

Generation is vectorised NumPy/Shapely, deterministic by seed: each phase draws from its
own stream (``SeedSequence([seed, phase])``), so the same seed gives byte-identical rows.
Ids are assigned here, so children reference parents without reading them back; rows go
in with SQLAlchemy Core ``insert()`` in chunks, all in one transaction (a failed build
leaves nothing behind).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Table, insert

from firegrid.core.bulk import (
    advance_id_sequences,
    require_empty,
    sqlite_bulk_cache,
    table_of,
)
from firegrid.core.db import Database
from firegrid.demo.devices import device_rows, generate_devices
from firegrid.demo.geometry import load_outline
from firegrid.demo.jurisdictions import build_tree, grid_worker_rows, jurisdiction_rows
from firegrid.demo.resources import (
    candidate_sites,
    generate_hydrants,
    generate_stations,
    hydrant_rows,
    logistics_rows,
    station_rows,
    vehicle_rows,
)
from firegrid.demo.spec import DemoSpec
from firegrid.demo.venues import (
    RowFn,
    address_rows,
    building_rows,
    chunks,
    generate_addresses,
    generate_buildings,
    generate_venues,
    venue_rows,
)
from firegrid.devices.models import Device
from firegrid.dispatch.models import Hydrant, LogisticsPoint, Station, Vehicle
from firegrid.geo.generate import generate_city_network
from firegrid.geo.network import RoadNetwork
from firegrid.places.models import Building, GridWorker, Jurisdiction, StandardAddress, Venue

CHUNK_ROWS = 5_000
#: SQLite page cache for the build connection (KiB); restored afterwards

# one random stream per phase: changing one phase never shifts another's numbers
_STREAMS = {
    "jurisdictions": 1,
    "venues": 2,
    "buildings": 3,
    "addresses": 4,
    "stations": 5,
    "hydrants": 6,
    "devices": 7,
    "grid_workers": 8,
}

COUNT_KEYS = (
    "towns",
    "villages",
    "grids",
    "grid_workers",
    "venues",
    "buildings",
    "standard_addresses",
    "stations",
    "vehicles",
    "hydrants",
    "logistics_points",
    "devices",
)


@dataclass(frozen=True)
class TableLoad:
    """Rows for one table: ``rows(start, stop)`` builds rows ``[start, stop)`` on demand."""

    key: str
    table: Table
    count: int
    rows: RowFn


def _rng(seed: int, phase: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAMS[phase]]))


def _from_list(rows: list[dict[str, Any]]) -> RowFn:
    return lambda start, stop: rows[start:stop]


def demo_road_network(spec: DemoSpec, seed: int) -> RoadNetwork:
    """The road network the demo city's hydrants stand along.

    It is ``generate_city_network(outline, seed, spec.road_nodes)`` on the WGS-84 outline,
    so a caller that stores the network gets the same one.
    """
    return generate_city_network(load_outline(), seed, spec.road_nodes)


class _Clock:
    def __init__(self, sink: dict[str, float] | None) -> None:
        self.sink = sink if sink is not None else {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.sink[name] = self.sink.get(name, 0.0) + time.perf_counter() - start


def generate_demo_city(
    spec: DemoSpec,
    seed: int,
    *,
    network: RoadNetwork | None = None,
    timings: dict[str, float] | None = None,
) -> list[TableLoad]:
    """Generate every table of the demo city (no database needed), parents first."""
    clock = _Clock(timings)
    common = {"created_at": spec.as_of, "updated_at": spec.as_of, "deleted_at": None}
    with clock.phase("generate.jurisdictions"):
        tree = build_tree(spec, _rng(seed, "jurisdictions"))
        jurisdictions = jurisdiction_rows(tree, common)
        workers = grid_worker_rows(tree, spec.grid_workers, _rng(seed, "grid_workers"), common)
    with clock.phase("generate.venues"):
        venues = generate_venues(tree, spec.venues, _rng(seed, "venues"))
        buildings = generate_buildings(tree, venues, _rng(seed, "buildings"))
        addresses = generate_addresses(
            venues,
            buildings,
            spec.rooms_per_rental,
            spec.rooms_per_residential,
            _rng(seed, "addresses"),
        )
    with clock.phase("generate.stations"):
        rng = _rng(seed, "stations")
        sites = candidate_sites(tree, rng)
        stations = generate_stations(tree, spec.stations, sites, rng)
        station_list = station_rows(tree, stations, common)
        vehicles = vehicle_rows(tree, stations, rng, common)
        logistics = logistics_rows(tree, sites, rng, common)
    with clock.phase("generate.road_network"):
        if network is None:
            network = demo_road_network(spec, seed)
    with clock.phase("generate.hydrants"):
        rng = _rng(seed, "hydrants")
        hydrants = generate_hydrants(tree, network, spec.hydrants, rng)
        hydrant_fn = hydrant_rows(tree, hydrants, rng, common)
    with clock.phase("generate.devices"):
        devices = generate_devices(venues, spec, _rng(seed, "devices"))

    return [
        TableLoad(
            "jurisdictions", table_of(Jurisdiction), len(jurisdictions), _from_list(jurisdictions)
        ),
        TableLoad("grid_workers", table_of(GridWorker), len(workers), _from_list(workers)),
        TableLoad("venues", table_of(Venue), len(venues), venue_rows(tree, venues, common)),
        TableLoad(
            "buildings",
            table_of(Building),
            len(buildings),
            building_rows(buildings, venues, common),
        ),
        TableLoad(
            "standard_addresses",
            table_of(StandardAddress),
            len(addresses),
            address_rows(tree, venues, addresses),
        ),
        TableLoad("stations", table_of(Station), len(station_list), _from_list(station_list)),
        TableLoad("vehicles", table_of(Vehicle), len(vehicles), _from_list(vehicles)),
        TableLoad("hydrants", table_of(Hydrant), len(hydrants), hydrant_fn),
        TableLoad(
            "logistics_points", table_of(LogisticsPoint), len(logistics), _from_list(logistics)
        ),
        TableLoad(
            "devices", table_of(Device), len(devices), device_rows(tree, venues, devices, common)
        ),
    ]


def build_demo_city(
    database: Database,
    spec: DemoSpec | None = None,
    seed: int = 0,
    *,
    network: RoadNetwork | None = None,
    timings: dict[str, float] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, int]:
    """Generate the demo city for ``spec`` and ``seed`` and write it to ``database``.

    The target tables must be empty (:class:`Conflict` otherwise). Pass ``network`` to
    reuse a road network already generated with :func:`demo_road_network`; pass a dict as
    ``timings`` to receive the seconds spent per phase. Returns the row counts per table.
    """
    spec = spec or DemoSpec()
    clock = _Clock(timings)
    loads = generate_demo_city(spec, seed, network=network, timings=clock.sink)
    with database.engine.begin() as connection, sqlite_bulk_cache(connection):
        require_empty(connection, [load.table for load in loads], "the demo city")
        for load in loads:
            with clock.phase(f"write.{load.key}"):
                _insert(connection, load, chunk_rows)
        advance_id_sequences(connection, [load.table for load in loads])

    counts = {load.key: load.count for load in loads}
    tree_rows = next(load for load in loads if load.key == "jurisdictions")
    for row in tree_rows.rows(0, tree_rows.count):
        level = {"town": "towns", "village": "villages", "grid": "grids"}.get(row["level"])
        if level:
            counts[level] = counts.get(level, 0) + 1
    return {key: counts[key] for key in COUNT_KEYS}


def _insert(connection: Connection, load: TableLoad, chunk_rows: int) -> None:
    statement = insert(load.table)
    for start, stop in chunks(load.count, chunk_rows):
        connection.execute(statement, load.rows(start, stop))
