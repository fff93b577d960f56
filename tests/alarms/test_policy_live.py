"""A policy edit made through the API takes effect in a RUNNING ``firegrid alarms run``
(a subprocess following the stored policy, no restart): the next alarm gets the new timers
and the timer loop escalates on them. Waits are bounded polls; nothing asserts wall time."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.alarms.models import Alarm, AlarmNotification, AlarmTimer
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.log_db import DatabaseEventLog
from tests.accounts.city import City, bearer, make_user, token_for
from tests.alarms.conftest import Site, make_site


def _start(url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FIREGRID_DATA_DIR": str(data_dir),
        "FIREGRID_LOG_LEVEL": "WARNING",
        "FIREGRID_ALARMS_FILE_CHANNELS": "",
    }
    code = "from firegrid.alarms.cli import alarms_app; alarms_app()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "run", "--db", url, "--timer-interval", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _raise(db: Database, site: Site) -> None:
    async def append() -> None:
        log = DatabaseEventLog(db)
        await log.start()
        await log.append_batch([site.ev(K.FIRE_ALARM, at=utcnow())])
        await log.close()

    asyncio.run(append())


def _alarm_of(db: Database, venue_id: int) -> Alarm | None:
    with db.session() as session:
        return session.scalars(select(Alarm).where(Alarm.venue_id == venue_id)).first()


def _ack_delay_s(db: Database, alarm: Alarm) -> float:
    with db.session() as session:
        timer = session.scalars(
            select(AlarmTimer).where(
                AlarmTimer.alarm_id == alarm.id, AlarmTimer.kind == "ack_escalation"
            )
        ).one()
        return (timer.due_at - alarm.first_received_at).total_seconds()


def test_api_edit_takes_effect_in_a_running_alarms_process(
    db: Database,
    settings: Settings,
    city: City,
    client: TestClient,
    site: Site,
    tmp_path: Path,
) -> None:
    supervisor = bearer(
        token_for(
            db, settings, make_user(db, "supervisor", "monitor_supervisor", city.code("city", "in"))
        )
    )
    other = make_site(db, city, "out")
    process = _start(db.url, tmp_path)
    try:
        # before the edit: the running process uses version 1 (acknowledge within 60 s)
        _raise(db, site)
        first = _wait(lambda: _alarm_of(db, site.venue_id), 20, "the first alarm")
        assert _ack_delay_s(db, first) == 60.0
        current = client.get("/api/v1/alarms/policy", headers=supervisor).json()
        document = current["document"]
        document["policy"]["acknowledge_timeout_s"] = 1
        stored = client.post(
            "/api/v1/alarms/policy/versions",
            json={"document": document, "cause": "drill", "base_version": current["version"]},
            headers=supervisor,
        )
        assert stored.status_code == 201, stored.text
        # after the edit, same process: the next alarm escalates after 1 s, then 2 s
        _raise(db, other)
        second = _wait(lambda: _alarm_of(db, other.venue_id), 20, "the second alarm")
        assert _ack_delay_s(db, second) == 1.0

        def escalated() -> list[str]:
            with db.session() as session:
                levels = session.scalars(
                    select(AlarmNotification.level)
                    .where(
                        AlarmNotification.alarm_id == second.id,
                        AlarmNotification.kind == "escalation",
                    )
                    .order_by(AlarmNotification.id)
                ).all()
            return list(levels) if len(levels) == 2 else []

        assert _wait(escalated, 20, "two escalations of the second alarm") == ["town", "city"]
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
