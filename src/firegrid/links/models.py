"""Tables of the peer links: outbox, inbox, cursors, per-peer figures and alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class LinkOutbox(Base):
    """One message to a peer, written in the transaction of the change it reports.

    ``message_id`` is the idempotency key the peer dedupes by; ``order_key`` (e.g.
    ``incident:42``) orders delivery: a message is sent only once every earlier message of
    its key is acknowledged or dead. ``status``: pending → acked, or → dead (refused by the
    peer, or retried past the limit) until an operator retries it.
    """

    __tablename__ = "link_outbox"
    __table_args__ = (
        Index("ix_link_outbox_pending", "link", "status", "peer", "order_key", "id"),
        UniqueConstraint("message_id", name="uq_link_outbox_message_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    link: Mapped[str] = mapped_column(String(32))
    peer: Mapped[str] = mapped_column(String(64))
    order_key: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    acked_at: Mapped[datetime | None] = mapped_column(default=None)
    round_trip_ms: Mapped[float | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(String(300), default="")


class LinkInbox(Base):
    """A message received from a peer, by the peer's message id: the row is inserted in the
    transaction that applies the message, so a message is applied at most once; ``result``
    is the answer given, repeated to a duplicate."""

    __tablename__ = "link_inbox"

    link: Mapped[str] = mapped_column(String(32), primary_key=True)
    peer: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32), default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class LinkCursor(Base):
    """How far a reader has read an append-only table (e.g. ``live_entries``)."""

    __tablename__ = "link_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkPeerStats(Base):
    """Running figures of one peer of one link (the backlog is counted from the outbox)."""

    __tablename__ = "link_peer_stats"

    link: Mapped[str] = mapped_column(String(32), primary_key=True)
    peer: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent: Mapped[int] = mapped_column(default=0)
    acked: Mapped[int] = mapped_column(default=0)
    retries: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    dead: Mapped[int] = mapped_column(default=0)
    last_ack_at: Mapped[datetime | None] = mapped_column(default=None)
    last_failure_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(String(300), default="")


class LinkAlert(Base):
    """A link alert: a peer left a message unacknowledged past the timeout. Raised and
    cleared by the delivery worker, with the time and cause of each."""

    __tablename__ = "link_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    link: Mapped[str] = mapped_column(String(32), index=True)
    peer: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), default="ack_timeout")
    raised_at: Mapped[datetime]
    cause: Mapped[str] = mapped_column(String(300), default="")
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)
    cleared_cause: Mapped[str] = mapped_column(String(300), default="")


class LinkLease(Base):
    """Who may work a link: one row per link, held by ``owner`` until ``expires_at``.

    Taken and renewed by compare-and-set (:mod:`firegrid.links.lease`), so of several
    workers started for one link exactly one relays and delivers; another takes over once
    the holder stops renewing."""

    __tablename__ = "link_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    renewed_at: Mapped[datetime] = mapped_column(default=utcnow)
