from __future__ import annotations

import numpy as np
import pytest

from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.errors import GeoError
from firegrid.geo.hydrant_gaps import hydrant_gaps
from firegrid.geo.network import RoadClass, RoadNetwork
from firegrid.geo.projection import EARTH_RADIUS_M

LON0, LAT0 = 113.75, 23.02
DLAT = np.degrees(100.0 / EARTH_RADIUS_M)
DLON = DLAT / np.cos(np.radians(LAT0))


def at(row: float, col: float, north_m: float = 0.0) -> tuple[float, float]:
    """Point at grid position (row, col) plus an offset north, in metres."""
    return (LON0 + col * DLON, LAT0 + row * DLAT + north_m / 100.0 * DLAT)


@pytest.fixture(scope="module")
def grid_engine() -> TravelTimeEngine:
    """5 x 5 two-way residential grid, 100 m blocks (node = row * 5 + col)."""
    n = 5
    rows, cols = np.divmod(np.arange(n * n), n)
    lon, lat = LON0 + cols * DLON, LAT0 + rows * DLAT
    src, dst = [], []
    for r in range(n):
        for c in range(n):
            if c + 1 < n:
                src += [r * n + c, r * n + c + 1]
                dst += [r * n + c + 1, r * n + c]
            if r + 1 < n:
                src += [r * n + c, (r + 1) * n + c]
                dst += [(r + 1) * n + c, r * n + c]
    m = len(src)
    net = RoadNetwork.build(
        lon, lat, src, dst, [100.0] * m, [RoadClass.RESIDENTIAL] * m, [False] * m, [25.0] * m
    )
    return TravelTimeEngine(net)


def test_known_answer_on_a_grid(grid_engine: TravelTimeEngine) -> None:
    hydrants = [at(0, 0)]
    venues = [
        at(1, 0, north_m=20),  # A: 100 m by road + 20 m leg = 120 m: covered
        at(2, 2),  # B: 400 m: uncovered
        at(2, 3),  # D: 500 m: uncovered, 100 m from B
        at(4, 4),  # C: 800 m: uncovered, far from B and D
    ]
    report = hydrant_gaps(grid_engine, hydrants, venues, venue_ids=["A", "B", "D", "C"])
    assert report.venue_distance_m[0] == pytest.approx(120.0, abs=0.5)
    assert report.uncovered.tolist() == [1, 2, 3]
    # spacing: only 60 m on each of the 2 streets at the hydrant's corner are covered
    assert report.street_length_m == pytest.approx(4000.0)
    assert len(report.gaps) == 40
    assert report.gap_length_m == pytest.approx(4000.0 - 120.0)
    first = next(g for g in report.gaps if g.from_m > 0)
    assert (first.from_m, first.to_m) == pytest.approx((60.0, 100.0))
    # B and D share one new hydrant, C needs its own
    assert report.hydrants_needed == 2
    assert sorted(report.proposed_covers) == [1, 2]
    assert report.venues_unfixable == 0
    fc = report.to_geojson()
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert kinds.count("uncovered_venue") == 3
    assert kinds.count("street_gap") == 40
    assert kinds.count("proposed_hydrant") == 2
    assert fc["properties"]["hydrants_needed"] == 2


def test_proposals_cover_the_venues(grid_engine: TravelTimeEngine) -> None:
    venues = [at(2, 2), at(2, 3), at(4, 4), at(0, 4, north_m=30)]
    first = hydrant_gaps(grid_engine, [at(0, 0)], venues)
    again = hydrant_gaps(grid_engine, [at(0, 0), *first.proposed], venues)
    assert len(again.uncovered) == 0
    assert again.hydrants_needed == 0


def test_spacing_satisfied_by_dense_hydrants(grid_engine: TravelTimeEngine) -> None:
    # a hydrant on every node and every mid-block: no point is more than 50 m away
    hydrants = [at(r / 2, c / 2) for r in range(9) for c in range(9)]
    report = hydrant_gaps(grid_engine, hydrants, [at(2, 2)])
    assert report.gaps == []
    assert len(report.uncovered) == 0


def test_far_venue_is_unfixable(grid_engine: TravelTimeEngine) -> None:
    report = hydrant_gaps(grid_engine, [at(0, 0)], [at(4, 2, north_m=250)])
    # 250 m off the road: no hydrant on the road can be within 150 m
    assert report.uncovered.tolist() == [0]
    assert report.venues_unfixable == 1
    assert report.hydrants_needed == 0


def test_bad_arguments(grid_engine: TravelTimeEngine) -> None:
    with pytest.raises(GeoError, match="spacing_m must be positive"):
        hydrant_gaps(grid_engine, [at(0, 0)], [at(1, 1)], spacing_m=0)
    with pytest.raises(GeoError, match="venue_ids has 2 ids for 1 venues"):
        hydrant_gaps(grid_engine, [at(0, 0)], [at(1, 1)], venue_ids=["a", "b"])


def test_tiling_does_not_change_the_answer(
    grid_engine: TravelTimeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from firegrid.geo import hydrant_gaps as module

    venues = [at(r, c, north_m=15) for r in range(5) for c in range(5) if (r + c) % 2 == 0]
    whole = hydrant_gaps(grid_engine, [at(0, 0)], venues)
    monkeypatch.setattr(module, "_TILE_M", 90.0)  # one venue per tile
    tiled = hydrant_gaps(grid_engine, [at(0, 0)], venues)
    assert tiled.proposed == whole.proposed
    assert tiled.proposed_covers == whole.proposed_covers
    assert whole.hydrants_needed >= 2
