"""p-center: the least worst cost with ``p`` new sites, fixed sites open.

The optimum is one of the matrix's distinct costs. Between a lower bound (every demand's
nearest allowed site) and the p-median heuristic's worst cost, a binary search asks at each
radius R whether ``p`` new sites can cover every demand the fixed sites leave beyond R — a
set-cover MIP whose optimum is compared with ``p``. A check that runs out of time stops the
search: the answer keeps its proven lower bound and is not called optimal.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import csc_matrix

from firegrid.planning.solver.common import build_solution
from firegrid.planning.solver.highs import LinearModel, MipStatus, run_highs
from firegrid.planning.solver.pmedian_data import reduce_pmedian
from firegrid.planning.solver.pmedian_heuristic import greedy, penalised_cap, swap_search
from firegrid.planning.solver.problem import (
    FloatArray,
    InfeasibleProblem,
    IntArray,
    LocationProblem,
    Model,
    Solution,
    SolveOptions,
)


def solve_pcenter(problem: LocationProblem, options: SolveOptions) -> Solution:
    """Solve the p-center (see the module's docstring)."""
    deadline = time.perf_counter() + options.time_limit_s
    data = reduce_pmedian(problem)
    rows = data.rows  # servable demands of positive weight
    candidates = data.candidates
    fixed = np.array(sorted(problem.fixed), dtype=np.int64)
    p = data.p
    cost = problem.dense_cost_s[rows]
    cap = cost[:, fixed].min(axis=1) if len(fixed) else np.full(len(rows), np.inf)
    sub = cost[:, candidates]
    if p > 0 and len(rows):
        penalised = penalised_cap(data)
        chosen = swap_search(data, greedy(data, penalised), penalised)
    else:
        chosen = np.empty(0, np.int64)
    upper = _worst(cap, sub, chosen)
    lower = float(np.minimum(cap, sub.min(axis=1, initial=np.inf)).max(initial=0.0))
    if not np.isfinite(upper):
        found = _cover(sub, cap, np.inf, p, deadline, options.threads) if p > 0 else None
        if found is None or found[0] is None:
            raise InfeasibleProblem(
                f"found no {p} new sites that, with the fixed ones, reach every servable demand"
            )
        chosen = found[0]
        upper = _worst(cap, sub, chosen)
    radii = np.unique(np.concatenate([sub[np.isfinite(sub)], cap[np.isfinite(cap)]]))
    radii = radii[(radii >= lower) & (radii < upper)]
    proven = True
    notes: tuple[str, ...] = ()
    if int(np.count_nonzero(sub < cap[:, None])) > options.exact_size_limit:
        radii, proven, notes = radii[:0], False, ("size_limit",)
    while radii.size:
        middle = radii.size // 2
        radius = float(radii[middle])
        outcome = _cover(sub, cap, radius, p, deadline, options.threads)
        if outcome is None:
            proven, notes = False, ("time_limit",)
            break
        sites, _ = outcome
        if sites is not None:
            chosen, upper = sites, _worst(cap, sub, sites)
            radii = radii[:middle]
            radii = radii[radii < upper]
        else:
            lower = float(radii[middle + 1]) if middle + 1 < radii.size else upper
            radii = radii[middle + 1 :]
    bound = upper if proven else lower
    return build_solution(
        Model.PCENTER,
        problem,
        candidates[chosen],
        objective=upper,
        bound=min(bound, upper),
        optimal=proven,
        method="binary-search-mip",
        notes=notes,
        unservable=data.unservable,
    )


def _worst(cap: FloatArray, sub: FloatArray, chosen: IntArray) -> float:
    if sub.shape[0] == 0:
        return 0.0
    best = np.minimum(cap, sub[:, chosen].min(axis=1, initial=np.inf))
    return float(best.max())


def _cover(
    sub: FloatArray,
    cap: FloatArray,
    radius: float,
    p: int,
    deadline: float,
    threads: int | None,
) -> tuple[IntArray | None, bool] | None:
    """``(sites, True)`` when ≤ p new sites cover every row within ``radius``,
    ``(None, False)`` when none can, ``None`` when the check ran out of time."""
    needy = ~(np.isfinite(cap) & (cap <= radius))
    matrix = csc_matrix(np.isfinite(sub[needy]) & (sub[needy] <= radius), dtype=np.float64)
    if needy.any() and (np.diff(matrix.tocsr().indptr) == 0).any():
        return None, False
    if not needy.any():
        return np.empty(0, np.int64), True
    n = sub.shape[1]
    model = LinearModel(
        cost=np.ones(n),
        lower=np.zeros(n),
        upper=np.ones(n),
        matrix=matrix,
        row_lower=np.ones(matrix.shape[0]),
        row_upper=np.full(matrix.shape[0], np.inf),
        integer=np.ones(n, dtype=bool),
    )
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return None
    result = run_highs(model, time_limit_s=remaining, threads=threads)
    if result.status is MipStatus.INFEASIBLE:
        return None, False
    if result.status is not MipStatus.OPTIMAL or result.values is None:
        if np.isfinite(result.bound) and result.bound > p + 1e-6:
            return None, False
        return None
    if result.objective > p + 1e-6:
        return None, False
    return np.flatnonzero(result.values > 0.5).astype(np.int64), True
