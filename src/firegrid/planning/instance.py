"""A siting instance on the road network: demand, existing stations, candidates and the
road travel times between them, turned into the solver's :class:`LocationProblem`.

Times are road times from the geo engine (never straight lines), legs included:

* existing stations → demand: the engine's precomputed station trees (one column each);
* candidates → demand: :func:`firegrid.geo.service.travel_times_within`, one bounded
  search per demand node on the reverse graph, cut off at ``limit_s``.

What the solver gets is reduced without changing any model's answer:

* the existing stations become ``fixed`` columns holding, per demand, the k-th smallest
  time among them (k = 1 for LSCP, MCLP, p-median and p-center, which only see the nearest
  open site; k up to 2 for backup coverage; up to the largest count of covering stations
  for MEXCLP, which counts them) — the same coverage counts and nearest times as the 100
  station columns;
* candidates that improve no demand (for coverage models: reach no demand within T that
  the stations leave short; for p-median/p-center: beat the stations' time for no demand)
  are left out, their count reported;
* for MCLP and LSCP, candidates dominated by another (it covers a superset for no more
  cost, :mod:`.dominance`) are left out too, their count reported;
* candidate times not better than the stations' nearest are dropped (``inf``) for
  p-median and p-center: they can never be a demand's nearest open site;
* the p-median gets its costs as :class:`~firegrid.planning.solver.SparseCosts` (the finite
  times only), never as a dense demand × candidate matrix (half a gigabyte on a city).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from firegrid.geo.engine import TravelTimeEngine
from firegrid.geo.service import BoundedTimes, travel_times_within
from firegrid.planning.candidates import Candidates
from firegrid.planning.demand import Demand
from firegrid.planning.dominance import undominated
from firegrid.planning.solver import SPARSE_MODELS, LocationProblem, Model, SparseCosts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: cut-off of candidate searches for p-median / p-center when stations leave demand unreached
MEDIAN_CAP_S = 1800.0


@dataclass(frozen=True)
class SitingInstance:
    """Demand snapped to the network, the stations' and the candidates' times to it."""

    demand: Demand
    demand_node: IntArray
    demand_leg_s: FloatArray
    station_ids: list[int]
    station_times_s: npt.NDArray[np.float32]  # [stations × demand]
    candidates: Candidates
    times: BoundedTimes  # rows: demand, cols: candidates
    limit_s: float
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def nearest_station_s(self) -> FloatArray:
        if not len(self.station_ids):
            return np.full(len(self.demand), np.inf)
        return np.asarray(self.station_times_s.min(axis=0), dtype=np.float64)

    def candidate_dense(self, columns: IntArray, offset: int = 0) -> FloatArray:
        """``[demand × (offset + columns)]``: candidate times after ``offset`` empty columns
        (``inf`` beyond the cut-off)."""
        out = np.full((len(self.demand), offset + len(columns)), np.inf)
        position = np.full(len(self.candidates), -1, dtype=np.int64)
        position[columns] = offset + np.arange(len(columns))
        keep = position[self.times.col] >= 0
        out[self.times.row[keep], position[self.times.col[keep]]] = self.times.times_s[keep]
        return out


def snap_demand(
    engine: TravelTimeEngine, demand: Demand
) -> tuple[Demand, IntArray, FloatArray, int]:
    """Demand points on the network (off-network ones dropped: their count is returned)."""
    snapped = engine.snap(demand.lon, demand.lat, strict=False)
    on = snapped.on_network
    dropped = int((~on).sum())
    note = (
        f"{dropped} demand point(s) farther than {engine.max_snap_distance_m:.0f} m "
        "from every road node left out"
        if dropped
        else None
    )
    return (
        demand.subset(on, note),
        snapped.node[on].astype(np.int64),
        snapped.leg_time_s[on].astype(np.float64),
        dropped,
    )


def station_times(
    engine: TravelTimeEngine, node: IntArray, leg_s: FloatArray
) -> tuple[list[int], npt.NDArray[np.float32]]:
    """Times ``[stations × demand]`` from the engine's registered stations (legs included)."""
    from firegrid.geo.public import UnknownFacility
    from firegrid.geo.service import STATIONS

    try:
        fs = engine.facilities(STATIONS)
    except UnknownFacility:
        return [], np.zeros((0, len(node)), dtype=np.float32)
    times = fs.times_s[:, node] + leg_s.astype(np.float32)[None, :]
    return [int(i) for i in fs.ids], np.asarray(times, dtype=np.float32)


