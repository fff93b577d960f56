"""``firegrid backup --out DIR`` and ``firegrid restore DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from firegrid.core.cli import (
    EXIT_FAILURE,
    EXIT_NOT_READY,
    EXIT_USAGE,
    DbOption,
    JsonOption,
    emit,
    fail,
    resolve_settings,
)


def _refuse(exc: Exception) -> NoReturn:
    """Report ``exc`` in the CLI's error contract and exit."""
    from firegrid.backup.errors import BackupError

    if isinstance(exc, BackupError):
        code = EXIT_NOT_READY if exc.not_ready else EXIT_USAGE
        fail(exc.message, code, hint=exc.hint, error_code="backup_refused")
    fail(f"{type(exc).__name__}: {exc}", EXIT_FAILURE, error_code="backup_failed")


def backup_command(
    out: Annotated[Path, typer.Option("--out", help="New or empty directory for the backup.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Back up the database (SQLite online backup / pg_dump), the data directory's records
    and a manifest with versions and SHA-256 checksums."""
    from firegrid.backup.errors import BackupError
    from firegrid.backup.make import Source, make_backup
    from firegrid.core.clock import utcnow

    settings = resolve_settings(db)
    source = Source(
        settings.database_url,
        Path(settings.data_dir),
        settings.event_log,
        nats_url=settings.nats_url,
        event_stream=settings.event_stream,
    )
    try:
        manifest = make_backup(source, out, utcnow())
    except (BackupError, OSError) as exc:
        _refuse(exc)
    emit(
        {
            "out": str(out),
            "backend": manifest.database.backend,
            "revisions": manifest.database.revisions,
            "tables": len(manifest.database.rows),
            "rows": sum(manifest.database.rows.values()),
            "database_bytes": manifest.database.file.bytes,
            "data_files": len(manifest.data_files),
            "stream_messages": manifest.event_stream.messages if manifest.event_stream else None,
        },
        as_json,
    )


def restore_command(
    backup_dir: Annotated[Path, typer.Argument(help="A directory written by `firegrid backup`.")],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database or data files that hold data.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup after checking every checksum and that its schema is this release's;
    refuses a target that holds data unless --force."""
    from firegrid.backup.errors import BackupError
    from firegrid.backup.restore import restore_backup

    settings = resolve_settings(db)
    try:
        done = restore_backup(
            backup_dir,
            settings.database_url,
            Path(settings.data_dir),
            force=force,
            nats_url=settings.nats_url if settings.event_log == "jetstream" else None,
        )
    except (BackupError, OSError) as exc:
        _refuse(exc)
    emit(
        {
            "restored": str(backup_dir),
            "created_at": done.manifest.created_at.isoformat(),
            "tables": done.tables,
            "rows": done.rows,
            "data_files": done.data_files,
            "stream_messages": done.stream_messages,
        },
        as_json,
    )
