"""The what-if's array recommender gives dispatch's answer: the same units, in the same
order, with the same ETAs and the same "plan not met", whatever units are free."""

from __future__ import annotations

import numpy as np

from firegrid.core.db import Database
from firegrid.dispatch.plans import Plan, PlanBook, Requirement
from firegrid.dispatch.recommend import Unit, recommend_units
from firegrid.geo.engine import TravelTimeEngine
from firegrid.planning import inputs
from firegrid.planning.fleet_arrays import FleetArrays
from tests.dispatch.city import DCity


def _compare(
    engine: TravelTimeEngine,
    fleet: FleetArrays,
    units: list[Unit],
    plan: Plan,
    free: np.ndarray,
    lon: float,
    lat: float,
) -> tuple[bool, bool]:
    available = [u for k, u in enumerate(fleet.units) if free[k]]
    expected = recommend_units(engine, plan, available, lon, lat)
    snapped = engine.snap(lon, lat)
    got = fleet.recommend(plan, int(snapped.node[0]), float(snapped.leg_time_s[0]), free)
    assert [c.vehicle_id for c in got.chosen] == [c.vehicle_id for c in expected.chosen]
    assert [c.eta_s for c in got.chosen] == [c.eta_s for c in expected.chosen]
    assert got.missing == bool(expected.missing)
    return bool(expected.chosen), bool(expected.missing)


def test_array_recommendation_equals_recommend_units(
    pcity: DCity, db: Database, engine: TravelTimeEngine
) -> None:
    with db.session() as session:
        units = inputs.replay_units(session)
        book = PlanBook.load(session)
    assert len(units) > 10
    fleet = FleetArrays(engine, list(reversed(units)))  # any order in, id order inside
    assert fleet.applies()
    assert fleet.ids.tolist() == sorted(u.id for u in units)
    types = sorted({u.vehicle_type for u in units})
    capabilities = sorted({c for u in units for c in u.capabilities})
    plans = [*book.plans]
    plans.append(  # more than the fleet has of one type: some slots stay empty
        Plan("fire", "*", 3, (Requirement("vehicle_type", types[0], len(units)),))
    )
    if capabilities:
        plans.append(
            Plan(
                "fire",
                "*",
                2,
                (
                    Requirement("capability", capabilities[0], 2),
                    Requirement("vehicle_type", types[-1], 2),
                ),
            )
        )
    rng = np.random.default_rng(11)
    outcomes = set()
    for _ in range(150):
        plan = plans[int(rng.integers(len(plans)))]
        free = rng.random(len(units)) < float(rng.choice([0.15, 0.5, 1.0]))
        lon = float(rng.uniform(113.01, 113.29))
        lat = float(rng.uniform(23.01, 23.09))
        outcomes.add(_compare(engine, fleet, units, plan, free, lon, lat))
    # the comparison saw full answers, partial ones and none at all
    assert (True, False) in outcomes
    assert (True, True) in outcomes
    none_free = np.zeros(len(units), dtype=bool)
    assert _compare(engine, fleet, units, plans[0], none_free, 113.1, 23.05) == (False, True)


def test_a_fleet_with_gps_units_is_left_to_recommend_units(
    pcity: DCity, db: Database, engine: TravelTimeEngine
) -> None:
    with db.session() as session:
        units = inputs.replay_units(session)
    first = units[0]
    on_radio = Unit(
        first.id,
        first.code,
        first.call_sign,
        first.station_id,
        first.vehicle_type,
        first.capabilities,
        "available_on_radio",
        first.jurisdiction_path,
        113.1,
        23.05,
    )
    assert not FleetArrays(engine, [on_radio, *units[1:]]).applies()
