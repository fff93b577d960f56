"""Notification channels: webhook (HMAC-signed), e-mail and SMS (file backend for the demo).

Notifications are rows of ``alarm_notifications`` written in the transaction of the change
that caused them (a new alarm, an escalation, a reminder). :func:`deliver_pending` sends
queued ones through every configured channel and records the outcome.

- :class:`WebhookChannel` POSTs the JSON body with ``X-Firegrid-Signature:
  sha256=<hex HMAC-SHA256 of the body with the shared secret>``.
- :class:`FileChannel` implements the e-mail and SMS interfaces by appending JSON lines to
  ``<data_dir>/notifications/<channel>.jsonl`` (the demo has no mail or SMS gateway).

Configuration (typed, from the environment): ``FIREGRID_ALARMS_WEBHOOK_URL``,
``FIREGRID_ALARMS_WEBHOOK_SECRET``, ``FIREGRID_ALARMS_FILE_CHANNELS`` (default
``email,sms``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy import select

from firegrid.alarms.lifecycle import Clock
from firegrid.alarms.models import AlarmNotification
from firegrid.alarms.settings import AlarmSettings
from firegrid.core.db import Database
from firegrid.core.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Firegrid-Signature"


#: The notification settings are the alarms context's settings (``FIREGRID_ALARMS_*``).
NotifySettings = AlarmSettings


class Channel(Protocol):
    name: str

    def send(self, message: dict[str, Any]) -> None: ...


def sign(body: bytes, secret: str) -> str:
    """The signature header value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: str, header: str) -> bool:
    return hmac.compare_digest(sign(body, secret), header)


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, secret: str, *, timeout_s: float = 2.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, ensure_ascii=False, sort_keys=True, default=str).encode()
        response = httpx.post(
            self.url,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self.secret)},
            timeout=self.timeout_s,
        )
        response.raise_for_status()


class FileChannel:
    """E-mail or SMS written as JSON lines (the demo backend of both interfaces)."""

    def __init__(self, name: str, directory: Path) -> None:
        self.name = name
        self.path = directory / f"{name}.jsonl"

    def send(self, message: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(
                json.dumps({"channel": self.name, **message}, ensure_ascii=False, default=str)
                + "\n"
            )


def channels_from_settings(
    settings: Settings, notify_settings: NotifySettings | None = None
) -> list[Channel]:
    config = notify_settings or NotifySettings()
    channels: list[Channel] = []
    for name in filter(None, (n.strip() for n in config.file_channels.split(","))):
        channels.append(FileChannel(name, settings.data_dir / "notifications"))
    if config.webhook_url:
        channels.append(
            WebhookChannel(config.webhook_url, config.webhook_secret.get_secret_value())
        )
    return channels


def message_of(row: AlarmNotification) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "alarm_id": row.alarm_id,
        "work_order_id": row.work_order_id,
        "level": row.level,
        "target_path": row.target_path,
        "at": row.at.isoformat(),
        "payload": row.payload,
    }


def deliver_pending(
    db: Database, channels: list[Channel], clock: Clock, *, limit: int = 200
) -> int:
    """Send queued notifications through every channel; returns how many were handled."""
    with db.session() as session:
        rows = session.scalars(
            select(AlarmNotification)
            .where(AlarmNotification.status == "queued")
            .order_by(AlarmNotification.id)
            .limit(limit)
        ).all()
        for row in rows:
            failures = []
            for channel in channels:
                try:
                    channel.send(message_of(row))
                except Exception as exc:  # noqa: BLE001 - recorded on the row
                    failures.append(f"{channel.name}: {type(exc).__name__}")
            row.status = "failed" if failures else "sent"
            row.channel = ",".join(c.name for c in channels)[:16]
            if failures:
                row.payload = {**row.payload, "errors": failures, "tried_at": _iso(clock())}
        return len(rows)


def _iso(value: datetime) -> str:
    return value.isoformat()
