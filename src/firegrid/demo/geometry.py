"""Geometry of the demo city: the outline, Voronoi partitions and point sampling.

Everything is in WGS-84 longitude/latitude degrees. Voronoi cells are computed with the
longitude axis scaled by ``cos(latitude)`` so that cells are isotropic on the ground; the
scaling is affine, so straight cell edges stay straight and cells still tile their parent.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from firegrid.places.crs import gcj02_to_wgs84

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
GeomArray = npt.NDArray[np.object_]
Areal: TypeAlias = Polygon | MultiPolygon

#: metres per degree of latitude near Dongguan (23° N)
M_PER_DEG_LAT = 110_740.0
#: below this area (deg², about 1 m²) a fragment of a cell is floating-point noise
_NOISE_AREA = 1e-10

_DATA = "firegrid.demo"


@dataclass(frozen=True)
class TownSeed:
    """One row of the packaged towns CSV, converted to WGS-84."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    lon: float
    lat: float


def m_per_deg_lon(lat: float) -> float:
    """Metres per degree of longitude at latitude ``lat``."""
    return M_PER_DEG_LAT * math.cos(math.radians(lat))


def load_outline() -> Polygon:
    """Dongguan's boundary, converted from GCJ-02 to WGS-84 (a valid polygon)."""
    text = (files(_DATA) / "data" / "dongguan-boundary.geojson").read_text(encoding="utf-8")
    feature = json.loads(text)
    geometry = feature.get("geometry", feature)
    polygon = shape(geometry)
    converted = shapely.transform(polygon, _gcj_to_wgs)
    return largest_polygon(shapely.make_valid(converted))


def load_town_seeds() -> list[TownSeed]:
    """The 33 towns with their approximate centres, converted to WGS-84."""
    text = (files(_DATA) / "data" / "dongguan-towns.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    lon, lat = gcj02_to_wgs84([float(r["lon"]) for r in rows], [float(r["lat"]) for r in rows])
    return [
        TownSeed(
            code=r["code"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            kind=r["kind"],
            lon=float(x),
            lat=float(y),
        )
        for r, x, y in zip(rows, lon, lat, strict=True)
    ]


def _gcj_to_wgs(coords: FloatArray) -> FloatArray:
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def largest_polygon(geometry: BaseGeometry) -> Polygon:
    """The largest polygon part of ``geometry`` (for outlines that must be one piece)."""
    parts = [p for p in shapely.get_parts(geometry) if isinstance(p, Polygon)]
    if not parts:
        raise ValueError("geometry has no polygon part")
    return max(parts, key=lambda p: p.area)


def apportion(weights: npt.ArrayLike, total: int, minimum: int = 0) -> IntArray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder).

    Every share is at least ``minimum``; the shares sum to exactly ``total``.
    """
    w = np.asarray(weights, dtype=np.float64)
    n = len(w)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if total < minimum * n:
        raise ValueError(f"cannot give {n} parts at least {minimum} out of {total}")
    if w.sum() <= 0:
        w = np.ones(n)
    spare = total - minimum * n
    quota = spare * w / w.sum()
    shares = np.floor(quota).astype(np.int64)
    left = spare - int(shares.sum())
    if left > 0:
        order = np.argsort(-(quota - shares), kind="stable")
        shares[order[:left]] += 1
    result: IntArray = shares + minimum
    return result


def sample_in_polygons(
    polygons: GeomArray,
    counts: IntArray,
    rng: np.random.Generator,
    within: BaseGeometry | None = None,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Uniform random points: ``counts[i]`` inside ``polygons[i]`` (vectorised rejection).

    Points are also inside ``within`` when given. Returns ``(lon, lat, owner)`` sorted by
    owner, so the points of polygon ``i`` are contiguous.
    """
    polygons = np.asarray(polygons, dtype=object)
    shapely.prepare(polygons)
    if within is not None:
        shapely.prepare(within)
    bounds = shapely.bounds(polygons)
    box_area = np.maximum((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]), 1e-18)
    fill = np.clip(shapely.area(polygons) / box_area, 0.02, 1.0)
    remaining = np.asarray(counts, dtype=np.int64).copy()
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    owners: list[IntArray] = []
    for _ in range(200):
        todo = np.flatnonzero(remaining > 0)
        if len(todo) == 0:
            break
        tries = np.ceil(remaining[todo] / fill[todo] * 1.25).astype(np.int64) + 4
        owner = np.repeat(todo, tries)
        x = rng.uniform(bounds[owner, 0], bounds[owner, 2])
        y = rng.uniform(bounds[owner, 1], bounds[owner, 3])
        ok = shapely.contains_xy(polygons[owner], x, y)
        if within is not None:
            ok &= shapely.contains_xy(within, x, y)
        x, y, owner = x[ok], y[ok], owner[ok]
        # keep the first remaining[i] accepted points of each polygon (owner is sorted)
        first = np.searchsorted(owner, owner, side="left")
        rank = np.arange(len(owner)) - first
        keep = rank < remaining[owner]
        xs.append(x[keep])
        ys.append(y[keep])
        owners.append(owner[keep])
        remaining -= np.bincount(owner[keep], minlength=len(remaining))
    if remaining.any():
        raise RuntimeError("could not sample points inside some polygons")
    x_all = np.concatenate(xs) if xs else np.zeros(0)
    y_all = np.concatenate(ys) if ys else np.zeros(0)
    o_all = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    order = np.argsort(o_all, kind="stable")
    return x_all[order], y_all[order], o_all[order]


