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

import psutil
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


#: a generous bound for a process to start and do what is waited for: on a loaded machine
#: starting two interpreters took longer than the 20 s this test used to allow
STARTUP_BOUND_S = 120.0


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _wait_running(processes: list[subprocess.Popen[bytes]], *, cpu_s: float) -> None:
    """Wait until each process has run ``cpu_s`` more CPU seconds (its timer passes and
    polls, every 0.1 s when idle): whatever either would do twice has had its chance."""
    watched = [psutil.Process(p.pid) for p in processes]
    start = [_cpu_s(p) for p in watched]
    _wait(
        lambda: all(_cpu_s(p) - s >= cpu_s for p, s in zip(watched, start, strict=True)),
        STARTUP_BOUND_S,
        "both processes to run",
    )


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

        opened = _wait(alarm, STARTUP_BOUND_S, "the alarm")
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

        done = _wait(forwarded, STARTUP_BOUND_S, "the auto-forward")
        assert done.status == "confirmed"
        assert done.forward_probable
        assert done.forwarded_at >= forward_due

        def escalations() -> list[str]:
            with db.session() as session:
                return list(
                    session.scalars(
                        select(AlarmNotification.level)
                        .where(AlarmNotification.kind == "escalation")
                        .order_by(AlarmNotification.id)
                    )
                )

        # both levels fell due while no process ran (2 s and 4 s): both caught up ...
        _wait(lambda: len(escalations()) >= 2, STARTUP_BOUND_S, "both escalations")
        # ... once each, however many passes both processes make meanwhile
        _wait_running(processes, cpu_s=0.1)
        assert escalations() == ["town", "city"]
        with db.session() as session:
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
