"""The travel-time engine of a database, loaded once per process and kept warm.

The engine is built from the active road network (array cache first) with the database's
fire stations registered as the ``stations`` facility set (a precomputed tree per station),
so "which stations reach this point first" needs no search at request time. It is rebuilt
when the network or the stations change.

A station the engine cannot snap (farther from every road node than its snapping limit) is
not registered: it is kept in ``GeoContext.skipped`` so that answers report it instead of
failing the whole request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.models import Station
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.facilities import FacilityPoint, SkippedFacility, split_reachable
from firegrid.geo.models import RoadNetworkRecord
from firegrid.geo.store import active_record, load_network

STATIONS = "stations"


@dataclass(frozen=True)
class StationInfo:
    id: int
    code: str
    name: str
    station_type: str
    force_kind: str
    lon: float
    lat: float
    jurisdiction_path: str


@dataclass
class GeoContext:
    """An engine with the stations it was built with."""

    engine: TravelTimeEngine
    stations: list[StationInfo]
    stamp: tuple[Any, ...]
    #: stations left out of the ``stations`` facility set (off the road network)
    skipped: list[SkippedFacility] = field(default_factory=list)

    @property
    def registered(self) -> list[StationInfo]:
        """The stations in the engine's ``stations`` facility set."""
        left_out = {s.id for s in self.skipped}
        return [s for s in self.stations if s.id not in left_out]

    def skipped_station(self, station_id: int) -> SkippedFacility | None:
        return next((s for s in self.skipped if s.id == station_id), None)

    def skipped_visible(self, can_see_path: Callable[[str], bool]) -> list[SkippedFacility]:
        """The skipped stations in a caller's scope (``Principal.can_see_path``)."""
        paths = {s.id: s.jurisdiction_path for s in self.stations}
        return [s for s in self.skipped if s.id in paths and can_see_path(paths[s.id])]

    def station(self, station_id: int) -> StationInfo:
        for info in self.stations:
            if info.id == station_id:
                return info
        from firegrid.core.errors import NotFound

        raise NotFound(f"station {station_id} not found", {"station_id": station_id})


_lock = threading.Lock()
_contexts: dict[str, GeoContext] = {}


def _stamp(database: Database) -> tuple[Any, ...]:
    with database.session() as session:
        record = active_record(session)
        stations = session.execute(
            select(func.count(Station.id), func.max(Station.updated_at)).where(
                Station.deleted_at.is_(None)
            )
        ).one()
        return (record.checksum, int(stations[0]), stations[1])


def load_stations(database: Database) -> list[StationInfo]:
    with database.session() as session:
        rows = session.scalars(
            select(Station).where(Station.deleted_at.is_(None)).order_by(Station.id)
        ).all()
        return [
            StationInfo(
                r.id,
                r.code,
                r.name,
                r.station_type,
                r.force_kind,
                r.lon,
                r.lat,
                r.jurisdiction_path,
            )
            for r in rows
        ]


def geo_context(database: Database, settings: Settings) -> GeoContext:
    """The warm engine for ``database``; built on first use and after changes."""
    stamp = _stamp(database)
    with _lock:
        context = _contexts.get(database.url)
        if context is not None and context.stamp == stamp:
            return context
        network = load_network(database, settings.data_dir)
        engine = TravelTimeEngine(network)
        stations = load_stations(database)
        skipped = register_stations(engine, stations)
        context = GeoContext(engine, stations, stamp, skipped)
        _contexts[database.url] = context
        return context


def register_stations(
    engine: TravelTimeEngine, stations: list[StationInfo]
) -> list[SkippedFacility]:
    """Register the stations the engine can snap as ``stations``; return the skipped ones."""
    points = [FacilityPoint("station", s.id, s.code, s.lon, s.lat) for s in stations]
    keep, skipped = split_reachable(engine, points)
    if keep:
        engine.register_facilities(
            STATIONS,
            np.asarray([(stations[i].lon, stations[i].lat) for i in keep], dtype=np.float64),
            [stations[i].id for i in keep],
        )
    return skipped


def network_summary(database: Database) -> dict[str, Any]:
    with database.session() as session:
        record: RoadNetworkRecord = active_record(session)
        return {
            "network_id": record.id,
            "source": record.source,
            "nodes": record.node_count,
            "edges": record.edge_count,
            "dropped_nodes": record.dropped_nodes,
            "dropped_edges": record.dropped_edges,
            "created_at": record.created_at.isoformat(),
        }