def partition(
    parent: Areal, n: int, rng: np.random.Generator, relax_iterations: int = 2
) -> list[Areal]:
    """Split ``parent`` into ``n`` cells: Voronoi of random seeds, Lloyd-relaxed.

    The cells tile ``parent`` (up to floating-point precision); fragments a cell leaves
    on the far side of a bay or a neck are merged into the neighbour they touch most.
    """
    if n <= 1:
        return [parent]
    x, y, _ = sample_in_polygons(np.array([parent]), np.array([n]), rng)
    seeds = np.column_stack([x, y])
    cells = voronoi_cells(parent, seeds)
    for _ in range(relax_iterations):
        centres = shapely.centroid(cells)
        inside = shapely.contains(parent, centres)
        fallback = shapely.point_on_surface(cells)
        centres = np.where(inside, centres, fallback)
        seeds = shapely.get_coordinates(centres)
        cells = voronoi_cells(parent, seeds)
    return merge_fragments(cells)


def voronoi_cells(parent: Areal, seeds: FloatArray) -> GeomArray:
    """Voronoi cells of ``seeds`` clipped to ``parent``, in seed order."""
    k = m_per_deg_lon(float(np.mean(seeds[:, 1]))) / M_PER_DEG_LAT
    scaled = seeds * np.array([k, 1.0])
    minx, miny, maxx, maxy = parent.bounds
    pad = max(maxx - minx, maxy - miny)
    extent = shapely.box(minx * k - pad, miny - pad, maxx * k + pad, maxy + pad)
    diagram = shapely.voronoi_polygons(MultiPoint(scaled), extend_to=extent, ordered=True)
    cells = np.asarray(shapely.get_parts(diagram), dtype=object)
    cells = shapely.transform(cells, lambda xy: xy / np.array([k, 1.0]))
    clipped = shapely.intersection(cells, parent)
    return np.asarray(clipped, dtype=object)


def merge_fragments(cells: GeomArray) -> list[Areal]:
    """One polygon per cell: stray parts join the neighbouring cell they share most edge with."""
    mains: list[Areal] = []
    strays: list[Polygon] = []
    for cell in cells:
        parts = [
            p
            for p in shapely.get_parts(shapely.make_valid(cell))
            if isinstance(p, Polygon) and p.area > _NOISE_AREA
        ]
        parts.sort(key=lambda p: -p.area)
        mains.append(parts[0])
        strays.extend(parts[1:])
    if not strays:
        return mains
    tree = shapely.STRtree(mains)
    joins: dict[int, list[Polygon]] = {}
    for stray in strays:
        candidates = tree.query(stray, predicate="intersects")
        if len(candidates) == 0:
            candidates = np.array([tree.nearest(stray)])
        shared = shapely.length(
            shapely.intersection(
                stray.boundary,
                shapely.boundary(np.asarray([mains[i] for i in candidates], dtype=object)),
            )
        )
        joins.setdefault(int(candidates[int(np.argmax(shared))]), []).append(stray)
    for index, extra in joins.items():
        mains[index] = _polygonal(shapely.union_all([mains[index], *extra]))
    return mains


def _polygonal(geometry: BaseGeometry) -> Areal:
    """The polygon parts of ``geometry``: one Polygon when they fuse, else a MultiPolygon."""
    parts = [
        p
        for p in shapely.get_parts(shapely.make_valid(geometry))
        if isinstance(p, Polygon) and p.area > _NOISE_AREA
    ]
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(parts)


def polygon_to_geojson(polygon: Areal) -> dict[str, Any]:
    """A GeoJSON geometry dict with exact float coordinates (round-trips bit for bit)."""
    if isinstance(polygon, Polygon):
        return {"type": "Polygon", "coordinates": _rings(polygon)}
    return {
        "type": "MultiPolygon",
        "coordinates": [_rings(p) for p in shapely.get_parts(polygon)],
    }


def _rings(polygon: Polygon) -> list[list[list[float]]]:
    rings = [polygon.exterior, *polygon.interiors]
    return [shapely.get_coordinates(r).tolist() for r in rings]


def representative_points(polygons: GeomArray) -> tuple[FloatArray, FloatArray]:
    """A point inside each polygon (its centroid when inside, else a surface point)."""
    centroids = shapely.centroid(polygons)
    inside = shapely.contains(polygons, centroids)
    points = np.where(inside, centroids, shapely.point_on_surface(polygons))
    coords = shapely.get_coordinates(points)
    return coords[:, 0].copy(), coords[:, 1].copy()
