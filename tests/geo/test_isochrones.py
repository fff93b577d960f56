from __future__ import annotations

import itertools

import numpy as np
import pytest
from shapely.geometry import Point, shape

from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.errors import InvalidTimeBand
from firegrid.geo.isochrones import isochrones
from firegrid.geo.network import RoadNetwork


def test_isochrones_are_valid_and_nested(city: RoadNetwork, city_engine: TravelTimeEngine) -> None:
    origin = (float(city.node_lon[100]), float(city.node_lat[100]))
    fc = isochrones(city_engine, [origin], [300, 120, 600])
    assert fc["type"] == "FeatureCollection"
    polys = [shape(f["geometry"]) for f in fc["features"]]
    assert [f["properties"]["time_s"] for f in fc["features"]] == [120.0, 300.0, 600.0]
    for poly in polys:
        assert poly.is_valid
        assert not poly.is_empty
        assert poly.geom_type in ("Polygon", "MultiPolygon")
    for smaller, larger in itertools.pairwise(polys):
        assert larger.buffer(1e-9).contains(smaller)
        assert larger.area > smaller.area
    areas = [f["properties"]["area_km2"] for f in fc["features"]]
    assert areas == sorted(areas)
    # every node reached within 300 s lies inside the 300 s polygon; slow ones lie outside
    times = city_engine.travel_times_from(*origin)
    inside = polys[1].buffer(1e-9)
    for node in np.flatnonzero(times <= 300)[::7].tolist():
        assert inside.contains(Point(city.node_lon[node], city.node_lat[node]))
    for node in np.flatnonzero(times > 900)[::50].tolist():
        assert not inside.contains(Point(city.node_lon[node], city.node_lat[node]))


def test_several_origins(city: RoadNetwork, city_engine: TravelTimeEngine) -> None:
    origins = [(float(city.node_lon[i]), float(city.node_lat[i])) for i in (10, 2000)]
    combined = isochrones(city_engine, origins, 180)
    separate = isochrones(city_engine, origins, [180], combine=False)
    assert len(combined["features"]) == 1
    assert [f["properties"]["origin"] for f in separate["features"]] == [0, 1]
    union = shape(separate["features"][0]["geometry"]).union(
        shape(separate["features"][1]["geometry"])
    )
    assert shape(combined["features"][0]["geometry"]).area == pytest.approx(union.area, rel=1e-6)


def test_invalid_band(city_engine: TravelTimeEngine) -> None:
    with pytest.raises(InvalidTimeBand, match="-1"):
        isochrones(city_engine, [(113.71, 23.0)], [300, -1])
