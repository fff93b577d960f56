"""Every model against enumeration on small random matrices, with and without fixed sites,
with unreachable pairs; the heuristic paths keep bound and gap honest."""

from __future__ import annotations

import math

import numpy as np
import pytest

from firegrid.planning.solver import (
    InfeasibleProblem,
    InvalidProblem,
    LocationProblem,
    Model,
    SolveOptions,
    solve,
)
from tests.planning.oracle import optimum, value

SEEDS = range(6)


def random_problem(
    seed: int, *, n_fixed: int, unreachable: float = 0.2, integer: bool = True
) -> LocationProblem:
    rng = np.random.default_rng(seed)
    n_demand, n_sites = int(rng.integers(8, 13)), int(rng.integers(6, 9))
    cost = rng.integers(1, 100, size=(n_demand, n_sites)).astype(float)
    if not integer:
        cost += rng.random(size=cost.shape)
    cost[rng.random(size=cost.shape) < unreachable] = np.inf
    fixed = tuple(int(j) for j in rng.choice(n_sites, size=n_fixed, replace=False))
    finite = cost[np.isfinite(cost)]
    return LocationProblem(
        cost_s=cost,
        weights=rng.integers(1, 10, size=n_demand).astype(float),
        fixed=fixed,
        p=int(rng.integers(1, 4)),
        threshold_s=float(np.percentile(finite, 35)),
        busy_fraction=0.3,
    )


def check(model: Model, problem: LocationProblem, options: SolveOptions | None = None) -> None:
    expected = optimum(model, problem)
    if not math.isfinite(expected):
        with pytest.raises(InfeasibleProblem):
            solve(model, problem, options)
        return
    solution = solve(model, problem, options)
    assert solution.optimal
    assert solution.objective == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert value(model, problem, solution.new_sites) == pytest.approx(expected, abs=1e-9)
    assert set(solution.new_sites).isdisjoint(problem.fixed)
    assert set(problem.fixed) <= set(solution.open_sites)
    if model.maximises:
        assert solution.bound >= solution.objective - 1e-9
    else:
        assert solution.bound <= solution.objective + 1e-9


@pytest.mark.parametrize("model", list(Model))
@pytest.mark.parametrize("n_fixed", [0, 2])
@pytest.mark.parametrize("seed", SEEDS)
def test_every_model_reaches_the_enumerated_optimum(model: Model, n_fixed: int, seed: int) -> None:
    problem = random_problem(seed, n_fixed=n_fixed)
    if model is Model.LSCP:
        problem = LocationProblem(
            cost_s=problem.cost_s,
            weights=problem.weights,
            fixed=problem.fixed,
            threshold_s=problem.threshold_s,
            coverage_share=0.7,
        )
    check(model, problem)


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_full_cover_and_site_costs(seed: int) -> None:
    base = random_problem(seed, n_fixed=1, unreachable=0.0)
    rng = np.random.default_rng(seed + 100)
    problem = LocationProblem(
        cost_s=base.cost_s,
        fixed=base.fixed,
        threshold_s=float(np.percentile(base.cost_s, 50)),
        site_costs=rng.integers(1, 5, size=base.n_sites).astype(float),
    )
    check(Model.LSCP, problem)


@pytest.mark.parametrize("model", [Model.MCLP, Model.MEXCLP, Model.BACKUP])
@pytest.mark.parametrize("seed", SEEDS)
def test_coverage_models_with_a_budget(model: Model, seed: int) -> None:
    base = random_problem(seed, n_fixed=1)
    rng = np.random.default_rng(seed + 200)
    problem = LocationProblem(
        cost_s=base.cost_s,
        weights=base.weights,
        fixed=base.fixed,
        threshold_s=base.threshold_s,
        busy_fraction=0.4,
        site_costs=rng.integers(1, 6, size=base.n_sites).astype(float),
        budget=6.0,
    )
    check(model, problem)


@pytest.mark.parametrize("model", [Model.PMEDIAN, Model.PCENTER])
@pytest.mark.parametrize("seed", SEEDS)
def test_fractional_travel_times(model: Model, seed: int) -> None:
    check(model, random_problem(seed, n_fixed=1, integer=False))


def test_a_demand_no_site_reaches_is_reported_unservable() -> None:
    cost = np.array([[1.0, 5.0], [4.0, 2.0], [np.inf, np.inf]])
    solution = solve(Model.PMEDIAN, LocationProblem(cost_s=cost, p=1))
    assert solution.unservable == (2,)
    assert solution.objective == 5.0  # site 0: 1 + 4
    assert solution.assigned_site.tolist() == [0, 0, -1]


def test_lscp_refuses_demand_out_of_reach_within_t() -> None:
    cost = np.array([[1.0, 5.0], [40.0, 50.0]])
    with pytest.raises(InfeasibleProblem) as err:
        solve(Model.LSCP, LocationProblem(cost_s=cost, threshold_s=10.0))
    assert err.value.details == {"uncoverable_demands": [1]}


def test_coverage_before_and_after() -> None:
    cost = np.array([[1.0, 50.0], [50.0, 2.0], [3.0, 50.0]])
    solution = solve(
        Model.MCLP,
        LocationProblem(
            cost_s=cost, weights=np.array([1.0, 2.0, 1.0]), fixed=(0,), p=1, threshold_s=10.0
        ),
    )
    assert solution.coverage_before == pytest.approx(0.5)
    assert solution.coverage_after == pytest.approx(1.0)
    assert solution.new_sites == (1,)


@pytest.mark.parametrize(
    ("model", "problem", "fragment"),
    [
        (Model.PMEDIAN, LocationProblem(cost_s=np.ones((2, 2))), "needs p"),
        (Model.MCLP, LocationProblem(cost_s=np.ones((2, 2)), p=1), "needs threshold_s"),
        (Model.PMEDIAN, LocationProblem(cost_s=-np.ones((2, 2)), p=1), "negative"),
        (Model.PMEDIAN, LocationProblem(cost_s=np.ones((2, 2)), p=1, fixed=(5,)), "fixed"),
        (Model.PMEDIAN, LocationProblem(cost_s=np.ones((2, 2)), p=3), "p must be"),
        (
            Model.MEXCLP,
            LocationProblem(cost_s=np.ones((2, 2)), p=1, threshold_s=1, busy_fraction=1.0),
            "busy_fraction",
        ),
    ],
)
def test_bad_input_names_what_is_wrong(
    model: Model, problem: LocationProblem, fragment: str
) -> None:
    with pytest.raises(InvalidProblem, match=fragment):
        solve(model, problem)


def test_unknown_model_is_refused() -> None:
    with pytest.raises(InvalidProblem, match="unknown model"):
        solve("nearest", LocationProblem(cost_s=np.ones((2, 2)), p=1))
