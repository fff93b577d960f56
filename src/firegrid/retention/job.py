"""The retention job: status per record kind, and archive-then-purge in bounded batches.

For each kind the job selects up to ``batch_rows`` rows older than the window and not held
(an open alarm keeps its history and its devices' events; an open incident its timeline;
an event a consumer has not read stays), writes them to a gzip JSONL file (fsynced), adds
the file to the run's manifest, deletes exactly those rows and commits — one transaction
per batch, so the job can run on a live system and a re-run only finds what is left.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy import inspect as sa_inspect

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode
from firegrid.retention.archive import Manifest, write_jsonl_gz
from firegrid.retention.config import RetentionConfig
from firegrid.retention.kinds import TABLE_KINDS, UPLOADS, TableKind
from firegrid.retention.models import RetentionRun

KINDS: tuple[str, ...] = (*TABLE_KINDS, UPLOADS)
UPLOAD_GLOB = "*/photos/*"


@dataclass(frozen=True)
class Place:
    """Where the job reads uploads from and writes archives to."""

    data_dir: Path
    archive_dir: Path


def _check_kinds(kinds: Sequence[str] | None) -> list[str]:
    if not kinds:
        return list(KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValidationFailed(
            f"unknown record kind {unknown[0]!r}; one of {', '.join(KINDS)}",
            {"kinds": unknown},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "kinds", "value": unknown, "allowed": KINDS},
        )
    return list(kinds)


def _has_table(database: Database, name: str) -> bool:
    return sa_inspect(database.engine).has_table(name)


def _last_run(database: Database, kind: str) -> dict[str, Any] | None:
    if not _has_table(database, RetentionRun.__tablename__):
        return None
    with database.session() as session:
        row = session.scalars(
            select(RetentionRun)
            .where(RetentionRun.kind == kind)
            .order_by(RetentionRun.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return run_dict(row)


def run_dict(row: RetentionRun) -> dict[str, Any]:
    return {
        "run_id": row.id,
        "started_at": row.started_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "status": row.status,
        "cutoff": row.cutoff.isoformat(),
        "rows": row.rows,
        "files": len(row.files or []),
        "manifest": row.manifest,
        "error": row.error or None,
    }


# -- status ---------------------------------------------------------------------------------


def _table_status(database: Database, kind: TableKind, cutoff: datetime) -> dict[str, Any]:
    table = kind.table()
    if table is None or not _has_table(database, kind.table_name):
        return {"available": False}
    age = table.c[kind.age_column]
    with database.session() as session:
        oldest = session.execute(select(func.min(age))).scalar()
        past = session.execute(
            select(func.count()).select_from(table).where(age < cutoff)
        ).scalar_one()
        purgeable = session.execute(
            select(func.count())
            .select_from(table)
            .where(and_(age < cutoff, kind.held(session, table)))
        ).scalar_one()
    return {
        "available": True,
        "oldest": oldest.isoformat() if oldest is not None else None,
        "rows_past_window": int(past),
        "rows_purgeable": int(purgeable),
        "rows_held_open": int(past) - int(purgeable),
    }


def _upload_files(data_dir: Path) -> list[tuple[Path, datetime]]:
    found = []
    for path in data_dir.glob(UPLOAD_GLOB):
        if path.is_file() and not path.name.endswith(".part"):
            found.append((path, datetime.fromtimestamp(path.stat().st_mtime, UTC)))
    return sorted(found, key=lambda p: (p[1], p[0].as_posix()))


def _uploads_status(data_dir: Path, cutoff: datetime) -> dict[str, Any]:
    files = _upload_files(data_dir)
    past = [p for p, at in files if at < cutoff]
    return {
        "available": True,
        "oldest": files[0][1].isoformat() if files else None,
        "rows_past_window": len(past),
        "rows_purgeable": len(past),
        "rows_held_open": 0,
    }


def retention_status(
    database: Database,
    config: RetentionConfig,
    place: Place,
    *,
    now: datetime | None = None,
    kinds: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Per kind: the window, the cutoff, the oldest record, how many are past the window
    (and how many of those are held because still open), and the last run."""
    now = now or utcnow()
    out: dict[str, Any] = {}
    for name in _check_kinds(kinds):
        window = config.kinds[name]
        cutoff = now - window.window
        if name == UPLOADS:
            facts = _uploads_status(place.data_dir, cutoff)
        else:
            facts = _table_status(database, TABLE_KINDS[name], cutoff)
        out[name] = {
            "keep_days": window.keep_days,
            "cutoff": cutoff.isoformat(),
            **facts,
            "last_run": _last_run(database, name),
        }
    return {"now": now.isoformat(), "archive_dir": str(place.archive_dir), "kinds": out}


# -- run ------------------------------------------------------------------------------------


def _start_run(database: Database, kind: str, cutoff: datetime, actor: str) -> int:
    with database.session() as session:
        row = RetentionRun(kind=kind, started_at=utcnow(), cutoff=cutoff, actor=actor[:120])
        session.add(row)
        session.flush()
        return row.id


