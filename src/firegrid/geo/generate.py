"""A synthetic city road network inside a boundary, deterministic by seed.

The structure imitates a Chinese prefecture city: a motorway ring and trunk expressway
spokes joined to the streets only at interchanges; an arterial grid (primary every ~4 km,
secondary every ~1 km, tertiary every ~500 m) bent by a smooth warp and jittered; dense
residential streets between them with blocks merged by missing links; one-way couplets
downtown; service cul-de-sacs. Every node lies inside the boundary; the result is pruned to
its largest strongly connected component and numbered along a Z-order curve.

Everything is vectorised: 250,000 nodes take a few seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from firegrid.geo.errors import GeoError
from firegrid.geo.network import RoadClass, RoadNetwork
from firegrid.geo.projection import LocalProjection, haversine_m
from firegrid.geo.speeds import SpeedTable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SPUR_FRACTION = 0.04
"""Share of street nodes that get a service cul-de-sac."""
MISSING_LINK_FRACTION = 0.12
"""Share of residential links removed (merges blocks, makes dead ends)."""
HIGHWAY_SPACING_M = 400.0


@dataclass
class _Edges:
    """Edge lists being assembled (undirected pairs or directed edges)."""

    src: list[IntArray]
    dst: list[IntArray]
    road_class: list[IntArray]
    two_way: list[npt.NDArray[np.bool_]]

    def add(self, src: IntArray, dst: IntArray, road_class: IntArray | int, two_way: bool) -> None:
        self.src.append(np.asarray(src, dtype=np.int64))
        self.dst.append(np.asarray(dst, dtype=np.int64))
        self.road_class.append(np.broadcast_to(np.asarray(road_class, dtype=np.int64), len(src)))
        self.two_way.append(np.full(len(src), two_way))


def generate_city_network(
    boundary: BaseGeometry,
    seed: int,
    target_nodes: int = 250_000,
    *,
    speeds: SpeedTable | None = None,
) -> RoadNetwork:
    """Generate a road network of about ``target_nodes`` nodes inside ``boundary``.

    Parameters
    ----------
    boundary
        Polygon or MultiPolygon in WGS-84 longitude/latitude.
    seed
        Random seed; the same seed and inputs give the same network.
    target_nodes
        Approximate node count after pruning (within a few per cent).
    speeds
        Speed table; the default ``SpeedTable()`` when omitted.
    """
    problems = []
    if not isinstance(boundary, BaseGeometry) or boundary.geom_type not in (
        "Polygon",
        "MultiPolygon",
    ):
        problems.append(f"boundary must be a shapely Polygon, got {type(boundary).__name__}")
    elif boundary.is_empty or boundary.area <= 0:
        problems.append("boundary is empty")
    if target_nodes < 100:
        problems.append(f"target_nodes must be at least 100, got {target_nodes}")
    if problems:
        raise GeoError("generate_city_network: " + "; ".join(problems))
    table = speeds or SpeedTable()
    rng = np.random.default_rng(seed)

    lon0, lat0 = boundary.centroid.x, boundary.centroid.y
    proj = LocalProjection(lon0, lat0)
    poly_m = shapely.transform(
        boundary, lambda xy: np.column_stack(proj.forward(xy[:, 0], xy[:, 1]))
    )
    shapely.prepare(poly_m)

    lattice_target = target_nodes / (1.0 + SPUR_FRACTION * 0.9) * 1.01
    warp = _Warp(rng)
    spacing = math.sqrt(poly_m.area / lattice_target)
    for _ in range(3):  # calibrate the spacing on the actual shape
        inside = _lattice(poly_m, spacing, warp, rng_seed=seed)[2]
        spacing *= math.sqrt(max(int(inside.sum()), 1) / lattice_target)
    gx, gy, inside, rows, cols = _lattice(poly_m, spacing, warp, rng_seed=seed)

    node_id = np.full(inside.shape, -1, dtype=np.int64)
    node_id[inside] = np.arange(int(inside.sum()), dtype=np.int64)
    xs: list[FloatArray] = [gx[inside]]
    ys: list[FloatArray] = [gy[inside]]
    n_nodes = int(inside.sum())
    edges = _Edges([], [], [], [])

    _grid_edges(edges, node_id, rows, cols, gx, gy, poly_m, spacing, rng)

    # Service cul-de-sacs hanging off street nodes.
    hosts = np.flatnonzero(rng.random(n_nodes) < SPUR_FRACTION)
    angle = rng.uniform(0, 2 * np.pi, len(hosts))
    reach = rng.uniform(0.3, 0.6, len(hosts)) * spacing
    sx = xs[0][hosts] + reach * np.cos(angle)
    sy = ys[0][hosts] + reach * np.sin(angle)
    ok = shapely.contains_xy(poly_m, sx, sy)
    spur_ids = n_nodes + np.arange(int(ok.sum()), dtype=np.int64)
    xs.append(sx[ok])
    ys.append(sy[ok])
    n_nodes += len(spur_ids)
    edges.add(hosts[ok], spur_ids, int(RoadClass.SERVICE), two_way=True)

    # Motorway ring, trunk spokes and their interchanges.
    street_tree = cKDTree(np.column_stack([xs[0], ys[0]]))
    hx, hy = _highways(edges, poly_m, n_nodes, street_tree)
    xs.append(hx)
    ys.append(hy)

    x = np.concatenate(xs)
    y = np.concatenate(ys)
    lon, lat = proj.inverse(x, y)
    src = np.concatenate(edges.src)
    dst = np.concatenate(edges.dst)
    road_class = np.concatenate(edges.road_class)
    two_way = np.concatenate(edges.two_way)
    # Two-way roads become two directed edges.
    all_src = np.concatenate([src, dst[two_way]])
    all_dst = np.concatenate([dst, src[two_way]])
    all_class = np.concatenate([road_class, road_class[two_way]])
    oneway = np.concatenate([~two_way, np.zeros(int(two_way.sum()), dtype=np.bool_)])
    length = haversine_m(lon[all_src], lat[all_src], lon[all_dst], lat[all_dst])
    network = RoadNetwork.build(
        lon,
        lat,
        all_src,
        all_dst,
        length,
        all_class,
        oneway,
        table.speeds_kph(all_class),
    )
    pruned, _report = network.largest_strongly_connected()
    return pruned.spatially_sorted()


class _Warp:
    """A smooth displacement field that bends straight grid lines into city streets."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.phase = rng.uniform(0, 2 * np.pi, 4)
        self.rotation = rng.uniform(-0.3, 0.3)

    def apply(self, x: FloatArray, y: FloatArray, spacing: float) -> tuple[FloatArray, FloatArray]:
        amp = 2.5 * spacing
        wave = 45.0 * spacing
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        xr, yr = c * x - s * y, s * x + c * y
        dx = amp * np.sin(2 * np.pi * yr / wave + self.phase[0]) + 0.5 * amp * np.sin(
            2 * np.pi * yr / (2.7 * wave) + self.phase[1]
        )
        dy = amp * np.sin(2 * np.pi * xr / wave + self.phase[2]) + 0.5 * amp * np.sin(
            2 * np.pi * xr / (2.3 * wave) + self.phase[3]
        )
        return xr + dx, yr + dy


