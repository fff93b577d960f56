"""Aggregation to the levels (hand computation on a tiny frame) and event aggregation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from firegrid.risk import GradeScheme, InputContractError, aggregate_level, top_units
from firegrid.risk.aggregate import aggregate_all
from firegrid.risk.events import aggregate_events, apply_event_facts

SCHEME = GradeScheme(red=75, orange=55, yellow=35)


def _tiny() -> pl.DataFrame:
    scores = [80.0, 50.0, 20.0, 60.0, 40.0]
    return pl.DataFrame(
        {
            "venue_id": [1, 2, 3, 4, 5],
            "town_code": ["A", "A", "A", "B", "B"],
            "village_code": ["A1", "A1", "A2", "B1", "B1"],
            "grid_code": ["A1a", "A1a", "A2a", "B1a", "B1b"],
            "category": ["factory", "office", "office", "factory", "small_shop"],
            "industry_code": ["C", "L", "L", "C", "F"],
            "is_key_unit": [True, False, False, True, False],
            "is_high_risk": [True, False, False, False, False],
            "occupancy": [100, 300, 0, 0, 0],
            "score": scores,
        }
    ).with_columns(SCHEME.grade_series(np.array(scores)))


def test_town_aggregate_by_hand() -> None:
    town = aggregate_level(_tiny(), "town", SCHEME)
    a = town.filter(pl.col("town_code") == "A").row(0, named=True)
    assert a["n_venues"] == 3
    assert a["occupancy_total"] == 400
    assert a["score_mean"] == pytest.approx((80 + 50 + 20) / 3)
    assert a["score_weighted"] == pytest.approx((80 * 100 + 50 * 300 + 20 * 0) / 400)  # 57.5
    assert a["score_p50"] == pytest.approx(50.0)
    assert a["score_p90"] == pytest.approx(np.quantile([80, 50, 20], 0.9))  # 74
    assert a["score_max"] == 80
    assert (a["n_red"], a["n_orange"], a["n_yellow"], a["n_blue"]) == (1, 0, 1, 1)
    assert a["grade"] == "orange"  # 57.5 ≥ 55
    assert a["three_colour"] == "red"
    assert a["n_key_units"] == 1
    assert a["n_high_risk"] == 1
    # Town B has no occupancy: the weighted score falls back to the plain mean.
    b = town.filter(pl.col("town_code") == "B").row(0, named=True)
    assert b["score_weighted"] == pytest.approx(50.0)
    assert b["grade"] == "yellow"


def test_other_levels_by_hand() -> None:
    aggs = aggregate_all(_tiny(), SCHEME)
    city = aggs["city"].row(0, named=True)
    assert city["n_venues"] == 5
    assert city["score_weighted"] == pytest.approx(57.5)
    assert city["score_p90"] == pytest.approx(np.quantile([80, 50, 20, 60, 40], 0.9))
    assert (city["n_red"], city["n_orange"], city["n_yellow"], city["n_blue"]) == (1, 1, 2, 1)
    village = aggs["village"].filter(pl.col("village_code") == "A1").row(0, named=True)
    assert village["town_code"] == "A"
    assert village["score_weighted"] == pytest.approx((80 * 100 + 50 * 300) / 400)
    grid = aggs["grid"]
    assert grid.height == 4
    assert grid.filter(pl.col("grid_code") == "B1b")["village_code"].item() == "B1"
    industry = aggs["industry"].filter(pl.col("industry_code") == "C").row(0, named=True)
    assert industry["n_venues"] == 2
    assert industry["score_max"] == 80
    category = aggs["category"].filter(pl.col("category") == "office").row(0, named=True)
    assert category["score_mean"] == pytest.approx(35.0)


def test_top_units_has_top_n_and_all_red() -> None:
    df = _tiny()
    top = top_units(df, n=2)
    assert top["venue_id"].to_list() == [1, 4]
    assert top["rank"].to_list() == [1, 2]
    reds = pl.DataFrame({"score": [90.0, 80.0, 76.0, 10.0]}).with_columns(
        pl.Series("venue_id", [1, 2, 3, 4]), SCHEME.grade_series(np.array([90, 80, 76, 10.0]))
    )
    assert top_units(reds, n=1)["venue_id"].to_list() == [1, 2, 3]


AT = datetime(2026, 1, 1, tzinfo=UTC)


def _events() -> pl.DataFrame:
    rows = [
        (1, "fire_alarm", AT - timedelta(days=1)),
        (1, "fire_alarm", AT - timedelta(days=89)),
        (1, "false_alarm", AT - timedelta(days=2)),
        (1, "fire_alarm", AT - timedelta(days=91)),  # outside the 90-day window
        (1, "fire_alarm", AT + timedelta(days=1)),  # after the snapshot
        (1, "fault", AT - timedelta(days=200)),
        (1, "fault", AT - timedelta(days=20)),
        (1, "fault_cleared", AT - timedelta(days=10)),
        (2, "offline", AT - timedelta(days=5)),
        (2, "offline", AT - timedelta(days=4)),
        (2, "online", AT - timedelta(days=3)),
        (2, "fault_cleared", AT - timedelta(days=3)),
        (2, "heartbeat", AT - timedelta(days=3)),
    ]
    return pl.DataFrame(
        {
            "venue_id": [r[0] for r in rows],
            "kind": pl.Series([r[1] for r in rows]).cast(pl.Categorical),
            "occurred_at": [r[2] for r in rows],
        }
    )


def test_event_aggregation() -> None:
    agg = aggregate_events(_events(), AT).sort("venue_id")
    one, two = agg.to_dicts()
    assert one["fire_alarms_90d"] == 2
    assert one["false_alarm_rate"] == pytest.approx(0.5)
    assert one["unresolved_faults"] == 1
    assert one["offline_devices"] == 0
    assert two["fire_alarms_90d"] == 0
    assert two["false_alarm_rate"] is None
    assert two["unresolved_faults"] == 0  # never negative
    assert two["offline_devices"] == 1


def test_apply_event_facts() -> None:
    facts = pl.DataFrame(
        {
            "venue_id": [1, 2, 3],
            "device_count": [5, 0, 2],
            "fire_alarms_90d": [9, 9, 9],
            "open_hazards": [1, 2, 3],
        }
    )
    out = apply_event_facts(facts, aggregate_events(_events(), AT)).sort("venue_id")
    assert out["fire_alarms_90d"].to_list() == [2, 0, 0]
    assert out["offline_devices"].to_list() == [0, 0, 0]  # venue 2 capped at 0 devices
    assert out["open_hazards"].to_list() == [1, 2, 3]


def test_events_need_aware_datetimes() -> None:
    naive = _events().with_columns(pl.col("occurred_at").dt.replace_time_zone(None))
    with pytest.raises(InputContractError, match="timezone-aware"):
        aggregate_events(naive, AT)
