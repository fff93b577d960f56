"""A thin, typed door to HiGHS (``highspy``): pass a MIP or LP in sparse form, get values,
objective, proven bound and status back. Nothing model-specific lives here."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from enum import StrEnum

import highspy
import numpy as np
from scipy.sparse import csc_matrix, spmatrix

from firegrid.planning.solver.problem import FloatArray


class MipStatus(StrEnum):
    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    OTHER = "other"


@dataclass(frozen=True)
class LinearModel:
    """``min/max cost·x`` s.t. ``row_lower ≤ A x ≤ row_upper``, ``lower ≤ x ≤ upper``;
    ``integer`` marks the integer columns (none: an LP)."""

    cost: FloatArray
    lower: FloatArray
    upper: FloatArray
    matrix: spmatrix | csc_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    integer: np.ndarray | None = None
    maximise: bool = False
    offset: float = 0.0


@dataclass(frozen=True)
class MipResult:
    status: MipStatus
    values: FloatArray | None
    objective: float
    bound: float
    reduced_costs: FloatArray | None = None  # LPs solved to optimality only


def run_highs(
    model: LinearModel,
    *,
    time_limit_s: float,
    threads: int | None = None,
    start: FloatArray | None = None,
    mip_rel_gap: float = 1e-9,
    mip_abs_gap: float = 1e-9,
    use_heuristics: bool = True,
    presolve: bool = True,
) -> MipResult:
    """Solve ``model``; ``start`` is a feasible point HiGHS may use as its first incumbent."""
    highs = _new_highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
    highs.setOptionValue("mip_rel_gap", mip_rel_gap)
    highs.setOptionValue("mip_abs_gap", mip_abs_gap)
    if not presolve:
        highs.setOptionValue("presolve", "off")
    if not use_heuristics:  # a good incumbent is given: spend the time on the bound
        highs.setOptionValue("mip_heuristic_effort", 0.0)
        for name in ("rins", "rens", "feasibility_jump", "root_reduced_cost"):
            highs.setOptionValue(f"mip_heuristic_run_{name}", False)
    if threads is not None:
        highs.setOptionValue("threads", int(threads))
    highs.passModel(_lp(model))
    if start is not None and model.integer is not None:
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(start, dtype=np.float64).tolist()
        solution.value_valid = True
        highs.setSolution(solution)
    highs.run()
    status = _status(highs.getModelStatus())
    info = highs.getInfo()
    has_values = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.asarray(highs.getSolution().col_value, dtype=np.float64) if has_values else None
    objective = float(info.objective_function_value) if has_values else float("nan")
    if model.integer is not None and model.integer.any():
        bound = float(info.mip_dual_bound)
    elif status is MipStatus.OPTIMAL:
        bound = objective
    else:
        bound = float("-inf") if not model.maximise else float("inf")
    reduced = None
    if model.integer is None and status is MipStatus.OPTIMAL:
        reduced = np.asarray(highs.getSolution().col_dual, dtype=np.float64)
    return MipResult(
        status=status, values=values, objective=objective, bound=bound, reduced_costs=reduced
    )


_banner_lock = threading.Lock()
_banner_shown = False


def _new_highs() -> highspy.Highs:
    """A HiGHS instance; the first one's banner (printed by the C++ library straight to file
    descriptor 1) is kept off stdout so a command's ``--json`` output stays clean."""
    global _banner_shown
    with _banner_lock:
        if _banner_shown:
            return highspy.Highs()  # type: ignore[no-untyped-call]
        _banner_shown = True
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as sink:
                os.dup2(sink.fileno(), 1)
                highs = highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        return highs


def _lp(model: LinearModel) -> highspy.HighsLp:
    matrix = csc_matrix(model.matrix)
    matrix.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = int(model.cost.shape[0])
    lp.num_row_ = int(matrix.shape[0])
    lp.col_cost_ = np.asarray(model.cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(model.lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(model.upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(model.row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(model.row_upper, dtype=np.float64)
    lp.offset_ = float(model.offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    if model.maximise:
        lp.sense_ = highspy.ObjSense.kMaximize
    if model.integer is not None:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in np.asarray(model.integer, dtype=bool).tolist()
        ]
    return lp


def _status(status: highspy.HighsModelStatus) -> MipStatus:
    if status == highspy.HighsModelStatus.kOptimal:
        return MipStatus.OPTIMAL
    if status == highspy.HighsModelStatus.kTimeLimit:
        return MipStatus.TIME_LIMIT
    if status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        return MipStatus.INFEASIBLE
    return MipStatus.OTHER
