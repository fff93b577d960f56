"""Archive files: gzip-compressed JSONL, one file per batch, and a manifest per run.

Each batch is written, flushed and fsynced before its rows are deleted, and the run's
manifest (kind, time range, key range, row count and SHA-256 of each file) is rewritten
atomically after every batch, so a run that stops half-way leaves a truthful manifest.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot archive a {type(value).__name__}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_jsonl_gz(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write ``rows`` to ``path`` (a new file) durably; returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".part")
    count = 0
    # the records hold personal data (callers' numbers, contacts): owner-only files
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            for row in rows:
                line = json.dumps(row, ensure_ascii=False, default=_default, sort_keys=True)
                gz.write(line.encode("utf-8") + b"\n")
                count += 1
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)
    return count


def read_jsonl_gz(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass
class Manifest:
    """The manifest of one run: what each archive file holds."""

    path: Path
    run: dict[str, Any]
    files: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        kind: str,
        file: Path,
        rows: int,
        time_range: tuple[Any, Any],
        key_range: tuple[Any, Any],
    ) -> dict[str, Any]:
        entry = {
            "kind": kind,
            "file": file.name,
            "rows": rows,
            "from": _default(time_range[0]) if time_range[0] is not None else None,
            "to": _default(time_range[1]) if time_range[1] is not None else None,
            "first_key": key_range[0],
            "last_key": key_range[1],
            "sha256": sha256_of(file),
            "bytes": file.stat().st_size,
        }
        self.files.append(entry)
        self.save()
        return entry

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".part")
        body = {**self.run, "files": self.files, "rows": sum(f["rows"] for f in self.files)}
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2, default=_default))
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
