"""Coordinate reference systems at the edges: WGS-84 inside, GCJ-02 and BD-09 outside.

GCJ-02 ("Mars coordinates", used by Amap and Tencent) is WGS-84 with a published
obfuscation offset; BD-09 (Baidu) is a further rotation of GCJ-02. The forward transforms
are the widely published formulas; the inverses are solved by fixed-point iteration to
well under a centimetre. Distances are computed in a metric CRS through pyproj
(CGCS2000 / 3-degree Gauss-Kruger CM 114E, EPSG:4547, for Dongguan by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from pyproj import Transformer

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.core.writes import Crs as Crs  # re-exported: the vocabulary lives in core

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_BD_PI = math.pi * 3000.0 / 180.0

FloatArray = npt.NDArray[np.float64]


def parse_crs(value: str | None) -> Crs:
    """Parse a ``crs`` parameter, naming the accepted values when it is wrong."""
    if value is None or value == "":
        return Crs.WGS84
    try:
        return Crs(value.lower())
    except ValueError:
        raise ValidationFailed(
            f"unknown coordinate system {value!r}; use one of wgs84, gcj02, bd09",
            {"crs": value},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "crs", "value": value, "allowed": "wgs84, gcj02, bd09"},
        ) from None


def _out_of_china(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return np.asarray(ret, dtype=np.float64)


def _transform_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return np.asarray(ret, dtype=np.float64)


def _as_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shift WGS-84 coordinates to GCJ-02 (points outside China are returned unchanged)."""
    x, y = _as_arrays(lon, lat)
    d_lat = _transform_lat(x - 105.0, y - 35.0)
    d_lon = _transform_lon(x - 105.0, y - 35.0)
    rad_lat = y / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = _out_of_china(x, y)
    return np.where(outside, x, x + d_lon), np.where(outside, y, y + d_lat)


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    x: FloatArray,
    y: FloatArray,
    start_x: FloatArray,
    start_y: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """The points ``forward`` maps to ``(x, y)``, by fixed-point iteration from the start
    (at most 30 rounds; done when no point moves by 1e-12 degrees or more)."""
    px, py = start_x, start_y
    for _ in range(30):
        fx, fy = forward(px, py)
        dx, dy = fx - x, fy - y
        px, py = px - dx, py - dy
        if (
            float(np.max(np.abs(dx), initial=0.0)) < 1e-12
            and float(np.max(np.abs(dy), initial=0.0)) < 1e-12
        ):
            break
    return px, py


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (error far below 1 mm)."""
    gx, gy = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, gx, gy, gx.copy(), gy.copy())


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Rotate GCJ-02 to Baidu's BD-09."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Invert :func:`gcj02_to_bd09` by fixed-point iteration."""
    bx, by = _as_arrays(lon, lat)
    return _invert(gcj02_to_bd09, bx, by, bx - 0.0065, by - 0.006)


def to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: Crs | str
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates given in ``crs`` to WGS-84."""
    crs = parse_crs(str(crs))
    if crs is Crs.WGS84:
        return _as_arrays(lon, lat)
    if crs is Crs.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def from_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: Crs | str
) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 coordinates to ``crs``."""
    crs = parse_crs(str(crs))
    if crs is Crs.WGS84:
        return _as_arrays(lon, lat)
    if crs is Crs.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def point_to_wgs84(lon: float, lat: float, crs: Crs | str) -> tuple[float, float]:
    """Scalar form of :func:`to_wgs84`."""
    x, y = to_wgs84(lon, lat, crs)
    return float(x), float(y)


def point_from_wgs84(lon: float, lat: float, crs: Crs | str) -> tuple[float, float]:
    """Scalar form of :func:`from_wgs84`."""
    x, y = from_wgs84(lon, lat, crs)
    return float(x), float(y)


@lru_cache(maxsize=8)
def metric_transformer(epsg: int = 4547) -> Transformer:
    """A cached WGS-84 → metric transformer (x east, y north, metres)."""
    return Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)


def to_metric(
    lon: npt.ArrayLike, lat: npt.ArrayLike, epsg: int = 4547
) -> tuple[FloatArray, FloatArray]:
    """Project WGS-84 coordinates to the metric CRS ``epsg``."""
    x, y = metric_transformer(epsg).transform(*_as_arrays(lon, lat))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float, epsg: int = 4547) -> float:
    """Planar distance in metres between two WGS-84 points in the metric CRS."""
    x, y = to_metric([lon1, lon2], [lat1, lat2], epsg)
    return float(math.hypot(x[1] - x[0], y[1] - y[0]))


def validate_lon_lat(lon: float, lat: float) -> None:
    """Refuse coordinates that are not longitude/latitude degrees (e.g. projected metres)."""
    if not (math.isfinite(lon) and math.isfinite(lat)) or not (
        -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
    ):
        raise ValidationFailed(
            f"({lon}, {lat}) is not a longitude/latitude pair in degrees; "
            "is the file in a projected CRS?",
            {"lon": lon, "lat": lat},
            text=TextCode.GEO_NOT_DEGREES,
            params={"lon": lon, "lat": lat},
        )
