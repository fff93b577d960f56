"""``firegrid restore``: prove the backup whole, check it belongs to this release's schema,
then load it into an empty database (or replace one with ``force``) and check the rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from firegrid.backup import database
from firegrid.backup.errors import BackupError
from firegrid.backup.files import copy_in
from firegrid.backup.manifest import Manifest, read_manifest, verify_files
from firegrid.core.migrate import current_heads


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    tables: int
    rows: int
    data_files: int


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
    backup_dir: Path, target_url: str, data_dir: Path, *, force: bool = False
) -> Restored:
    manifest = read_manifest(backup_dir)
    verify_files(backup_dir, [manifest.database.file, *manifest.data_files])
    backend = database.backend_of(target_url)
    if backend != manifest.database.backend:
        raise BackupError(
            f"the backup holds a {manifest.database.backend} database; the target is {backend}",
            hint="restore into a database of the same kind (use --db)",
        )
    _check_release(manifest, target_url)
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
    return Restored(
        manifest=manifest, tables=len(counts), rows=sum(counts.values()), data_files=written
    )
