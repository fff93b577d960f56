"""The backup manifest (``manifest.json``): what was saved, from which release and schema, and
the SHA-256 of every file, so a restore can prove the backup is whole before using it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, Field

from firegrid.backup.errors import BackupError
from firegrid.backup.stream import StreamPart

FORMAT: Final = "firegrid-backup/1"
MANIFEST_NAME = "manifest.json"


class SavedFile(BaseModel):
    path: str = Field(description="Path inside the backup directory (POSIX).")
    bytes: int
    sha256: str


class DatabasePart(BaseModel):
    backend: Literal["sqlite", "postgresql"]
    revisions: list[str] = Field(description="The database's Alembic revisions when saved.")
    file: SavedFile
    rows: dict[str, int] = Field(description="Row count per table when saved.")


class Manifest(BaseModel):
    format: Literal["firegrid-backup/1"] = "firegrid-backup/1"
    created_at: AwareDatetime
    firegrid_version: str
    database: DatabasePart
    data_files: list[SavedFile] = Field(default_factory=list)
    event_log: str = Field(description="The event log kind in force: database or jetstream.")
    event_stream: StreamPart | None = Field(
        None, description="The JetStream stream's settings and message range (jetstream log)."
    )
    event_stream_file: SavedFile | None = None
    notes: list[str] = Field(default_factory=list)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def saved_file(root: Path, path: Path) -> SavedFile:
    return SavedFile(
        path=path.relative_to(root).as_posix(), bytes=path.stat().st_size, sha256=sha256_of(path)
    )


def write_manifest(directory: Path, manifest: Manifest) -> Path:
    path = directory / MANIFEST_NAME
    path.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    return path


def read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise BackupError(
            f"{directory} holds no {MANIFEST_NAME}",
            hint="give the directory that `firegrid backup --out` wrote",
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is not readable JSON ({exc})") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise BackupError(
            f"{path} has format {found!r}, this release reads {FORMAT!r}",
            hint="restore it with the firegrid release that wrote it",
        )
    try:
        return Manifest.model_validate(raw)
    except ValueError as exc:
        raise BackupError(f"{path} is not a valid manifest: {exc}") from exc


def verify_files(directory: Path, files: list[SavedFile]) -> None:
    """Every listed file exists inside ``directory`` with its size and checksum."""
    root = directory.resolve()
    for item in files:
        path = (directory / item.path).resolve()
        if not path.is_relative_to(root):
            raise BackupError(f"manifest path {item.path!r} leaves the backup directory")
        if not path.is_file():
            raise BackupError(f"{item.path} is listed in the manifest but missing")
        if path.stat().st_size != item.bytes or sha256_of(path) != item.sha256:
            raise BackupError(
                f"{item.path} does not match its checksum in the manifest (damaged or edited)",
                hint="use an intact copy of the backup",
            )


def created_now(clock: datetime) -> datetime:
    if clock.tzinfo is None:
        raise ValueError("clock must be timezone-aware")
    return clock
