"""Solver-only city-scale check (SYNTHETIC matrix, not road travel times).

3,000 demand points and 20,000 candidate sites uniform on a 50 km × 50 km square, 100 fixed
stations among the sites; travel time = straight-line distance × 1.3 detour / 40 km/h, 1 % of
pairs unreachable; weights uniform 1..10. Times MCLP (T = 300 s) and p-median with 5 new
sites. It shows the solver's share of the city-scale budget; the matrix here is not built
from the road network (that part, and the real city, belong to the planning commands).

    python bench/bench_planning_solver_city.py [--demand 3000] [--sites 20000] [--fixed 100]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from firegrid.planning.solver import LocationProblem, Model, SolveOptions, solve


def synthetic_matrix(n_demand: int, n_sites: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    demand = rng.random((n_demand, 2)) * 50_000.0
    sites = rng.random((n_sites, 2)) * 50_000.0
    cost = np.empty((n_demand, n_sites))
    for start in range(0, n_demand, 500):
        block = demand[start : start + 500]
        distance_m = np.sqrt(((block[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2))
        cost[start : start + 500] = distance_m * 1.3 / (40_000.0 / 3600.0)
    cost[rng.random(cost.shape) < 0.01] = np.inf
    return cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demand", type=int, default=3000)
    parser.add_argument("--sites", type=int, default=20000)
    parser.add_argument("--fixed", type=int, default=100)
    parser.add_argument("--p", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    cost = synthetic_matrix(args.demand, args.sites, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    weights = rng.integers(1, 11, size=args.demand).astype(float)
    fixed = tuple(int(j) for j in rng.choice(args.sites, size=args.fixed, replace=False))
    out = {"load_average_at_start": os.getloadavg(), "synthetic": True, **vars(args)}
    for model, extra in ((Model.MCLP, {"threshold_s": 300.0}), (Model.PMEDIAN, {})):
        problem = LocationProblem(cost_s=cost, weights=weights, fixed=fixed, p=args.p, **extra)
        started = time.perf_counter()
        solution = solve(model, problem, SolveOptions(time_limit_s=60.0))
        out[model.value] = {
            "seconds": round(time.perf_counter() - started, 2),
            "objective": solution.objective,
            "bound": solution.bound,
            "gap": solution.gap,
            "optimal": solution.optimal,
            "method": solution.method,
            "coverage_before": solution.coverage_before,
            "coverage_after": solution.coverage_after,
        }
        print(model.value, json.dumps(out[model.value]), flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
