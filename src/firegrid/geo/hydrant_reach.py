"""Which hydrants reach one point by road: the per-point view of geo's hydrant reach rule.

:func:`firegrid.geo.hydrant_gaps.hydrant_gaps` measures, for every venue, the road distance
to its nearest hydrant (a multi-source search from all hydrants on the undirected length
graph, plus both off-network legs). A pre-incident plan needs every hydrant within the
radius, each with its own distance: one bounded search from the venue's node on the same
graph, with the same legs. On an undirected graph the two distances are the same number,
so the nearest hydrant here is the one ``hydrant_gaps`` reports (a test holds them equal).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from firegrid.geo.engine import TravelTimeEngine, as_lonlat_array
from firegrid.geo.hydrant_gaps import DEFAULT_VENUE_RADIUS_M
from firegrid.geo.search import one_to_all

FloatArray = npt.NDArray[np.float64]


def hydrant_road_distances_m(
    engine: TravelTimeEngine,
    lon: float,
    lat: float,
    hydrants: npt.ArrayLike,
    radius_m: float = DEFAULT_VENUE_RADIUS_M,
) -> FloatArray:
    """Road distance (m) from the point to each hydrant, ``inf`` beyond ``radius_m``, when
    either end is off the network, or when no road joins them."""
    if np.size(hydrants) == 0:
        return np.empty(0)
    h_lon, h_lat = as_lonlat_array(hydrants, "hydrants")
    out = np.full(len(h_lon), np.inf)
    point = engine.snap([lon], [lat], strict=False)
    if not point.on_network[0]:
        return out
    budget = radius_m - float(point.distance_m[0])
    if budget < 0:
        return out
    graph = engine.network.undirected_length_csr
    dist = one_to_all(graph, int(point.node[0]), limit=budget)
    hs = engine.snap(h_lon, h_lat, strict=False)
    on = hs.on_network
    out[on] = dist[hs.node[on]] + hs.distance_m[on] + float(point.distance_m[0])
    out[out > radius_m] = np.inf
    return out
