"""The area method on a hand-built city whose answers are computed by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml

from firegrid.risk.area import AreaContext, assess_areas, venue_basis
from firegrid.risk.area_index import AreaIndex
from firegrid.risk.area_method import default_area_method, parse_area_method
from firegrid.risk.errors import CatalogueInvalid
from firegrid.risk.grades import GradeScheme

#: Three indicators, two groups judged equal: weights 0.25 (severe), 0.25 (stations), 0.5
#: (overdue). Area thresholds 60 / 45 / 30.
METHOD = """
version: test
groups:
  risk_features: {name_zh: 风险源, name_en: Risk features}
  prevention: {name_zh: 防控, name_en: Prevention}
indicators:
  - {key: severe_venue_share, name_zh: a, name_en: a, group: risk_features, unit: share,
     value: {ratio: [n_red_orange, n_venues]}, anchors: {good: 0.0, bad: 0.5},
     action: rectify_severe_venues}
  - {key: station_district_coverage, name_zh: b, name_en: b, group: risk_features,
     unit: ratio, value: {ratio: [stations, stations_required]}, anchors: {good: 1.0, bad: 0.0},
     spatial: true, action: add_station}
  - {key: overdue_hazard_share, name_zh: c, name_en: c, group: prevention, unit: share,
     value: {ratio: [n_overdue_venues, n_inspection_known]}, anchors: {good: 0.0, bad: 0.5},
     action: rectify_overdue}
grades: {thresholds: {red: 60, orange: 45, yellow: 30}}
weights:
  groups:
    order: [risk_features, prevention]
    matrix: [[1, 1], [1, 1]]
  within:
    risk_features:
      order: [severe_venue_share, station_district_coverage]
      matrix: [[1, 1], [1, 1]]
