"""Beyond the size limit (or out of time) the heuristic answers: never optimal, its bound on
the right side of its cost, its gap what the bound says."""

from __future__ import annotations

import numpy as np
import pytest

from firegrid.planning.solver import LocationProblem, Model, SolveOptions, solve
from tests.planning.oracle import optimum
from tests.planning.test_solver_models import random_problem

HEURISTIC = SolveOptions(exact_size_limit=0)


@pytest.mark.parametrize("model", list(Model))
@pytest.mark.parametrize("seed", range(5))
def test_heuristic_never_claims_optimality_and_bounds_hold(model: Model, seed: int) -> None:
    problem = random_problem(seed, n_fixed=1, unreachable=0.0)
    if model is Model.LSCP:
        reachable = float(problem.cost_s.min(axis=1).max())  # every demand coverable
        problem = LocationProblem(cost_s=problem.cost_s, fixed=problem.fixed, threshold_s=reachable)
    solution = solve(model, problem, HEURISTIC)
    best = optimum(model, problem)
    assert not solution.optimal
    assert solution.notes[0] == "size_limit"
    if model.maximises:
        assert solution.objective <= best + 1e-9 <= solution.bound + 2e-9
        gap = (solution.bound - solution.objective) / max(abs(solution.objective), 1e-9)
    else:
        assert solution.bound - 1e-9 <= best <= solution.objective + 1e-9
        gap = (solution.objective - solution.bound) / max(abs(solution.objective), 1e-9)
    assert solution.gap == pytest.approx(gap)


def test_lagrangian_bound_is_close_on_a_real_size() -> None:
    rng = np.random.default_rng(3)
    points = rng.random((120, 2)) * 10_000
    cost = np.linalg.norm(points[:, None] - points[None, :], axis=2)
    problem = LocationProblem(cost_s=cost, p=8, fixed=(0, 1))
    heuristic = solve(Model.PMEDIAN, problem, HEURISTIC)
    exact = solve(Model.PMEDIAN, problem)
    assert exact.optimal
    assert not heuristic.optimal
    assert heuristic.bound <= exact.objective + 1e-6 <= heuristic.objective + 2e-6
    assert heuristic.gap < 0.05  # swap search + subgradient are within a few per cent


def test_a_time_limited_mip_is_not_optimal() -> None:
    rng = np.random.default_rng(5)
    points = rng.random((150, 2)) * 10_000
    cost = np.linalg.norm(points[:, None] - points[None, :], axis=2)
    solution = solve(
        Model.PMEDIAN, LocationProblem(cost_s=cost, p=6), SolveOptions(time_limit_s=0.0)
    )
    assert not solution.optimal
    assert "time_limit" in solution.notes
    assert solution.bound <= solution.objective
