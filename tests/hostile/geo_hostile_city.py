"""Helpers of the geo hostile tests: the three-town dispatch city with a road network that
covers only part of it, misplaced rows written straight into the database, API callers.

Issue #24: one fire station the road network does not reach used to take dispatch down
city-wide (every recommendation and dispatch answered 500 until it was deleted).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import delete, select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.models import Hydrant, Station, Vehicle
from firegrid.geo.models import RoadEdge, RoadNetworkRecord, RoadNode
from firegrid.geo.store import save_network
from firegrid.places.models import Jurisdiction
from tests.accounts.city import bearer, make_user, token_for
from tests.dispatch.city import DCity, network

#: Beijing: far outside the test city (Guangdong) and its roads.
BEIJING = (116.397, 39.908)
#: Inside the east town of the test city.
EAST_POINT = (113.25, 23.075)


def headers(db: Database, settings: Settings, dcity: DCity, role: str, key: str) -> dict[str, str]:
    name = f"{role}_{key.replace(':', '_')}"
    uid = make_user(db, name, role, dcity.codes[key])
    return bearer(token_for(db, settings, uid))


def keep_only_west_roads(db: Database, settings: Settings) -> None:
    """Replace the city's network by the roads of its west town only (lon < 113.1): the
    middle and east towns are then kilometres from any road."""
    net = network()
    save_network(db, net.subgraph(net.node_lon < 113.1), source="west only", cache_dir=None)


def drop_road_network(db: Database) -> None:
    with db.session() as session:
        session.execute(delete(RoadEdge))
        session.execute(delete(RoadNode))
        session.execute(delete(RoadNetworkRecord))


def misplace_station(db: Database, dcity: DCity, code: str = "ST-BJ") -> dict[str, Any]:
    """A station (with one pumper) in Beijing, written by SQL as if from before validation,
    filed under the east town's north grid."""
    path = dcity.paths["grid:east:n"]
    with db.session() as session:
        grid_id = _grid_id(session, path)
        station = Station(
            code=code,
            name="misplaced",
            station_type="standard",
            force_kind="state",
            lon=BEIJING[0],
            lat=BEIJING[1],
            jurisdiction_path=path,
            jurisdiction_id=grid_id,
        )
        session.add(station)
        session.flush()
        vehicle = Vehicle(
            code=f"{code}-V1",
            station_id=station.id,
            vehicle_type="pumper",
            call_sign=f"{code}-pumper",
            crew=4,
            capabilities=["water", "pump"],
            jurisdiction_path=path,
        )
        session.add(vehicle)
        session.flush()
        return {"station_id": station.id, "vehicle_id": vehicle.id, "code": code}


def misplace_hydrant(db: Database, dcity: DCity, code: str = "HY-BJ") -> None:
    path = dcity.paths["grid:east:n"]
    with db.session() as session:
        grid_id = _grid_id(session, path)
        session.add(
            Hydrant(
                code=code,
                lon=BEIJING[0],
                lat=BEIJING[1],
                jurisdiction_path=path,
                jurisdiction_id=grid_id,
            )
        )


def _grid_id(session: Any, path: str) -> int:
    return int(session.scalars(select(Jurisdiction.id).where(Jurisdiction.path == path)).one())


def near_node(lon: float, lat: float) -> tuple[float, float]:
    """The road node of the test network nearest to a point."""
    net = network()
    node = int(np.argmin((net.node_lon - lon) ** 2 + (net.node_lat - lat) ** 2))
    return float(net.node_lon[node]), float(net.node_lat[node])
