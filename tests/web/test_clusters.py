"""Grid clustering of map points (firegrid.web.clusters) and the road thinning by pixels."""

from __future__ import annotations

import numpy as np
import pytest

from firegrid.web.clusters import (
    CELL_PX,
    CLUSTER_MAX_ZOOM,
    CLUSTER_MIN_POINTS,
    grid_clusters,
    should_cluster,
    world_px,
)
from firegrid.web.map_api import coordinate_decimals


def test_world_pixels_match_web_mercator() -> None:
    x, y = world_px(np.array([-180.0, 0.0, 180.0]), np.array([0.0, 0.0, 0.0]), 0)
    assert x.tolist() == [0.0, 128.0, 256.0]
    assert y.tolist() == [128.0, 128.0, 128.0]
    _, north = world_px(np.array([0.0]), np.array([85.05112878]), 3)
    assert abs(float(north[0])) < 1e-6


def test_points_in_one_cell_are_one_cluster_and_a_lone_point_stays_single() -> None:
    rng = np.random.default_rng(3)
    lon = np.concatenate([113.70 + rng.uniform(0, 0.001, 40), [113.95]])
    lat = np.concatenate([22.90 + rng.uniform(0, 0.001, 40), [23.05]])
    red = np.zeros(41, dtype=bool)
    red[[0, 5, 9]] = True
    clusters = grid_clusters(lon, lat, 12, flags={"red": red})
    assert clusters.n_clusters >= 1
    assert clusters.count.sum() + len(clusters.singles) == 41  # nothing dropped
    assert 40 in clusters.singles.tolist()
    assert clusters.flags["red"].sum() == 3
    biggest = int(np.argmax(clusters.count))
    assert clusters.west[biggest] >= 113.70
    assert clusters.east[biggest] <= 113.701
    assert clusters.west[biggest] <= clusters.lon[biggest] <= clusters.east[biggest]


def test_clusters_split_as_the_zoom_grows() -> None:
    rng = np.random.default_rng(7)
    lon = 113.6 + rng.uniform(0, 0.3, 2000)
    lat = 22.8 + rng.uniform(0, 0.3, 2000)
    counts = []
    for zoom in (9, 11, 13, 15, 17):
        clusters = grid_clusters(lon, lat, zoom)
        assert clusters.count.sum() + len(clusters.singles) == 2000
        counts.append(clusters.n_clusters + len(clusters.singles))
    assert counts == sorted(counts)
    assert counts[0] < 10  # the whole area is a handful of discs at city zoom
    assert counts[-1] > 1500  # a block apart, almost every venue stands alone


def test_cells_are_fixed_to_the_world_grid() -> None:
    """The same points give the same clusters whatever else is in the view (panning)."""
    rng = np.random.default_rng(11)
    lon = 113.7 + rng.uniform(0, 0.2, 500)
    lat = 22.9 + rng.uniform(0, 0.2, 500)
    whole = grid_clusters(lon, lat, 12)
    x, _ = world_px(lon, lat, 12)
    left = np.floor(x / CELL_PX) < np.median(np.floor(x / CELL_PX))
    part = grid_clusters(lon[left], lat[left], 12)
    whole_left = {int(c) for c in np.unique(whole.member_of[left]) if c >= 0}
    assert part.n_clusters == len(whole_left)
    assert sorted(part.count.tolist()) == sorted(whole.count[list(whole_left)].tolist())


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="same length"):
        grid_clusters([1.0, 2.0], [1.0], 10)
    with pytest.raises(ValueError, match="one value per point"):
        grid_clusters([1.0, 2.0], [1.0, 2.0], 10, flags={"red": [True]})


def test_when_to_cluster() -> None:
    assert should_cluster(10, CLUSTER_MIN_POINTS + 1)
    assert not should_cluster(10, CLUSTER_MIN_POINTS)
    assert not should_cluster(CLUSTER_MAX_ZOOM, 50_000)
    assert not should_cluster(None, 50_000)


def test_coordinates_keep_a_tenth_of_a_pixel() -> None:
    assert coordinate_decimals(9) == 4
    assert coordinate_decimals(13) == 5
    assert coordinate_decimals(18) == 6
    for zoom in range(3, 19):
        pixel_deg = 360.0 / (256 * 2**zoom)
        assert 10 ** -coordinate_decimals(zoom) <= pixel_deg / 10 or coordinate_decimals(zoom) == 6
