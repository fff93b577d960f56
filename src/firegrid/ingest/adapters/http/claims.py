"""The replay check of signed HTTP pushes, durable and atomic (blocking; run in a thread).

:func:`claim_signature` inserts the request's signature into ``ingest_push_signatures``;
the primary key lets exactly one of several identical requests (concurrent, or sent to
different ingest processes sharing the database) insert it. The others are replays. A
request whose batch could not be stored gives its claim back (:func:`release_signature`),
so the platform may retry it as is.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.ingest.models import PushSignature

from .codec import REPLAY_WINDOW_S

#: how often a process deletes the signatures too old to matter
CLEANUP_EVERY_S = 60.0
_last_cleanup: dict[str, float] = {}


def claim_signature(
    db: Database,
    integration: str,
    sig: str,
    signed_at: int,
    *,
    window_s: float = REPLAY_WINDOW_S,
) -> bool:
    """Record ``sig`` as received; False when it already was (a replay)."""
    now = utcnow()
    try:
        with db.engine.begin() as connection:
            connection.execute(
                insert(PushSignature).values(
                    signature=sig,
                    integration=integration,
                    signed_at=datetime.fromtimestamp(signed_at, UTC),
                    received_at=now,
                )
            )
    except IntegrityError:
        return False
    _cleanup(db, now, window_s)
    return True


def release_signature(db: Database, sig: str) -> None:
    """Forget ``sig`` (its batch was not stored: the same request may be sent again)."""
    with db.engine.begin() as connection:
        connection.execute(delete(PushSignature).where(PushSignature.signature == sig))


def _cleanup(db: Database, now: datetime, window_s: float) -> None:
    key = str(db.engine.url)
    tick = time.monotonic()
    if tick - _last_cleanup.get(key, float("-inf")) < CLEANUP_EVERY_S:
        return
    _last_cleanup[key] = tick
    horizon = now - timedelta(seconds=2 * window_s)
    with db.engine.begin() as connection:
        connection.execute(delete(PushSignature).where(PushSignature.signed_at < horizon))
