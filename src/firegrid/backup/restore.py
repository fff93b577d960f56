"""``firegrid restore``: prove the backup whole, check it belongs to this release's schema,
then load it into an empty database (or replace one with ``force``) and check the rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from firegrid.backup import database
from firegrid.backup.errors import BackupError
from firegrid.backup.files import copy_in
from firegrid.backup.manifest import Manifest, read_manifest, verify_files
from firegrid.backup.stream import check_stream_target, load_stream, moved_offset
from firegrid.core.migrate import current_heads


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    tables: int
    rows: int
    data_files: int
    stream_messages: int = 0


def _check_release(manifest: Manifest, url: str) -> None:
    heads = sorted(current_heads(url))
    if manifest.database.revisions != heads:
        raise BackupError(
            "the backup's schema revisions "
            f"{', '.join(manifest.database.revisions)} differ from this release's "
            f"{', '.join(heads)}",
            hint=f"restore with firegrid {manifest.firegrid_version} (the release that wrote "
            "it), then upgrade with `firegrid db upgrade`",
        )


def restore_backup(
    backup_dir: Path,
    target_url: str,
    data_dir: Path,
    *,
    force: bool = False,
    nats_url: str | None = None,
) -> Restored:
    manifest = read_manifest(backup_dir)
    saved = [manifest.database.file, *manifest.data_files]
    if manifest.event_stream_file is not None:
        saved.append(manifest.event_stream_file)
    verify_files(backup_dir, saved)
    if manifest.event_stream is not None and not nats_url:
        raise BackupError(
            f"the backup holds the JetStream stream {manifest.event_stream.name}",
            hint="set FIREGRID_NATS_URL to the NATS server(s) to restore it into",
            not_ready=True,
        )
    backend = database.backend_of(target_url)
    if backend != manifest.database.backend:
        raise BackupError(
            f"the backup holds a {manifest.database.backend} database; the target is {backend}",
            hint="restore into a database of the same kind (use --db)",
        )
    _check_release(manifest, target_url)
    if manifest.event_stream is not None and nats_url:
        check_stream_target(nats_url, manifest.event_stream, force=force)
    empty = database.is_empty(target_url)
    if not empty and not force:
        raise BackupError(
            "the target database is not empty",
            hint="restore into a new database, or pass --force to replace its content",
        )
    database.load(target_url, backup_dir / manifest.database.file.path, replace=not empty)
    counts = database.row_counts(target_url)
    if counts != manifest.database.rows:
        differing = sorted(
            name
            for name in set(counts) | set(manifest.database.rows)
            if counts.get(name) != manifest.database.rows.get(name)
        )
        raise BackupError(
            f"restored database differs from the backup in {len(differing)} table(s): "
            + ", ".join(differing[:10])
        )
    written = copy_in(backup_dir, manifest.data_files, data_dir, replace=force)
    stream_messages = 0
    if manifest.event_stream is not None and nats_url:
        republished = load_stream(nats_url, manifest.event_stream, backup_dir, force=force)
        _move_offsets(target_url, republished.sequences)
        stream_messages = republished.messages
    return Restored(
        manifest=manifest,
        tables=len(counts),
        rows=sum(counts.values()),
        data_files=written,
        stream_messages=stream_messages,
    )


def _move_offsets(url: str, sequences: list[tuple[int, int]]) -> None:
    """The consumers' stored JetStream offsets, renumbered for the republished stream."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            rows = connection.execute(
                text('SELECT name, "offset" FROM event_consumers WHERE backend = :b'),
                {"b": "jetstream"},
            ).all()
            for name, offset in rows:
                connection.execute(
                    text(
                        'UPDATE event_consumers SET "offset" = :o WHERE name = :n AND backend = :b'
                    ),
                    {"o": moved_offset(int(offset), sequences), "n": name, "b": "jetstream"},
                )
    finally:
        engine.dispose()
