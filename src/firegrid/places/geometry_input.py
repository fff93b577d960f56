"""Check a GeoJSON geometry from an imported feature before anything reads it.

A hostile or broken file must end as a row error that names the feature, the field and the
reason, never as an exception: a Point with one coordinate, coordinates given as text
(once read character by character), NaN or infinite numbers, unclosed rings, or a geometry
type the platform does not store.

:func:`read_geometry` returns the values the importer needs (``lon``/``lat`` of a Point,
``boundary`` of a polygon) and the problems found, each a problem code with its parameters at
its field (:class:`~firegrid.core.problems.Found`) and the English reason.
"""

from __future__ import annotations

import math
from typing import Any

from shapely.geometry import shape

from firegrid.core.problems import Found, Problem

POINT_TYPES = frozenset({"Point"})
AREA_TYPES = frozenset({"Polygon", "MultiPolygon"})
SUPPORTED_TYPES = "Point, Polygon, MultiPolygon"
#: what is wrong with a part of a geometry: its problem code, English message and parameters
Fault = tuple[Problem, str, dict[str, Any]]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "text", bool: "true/false"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _coordinate_fault(index: int, coordinate: Any) -> Fault | None:
    if isinstance(coordinate, bool) or not isinstance(coordinate, int | float):
        message = f"coordinate {index} is not a number: {_short(coordinate)}"
        return Problem.FLOAT_PARSING, message, {"value": _short(coordinate)}
    try:
        number = float(coordinate)
    except OverflowError:
        return Problem.FLOAT_PARSING, f"coordinate {index} is out of range", {}
    if not math.isfinite(number):
        message = f"coordinate {index} is not a finite number: {number}"
        return Problem.FLOAT_PARSING, message, {"value": str(number)}
    return None


def position_fault(value: Any) -> Fault | None:
    """Why ``value`` is not a GeoJSON position ``[lon, lat]`` or ``[lon, lat, height]``."""
    if not isinstance(value, list):
        message = f"a position must be an array [lon, lat], not {_type_name(value)}"
        return Problem.NOT_LIST, message, {}
    if len(value) < 2:
        message = f"a position needs two coordinates [lon, lat], got {len(value)}"
        return Problem.TOO_SHORT, message, {"min_length": 2}
    if len(value) > 3:
        message = f"a position has at most three coordinates, got {len(value)}"
        return Problem.TOO_LONG, message, {"max_length": 3}
    for index, coordinate in enumerate(value, start=1):
        fault = _coordinate_fault(index, coordinate)
        if fault is not None:
            return fault
    return None


def _ring_fault(ring: Any) -> Fault | None:
    if not isinstance(ring, list):
        return Problem.NOT_LIST, f"a ring must be an array of positions, not {_type_name(ring)}", {}
    if len(ring) < 4:
        message = f"a ring needs at least 4 positions, got {len(ring)}"
        return Problem.TOO_SHORT, message, {"min_length": 4}
    for position in ring:
        fault = position_fault(position)
        if fault is not None:
            return fault
    if ring[0][:2] != ring[-1][:2]:
        return Problem.RING_NOT_CLOSED, "a ring must end where it starts (closed)", {}
    return None


def _polygon_fault(rings: Any) -> Fault | None:
    if not isinstance(rings, list) or not rings:
        message = "a Polygon needs an array of at least one ring"
        return Problem.TOO_SHORT, message, {"min_length": 1}
    for ring in rings:
        fault = _ring_fault(ring)
        if fault is not None:
            return fault
    return None


def _multipolygon_fault(polygons: Any) -> Fault | None:
    if not isinstance(polygons, list) or not polygons:
        message = "a MultiPolygon needs an array of at least one polygon"
        return Problem.TOO_SHORT, message, {"min_length": 1}
    for polygon in polygons:
        fault = _polygon_fault(polygon)
        if fault is not None:
            return fault
    return None


def _found(field: str, fault: Fault) -> Found:
    problem, message, params = fault
    return Found(field, problem, message, params)


def read_geometry(geometry: Any) -> tuple[dict[str, Any], list[Found]]:
    """Values of a feature's geometry and the problems found (each at its field).

    ``_geometry_type`` is always set when the type is readable, so the importer can refuse
    a geometry type the imported kind does not take.
    """
    if not isinstance(geometry, dict):
        reason = f"a geometry must be an object or null, not {_type_name(geometry)}"
        return {}, [Found("geometry", Problem.NOT_JSON_OBJECT, reason)]
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if not isinstance(kind, str):
        reason = f"the geometry type is missing or not text: {_short(kind)}"
        problem = Problem.MISSING if kind is None else Problem.STRING_TYPE
        return {}, [Found("geometry.type", problem, reason)]
    values: dict[str, Any] = {"_geometry_type": kind}
    if kind == "Point":
        fault = position_fault(coordinates)
        if fault is not None:
            return values, [_found("geometry.coordinates", fault)]
        assert isinstance(coordinates, list)
        values.update({"lon": float(coordinates[0]), "lat": float(coordinates[1])})
        return values, []
    if kind in AREA_TYPES:
        check = _polygon_fault if kind == "Polygon" else _multipolygon_fault
        fault = check(coordinates)
        if fault is not None:
            return values, [_found("geometry.coordinates", fault)]
        values["boundary"] = geometry
        try:
            centre = shape(geometry).representative_point()
            values.update({"_centre_lon": centre.x, "_centre_lat": centre.y})
        except Exception:  # noqa: BLE001, S110 - a self-crossing ring is reported by validation
            pass
        return values, []
    reason = f"geometry type {_short(kind)} is not supported: use Point, Polygon or MultiPolygon"
    params = {"expected": SUPPORTED_TYPES, "value": _short(kind)}
    return values, [Found("geometry.type", Problem.ENUM, reason, params)]


def accepted_types(fields: set[str]) -> frozenset[str]:
    """Geometry types a kind with these schema fields takes."""
    accepted: set[str] = set()
    if "lon" in fields:
        accepted |= POINT_TYPES
    if "boundary" in fields:
        accepted |= AREA_TYPES
    return frozenset(accepted)
