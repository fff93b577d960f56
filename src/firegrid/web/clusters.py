"""Grid clustering of map points on the screen's pixel grid (server side).

At a low zoom a city's 50,000 venues would be 50,000 dots on top of each other and a
megabyte of GeoJSON; the console asks for the points of its view *at its zoom* and gets,
for every cell of ``CELL_PX`` × ``CELL_PX`` screen pixels (Web Mercator, 256-pixel tiles)
that holds two or more points, one cluster: its count, the mean position of its members,
their bounding box (the console zooms to it on a click) and per-flag counts (e.g. how many
of its venues are red). A cell with one point stays that point. The cells are fixed to the
world's pixel grid, not to the view, so the same zoom gives the same clusters when the
operator pans, and a cluster's count is exact: nothing is dropped.

Pure numpy, no database: :mod:`firegrid.web.map_api` feeds it the points of a cached
snapshot of a layer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Width of a cluster cell in screen pixels.
CELL_PX = 64
#: From this zoom on a layer is never clustered (a city block fills the screen).
CLUSTER_MAX_ZOOM = 16
#: A view holding at most this many points is sent as points, at any zoom.
CLUSTER_MIN_POINTS = 300
_MAX_LAT = 85.05112878


def world_px(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], zoom: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Web Mercator pixel coordinates of points at ``zoom`` (256-pixel tiles)."""
    size = 256.0 * math.pow(2.0, zoom)
    x = (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0 * size
    phi = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -_MAX_LAT, _MAX_LAT))
    y = (1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / math.pi) / 2.0 * size
    return x, y


@dataclass(frozen=True)
class Clusters:
    """The result of :func:`grid_clusters` over ``n`` input points.

    ``singles``: indexes (into the input) of points alone in their cell. For every cluster
    ``c``: ``count[c]`` members, centre ``lon[c]``/``lat[c]``, bounds
    ``west/south/east/north[c]`` and ``flags[name][c]`` members having flag ``name``.
    ``member_of[i]``: the cluster of input point ``i`` (-1 for a single).
    """

    singles: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    west: npt.NDArray[np.float64]
    south: npt.NDArray[np.float64]
    east: npt.NDArray[np.float64]
    north: npt.NDArray[np.float64]
    flags: dict[str, npt.NDArray[np.int64]]
    member_of: npt.NDArray[np.int64]

    @property
    def n_clusters(self) -> int:
        return len(self.count)


def grid_clusters(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    zoom: float,
    *,
    cell_px: int = CELL_PX,
    flags: Mapping[str, npt.ArrayLike] | None = None,
) -> Clusters:
    """Group points by ``cell_px`` screen cells at ``zoom``; see :class:`Clusters`."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if lon_a.shape != lat_a.shape or lon_a.ndim != 1:
        raise ValueError("lon and lat must be 1-D arrays of the same length")
    if cell_px <= 0:
        raise ValueError("cell_px must be positive")
    flag_arrays = {k: np.asarray(v, dtype=bool) for k, v in (flags or {}).items()}
    for name, values in flag_arrays.items():
        if values.shape != lon_a.shape:
            raise ValueError(f"flag {name!r} must have one value per point")
    x, y = world_px(lon_a, lat_a, zoom)
    cx = np.floor(x / cell_px).astype(np.int64)
    cy = np.floor(y / cell_px).astype(np.int64)
    key = cx * (1 << 32) + cy
    cells, inverse, sizes = np.unique(key, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    grouped = sizes[inverse] >= 2
    singles = np.nonzero(~grouped)[0].astype(np.int64)
    # cluster numbers for cells with two or more points, in cell order
    cluster_of_cell = np.full(len(cells), -1, dtype=np.int64)
    multi = sizes >= 2
    cluster_of_cell[multi] = np.arange(int(multi.sum()), dtype=np.int64)
    member_of = cluster_of_cell[inverse]
    n = int(multi.sum())
    members = member_of[grouped]
    count = np.bincount(members, minlength=n).astype(np.int64)
    safe = np.maximum(count, 1)
    mean_lon = np.bincount(members, weights=lon_a[grouped], minlength=n) / safe
    mean_lat = np.bincount(members, weights=lat_a[grouped], minlength=n) / safe
    west = np.full(n, np.inf)
    south = np.full(n, np.inf)
    east = np.full(n, -np.inf)
    north = np.full(n, -np.inf)
    np.minimum.at(west, members, lon_a[grouped])
    np.minimum.at(south, members, lat_a[grouped])
    np.maximum.at(east, members, lon_a[grouped])
    np.maximum.at(north, members, lat_a[grouped])
    flag_counts = {
        name: np.bincount(members, weights=values[grouped], minlength=n).astype(np.int64)
        for name, values in flag_arrays.items()
    }
    return Clusters(
        singles, count, mean_lon, mean_lat, west, south, east, north, flag_counts, member_of
    )


def should_cluster(zoom: float | None, points_in_view: int) -> bool:
    """Cluster when a zoom is given, below ``CLUSTER_MAX_ZOOM``, and the view is crowded."""
    return zoom is not None and zoom < CLUSTER_MAX_ZOOM and points_in_view > CLUSTER_MIN_POINTS
