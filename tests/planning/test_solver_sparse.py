"""The p-median on sparse costs (:class:`SparseCosts`) answers exactly as on the dense matrix:
same objective, sites, bound, optimality, assignment and reported coverage, on random
instances with fixed sites, unreachable pairs and demands, zero weights and the edge cases of
``p``; and the sparse form itself behaves as the dense matrix with ``inf`` in absent pairs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from firegrid.planning.solver import (
    InfeasibleProblem,
    InvalidProblem,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
    SparseCosts,
    solve,
)
from firegrid.planning.solver.common import assign, covered_share
from firegrid.planning.solver.pmedian_data import reduce_pmedian

SEEDS = range(12)
#: the default (exact where it fits) and the heuristic-only path (size limit)
OPTIONS = (SolveOptions(), SolveOptions(exact_size_limit=0))


def random_problem(seed: int) -> LocationProblem:
    """Dense p-median instance: integer times on even seeds (so ties), a random share of
    unreachable pairs, two demands nobody reaches, some zero weights, 0–3 fixed sites,
    sometimes a restricted candidate pool and no coverage threshold."""
    rng = np.random.default_rng(seed)
    n_demand, n_sites = int(rng.integers(20, 70)), int(rng.integers(8, 30))
    cost = rng.integers(1, 60, size=(n_demand, n_sites)).astype(float)
    if seed % 2:
        cost += rng.random(size=cost.shape)
    cost[rng.random(size=cost.shape) < rng.uniform(0.2, 0.6)] = np.inf
    cost[rng.choice(n_demand, size=2, replace=False)] = np.inf
    weights = rng.integers(0, 5, size=n_demand).astype(float)
    fixed = tuple(int(j) for j in rng.choice(n_sites, size=int(rng.integers(0, 4)), replace=False))
    pool = None
    if seed % 3 == 0:
        pool = tuple(int(j) for j in rng.choice(n_sites, size=n_sites // 2, replace=False))
    finite = cost[np.isfinite(cost)]
    return LocationProblem(
        cost_s=cost,
        weights=weights,
        fixed=fixed,
        candidates=pool,
        p=int(rng.integers(2, 6)),
        threshold_s=None if seed % 4 == 1 else float(np.percentile(finite, 40)),
    )


def sparse_of(problem: LocationProblem) -> LocationProblem:
    assert isinstance(problem.cost_s, np.ndarray)
    return replace(problem, cost_s=SparseCosts.from_dense(problem.cost_s))


def outcome(problem: LocationProblem, options: SolveOptions) -> Solution | tuple[str, object]:
    try:
        return solve(Model.PMEDIAN, problem, options)
    except (InfeasibleProblem, InvalidProblem) as err:
        return type(err).__name__, err.details


def assert_same(dense: LocationProblem, options: SolveOptions = OPTIONS[0]) -> Solution | None:
    """Solve ``dense`` both ways; everything but the wall time must be identical (the same
    reduced pairs go to the same deterministic method, so not even a tie may differ)."""
    a, b = outcome(dense, options), outcome(sparse_of(dense), options)
    if not isinstance(a, Solution):
        assert a == b
        return None
    assert isinstance(b, Solution)
    assert b.new_sites == a.new_sites
    assert b.open_sites == a.open_sites
    assert b.objective == a.objective
    assert b.bound == a.bound
    assert b.gap == a.gap
    assert b.optimal == a.optimal
    assert b.method == a.method
    assert b.notes == a.notes
    assert b.unservable == a.unservable
    assert b.coverage_before == a.coverage_before
    assert b.coverage_after == a.coverage_after
    np.testing.assert_array_equal(b.assigned_site, a.assigned_site)
    np.testing.assert_array_equal(b.assigned_cost_s, a.assigned_cost_s)
    return a


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("options", OPTIONS, ids=["exact", "size_limit"])
def test_pmedian_on_sparse_costs_answers_as_on_the_dense_matrix(
    seed: int, options: SolveOptions
) -> None:
    dense = random_problem(seed)
    solution = assert_same(dense, options)
    if solution is not None:
        assert solution.objective > 0  # an instance with something to decide
        if options.exact_size_limit == 0:
            assert "size_limit" in solution.notes or solution.method == "trivial"


def test_the_random_instances_reach_every_path() -> None:
    """The instances above are not all alike: each has unservable demands, and some are
    proven optimal by the Lagrangian bound, others by the radius MIP."""
    solutions = [solve(Model.PMEDIAN, random_problem(seed)) for seed in SEEDS]
    assert all(solution.unservable for solution in solutions)
    assert {"swap+lagrangian-proof", "radius-mip"} <= {s.method for s in solutions}


@pytest.mark.parametrize("seed", range(4))
def test_edge_cases_answer_alike(seed: int) -> None:
    base = random_problem(seed)
    n_candidates = len(base.candidate_sites())
    assert_same(replace(base, p=0))
    assert_same(replace(base, p=n_candidates))
    too_many = outcome(sparse_of(replace(base, p=n_candidates + 1)), OPTIONS[0])
    assert too_many == outcome(replace(base, p=n_candidates + 1), OPTIONS[0])
    assert isinstance(too_many, tuple)
    assert too_many[0] == "InvalidProblem"
    assert_same(replace(base, weights=np.zeros(base.n_demand)))
    assert_same(replace(base, fixed=()))
    assert assert_same(replace(base, fixed=(), p=1)) is None  # one site cannot reach all
    assert_same(replace(base, threshold_s=float("inf")))
    assert_same(replace(base, threshold_s=0.0))


def test_the_reduced_pairs_are_the_dense_ones() -> None:
    for seed in SEEDS:
        dense = random_problem(seed)
        a, b = reduce_pmedian(dense), reduce_pmedian(sparse_of(dense))
        for name in ("rows", "candidates", "weights", "cap", "pair_row", "pair_cand"):
            np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
        np.testing.assert_array_equal(b.pair_cost, a.pair_cost)
        assert (b.p, b.unservable) == (a.p, a.unservable)


def test_sparse_costs_round_trip_and_questions() -> None:
    rng = np.random.default_rng(5)
    cost = rng.integers(0, 9, size=(40, 12)).astype(float)
    cost[rng.random(size=cost.shape) < 0.5] = np.inf
    cost[3] = np.inf
    sparse = SparseCosts.from_dense(cost)
    np.testing.assert_array_equal(sparse.to_dense(), cost)
    assert sparse.nnz == int(np.isfinite(cost).sum())
    assert sparse.problems() == []
    for sites in (np.array([], np.int64), np.array([2]), np.array([0, 4, 5, 11])):
        site_d, best_d = assign(cost, sites)
        site_s, best_s = assign(sparse, sites)
        np.testing.assert_array_equal(site_s, site_d)  # ties: the lowest site, both ways
        np.testing.assert_array_equal(best_s, best_d)
        weights = rng.random(40)
        for threshold in (0.0, 4.0, float("inf")):
            assert covered_share(sparse, weights, sites, threshold) == covered_share(
                cost, weights, sites, threshold
            )


def test_from_pairs_drops_unreachable_and_keeps_the_smallest_duplicate() -> None:
    sparse = SparseCosts.from_pairs(
        [1, 0, 1, 1, 0], [2, 1, 0, 2, 2], [5.0, np.inf, 3.0, 4.0, 7.0], (3, 3)
    )
    expected = np.full((3, 3), np.inf)
    expected[1, 2], expected[1, 0], expected[0, 2] = 4.0, 3.0, 7.0
    np.testing.assert_array_equal(sparse.to_dense(), expected)
    assert sparse.indptr.tolist() == [0, 1, 3, 3]
    with pytest.raises(ValueError, match="site indices"):
        SparseCosts.from_pairs([0], [3], [1.0], (1, 3))


def test_malformed_sparse_costs_and_dense_only_models_are_refused() -> None:
    good = SparseCosts.from_dense(np.array([[1.0, np.inf], [2.0, 3.0]]))
    unsorted = replace(good, indices=np.array([0, 1, 0], np.int64))
    with pytest.raises(InvalidProblem, match="strictly ascending"):
        solve(Model.PMEDIAN, LocationProblem(cost_s=unsorted, p=1))
    negative = replace(good, times_s=np.array([1.0, -2.0, 3.0]))
    with pytest.raises(InvalidProblem, match="negative"):
        solve(Model.PMEDIAN, LocationProblem(cost_s=negative, p=1))
    short = replace(good, indptr=np.array([0, 3], np.int64))
    with pytest.raises(InvalidProblem, match="indptr"):
        solve(Model.PMEDIAN, LocationProblem(cost_s=short, p=1))
    with pytest.raises(InvalidProblem, match="mclp needs a dense cost_s"):
        solve(Model.MCLP, LocationProblem(cost_s=good, p=1, threshold_s=2.0))
