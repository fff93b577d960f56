"""``GET /api/v1/move-up``: which available unit to move to which empty station."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from firegrid.accounts.public import Principal
from firegrid.api.deps import SessionDep, require
from firegrid.dispatch.models import Station, Vehicle
from firegrid.dispatch.moveup import WITHIN_S, movable_units, plan_move_up
from firegrid.dispatch.recommend import STATIONS, load_units

router = APIRouter(tags=["dispatch"])


class MoveOut(BaseModel):
    vehicle_id: int
    call_sign: str
    from_station_id: int
    from_station: str
    to_station_id: int
    to_station: str
    travel_s: float
    nodes_restored: int


class EmptyStationOut(BaseModel):
    """A station of the caller's forces left without a unit in station."""

    id: int
    code: str
    name: str


class MoveUpOut(BaseModel):
    threshold_s: float
    empty_stations: list[EmptyStationOut]
    road_nodes: int
    covered_before: int
    covered_after: int
    moves: list[MoveOut]


@router.get(
    "/move-up", response_model=MoveUpOut, summary="Move-up advice (补位) for empty stations"
)
def move_up(
    request: Request,
    principal: Annotated[Principal, Depends(require("incidents:dispatch"))],
    session: SessionDep,
    max_moves: Annotated[int, Query(ge=1, le=10)] = 3,
) -> dict[str, Any]:
    """Stations of your forces left without a unit in station, and the moves (a unit from
    a station that keeps one) restoring the most 5-minute road coverage."""
    from firegrid.dispatch.incident_api import engine_of

    engine = engine_of(request)
    facilities = engine.facilities(STATIONS)
    stations = {
        sid: (code, name)
        for sid, code, name in session.execute(
            select(Station.id, Station.code, Station.name).where(
                Station.deleted_at.is_(None),
                principal.scope_filter(Station.jurisdiction_path),
            )
        )
    }
    ids = [sid for sid in facilities.ids if sid in stations]
    rows = np.array([facilities.index_of[sid] for sid in ids], dtype=np.int64)
    movable, staffed = movable_units(load_units(session, principal.scope_path), ids)
    plan = plan_move_up(
        ids,
        facilities.times_s[rows] if len(rows) else np.zeros((0, 0), dtype=np.float32),
        facilities.nodes[rows] if len(rows) else np.zeros(0, dtype=np.int64),
        movable,
        staffed,
        max_moves=max_moves,
    )
    signs = dict(
        session.execute(
            select(Vehicle.id, Vehicle.call_sign).where(
                Vehicle.id.in_([m.vehicle_id for m in plan.moves])
            )
        ).all()
    )
    return {
        "threshold_s": WITHIN_S,
        "empty_stations": [
            {"id": sid, "code": stations[sid][0], "name": stations[sid][1]}
            for sid in plan.empty_stations
        ],
        "road_nodes": plan.nodes,
        "covered_before": plan.covered_before,
        "covered_after": plan.covered_after,
        "moves": [
            {
                **m.as_dict(),
                "call_sign": signs.get(m.vehicle_id, ""),
                "from_station": stations[m.from_station][1],
                "to_station": stations[m.to_station][1],
            }
            for m in plan.moves
        ],
    }
