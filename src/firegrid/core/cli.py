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
stderr. No traceback reaches a user unless ``FIREGRID_DEBUG=1`` (or ``firegrid --debug``).

Every Typer app is made with :func:`command_group`: its click group (:class:`ContractGroup`)
turns whatever a command raises into that contract — a :class:`CliError`, a ``DomainError``
(exit 2 for bad input and unknown ids, 1 for a refusal or conflict, 3 for ``NotReady``), a
usage error of the command line (exit 2), invalid ``FIREGRID_*`` settings (exit 2), a
database without schema or out of reach (exit 3) — so a command only raises, never prints
its own error.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

# Typer 0.29 carries its own click; its exceptions are what a command line raises.
from typer._click import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup, TyperOption

from firegrid.core.settings import Settings, get_settings, normalise_database_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from firegrid.core.db import Database

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

#: The command line of the command being run (set by the outermost :class:`ContractGroup`),
#: so an error handler knows whether ``--json`` was asked for.
_ARGV: ContextVar[list[str] | None] = ContextVar("firegrid_cli_argv", default=None)
#: The database URL the command resolved last (named in a connection error).
_DATABASE_URL: ContextVar[str | None] = ContextVar("firegrid_cli_database_url", default=None)


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


def run_service(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a command's coroutine on uvloop where it is installed (a dependency on Linux; its
    loop and its cross-thread wake-ups cost less per message than asyncio's): the services
    (`ingest run`, `alarms run`) and the ingest context's one-shot commands."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(coro)
    return uvloop.run(coro)


def json_requested(argv: list[str] | None = None) -> bool:
    """Whether the command line asked for JSON (used where the option value is out of reach,
    e.g. in an error handler)."""
    if argv is None:
        argv = _ARGV.get()
    if argv is None:
        argv = sys.argv[1:]
    return "--json" in argv


def debug_enabled() -> bool:
    return os.environ.get("FIREGRID_DEBUG", "").strip().lower() in {"1", "true", "yes"}


def resolve_settings(db: str | None = None) -> Settings:
    """Settings from the environment, with ``--db`` taking precedence."""
    settings = get_settings()
    if db:
        settings = settings.model_copy(update={"database_url": normalise_database_url(db)})
    _DATABASE_URL.set(settings.database_url)
    return settings


@contextmanager
def open_database(db: str | None = None) -> Iterator[Database]:
    """The database of ``--db`` (or the settings), its schema checked against this
    firegrid's migrations (:func:`check_schema`), disposed of when the block ends."""
    from firegrid.core.db import Database

    database = Database(resolve_settings(db).database_url)
    try:
        check_schema(database)
        yield database
    finally:
        database.dispose()


@lru_cache(maxsize=1)
def _script_heads() -> tuple[frozenset[str], frozenset[str]]:
    """The migrations' heads and every revision they know."""
    from alembic.script import ScriptDirectory

    from firegrid.core.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = frozenset(rev.revision for rev in script.walk_revisions())
    return frozenset(script.get_heads()), known


def check_schema(database: Database) -> None:
    """Refuse (exit 3) a database whose schema is behind this firegrid's migrations, or from
    a newer firegrid; a database with no schema at all fails on its first query the same
    way (the contract names ``firegrid db upgrade``)."""
    from sqlalchemy import text

    with database.engine.connect() as connection:
        stamped = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    heads, known = _script_heads()
    url = _redacted(database.url)
    unknown = sorted(stamped - known)
    if unknown:
        raise CliError(
            f"the database at {url} was migrated by a newer firegrid (revision "
            f"{', '.join(unknown)} is unknown here)",
            hint="run the firegrid version that migrated it, or upgrade this one",
            exit_code=EXIT_NOT_READY,
            code="not_ready",
        )
    if stamped != heads:
        raise CliError(
            f"the schema of the database at {url} is behind this firegrid "
            f"(at {', '.join(sorted(stamped)) or 'nothing'}; needs {', '.join(sorted(heads))})",
            hint="run `firegrid db upgrade` with the same --db or FIREGRID_DATABASE_URL",
            exit_code=EXIT_NOT_READY,
            code="not_ready",
        )


@contextmanager
def session_scope(db: str | None = None) -> Iterator[Session]:
    """One transaction on the database of ``--db``: committed when the block ends."""
    with open_database(db) as database, database.session() as session:
        yield session


def _readable(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if value is None:
        return "-"
    return str(value)


def emit(data: Any, as_json: bool, text: Callable[[Any], str] | None = None) -> None:
    """Print ``data`` as JSON, or as text: ``text(data)`` when given, else readable
    ``key: value`` lines (nested values as compact JSON, never Python reprs)."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    if text is not None:
        typer.echo(text(data))
    elif isinstance(data, dict):
        for key, value in data.items():
            typer.echo(f"{key}: {_readable(value)}")
    elif isinstance(data, list):
        for item in data:
            typer.echo(_readable(item))
    else:
        typer.echo(_readable(data))


def notice(message: str, *, quiet: bool = False) -> None:
    """A line for the person at the terminal (stderr), e.g. what a long-running service
    is doing; never mixed into the result on stdout."""
    if not quiet:
        typer.echo(message, err=True)


def report_error(error: CliError, as_json: bool | None = None) -> None:
    """Print ``error`` in the contract's shape (does not exit)."""
    if as_json is None:
        as_json = json_requested()
    if as_json:
        typer.echo(json.dumps(error.envelope(), ensure_ascii=False, default=str))
        return
    line = " ".join(f"error: {error.message}".split())  # one line, whatever the message
    if error.hint:
        line += f" (hint: {' '.join(error.hint.split())})"
    typer.echo(line, err=True)


def fail(
    message: str,
    code: int = EXIT_FAILURE,
    details: Any = None,
    *,
    hint: str | None = None,
    error_code: str | None = None,
) -> NoReturn:
    """End the command with an error in the contract's shape and exit ``code``."""
    default_codes = {EXIT_USAGE: "bad_input", EXIT_NOT_READY: "not_ready"}
    raise CliError(
        message,
        hint=hint,
        exit_code=code,
        code=error_code or default_codes.get(code, "failed"),
        details=details,
    )


# Turning what a command raised into the contract -------------------------------------------


def _domain_error(exc: Exception) -> CliError | None:
    from firegrid.core.errors import DomainError

    if not isinstance(exc, DomainError):
        return None
    status = exc.status
    if status == 503 or getattr(exc, "not_ready", False):
        exit_code = EXIT_NOT_READY
    elif status in {400, 404, 413, 422}:
        exit_code = EXIT_USAGE
    else:
        exit_code = EXIT_FAILURE
    return CliError(
        exc.message,
        hint=getattr(exc, "hint", None),
        exit_code=exit_code,
        code=exc.code,
        details=exc.details,
    )


def _settings_error(exc: Exception) -> CliError | None:
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError) or not exc.title.endswith("Settings"):
        return None
    problems = []
    for item in exc.errors():
        field = ".".join(str(part) for part in item["loc"])
        prefix = "FIREGRID_ALARMS_" if exc.title == "AlarmSettings" else "FIREGRID_"
        problems.append(f"{prefix}{field.upper()}={item.get('input')!r}: {item['msg']}")
    return CliError(
        "invalid settings: " + "; ".join(problems),
        hint="fix or unset that environment variable; `firegrid settings` lists them all",
        exit_code=EXIT_USAGE,
        code="invalid_settings",
        details={"problems": problems},
    )


def _redacted(url: str | None) -> str:
    if not url:
        return "the configured database"
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is named as given
        return url


def _database_error(exc: Exception) -> CliError | None:
    from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

    url = _redacted(_DATABASE_URL.get())
    if isinstance(exc, ArgumentError):
        return CliError(
            f"cannot use the database URL {url}: {exc}",
            hint="give --db or FIREGRID_DATABASE_URL as sqlite:///PATH or postgresql://…",
            exit_code=EXIT_USAGE,
            code="bad_input",
        )
    if not isinstance(exc, OperationalError | ProgrammingError):
        return None
    orig = exc.orig
    text = str(orig).strip()
    first = text.splitlines()[0] if text else type(orig).__name__
    if "no such table" in text or getattr(orig, "sqlstate", None) == "42P01":
        return CliError(
            f"the database at {url} has no firegrid schema ({first})",
            hint="run `firegrid db upgrade` with the same --db or FIREGRID_DATABASE_URL",
            exit_code=EXIT_NOT_READY,
            code="not_ready",
        )
    if isinstance(exc, OperationalError) and (
        "connection" in text or "unable to open database" in text or "does not exist" in text
    ):
        reason = first.split("FATAL:")[-1].strip()
        return CliError(
            f"cannot open the database at {url}: {reason}",
            hint="create it (PostgreSQL: `createdb NAME`) or point --db / "
            "FIREGRID_DATABASE_URL at one that exists, then run `firegrid db upgrade`",
            exit_code=EXIT_NOT_READY,
            code="not_ready",
        )
    return None


def _usage_error(exc: Exception) -> CliError | None:
    if not isinstance(exc, typer.TyperException):
        return None
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "firegrid"
    return CliError(
        exc.format_message(),
        hint=f"see `{path} --help`",
        exit_code=EXIT_USAGE if isinstance(exc, UsageError) else exc.exit_code,
        code="usage",
    )


def with_hint(exc: Exception, hint: str) -> NoReturn:
    """End the command with ``exc`` in the contract's shape and ``hint`` naming the fix."""
    error = to_cli_error(exc)
    if error is None:
        raise exc
    error.hint = hint
    raise error from None


def to_cli_error(exc: Exception) -> CliError | None:
    """The contract's error for ``exc``, or ``None`` when it is a bug (a traceback)."""
    if isinstance(exc, CliError):
        return exc
    for translate in (_usage_error, _domain_error, _settings_error, _database_error):
        error = translate(exc)
        if error is not None:
            return error
    return None


@contextmanager
def _contract() -> Iterator[None]:
    try:
        yield
    except (typer.Exit, typer.Abort, NoArgsIsHelpError, BrokenPipeError):
        raise
    except Exception as exc:
        if debug_enabled() and not isinstance(exc, CliError | typer.TyperException):
            raise
        error = to_cli_error(exc)
        if error is None:
            error = CliError(
                f"internal error: {type(exc).__name__}: {exc}",
                hint="rerun with FIREGRID_DEBUG=1 for the traceback and report it",
                exit_code=EXIT_FAILURE,
                code="internal_error",
            )
        report_error(error)
        raise typer.Exit(error.exit_code) from None


class ContractGroup(TyperGroup):
    """A Typer group that reports every error of its commands in the contract's shape."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        if parent is None:
            _ARGV.set(list(args))
        with _contract():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        with _contract():
            return super().invoke(ctx)


def command_group(help: str, **options: Any) -> typer.Typer:
    """A Typer app (a group of commands) that keeps the error contract; what every context
    CLI is made of."""
    options.setdefault("no_args_is_help", True)
    options.setdefault("pretty_exceptions_enable", False)
    return typer.Typer(help=help, cls=ContractGroup, **options)


def _flags_show_no_type() -> None:
    """A flag takes no value, so its help shows none (Typer would print ``--json <bool>``)."""
    original = TyperOption.display_type_rich
    if getattr(original, "_firegrid_flags", False):
        return

    def display_type_rich(self: TyperOption, ctx: Context) -> str | None:
        if self.is_flag:
            return None
        return original(self, ctx)

    display_type_rich._firegrid_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_type()


def _RateColumn(unit: str) -> Any:  # noqa: N802 - builds a rich column class lazily
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            rate = f" · {speed:,.0f} {unit}/s" if speed else ""
            return Text(f"{int(task.completed):,} {unit}{rate}")

    return RateColumn()


@contextmanager
def progress(
    description: str,
    total: int | None = None,
    *,
    quiet: bool = False,
    unit: str | None = None,
) -> Iterator[Any]:
    """A progress display on stderr for long work; yields ``advance(n=1)``. With ``unit``
    (e.g. ``"rows"``) it also shows the count done and the rate (``12,345 rows · 80,000
    rows/s``).

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
    if unit is not None:
        columns.append(_RateColumn(unit))
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def _advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield _advance
