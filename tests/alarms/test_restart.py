"""Kill ``firegrid alarms run`` with SIGKILL; restart two of them: every timer fires once,
on time, after the restart (short configured timeouts, bounded well under 30 s)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from firegrid.alarms.models import Alarm, AlarmNotification, AlarmTimer
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from firegrid.ingest.log_db import DatabaseEventLog
from tests.alarms.conftest import Site

RULES = """
policy:
  acknowledge_timeout_s: 2
  verify_timeout_s: {default: 5}
  night_occupied_verify_timeout_s: null
rules: []
"""


def _start(url: str, rules: Path, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FIREGRID_DATA_DIR": str(data_dir),
        "FIREGRID_LOG_LEVEL": "WARNING",
        "FIREGRID_ALARMS_FILE_CHANNELS": "",
    }
    code = "from firegrid.alarms.cli import alarms_app; alarms_app()"
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "run",
            "--db",
            url,
            "--rules",
            str(rules),
            "--timer-interval",
            "0.1",
        ],
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


def test_kill_and_restart(db: Database, site: Site, tmp_path: Path) -> None:
    rules = tmp_path / "short.yaml"
    rules.write_text(RULES)
    first = _start(db.url, rules, tmp_path)
    processes = [first]
    try:

        async def append() -> None:
            log = DatabaseEventLog(db)
            await log.start()
            await log.append_batch([site.ev(K.FIRE_ALARM, at=utcnow())])
            await log.close()

        asyncio.run(append())

        def alarm() -> Alarm | None:
            with db.session() as session:
                return session.scalars(select(Alarm)).first()

        opened = _wait(alarm, 15, "the alarm")
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        with db.session() as session:
            timers = session.scalars(select(AlarmTimer).order_by(AlarmTimer.due_at)).all()
            assert [t.kind for t in timers] == ["ack_escalation", "auto_forward"]
            forward_due = timers[-1].due_at
            assert forward_due - opened.first_received_at == timedelta(seconds=5)
        assert opened.escalation_level == "village"
        # dead while the timers fall due: nothing happens
        _wait(lambda: utcnow() > forward_due + timedelta(seconds=0.3), 10, "due time")
        current = alarm()
        assert current is not None
        assert current.status == "new"
        assert current.forwarded_at is None
        # restart two processes at once: each timer fires exactly once
        processes = [_start(db.url, rules, tmp_path), _start(db.url, rules, tmp_path)]

        def forwarded() -> Alarm | None:
            a = alarm()
            return a if a is not None and a.forwarded_at is not None else None

        done = _wait(forwarded, 20, "the auto-forward")
        assert done.status == "confirmed"
        assert done.forward_probable
        assert done.forwarded_at >= forward_due
        time.sleep(0.5)
        with db.session() as session:
            escalations = session.scalars(
                select(AlarmNotification.level).where(AlarmNotification.kind == "escalation")
            ).all()
            # both levels fell due while no process ran (2 s and 4 s): both caught up
            assert escalations == ["town", "city"]
            fired = session.scalars(select(AlarmTimer).where(AlarmTimer.fired_by != "cancelled"))
            for timer in fired:
                assert timer.fired_at is not None
                assert timer.fired_at >= timer.due_at
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
