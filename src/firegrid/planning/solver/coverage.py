"""MCLP, backup coverage and MEXCLP: the most (expected) covered demand with ``p`` new sites
or a budget, fixed sites open.

Each row of merged demand gains ``value(count)`` from the number of open sites covering it:

* MCLP ``w·[count ≥ 1]``; backup ``w·[count ≥ 2]``; MEXCLP ``w·(1 − q^count)``.

The MIP (HiGHS) linearises the gain with one bounded variable per row and level; fixed sites
enter as constants. Beyond the size limit, or when the MIP stops early, greedy addition gives
the answer and a proven bound gives the gap: the MIP's dual bound, or (MCLP, MEXCLP, whose gain
is submodular) Nemhauser's bound ``f(S) + Σ of the best p marginal gains``.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import coo_matrix, csc_matrix, hstack, vstack

from firegrid.planning.solver.common import build_solution, is_proven
from firegrid.planning.solver.coverage_data import CoverageData, coverage_data
from firegrid.planning.solver.highs import LinearModel, MipStatus, run_highs
from firegrid.planning.solver.problem import (
    FloatArray,
    IntArray,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
)


def gain(model: Model, counts: IntArray, weights: FloatArray, busy: float) -> float:
    """The objective for rows covered ``counts`` times."""
    if model is Model.MCLP:
        return float(weights[counts >= 1].sum())
    if model is Model.BACKUP:
        return float(weights[counts >= 2].sum())
    return float(np.dot(weights, 1.0 - np.power(busy, counts)))


def solve_coverage(model: Model, problem: LocationProblem, options: SolveOptions) -> Solution:
    """Solve MCLP, backup or MEXCLP: the MIP when it fits, else greedy with a bound."""
    deadline = time.perf_counter() + options.time_limit_s
    max_sites = _max_sites(problem)
    fixed_cap = {Model.MCLP: 1, Model.BACKUP: 2}.get(model, max_sites + len(problem.fixed))
    data = coverage_data(problem, fixed_cap)
    busy = problem.busy_fraction
    chosen = _greedy(model, data, problem, busy)
    objective = gain(model, data.counts(chosen), data.weights, busy)
    notes: list[str] = []
    bound = np.inf
    size = int(data.cover.nnz) * (1 if model is not Model.MEXCLP else 2)
    if size <= options.exact_size_limit:
        lp, n_y = _mip(model, data, problem, busy, max_sites)
        start = _start(model, data, chosen, busy, max_sites)
        result = run_highs(
            lp,
            time_limit_s=max(deadline - time.perf_counter(), 0.01),
            threads=options.threads,
            start=start,
            mip_rel_gap=options.gap_tolerance,
        )
        if result.values is not None:
            mip_chosen = np.flatnonzero(result.values[:n_y] > 0.5).astype(np.int64)
            mip_objective = gain(model, data.counts(mip_chosen), data.weights, busy)
            if mip_objective >= objective:
                chosen, objective = mip_chosen, mip_objective
        if np.isfinite(result.bound):
            bound = result.bound
        if result.status is MipStatus.OPTIMAL and is_proven(
            objective, bound, max(options.gap_tolerance, 1e-9)
        ):
            return _finish(model, problem, data, chosen, objective, bound, True, "mip", ())
        notes.append("time_limit" if result.status is MipStatus.TIME_LIMIT else "mip_stopped")
    else:
        notes.append("size_limit")
    bound = min(bound, _heuristic_bound(model, data, chosen, busy, max_sites))
    # a heuristic answer is never called optimal, even when its bound meets it
    if is_proven(objective, bound, options.gap_tolerance):
        notes.append("bound_meets_cost")
    return _finish(model, problem, data, chosen, objective, bound, False, "greedy", tuple(notes))


def _max_sites(problem: LocationProblem) -> int:
    n_candidates = len(problem.candidate_sites())
    return n_candidates if problem.p is None else min(problem.p, n_candidates)


def _affordable(data: CoverageData, problem: LocationProblem, spent: float) -> np.ndarray:
    if problem.budget is None:
        return np.ones(data.n_candidates, dtype=bool)
    return data.site_costs + spent <= problem.budget + 1e-9


def _greedy(model: Model, data: CoverageData, problem: LocationProblem, busy: float) -> IntArray:
    """Add the site of best marginal gain (per unit cost under a budget) until full."""
    chosen: list[int] = []
    spent = 0.0
    limit = _max_sites(problem)
    cover_t = csc_matrix(data.cover)
    while len(chosen) < limit:
        counts = data.counts(np.array(chosen, dtype=np.int64))
        delta = _marginal(model, counts, data.weights, busy)
        gains = cover_t.T @ delta
        allowed = _affordable(data, problem, spent)
        allowed[chosen] = False
        if not allowed.any():
            break
        score = gains / np.maximum(data.site_costs, 1e-12) if problem.budget else gains
        score = np.where(allowed, score, -np.inf)
        best = int(np.argmax(score))
        if gains[best] <= 0:
            break
        chosen.append(best)
        spent += float(data.site_costs[best])
    return np.array(sorted(chosen), dtype=np.int64)


def _marginal(model: Model, counts: IntArray, weights: FloatArray, busy: float) -> FloatArray:
    """Per row, the gain of one more covering site."""
    if model is Model.MCLP:
        return np.where(counts == 0, weights, 0.0)
    if model is Model.BACKUP:
        return np.where(counts == 1, weights, 0.0) + np.where(counts == 0, 0.5 * weights, 0.0)
    return weights * (1.0 - busy) * np.power(busy, counts)


def _heuristic_bound(
    model: Model, data: CoverageData, chosen: IntArray, busy: float, max_sites: int
) -> float:
    """A proven upper bound without the MIP."""
    if model is Model.BACKUP:  # not submodular: every row that could be covered twice
        reachable = data.fixed_count + np.diff(data.cover.indptr) >= 2
        return float(data.weights[reachable].sum())
    counts = data.counts(chosen)
    gains = csc_matrix(data.cover).T @ _marginal(model, counts, data.weights, busy)
    top = np.sort(gains)[::-1][:max_sites]
    return gain(model, counts, data.weights, busy) + float(top.sum())


def _levels(
    model: Model, data: CoverageData, busy: float, max_sites: int
) -> list[tuple[IntArray, FloatArray, FloatArray, int]]:
    """Per level: its rows, objective coefficients, link coefficients and the number of new
    covers it needs. A row's levels at or below its fixed count are constants."""
    if model is Model.MCLP:
        rows = np.flatnonzero(data.fixed_count == 0).astype(np.int64)
        return [(rows, data.weights[rows], np.ones(len(rows)), 1)]
    if model is Model.BACKUP:  # (2 − f)·v ≤ Σ y: covered twice counting the fixed
        rows = np.flatnonzero(data.fixed_count < 2).astype(np.int64)
        need = (2.0 - data.fixed_count[rows]).astype(np.float64)
        return [(rows, data.weights[rows], need, -1)]
    depth = np.minimum(np.diff(data.cover.indptr), max_sites)
    levels = []
    for k in range(int(depth.max(initial=0))):
        rows = np.flatnonzero(depth > k).astype(np.int64)
        coefficient = data.weights[rows] * (1 - busy) * np.power(busy, data.fixed_count[rows] + k)
        levels.append((rows, coefficient.astype(np.float64), np.ones(len(rows)), k + 1))
    return levels


