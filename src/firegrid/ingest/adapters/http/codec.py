"""HTTP push: request signatures and replay protection (pure; no I/O).

A platform pushes ``POST /api/v1/ingest/push/{integration}`` with a JSON batch (the
vendor's payload; ``{"events": [...]}`` for the native schema) and two headers:

- ``X-Firegrid-Timestamp``: Unix time in seconds when the request was signed;
- ``X-Firegrid-Signature``: hex HMAC-SHA256 of ``timestamp + "." + body`` with the
  integration's secret.

A request is refused (401) when the signature does not match, when the timestamp is more
than ``window_s`` (300 s) away from the server's clock, or when the same signature was
already accepted within the window (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict

from firegrid.core.errors import Unauthenticated

TIMESTAMP_HEADER = "X-Firegrid-Timestamp"
SIGNATURE_HEADER = "X-Firegrid-Signature"
REPLAY_WINDOW_S = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``timestamp + "." + body``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class ReplayGuard:
    """Remembers accepted signatures for the replay window (bounded memory)."""

    def __init__(self, window_s: float = REPLAY_WINDOW_S, max_entries: int = 1_000_000) -> None:
        self.window_s = window_s
        self.max_entries = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()

    def _expire(self, now: float) -> None:
        horizon = now - 2 * self.window_s
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if oldest >= horizon and len(self._seen) <= self.max_entries:
                break
            self._seen.popitem(last=False)

    def seen(self, sig: str, now: float) -> bool:
        self._expire(now)
        return sig in self._seen

    def remember(self, sig: str, now: float) -> None:
        self._seen[sig] = now


def verify(
    secret: str,
    timestamp: str | None,
    sig: str | None,
    body: bytes,
    guard: ReplayGuard,
    *,
    now: float | None = None,
) -> None:
    """Raise :class:`Unauthenticated` unless the request is signed, fresh and not replayed.

    The signature is only remembered by :meth:`ReplayGuard.remember` once the batch is
    stored, so a request that failed for another reason may be retried as is.
    """
    now = time.time() if now is None else now
    if not timestamp or not sig:
        raise Unauthenticated(
            f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}",
            {"headers": [TIMESTAMP_HEADER, SIGNATURE_HEADER]},
        )
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise Unauthenticated(f"{TIMESTAMP_HEADER} must be Unix seconds") from None
    if abs(now - signed_at) > guard.window_s:
        raise Unauthenticated(
            "the request timestamp is outside the replay window",
            {"window_s": guard.window_s},
        )
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected, sig.strip().lower()):
        raise Unauthenticated("the request signature does not match")
    if guard.seen(expected, now):
        raise Unauthenticated("this signed request was already accepted (replay)")
