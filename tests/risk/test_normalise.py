"""Normalisation kinds, direction, missing-value rules, freezing."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest

from firegrid.risk.catalogue import Indicator
from firegrid.risk.normalise import FittedNormaliser, fit_indicator


def _ind(
    normalisation: dict[str, Any], *, riskier: bool = True, missing: Any = "zero"
) -> Indicator:
    return Indicator.model_validate(
        {
            "key": "x",
            "name_zh": "x",
            "name_en": "x",
            "group": "static",
            "source": "x",
            "unit": "u",
            "normalisation": normalisation,
            "higher_is_riskier": riskier,
            "missing": missing,
        }
    )


def _apply(ind: Indicator, fit_on: list[Any], values: list[Any]) -> list[float]:
    fitted = fit_indicator(ind, pl.Series("x", fit_on, strict=False))
    return fitted.transform_series(pl.Series("x", values, strict=False)).tolist()


def test_minmax_and_direction() -> None:
    data = [0.0, 5.0, 10.0]
    assert _apply(_ind({"kind": "minmax"}), data, [0, 5, 10, 20, -3]) == [0, 0.5, 1, 1, 0]
    lower = _ind({"kind": "minmax"}, riskier=False)
    assert _apply(lower, data, [0, 2.5, 10]) == [1, 0.75, 0]


def test_minmax_quantile_clipping() -> None:
    data = list(range(101))  # 0 … 100
    ind = _ind({"kind": "minmax", "lower_quantile": 0.1, "upper_quantile": 0.9})
    assert _apply(ind, data, [10, 50, 90, 100]) == pytest.approx([0, 0.5, 1, 1])


def test_percentile() -> None:
    data = list(range(1000))
    r = _apply(_ind({"kind": "percentile"}), data, [-1, 0, 250, 500, 999, 5000])
    assert r[0] == 0
    assert r[1] == 0
    assert r[2] == pytest.approx(0.25, abs=0.002)
    assert r[3] == pytest.approx(0.5, abs=0.002)
    assert r[4] == pytest.approx(1.0, abs=0.002)
    assert r[5] == 1.0
    assert r == sorted(r)
    rev = _apply(_ind({"kind": "percentile"}, riskier=False), data, [0, 999])
    assert rev[0] == 1.0
    assert rev[1] == pytest.approx(0.0, abs=0.002)


def test_percentile_ties_at_zero_score_zero() -> None:
    data = [0] * 60 + list(range(1, 41))
    r = _apply(_ind({"kind": "percentile"}), data, [0, 40])
    assert r == [0.0, pytest.approx(1.0, abs=0.002)]


def test_thresholds_breakpoints() -> None:
    ind = _ind({"kind": "thresholds", "breakpoints": [1, 3, 6], "scores": [0, 0.3, 0.6, 1]})
    assert _apply(ind, [0], [0, 0.99, 1, 2.9, 3, 5.99, 6, 100]) == [
        0,
        0,
        0.3,
        0.3,
        0.6,
        0.6,
        1,
        1,
    ]
    dec = _ind(
        {"kind": "thresholds", "breakpoints": [300, 600], "scores": [1, 0.5, 0]}, riskier=False
    )
    assert _apply(dec, [0], [100, 300, 900]) == [1, 0.5, 0]


def test_boolean() -> None:
    assert _apply(_ind({"kind": "boolean"}), [True], [True, False]) == [1, 0]
    assert _apply(_ind({"kind": "boolean"}, riskier=False), [True], [True, False]) == [0, 1]


def test_categorical_map_default_and_missing() -> None:
    norm = {"kind": "categorical", "map": {"I": 0.1, "IV": 1.0}, "default": 0.6}
    ind = _ind(norm, missing="worst")
    assert _apply(ind, ["I"], ["I", "IV", "zz", None]) == [0.1, 1.0, 0.6, 1.0]
    ind2 = _ind(norm, missing={"value": "I"})
    assert _apply(ind2, ["I"], [None]) == [0.1]


@pytest.mark.parametrize(
    ("missing", "expected"),
    [("zero", 0.0), ("median", 0.5), ("worst", 1.0), ({"value": 7.5}, 0.75)],
)
def test_missing_value_rules(missing: Any, expected: float) -> None:
    ind = _ind({"kind": "minmax"}, missing=missing)
    # data 0 … 10 with a null; the median of the known values is 5
    assert _apply(ind, [0.0, 5.0, 10.0, None], [None]) == [pytest.approx(expected)]


def test_worst_rule_on_thresholds_uses_highest_score() -> None:
    ind = _ind({"kind": "thresholds", "breakpoints": [300], "scores": [0.0, 0.8]}, missing="worst")
    assert _apply(ind, [100.0], [None, float("nan")]) == [0.8, 0.8]


def test_frozen_normaliser_round_trip() -> None:
    from datetime import UTC, datetime

    from firegrid.risk import default_catalogue
    from firegrid.risk.features import build_features
    from firegrid.risk.normalise import fit_normaliser
    from firegrid.risk.synthetic import facts_for, make_venues

    v = make_venues(3000, seed=5)
    f = facts_for(v, seed=5)
    feats, _ = build_features(v, f, datetime(2026, 1, 1, tzinfo=UTC))
    fitted = fit_normaliser(default_catalogue(), feats)
    again = FittedNormaliser.from_dict(fitted.to_dict())
    a, b = fitted.transform(feats), again.transform(feats)
    assert np.array_equal(a, b)
    assert a.min() >= 0.0
    assert a.max() <= 1.0
    assert not np.isnan(a).any()
