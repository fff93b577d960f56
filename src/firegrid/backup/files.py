"""The data directory's records (photos, archives, attachments) in a backup; caches that are
rebuilt from the database (the road network's arrays under ``roads/``) are left out."""

from __future__ import annotations

import shutil
from pathlib import Path

from firegrid.backup.errors import BackupError
from firegrid.backup.manifest import SavedFile, saved_file, sha256_of

CACHE_DIRS = frozenset({"roads"})
DATA_PREFIX = "data"


def record_files(data_dir: Path, skip: set[Path]) -> list[Path]:
    """Files under ``data_dir`` worth keeping: not caches, not the database files in ``skip``
    (resolved paths), not inside a directory in ``skip``."""
    if not data_dir.is_dir():
        return []
    found: list[Path] = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        relative = path.relative_to(data_dir)
        if relative.parts and relative.parts[0] in CACHE_DIRS:
            continue
        resolved = path.resolve()
        if any(resolved == s or resolved.is_relative_to(s) for s in skip):
            continue
        found.append(path)
    return found


def copy_out(data_dir: Path, files: list[Path], out_dir: Path) -> list[SavedFile]:
    saved: list[SavedFile] = []
    for path in files:
        target = out_dir / DATA_PREFIX / path.relative_to(data_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        saved.append(saved_file(out_dir, target))
    return saved


def copy_in(backup_dir: Path, files: list[SavedFile], data_dir: Path, *, replace: bool) -> int:
    """Copy the backup's data files into ``data_dir``; an existing different file is refused
    unless ``replace``. Returns the number of files written."""
    plan: list[tuple[Path, Path]] = []
    for item in files:
        relative = Path(item.path).relative_to(DATA_PREFIX)
        target = data_dir / relative
        if target.exists() and not replace and sha256_of(target) != item.sha256:
            raise BackupError(
                f"{target} exists and differs from the backup's copy",
                hint="restore into an empty data directory, or pass --force to replace",
            )
        plan.append((backup_dir / item.path, target))
    for source, target in plan:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return len(plan)