station_district_km2: 7.0
five_minute_travel_s: 240
category_sets: {crowded_mixed: [dormitory], hazardous: [chemical_plant]}
"""
VENUE_SCHEME = GradeScheme()


def _city() -> tuple[pl.DataFrame, pl.DataFrame, AreaContext]:
    """Town A: 4 venues, 2 red/orange, 1 with an overdue hazard, 14 km², 1 station.
    Town B: 4 venues, none severe, none overdue, 7 km², 1 station. Industry X holds A's two
    severe venues, A's overdue one and B's first two venues."""
    grades = ["red", "orange", "blue", "blue", "yellow", "blue", "blue", "blue"]
    scores = pl.DataFrame(
        {
            "venue_id": list(range(1, 9)),
            "town_code": ["A"] * 4 + ["B"] * 4,
            "village_code": ["A1", "A1", "A2", "A2", "B1", "B1", "B1", "B1"],
            "grid_code": ["A1a", "A1a", "A2a", "A2a", "B1a", "B1a", "B1b", "B1b"],
            "industry_code": ["X", "X", "X", "Y", "X", "X", "Y", "Y"],
            "category": ["factory"] * 8,
            "is_key_unit": [False] * 8,
            "is_high_risk": [False] * 8,
            "grade": grades,
        }
    )
    features = pl.DataFrame(
        {
            "venue_id": list(range(1, 9)),
            "floor_area_m2": [100.0] * 8,
            "is_three_small": [False] * 8,
            "is_rental": [False] * 8,
            "device_count": [0] * 8,
            "offline_devices": [None] * 8,
            "hydrant_within_150m": [True] * 8,
            "open_hazards": [0, 0, 2, 0, 0, 0, 0, 0],
            "overdue_rectifications": [0, 0, 1, 0, 0, 0, 0, 0],
            "days_since_inspection": [10.0] * 8,
            "first_due_travel_time_s": [200.0] * 8,
            "incidents_venue_3y": [0] * 8,
        },
        schema_overrides={"offline_devices": pl.Int32},
    )
    context = AreaContext(
        levels={
            "town": pl.DataFrame(
                {
                    "code": ["A", "B"],
                    "area_km2": [14.0, 7.0],
                    "population": [1000.0, 1000.0],
                    "stations": [1.0, 1.0],
                    "units": [3.0, 3.0],
                }
            )
        }
    )
    return scores, features, context


def _areas() -> dict[str, pl.DataFrame]:
    method = parse_area_method(yaml.safe_load(METHOD))
    scores, features, context = _city()
    return assess_areas(venue_basis(scores, features, method), method, context)


def _row(areas: dict[str, pl.DataFrame], level: str, key: str, code: str) -> dict[str, Any]:
    return areas[level].filter(pl.col(key) == code).row(0, named=True)


def test_weights_come_from_the_ahp_matrices() -> None:
    method = parse_area_method(yaml.safe_load(METHOD))
    assert method.weights == pytest.approx(
        {"severe_venue_share": 0.25, "station_district_coverage": 0.25, "overdue_hazard_share": 0.5}
    )


def test_town_grades_by_hand() -> None:
    areas = _areas()
    a = _row(areas, "town", "town_code", "A")
    # severe 2/4 = 0.5 → risk 1; stations 1 / (14/7) = 0.5 → risk 0.5; overdue 1/4 → 0.5
    assert a["value_severe_venue_share"] == pytest.approx(0.5)
    assert a["value_station_district_coverage"] == pytest.approx(0.5)
    assert a["value_overdue_hazard_share"] == pytest.approx(0.25)
    assert a["area_score"] == pytest.approx(100 * (0.25 * 1 + 0.25 * 0.5 + 0.5 * 0.5))  # 62.5
    assert a["area_grade"] == "red"
    assert a["drivers"] == [
        "severe_venue_share",
        "overdue_hazard_share",
        "station_district_coverage",
    ]
    assert a["missing"] == []
    b = _row(areas, "town", "town_code", "B")
    assert b["area_score"] == pytest.approx(0.0)
    assert b["area_grade"] == "blue"
    assert b["drivers"] == []


def test_industry_leaves_out_the_land_indicators_and_renormalises() -> None:
    areas = _areas()
    x = _row(areas, "industry", "industry_code", "X")
    # X: venues 1, 2, 3, 5, 6 → severe 2/5 = 0.4 → risk 0.8; overdue 1/5 = 0.2 → risk 0.4
    expected = (0.25 * 0.8 + 0.5 * 0.4) / 0.75 * 100
    assert x["area_score"] == pytest.approx(expected)  # 53.3 → orange
    assert x["area_grade"] == "orange"
    assert x["missing"] == ["station_district_coverage"]
    y = _row(areas, "industry", "industry_code", "Y")
    assert y["area_score"] == pytest.approx(0.0)


def test_the_mean_venue_score_is_not_the_answer() -> None:
    """Town A's venues are mostly blue, yet its area grade is red: the area's own indicators
    (severe share, overdue hazards, stations short of GB 51080) decide."""
    areas = _areas()
    city = areas["city"].row(0, named=True)
    # city: severe 2/8 → 0.5; stations unknown at city level (no context) → left out;
    # overdue 1/8 → 0.25 → (0.25*0.5 + 0.5*0.25) / 0.75
    assert city["area_score"] == pytest.approx((0.25 * 0.5 + 0.5 * 0.25) / 0.75 * 100)
    assert city["missing"] == ["station_district_coverage"]


def test_incremental_regrade_matches_a_full_recompute() -> None:
    method = parse_area_method(yaml.safe_load(METHOD))
    scores, features, context = _city()
    basis = venue_basis(scores, features, method)
    index = AreaIndex(basis, method, context)
    # venue 3 rectifies its overdue hazard
    changed = features.with_columns(
        pl.when(pl.col("venue_id") == 3)
        .then(0)
        .otherwise(pl.col("overdue_rectifications"))
        .alias("overdue_rectifications")
    )
    new_basis = venue_basis(scores, changed, method)
    out = index.update_venue(3, new_basis.filter(pl.col("venue_id") == 3))
    full = assess_areas(new_basis, method, context)
    assert set(out) == {"city", "town", "village", "grid", "industry", "category"}
    for level, got in out.items():
        key = full[level].columns[0]
        expected = full[level].filter(pl.col(key) == got.code).row(0, named=True)
        assert got.area_score == pytest.approx(expected["area_score"])
        assert got.grade == expected["area_grade"]
        assert got.drivers == expected["drivers"]
    assert out["town"].area_score == pytest.approx(100 * (0.25 + 0.125))  # 37.5
    # the kept sums give every area's row as a full recompute does
    town_rows = index.rows("town")
    assert town_rows["area_score"].to_list() == pytest.approx(full["town"]["area_score"].to_list())


def test_the_packaged_method_is_consistent() -> None:
    method = default_area_method()
    assert all(cr <= 0.1 for cr in method.consistency.values())
    assert sum(method.weights.values()) == pytest.approx(1.0)
    assert {i.group for i in method.indicators} == {
        "exposure",
        "risk_features",
        "public_facilities",
        "prevention",
        "rescue",
        "history",
    }
    assert method.scheme.thresholds == {"red": 60, "orange": 45, "yellow": 30}


def test_an_inconsistent_matrix_is_refused() -> None:
    doc = yaml.safe_load(METHOD)
    doc["groups"]["history"] = {"name_zh": "h", "name_en": "h"}
    doc["indicators"].append(
        {
            "key": "incident_rate",
            "name_zh": "d",
            "name_en": "d",
            "group": "history",
            "unit": "x",
            "value": {"ratio": ["incidents_3y", "n_venues"]},
            "anchors": {"good": 0, "bad": 1},
        }
    )
    doc["weights"]["groups"] = {
        "order": ["risk_features", "prevention", "history"],
        "matrix": [[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]],
    }
    with pytest.raises(CatalogueInvalid, match="inconsistent"):
        parse_area_method(doc)


def test_an_unknown_measure_is_named() -> None:
    doc = yaml.safe_load(METHOD)
    doc["indicators"][0]["value"] = {"ratio": ["n_dragons", "n_venues"]}
    with pytest.raises(CatalogueInvalid, match="n_dragons"):
        parse_area_method(doc)


def test_drivers_need_a_risk_of_at_least_one_half() -> None:
    from firegrid.risk.area import drivers_of

    risks = np.array([[0.4, 0.9, np.nan], [0.6, 0.6, 0.6]])
    contrib = np.array([[30.0, 20.0, 0.0], [10.0, 30.0, 20.0]])
    got = drivers_of(risks, contrib, ["a", "b", "c"]).to_list()
    assert got == [["b"], ["b", "c", "a"]]


def test_incremental_regrade_keeps_the_travel_time_quantiles() -> None:
    method = default_area_method()
    scores, features, context = _city()
    features = features.with_columns(
        pl.Series("first_due_travel_time_s", [100.0, 200.0, None, 400.0, 500, 600, 700, 800])
    )
    index = AreaIndex(venue_basis(scores, features, method), method, context)
    for venue_id, travel in ((3, 950.0), (1, None), (8, 120.0)):
        features = features.with_columns(
            pl.when(pl.col("venue_id") == venue_id)
            .then(pl.lit(travel, dtype=pl.Float64))
            .otherwise(pl.col("first_due_travel_time_s"))
            .alias("first_due_travel_time_s")
        )
        new_basis = venue_basis(scores, features, method)
        out = index.update_venue(venue_id, new_basis.filter(pl.col("venue_id") == venue_id))
        full = assess_areas(new_basis, method, context)
        for level, got in out.items():
            key = full[level].columns[0]
            row = full[level].filter(pl.col(key) == got.code).row(0, named=True)
            assert got.area_score == pytest.approx(row["area_score"]), (venue_id, level)


def test_rolled_up_levels_equal_direct_grouping() -> None:
    from firegrid.risk.area import assess_level
    from firegrid.risk.synthetic import facts_for, make_venues

    method = default_area_method()
    venues = make_venues(3000, 11)
    from datetime import UTC, datetime

    from firegrid.risk import run_assessment

    run = run_assessment(
        venues, facts_for(venues, 11), snapshot_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert run.basis is not None
    rolled = assess_areas(run.basis, method, AreaContext())
    for level in ("city", "town", "village", "grid"):
        direct = assess_level(run.basis, level, method, AreaContext())
        assert rolled[level]["area_score"].to_list() == pytest.approx(
            direct["area_score"].to_list()
        )
        assert rolled[level]["drivers"].to_list() == direct["drivers"].to_list()


def test_countermeasures_by_hand() -> None:
    from firegrid.risk.countermeasures import countermeasures

    method = parse_area_method(yaml.safe_load(METHOD))
    scores, features, context = _city()
    scores = scores.with_columns(pl.Series("score", [70.0, 50.0, 20.0, 10.0, 40, 10, 10, 10]))
    basis = venue_basis(scores, features, method)
    drivers = ["severe_venue_share", "overdue_hazard_share", "station_district_coverage"]
    got = countermeasures(basis, scores, "town", "A", method, context, drivers)
    assert [c.action for c in got] == ["rectify_severe_venues", "rectify_overdue", "add_station"]
    severe, overdue, station = got
    # supervising venues 1 and 2 out of red/orange leaves 0.25·0.5 + 0.5·0.5 = 37.5
    assert severe.venue_ids == [1, 2]
    assert severe.score_after == pytest.approx(37.5)
    # rectifying venue 3's overdue hazard leaves 0.25·1 + 0.25·0.5 = 37.5
    assert overdue.venue_ids == [3]
    assert overdue.score_after == pytest.approx(37.5)
    # a station needs siting: no computed effect
    assert station.score_after is None
