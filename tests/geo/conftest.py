"""Fixtures for the road-network tests: a hand-made OSM town and small generated cities."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import pytest
from shapely.geometry import Polygon

from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.generate import generate_city_network
from firegrid.geo.network import RoadNetwork
from firegrid.geo.osm import ImportReport, import_osm

DATA = Path(__file__).parent / "data"


def osm_xml_to_pbf(xml: Path, pbf: Path) -> Path:
    """Convert an OSM XML file to PBF with pyosmium."""
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    return pbf


def to_networkx(network: RoadNetwork) -> nx.DiGraph:
    """A networkx DiGraph built from the same arrays (weights ``time`` and ``length``)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(range(network.n_nodes))
    graph.add_edges_from(
        (int(u), int(v), {"time": float(t), "length": float(d)})
        for u, v, t, d in zip(
            network.edge_src,
            network.edge_dst,
            network.travel_time_s,
            network.length_m,
            strict=True,
        )
    )
    return graph


@pytest.fixture(scope="session")
def town_pbf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return osm_xml_to_pbf(DATA / "town.osm", tmp_path_factory.mktemp("osm") / "town.osm.pbf")


@pytest.fixture(scope="session")
def town(town_pbf: Path) -> tuple[RoadNetwork, ImportReport]:
    return import_osm(town_pbf)


@pytest.fixture(scope="session")
def city_boundary() -> Polygon:
    """A 7 km x 6 km block of Dongguan with a notch cut out (a concave boundary)."""
    return Polygon(
        [
            (113.70, 22.99),
            (113.77, 22.99),
            (113.77, 23.05),
            (113.74, 23.05),
            (113.74, 23.02),
            (113.72, 23.02),
            (113.72, 23.05),
            (113.70, 23.05),
        ]
    )


@pytest.fixture(scope="session")
def dongguan() -> Polygon:
    """The packaged city outline (WGS-84)."""
    from firegrid.demo.geometry import load_outline

    return load_outline()


@pytest.fixture(scope="session")
def city(city_boundary: Polygon) -> RoadNetwork:
    return generate_city_network(city_boundary, seed=7, target_nodes=3000)


@pytest.fixture(scope="session")
def city_engine(city: RoadNetwork) -> TravelTimeEngine:
    return TravelTimeEngine(city)


@pytest.fixture(scope="session")
def city_nx(city: RoadNetwork) -> nx.DiGraph:
    return to_networkx(city)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
