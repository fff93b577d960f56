"""p-median: least total weighted cost with ``p`` new sites, fixed sites open.

Order of work: reduce to the pairs that matter, take an upper bound from greedy + vertex
substitution, then prove it with the exact radius formulation (HiGHS) when the reduced model is
within the size limit; otherwise (or when time runs out) bound it by Lagrangian relaxation and
report the gap.
"""

from __future__ import annotations

import time

import numpy as np

from firegrid.planning.solver.common import build_solution, is_proven
from firegrid.planning.solver.pmedian_data import PMedianData, reduce_pmedian
from firegrid.planning.solver.pmedian_heuristic import greedy, penalised_cap, swap_search
from firegrid.planning.solver.pmedian_lagrange import lagrangian_bound
from firegrid.planning.solver.pmedian_radius import model_size, solve_radius
from firegrid.planning.solver.problem import (
    InfeasibleProblem,
    IntArray,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
)


def solve_pmedian(problem: LocationProblem, options: SolveOptions) -> Solution:
    """Solve the p-median (see the module's docstring for the method)."""
    started = time.perf_counter()
    deadline = started + options.time_limit_s
    data = reduce_pmedian(problem)
    if data.p == 0 or data.n_rows == 0:
        chosen = np.arange(min(data.p, data.n_candidates), dtype=np.int64)
        return _finish(problem, data, chosen, None, proven=True, method="trivial", notes=())
    cap = penalised_cap(data)
    chosen = swap_search(data, greedy(data, cap), cap)
    notes: list[str] = []
    if model_size(data) <= options.exact_size_limit:
        result = solve_radius(
            data,
            chosen,
            deadline=deadline,
            threads=options.threads,
            tolerance=options.gap_tolerance,
            improve=lambda start: swap_search(data, start, cap),
        )
        if result.chosen is not None:
            chosen = result.chosen
        if result.proven:
            return _finish(problem, data, chosen, result.bound, True, "radius-mip", ())
        notes.append("time_limit" if result.timed_out else "mip_stopped")
        bound = result.bound
    else:
        notes.append("size_limit")
        bound = -np.inf
    upper = data.objective(chosen)
    remaining_s = max(deadline - time.perf_counter(), min(options.time_limit_s, 5.0))
    bound = max(bound, lagrangian_bound(data, upper, deadline=time.perf_counter() + remaining_s))
    # a heuristic answer is never called optimal, even when its bound meets it
    if is_proven(upper, bound, options.gap_tolerance):
        notes.append("bound_meets_cost")
    return _finish(problem, data, chosen, bound, False, "greedy+swap+lagrangian", tuple(notes))


def _finish(
    problem: LocationProblem,
    data: PMedianData,
    chosen: IntArray,
    bound: float | None,
    proven: bool,
    method: str,
    notes: tuple[str, ...],
) -> Solution:
    costs = data.cost_of(chosen)
    if not np.isfinite(costs).all():
        raise InfeasibleProblem(
            f"found no {data.p} new sites that, with the fixed ones, reach every servable demand",
            {"unreached_demands": data.rows[~np.isfinite(costs)].tolist()[:50]},
        )
    objective = float(np.dot(data.weights, costs))
    return build_solution(
        Model.PMEDIAN,
        problem,
        data.candidates[chosen],
        objective=objective,
        bound=objective if bound is None else min(bound, objective),
        optimal=proven,
        method=method,
        notes=notes,
        unservable=data.unservable,
    )
