"""A fastest route whose travel time is known beforehand, searched only that far.

The first-due station's travel time to a point is already known from its station tree
(:meth:`TravelTimeEngine.k_nearest`). Drawing its route needs the path, which the trees do
not keep; a Dijkstra from the station bounded by that time finds the same shortest path
while exploring only the neighbourhood it can reach, instead of the whole city. If the
bound is too tight (it never should be), the full search of :meth:`TravelTimeEngine.route`
answers.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import dijkstra

from firegrid.geo.engine import Route, TravelTimeEngine


def route_within(
    engine: TravelTimeEngine,
    origin: tuple[float, float],
    destination: tuple[float, float],
    limit_s: float,
) -> Route:
    """The fastest route from ``origin`` to ``destination``, whose network part takes at
    most ``limit_s`` (e.g. the station tree's travel time, legs included)."""
    s = engine.snap(
        [origin[0], destination[0]], [origin[1], destination[1]], labels=("origin", "destination")
    )
    src, dst = int(s.node[0]), int(s.node[1])
    dist, pred = dijkstra(
        engine.network.csr("time"),
        directed=True,
        indices=src,
        limit=float(limit_s) * (1.0 + 1e-9) + 1e-6,
        return_predecessors=True,
    )
    if not np.isfinite(dist[dst]):
        return engine.route(origin, destination)
    path = [dst]
    while path[-1] != src:
        path.append(int(pred[path[-1]]))
    return engine.route_along(s, np.asarray(path[::-1], dtype=np.int64))
