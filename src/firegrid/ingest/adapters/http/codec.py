"""HTTP push: request signatures and the replay window (pure; no I/O).

A platform pushes ``POST /api/v1/ingest/push/{integration}`` with a JSON batch (the
vendor's payload; ``{"events": [...]}`` for the native schema) and two headers:

- ``X-Firegrid-Timestamp``: Unix time in seconds when the request was signed;
- ``X-Firegrid-Signature``: hex HMAC-SHA256 of ``timestamp + "." + body`` with the
  integration's secret.

A request is refused (401) when the signature does not match, when the timestamp is more
than ``window_s`` (300 s) away from the server's clock, or when the same signature was
already received (a replay; the durable, atomic check is :mod:`.claims`).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from firegrid.core.errors import Unauthenticated
from firegrid.core.texts import TextCode

TIMESTAMP_HEADER = "X-Firegrid-Timestamp"
SIGNATURE_HEADER = "X-Firegrid-Signature"
REPLAY_WINDOW_S = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``timestamp + "." + body``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str | None,
    sig: str | None,
    body: bytes,
    *,
    now: float | None = None,
    window_s: float = REPLAY_WINDOW_S,
) -> tuple[str, int]:
    """Raise :class:`Unauthenticated` unless the request is signed and fresh; return the
    expected signature (lower-case hex) and the signing time (Unix seconds).

    Whether the signature was seen before is decided by :func:`.claims.claim_signature`.
    """
    now = time.time() if now is None else now
    if not timestamp or not sig:
        raise Unauthenticated(
            f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}",
            {"headers": [TIMESTAMP_HEADER, SIGNATURE_HEADER]},
            text=TextCode.SIGNATURE_MISSING,
            params={},
        )
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise Unauthenticated(
            f"{TIMESTAMP_HEADER} must be Unix seconds",
            text=TextCode.SIGNATURE_BAD_TIMESTAMP,
            params={},
        ) from None
    if abs(now - signed_at) > window_s:
        raise Unauthenticated(
            "the request timestamp is outside the replay window",
            {"window_s": window_s},
            text=TextCode.SIGNATURE_STALE,
            params={"window_s": window_s},
        )
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected, sig.strip().lower()):
        raise Unauthenticated(
            "the request signature does not match", text=TextCode.SIGNATURE_MISMATCH, params={}
        )
    return expected, signed_at
