from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Polygon

from firegrid.geo.errors import GeoError
from firegrid.geo.generate import generate_city_network
from firegrid.geo.network import RoadClass, RoadNetwork


def test_structure(city: RoadNetwork, city_boundary: Polygon) -> None:
    assert 2700 <= city.n_nodes <= 3300
    assert shapely.contains_xy(city_boundary, city.node_lon, city.node_lat).all()
    count, _ = connected_components(city.csr(), directed=True, connection="strong")
    assert count == 1
    classes = set(np.unique(city.road_class).tolist())
    assert {
        RoadClass.PRIMARY,
        RoadClass.SECONDARY,
        RoadClass.TERTIARY,
        RoadClass.RESIDENTIAL,
        RoadClass.SERVICE,
    } <= classes
    assert city.oneway.any()
    degree = np.bincount(city.edge_src, minlength=city.n_nodes)
    assert (degree == 1).sum() > 0.02 * city.n_nodes  # cul-de-sacs


def test_dongguan_has_ring_and_spokes(dongguan: Polygon) -> None:
    net = generate_city_network(dongguan, seed=1, target_nodes=20_000)
    assert 18_000 <= net.n_nodes <= 22_000
    assert shapely.contains_xy(dongguan, net.node_lon, net.node_lat).all()
    classes = set(np.unique(net.road_class).tolist())
    assert {RoadClass.MOTORWAY, RoadClass.TRUNK, RoadClass.MOTORWAY_LINK} <= classes
    # mid-points of all edges are inside too
    mid_lon = (net.node_lon[net.edge_src] + net.node_lon[net.edge_dst]) / 2
    mid_lat = (net.node_lat[net.edge_src] + net.node_lat[net.edge_dst]) / 2
    assert shapely.contains_xy(dongguan, mid_lon, mid_lat).all()


def test_deterministic_by_seed(city_boundary: Polygon) -> None:
    a = generate_city_network(city_boundary, seed=5, target_nodes=1000)
    b = generate_city_network(city_boundary, seed=5, target_nodes=1000)
    c = generate_city_network(city_boundary, seed=6, target_nodes=1000)
    for name in RoadNetwork._ARRAYS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not np.array_equal(
        a.node_lon[: min(a.n_nodes, c.n_nodes)], c.node_lon[: min(a.n_nodes, c.n_nodes)]
    )


def test_bad_input() -> None:
    with pytest.raises(GeoError, match="target_nodes must be at least 100"):
        generate_city_network(Polygon([(0, 0), (1, 0), (1, 1)]), seed=1, target_nodes=5)
    with pytest.raises(GeoError, match="boundary must be a shapely Polygon"):
        generate_city_network("Dongguan", seed=1)  # type: ignore[arg-type]
