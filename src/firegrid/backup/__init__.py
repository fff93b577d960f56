"""Backups of a firegrid deployment: the database (SQLite online backup API or PostgreSQL
custom-format dump), the files of the data directory that are records (photos, archives,
attachments — not caches), and a manifest with versions and SHA-256 checksums. A restore
checks every checksum and refuses a backup whose schema revisions differ from this
release's before it touches the target."""

from firegrid.backup.errors import BackupError
from firegrid.backup.make import make_backup
from firegrid.backup.manifest import Manifest
from firegrid.backup.restore import restore_backup

__all__ = ["BackupError", "Manifest", "make_backup", "restore_backup"]
