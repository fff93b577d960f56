"""HMAC-SHA256 over ``<timestamp>.<body>``, with a replay window.

Headers of a signed request (both directions):

* ``X-Link-Peer``: the sender's peer id (as the receiver knows it);
* ``X-Link-Message-Id``: the message's idempotency key;
* ``X-Link-Timestamp``: Unix seconds when signed;
* ``X-Link-Signature``: ``sha256=<hex of HMAC(secret, timestamp + "." + body)>``.

A receiver refuses a signature that does not match, and a timestamp farther than the
replay window from its clock; a replayed message inside the window is a duplicate, which
the inbox answers without applying it again.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from firegrid.core.errors import Unauthenticated
from firegrid.core.texts import TextCode

if TYPE_CHECKING:
    from firegrid.links.peers import LinkConfig, Peer

PEER_HEADER = "X-Link-Peer"
MESSAGE_HEADER = "X-Link-Message-Id"
TIMESTAMP_HEADER = "X-Link-Timestamp"
SIGNATURE_HEADER = "X-Link-Signature"
DEFAULT_WINDOW_S = 300.0


class SignatureError(Unauthenticated):
    code = "bad_signature"


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def signed_headers(
    secret: bytes, peer_id: str, message_id: str, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        PEER_HEADER: peer_id,
        MESSAGE_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def verify(
    secret: bytes,
    timestamp_text: str | None,
    signature: str | None,
    body: bytes,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    now: float | None = None,
) -> int:
    """The signed timestamp if the signature is good and fresh; :class:`SignatureError`."""
    if not timestamp_text or not signature:
        raise SignatureError(
            f"a signed request needs {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}",
            {"reason": "missing_signature"},
            text=TextCode.SIGNATURE_MISSING,
            params={},
        )
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} must be Unix seconds",
            {"reason": "bad_timestamp"},
            text=TextCode.SIGNATURE_BAD_TIMESTAMP,
            params={},
        ) from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > window_s:
        raise SignatureError(
            "the signature's timestamp lies outside the replay window",
            {"reason": "stale", "window_s": window_s},
            text=TextCode.SIGNATURE_STALE,
            params={"window_s": window_s},
        )
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise SignatureError(
            "the signature does not match the body",
            {"reason": "mismatch"},
            text=TextCode.SIGNATURE_MISMATCH,
            params={},
        )
    return timestamp


def verify_named_peer(
    config: LinkConfig,
    headers: Mapping[str, str],
    body: bytes,
    *,
    window_s: float = DEFAULT_WINDOW_S,
) -> Peer:
    """The configured peer a request names in :data:`PEER_HEADER`, once its signature over
    ``body`` is verified with that peer's secret; :class:`SignatureError` otherwise."""
    named = headers.get(PEER_HEADER) or ""
    peer = config.peer(named)
    if peer is None:
        raise SignatureError(
            f"a signed request must name a configured peer in {PEER_HEADER}",
            {"reason": "unknown_peer", "peer": named[:64]},
            text=TextCode.SIGNATURE_UNKNOWN_PEER,
            params={"peer": named[:64]},
        )
    verify(
        peer.secret,
        headers.get(TIMESTAMP_HEADER),
        headers.get(SIGNATURE_HEADER),
        body,
        window_s=window_s,
    )
    return peer
