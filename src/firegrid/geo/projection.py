"""Distances on the sphere and a fast local metric projection.

``LocalProjection`` is an equirectangular projection about a reference latitude: metres
east/north of a reference point. Over a city (±50 km) its distance error is below 0.5 %,
and snapping and nearest-neighbour queries need only that; areas use an equal-area
projection (see ``isochrones``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres between WGS-84 points (vectorised)."""
    lam1, phi1, lam2, phi2 = (
        np.radians(np.asarray(a, dtype=np.float64)) for a in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((phi2 - phi1) / 2.0) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2.0) ** 2
    )
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection about ``(lon0, lat0)``: x east, y north, metres."""

    lon0: float
    lat0: float

    @classmethod
    def around(cls, lon: npt.ArrayLike, lat: npt.ArrayLike) -> LocalProjection:
        """Projection centred on the middle of the given points' bounding box."""
        lon_a = np.asarray(lon, dtype=np.float64)
        lat_a = np.asarray(lat, dtype=np.float64)
        return cls(
            float((lon_a.min() + lon_a.max()) / 2.0), float((lat_a.min() + lat_a.max()) / 2.0)
        )

    @property
    def _kx(self) -> float:
        return float(np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(self.lat0)))

    @property
    def _ky(self) -> float:
        return float(np.radians(1.0) * EARTH_RADIUS_M)

    def forward(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Longitude/latitude (degrees) to x/y (metres)."""
        x = (np.asarray(lon, dtype=np.float64) - self.lon0) * self._kx
        y = (np.asarray(lat, dtype=np.float64) - self.lat0) * self._ky
        return x, y

    def inverse(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """x/y (metres) back to longitude/latitude (degrees)."""
        lon = np.asarray(x, dtype=np.float64) / self._kx + self.lon0
        lat = np.asarray(y, dtype=np.float64) / self._ky + self.lat0
        return lon, lat
