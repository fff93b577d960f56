from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from firegrid.geo.errors import GeoError, InvalidNetwork
from firegrid.geo.network import RoadClass, RoadNetwork


def tiny() -> RoadNetwork:
    # 0 <-> 1 -> 2 -> 0, a parallel slower 1 -> 2 and a self-loop that must vanish.
    return RoadNetwork.build(
        [113.0, 113.001, 113.002],
        [23.0, 23.0, 23.001],
        [0, 1, 1, 2, 1, 2],
        [1, 0, 2, 0, 2, 2],
        [100.0, 100.0, 150.0, 180.0, 150.0, 5.0],
        [RoadClass.RESIDENTIAL] * 6,
        [False, False, True, True, True, True],
        [36.0, 36.0, 54.0, 36.0, 18.0, 36.0],
    )


def test_build_normalises() -> None:
    net = tiny()
    assert net.n_nodes == 3
    assert net.n_edges == 4
    assert list(zip(net.edge_src.tolist(), net.edge_dst.tolist(), strict=True)) == [
        (0, 1),
        (1, 0),
        (1, 2),
        (2, 0),
    ]
    # the faster of the parallel 1 -> 2 edges is kept: 150 m at 54 km/h = 10 s
    assert net.travel_time_s[2] == pytest.approx(10.0)
    assert net.edge_ids([1, 2, 0], [2, 1, 1]).tolist() == [2, -1, 0]
    assert net.reverse_edge.tolist() == [1, 0, -1, -1]
    assert net.road_length_m == pytest.approx(100 + 150 + 180)
    # CSR data position == edge id
    assert np.array_equal(net.csr("time").data, net.travel_time_s)
    assert net.reverse_csr("distance")[1, 0] == pytest.approx(100.0)


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="edge_dst has 1 items"):
        RoadNetwork(
            node_lon=np.zeros(2),
            node_lat=np.zeros(2),
            node_ref=np.arange(2),
            edge_src=np.array([0, 1]),
            edge_dst=np.array([1]),
            length_m=np.ones(2),
            road_class=np.zeros(2, dtype=np.uint8),
            oneway=np.zeros(2, dtype=bool),
            speed_kph=np.ones(2),
            travel_time_s=np.ones(2),
        )
    with pytest.raises(InvalidNetwork, match="speed_kph must be positive"):
        RoadNetwork.build([0, 1], [0, 0], [0], [1], [1.0], [0], [False], [0.0])
    assert issubclass(InvalidNetwork, GeoError)
    assert issubclass(GeoError, ValueError)


def test_save_load_roundtrip(tmp_path: Path, city: RoadNetwork) -> None:
    path = city.save(tmp_path / "city.npz")
    loaded = RoadNetwork.load(path)
    for name in RoadNetwork._ARRAYS:
        assert np.array_equal(getattr(loaded, name), getattr(city, name)), name


def test_load_is_fast_for_250k_nodes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n, m = 250_000, 800_000
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    net = RoadNetwork.build(
        113 + rng.random(n),
        23 + rng.random(n),
        src,
        dst,
        rng.uniform(10, 200, m),
        rng.integers(0, 8, m),
        rng.random(m) < 0.1,
        rng.uniform(10, 80, m),
    )
    path = net.save(tmp_path / "big")
    assert path.suffix == ".npz"
    start = time.perf_counter()
    loaded = RoadNetwork.load(path)
    assert time.perf_counter() - start < 1.0
    assert loaded.n_edges == net.n_edges


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, meta=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    with pytest.raises(InvalidNetwork, match="not a road network cache"):
        RoadNetwork.load(path)


def test_rows_roundtrip(city: RoadNetwork) -> None:
    nodes, edges = city.to_rows()
    assert nodes[0] == (0, int(city.node_ref[0]), city.node_lon[0], city.node_lat[0])
    assert all(type(v) in (int, float, bool) for v in edges[0])
    back = RoadNetwork.from_rows(reversed(nodes), edges[::-1])
    for name in RoadNetwork._ARRAYS:
        assert np.array_equal(getattr(back, name), getattr(city, name)), name


def test_largest_scc_report() -> None:
    _net, report = tiny().largest_strongly_connected()
    assert (report.nodes_kept, report.nodes_dropped, report.components) == (3, 0, 1)
    two = RoadNetwork.build(
        [0, 1, 2, 3],
        [0, 0, 0, 0],
        [0, 1, 2],
        [1, 0, 3],
        [1.0] * 3,
        [6] * 3,
        [False, False, True],
        [30.0] * 3,
    )
    pruned, report = two.largest_strongly_connected()
    assert pruned.n_nodes == 2
    assert (report.nodes_dropped, report.edges_dropped, report.components) == (2, 1, 3)


def test_undirected_length_graph_keeps_the_shorter_direction() -> None:
    net = RoadNetwork.build(
        [0.0, 0.001, 0.002],
        [0.0, 0.0, 0.0],
        [0, 1, 1, 2],
        [1, 0, 2, 0],
        [100.0, 80.0, 150.0, 300.0],
        [6] * 4,
        [False, False, True, True],
        [30.0] * 4,
    )
    sym = net.undirected_length_csr.toarray()
    expected = np.array([[0, 80, 300], [80, 0, 150], [300, 150, 0]], dtype=float)
    assert np.array_equal(sym, expected)
