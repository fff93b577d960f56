"""Attachments of a plan: floor-plan images (PNG, JPEG, WebP) and PDFs.

The type is decided by the file's first bytes (its magic number), never by its name or the
client's content type; the stored name is generated (``<plan>/<random>.<ext>``), so no part
of a client's file name ever reaches the file system. Files live under
``data_dir/preplans/attachments``; reading one checks its resolved path stays there.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from firegrid.core.errors import NotFound, ValidationFailed
from firegrid.core.texts import TextCode

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
AREA = Path("preplans") / "attachments"
#: content type -> (magic prefix test, file suffix)
TYPES: dict[str, str] = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}


def sniff(content: bytes) -> str | None:
    """The content type the bytes really are (one of :data:`TYPES`), or ``None``."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    return None


@dataclass(frozen=True)
class StoredFile:
    content_type: str
    size_bytes: int
    sha256: str
    storage_path: str  # relative to the data directory, POSIX separators


def check(content: bytes, *, field: str = "file", max_bytes: int = MAX_ATTACHMENT_BYTES) -> str:
    """The sniffed content type of an acceptable attachment; refuses naming why."""
    if not content:
        raise ValidationFailed(
            "the attachment is empty",
            {"field": field},
            text=TextCode.VALIDATION_EMPTY,
            params={"field": field},
        )
    if len(content) > max_bytes:
        raise ValidationFailed(
            f"the attachment is larger than {max_bytes // (1024 * 1024)} MB",
            {"field": field, "size_bytes": len(content), "max_bytes": max_bytes},
            text=TextCode.VALIDATION_TOO_LARGE,
            params={"field": field, "max_mb": max_bytes // (1024 * 1024)},
        )
    kind = sniff(content)
    if kind is None:
        raise ValidationFailed(
            "an attachment must be a PNG, JPEG or WebP image or a PDF (checked by content)",
            {"field": field, "allowed": sorted(TYPES)},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": field, "value": "?", "allowed": "PNG, JPEG, WebP, PDF"},
        )
    return kind


def store(data_dir: Path, preplan_id: int, content: bytes) -> StoredFile:
    """Check and write an attachment; its description for the table."""
    kind = check(content)
    relative = AREA / str(int(preplan_id)) / f"{secrets.token_hex(12)}{TYPES[kind]}"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(content)
    tmp.replace(target)
    return StoredFile(kind, len(content), hashlib.sha256(content).hexdigest(), relative.as_posix())


def resolve(data_dir: Path, storage_path: str) -> Path:
    """The file of a stored attachment; refuses a path that leaves the attachments area."""
    root = (data_dir / AREA).resolve()
    path = (data_dir / storage_path).resolve()
    if not path.is_relative_to(root):
        raise ValidationFailed(
            "attachment path outside the attachments area",
            text=TextCode.FILE_OUTSIDE_AREA,
            params={},
        )
    if not path.is_file():
        raise NotFound(
            "attachment file missing",
            {"storage_path": storage_path},
            text=TextCode.ENTITY_NOT_FOUND,
            params={"kind": "attachment", "id": storage_path},
        )
    return path


def read(data_dir: Path, storage_path: str) -> bytes:
    return resolve(data_dir, storage_path).read_bytes()
