"""The CLI kit's error contract with the command's own ``--json`` flag (the kit's ``fail``
reads ``sys.argv``, which an embedding caller or a test runner does not set)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from firegrid.core.cli import EXIT_NOT_READY, EXIT_USAGE, CliError, report_error


def fail_with(
    as_json: bool, message: str, code: int, details: Any = None, *, hint: str | None = None
) -> NoReturn:
    """Report ``message`` in the contract's shape and exit with ``code``."""
    names = {EXIT_USAGE: "bad_input", EXIT_NOT_READY: "not_ready"}
    error = CliError(
        message, hint=hint, exit_code=code, code=names.get(code, "failed"), details=details
    )
    report_error(error, as_json)
    raise typer.Exit(code)


@contextmanager
def planning_errors(as_json: bool) -> Iterator[None]:
    """Report what a planning run can meet: no road network yet (not ready, with the command
    that makes one) or a bad parameter or input (bad input)."""
    from firegrid.core.errors import DomainError, NotFound
    from firegrid.geo.public import GeoError

    try:
        yield
    except NotFound as err:
        fail_with(as_json, err.message, EXIT_NOT_READY, err.details, hint="firegrid roads generate")
    except (DomainError, GeoError) as err:
        details = err.details if isinstance(err, DomainError) else None
        fail_with(as_json, str(getattr(err, "message", err)), EXIT_USAGE, details)
