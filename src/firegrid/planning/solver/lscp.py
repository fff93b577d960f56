"""Interim: the method lands in the next commit."""

from __future__ import annotations

from firegrid.planning.solver.problem import LocationProblem, Solution, SolveOptions


def solve_lscp(problem: LocationProblem, options: SolveOptions) -> Solution:
    raise NotImplementedError("lscp: not implemented yet")
