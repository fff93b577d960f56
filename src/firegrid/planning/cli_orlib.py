"""``firegrid plan solve-orlib FILE``: solve an OR-Library p-median instance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from firegrid.core.cli import EXIT_USAGE, JsonOption, QuietOption, emit, fail, progress


def solve_orlib_command(
    file: Annotated[Path, typer.Argument(help="An OR-Library pmed file (e.g. pmed1.txt).")],
    p: Annotated[
        int | None, typer.Option("--p", help="Number of medians; default the file's p.")
    ] = None,
    time_limit_s: Annotated[
        float, typer.Option("--time-limit", help="Seconds for the exact method.")
    ] = 600.0,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Solve an OR-Library p-median file; print n, p, cost, optimal, gap and seconds."""
    from firegrid.planning.orlib import OrlibFormatError, read_pmedian
    from firegrid.planning.solver import InvalidProblem, Model, SolveOptions, solve

    if not file.is_file():
        fail(f"no such file: {file}", EXIT_USAGE, hint="give the path of a pmed file")
    try:
        instance = read_pmedian(file)
    except OrlibFormatError as err:
        fail(err.message, EXIT_USAGE, err.details, error_code=err.code)
    if p is not None and not 1 <= p <= instance.n:
        fail(f"--p must be between 1 and n={instance.n}, got {p}", EXIT_USAGE)
    with progress(f"solving {file.name}", quiet=quiet):
        try:
            solution = solve(
                Model.PMEDIAN, instance.problem(p), SolveOptions(time_limit_s=time_limit_s)
            )
        except InvalidProblem as err:
            fail(err.message, EXIT_USAGE, err.details)
    emit(
        {
            "n": instance.n,
            "p": instance.p if p is None else p,
            "cost": solution.objective,
            "optimal": solution.optimal,
            "gap": solution.gap,
            "seconds": round(solution.seconds, 3),
            "bound": solution.bound,
            "method": solution.method,
            "medians": [j + 1 for j in solution.new_sites],
        },
        as_json,
    )
