"""``firegrid plan solve-orlib FILE``: solve an OR-Library p-median instance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from firegrid.core.cli import (
    EXIT_USAGE,
    CliError,
    JsonOption,
    QuietOption,
    emit,
    progress,
    report_error,
)


def solve_orlib_command(
    file: Annotated[Path, typer.Argument(help="An OR-Library pmed file (e.g. pmed1.txt).")],
    p: Annotated[
        int | None, typer.Option("--p", help="Number of medians; default the file's p.")
    ] = None,
    time_limit_s: Annotated[
        float,
        typer.Option(
            "--time-limit",
            help="Seconds for the exact method; past it the best answer is printed with its "
            "bound and gap (optimal false).",
        ),
    ] = 60.0,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Solve an OR-Library p-median file; print n, p, cost, optimal, gap and seconds."""
    from firegrid.planning.orlib import OrlibFormatError, read_pmedian
    from firegrid.planning.solver import InvalidProblem, Model, SolveOptions, solve

    if not file.is_file():
        _refuse(f"no such file: {file}", as_json, hint="give the path of a pmed file")
    try:
        instance = read_pmedian(file)
    except OrlibFormatError as err:
        _refuse(err.message, as_json, details=err.details, code=err.code)
    if p is not None and not 1 <= p <= instance.n:
        _refuse(f"--p must be between 1 and n={instance.n}, got {p}", as_json)
    with progress(f"solving {file.name}", quiet=quiet):
        try:
            solution = solve(
                Model.PMEDIAN, instance.problem(p), SolveOptions(time_limit_s=time_limit_s)
            )
        except InvalidProblem as err:
            _refuse(err.message, as_json, details=err.details, code=err.code)
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


def _refuse(
    message: str,
    as_json: bool,
    *,
    hint: str | None = None,
    details: object = None,
    code: str = "bad_input",
) -> NoReturn:
    """Bad input: the error contract's shape (JSON with ``--json``), exit 2."""
    error = CliError(message, hint=hint, exit_code=EXIT_USAGE, code=code, details=details)
    report_error(error, as_json)
    raise typer.Exit(EXIT_USAGE)
