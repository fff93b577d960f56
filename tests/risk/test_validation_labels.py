"""Validation says what its labels are: synthetic (ceiling and ablation, "recovery of the
synthetic process") or imported fire records (time split, bootstrap CIs, minimum events)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.places.models import Venue
from firegrid.risk import load_model, validate_predictive
from firegrid.risk.predictive import MIN_EVENTS, PREDICTION, RECOVERY, auc_score
from firegrid.risk.synthetic import (
    facts_for,
    incident_history,
    log_hazard_without_noise,
    make_venues,
)
from tests.risk.test_runs import build_city


def test_synthetic_validation_reports_its_ceiling_and_ablation() -> None:
    venues = make_venues(6000, 5)
    history = incident_history(venues, facts_for(venues, 5), periods=3, seed=5, base_rate=0.08)
    v = validate_predictive(venues, history, load_model("expert-ahp"), kind="logistic")
    assert v.labels == "synthetic"
    assert v.measures == RECOVERY
    assert v.auc_ci95 is None
    # the ceiling is the generator's own noiseless formula on the held-out period
    y = (
        venues.select("venue_id")
        .join(history.labels(3), on="venue_id", how="left")["incidents"]
        .fill_null(0)
        .to_numpy()
        > 0
    )
    expected = auc_score(y, log_hazard_without_noise(venues, history.snapshots[2]))  # type: ignore[index]
    assert v.ceiling_auc == pytest.approx(expected)
    assert v.ablation is not None
    assert set(v.ablation["generator_features"]) == {
        "overdue_rectifications",
        "open_hazards",
        "offline_ratio",
        "monitoring_connected",
        "category_hazard",
        "night_occupancy",
        "construction_class",
        "days_since_inspection",
    }
    # the generator's own features carry the signal; the others carry much less
    assert v.ablation["generator_features_auc"] > v.ablation["other_indicators_auc"]
    assert v.ceiling_auc > 0.5


HEADER = [
    "code", "occurred_at", "lon", "lat", "venue_code", "incident_type", "cause_code",
    "origin_code", "civilian_injured", "civilian_killed", "direct_loss_yuan", "actions",
]  # fmt: skip


def _import_fires(db: Database, tmp_path: Path, n_per_year: int, seed: int) -> int:
    """``n_per_year`` fires a year over the last 3 years at random venues (recorded)."""
    from firegrid.places.importexport import import_file

    with db.session() as session:
        codes = session.scalars(select(Venue.code).order_by(Venue.id)).all()
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    rows = []
    for year in range(3):
        for k in range(n_per_year):
            at = now - timedelta(days=365 * year + float(rng.uniform(1, 364)))
            code = codes[int(rng.integers(0, len(codes)))]
            rows.append([f"T-{year}-{k}", at.isoformat(), "", "", code, "building_fire",
                         "electrical", "kitchen", 0, 0, 1000, "extinguish"])  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = tmp_path / "fires.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return int(import_file(db, "fire-records", path)["created"])


@pytest.mark.postgres
def test_few_imported_records_say_why_there_is_no_auc(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    from firegrid.risk import service

    build_city(db, settings)
    assert _import_fires(db, tmp_path, 5, seed=1) == 15
    summary = service.assess(db, settings, "expert-ahp", actor="test")
    v: dict[str, Any] = summary["validation"]
    assert v["labels"] == "imported"
    assert v["measures"] == PREDICTION
    assert v["status"] == "insufficient_events"
    assert v["auc"] is None
    assert str(MIN_EVENTS) in v["reason"]
    assert summary["synthetic"] is False
    assert not any("SYNTHETIC" in w for w in summary["warnings"])
    assert summary["sources"]["incidents_venue_3y"].startswith("fire records")


@pytest.mark.postgres
def test_enough_imported_records_give_a_time_split_with_intervals(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    from firegrid.risk import service

    build_city(db, settings)
    _import_fires(db, tmp_path, 60, seed=2)
    summary = service.assess(db, settings, "expert-ahp", actor="test")
    v: dict[str, Any] = summary["validation"]
    assert v["labels"] == "imported"
    assert v["status"] == "ok"
    assert v["ceiling_auc"] is None
    assert v["ablation"] is None
    lo, hi = v["auc_ci95"]
    assert 0.0 <= lo <= hi <= 1.0
    assert len(v["calibration"]) == 10
    assert v["n_events_test"] >= MIN_EVENTS
    # random fires: the interval must not exclude chance by much (honest, not flattering)
    assert lo < 0.75


def test_record_history_counts_only_fires_before_each_period() -> None:
    from firegrid.risk.record_history import history_from_records, records_frame

    snap = datetime(2026, 1, 1, tzinfo=UTC)
    recs = records_frame(
        [
            (1, "G1", snap - timedelta(days=30)),  # period 3
            (1, "G1", snap - timedelta(days=400)),  # period 2
            (2, "G1", snap - timedelta(days=800)),  # period 1
            (None, "G1", snap - timedelta(days=100)),  # unmatched: grid only
        ]
    )
    venues = pl.DataFrame({"venue_id": [1, 2], "grid_code": ["G1", "G1"]})
    facts = pl.DataFrame({"venue_id": [1, 2], "open_hazards": [0, 1]})
    current, history = history_from_records(recs, venues, facts, snap)
    assert current.sort("venue_id")["incidents_venue_3y"].to_list() == [2, 1]
    assert current["incidents_grid_3y"].to_list() == [4, 4]
    assert history.periods == [1, 2, 3]
    # at the end of period 2 (a year before the snapshot) venue 1 had one fire, not two
    s2 = history.snapshots[2].sort("venue_id")  # type: ignore[index]
    assert s2["incidents_venue_3y"].to_list() == [1, 1]
    assert history.labels(3).filter(pl.col("venue_id") == 1)["incidents"].to_list() == [1]
