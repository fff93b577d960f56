"""Predictive model on synthetic history: better than chance on a later held-out period."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from firegrid.risk import IncidentHistory, InputContractError, load_model, run_assessment
from firegrid.risk.predictive import (
    PredictiveValidation,
    calibration_table,
    precision_at_top,
    validate_predictive,
)
from firegrid.risk.synthetic import facts_for, incident_history, make_venues

AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def world() -> tuple[pl.DataFrame, IncidentHistory]:
    v = make_venues(40_000, seed=31)
    return v, incident_history(v, facts_for(v, seed=31), periods=3, seed=31)


@pytest.fixture(scope="module")
def hgb(world: tuple[pl.DataFrame, IncidentHistory]) -> PredictiveValidation:
    v, h = world
    return validate_predictive(v, h, load_model("expert-ahp"), kind="hgb", seed=1)


def test_held_out_auc_clearly_above_chance(hgb: PredictiveValidation) -> None:
    assert hgb.train_periods == [(1, 2)]
    assert hgb.test_period == (2, 3)
    assert hgb.auc > 0.62
    assert hgb.expert_auc > 0.58
    assert hgb.precision_at_top["1%"] > 2 * hgb.base_rate
    assert hgb.precision_at_top["10%"] > hgb.base_rate
    assert hgb.shuffled_label_auc is not None
    assert abs(hgb.shuffled_label_auc - 0.5) < 0.06


def test_calibration_table(hgb: PredictiveValidation) -> None:
    assert len(hgb.calibration) == 10
    assert sum(b.n for b in hgb.calibration) == hgb.n_test
    predicted = [b.mean_predicted for b in hgb.calibration]
    assert predicted == sorted(predicted)
    observed = [b.observed_rate for b in hgb.calibration]
    assert observed[-1] > observed[0]
    # roughly calibrated on the later period: the overall mean matches within 40 %
    mean_p = float(np.mean(predicted))
    assert mean_p == pytest.approx(hgb.base_rate, rel=0.4)


def test_shuffled_training_labels_give_chance(world: tuple[pl.DataFrame, IncidentHistory]) -> None:
    v, h = world
    res = validate_predictive(v, h, load_model(), kind="hgb", shuffle_labels=True, seed=2)
    assert abs(res.auc - 0.5) < 0.06
    assert res.shuffled_label_auc is None


def test_logistic_alternative(world: tuple[pl.DataFrame, IncidentHistory]) -> None:
    v, h = world
    res = validate_predictive(
        v, h, load_model(), kind="logistic", max_train_rows=20_000, control=False
    )
    assert res.auc > 0.62
    assert res.train_sampled
    assert res.n_train == 20_000
    assert res.feature_importance["overdue_rectifications"] > 0


def test_metric_helpers() -> None:
    y = np.array([True] + [False] * 99)
    p = np.linspace(1, 0, 100)
    assert precision_at_top(y, p) == {"1%": 1.0, "5%": 0.2, "10%": 0.1}
    table = calibration_table(y, p, bins=10)
    assert [b.n for b in table] == [10] * 10
    assert table[-1].observed_rate == 0.1


def test_run_with_history_reports_validation(world: tuple[pl.DataFrame, IncidentHistory]) -> None:
    v, h = world
    assert h.snapshots is not None
    run = run_assessment(v, h.snapshots[3], snapshot_at=AT, history=h, max_train_rows=20_000)
    assert run.synthetic
    assert run.validation is not None
    summary = run.to_summary_dict()
    validation = summary["validation"]
    assert {"auc", "precision_at_top", "calibration", "expert_auc"} <= set(validation)
    json.dumps(summary)


def test_history_needs_three_periods(world: tuple[pl.DataFrame, IncidentHistory]) -> None:
    v, h = world
    short = IncidentHistory(
        incidents=h.incidents.filter(pl.col("period") <= 2),
        snapshots=h.snapshots,
        period_ends=h.period_ends,
    )
    with pytest.raises(InputContractError):
        validate_predictive(v, short, load_model())
