from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from firegrid.geo.coverage import (
    PointSet,
    coverage,
    coverage_bands,
    first_due,
    first_due_points,
)
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.errors import InvalidTimeBand, UnknownFacility
from firegrid.geo.isochrones import isochrone_polygon
from firegrid.geo.network import RoadNetwork

T = 240.0


@pytest.fixture(scope="module")
def stations(city: RoadNetwork, city_engine: TravelTimeEngine) -> np.ndarray:
    nodes = np.random.default_rng(3).choice(city.n_nodes, 4, replace=False)
    city_engine.register_facilities("cov", nodes=nodes, ids=["A", "B", "C", "D"])
    return nodes


@pytest.fixture(scope="module")
def venues(city: RoadNetwork) -> PointSet:
    rng = np.random.default_rng(4)
    pick = rng.choice(city.n_nodes, 300)
    return PointSet(
        "venues",
        city.node_lon[pick] + rng.normal(0, 0.0004, len(pick)),
        city.node_lat[pick] + rng.normal(0, 0.0004, len(pick)),
        weight=rng.integers(0, 200, len(pick)).astype(float),
        zone=rng.choice(["north", "south", "east"], len(pick)),
    )


def brute_times(city_nx: nx.DiGraph, n: int, source: int) -> np.ndarray:
    times = np.full(n, np.inf)
    for node, t in nx.single_source_dijkstra_path_length(city_nx, source, weight="time").items():
        times[node] = t
    return times


def brute_road_length(city: RoadNetwork, times: np.ndarray, limit: float) -> float:
    """Reached road length counted edge by edge in plain Python."""

    def frac(e: int) -> float:
        t = times[city.edge_src[e]]
        return 0.0 if t > limit else min(1.0, (limit - t) / city.travel_time_s[e])

    pairs = {}
    for e in range(city.n_edges):
        u, v = int(city.edge_src[e]), int(city.edge_dst[e])
        pairs.setdefault((min(u, v), max(u, v)), []).append(e)
    total = 0.0
    for edges in pairs.values():
        total += min(1.0, sum(frac(e) for e in edges)) * city.length_m[edges[0]]
    return total


def test_coverage_equals_brute_force(
    city: RoadNetwork,
    city_engine: TravelTimeEngine,
    city_nx: nx.DiGraph,
    stations: np.ndarray,
    venues: PointSet,
) -> None:
    report = coverage(city_engine, "cov", T, [venues])
    all_times = np.vstack([brute_times(city_nx, city.n_nodes, int(s)) for s in stations])
    snapped = city_engine.snap(venues.lon, venues.lat)
    for i, st in enumerate(report.stations):
        assert st.facility_id == "ABCD"[i]
        assert st.nodes_reached == int((all_times[i] <= T).sum())
        assert st.road_length_km * 1000 == pytest.approx(
            brute_road_length(city, all_times[i], T), rel=1e-4
        )
        vt = all_times[i][snapped.node] + snapped.leg_time_s
        assert st.points["venues"].points_reached == int((vt <= T).sum())
        assert st.points["venues"].weight_reached == pytest.approx(
            float(venues.weights[vt <= T].sum())
        )
    best = all_times.min(axis=0)
    assert report.combined.nodes_reached == int((best <= T).sum())
    assert report.combined.road_length_km * 1000 == pytest.approx(
        brute_road_length(city, best, T), rel=1e-4
    )
    reached = (all_times[:, snapped.node] + snapped.leg_time_s).min(axis=0) <= T
    assert report.combined.points["venues"].points_reached == int(reached.sum())
    shares = {z.zone: z for z in report.zones["venues"]}
    assert set(shares) == {"north", "south", "east"}
    for zone, share in shares.items():
        mask = venues.zone == zone
        w = venues.weights[mask]
        assert share.points == int(mask.sum())
        assert share.points_reached == int(reached[mask].sum())
        assert share.share == pytest.approx(float(w[reached[mask]].sum() / w.sum()))
    assert report.road_length_total_km * 1000 == pytest.approx(
        brute_road_length(city, np.zeros(city.n_nodes), math.inf), rel=1e-9
    )


def test_area_matches_isochrone_polygon(
    city_engine: TravelTimeEngine, stations: np.ndarray
) -> None:
    report = coverage(city_engine, "cov", T)
    fs = city_engine.facilities("cov")
    for i, st in enumerate(report.stations):
        polygon = isochrone_polygon(city_engine, fs.times_s[i], T)
        assert st.area_km2 == pytest.approx(polygon.area / 1e6, rel=0.06)
    union = isochrone_polygon(city_engine, fs.times_s.min(axis=0), T)
    assert report.combined.area_km2 == pytest.approx(union.area / 1e6, rel=0.06)
    assert report.combined.area_km2 <= sum(s.area_km2 for s in report.stations) + 1e-9


def test_bands_are_monotone(city_engine: TravelTimeEngine, stations: np.ndarray) -> None:
    short, long = coverage_bands(city_engine, "cov", [300.0, 120.0], area=False)
    assert (short.time_s, long.time_s) == (120.0, 300.0)
    assert math.isnan(short.combined.area_km2)
    for a, b in zip(short.stations, long.stations, strict=True):
        assert a.nodes_reached <= b.nodes_reached
        assert a.road_length_km <= b.road_length_km


@pytest.mark.parametrize("band", [0, -5, float("nan"), float("inf"), []])
def test_invalid_time_band(
    city_engine: TravelTimeEngine, stations: np.ndarray, band: object
) -> None:
    with pytest.raises(InvalidTimeBand):
        coverage_bands(city_engine, "cov", band)  # type: ignore[arg-type]


def test_unknown_facility_set(city_engine: TravelTimeEngine) -> None:
    with pytest.raises(UnknownFacility, match="'nope'"):
        coverage(city_engine, "nope")


def test_first_due(
    city: RoadNetwork, city_engine: TravelTimeEngine, city_nx: nx.DiGraph, stations: np.ndarray
) -> None:
    fd = first_due(city_engine, "cov")
    all_times = np.vstack([brute_times(city_nx, city.n_nodes, int(s)) for s in stations])
    assert np.allclose(fd.time_s, all_times.min(axis=0), rtol=1e-6)
    chosen = all_times[fd.facility_index, np.arange(city.n_nodes)]
    assert np.allclose(chosen, all_times.min(axis=0), rtol=1e-6)
    assert fd.facility_ids()[int(stations[2])] == "C"


def test_off_network_points_are_not_reached(
    city_engine: TravelTimeEngine, stations: np.ndarray
) -> None:
    ps = PointSet("far", np.array([113.71, 115.0]), np.array([23.0, 24.0]))
    pc = coverage(city_engine, "cov", 3600.0, [ps], area=False).combined.points["far"]
    assert (pc.points, pc.points_reached, pc.off_network) == (2, 1, 1)


def test_first_due_points(
    city: RoadNetwork, city_engine: TravelTimeEngine, stations: np.ndarray, venues: PointSet
) -> None:
    index, time = first_due_points(city_engine, "cov", venues.lon, venues.lat)
    times = city_engine.facility_times_to("cov", venues.lon, venues.lat)
    assert np.array_equal(index, np.argmin(times, axis=0))
    assert np.allclose(time, times.min(axis=0), rtol=1e-6)
    far_index, far_time = first_due_points(city_engine, "cov", [115.0], [24.0])
    assert far_index.tolist() == [-1]
    assert np.isinf(far_time[0])
