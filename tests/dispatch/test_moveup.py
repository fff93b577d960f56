"""Move-up on a small city where the answer is known."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.models import Vehicle
from firegrid.dispatch.moveup import plan_move_up
from firegrid.geo.engine import TravelTimeEngine
from tests.dispatch.city import DCity
from tests.dispatch.test_api import headers

INF = np.inf
#: three stations (ids 10, 20, 30 at nodes 0, 3, 6) and nine road nodes on a line; each
#: station reaches its own three nodes within 5 minutes; 20 is two minutes from 10 and
#: five from 30
TIMES = np.array(
    [
        [0, 100, 200, 120, 400, 500, 700, 800, 900],  # station 10
        [120, 200, 250, 0, 100, 200, 300, 400, 500],  # station 20
        [700, 800, 900, 300, 400, 350, 0, 100, 200],  # station 30
    ],
    dtype=np.float32,
)
NODES = np.array([0, 3, 6])


def test_the_empty_station_is_refilled_from_the_nearest_donor_that_keeps_a_unit() -> None:
    # 20 is empty (its units are out); 10 has two pumpers, 30 has two as well
    plan = plan_move_up(
        [10, 20, 30], TIMES, NODES, {10: [101, 102], 20: [], 30: [301, 302]}, {10, 30}
    )
    assert plan.empty_stations == [20]
    # covered by 10: nodes 0-3; by 30: nodes 3, 6, 7, 8 (node 5 at 350 s is not): 7 of 9
    assert plan.covered_before == 7
    assert len(plan.moves) == 1
    move = plan.moves[0]
    # 20 restores nodes 4 and 5; 10 is 120 s away, 30 is 300 s: 10 gives its first unit
    assert (move.vehicle_id, move.from_station, move.to_station) == (101, 10, 20)
    assert move.travel_s == 120.0
    assert move.nodes_restored == 2
    assert plan.covered_after == 9


def test_a_station_with_one_unit_does_not_give_it_away() -> None:
    plan = plan_move_up([10, 20, 30], TIMES, NODES, {10: [101], 20: [], 30: [301, 302]}, {10, 30})
    assert [(m.vehicle_id, m.from_station) for m in plan.moves] == [(301, 30)]
    assert plan.moves[0].travel_s == 300.0


def test_nothing_to_move_when_no_coverage_is_lost() -> None:
    covered = plan_move_up(
        [10, 20, 30], TIMES, NODES, {10: [101, 102], 20: [201], 30: [301]}, {10, 20, 30}
    )
    assert covered.empty_stations == []
    assert covered.moves == []
    # an empty station whose nodes others still cover gains nothing: no move
    times = TIMES.copy()
    times[1] = [120, 200, 250, 0, 9999, 9999, 300, 400, 500]
    plan = plan_move_up([10, 20, 30], times, NODES, {10: [101, 102], 30: [301]}, {10, 30})
    assert plan.empty_stations == [20]
    assert plan.moves == []


def test_the_api_advises_a_move_when_a_station_is_left_bare(
    client: TestClient, db: Database, settings: Settings, dcity: DCity, engine: TravelTimeEngine
) -> None:
    city = headers(db, settings, dcity, "dispatcher", "city")
    calm = client.get("/api/v1/move-up", headers=city)
    assert calm.status_code == 200, calm.text
    assert calm.json()["empty_stations"] == []
    assert calm.json()["moves"] == []
    # every unit of the middle's standard station is out
    bare = next(i for i, s in dcity.stations.items() if s["code"] == "S04")
    with db.session() as session:
        for vehicle in session.scalars(select(Vehicle).where(Vehicle.station_id == bare)):
            vehicle.status = "on_scene"
    advice = client.get("/api/v1/move-up", headers=city).json()
    assert [s["id"] for s in advice["empty_stations"]] == [bare]
    assert advice["covered_after"] >= advice["covered_before"]
    # the bare station covered road nodes nobody else reaches in 5 minutes
    move = advice["moves"][0]
    assert move["to_station_id"] == bare
    assert move["nodes_restored"] > 0
    assert dcity.vehicles[move["vehicle_id"]]["station_id"] == move["from_station_id"]
    assert dcity.vehicles[move["vehicle_id"]]["type"] == "pumper"
    assert advice["covered_after"] >= advice["covered_before"] + move["nodes_restored"]