def _mip(
    model: Model, data: CoverageData, problem: LocationProblem, busy: float, max_sites: int
) -> tuple[LinearModel, int]:
    """Columns: y (candidates), then one bounded variable per row and level, linked by
    ``Σ_levels a·x_{r,k} ≤ Σ_{j∈N_r} y_j``."""
    n_y, n_rows = data.n_candidates, data.n_rows
    levels = _levels(model, data, busy, max_sites)
    level_rows = np.concatenate([rows for rows, *_ in levels])
    link_values = np.concatenate([link for _, _, link, _ in levels])
    n_level = level_rows.shape[0]
    link = coo_matrix((link_values, (level_rows, np.arange(n_level))), shape=(n_rows, n_level))
    sites_weights = data.site_costs if problem.budget is not None else np.ones(n_y)
    limit = float(problem.budget) if problem.budget is not None else float(max_sites)
    blocks = [hstack([-csc_matrix(data.cover), link])]
    upper = [np.zeros(n_rows), [limit]]
    blocks.append(hstack([csc_matrix(sites_weights[None, :]), csc_matrix((1, n_level))]))
    if problem.budget is not None and problem.p is not None:
        blocks.append(hstack([csc_matrix(np.ones((1, n_y))), csc_matrix((1, n_level))]))
        upper.append([float(max_sites)])
    row_upper = np.concatenate([np.asarray(u, dtype=np.float64) for u in upper])
    lp = LinearModel(
        cost=np.concatenate([np.zeros(n_y), *[cost for _, cost, _, _ in levels]]),
        lower=np.zeros(n_y + n_level),
        upper=np.ones(n_y + n_level),
        matrix=vstack(blocks).tocsc(),
        row_lower=np.full(row_upper.shape[0], -np.inf),
        row_upper=row_upper,
        # backup's "covered twice" must be binary: (2 − f)·v ≤ Σ y lets v = ½ otherwise
        integer=np.arange(n_y + n_level) < (n_y + n_level if model is Model.BACKUP else n_y),
        maximise=True,
        offset=_constant(model, data, busy),
    )
    return lp, n_y


def _constant(model: Model, data: CoverageData, busy: float) -> float:
    if model is Model.MCLP:
        return float(data.weights[data.fixed_count >= 1].sum())
    if model is Model.BACKUP:
        return float(data.weights[data.fixed_count >= 2].sum())
    return float(np.dot(data.weights, 1.0 - np.power(busy, data.fixed_count)))


def _start(
    model: Model, data: CoverageData, chosen: IntArray, busy: float, max_sites: int
) -> FloatArray:
    """The MIP point of the sites ``chosen``: each level on when its covers are there."""
    counts = data.counts(chosen)
    new_covers = counts - data.fixed_count
    parts = [np.zeros(data.n_candidates)]
    parts[0][chosen] = 1.0
    for rows, _, _, need in _levels(model, data, busy, max_sites):
        if need < 0:  # backup: covered twice in all
            parts.append((counts[rows] >= 2).astype(np.float64))
        else:
            parts.append((new_covers[rows] >= need).astype(np.float64))
    return np.concatenate(parts)


def _finish(
    model: Model,
    problem: LocationProblem,
    data: CoverageData,
    chosen: IntArray,
    objective: float,
    bound: float,
    proven: bool,
    method: str,
    notes: tuple[str, ...],
) -> Solution:
    return build_solution(
        model,
        problem,
        data.candidates[chosen],
        objective=objective,
        bound=max(bound, objective),
        optimal=proven,
        method=method,
        notes=notes,
    )
