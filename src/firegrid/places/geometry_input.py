"""Check a GeoJSON geometry from an imported feature before anything reads it.

A hostile or broken file must end as a row error that names the feature, the field and the
reason, never as an exception: a Point with one coordinate, coordinates given as text
(once read character by character), NaN or infinite numbers, unclosed rings, or a geometry
type the platform does not store.

:func:`read_geometry` returns the values the importer needs (``lon``/``lat`` of a Point,
``boundary`` of a polygon) and the problems found as ``(field, reason)`` pairs.
"""

from __future__ import annotations

import math
from typing import Any

from shapely.geometry import shape

POINT_TYPES = frozenset({"Point"})
AREA_TYPES = frozenset({"Polygon", "MultiPolygon"})
Problem = tuple[str, str]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "text", bool: "true/false"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def position_problem(value: Any) -> str | None:
    """Why ``value`` is not a GeoJSON position ``[lon, lat]`` or ``[lon, lat, height]``."""
    if not isinstance(value, list):
        return f"a position must be an array [lon, lat], not {_type_name(value)}"
    if len(value) < 2:
        return f"a position needs two coordinates [lon, lat], got {len(value)}"
    if len(value) > 3:
        return f"a position has at most three coordinates, got {len(value)}"
    for index, coordinate in enumerate(value, start=1):
        if isinstance(coordinate, bool) or not isinstance(coordinate, int | float):
            return f"coordinate {index} is not a number: {_short(coordinate)}"
        try:
            number = float(coordinate)
        except OverflowError:
            return f"coordinate {index} is out of range"
        if not math.isfinite(number):
            return f"coordinate {index} is not a finite number: {number}"
    return None


def _ring_problem(ring: Any) -> str | None:
    if not isinstance(ring, list):
        return f"a ring must be an array of positions, not {_type_name(ring)}"
    if len(ring) < 4:
        return f"a ring needs at least 4 positions, got {len(ring)}"
    for position in ring:
        problem = position_problem(position)
        if problem is not None:
            return problem
    if ring[0][:2] != ring[-1][:2]:
        return "a ring must end where it starts (closed)"
    return None


def _polygon_problem(rings: Any) -> str | None:
    if not isinstance(rings, list) or not rings:
        return "a Polygon needs an array of at least one ring"
    for ring in rings:
        problem = _ring_problem(ring)
        if problem is not None:
            return problem
    return None


def _multipolygon_problem(polygons: Any) -> str | None:
    if not isinstance(polygons, list) or not polygons:
        return "a MultiPolygon needs an array of at least one polygon"
    for polygon in polygons:
        problem = _polygon_problem(polygon)
        if problem is not None:
            return problem
    return None


def read_geometry(geometry: Any) -> tuple[dict[str, Any], list[Problem]]:
    """Values of a feature's geometry and the problems found (``(field, reason)``).

    ``_geometry_type`` is always set when the type is readable, so the importer can refuse
    a geometry type the imported kind does not take.
    """
    if not isinstance(geometry, dict):
        reason = f"a geometry must be an object or null, not {_type_name(geometry)}"
        return {}, [("geometry", reason)]
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if not isinstance(kind, str):
        return {}, [("geometry.type", f"the geometry type is missing or not text: {_short(kind)}")]
    values: dict[str, Any] = {"_geometry_type": kind}
    if kind == "Point":
        problem = position_problem(coordinates)
        if problem is not None:
            return values, [("geometry.coordinates", problem)]
        assert isinstance(coordinates, list)
        values.update({"lon": float(coordinates[0]), "lat": float(coordinates[1])})
        return values, []
    if kind in AREA_TYPES:
        check = _polygon_problem if kind == "Polygon" else _multipolygon_problem
        problem = check(coordinates)
        if problem is not None:
            return values, [("geometry.coordinates", problem)]
        values["boundary"] = geometry
        try:
            centre = shape(geometry).representative_point()
            values.update({"_centre_lon": centre.x, "_centre_lat": centre.y})
        except Exception:  # noqa: BLE001, S110 - a self-crossing ring is reported by validation
            pass
        return values, []
    return values, [
        (
            "geometry.type",
            f"geometry type {_short(kind)} is not supported: use Point, Polygon or MultiPolygon",
        )
    ]


def accepted_types(fields: set[str]) -> frozenset[str]:
    """Geometry types a kind with these schema fields takes."""
    accepted: set[str] = set()
    if "lon" in fields:
        accepted |= POINT_TYPES
    if "boundary" in fields:
        accepted |= AREA_TYPES
    return frozenset(accepted)
