"""Statistics and notification channels (webhook with HMAC, file-backed e-mail and SMS)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import select

from firegrid.accounts.principal import system_principal
from firegrid.alarms.lifecycle import decide, transition
from firegrid.alarms.models import Alarm, AlarmNotification
from firegrid.alarms.notify import (
    SIGNATURE_HEADER,
    FileChannel,
    NotifySettings,
    WebhookChannel,
    channels_from_settings,
    deliver_pending,
    verify_signature,
)
from firegrid.alarms.rules import Policy
from firegrid.alarms.service import Correlator
from firegrid.alarms.states import AlarmStatus
from firegrid.alarms.stats import alarm_stats, percentile
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.ingest.events import EventKind as K
from tests.alarms.conftest import T0, FrozenClock, Site, feed_events


def test_percentile() -> None:
    assert percentile([], 0.5) is None
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile(list(range(11)), 0.9) == 9


def test_stats(
    db: Database, site: Site, correlator: Correlator, clock: FrozenClock, policy: Policy
) -> None:
    from datetime import timedelta

    for minute, (reason, ack_s) in enumerate([("cooking", 10), ("cooking", 20), ("", 30)]):
        clock.now = T0 + timedelta(hours=minute)
        feed_events(db, correlator, site.ev(K.FIRE_ALARM, "smoke", at=clock.now))
        with db.session() as session:
            alarm = session.scalars(select(Alarm).order_by(Alarm.id.desc())).first()
            assert alarm is not None
            transition(
                session,
                alarm,
                AlarmStatus.ACKNOWLEDGED,
                actor="op",
                cause="ack",
                now=clock.now + timedelta(seconds=ack_s),
            )
            decide(
                session,
                alarm,
                "false_alarm" if reason else "fire",
                method="operator",
                actor="op",
                now=clock.now + timedelta(seconds=2 * ack_s),
                policy=policy,
                reason=reason,
            )
    feed_events(db, correlator, *[site.ev(K.FAULT, "sprinkler") for _ in range(3)])
    with db.session() as session:
        stats = alarm_stats(session, system_principal())
    assert stats["alarms"] == 4
    assert stats["per_day"] == {"2026-11-25": {"fire": 3, "fault": 1}}
    rate = stats["false_alarm_rate"]
    assert rate["overall"] == {"false_alarms": 2, "decided": 3, "rate": 0.6667}
    assert rate["by_cause"] == {"cooking": 2}
    assert rate["by_venue_category"]["factory"]["rate"] == 0.6667
    assert rate["by_device_kind"]["smoke_alarm"] == {
        "false_alarms": 2,
        "decided": 3,
        "rate": 0.6667,
    }
    assert stats["time_to_acknowledge"] == {"count": 3, "median_s": 20.0, "p90_s": 28.0}
    assert stats["time_to_verify"]["median_s"] == 40.0
    top = stats["top_offending_devices"]
    assert top[0] == {"device_id": site.smoke, "false_alarms_and_faults": 2}
    assert {"device_id": site.sprinkler, "false_alarms_and_faults": 1} in top


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((body, self.headers[SIGNATURE_HEADER]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_and_file_channels(
    db: Database,
    site: Site,
    correlator: Correlator,
    clock: FrozenClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        config = NotifySettings(webhook_url=url, webhook_secret="s3cret", file_channels="email,sms")
        channels = channels_from_settings(settings, config)
        assert [c.name for c in channels] == ["email", "sms", "webhook"]
        feed_events(db, correlator, site.ev(K.FIRE_ALARM))
        assert deliver_pending(db, channels, clock) == 1
        assert deliver_pending(db, channels, clock) == 0
    finally:
        server.shutdown()
    (body, signature) = _Hook.received[-1]
    assert verify_signature(body, "s3cret", signature)
    assert not verify_signature(body, "wrong", signature)
    assert json.loads(body)["kind"] == "alarm"
    lines = (settings.data_dir / "notifications" / "sms.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["payload"]["venue"]
    with db.session() as session:
        assert session.scalars(select(AlarmNotification.status)).all() == ["sent"]
    # a failing channel is recorded on the row, not raised
    broken = WebhookChannel("http://127.0.0.1:9/none", "k", timeout_s=0.5)
    feed_events(db, correlator, site.ev(K.SUPERVISORY, "sprinkler", at=T0.replace(hour=9)))
    with db.session() as session:
        alarm = session.scalars(select(Alarm).order_by(Alarm.id.desc())).first()
        assert alarm is not None
    assert deliver_pending(db, [broken, FileChannel("email", tmp_path)], clock) >= 0
