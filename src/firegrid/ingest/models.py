"""Tables of the ingest context.

- ``device_events``: the embedded event log (one row per stored :class:`DeviceEvent`; the
  autoincrement id is the log offset, the unique ``event_id`` drops retransmissions).
- ``event_consumers``: the stored offset of each named consumer of the log.
- ``ingest_errors``: frames and payloads that could not be decoded (raw kept as hex).
- ``quarantine_devices`` / ``quarantined_messages``: well-formed messages from devices that
  are not in the registry; confirmed to the device, kept here, never admitted to the log.
- ``ingest_integrations``: HTTP push integrations and their HMAC secrets.
- ``ingest_push_signatures``: signatures of the signed HTTP pushes received (replay check).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from firegrid.core.clock import utcnow
from firegrid.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class DeviceEventRow(Base):
    """One stored device event. ``id`` is the offset consumers track."""

    __tablename__ = "device_events"
    # Only the indexes a read uses: each one is written for every event (migration 0035).
    __table_args__ = (Index("ix_device_events_device_occurred", "device_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    device_id: Mapped[int | None] = mapped_column(Integer)
    external_id: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(32))
    venue_id: Mapped[int | None] = mapped_column(Integer)
    jurisdiction_path: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    component: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw_ref: Mapped[str] = mapped_column(Text, default="")


class EventConsumer(Base):
    """The last offset a named consumer has processed (at-least-once delivery)."""

    __tablename__ = "event_consumers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    backend: Mapped[str] = mapped_column(String(16), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IngestError(Base):
    """Bytes or a payload that did not decode; kept for diagnosis, never an alarm."""

    __tablename__ = "ingest_errors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    protocol: Mapped[str] = mapped_column(String(32), index=True)
    peer: Mapped[str] = mapped_column(String(80), default="")
    external_id: Mapped[str | None] = mapped_column(String(64), default=None)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    raw_hex: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(index=True)


class QuarantineDevice(Base):
    """A device that sent well-formed messages but is not (yet) in the registry."""

    __tablename__ = "quarantine_devices"
    __table_args__ = (UniqueConstraint("protocol", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    message_count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_peer: Mapped[str] = mapped_column(String(80), default="")
    adopted_device_id: Mapped[int | None] = mapped_column(Integer, default=None)
    adopted_at: Mapped[datetime | None] = mapped_column(default=None)
    # After adoption the ingest process replays the quarantined messages into the event log
    # (see ``firegrid.ingest.replay``): up to this message id, when, and how many events.
    replayed_through_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    replayed_at: Mapped[datetime | None] = mapped_column(default=None)
    replayed_events: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class QuarantinedMessage(Base):
    """One message from an unknown device: the raw bytes (hex) and a decoded summary."""

    __tablename__ = "quarantined_messages"
    __table_args__ = (Index("ix_quarantined_messages_device", "protocol", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    protocol: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    raw_hex: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IngestIntegration(Base):
    """An HTTP push integration (an IoT carrier platform) and its HMAC secret.

    HMAC needs the secret itself, so it is stored as generated (never in the repository);
    protect the database like any other credential store.
    """

    __tablename__ = "ingest_integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    vendor: Mapped[str] = mapped_column(String(64), default="firegrid")
    secret: Mapped[str] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSignature(Base):
    """A signed HTTP push request already received (the replay check's durable memory).

    The primary key makes the check atomic across requests and ingest processes: of N
    identical signed requests exactly one inserts its row. Rows older than twice the replay
    window are deleted (a request that old is refused by its timestamp anyway).
    """

    __tablename__ = "ingest_push_signatures"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    integration: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