def _finish_run(
    database: Database, run_id: int, rows: int, manifest: Manifest, error: str = ""
) -> dict[str, Any]:
    with database.session() as session:
        row = session.get(RetentionRun, run_id)
        assert row is not None
        row.finished_at = utcnow()
        row.rows = rows
        row.status = "failed" if error else "done"
        row.error = error[:300]
        row.manifest = str(manifest.path)
        row.files = [dict(f) for f in manifest.files if f["kind"] == row.kind]
        session.flush()
        return run_dict(row)


@dataclass
class Progress:
    rows: int = 0


def _purge_table(
    database: Database,
    kind: TableKind,
    cutoff: datetime,
    batch_rows: int,
    manifest: Manifest,
    directory: Path,
    stamp: str,
    progress: Progress,
) -> int:
    table = kind.table()
    if table is None or not _has_table(database, kind.table_name):
        return 0
    key = table.c[kind.key_column]
    age = table.c[kind.age_column]
    total = 0
    last_key: Any = None
    batch_no = 0
    while True:
        with database.session() as session:  # one transaction per batch
            query = select(table).where(age < cutoff, kind.held(session, table))
            if last_key is not None:
                query = query.where(key > last_key)
            rows = [
                dict(r) for r in session.execute(query.order_by(key).limit(batch_rows)).mappings()
            ]
            if not rows:
                return total
            batch_no += 1
            keys = [r[kind.key_column] for r in rows]
            times = [r[kind.age_column] for r in rows]
            path = directory / kind.name / f"{kind.name}-{stamp}-{batch_no:05d}.jsonl.gz"
            write_jsonl_gz(path, rows)  # archived (and fsynced) before anything is deleted
            try:
                result = session.execute(delete(table).where(key.in_(keys)))
                deleted = int(getattr(result, "rowcount", len(keys)))
                if deleted != len(keys):
                    raise RuntimeError(
                        f"{kind.name}: {deleted} rows deleted for {len(keys)} archived"
                    )
                manifest.add(
                    kind.name, path, len(rows), (min(times), max(times)), (keys[0], keys[-1])
                )
                session.commit()
            except BaseException:
                session.rollback()
                manifest.files = [f for f in manifest.files if f["file"] != path.name]
                manifest.save()
                path.unlink(missing_ok=True)
                raise
            total += len(rows)
            progress.rows = total
            last_key = keys[-1]


def _purge_uploads(
    data_dir: Path,
    cutoff: datetime,
    batch_rows: int,
    manifest: Manifest,
    directory: Path,
    stamp: str,
    progress: Progress,
) -> int:
    files = [(p, at) for p, at in _upload_files(data_dir) if at < cutoff]
    total = 0
    for batch_no, start in enumerate(range(0, len(files), batch_rows), start=1):
        chunk = files[start : start + batch_rows]
        rows = []
        for path, at in chunk:
            content = path.read_bytes()
            rows.append(
                {
                    "path": path.relative_to(data_dir).as_posix(),
                    "modified_at": at,
                    "bytes": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "content_base64": base64.b64encode(content).decode("ascii"),
                }
            )
        archive = directory / UPLOADS / f"{UPLOADS}-{stamp}-{batch_no:05d}.jsonl.gz"
        write_jsonl_gz(archive, rows)
        manifest.add(
            UPLOADS,
            archive,
            len(rows),
            (chunk[0][1], chunk[-1][1]),
            (rows[0]["path"], rows[-1]["path"]),
        )
        for path, _ in chunk:
            path.unlink()
        total += len(rows)
        progress.rows = total
    return total


def run_retention(
    database: Database,
    config: RetentionConfig,
    place: Place,
    *,
    now: datetime | None = None,
    kinds: Sequence[str] | None = None,
    actor: str = "system:retention",
) -> dict[str, Any]:
    """Archive then purge, kind by kind; returns per kind the rows purged and the run."""
    names = _check_kinds(kinds)
    now = now or utcnow()
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    place.archive_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(place.archive_dir, os.W_OK):
        raise ValidationFailed(
            f"the archive directory {place.archive_dir} is not writable: fix FIREGRID_ARCHIVE_DIR",
            {"archive_dir": str(place.archive_dir)},
            text=TextCode.FILE_NOT_WRITABLE,
            params={"file": str(place.archive_dir)},
        )
    manifest = Manifest(
        place.archive_dir / f"manifest-{stamp}.json",
        {"run": stamp, "now": now.isoformat(), "actor": actor, "format": "jsonl+gzip"},
    )
    manifest.save()
    out: dict[str, Any] = {}
    for name in names:
        cutoff = now - config.kinds[name].window
        run_id = _start_run(database, name, cutoff, actor)
        progress = Progress()
        try:
            if name == UPLOADS:
                rows = _purge_uploads(
                    place.data_dir,
                    cutoff,
                    config.batch_rows,
                    manifest,
                    place.archive_dir,
                    stamp,
                    progress,
                )
            else:
                rows = _purge_table(
                    database,
                    TABLE_KINDS[name],
                    cutoff,
                    config.batch_rows,
                    manifest,
                    place.archive_dir,
                    stamp,
                    progress,
                )
        except Exception as exc:
            _finish_run(database, run_id, progress.rows, manifest, f"{type(exc).__name__}: {exc}")
            raise
        out[name] = {
            "keep_days": config.kinds[name].keep_days,
            **_finish_run(database, run_id, rows, manifest),
        }
    return {"now": now.isoformat(), "manifest": str(manifest.path), "kinds": out}
