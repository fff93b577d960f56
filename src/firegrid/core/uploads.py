"""Photos uploaded as evidence (on-site checks, rectified hazards), kept under the data dir."""

from __future__ import annotations

import secrets
from pathlib import Path

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode

PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def store_photo(data_dir: Path, area: str, prefix: str, content_type: str, content: bytes) -> str:
    """Save a photo under ``data_dir/area/photos``; returns its path relative to ``data_dir``.

    Refuses a type other than JPEG/PNG/WebP, an empty file and one over 10 MB, naming why.
    """
    suffix = PHOTO_TYPES.get(content_type)
    if suffix is None:
        raise ValidationFailed(
            f"photo must be one of {', '.join(PHOTO_TYPES)}",
            {"content_type": content_type},
            text=TextCode.VALIDATION_UNKNOWN_VALUE,
            params={"field": "content_type", "value": content_type, "allowed": PHOTO_TYPES},
        )
    if not content:
        raise ValidationFailed(
            "the photo is empty",
            {"field": "photo"},
            text=TextCode.VALIDATION_EMPTY,
            params={"field": "photo"},
        )
    if len(content) > MAX_PHOTO_BYTES:
        raise ValidationFailed(
            "the photo is larger than 10 MB",
            {"field": "photo"},
            text=TextCode.VALIDATION_TOO_LARGE,
            params={"field": "photo", "max_mb": 10},
        )
    relative = Path(area) / "photos" / f"{prefix}-{secrets.token_hex(8)}{suffix}"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return relative.as_posix()
