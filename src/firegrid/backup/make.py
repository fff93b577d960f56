"""``firegrid backup``: the database, the data directory's records and a manifest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from firegrid import __version__
from firegrid.backup import database
from firegrid.backup.errors import BackupError
from firegrid.backup.files import copy_out, record_files
from firegrid.backup.manifest import DatabasePart, Manifest, saved_file, write_manifest
from firegrid.backup.stream import StreamSource, save_stream


@dataclass(frozen=True)
class Source:
    database_url: str
    data_dir: Path
    event_log: str
    nats_url: str = ""
    event_stream: str = ""


def _prepare(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        raise BackupError(f"{out_dir} is not empty", hint="give a new or empty directory to --out")
    out_dir.mkdir(parents=True, exist_ok=True)


def make_backup(source: Source, out_dir: Path, now: datetime) -> Manifest:
    """Write a backup of ``source`` into ``out_dir`` (new or empty) and return its manifest."""
    backend = database.backend_of(source.database_url)
    found = database.revisions(source.database_url)
    if not found:
        raise BackupError(
            "the database has no firegrid schema",
            hint="run `firegrid db upgrade` (or check --db)",
            not_ready=True,
        )
    _prepare(out_dir)
    db_file = out_dir / ("database.sqlite3" if backend == "sqlite" else "database.dump")
    database.save(source.database_url, db_file)
    counts = database.row_counts(source.database_url)
    skip = {out_dir.resolve()}
    if backend == "sqlite":
        db_path = database.sqlite_path(source.database_url).resolve()
        skip |= {db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")}
    data_files = copy_out(source.data_dir, record_files(source.data_dir, skip), out_dir)
    stream_part = stream_file = None
    if source.event_log == "jetstream":  # after the database: the stream holds at least
        # every event the saved consumer offsets point at
        stream_part = save_stream(StreamSource(source.nats_url, source.event_stream), out_dir)
        stream_file = saved_file(out_dir, out_dir / stream_part.file)
    manifest = Manifest(
        created_at=now,
        firegrid_version=__version__,
        database=DatabasePart(
            backend="sqlite" if backend == "sqlite" else "postgresql",
            revisions=found,
            file=saved_file(out_dir, db_file),
            rows=counts,
        ),
        data_files=data_files,
        event_log=source.event_log,
        event_stream=stream_part,
        event_stream_file=stream_file,
    )
    write_manifest(out_dir, manifest)
    return manifest
