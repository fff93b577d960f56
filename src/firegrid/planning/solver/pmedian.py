"""p-median: least total weighted cost with ``p`` new sites, fixed sites open.

Order of work: reduce to the pairs that matter; an upper bound from greedy + vertex
substitution; a Lagrangian lower bound (subgradient), which alone proves many instances; its
reduced costs drop every candidate that cannot beat the upper bound; then the exact radius
formulation (HiGHS) on what is left, when it is within the size limit. Out of size or time,
the best answer is reported with its bound and gap and never called optimal.
"""

from __future__ import annotations

import time

import numpy as np

from firegrid.planning.solver.common import build_solution
from firegrid.planning.solver.pmedian_data import PMedianData, reduce_pmedian
from firegrid.planning.solver.pmedian_heuristic import greedy, penalised_cap, swap_search
from firegrid.planning.solver.pmedian_lagrange import lagrangian
from firegrid.planning.solver.pmedian_radius import integral_gap, model_size, solve_radius
from firegrid.planning.solver.problem import (
    FloatArray,
    InfeasibleProblem,
    IntArray,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
)

LAGRANGIAN_SHARE = 0.25  # of the time limit, at most LAGRANGIAN_MAX_S
LAGRANGIAN_MAX_S = 15.0


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
    upper = data.objective(chosen)
    abs_gap = integral_gap(data)
    exact_allowed = model_size(data) <= options.exact_size_limit
    budget_s = min(options.time_limit_s * LAGRANGIAN_SHARE, LAGRANGIAN_MAX_S)
    relaxation = lagrangian(data, upper, deadline=time.perf_counter() + max(budget_s, 0.05))
    bound = _tighten(relaxation.bound, abs_gap)
    if exact_allowed and _proves(upper, bound, abs_gap, options.gap_tolerance):
        return _finish(problem, data, chosen, bound, True, "swap+lagrangian-proof", ())
    if not exact_allowed:
        return _finish(problem, data, chosen, bound, False, "swap+lagrangian", ("size_limit",))
    # Lagrangian reduced-cost fixing: a candidate whose opening floor reaches the incumbent's
    # cost cannot be in a better solution; the incumbent's own sites always stay.
    floor = np.array([_tighten(v, abs_gap) for v in relaxation.opening_floor(data.p)])
    keep = floor < upper - _margin(upper, abs_gap, options.gap_tolerance)
    keep[chosen] = True
    kept = np.flatnonzero(keep)
    position = np.cumsum(keep) - 1
    sub = data.restrict(keep) if kept.size < data.n_candidates else data
    result = solve_radius(
        sub,
        position[chosen].astype(np.int64),
        deadline=deadline,
        threads=options.threads,
        tolerance=options.gap_tolerance,
        improve=lambda start: _polish(data, sub is not data, kept, position, start, cap),
    )
    if result.chosen is not None and result.cost <= upper:
        chosen = kept[result.chosen]
    # solutions using a dropped candidate cost at least the incumbent's: the bound holds
    bound = max(bound, min(result.bound, upper) if np.isfinite(result.bound) else bound)
    if result.proven:
        return _finish(problem, data, chosen, bound, True, "radius-mip", ())
    note = "time_limit" if result.timed_out else "mip_stopped"
    return _finish(problem, data, chosen, bound, False, "swap+lagrangian+mip", (note,))


def _polish(
    data: PMedianData,
    restricted: bool,
    kept: IntArray,
    position: IntArray,
    start: IntArray,
    cap: FloatArray,
) -> IntArray:
    """Local search on the whole problem from a MIP answer on the restricted one; kept only
    if it stays inside the restriction (a better answer outside it cannot exist)."""
    polished = swap_search(data, kept[start] if restricted else start, cap)
    if restricted and not np.isin(polished, kept).all():
        return start
    return position[polished].astype(np.int64) if restricted else polished


def _tighten(value: float, abs_gap: float) -> float:
    return float(np.ceil(value - 1e-6)) if abs_gap > 0.5 and np.isfinite(value) else value


def _margin(upper: float, abs_gap: float, tolerance: float) -> float:
    return 0.5 if abs_gap > 0.5 else tolerance * abs(upper)


def _proves(upper: float, bound: float, abs_gap: float, tolerance: float) -> bool:
    return bool(upper - bound <= max(tolerance * abs(upper), abs_gap))


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
