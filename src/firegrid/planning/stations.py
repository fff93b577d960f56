"""Where the next fire stations go: the whole question, from the database to an explained
answer (``firegrid plan stations``, ``POST /api/v1/planning/plans``).

Steps: demand from the latest risk run (:mod:`.demand`), candidate sites on a grid of road
nodes and/or from a file (:mod:`.candidates`) filtered by the siting rules (:mod:`.siting`),
road times from the geo engine (:mod:`.instance`), the solver (:mod:`.solver`, existing
stations fixed open), then before/after coverage on exact road times (a full search from
each new site) and each new site's district (the demand it would reach first).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from firegrid.core.db import Database
from firegrid.core.problems import Found, Problem
from firegrid.core.settings import Settings
from firegrid.geo.engine import TravelTimeEngine
from firegrid.planning import inputs
from firegrid.planning.busy import BusyFraction, estimate_busy_fraction
from firegrid.planning.candidates import (
    Candidates,
    apply_siting_rules,
    file_candidates,
    grid_candidates,
    rows_to_candidates,
)
from firegrid.planning.demand import DemandParams, build_demand, interval, one_of, params_invalid
from firegrid.planning.instance import (
    SitingInstance,
    build_instance,
    describe_times,
    reduce_problem,
)
from firegrid.planning.siting import SitingRules, Venues, active_siting_rules
from firegrid.planning.solver import Model, SolveOptions, solve

FloatArray = npt.NDArray[np.float64]
MODELS = tuple(m.value for m in Model)
MAX_EXCLUDED_LISTED = 500
Progress = Callable[[str], None]


@dataclass(frozen=True)
class StationParams:
    """What a planner asks (every field reported with the answer)."""

    model: str = "mclp"
    add: int = 5
    minutes: float = 5.0
    spacing_m: float | None = 1000.0  # grid candidates; None: only the file's
    candidates_file: str | None = None
    candidate_points: tuple[tuple[str, float, float, float], ...] = ()  # code, lon, lat, cost
    weighting: str = "risk_occupancy"
    cell_m: float | None = 1000.0
    incidents: bool = False
    coverage_share: float = 1.0
    busy_fraction: float | None = None  # MEXCLP: None = estimated from dispatch history
    time_limit_s: float = 60.0

    def check(self) -> None:
        problems: list[Found] = []
        if self.model not in MODELS:
            problems.append(one_of("model", MODELS))
        if not 0 <= self.add <= 500:
            problems.append(interval("add", "[0, 500]"))
        if not 0 < self.minutes <= 60:
            problems.append(interval("minutes", "(0, 60]"))
        if self.spacing_m is None and not self.candidates_file and not self.candidate_points:
            problems.append(
                Found(
                    "spacing_m",
                    Problem.NEEDS_ONE,
                    "give grid candidates (spacing_m), a candidate file, or both",
                    {"fields": "spacing_m, candidates_file, candidate_points"},
                )
            )
        if not 0 < self.coverage_share <= 1:
            problems.append(interval("coverage_share", "(0, 1]"))
        if self.busy_fraction is not None and not 0 <= self.busy_fraction < 1:
            problems.append(interval("busy_fraction", "[0, 1)"))
        if not 0 < self.time_limit_s <= 3600:
            problems.append(interval("time_limit_s", "(0, 3600]"))
        if problems:
            raise params_invalid(problems)
        DemandParams(self.weighting, self.cell_m, self.incidents).check()

    @property
    def threshold_s(self) -> float:
        return self.minutes * 60.0


def _noop(_: str) -> None:
    return None


def gather_candidates(
    engine: TravelTimeEngine,
    params: StationParams,
    settings: Settings,
    rules: SitingRules,
    siting_venues: Venues,
) -> tuple[Candidates, dict[str, Any]]:
    """Grid and/or file candidates, filtered by the siting rules."""
    parts: list[Candidates] = []
    if params.spacing_m is not None:
        parts.append(grid_candidates(engine, params.spacing_m))
    if params.candidates_file:
        parts.append(
            file_candidates(engine, Path(params.candidates_file), settings.facility_max_snap_m)
        )
    if params.candidate_points:
        rows = [
            (n, {"code": code, "lon": lon, "lat": lat, "cost": cost}, ())
            for n, (code, lon, lat, cost) in enumerate(params.candidate_points, 1)
        ]
        parts.append(rows_to_candidates(engine, rows, settings.facility_max_snap_m))
    every = Candidates.concat(parts)
    allowed, excluded = apply_siting_rules(every, rules, siting_venues)
    summary = {
        "grid": sum(1 for s in every.source if s == "grid"),
        "file": sum(1 for s in every.source if s == "file"),
        "allowed": len(allowed),
        "excluded_count": len(excluded),
        "excluded": excluded[:MAX_EXCLUDED_LISTED],
        "rules": rules.model_dump(),
    }
    return allowed, summary


def site_times(engine: TravelTimeEngine, instance: SitingInstance, chosen: list[int]) -> FloatArray:
    """``[sites × demand]`` exact road times from chosen candidates (a full search each)."""
    c = instance.candidates
    out = np.empty((len(chosen), len(instance.demand)))
    for k, j in enumerate(chosen):
        row = engine.travel_times_from_node(int(c.node[j]))
        out[k] = row[instance.demand_node] + instance.demand_leg_s + c.leg_s[j]
    return out


def plan_stations(
    database: Database,
    settings: Settings,
    params: StationParams,
    progress: Progress = _noop,
) -> dict[str, Any]:
    """The answer to "where do the next ``add`` stations go, keeping the ones we have"."""
    from firegrid.geo.service import geo_context

    params.check()
    started = time.perf_counter()
    model = Model(params.model)
    progress("loading the road network and the stations")
    context = geo_context(database, settings)
    engine = context.engine
    rules = active_siting_rules()
    with database.session() as session:
        venues = inputs.weighted_venues(session)
        incidents = inputs.incident_points(session) if params.incidents else None
        siting_venues = inputs.siting_venues(session, rules.categories())
        busy = (
            estimate_busy_fraction(inputs.service_history(session))
            if model is Model.MEXCLP and params.busy_fraction is None
            else BusyFraction(params.busy_fraction or 0.0, "given", None)
        )
    marks = {"inputs_s": time.perf_counter() - started}
    progress("building demand and candidates")
    demand = build_demand(
        venues, DemandParams(params.weighting, params.cell_m, params.incidents), incidents
    )
    candidates, cand_summary = gather_candidates(engine, params, settings, rules, siting_venues)
    marks["demand_candidates_s"] = time.perf_counter() - started - marks["inputs_s"]
    progress("road travel times demand × candidates")
    instance = build_instance(engine, demand, candidates, model, params.threshold_s)
    progress("solving")
    reduced = reduce_problem(
        instance,
        model,
        p=None if model is Model.LSCP else params.add,
        threshold_s=params.threshold_s,
        coverage_share=params.coverage_share,
        busy_fraction=busy.value,
    )
    t_solve = time.perf_counter()
    marks["reduce_s"] = (
        t_solve
        - started
        - sum(marks.values())
        - sum(v for k, v in instance.seconds.items() if k.endswith("_s"))
    )
    if len(reduced.columns) == 0:
        solution = None
    else:
        solution = solve(model, reduced.problem, SolveOptions(time_limit_s=params.time_limit_s))
    solve_s = time.perf_counter() - t_solve
    chosen = (
        []
        if solution is None
        else [int(reduced.columns[j - reduced.n_fixed]) for j in solution.new_sites]
    )
    t_after = time.perf_counter()
    progress("before/after on road times")
    before = instance.nearest_station_s
    new_times = site_times(engine, instance, chosen)
    after = np.minimum(before, new_times.min(axis=0)) if chosen else before
    weight = instance.demand.weight
    sites = _sites(instance, chosen, new_times, before, params.threshold_s)
    result: dict[str, Any] = {
        "kind": "stations",
        "model": model.value,
        "parameters": asdict(params),
        "sites": sites,
        "objective": None if solution is None else solution.objective,
        "bound": None if solution is None else solution.bound,
        "gap": None if solution is None else solution.gap,
        "optimal": bool(solution is not None and solution.optimal),
        "method": None if solution is None else solution.method,
        "solver_notes": [] if solution is None else list(solution.notes),
        "coverage": {
            "minutes": params.minutes,
            "before": describe_times(before, weight, params.threshold_s),
            "after": describe_times(after, weight, params.threshold_s),
        },
        "demand": demand_summary(instance),
        "candidates": {
            **cand_summary,
            "useful": len(reduced.columns) + reduced.dominated_candidates,
            "improve_nothing": reduced.dropped_candidates,
            "dominated": reduced.dominated_candidates,
            "solver_columns": len(reduced.columns),
            "search_cutoff_s": instance.limit_s,
        },
        "existing_stations": len(instance.station_ids),
        "stations": [
            {"id": st.id, "code": st.code, "lon": st.lon, "lat": st.lat}
            for st in context.registered
        ],
        "skipped_stations": [s.as_dict() for s in context.skipped],
        "busy_fraction": busy.as_dict() if model is Model.MEXCLP else None,
        "seconds": {
            **instance.seconds,
            "solve_s": round(solve_s, 3),
            **{k: round(v, 3) for k, v in marks.items()},
            "after_s": round(time.perf_counter() - t_after, 3),
            "total_s": round(time.perf_counter() - started, 3),
        },
    }
    if solution is None:
        result["solver_notes"] = ["no candidate improves any demand point"]
    return result


def demand_summary(instance: SitingInstance) -> dict[str, Any]:
    return instance.demand.describe()


def _sites(
    instance: SitingInstance,
    chosen: list[int],
    new_times: FloatArray,
    before: FloatArray,
    threshold_s: float,
) -> list[dict[str, Any]]:
    """Each new site with its district: the demand it reaches before any other open site."""
    c = instance.candidates
    weight = instance.demand.weight
    first = np.argmin(new_times, axis=0) if chosen else np.zeros(0, dtype=np.int64)
    out = []
    for k, j in enumerate(chosen):
        district = (new_times[k] < before) & (first == k)
        newly = district & (new_times[k] <= threshold_s) & ~(before <= threshold_s)
        out.append(
            {
                "code": c.code[j],
                "lon": round(float(c.lon[j]), 7),
                "lat": round(float(c.lat[j]), 7),
                "node": int(c.node[j]),
                "source": c.source[j],
                "cost": float(c.cost[j]),
                "district": {
                    "demand_points": int(district.sum()),
                    "weight": round(float(weight[district].sum()), 3),
                    "newly_covered_weight": round(float(weight[newly].sum()), 3),
                    "mean_time_s": round(float(new_times[k][district].mean()), 1)
                    if district.any()
                    else None,
                    "points": [
                        [
                            round(float(instance.demand.lon[i]), 6),
                            round(float(instance.demand.lat[i]), 6),
                        ]
                        for i in np.flatnonzero(district).tolist()
                    ],
                },
            }
        )
    return out
