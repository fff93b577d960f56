"""LSCP: the fewest new sites (least site cost when ``site_costs`` are given) so that a share
``coverage_share`` of the weighted demand is within ``threshold_s``, fixed sites open.

With share 1 every demand not covered by a fixed site needs a covering new site (set cover);
below 1, a covered flag per merged row and one row ``Σ w·u ≥ target``. Exact by HiGHS; beyond
the size limit or time, greedy cover with the LP bound (rounded up for unit costs).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import csc_matrix, hstack, identity, vstack

from firegrid.planning.solver.common import build_solution, is_proven
from firegrid.planning.solver.coverage_data import CoverageData, coverage_data
from firegrid.planning.solver.highs import LinearModel, MipStatus, run_highs
from firegrid.planning.solver.problem import (
    InfeasibleProblem,
    IntArray,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
)

_SHARE_SLACK = 1e-9


def solve_lscp(problem: LocationProblem, options: SolveOptions) -> Solution:
    """Solve the LSCP (see the module's docstring)."""
    deadline = time.perf_counter() + options.time_limit_s
    data = coverage_data(problem, fixed_cap=1)
    target = _target(problem, data)
    chosen = _greedy(data, target)
    objective = float(data.site_costs[chosen].sum())
    notes: list[str] = []
    bound = 0.0
    if int(data.cover.nnz) <= options.exact_size_limit:
        model = _mip(data, problem, target)
        start = _start(data, chosen, with_flags=problem.coverage_share < 1.0)
        result = run_highs(
            model,
            time_limit_s=max(deadline - time.perf_counter(), 0.01),
            threads=options.threads,
            start=start,
            mip_rel_gap=options.gap_tolerance,
        )
        if result.status is MipStatus.INFEASIBLE:
            raise _infeasible(problem)
        if result.values is not None:
            mip_chosen = np.flatnonzero(result.values[: data.n_candidates] > 0.5)
            mip_objective = float(data.site_costs[mip_chosen].sum())
            if mip_objective <= objective:
                chosen, objective = mip_chosen.astype(np.int64), mip_objective
        if np.isfinite(result.bound):
            bound = max(bound, _integral(data, result.bound))
        if result.status is MipStatus.OPTIMAL and is_proven(
            objective, bound, max(options.gap_tolerance, 1e-9)
        ):
            return _finish(problem, data, chosen, objective, bound, True, "mip", ())
        notes.append("time_limit" if result.status is MipStatus.TIME_LIMIT else "mip_stopped")
    else:
        notes.append("size_limit")
    # a heuristic answer is never called optimal, even when its bound meets it
    if is_proven(objective, bound, options.gap_tolerance):
        notes.append("bound_meets_cost")
    return _finish(problem, data, chosen, objective, bound, False, "greedy", tuple(notes))


def _target(problem: LocationProblem, data: CoverageData) -> float:
    """Weight the new sites must cover beyond what the fixed sites already cover."""
    total = float(data.weights.sum())
    fixed_covered = float(data.weights[data.fixed_count >= 1].sum())
    coverable = data.weights[(data.fixed_count >= 1) | (np.diff(data.cover.indptr) > 0)].sum()
    needed = problem.coverage_share * total
    if problem.coverage_share >= 1.0:
        if coverable < total - _SHARE_SLACK * max(total, 1.0):
            raise _infeasible(problem)
        return total - fixed_covered
    if coverable < needed - _SHARE_SLACK * max(total, 1.0):
        raise _infeasible(problem)
    return max(needed - fixed_covered, 0.0)


def _infeasible(problem: LocationProblem) -> InfeasibleProblem:
    cost = problem.dense_cost_s
    assert problem.threshold_s is not None
    allowed = np.union1d(problem.candidate_sites(), np.array(problem.fixed, dtype=np.int64))
    uncoverable = np.flatnonzero(~(cost[:, allowed] <= problem.threshold_s).any(axis=1))
    return InfeasibleProblem(
        f"no choice of sites covers a share {problem.coverage_share:g} of the demand within "
        f"{problem.threshold_s:g} s: {len(uncoverable)} demands no allowed site reaches in time",
        {"uncoverable_demands": uncoverable.tolist()[:50]},
    )


def _greedy(data: CoverageData, target: float) -> IntArray:
    """Add the site covering the most still-uncovered weight per unit cost until the target."""
    chosen: list[int] = []
    covered = data.fixed_count >= 1
    gained = 0.0
    cover_t = csc_matrix(data.cover).T.tocsr()
    while gained < target - _SHARE_SLACK * max(target, 1.0):
        gains = cover_t @ np.where(covered, 0.0, data.weights)
        gains[chosen] = -1.0
        best = int(np.argmax(gains / np.maximum(data.site_costs, 1e-12)))
        if gains[best] <= 0:
            break
        chosen.append(best)
        newly = (data.cover[:, [best]].toarray().ravel() > 0) & ~covered
        gained += float(data.weights[newly].sum())
        covered |= newly
    return np.array(sorted(chosen), dtype=np.int64)


def _mip(data: CoverageData, problem: LocationProblem, target: float) -> LinearModel:
    n_y = data.n_candidates
    open_rows = np.flatnonzero(data.fixed_count == 0)
    cover = csc_matrix(data.cover[open_rows])
    if problem.coverage_share >= 1.0:
        required = open_rows[data.weights[open_rows] > 0]
        cover = csc_matrix(data.cover[required])
        return LinearModel(
            cost=data.site_costs.copy(),
            lower=np.zeros(n_y),
            upper=np.ones(n_y),
            matrix=cover,
            row_lower=np.ones(cover.shape[0]),
            row_upper=np.full(cover.shape[0], np.inf),
            integer=np.ones(n_y, dtype=bool),
        )
    n_u = len(open_rows)
    link = hstack([cover, -identity(n_u, format="csc")])  # Σ y − u ≥ 0
    share = hstack([csc_matrix((1, n_y)), csc_matrix(data.weights[open_rows][None, :])])
    return LinearModel(
        cost=np.concatenate([data.site_costs, np.zeros(n_u)]),
        lower=np.zeros(n_y + n_u),
        upper=np.ones(n_y + n_u),
        matrix=vstack([link, share]).tocsc(),
        row_lower=np.concatenate([np.zeros(n_u), [target * (1 - _SHARE_SLACK)]]),
        row_upper=np.full(n_u + 1, np.inf),
        integer=np.arange(n_y + n_u) < n_y,
    )


def _start(data: CoverageData, chosen: IntArray, *, with_flags: bool) -> np.ndarray:
    y = np.zeros(data.n_candidates)
    y[chosen] = 1.0
    if not with_flags:
        return y
    open_rows = np.flatnonzero(data.fixed_count == 0)
    u = (data.counts(chosen)[open_rows] >= 1).astype(np.float64)
    return np.concatenate([y, u])


def _integral(data: CoverageData, bound: float) -> float:
    """Integer site costs make the optimum an integer: round the bound up."""
    if np.all(data.site_costs == np.round(data.site_costs)):
        return float(np.ceil(bound - 1e-6))
    return bound


def _finish(
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
        Model.LSCP,
        problem,
        data.candidates[chosen],
        objective=objective,
        bound=min(bound, objective),
        optimal=proven,
        method=method,
        notes=notes,
    )