def _lattice(
    poly_m: BaseGeometry, spacing: float, warp: _Warp, rng_seed: int
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_], IntArray, IntArray]:
    """Warped, jittered lattice over the boundary's (generous) bounding box."""
    rng = np.random.default_rng([rng_seed, 1])
    minx, miny, maxx, maxy = poly_m.bounds
    half = max(maxx - minx, maxy - miny) * 0.75 + 6 * spacing
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    count = int(2 * half / spacing) + 1
    cols, rows = np.meshgrid(np.arange(count), np.arange(count))
    bx = cx - half + cols * spacing
    by = cy - half + rows * spacing
    gx, gy = warp.apply(bx - cx, by - cy, spacing)
    gx = gx + cx + rng.uniform(-0.12, 0.12, gx.shape) * spacing
    gy = gy + cy + rng.uniform(-0.12, 0.12, gy.shape) * spacing
    inside = shapely.contains_xy(poly_m, gx, gy)
    return gx, gy, inside, rows, cols


def _grid_edges(
    edges: _Edges,
    node_id: IntArray,
    rows: IntArray,
    cols: IntArray,
    gx: FloatArray,
    gy: FloatArray,
    poly_m: BaseGeometry,
    spacing: float,
    rng: np.random.Generator,
) -> None:
    """Streets along lattice rows and columns, classed by index, with couplets and gaps."""
    offset_r, offset_c = rng.integers(0, 40, 2)
    centre_x = float(np.mean(gx[node_id >= 0]))
    centre_y = float(np.mean(gy[node_id >= 0]))
    downtown_m = math.sqrt(poly_m.area / np.pi) * 0.35
    for axis in (0, 1):  # 0: along a row (east-west), 1: along a column
        if axis == 0:
            a, b = node_id[:, :-1], node_id[:, 1:]
            line = (rows[:, :-1] + offset_r) % 40
        else:
            a, b = node_id[:-1, :], node_id[1:, :]
            line = (cols[:-1, :] + offset_c) % 40
        ok = (a >= 0) & (b >= 0)
        a, b, line = a[ok], b[ok], line[ok]
        xa, ya = gx[node_id >= 0][a], gy[node_id >= 0][a]
        xb, yb = gx[node_id >= 0][b], gy[node_id >= 0][b]
        mid_ok = shapely.contains_xy(poly_m, (xa + xb) / 2, (ya + yb) / 2)
        road_class = np.full(len(a), int(RoadClass.RESIDENTIAL), dtype=np.int64)
        road_class[line % 5 == 0] = int(RoadClass.TERTIARY)
        road_class[line % 10 == 0] = int(RoadClass.SECONDARY)
        road_class[line == 0] = int(RoadClass.PRIMARY)
        local = road_class == int(RoadClass.RESIDENTIAL)
        missing = local & (rng.random(len(a)) < MISSING_LINK_FRACTION)
        downtown = np.hypot((xa + xb) / 2 - centre_x, (ya + yb) / 2 - centre_y) < downtown_m
        forward = local & downtown & (line % 10 == 2)
        backward = local & downtown & (line % 10 == 3)
        keep = mid_ok & ~missing
        two_way = keep & ~forward & ~backward
        edges.add(a[two_way], b[two_way], road_class[two_way], two_way=True)
        f = keep & forward
        edges.add(a[f], b[f], road_class[f], two_way=False)
        r = keep & backward
        edges.add(b[r], a[r], road_class[r], two_way=False)


