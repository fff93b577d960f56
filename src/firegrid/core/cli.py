"""The CLI kit every ``firegrid`` command is built on.

One set of shared options (``--db``, ``--json``, ``--quiet``), one way to print a result
(:func:`emit`), one error contract (:func:`fail` / :class:`CliError`) and one progress display
(:func:`progress`). Context CLIs import from here, never from the root ``firegrid.cli``.

Exit codes (documented in the README):

* 0 — ok
* 1 — the command ran and failed (a failed check, a refused action, a conflict)
* 2 — usage or bad input (a missing file, a malformed value, an unknown id)
* 3 — not ready (no schema, no road network, a service unreachable)

Errors: with ``--json`` the API's error envelope ``{"error": {"code", "message", "details",
"hint"}}`` is printed on stdout; otherwise one line ``error: <message> (hint: <hint>)`` on
stderr. No traceback reaches a user unless ``FIREGRID_DEBUG=1``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer

from firegrid.core.settings import Settings, get_settings, normalise_database_url

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_READY = 3

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL; overrides FIREGRID_DATABASE_URL.", metavar="URL"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print no progress, only the result.")
]


class CliError(Exception):
    """An error a command reports to its user: a message, a hint naming the fix, an exit
    code and a stable machine ``code`` (the API's error codes where one exists)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        exit_code: int = EXIT_FAILURE,
        code: str = "failed",
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code
        self.code = code
        self.details = details

    def envelope(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "hint": self.hint,
            }
        }


def json_requested(argv: list[str] | None = None) -> bool:
    """Whether the command line asked for JSON (used where the option value is out of reach,
    e.g. in the entry point's error handler)."""
    return "--json" in (sys.argv[1:] if argv is None else argv)


def debug_enabled() -> bool:
    return os.environ.get("FIREGRID_DEBUG", "").strip().lower() in {"1", "true", "yes"}


def resolve_settings(db: str | None = None) -> Settings:
    """Settings from the environment, with ``--db`` taking precedence."""
    settings = get_settings()
    if db:
        settings = settings.model_copy(update={"database_url": normalise_database_url(db)})
    return settings


def _readable(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if value is None:
        return "-"
    return str(value)


def emit(data: Any, as_json: bool) -> None:
    """Print ``data`` as JSON, or as readable ``key: value`` lines (nested values as compact
    JSON, never Python reprs)."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    if isinstance(data, dict):
        for key, value in data.items():
            typer.echo(f"{key}: {_readable(value)}")
    elif isinstance(data, list):
        for item in data:
            typer.echo(_readable(item))
    else:
        typer.echo(_readable(data))


def report_error(error: CliError, as_json: bool | None = None) -> None:
    """Print ``error`` in the contract's shape (does not exit)."""
    if as_json is None:
        as_json = json_requested()
    if as_json:
        typer.echo(json.dumps(error.envelope(), ensure_ascii=False, default=str))
        return
    line = f"error: {error.message}"
    if error.hint:
        line += f" (hint: {error.hint})"
    typer.echo(line, err=True)


def fail(
    message: str,
    code: int = EXIT_FAILURE,
    details: Any = None,
    *,
    hint: str | None = None,
    error_code: str | None = None,
) -> NoReturn:
    """Report an error in the contract's shape and exit with ``code``."""
    default_codes = {EXIT_USAGE: "bad_input", EXIT_NOT_READY: "not_ready"}
    error = CliError(
        message,
        hint=hint,
        exit_code=code,
        code=error_code or default_codes.get(code, "failed"),
        details=details,
    )
    report_error(error)
    raise typer.Exit(code)


@contextmanager
def progress(description: str, total: int | None = None, *, quiet: bool = False) -> Iterator[Any]:
    """A progress display on stderr for long work; yields ``advance(n=1)``.

    Silent when ``quiet`` or when stderr is not a terminal (so ``--json`` output and logs stay
    clean); the work runs the same either way.
    """
    if quiet or not sys.stderr.isatty():

        def _noop(n: int = 1) -> None:
            return None

        yield _noop
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def _advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield _advance
