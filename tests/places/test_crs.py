"""Coordinate systems: GCJ-02 / BD-09 against published test points, inverse round trips."""

from __future__ import annotations

import numpy as np
import pytest

from firegrid.core.errors import ValidationFailed
from firegrid.places import crs

# Published test vectors of the eviltransform project (lat, lon order there), WGS-84 → GCJ-02.
GCJ_CASES = [
    # (wgs lon, wgs lat, gcj lon, gcj lat)
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), GCJ_CASES)
def test_wgs84_to_gcj02_matches_published_points(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = crs.point_from_wgs84(wlon, wlat, "gcj02")
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), GCJ_CASES)
def test_gcj02_to_wgs84_inverts_published_points(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = crs.point_to_wgs84(glon, glat, "gcj02")
    assert crs.distance_m(lon, lat, wlon, wlat) < 0.01


def test_gcj02_offset_is_hundreds_of_metres_in_china() -> None:
    lon, lat = crs.point_from_wgs84(113.75, 23.02, "gcj02")
    offset = crs.distance_m(113.75, 23.02, lon, lat)
    assert 200 < offset < 800


def test_outside_china_is_unchanged() -> None:
    lon, lat = crs.point_from_wgs84(2.35, 48.85, "gcj02")
    assert (lon, lat) == (2.35, 48.85)


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_inverse_round_trip_is_under_a_metre(system: str) -> None:
    rng = np.random.default_rng(3)
    lon = rng.uniform(113.5, 114.3, 2000)
    lat = rng.uniform(22.6, 23.2, 2000)
    out_lon, out_lat = crs.from_wgs84(lon, lat, system)
    back_lon, back_lat = crs.to_wgs84(out_lon, out_lat, system)
    x0, y0 = crs.to_metric(lon, lat)
    x1, y1 = crs.to_metric(back_lon, back_lat)
    error_m = np.hypot(x1 - x0, y1 - y0)
    assert float(error_m.max()) < 0.01


def test_bd09_published_point() -> None:
    # Baidu's own conversion of GCJ-02 (116.404, 39.915) is about (116.41036, 39.92134).
    lon, lat = crs.gcj02_to_bd09(116.404, 39.915)
    assert crs.distance_m(float(lon), float(lat), 116.41036, 39.92134) < 5


def test_unknown_crs_names_the_accepted_values() -> None:
    with pytest.raises(ValidationFailed, match="wgs84, gcj02, bd09"):
        crs.parse_crs("epsg:3857")


def test_projected_coordinates_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="projected CRS"):
        crs.validate_lon_lat(38_500_000.0, 2_545_000.0)


def test_metric_distance_of_one_degree_latitude() -> None:
    assert crs.distance_m(113.8, 22.5, 113.8, 23.5) == pytest.approx(110_760, rel=0.005)
