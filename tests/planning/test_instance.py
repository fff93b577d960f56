"""Road times of a siting instance and the exactness of the reduced problem."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from firegrid.core.db import Database
from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.service import travel_times_within
from firegrid.planning.candidates import grid_candidates
from firegrid.planning.demand import DemandParams, build_demand
from firegrid.planning.inputs import weighted_venues
from firegrid.planning.instance import build_instance, reduce_problem
from firegrid.planning.solver import Model, SparseCosts


def test_bounded_times_equal_the_full_matrix(engine: TravelTimeEngine) -> None:
    rng = np.random.default_rng(3)
    n = engine.network.n_nodes
    targets = rng.integers(0, n, 40)
    targets[5] = targets[4]  # a shared node
    sources = rng.integers(0, n, 30)
    sources[7] = sources[2]
    t_leg = rng.uniform(0, 30, len(targets))
    s_leg = rng.uniform(0, 30, len(sources))
    limit = 400.0
    got = travel_times_within(
        engine, targets, sources, limit, target_leg_s=t_leg, source_leg_s=s_leg, chunk=7
    )
    full = engine.node_matrix(sources, targets).T + t_leg[:, None] + s_leg[None, :]
    dense = np.full(full.shape, np.inf)
    dense[got.row, got.col] = got.times_s
    expected = np.where(full <= limit, full, np.inf)
    assert 50 < np.isfinite(expected).sum() < expected.size
    assert np.allclose(
        np.where(np.isfinite(dense), dense, -1), np.where(np.isfinite(expected), expected, -1)
    )
    assert len(got.row) == int(np.isfinite(expected).sum())


def _coverage(cost: np.ndarray, weight: np.ndarray, cols: list[int], t: float, need: int) -> float:
    covered = (cost[:, cols] <= t).sum(axis=1) >= need
    return float(weight[covered].sum())


@pytest.mark.parametrize("model", [Model.MCLP, Model.BACKUP, Model.PMEDIAN, Model.PCENTER])
def test_reduced_problem_values_every_choice_as_the_full_one(
    model: Model, pcity: object, db: Database, engine: TravelTimeEngine
) -> None:
    """For every pair of candidates, the reduced problem's objective equals the one computed
    with all stations and all candidates (so the solver's optimum is the true one); for
    MCLP, whose dominated candidates are left out, for every pair of the candidates kept,
    and the best pair is as good as the best of all."""
    with db.session() as session:
        rows = weighted_venues(session)
    demand = build_demand(rows, DemandParams("risk_occupancy", 1500.0))
    cands = grid_candidates(engine, 3000.0)
    t = 240.0
    instance = build_instance(engine, demand, cands, model, t)
    reduced = reduce_problem(instance, model, p=2, threshold_s=t)
    full_cand = np.full((len(instance.demand), len(cands)), np.inf)
    # exact candidate times without a cut-off
    full_cand[:] = (
        engine.node_matrix(cands.node, instance.demand_node).T
        + instance.demand_leg_s[:, None]
        + cands.leg_s[None, :]
    )
    stations = instance.station_times_s.T.astype(np.float64)
    w = instance.demand.weight
    cost = reduced.problem.cost_s
    if isinstance(cost, SparseCosts):  # the p-median's: the same values, absent = inf
        cost = cost.to_dense()
    fixed = list(range(reduced.n_fixed))
    position = {int(c): k for k, c in enumerate(reduced.columns)}
    best_full, best_kept = -np.inf, -np.inf
    for pair in itertools.combinations(range(len(cands)), 2):
        full = np.hstack([stations, full_cand[:, list(pair)]])
        if model is Model.MCLP:
            value = float(w[(full <= t).any(axis=1)].sum())
            best_full = max(best_full, value)
            if not all(j in position for j in pair):
                continue  # a dominated (or useless) candidate: not offered to the solver
            best_kept = max(best_kept, value)
        cols = fixed + [reduced.n_fixed + position[j] for j in pair if j in position]
        if model is Model.MCLP:
            want = float(w[(full <= t).any(axis=1)].sum())
            got = _coverage(cost, w, cols, t, 1)
        elif model is Model.BACKUP:
            want = float(w[(full <= t).sum(axis=1) >= 2].sum())
            got = _coverage(cost, w, cols, t, 2)
        elif model is Model.PMEDIAN:
            want = float((w * full.min(axis=1)).sum())
            got = float((w * cost[:, cols].min(axis=1)).sum())
        else:
            want = float(full.min(axis=1).max())
            got = float(cost[:, cols].min(axis=1).max())
        assert got == pytest.approx(want, rel=1e-6), pair
    assert reduced.dropped_candidates >= 0
    if model is Model.MCLP:
        assert best_kept == pytest.approx(best_full, rel=1e-9)
        assert reduced.dominated_candidates > 0
