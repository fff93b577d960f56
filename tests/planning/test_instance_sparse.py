"""The p-median's siting instance goes to the solver without a dense demand × candidate
matrix: on the road network its sparse costs are exactly the dense path's matrix, and on a
city-shaped instance (3,160 demand cells, 20,451 candidates, 100 stations) building and
solving it allocates a small fraction of what that matrix alone would take."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace

import numpy as np

from firegrid.core.db import Database
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.service import BoundedTimes
from firegrid.planning.candidates import Candidates, grid_candidates
from firegrid.planning.demand import Demand, DemandParams, build_demand
from firegrid.planning.inputs import weighted_venues
from firegrid.planning.instance import SitingInstance, build_instance, reduce_problem
from firegrid.planning.solver import Model, SolveOptions, solve

N_DEMAND, N_CANDIDATES, N_STATIONS = 3160, 20451, 100  # the demo city's p-median case
REACHED_PER_DEMAND = 60


def city_shaped_instance(seed: int = 11) -> SitingInstance:
    """Synthetic times of the city's shape: each demand reached by ~60 candidates within the
    search bound, stations 200–3000 s away (so a third of the candidate times beat them)."""
    rng = np.random.default_rng(seed)
    row = np.repeat(np.arange(N_DEMAND, dtype=np.int64), REACHED_PER_DEMAND)
    col = rng.integers(0, N_CANDIDATES, size=row.size)
    pair = np.unique(row * N_CANDIDATES + col)  # one time per pair, as the search gives
    times = BoundedTimes(
        pair // N_CANDIDATES,
        pair % N_CANDIDATES,
        rng.uniform(10.0, 600.0, size=pair.size),
        (N_DEMAND, N_CANDIDATES),
    )
    points = rng.uniform(0.0, 1.0, size=(2, N_DEMAND))
    demand = Demand(
        points[0],
        points[1],
        rng.uniform(0.5, 20.0, size=N_DEMAND),
        np.ones(N_DEMAND, dtype=np.int64),
        DemandParams(),
        None,
    )
    sites = rng.uniform(0.0, 1.0, size=(2, N_CANDIDATES))
    candidates = Candidates(
        [f"g{j}" for j in range(N_CANDIDATES)],
        sites[0],
        sites[1],
        np.arange(N_CANDIDATES, dtype=np.int64),
        np.zeros(N_CANDIDATES),
        np.ones(N_CANDIDATES),
        ["grid"] * N_CANDIDATES,
    )
    return SitingInstance(
        demand,
        np.arange(N_DEMAND, dtype=np.int64),
        np.zeros(N_DEMAND),
        list(range(N_STATIONS)),
        rng.uniform(200.0, 3000.0, size=(N_STATIONS, N_DEMAND)).astype(np.float32),
        candidates,
        times,
        1800.0,
    )


def test_city_shaped_pmedian_never_allocates_the_dense_matrix() -> None:
    instance = city_shaped_instance()
    dense_bytes = N_DEMAND * (1 + N_CANDIDATES) * np.dtype(np.float64).itemsize  # ~517 MB
    tracemalloc.start()
    try:
        reduced = reduce_problem(instance, Model.PMEDIAN, p=5, threshold_s=300.0)
        solution = solve(Model.PMEDIAN, reduced.problem, SolveOptions(time_limit_s=60.0))
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not isinstance(reduced.problem.cost_s, np.ndarray)
    assert reduced.problem.n_demand == N_DEMAND
    assert len(reduced.columns) > 0.9 * N_CANDIDATES  # like the city: nearly all are useful
    assert reduced.problem.n_sites == 1 + len(reduced.columns)
    assert len(solution.new_sites) == 5
    assert solution.coverage_after is not None
    assert solution.coverage_before is not None
    assert solution.coverage_after >= solution.coverage_before
    # the dense path's matrix alone is dense_bytes; what is traced here is its tenth at most
    assert peak_bytes < dense_bytes / 10, f"peak {peak_bytes / 1e6:.0f} MB"


def test_pmedian_sparse_costs_are_the_dense_matrix_on_the_road_network(
    pcity: object, db: Database, engine: TravelTimeEngine
) -> None:
    """p-center keeps the dense path with the same reduction (candidate times no better than
    the nearest station dropped), so its matrix is what the p-median's used to be."""
    with db.session() as session:
        rows = weighted_venues(session)
    demand = build_demand(rows, DemandParams("risk_occupancy", 1500.0))
    cands = grid_candidates(engine, 3000.0)
    instance = build_instance(engine, demand, cands, Model.PMEDIAN, 240.0)
    sparse = reduce_problem(instance, Model.PMEDIAN, p=2, threshold_s=240.0)
    dense = reduce_problem(instance, Model.PCENTER, p=2, threshold_s=240.0)
    assert isinstance(dense.problem.cost_s, np.ndarray)
    assert not isinstance(sparse.problem.cost_s, np.ndarray)
    np.testing.assert_array_equal(sparse.columns, dense.columns)
    assert (sparse.n_fixed, sparse.dropped_candidates) == (dense.n_fixed, dense.dropped_candidates)
    np.testing.assert_array_equal(sparse.problem.cost_s.to_dense(), dense.problem.cost_s)
    assert np.isfinite(dense.problem.cost_s[:, dense.n_fixed :]).sum() > 0
    assert sparse.problem.p == dense.problem.p
    a = solve(Model.PMEDIAN, replace(sparse.problem, cost_s=dense.problem.cost_s))
    b = solve(Model.PMEDIAN, sparse.problem)
    assert (b.new_sites, b.objective, b.bound, b.optimal, b.method) == (
        a.new_sites,
        a.objective,
        a.bound,
        a.optimal,
        a.method,
    )
    assert (b.coverage_before, b.coverage_after) == (a.coverage_before, a.coverage_after)
