from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.errors import (
    GeoError,
    InvalidCoordinates,
    PointOffNetwork,
    UnknownFacility,
    UnknownNode,
)
from firegrid.geo.network import RoadNetwork
from firegrid.geo.osm import ImportReport
from firegrid.geo.projection import haversine_m

from .conftest import to_networkx


@pytest.mark.parametrize("by", ["time", "distance"])
def test_equals_networkx_on_osm_town(town: tuple[RoadNetwork, ImportReport], by: str) -> None:
    net = town[0]
    engine = TravelTimeEngine(net)
    graph = to_networkx(net)
    weight = "time" if by == "time" else "length"
    for source in range(net.n_nodes):
        ours = engine.travel_times_from_node(source, by=by)  # type: ignore[arg-type]
        theirs = nx.single_source_dijkstra_path_length(graph, source, weight=weight)
        assert set(theirs) == set(np.flatnonzero(np.isfinite(ours)).tolist())
        for target, value in theirs.items():
            assert ours[target] == pytest.approx(value, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("by", ["time", "distance"])
def test_equals_networkx_on_generated_city(
    city: RoadNetwork,
    city_engine: TravelTimeEngine,
    city_nx: nx.DiGraph,
    rng: np.random.Generator,
    by: str,
) -> None:
    weight = "time" if by == "time" else "length"
    sources = rng.choice(city.n_nodes, 8, replace=False)
    targets = rng.choice(city.n_nodes, 40, replace=False)
    matrix = city_engine.node_matrix(sources, targets, by=by)  # type: ignore[arg-type]
    for i, s in enumerate(sources.tolist()):
        lengths, _paths = nx.single_source_dijkstra(city_nx, s, weight=weight)
        for j, t in enumerate(targets.tolist()):
            assert matrix[i, j] == pytest.approx(lengths[t], rel=1e-12)
        # a route: same cost as networkx, a valid path
        t = int(targets[i])
        nodes = city_engine.route_nodes(s, t, by=by)  # type: ignore[arg-type]
        distance_m, time_s = city_engine.path_cost(nodes)
        assert (time_s if by == "time" else distance_m) == pytest.approx(lengths[t], rel=1e-12)
        assert nodes[0] == s
        assert nodes[-1] == t


def test_reverse_matrix_path_equals_forward(
    city: RoadNetwork, city_engine: TravelTimeEngine, rng: np.random.Generator
) -> None:
    origins = rng.choice(city.n_nodes, 30, replace=False)
    targets = rng.choice(city.n_nodes, 5, replace=False)  # fewer targets: reverse searches
    matrix = city_engine.node_matrix(origins, targets)
    for j, t in enumerate(targets.tolist()):
        to_t = city_engine.travel_times_to_node(t)
        assert np.allclose(matrix[:, j], to_t[origins], rtol=1e-12)
    # duplicates keep their positions
    dup = city_engine.node_matrix([origins[0], origins[0]], [targets[1], targets[0], targets[1]])
    assert dup.shape == (2, 3)
    assert dup[0, 0] == dup[1, 2] == matrix[0, 1]


def test_snap_and_legs(city: RoadNetwork) -> None:
    engine = TravelTimeEngine(city, access_speed_kph=18.0)
    lon, lat = city.node_lon[10] + 0.0005, city.node_lat[10]
    snapped = engine.snap(lon, lat)
    d = haversine_m(lon, lat, city.node_lon, city.node_lat)
    assert snapped.node[0] == int(np.argmin(d))
    assert snapped.distance_m[0] == pytest.approx(float(d.min()), rel=5e-3)
    assert snapped.leg_time_s[0] == pytest.approx(snapped.distance_m[0] / 5.0)
    many = engine.snap(city.node_lon[:50], city.node_lat[:50])
    assert many.node.tolist() == list(range(50))
    assert np.allclose(many.distance_m, 0.0)


def test_point_off_network_names_the_point(city_engine: TravelTimeEngine) -> None:
    lon, lat = 114.5, 23.5  # far outside the test city
    with pytest.raises(PointOffNetwork, match=r"#0 \(114\.500000, 23\.500000\) is \d+ m away"):
        city_engine.snap(lon, lat)
    with pytest.raises(PointOffNetwork, match="#1"):
        city_engine.travel_time_matrix([(113.71, 23.0)], [(113.71, 23.0), (114.5, 23.5)])
    loose = city_engine.snap([113.71, 114.5], [23.0, 23.5], strict=False)
    assert loose.node[1] == -1
    assert np.isinf(loose.leg_time_s[1])
    assert loose.node[0] >= 0
    assert issubclass(PointOffNetwork, GeoError)


def test_invalid_inputs(city_engine: TravelTimeEngine) -> None:
    with pytest.raises(InvalidCoordinates, match=r"#1 \(nan, 23\.0\)"):
        city_engine.snap([113.7, float("nan")], [23.0, 23.0])
    with pytest.raises(InvalidCoordinates, match="lon has 2 values but lat has 1"):
        city_engine.snap([113.7, 113.71], [23.0])
    with pytest.raises(InvalidCoordinates, match="origins must be"):
        city_engine.travel_time_matrix([1, 2, 3], [(113.71, 23.0)])
    with pytest.raises(UnknownNode, match="-1"):
        city_engine.travel_times_from_node(-1)


def test_point_searches_include_legs(city: RoadNetwork, city_engine: TravelTimeEngine) -> None:
    a = (float(city.node_lon[5]) + 0.0003, float(city.node_lat[5]))
    b = (float(city.node_lon[900]), float(city.node_lat[900]) - 0.0002)
    s = city_engine.snap([a[0], b[0]], [a[1], b[1]])
    network_time = city_engine.travel_times_from_node(int(s.node[0]))[s.node[1]]
    expected = network_time + s.leg_time_s.sum()
    assert city_engine.travel_times(a, [b])[0] == pytest.approx(expected)
    assert city_engine.travel_time_matrix([a], [b])[0, 0] == pytest.approx(expected)
    assert city_engine.travel_times_from(*a)[s.node[1]] == pytest.approx(
        network_time + s.leg_time_s[0]
    )
    tiny = city_engine.travel_times_from(*a, limit=s.leg_time_s[0] / 2)
    assert np.isinf(tiny).all()
    bounded = city_engine.travel_times_from(*a, limit=120.0)
    finite = bounded[np.isfinite(bounded)]
    assert finite.max() <= 120.0
    assert len(finite) < city.n_nodes
    route = city_engine.route(a, b)
    assert route.travel_time_s == pytest.approx(expected)
    assert route.coordinates[0] == a
    assert route.coordinates[-1] == b
    assert len(route.coordinates) == len(route.node_ids) + 2
    by_distance = city_engine.route(a, b, by="distance")
    assert by_distance.distance_m <= route.distance_m + 1e-6
    assert by_distance.travel_time_s >= route.travel_time_s - 1e-6
    assert by_distance.access_distance_m == pytest.approx(s.distance_m[0])


def test_k_nearest_equals_brute_force(
    city: RoadNetwork, city_engine: TravelTimeEngine, rng: np.random.Generator
) -> None:
    stations = rng.choice(city.n_nodes, 12, replace=False)
    points = np.column_stack([city.node_lon[stations] + 0.0004, city.node_lat[stations]])
    ids = [f"station-{i}" for i in range(12)]
    city_engine.register_facilities("stations", points, ids)
    graph = to_networkx(city)
    sp = city_engine.snap(points[:, 0], points[:, 1])
    for q in rng.choice(city.n_nodes, 10, replace=False).tolist():
        lon, lat = float(city.node_lon[q]) - 0.0002, float(city.node_lat[q])
        sq = city_engine.snap(lon, lat)
        brute = []
        for i, node in enumerate(sp.node.tolist()):
            t = nx.shortest_path_length(graph, node, int(sq.node[0]), weight="time")
            brute.append((t + sp.leg_time_s[i] + sq.leg_time_s[0], ids[i]))
        brute.sort()
        got = city_engine.k_nearest("stations", lon, lat, k=5)
        assert [n.travel_time_s for n in got] == pytest.approx([b[0] for b in brute[:5]], rel=1e-5)
        assert {n.facility_id for n in got} == {b[1] for b in brute[:5]}
    assert len(city_engine.k_nearest("stations", lon, lat, k=50)) == 12


def test_facilities_by_node_and_errors(city_engine: TravelTimeEngine) -> None:
    fs = city_engine.register_facilities("depots", nodes=[0, 10, 20])
    assert fs.ids == (0, 1, 2)
    assert fs.times_s.shape == (3, city_engine.network.n_nodes)
    assert fs.times_s.dtype == np.float32
    assert fs.times_s[1, 10] == 0.0
    assert fs.index(2) == 2
    with pytest.raises(UnknownFacility, match="facility 7 is not in facility set 'depots'"):
        fs.index(7)
    with pytest.raises(UnknownFacility, match="no facility set named 'hospitals'"):
        city_engine.k_nearest("hospitals", 113.71, 23.0)
    with pytest.raises(UnknownFacility, match="exactly one of points or nodes"):
        city_engine.register_facilities("x")
    with pytest.raises(UnknownFacility, match="2 ids for 3 facilities"):
        city_engine.register_facilities("x", nodes=[0, 1, 2], ids=["a", "b"])
    with pytest.raises(UnknownFacility, match="not unique"):
        city_engine.register_facilities("x", nodes=[0, 1], ids=["a", "a"])
    times = city_engine.facility_times_to(
        "depots", city_engine.network.node_lon[:4], city_engine.network.node_lat[:4]
    )
    assert times.shape == (3, 4)


def test_matrix_with_limit(
    city: RoadNetwork, city_engine: TravelTimeEngine, rng: np.random.Generator
) -> None:
    pick = rng.choice(city.n_nodes, 40, replace=False)
    pts = np.column_stack([city.node_lon[pick] + 0.0003, city.node_lat[pick]])
    full = city_engine.travel_time_matrix(pts[:10], pts[10:])
    bounded = city_engine.travel_time_matrix(pts[:10], pts[10:], limit=400.0)
    assert np.array_equal(bounded, np.where(full <= 400.0, full, np.inf))
    assert np.isfinite(bounded).any()
    assert np.isinf(bounded).any()
    reverse = city_engine.travel_time_matrix(pts[10:], pts[:10], limit=400.0)
    assert np.isfinite(reverse).sum() > 0
