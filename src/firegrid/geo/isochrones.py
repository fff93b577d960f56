"""Isochrones: the area reachable within a travel time, as polygons.

The reached part of every edge (whole, or the fraction an engine covers before the time
runs out) is drawn as a line in an equal-area metric CRS, merged into chains, buffered by
``buffer_m`` and unioned (Shapely 2 / GEOS), then transformed back to WGS-84. Bands are
nested: the polygon of a longer band contains the shorter ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from firegrid.geo.bands import time_bands
from firegrid.geo.engine import TravelTimeEngine, as_lonlat_array
from firegrid.geo.search import multi_source

FloatArray = npt.NDArray[np.float64]

DEFAULT_BUFFER_M = 50.0


def reached_lines(
    engine: TravelTimeEngine, node_times_s: npt.ArrayLike, time_s: float
) -> npt.NDArray[np.object_]:
    """Line geometries (equal-area CRS) of the edge parts reached within ``time_s``."""
    net = engine.network
    times = np.asarray(node_times_s, dtype=np.float64)
    t_src = times[net.edge_src]
    reached = np.flatnonzero(t_src <= time_s)
    if len(reached) == 0:
        return np.empty(0, dtype=object)
    frac = np.minimum(1.0, (time_s - t_src[reached]) / net.travel_time_s[reached])
    x, y = engine.node_xy_equal_area
    src, dst = net.edge_src[reached], net.edge_dst[reached]
    coords = np.empty((len(reached), 2, 2))
    coords[:, 0, 0], coords[:, 0, 1] = x[src], y[src]
    coords[:, 1, 0] = x[src] + frac * (x[dst] - x[src])
    coords[:, 1, 1] = y[src] + frac * (y[dst] - y[src])
    return np.asarray(shapely.linestrings(coords), dtype=object)


def isochrone_polygon(
    engine: TravelTimeEngine,
    node_times_s: npt.ArrayLike,
    time_s: float,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
) -> BaseGeometry:
    """Polygon (equal-area CRS, metres) of everything within ``buffer_m`` of reached roads."""
    lines = reached_lines(engine, node_times_s, time_s)
    if len(lines) == 0:
        return shapely.Polygon()
    # Merging the lines into chains (and dropping vertices within buffer_m / 5 of a chain)
    # first makes the buffer-and-union several times faster.
    merged = shapely.get_parts(shapely.line_merge(shapely.union_all(lines)))
    merged = shapely.simplify(merged, buffer_m / 5.0)
    return shapely.union_all(shapely.buffer(merged, buffer_m, quad_segs=2))


def area_km2(polygon: BaseGeometry) -> float:
    """Area in km² of a polygon in the equal-area CRS."""
    return float(polygon.area) / 1e6


def to_wgs84(engine: TravelTimeEngine, geometry: BaseGeometry) -> BaseGeometry:
    """Transform a geometry from the engine's equal-area CRS back to longitude/latitude."""
    back = engine.equal_area[1]

    def transform(xy: FloatArray) -> FloatArray:
        lon, lat = back.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, transform)


def isochrones(
    engine: TravelTimeEngine,
    origins: npt.ArrayLike,
    time_bands_s: float | Sequence[float] = (300.0, 600.0, 900.0),
    *,
    combine: bool = True,
    buffer_m: float = DEFAULT_BUFFER_M,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """GeoJSON FeatureCollection of isochrone polygons.

    Parameters
    ----------
    engine
        The travel-time engine.
    origins
        ``(lon, lat)`` pairs, snapped; their access legs count against the time.
    time_bands_s
        One or more bands in seconds; validated (``InvalidTimeBand``) and sorted.
    combine
        One polygon per band for all origins together (nearest origin), or one per origin.
    buffer_m
        Half-width of the band drawn around reached roads.
    labels
        How an error names each origin (``station ST101``, ``at=113.1,23.0``).

    Each feature has properties ``time_s``, ``area_km2`` and ``origin`` (an index, or
    ``None`` when combined).
    """
    bands = time_bands(time_bands_s)
    lon, lat = as_lonlat_array(origins, "origins")
    snapped = engine.snap(lon, lat, labels=labels)
    graph = engine.network.csr("time")
    groups: list[tuple[int | None, FloatArray]] = []
    if combine:
        groups.append(
            (None, multi_source(graph, snapped.node, snapped.leg_time_s, limit=bands[-1]))
        )
    else:
        for i in range(len(snapped)):
            times = multi_source(
                graph, snapped.node[i : i + 1], snapped.leg_time_s[i : i + 1], limit=bands[-1]
            )
            groups.append((i, times))
    features: list[dict[str, Any]] = []
    for origin, times in groups:
        previous: BaseGeometry | None = None
        previous_wgs84: BaseGeometry | None = None
        for band in bands:
            polygon = isochrone_polygon(engine, times, band, buffer_m=buffer_m)
            wgs84 = to_wgs84(engine, polygon)
            if previous is not None and previous_wgs84 is not None:
                # Union in both CRSs so that nesting holds exactly in the output too.
                polygon = shapely.union(polygon, previous)
                wgs84 = shapely.union(wgs84, previous_wgs84)
            previous, previous_wgs84 = polygon, wgs84
            features.append(
                {
                    "type": "Feature",
                    "geometry": mapping(wgs84),
                    "properties": {
                        "time_s": band,
                        "area_km2": round(area_km2(polygon), 6),
                        "origin": origin,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}
