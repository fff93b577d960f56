"""Gaps in the outdoor hydrant network after GB 50974 (clauses 7.2.5, 7.3.3).

Two rules, both measured along the streets (hoses are laid on foot, so one-way
restrictions do not apply and the undirected graph by length is searched):

- spacing: hydrants at most ``spacing_m`` (120 m) apart along a street, i.e. no point of a
  street farther than ``spacing_m / 2`` (60 m) from a hydrant;
- reach: every venue within ``venue_radius_m`` (150 m) of a hydrant by road: network
  distance between the snapped nodes plus both off-network legs.

A bounded multi-source Dijkstra by length from all hydrants (``limit = venue_radius_m``)
answers both. New hydrants are proposed by a greedy set cover of the uncovered venues over
candidate points: road nodes and points every ``candidate_step_m`` along the streets near
those venues.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from firegrid.geo.engine import TravelTimeEngine, as_lonlat_array
from firegrid.geo.errors import GeoError
from firegrid.geo.network import RoadClass
from firegrid.geo.search import multi_source

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_SPACING_M = 120.0
DEFAULT_VENUE_RADIUS_M = 150.0
DEFAULT_CANDIDATE_STEP_M = 60.0
STREET_CLASSES: frozenset[RoadClass] = frozenset(RoadClass) - {
    RoadClass.MOTORWAY,
    RoadClass.TRUNK,
    RoadClass.MOTORWAY_LINK,
    RoadClass.TRUNK_LINK,
}
"""Road classes where the hydrant spacing rule is checked (not on expressways)."""
_TILE_M = 1000.0


class StreetGap(NamedTuple):
    """Part of a street farther than ``spacing_m / 2`` from every hydrant."""

    edge: int
    from_m: float
    to_m: float
    coordinates: list[tuple[float, float]]

    @property
    def length_m(self) -> float:
        return self.to_m - self.from_m


@dataclass(frozen=True, eq=False)
class HydrantGapReport:
    """Result of ``hydrant_gaps``."""

    venue_ids: list[object]
    venue_lon: FloatArray
    venue_lat: FloatArray
    venue_distance_m: FloatArray
    """Road distance from each venue to its nearest hydrant (``inf`` beyond the radius)."""
    venue_radius_m: float
    spacing_m: float
    street_length_m: float
    gaps: list[StreetGap]
    proposed: list[tuple[float, float]]
    proposed_covers: list[int]
    venues_unfixable: int
    hydrants_off_network: int

    @property
    def uncovered(self) -> IntArray:
        """Indices of venues farther than ``venue_radius_m`` from every hydrant."""
        return np.flatnonzero(~(self.venue_distance_m <= self.venue_radius_m)).astype(np.int64)

    @property
    def gap_length_m(self) -> float:
        return float(sum(g.length_m for g in self.gaps))

    @property
    def hydrants_needed(self) -> int:
        """New hydrants proposed to bring every fixable venue within reach."""
        return len(self.proposed)

    def to_geojson(self) -> dict[str, Any]:
        """Uncovered venues (Points), street gaps (LineStrings), proposals (Points)."""
        features: list[dict[str, Any]] = []
        for i in self.uncovered.tolist():
            distance = float(self.venue_distance_m[i])
            features.append(
                _feature(
                    {"type": "Point", "coordinates": [self.venue_lon[i], self.venue_lat[i]]},
                    kind="uncovered_venue",
                    venue_id=self.venue_ids[i],
                    distance_m=None if not np.isfinite(distance) else round(distance, 1),
                )
            )
        for gap in self.gaps:
            features.append(
                _feature(
                    {"type": "LineString", "coordinates": [list(c) for c in gap.coordinates]},
                    kind="street_gap",
                    edge=gap.edge,
                    length_m=round(gap.length_m, 1),
                )
            )
        for (lon, lat), covers in zip(self.proposed, self.proposed_covers, strict=True):
            features.append(
                _feature(
                    {"type": "Point", "coordinates": [lon, lat]},
                    kind="proposed_hydrant",
                    venues_covered=covers,
                )
            )
        return {
            "type": "FeatureCollection",
            "features": features,
            "properties": {
                "venues": len(self.venue_ids),
                "venues_uncovered": len(self.uncovered),
                "street_length_m": round(self.street_length_m, 1),
                "street_gap_length_m": round(self.gap_length_m, 1),
                "hydrants_needed": self.hydrants_needed,
                "venues_unfixable": self.venues_unfixable,
            },
        }


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def hydrant_gaps(
    engine: TravelTimeEngine,
    hydrants: npt.ArrayLike,
    venues: npt.ArrayLike,
    *,
    venue_ids: Sequence[object] | None = None,
    spacing_m: float = DEFAULT_SPACING_M,
    venue_radius_m: float = DEFAULT_VENUE_RADIUS_M,
    candidate_step_m: float = DEFAULT_CANDIDATE_STEP_M,
    street_classes: frozenset[RoadClass] = STREET_CLASSES,
) -> HydrantGapReport:
    """Check hydrant spacing and venue reach; propose new hydrants for uncovered venues.

    Parameters
    ----------
    engine
        Travel-time engine of the road network.
    hydrants, venues
        ``(lon, lat)`` pairs. Points farther than the engine's snapping distance from the
        network are ignored (hydrants) or reported uncovered (venues).
    venue_ids
        Ids reported for venues (default: their index).
    spacing_m, venue_radius_m
        The two limits (120 m and 150 m in GB 50974).
    candidate_step_m
        Spacing of candidate hydrant points along streets.
    street_classes
        Road classes on which the spacing rule is checked.
    """
    problems = [
        f"{name} must be positive, got {value!r}"
        for name, value in (
            ("spacing_m", spacing_m),
            ("venue_radius_m", venue_radius_m),
            ("candidate_step_m", candidate_step_m),
        )
        if not value > 0
    ]
    h_lon, h_lat = (
        as_lonlat_array(hydrants, "hydrants") if np.size(hydrants) else (np.empty(0), np.empty(0))
    )
    v_lon, v_lat = as_lonlat_array(venues, "venues") if np.size(venues) else (np.empty(0),) * 2
    ids: list[object] = list(range(len(v_lon))) if venue_ids is None else list(venue_ids)
    if len(ids) != len(v_lon):
        problems.append(f"venue_ids has {len(ids)} ids for {len(v_lon)} venues")
    if problems:
        raise GeoError("hydrant_gaps: " + "; ".join(problems))

    net = engine.network
    graph = net.undirected_length_csr
    hs = engine.snap(h_lon, h_lat, strict=False)
    vs = engine.snap(v_lon, v_lat, strict=False)
    h_on = hs.on_network
    # Exact up to both radii: farther nodes can neither reach a venue nor close a gap.
    limit = max(venue_radius_m, spacing_m / 2.0)
    dist = multi_source(graph, hs.node[h_on], hs.distance_m[h_on], limit=limit)

    venue_distance = np.full(len(v_lon), np.inf)
    v_on = vs.on_network
    venue_distance[v_on] = dist[vs.node[v_on]] + vs.distance_m[v_on]
    venue_distance[venue_distance > venue_radius_m] = np.inf

    gaps, street_length = _street_gaps(engine, dist, spacing_m / 2.0, street_classes)
    uncovered = np.flatnonzero(~(venue_distance <= venue_radius_m) & v_on)
    budget = venue_radius_m - vs.distance_m[uncovered]
    fixable = budget >= 0
    proposed, covers, unfixable = _propose(
        engine, vs.node[uncovered[fixable]], budget[fixable], candidate_step_m
    )
    return HydrantGapReport(
        venue_ids=ids,
        venue_lon=v_lon,
        venue_lat=v_lat,
        venue_distance_m=venue_distance,
        venue_radius_m=float(venue_radius_m),
        spacing_m=float(spacing_m),
        street_length_m=street_length,
        gaps=gaps,
        proposed=proposed,
        proposed_covers=covers,
        venues_unfixable=int((~fixable).sum()) + unfixable + int((~v_on).sum()),
        hydrants_off_network=int((~h_on).sum()),
    )


def _street_gaps(
    engine: TravelTimeEngine,
    dist: FloatArray,
    reach_m: float,
    street_classes: frozenset[RoadClass],
) -> tuple[list[StreetGap], float]:
    """Street parts farther than ``reach_m`` from every hydrant, one entry per street."""
    net = engine.network
    rev = net.reverse_edge
    edge = np.arange(net.n_edges)
    classes = np.isin(net.road_class, np.asarray([int(c) for c in street_classes]))
    once = classes & ((rev < 0) | (edge < rev))
    e = edge[once]
    length = net.length_m[e]
    d_u, d_v = dist[net.edge_src[e]], dist[net.edge_dst[e]]
    # Covered: [0, reach - d_u] from u and [L - (reach - d_v), L] from v.
    start = np.maximum(0.0, reach_m - d_u)
    end = np.minimum(length, length - reach_m + d_v)
    has_gap = end - start > 1e-6
    k = np.flatnonzero(has_gap)
    u, v = net.edge_src[e[k]], net.edge_dst[e[k]]
    a, b = start[k] / length[k], end[k] / length[k]
    lon, lat = net.node_lon, net.node_lat
    lon_a = (lon[u] + a * (lon[v] - lon[u])).tolist()
    lat_a = (lat[u] + a * (lat[v] - lat[u])).tolist()
    lon_b = (lon[u] + b * (lon[v] - lon[u])).tolist()
    lat_b = (lat[u] + b * (lat[v] - lat[u])).tolist()
    gaps = [
        StreetGap(i, s0, s1, [(x0, y0), (x1, y1)])
        for i, s0, s1, x0, y0, x1, y1 in zip(
            e[k].tolist(),
            start[k].tolist(),
            end[k].tolist(),
            lon_a,
            lat_a,
            lon_b,
            lat_b,
            strict=True,
        )
    ]
    return gaps, float(length.sum())


def hydrant_cover(
    engine: TravelTimeEngine, venue_nodes: IntArray, budget_m: FloatArray, step_m: float
) -> tuple[FloatArray, FloatArray, csr_matrix]:
    """Candidate hydrant points along the streets near the venues (nodes and points every
    ``step_m``) and which venues each reaches: ``(lon, lat, cover)``, ``cover`` a sparse
    ``[candidates × venues]`` matrix, 1 where the road distance is within the venue's
    ``budget_m``. The greedy proposal of :func:`hydrant_gaps` and the optimal cover of
    the planning context both start from it.
    """
    net = engine.network
    graph = net.undirected_length_csr
    limit = float(budget_m.max())
    # Work on the streets near the venues only: nodes within reach and their neighbours.
    near = np.isfinite(multi_source(graph, venue_nodes, limit=limit))
    near[graph.indices[np.repeat(near, np.diff(graph.indptr))]] = True
    sub_nodes = np.flatnonzero(near)
    local = np.full(net.n_nodes, -1, dtype=np.int64)
    local[sub_nodes] = np.arange(len(sub_nodes))
    coo = graph.tocoo()
    keep = near[coo.row] & near[coo.col] & (coo.row < coo.col)
    u, v, length = local[coo.row[keep]], local[coo.col[keep]], coo.data[keep]
    # Split every street into pieces of at most step_m: interior points are candidates too.
    pieces = np.maximum(1, np.ceil(length / step_m).astype(np.int64))
    n_sub = len(sub_nodes)
    n_new = int((pieces - 1).sum())
    owner = np.repeat(np.arange(len(u)), pieces)
    k = np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    first_new = n_sub + np.cumsum(pieces - 1) - (pieces - 1)
    a = np.where(k == 0, u[owner], first_new[owner] + k - 1)
    b = np.where(k == pieces[owner] - 1, v[owner], first_new[owner] + k)
    w = length[owner] / pieces[owner]
    n_all = n_sub + n_new
    split = csr_matrix(
        (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(n_all, n_all),
    )
    inner = k[k > 0]
    inner_owner = owner[k > 0]
    frac = inner / pieces[inner_owner]
    su, sv = sub_nodes[u[inner_owner]], sub_nodes[v[inner_owner]]
    cand_lon = np.concatenate(
        [net.node_lon[sub_nodes], net.node_lon[su] + frac * (net.node_lon[sv] - net.node_lon[su])]
    )
    cand_lat = np.concatenate(
        [net.node_lat[sub_nodes], net.node_lat[su] + frac * (net.node_lat[sv] - net.node_lat[su])]
    )
    # Which candidates cover which venue: bounded searches per tile of venues, each on the
    # candidates within reach of the tile (a road path of length d stays within d of its
    # start, so nothing farther can be reached).
    cx, cy = engine.projection.forward(cand_lon, cand_lat)
    vloc = local[venue_nodes]
    vx, vy = cx[vloc], cy[vloc]
    margin = limit * 1.01 + 10.0
    tile = np.floor(vx / _TILE_M).astype(np.int64) * 1_000_003 + np.floor(vy / _TILE_M).astype(
        np.int64
    )
    order = np.argsort(tile, kind="stable")
    cuts = np.flatnonzero(np.diff(tile[order])) + 1
    # Candidates bucketed by tile, to gather a tile's neighbourhood without a full scan.
    ctx, cty = np.floor(cx / _TILE_M).astype(np.int64), np.floor(cy / _TILE_M).astype(np.int64)
    ckey = ctx * 1_000_003 + cty
    corder = np.argsort(ckey, kind="stable")
    ckeys_sorted = ckey[corder]
    reach_tiles = int(np.ceil(margin / _TILE_M))
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for group in np.split(order, cuts):
        gx, gy = vx[group], vy[group]
        tx, ty = int(np.floor(gx[0] / _TILE_M)), int(np.floor(gy[0] / _TILE_M))
        parts = []
        for dx in range(-reach_tiles, reach_tiles + 1):
            for dy in range(-reach_tiles, reach_tiles + 1):
                key = (tx + dx) * 1_000_003 + (ty + dy)
                lo, hi = np.searchsorted(ckeys_sorted, [key, key + 1])
                parts.append(corder[lo:hi])
        near_box = np.sort(np.concatenate(parts))
        inside = (
            (cx[near_box] >= gx.min() - margin)
            & (cx[near_box] <= gx.max() + margin)
            & (cy[near_box] >= gy.min() - margin)
            & (cy[near_box] <= gy.max() + margin)
        )
        box = near_box[inside]
        sub = split[box][:, box]
        nodes, inverse = np.unique(np.searchsorted(box, vloc[group]), return_inverse=True)
        dist = np.atleast_2d(dijkstra(sub, directed=False, indices=nodes, limit=limit + 1e-9))
        for venue, row in zip(group.tolist(), inverse.ravel().tolist(), strict=True):
            cand = box[np.flatnonzero(dist[row] <= budget_m[venue] + 1e-9)]
            rows.append(cand)
            cols.append(np.full(len(cand), venue, dtype=np.int64))
    cover = csr_matrix(
        (
            np.ones(sum(len(r) for r in rows), dtype=np.int32),
            (np.concatenate(rows), np.concatenate(cols)),
        ),
        shape=(n_all, len(venue_nodes)),
    )
    return cand_lon, cand_lat, cover


def _propose(
    engine: TravelTimeEngine, venue_nodes: IntArray, budget_m: FloatArray, step_m: float
) -> tuple[list[tuple[float, float]], list[int], int]:
    """Greedy set cover of venues by candidate points; returns points, counts, unfixable."""
    if len(venue_nodes) == 0:
        return [], [], 0
    cand_lon, cand_lat, cover = hydrant_cover(engine, venue_nodes, budget_m, step_m)
    by_venue = cover.tocsc()
    counts = np.asarray(cover.sum(axis=1)).ravel().astype(np.int64)
    covered = np.zeros(len(venue_nodes), dtype=np.bool_)
    proposed: list[tuple[float, float]] = []
    covers: list[int] = []
    # Lazy greedy: heap entries may hold stale (higher) counts; refresh them when popped.
    heap = [(-int(c), int(i)) for i, c in enumerate(counts.tolist()) if c > 0]
    heapq.heapify(heap)
    while heap:
        neg, best = heapq.heappop(heap)
        if -neg != counts[best]:
            if counts[best] > 0:
                heapq.heappush(heap, (-int(counts[best]), best))
            continue
        hit = cover.indices[cover.indptr[best] : cover.indptr[best + 1]]
        hit = hit[~covered[hit]]
        covered[hit] = True
        proposed.append((float(cand_lon[best]), float(cand_lat[best])))
        covers.append(len(hit))
        who = np.concatenate(
            [by_venue.indices[by_venue.indptr[h] : by_venue.indptr[h + 1]] for h in hit.tolist()]
        )
        np.subtract.at(counts, who, 1)
    return proposed, covers, int((~covered).sum())
