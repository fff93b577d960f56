"""Where the logistics (战勤保障) points go: p-median over the stations they serve.

Demand: the stations, weighted by their vehicles (a station with more units draws more on
supplies); candidates: road nodes on a grid and the existing logistics points. The answer
is the ``p`` sites with the least total weighted road time to the stations (each station
served by its nearest point), with the same figure for the existing points alongside.
Nothing is fixed: the question is where the points should be, and the existing layout is
the "before".
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.settings import Settings
from firegrid.core.texts import TextCode
from firegrid.geo.service import geo_context, travel_times_within
from firegrid.planning import inputs
from firegrid.planning.candidates import Candidates, grid_candidates
from firegrid.planning.solver import LocationProblem, Model, SolveOptions, solve

#: farthest a logistics point is searched from a station (one hour)
CUTOFF_S = 3600.0


def plan_logistics(
    database: Database,
    settings: Settings,
    p: int,
    *,
    spacing_m: float = 2000.0,
    time_limit_s: float = 60.0,
) -> dict[str, Any]:
    if not 1 <= p <= 500:
        raise ValidationFailed(
            "p must be between 1 and 500",
            {"p": p},
            text=TextCode.VALIDATION_RANGE,
            params={"field": "p", "min": 1, "max": 500},
        )
    started = time.perf_counter()
    context = geo_context(database, settings)
    engine = context.engine
    with database.session() as session:
        fleet = inputs.fleet(session).by_station
        points = inputs.logistics_points(session)
    stations = context.registered
    if not stations:
        raise ValidationFailed(
            "no station on the road network: nothing to serve",
            text=TextCode.ENTITY_NONE_YET,
            params={"kind": "station"},
        )
    weight = np.asarray([max(len(fleet.get(s.id, [])), 1) for s in stations], dtype=np.float64)
    snapped = engine.snap(
        np.asarray([s.lon for s in stations]), np.asarray([s.lat for s in stations])
    )
    grid = grid_candidates(engine, spacing_m)
    existing = Candidates(
        [], np.empty(0), np.empty(0), np.empty(0, np.int64), np.empty(0), np.empty(0), []
    )
    if points:
        lon = np.asarray([pt.lon for pt in points])
        lat = np.asarray([pt.lat for pt in points])
        ps = engine.snap(lon, lat, strict=False)
        on = ps.on_network
        existing = Candidates(
            [pt.code for pt, ok in zip(points, on, strict=True) if ok],
            lon[on],
            lat[on],
            ps.node[on].astype(np.int64),
            ps.leg_time_s[on],
            np.ones(int(on.sum())),
            ["existing"] * int(on.sum()),
        )
    cands = Candidates.concat([existing, grid])
    times = travel_times_within(
        engine,
        snapped.node,
        cands.node,
        CUTOFF_S,
        target_leg_s=snapped.leg_time_s,
        source_leg_s=cands.leg_s,
    )
    cost = np.full((len(stations), len(cands)), np.inf)
    cost[times.row, times.col] = times.times_s
    reachable = np.isfinite(cost).any(axis=0)
    columns = np.flatnonzero(reachable)
    if len(columns) < p:
        raise ValidationFailed(
            f"only {len(columns)} candidate sites reach a station",
            {"p": p},
            text=TextCode.PLANNING_TOO_FEW_CANDIDATES,
            params={"count": len(columns), "p": p},
        )
    problem = LocationProblem(cost_s=cost[:, columns], weights=weight, p=p)
    solution = solve(Model.PMEDIAN, problem, SolveOptions(time_limit_s=time_limit_s))
    chosen = [int(columns[j]) for j in solution.new_sites]
    n_existing = len(existing)
    before = cost[:, :n_existing].min(axis=1) if n_existing else np.full(len(stations), np.inf)
    after = cost[:, chosen].min(axis=1)
    nearest = np.argmin(cost[:, chosen], axis=1)

    def figures(t: np.ndarray) -> dict[str, Any]:
        finite = np.isfinite(t)
        return {
            "weighted_total_s": round(float((t[finite] * weight[finite]).sum()), 1),
            "mean_s": round(float(t[finite].mean()), 1) if finite.any() else None,
            "worst_s": round(float(t[finite].max()), 1) if finite.any() else None,
            "stations_unreached": int((~finite).sum()),
        }

    return {
        "kind": "logistics",
        "model": "pmedian",
        "parameters": {"p": p, "spacing_m": spacing_m, "cutoff_s": CUTOFF_S},
        "sites": [
            {
                "code": cands.code[j],
                "lon": round(float(cands.lon[j]), 7),
                "lat": round(float(cands.lat[j]), 7),
                "node": int(cands.node[j]),
                "source": cands.source[j],
                "serves": [stations[i].code for i in np.flatnonzero(nearest == k).tolist()],
            }
            for k, j in enumerate(chosen)
        ],
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "optimal": solution.optimal,
        "method": solution.method,
        "before": {"points": n_existing, **figures(before)},
        "after": {"points": p, **figures(after)},
        "demand": {"stations": len(stations), "weight": "vehicles per station (at least 1)"},
        "candidates": {"existing": n_existing, "grid": len(grid), "reach_a_station": len(columns)},
        "existing_points": [
            {"code": c, "lon": float(x), "lat": float(y)}
            for c, x, y in zip(existing.code, existing.lon, existing.lat, strict=True)
        ],
        "seconds": {
            "solve_s": round(solution.seconds, 3),
            "total_s": round(time.perf_counter() - started, 3),
        },
    }
