"""A lease per link, so exactly one worker relays and delivers.

The lease is a row (name, owner, expiry). :func:`acquire` takes it by compare-and-set: an
``UPDATE`` that succeeds only when the row is ours or expired, or an ``INSERT`` that
succeeds only when no row exists (the primary key refuses the second writer). The holder
renews it every round; if the holder dies, another worker takes it over once it expires.
Every take-over is logged with the previous owner.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.links.models import LinkLease

log = logging.getLogger(__name__)


def worker_identity() -> str:
    """A name for this worker that no other process shares: host, pid and a random tail."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(db: Database, name: str, owner: str, ttl_s: float) -> bool:
    """Take or renew lease ``name`` for ``owner`` for ``ttl_s`` seconds; whether we hold it."""
    now = utcnow()
    expires = now + timedelta(seconds=ttl_s)
    with db.session() as session:
        previous = session.get(LinkLease, name)
        previous_owner = previous.owner if previous is not None else None
        session.expunge_all()
        taken = session.execute(
            update(LinkLease)
            .where(
                LinkLease.name == name,
                or_(LinkLease.owner == owner, LinkLease.expires_at <= now),
            )
            .values(owner=owner, expires_at=expires, renewed_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            if previous_owner not in (None, owner):
                session.execute(
                    update(LinkLease).where(LinkLease.name == name).values(acquired_at=now)
                )
                log.warning(
                    "link lease taken over",
                    extra={"lease": name, "owner": owner, "previous": previous_owner},
                )
            return True
        if previous is not None:
            return False
    try:
        with db.session() as session:
            session.add(
                LinkLease(
                    name=name, owner=owner, expires_at=expires, acquired_at=now, renewed_at=now
                )
            )
    except IntegrityError:
        return False  # another worker inserted it first
    log.info("link lease acquired", extra={"lease": name, "owner": owner})
    return True


def release(db: Database, name: str, owner: str) -> None:
    """Give lease ``name`` up now (if ``owner`` holds it), so another worker need not wait."""
    with db.session() as session:
        session.execute(
            update(LinkLease)
            .where(LinkLease.name == name, LinkLease.owner == owner)
            .values(expires_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def holder(db: Database, name: str) -> str | None:
    """The owner of lease ``name`` while it is valid, else ``None``."""
    with db.session() as session:
        row = session.get(LinkLease, name)
        if row is None or row.expires_at <= utcnow():
            return None
        return row.owner
