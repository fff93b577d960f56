"""AHP: Saaty's textbook matrices, consistency, reciprocity, the two-level hierarchy."""

from __future__ import annotations

import numpy as np
import pytest

from firegrid.risk import load_model, load_models
from firegrid.risk.ahp import RANDOM_INDEX, ahp_weights, hierarchical_weights
from firegrid.risk.errors import InconsistentJudgements, NotReciprocal


def test_saaty_three_by_three() -> None:
    # The classic 3-criteria textbook matrix: weights ≈ (0.637, 0.258, 0.105) (≈ the row
    # geometric means), λmax ≈ 3.039, CI ≈ 0.019, CR = CI / 0.58 ≈ 0.033.
    res = ahp_weights([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]], ["a", "b", "c"])
    assert res.weights == pytest.approx((0.637, 0.258, 0.105), abs=1e-3)
    assert res.lambda_max == pytest.approx(3.0385, abs=1e-3)
    assert res.ci == pytest.approx(0.0193, abs=5e-4)
    assert res.cr == pytest.approx(0.033, abs=1e-3)
    assert sum(res.weights) == pytest.approx(1.0, abs=1e-12)


def test_four_by_four_matches_power_iteration() -> None:
    # Saaty's 1-9 scale, slightly inconsistent judgements; cross-check with power iteration.
    m = np.array([[1, 5, 9, 7], [1 / 5, 1, 4, 2], [1 / 9, 1 / 4, 1, 1 / 2], [1 / 7, 1 / 2, 2, 1]])
    res = ahp_weights(m)
    v = np.ones(4)
    for _ in range(200):
        v = m @ v
        v /= v.sum()
    assert res.weights == pytest.approx(tuple(v), abs=1e-9)
    assert res.lambda_max == pytest.approx(float((m @ v / v).mean()), abs=1e-9)
    assert 0.0 < res.cr < 0.1
    assert res.cr == pytest.approx((res.lambda_max - 4) / 3 / RANDOM_INDEX[4])


def test_perfectly_consistent_matrix_recovers_weights() -> None:
    w = np.array([0.4, 0.3, 0.2, 0.1])
    res = ahp_weights(w[:, None] / w[None, :])
    assert res.weights == pytest.approx(tuple(w), abs=1e-12)
    assert res.cr == pytest.approx(0.0, abs=1e-12)


def test_inconsistent_judgements_refused_naming_cr() -> None:
    m = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]  # a > b > c > a: intransitive
    with pytest.raises(InconsistentJudgements) as info:
        ahp_weights(m, name="cyclic")
    assert info.value.cr > 0.1
    assert "CR = " in str(info.value)
    assert f"{info.value.cr:.3f}" in str(info.value)
    assert info.value.details["matrix"] == "cyclic"


def test_non_reciprocal_refused() -> None:
    with pytest.raises(NotReciprocal, match=r"\(0, 1\)"):
        ahp_weights([[1, 3, 5], [1 / 2, 1, 3], [1 / 5, 1 / 3, 1]])
    with pytest.raises(NotReciprocal):
        ahp_weights([[2, 1], [1, 1]])
    with pytest.raises(NotReciprocal):
        ahp_weights([[1, -1], [-1, 1]])


def test_two_level_hierarchy_sums_to_one() -> None:
    res = hierarchical_weights(
        (["g1", "g2"], [[1, 3], [1 / 3, 1]]),
        {"g1": (["a", "b"], [[1, 1], [1, 1]])},
        {"g1": ["a", "b"], "g2": ["c"]},
    )
    assert res.weights == pytest.approx({"a": 0.375, "b": 0.375, "c": 0.25})
    assert sum(res.weights.values()) == pytest.approx(1.0, abs=1e-12)
    assert set(res.matrices) == {"groups", "g1"}


def test_shipped_models() -> None:
    models = load_models()
    assert {"expert-ahp", "equal-weights", "indicator-weights"} <= set(models)
    for m in models.values():
        assert sum(m.weights.values()) == pytest.approx(1.0, abs=1e-12)
        assert min(m.weights.values()) >= 0
    expert = load_model("expert-ahp")
    assert all(c["cr"] <= 0.1 for c in expert.consistency.values())
    assert set(expert.consistency) >= {"groups", "static", "management"}
    equal = models["equal-weights"]
    assert len({round(w, 12) for w in equal.weights.values()}) == 1
