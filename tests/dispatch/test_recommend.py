"""Recommendation equals a brute-force networkx computation on the same graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.dispatch.models import Station, Vehicle
from firegrid.dispatch.plans import PlanBook
from firegrid.dispatch.recommend import Unit, load_units, recommend_units
from firegrid.geo.engine import TravelTimeEngine
from tests.dispatch.city import DCity

BIG = 1e12


def brute_snap(engine: TravelTimeEngine, lon: float, lat: float) -> tuple[int, float]:
    net = engine.network
    x, y = engine.projection.forward(net.node_lon, net.node_lat)
    px, py = engine.projection.forward(np.asarray([lon]), np.asarray([lat]))
    d = np.hypot(x - px[0], y - py[0])
    node = int(np.argmin(d))
    return node, float(d[node]) / (engine.access_speed_kph / 3.6)


def brute_force(engine, graph, stations, plan, units: list[Unit], lon, lat):
    """ETA of every unit by networkx Dijkstra, then the optimal assignment over all units."""
    node, leg = brute_snap(engine, lon, lat)
    to_incident = nx.single_source_dijkstra_path_length(
        graph.reverse(copy=False), node, weight="time"
    )
    eta = {}
    for u in units:
        if u.status == "available_on_radio" and u.lon is not None:
            start, start_leg = brute_snap(engine, u.lon, u.lat)
        else:
            start, start_leg = stations[u.station_id]
        eta[u.id] = start_leg + to_incident.get(start, np.inf) + leg
    slots = [r for r, req in enumerate(plan.requirements) for _ in range(req.count)]
    cost = np.full((len(slots), len(units)), BIG)
    for s, r in enumerate(slots):
        for c, u in enumerate(units):
            if plan.requirements[r].accepts(u.vehicle_type, u.capabilities) and np.isfinite(
                eta[u.id]
            ):
                cost[s, c] = eta[u.id] + u.id * 1e-9
    rows, cols = linear_sum_assignment(cost)
    chosen = {units[c].id for s, c in zip(rows, cols, strict=True) if cost[s, c] < BIG}
    return chosen, eta


@pytest.fixture
def graph(engine: TravelTimeEngine) -> nx.DiGraph:
    net = engine.network
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_weighted_edges_from(
        zip(net.edge_src.tolist(), net.edge_dst.tolist(), net.travel_time_s.tolist(), strict=True),
        weight="time",
    )
    return g


def test_recommendation_equals_brute_force(
    dcity: DCity, db: Database, engine: TravelTimeEngine, graph: nx.DiGraph
) -> None:
    rng = np.random.default_rng(5)
    net = engine.network
    with db.session() as session:
        # a few units out on the radio with a GPS fix somewhere in the city
        radio = session.scalars(select(Vehicle).where(Vehicle.vehicle_type == "pumper")).all()[::3]
        for v in radio:
            k = int(rng.integers(net.n_nodes))
            v.status = "available_on_radio"
            v.last_lon = float(net.node_lon[k]) + 0.0002
            v.last_lat = float(net.node_lat[k])
        one_busy = session.scalars(select(Vehicle).where(Vehicle.vehicle_type == "ladder")).first()
        assert one_busy is not None
        one_busy.status = "on_scene"
    with db.session() as session:
        book = PlanBook.load(session)
        units = load_units(session, "/")
        station_rows = session.scalars(select(Station)).all()
    assert one_busy.id not in {u.id for u in units}
    stations = {s.id: brute_snap(engine, s.lon, s.lat) for s in station_rows}
    cases = [
        ("building_fire", "high_rise_office", 2),
        ("building_fire", "", 1),
        ("building_fire", "", 3),
        ("building_fire", "", 5),  # more than the city has: missing units
        ("hazmat", "", 2),
        ("rescue", "", 2),
        ("building_fire", "chemical_plant", 2),
        ("vehicle_fire", "", 2),
    ]
    compared = 0
    for t in range(24):
        k = int(rng.integers(net.n_nodes))
        lon = float(net.node_lon[k]) + float(rng.uniform(-0.002, 0.002))
        lat = float(net.node_lat[k]) + float(rng.uniform(-0.002, 0.002))
        incident_type, category, level = cases[t % len(cases)]
        plan = book.match(incident_type, category, level)
        rec = recommend_units(engine, plan, units, lon, lat)
        want, eta = brute_force(engine, graph, stations, plan, units, lon, lat)
        assert set(rec.vehicle_ids) == want, (t, plan)
        for choice in rec.chosen:
            assert choice.eta_s == pytest.approx(eta[choice.vehicle_id], abs=0.05)
            assert choice.reason
        total_missing = sum(m["missing"] for m in rec.missing)
        assert total_missing == plan.slots - len(want)
        compared += 1
    assert compared == 24


def test_missing_units_are_reported(dcity: DCity, db: Database, engine: TravelTimeEngine) -> None:
    with db.session() as session:
        plan = PlanBook.load(session).match("building_fire", "", 5)
        units = load_units(session, dcity.paths["town:east"])  # East has no ladder... few units
        rec = recommend_units(engine, plan, units, 113.25, 23.05)
    assert not rec.complete
    assert rec.notes
    assert {m["requirement"] for m in rec.missing} >= {"command"}
    assert all(u.jurisdiction_path.startswith(dcity.paths["town:east"]) for u in units)


def test_on_radio_unit_is_timed_from_its_gps_fix(
    dcity: DCity, db: Database, engine: TravelTimeEngine
) -> None:
    net = engine.network
    with db.session() as session:
        plan = PlanBook.load(session).match("vehicle_fire", "", 1)  # one pumper
        target = session.scalars(
            select(Vehicle).where(Vehicle.vehicle_type == "pumper").order_by(Vehicle.id.desc())
        ).first()
        assert target is not None
        # put it on the radio right at the incident
        k = net.n_nodes // 2
        target.status = "available_on_radio"
        target.last_lon, target.last_lat = float(net.node_lon[k]), float(net.node_lat[k])
        session.flush()
        units = load_units(session, "/")
    rec = recommend_units(engine, plan, units, float(net.node_lon[k]), float(net.node_lat[k]))
    assert rec.vehicle_ids == [target.id]
    assert rec.chosen[0].origin == "gps"
    assert rec.chosen[0].eta_s < 1.0