def _highways(
    edges: _Edges, poly_m: BaseGeometry, first_id: int, street_tree: cKDTree
) -> tuple[FloatArray, FloatArray]:
    """Motorway ring and trunk spokes; returns the coordinates of their new nodes."""
    centre = poly_m.centroid
    if not poly_m.contains(centre):
        centre = poly_m.representative_point()
    cx, cy = centre.x, centre.y
    r_ring = math.sqrt(poly_m.area / np.pi) * 0.45
    n_ring = max(8, round(2 * np.pi * r_ring / HIGHWAY_SPACING_M / 8) * 8)
    theta = 2 * np.pi * np.arange(n_ring) / n_ring
    ring_x, ring_y = cx + r_ring * np.cos(theta), cy + r_ring * np.sin(theta)
    ring_in = shapely.contains_xy(poly_m, ring_x, ring_y)
    ring_ids = np.full(n_ring, -1, dtype=np.int64)
    ring_ids[ring_in] = first_id + np.arange(int(ring_in.sum()))
    xs, ys = [ring_x[ring_in]], [ring_y[ring_in]]
    next_id = first_id + int(ring_in.sum())
    a, b = ring_ids, np.roll(ring_ids, -1)
    mid_ok = shapely.contains_xy(
        poly_m, (ring_x + np.roll(ring_x, -1)) / 2, (ring_y + np.roll(ring_y, -1)) / 2
    )
    ok = (a >= 0) & (b >= 0) & mid_ok
    edges.add(a[ok], b[ok], int(RoadClass.MOTORWAY), two_way=True)
    interchanges = [ring_ids[(np.arange(n_ring) % 5 == 0) & ring_in]]
    inter_class = [np.full(len(interchanges[0]), int(RoadClass.MOTORWAY_LINK))]

    centre_id = next_id
    next_id += 1
    xs.append(np.array([cx]))
    ys.append(np.array([cy]))
    interchanges.append(np.array([centre_id]))
    inter_class.append(np.array([int(RoadClass.TRUNK_LINK)]))
    k_ring = max(1, round(r_ring / HIGHWAY_SPACING_M))
    step = r_ring / k_ring
    reach = math.hypot(*(np.subtract(poly_m.bounds[2:], poly_m.bounds[:2])))
    k = np.arange(1, int(reach / step) + 2)
    for j in range(0, n_ring, n_ring // 8):
        px = cx + k * step * math.cos(theta[j])
        py = cy + k * step * math.sin(theta[j])
        inside = shapely.contains_xy(poly_m, px, py)
        stop = int(np.argmin(inside)) if not inside.all() else len(k)
        ids = np.empty(stop, dtype=np.int64)
        new = np.ones(stop, dtype=np.bool_)
        if stop >= k_ring and ring_ids[j] >= 0:
            ids[k_ring - 1] = ring_ids[j]
            new[k_ring - 1] = False
        ids[new] = next_id + np.arange(int(new.sum()))
        next_id += int(new.sum())
        xs.append(px[:stop][new])
        ys.append(py[:stop][new])
        chain = np.concatenate([[centre_id], ids])
        edges.add(chain[:-1], chain[1:], int(RoadClass.TRUNK), two_way=True)
        links = ids[(np.arange(stop) % 3 == 1) & new]
        interchanges.append(links)
        inter_class.append(np.full(len(links), int(RoadClass.TRUNK_LINK)))

    hx, hy = np.concatenate(xs), np.concatenate(ys)
    inter = np.concatenate(interchanges)
    cls = np.concatenate(inter_class)
    dist, nearest = street_tree.query(np.column_stack([hx[inter - first_id], hy[inter - first_id]]))
    near = dist < 500.0
    edges.add(inter[near], nearest[near], cls[near], two_way=True)
    return hx, hy


def load_boundary(path: str) -> Polygon:
    """Read the first (Multi)Polygon of a GeoJSON Feature/FeatureCollection/geometry file."""
    import json

    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if doc.get("type") == "FeatureCollection":
        doc = doc["features"][0]
    if doc.get("type") == "Feature":
        doc = doc["geometry"]
    geom = shapely.geometry.shape(doc)
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    if geom.geom_type != "Polygon":
        raise GeoError(f"{path}: expected a polygon boundary, got {geom.geom_type}")
    return geom