COVERAGE_MODELS = (Model.LSCP, Model.MCLP, Model.BACKUP, Model.MEXCLP)
#: models for which a dominated candidate can be dropped (:mod:`.dominance`)
DOMINANCE_MODELS = (Model.LSCP, Model.MCLP)
#: coverers a demand needs before more cannot help it (MEXCLP: every one helps)
NEEDED = {Model.LSCP: 1, Model.MCLP: 1, Model.BACKUP: 2}


def search_limits(
    model: Model, station_times_s: npt.NDArray[np.float32], threshold_s: float
) -> tuple[float, FloatArray]:
    """How far to search candidates for each demand: ``(limit, per-demand limits)``.

    Coverage models: ``T`` for the demand the stations leave short (no search for the rest);
    p-median and p-center: the demand's nearest station time (a candidate farther away is
    never its nearest open site), capped at :data:`MEDIAN_CAP_S`.
    """
    n = station_times_s.shape[1]
    if model in COVERAGE_MODELS:
        need = NEEDED.get(model)
        if need is None or not len(station_times_s):
            return threshold_s, np.full(n, threshold_s)
        covering = (station_times_s <= threshold_s).sum(axis=0)
        return threshold_s, np.where(covering < need, threshold_s, -1.0)
    nearest = (
        station_times_s.min(axis=0).astype(np.float64)
        if len(station_times_s)
        else np.full(n, np.inf)
    )
    own = np.minimum(nearest, MEDIAN_CAP_S)
    return float(own.max()) if n else 0.0, own


def build_instance(
    engine: TravelTimeEngine,
    demand: Demand,
    candidates: Candidates,
    model: Model,
    threshold_s: float,
) -> SitingInstance:
    """Snap the demand, take the stations' times and search the candidates' as far as
    ``model`` needs (:func:`search_limits`)."""
    import time

    t0 = time.perf_counter()
    demand, node, leg, _ = snap_demand(engine, demand)
    ids, st = station_times(engine, node, leg)
    t1 = time.perf_counter()
    limit_s, own = search_limits(model, st, threshold_s)
    times = travel_times_within(
        engine,
        node,
        candidates.node,
        float(limit_s),
        target_leg_s=leg,
        source_leg_s=candidates.leg_s,
        target_limit_s=own,
    )
    t2 = time.perf_counter()
    return SitingInstance(
        demand,
        node,
        leg,
        ids,
        st,
        candidates,
        times,
        float(limit_s),
        {
            "stations_s": round(t1 - t0, 3),
            "matrix_s": round(t2 - t1, 3),
            "searched_demand": int((own >= 0).sum()),
        },
    )


@dataclass(frozen=True)
class Reduced:
    """The solver's problem and how its columns map back."""

    problem: LocationProblem
    n_fixed: int
    columns: IntArray  # candidate index of each non-fixed column
    dropped_candidates: int  # candidates that improve no demand
    dominated_candidates: int = 0  # useful, but another covers all they cover, for less


def _kth_smallest(times: npt.NDArray[np.float32], k: int) -> FloatArray:
    """``[demand × k]``: the k smallest station times per demand, ascending."""
    n_st, n_d = times.shape
    if n_st == 0:
        return np.full((n_d, 0), np.inf)
    k = min(k, n_st)
    part = np.partition(times, k - 1, axis=0)[:k] if k < n_st else times
    return np.asarray(np.sort(part, axis=0).T, dtype=np.float64)


