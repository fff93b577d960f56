"""Opaque keyset cursors for list endpoints."""

from __future__ import annotations

import base64
import binascii

from firegrid.core.errors import ValidationFailed
from firegrid.core.texts import TextCode


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        kind, _, value = text.partition(":")
        if kind != "id":
            raise ValueError(kind)
        last_id = int(value)
        if not 0 <= last_id < 2**63:
            raise ValueError(value)
        return last_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            f"cursor {cursor!r} is not valid",
            {"cursor": cursor},
            text=TextCode.VALIDATION_BAD_CURSOR,
            params={"field": "cursor"},
        ) from None
