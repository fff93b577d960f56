"""``firegrid retention status|run``: record retention windows, archive and purge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

retention_app = typer.Typer(
    help="Record retention: windows per kind, archive then purge.", no_args_is_help=True
)

DbOption = Annotated[
    str | None, typer.Option("--db", help="SQLAlchemy URL; overrides FIREGRID_DATABASE_URL.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
KindOption = Annotated[
    list[str] | None,
    typer.Option("--kind", help="Only this record kind (repeatable); default: every kind."),
]


def _run(db: str | None, as_json: bool, kinds: list[str] | None, purge: bool) -> None:
    from firegrid.cli import emit, resolve_settings
    from firegrid.core.db import Database
    from firegrid.core.errors import DomainError
    from firegrid.retention.config import load_retention
    from firegrid.retention.job import Place, retention_status, run_retention

    settings = resolve_settings(db)
    database = Database(settings.database_url)
    try:
        config = load_retention(settings.retention)
        place = Place(
            data_dir=settings.data_dir,
            archive_dir=settings.archive_dir or Path(settings.data_dir) / "archive",
        )
        if purge:
            data = run_retention(database, config, place, kinds=kinds, actor="cli:retention")
        else:
            data = retention_status(database, config, place, kinds=kinds)
    except DomainError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(
            f"error: {exc.strerror or exc} ({exc.filename}); "
            "hint: check FIREGRID_ARCHIVE_DIR and the disk",
            err=True,
        )
        raise typer.Exit(2) from None
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        typer.echo(
            f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}; "
            "hint: is the database reachable and upgraded (`firegrid db upgrade`)?",
            err=True,
        )
        raise typer.Exit(2) from None
    finally:
        database.dispose()
    if as_json:
        emit(data, True)
        return
    for name, facts in data["kinds"].items():
        if purge:
            typer.echo(f"{name:<20} purged {facts['rows']:>9} (keep {facts['keep_days']} d)")
        elif not facts.get("available"):
            typer.echo(f"{name:<20} not installed")
        else:
            last = facts["last_run"]
            typer.echo(
                f"{name:<20} keep {facts['keep_days']:>4} d  oldest {facts['oldest'] or '-'}  "
                f"past window {facts['rows_past_window']} (held open {facts['rows_held_open']})  "
                f"last run {last['finished_at'] if last else 'never'}"
            )
    if purge:
        typer.echo(f"manifest: {data['manifest']}")


@retention_app.command("status")
def status_command(
    db: DbOption = None, kind: KindOption = None, as_json: JsonOption = False
) -> None:
    """Per kind: the window, the oldest record, rows past the window, the last run."""
    _run(db, as_json, kind, purge=False)


@retention_app.command("run")
def run_command(db: DbOption = None, kind: KindOption = None, as_json: JsonOption = False) -> None:
    """Archive (gzip JSONL + manifest) then purge what is past its window and not open."""
    _run(db, as_json, kind, purge=True)
