"""``firegrid retention status|run``: record retention windows, archive and purge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from firegrid.core.cli import (
    EXIT_FAILURE,
    DbOption,
    JsonOption,
    command_group,
    emit,
    fail,
    open_database,
    progress,
    resolve_settings,
)

retention_app = command_group("Record retention: windows per kind, archive then purge.")

KindOption = Annotated[
    list[str] | None,
    typer.Option("--kind", help="Only this record kind (repeatable); default: every kind."),
]


def _run(db: str | None, as_json: bool, kinds: list[str] | None, purge: bool) -> None:
    from firegrid.retention.config import load_retention
    from firegrid.retention.job import Place, retention_status, run_retention

    settings = resolve_settings(db)
    with open_database(db) as database:
        try:
            config = load_retention(settings.retention)
            place = Place(
                data_dir=settings.data_dir,
                archive_dir=settings.archive_dir or Path(settings.data_dir) / "archive",
            )
            if purge:
                with progress("archiving, then purging past the windows"):
                    data = run_retention(
                        database, config, place, kinds=kinds, actor="cli:retention"
                    )
            else:
                data = retention_status(database, config, place, kinds=kinds)
        except OSError as exc:
            fail(
                f"{exc.strerror or exc} ({exc.filename})",
                EXIT_FAILURE,
                hint="check FIREGRID_ARCHIVE_DIR and the disk",
            )
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
