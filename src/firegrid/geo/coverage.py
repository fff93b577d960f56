"""Coverage of registered facilities (stations) within travel-time bands, and first-due areas.

For each station and for all together, within ``T`` seconds:

- ``nodes_reached``: nodes with travel time <= T;
- ``road_length_km``: road length reached, counting partial edges: a directed edge whose
  start is reached at ``t`` is covered for the fraction ``(T - t) / travel_time_s`` (at most
  1); a two-way road is covered for the sum of its two directions' fractions (at most 1),
  and counted once;
- ``area_km2``: area within ``buffer_m`` of the reached road parts, rasterised on a grid of
  ``cell_m`` in an equal-area CRS (within a few per cent of the isochrone polygon's area,
  and a hundred times faster);
- per point set (venues, with a weight such as occupancy): points and weight reached;
  and per zone (grid, town) the share covered by any station.

Points farther than the engine's snapping distance count as not reached (``off_network``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.ndimage import binary_dilation

from firegrid.geo.bands import time_bands
from firegrid.geo.engine import FacilityId, FacilitySet, Snapped, TravelTimeEngine, as_points
from firegrid.geo.errors import GeoError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_TIME_S = 300.0
DEFAULT_BUFFER_M = 50.0
DEFAULT_CELL_M = 20.0
_STATION_CHUNK = 8
_POINT_CHUNK = 200_000


@dataclass(frozen=True, eq=False)
class PointSet:
    """Points to count (e.g. venues), with optional weights and zone ids.

    ``weight`` defaults to 1 per point; ``zone`` (one id per point) enables per-zone shares.
    """

    name: str
    lon: FloatArray
    lat: FloatArray
    weight: FloatArray | None = None
    zone: npt.NDArray[np.generic] | None = None

    def __post_init__(self) -> None:
        lon, lat = as_points(self.lon, self.lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        problems = []
        if self.weight is not None:
            weight = np.asarray(self.weight, dtype=np.float64).ravel()
            if len(weight) != len(lon):
                problems.append(f"weight has {len(weight)} values for {len(lon)} points")
            elif not np.all(np.isfinite(weight)) or np.any(weight < 0):
                problems.append("weight must be finite and non-negative")
            object.__setattr__(self, "weight", weight)
        if self.zone is not None:
            zone = np.asarray(self.zone).ravel()
            if len(zone) != len(lon):
                problems.append(f"zone has {len(zone)} values for {len(lon)} points")
            object.__setattr__(self, "zone", zone)
        if problems:
            raise GeoError(f"point set {self.name!r}: " + "; ".join(problems))

    @property
    def weights(self) -> FloatArray:
        return np.ones(len(self.lon)) if self.weight is None else self.weight


@dataclass(frozen=True)
class PointCoverage:
    """How much of a point set is reached."""

    points: int
    points_reached: int
    weight: float
    weight_reached: float
    off_network: int


@dataclass(frozen=True)
class ZoneShare:
    """Coverage of one zone by any station; ``share`` is by weight (by count if no weight)."""

    zone: object
    points: int
    points_reached: int
    weight: float
    weight_reached: float

    @property
    def share(self) -> float:
        if self.weight > 0:
            return self.weight_reached / self.weight
        return self.points_reached / self.points if self.points else 0.0


@dataclass(frozen=True)
class Coverage:
    """Coverage figures of one station (``facility_id``) or of all (``None``)."""

    facility_id: FacilityId | None
    nodes_reached: int
    road_length_km: float
    area_km2: float
    points: dict[str, PointCoverage] = field(default_factory=dict)


@dataclass(frozen=True)
class CoverageReport:
    """Coverage of a facility set within one time band."""

    facility_set: str
    time_s: float
    stations: list[Coverage]
    combined: Coverage
    road_length_total_km: float
    zones: dict[str, list[ZoneShare]]


@dataclass(frozen=True, eq=False)
class FirstDue:
    """For every node, the facility that arrives first (index, ``-1`` if none) and its time."""

    facility_set: FacilitySet
    facility_index: IntArray
    time_s: npt.NDArray[np.float32]

    def facility_ids(self) -> list[FacilityId | None]:
        """Facility id per node (``None`` where no facility reaches it)."""
        ids = self.facility_set.ids
        return [ids[i] if i >= 0 else None for i in self.facility_index.tolist()]


def first_due(engine: TravelTimeEngine, facility_set: str) -> FirstDue:
    """First-due area: argmin over the facility matrix for every node."""
    fs = engine.facilities(facility_set)
    if len(fs) == 0:
        n = engine.network.n_nodes
        return FirstDue(fs, np.full(n, -1, dtype=np.int64), np.full(n, np.inf, dtype=np.float32))
    index = np.argmin(fs.times_s, axis=0).astype(np.int64)
    time = fs.times_s[index, np.arange(fs.times_s.shape[1])]
    index[~np.isfinite(time)] = -1
    return FirstDue(fs, index, time)


def first_due_points(
    engine: TravelTimeEngine, facility_set: str, lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[IntArray, FloatArray]:
    """First-due facility (index, ``-1`` if none) and its time for each point, legs included.

    Points off the network get ``-1`` and ``inf``.
    """
    fs = engine.facilities(facility_set)
    snapped = engine.snap(lon, lat, strict=False)
    index = np.full(len(snapped), -1, dtype=np.int64)
    time = np.full(len(snapped), np.inf)
    on = np.flatnonzero(snapped.on_network)
    if len(fs) and len(on):
        column = fs.times_s[:, snapped.node[on]]
        best = np.argmin(column, axis=0)
        best_time = column[best, np.arange(len(on))] + snapped.leg_time_s[on]
        reached = np.isfinite(best_time)
        index[on[reached]] = best[reached]
        time[on[reached]] = best_time[reached]
    return index, time


def coverage(
    engine: TravelTimeEngine,
    facility_set: str,
    time_s: float = DEFAULT_TIME_S,
    point_sets: Sequence[PointSet] = (),
    *,
    area: bool = True,
    buffer_m: float = DEFAULT_BUFFER_M,
    cell_m: float = DEFAULT_CELL_M,
) -> CoverageReport:
    """Coverage of every station of ``facility_set`` and of all together within ``time_s``."""
    return coverage_bands(
        engine, facility_set, [time_s], point_sets, area=area, buffer_m=buffer_m, cell_m=cell_m
    )[0]


def coverage_bands(
    engine: TravelTimeEngine,
    facility_set: str,
    time_bands_s: float | Sequence[float] = (DEFAULT_TIME_S,),
    point_sets: Sequence[PointSet] = (),
    *,
    area: bool = True,
    buffer_m: float = DEFAULT_BUFFER_M,
    cell_m: float = DEFAULT_CELL_M,
) -> list[CoverageReport]:
    """``coverage`` for several bands (sorted ascending); points are snapped once.

    Raises ``InvalidTimeBand`` for a zero, negative or non-finite band.
    """
    bands = time_bands(time_bands_s)
    if not (buffer_m > 0 and cell_m > 0):
        raise GeoError(f"buffer_m and cell_m must be positive, got {buffer_m!r}, {cell_m!r}")
    fs = engine.facilities(facility_set)
    snapped = {ps.name: engine.snap(ps.lon, ps.lat, strict=False) for ps in point_sets}
    net = engine.network
    total_km = net.road_length_m / 1000.0
    reports = []
    for band in bands:
        times = fs.times_s
        combined_times = times.min(axis=0) if len(fs) else np.full(net.n_nodes, np.inf)
        nodes_each = (times <= band).sum(axis=1)
        length_each = _road_length_m(engine, times, band)
        length_all = float(_road_length_m(engine, combined_times[None, :], band)[0])
        if area:
            area_each, area_all = _areas_km2(engine, times, band, buffer_m, cell_m)
        else:
            area_each, area_all = np.full(len(fs), math.nan), math.nan
        points_each: list[dict[str, PointCoverage]] = [{} for _ in range(len(fs))]
        points_all: dict[str, PointCoverage] = {}
        zones: dict[str, list[ZoneShare]] = {}
        for ps in point_sets:
            per_station, combined_cov, reached_any = _count_points(fs, ps, snapped[ps.name], band)
            for i, pc in enumerate(per_station):
                points_each[i][ps.name] = pc
            points_all[ps.name] = combined_cov
            if ps.zone is not None:
                zones[ps.name] = _zone_shares(ps, reached_any)
        stations = [
            Coverage(
                facility_id=fs.ids[i],
                nodes_reached=int(nodes_each[i]),
                road_length_km=float(length_each[i]) / 1000.0,
                area_km2=float(area_each[i]),
                points=points_each[i],
            )
            for i in range(len(fs))
        ]
        combined = Coverage(
            facility_id=None,
            nodes_reached=int((combined_times <= band).sum()),
            road_length_km=length_all / 1000.0,
            area_km2=float(area_all),
            points=points_all,
        )
        reports.append(CoverageReport(fs.name, band, stations, combined, total_km, zones))
    return reports


def reached_edges(
    engine: TravelTimeEngine, node_times: npt.ArrayLike, time_s: float
) -> tuple[IntArray, FloatArray]:
    """Edges whose start is reached within ``time_s`` and the reached fraction of each."""
    net = engine.network
    times = np.asarray(node_times)
    nodes = np.flatnonzero(times <= time_s)
    if len(nodes) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    starts = net.indptr[nodes]
    counts = net.indptr[nodes + 1] - starts
    offsets = np.cumsum(counts) - counts
    edges = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(offsets - starts, counts)
    t_src = np.repeat(times[nodes].astype(np.float64), counts)
    frac = np.minimum(1.0, (time_s - t_src) / net.travel_time_s[edges])
    return edges, frac


def _road_length_m(
    engine: TravelTimeEngine, node_times: npt.NDArray[np.floating], time_s: float
) -> FloatArray:
    """Reached road length (m) per row of ``node_times`` ([rows x nodes])."""
    net = engine.network
    rev = net.reverse_edge
    out = np.zeros(node_times.shape[0])
    for i in range(node_times.shape[0]):
        times = node_times[i]
        edges, frac = reached_edges(engine, times, time_s)
        back = rev[edges]
        single = back < 0
        out[i] += float(frac[single] @ net.length_m[edges[single]])
        # A two-way road is counted once: at its lower edge id, or at the only reached side.
        pair = ~single & ((edges < back) | (times[net.edge_dst[edges]] > time_s))
        e, b = edges[pair], back[pair]
        t_back = times[net.edge_src[b]].astype(np.float64)
        f_back = np.clip((time_s - t_back) / net.travel_time_s[b], 0.0, 1.0)
        out[i] += float(np.minimum(frac[pair] + f_back, 1.0) @ net.length_m[e])
    return out


def _areas_km2(
    engine: TravelTimeEngine,
    node_times: npt.NDArray[np.floating],
    time_s: float,
    buffer_m: float,
    cell_m: float,
) -> tuple[FloatArray, float]:
    """Rasterised area within ``buffer_m`` of reached roads: per row and for the union."""
    x, y = engine.node_xy_equal_area
    pad = buffer_m + 2 * cell_m
    x0, y0 = float(x.min()) - pad, float(y.min()) - pad
    ncols = int((float(x.max()) + pad - x0) / cell_m) + 1
    nrows = int((float(y.max()) + pad - y0) / cell_m) + 1
    union = np.zeros(nrows * ncols, dtype=np.bool_)
    radius = buffer_m / cell_m
    r = math.ceil(radius)
    dx, dy = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    disk = dx**2 + dy**2 <= radius**2
    cell_km2 = cell_m * cell_m / 1e6
    per_row = np.zeros(node_times.shape[0])
    for i in range(node_times.shape[0]):
        px, py = _samples(engine, node_times[i], time_s, cell_m)
        if len(px) == 0:
            continue
        ix = ((px - x0) / cell_m).astype(np.int64)
        iy = ((py - y0) / cell_m).astype(np.int64)
        lx, ly = ix.min() - r, iy.min() - r
        grid = np.zeros((int(iy.max() - ly) + r + 1, int(ix.max() - lx) + r + 1), dtype=np.bool_)
        grid[iy - ly, ix - lx] = True
        grid = binary_dilation(grid, structure=disk)
        gy, gx = np.nonzero(grid)
        per_row[i] = len(gy) * cell_km2
        union[(gy + ly) * ncols + (gx + lx)] = True
    return per_row, float(union.sum()) * cell_km2


def _samples(
    engine: TravelTimeEngine, node_times: npt.ArrayLike, time_s: float, step_m: float
) -> tuple[FloatArray, FloatArray]:
    """Points every ``step_m`` along the reached parts of edges (equal-area CRS)."""
    net = engine.network
    edges, frac = reached_edges(engine, node_times, time_s)
    if len(edges) == 0:
        return np.empty(0), np.empty(0)
    x, y = engine.node_xy_equal_area
    src, dst = net.edge_src[edges], net.edge_dst[edges]
    sx, sy = x[src], y[src]
    ex, ey = sx + frac * (x[dst] - sx), sy + frac * (y[dst] - sy)
    seg = np.hypot(ex - sx, ey - sy)
    count = (seg // step_m).astype(np.int64) + 2  # both ends included
    owner = np.repeat(np.arange(len(edges)), count)
    starts = np.cumsum(count) - count
    k = np.arange(int(count.sum())) - np.repeat(starts, count)
    along = np.minimum(k * step_m / np.maximum(seg[owner], 1e-9), 1.0)
    return sx[owner] + along * (ex - sx)[owner], sy[owner] + along * (ey - sy)[owner]


def _count_points(
    fs: FacilitySet, ps: PointSet, snapped: Snapped, time_s: float
) -> tuple[list[PointCoverage], PointCoverage, npt.NDArray[np.bool_]]:
    """Points reached per station and by any station."""
    weight = ps.weights
    on = snapped.on_network
    idx_on = np.flatnonzero(on)
    count_each = np.zeros(len(fs), dtype=np.int64)
    weight_each = np.zeros(len(fs))
    reached_any = np.zeros(len(ps.lon), dtype=np.bool_)
    for start in range(0, len(idx_on), _POINT_CHUNK):
        chunk = idx_on[start : start + _POINT_CHUNK]
        t = fs.times_s[:, snapped.node[chunk]] + snapped.leg_time_s[chunk].astype(np.float32)
        hit = t <= time_s
        count_each += hit.sum(axis=1)
        weight_each += hit @ weight[chunk]
        reached_any[chunk] = hit.any(axis=0)
    off = int((~on).sum())
    total_w = float(weight.sum())
    per_station = [
        PointCoverage(len(ps.lon), int(count_each[i]), total_w, float(weight_each[i]), off)
        for i in range(len(fs))
    ]
    combined = PointCoverage(
        len(ps.lon), int(reached_any.sum()), total_w, float(weight[reached_any].sum()), off
    )
    return per_station, combined, reached_any


def _zone_shares(ps: PointSet, reached: npt.NDArray[np.bool_]) -> list[ZoneShare]:
    assert ps.zone is not None
    zones, inverse = np.unique(ps.zone, return_inverse=True)
    inverse = inverse.ravel()
    weight = ps.weights
    points = np.bincount(inverse, minlength=len(zones))
    points_reached = np.bincount(inverse, weights=reached.astype(np.float64), minlength=len(zones))
    w = np.bincount(inverse, weights=weight, minlength=len(zones))
    w_reached = np.bincount(inverse, weights=weight * reached, minlength=len(zones))
    return [
        ZoneShare(
            zone=zones[i].item(),
            points=int(points[i]),
            points_reached=int(points_reached[i]),
            weight=float(w[i]),
            weight_reached=float(w_reached[i]),
        )
        for i in range(len(zones))
    ]