def reduce_problem(
    instance: SitingInstance,
    model: Model,
    *,
    p: int | None,
    threshold_s: float | None,
    coverage_share: float = 1.0,
    busy_fraction: float = 0.0,
) -> Reduced:
    """The reduced problem for ``model`` (see the module docstring)."""
    st = instance.station_times_s
    t = instance.times
    nearest = instance.nearest_station_s
    coverage = model in (Model.LSCP, Model.MCLP, Model.BACKUP, Model.MEXCLP)
    if coverage:
        assert threshold_s is not None
        covering = (st <= threshold_s).sum(axis=0) if len(st) else np.zeros(len(nearest))
        need = {Model.LSCP: 1, Model.MCLP: 1, Model.BACKUP: 2}.get(model)
        if need is None:  # MEXCLP: every extra coverer adds expected coverage
            k = int(covering.max()) + 1 if len(covering) else 1
            short = np.ones(len(nearest), dtype=np.bool_)
        else:
            k = need
            short = covering < need
        useful = (t.times_s <= threshold_s) & short[t.row]
        fixed_cols = _kth_smallest(st, max(k, 1))
        # the fixed columns only need to say whether they cover: cap beyond T at inf
        fixed_cols = np.where(fixed_cols <= threshold_s, fixed_cols, np.inf)
    else:
        useful = t.times_s < nearest[t.row]
        fixed_cols = _kth_smallest(st, 1)
    columns = np.unique(t.col[useful]).astype(np.int64)
    useful_count = len(columns)
    if model in DOMINANCE_MODELS:  # exact for models that ask only "covered or not"
        columns = undominated(
            t.row[useful], t.col[useful], len(nearest), columns, instance.candidates.cost
        )
    n_fixed = fixed_cols.shape[1]
    cost: FloatArray | SparseCosts
    if model in SPARSE_MODELS:
        cost = _sparse_costs(instance, columns, fixed_cols)
    else:
        cost = instance.candidate_dense(columns, n_fixed)
        cand = cost[:, n_fixed:]  # a view: filtered in place
        if not coverage:
            cand[cand >= nearest[:, None]] = np.inf
        elif threshold_s is not None:
            cand[cand > threshold_s] = np.inf
        cost[:, :n_fixed] = fixed_cols
    problem = LocationProblem(
        cost_s=cost,
        weights=instance.demand.weight,
        fixed=tuple(range(n_fixed)),
        p=None if p is None else min(p, len(columns)),
        threshold_s=threshold_s,
        coverage_share=coverage_share,
        busy_fraction=busy_fraction,
        site_costs=np.concatenate([np.zeros(n_fixed), instance.candidates.cost[columns]]).astype(
            np.float64
        ),
    )
    return Reduced(
        problem,
        n_fixed,
        columns,
        len(instance.candidates) - useful_count,
        useful_count - len(columns),
    )


def _sparse_costs(
    instance: SitingInstance, columns: IntArray, fixed_cols: FloatArray
) -> SparseCosts:
    """The p-median's costs without the dense matrix: the fixed columns' finite times, then
    the times of ``columns`` strictly below the demand's nearest station — the entries the
    dense path leaves finite (a candidate no nearer than a station can never serve it)."""
    t = instance.times
    n_fixed = fixed_cols.shape[1]
    position = np.full(len(instance.candidates), -1, dtype=np.int64)
    position[columns] = n_fixed + np.arange(len(columns), dtype=np.int64)
    keep = (position[t.col] >= 0) & (t.times_s < instance.nearest_station_s[t.row])
    fixed_row, fixed_col = np.nonzero(np.isfinite(fixed_cols))
    return SparseCosts.from_pairs(
        np.concatenate([fixed_row, t.row[keep]]),
        np.concatenate([fixed_col, position[t.col[keep]]]),
        np.concatenate([fixed_cols[fixed_row, fixed_col], t.times_s[keep]]),
        (len(instance.demand), n_fixed + len(columns)),
    )


def coverage_share(times_s: FloatArray, weight: FloatArray, threshold_s: float) -> float:
    total = float(weight.sum())
    return float(weight[times_s <= threshold_s].sum()) / total if total > 0 else 0.0


def describe_times(times_s: FloatArray, weight: FloatArray, threshold_s: float) -> dict[str, Any]:
    """Coverage within T and the weighted mean / worst nearest time, for before/after."""
    finite = np.isfinite(times_s)
    total = float(weight.sum())
    mean = (
        float((times_s[finite] * weight[finite]).sum() / weight[finite].sum())
        if finite.any()
        else None
    )
    return {
        "covered_share": round(coverage_share(times_s, weight, threshold_s), 6),
        "covered_weight": round(float(weight[times_s <= threshold_s].sum()), 3),
        "total_weight": round(total, 3),
        "mean_time_s": None if mean is None else round(mean, 1),
        "worst_time_s": round(float(times_s[finite].max()), 1) if finite.any() else None,
        "unreached": int((~finite).sum()),
    }
