"""The sender killed -9 between commit and send, and again between send and the recorded
acknowledgement: after a restart every change is delivered and none applied twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.interop.peer_sim import PeerSimulator
from firegrid.links.models import LinkOutbox
from tests.dispatch.city import DCity
from tests.interop.conftest import PeerServer, backlog, drain, open_incident
from tests.interop.test_link_faults import assert_delivered_once_in_order

ROOT = Path(__file__).resolve().parents[2]


def start_worker(database_url: str, settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "FIREGRID_ENV": "test",
        "FIREGRID_DATABASE_URL": database_url,
        "FIREGRID_LINK110_PEERS": str(settings.link110_peers),
        "FIREGRID_LINK_RETRY_BASE_S": "0.05",
        "FIREGRID_LINK_RETRY_MAX_S": "0.3",
        "FIREGRID_LINK_SEND_TIMEOUT_S": "3",
        "FIREGRID_LINK_ACK_TIMEOUT_S": "1",
        # a killed worker keeps the lease until it expires; the next one waits that long
        "FIREGRID_LINK_LEASE_TTL_S": "1",
        "FIREGRID_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "firegrid.cli", "link110", "run", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def kill9(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def outbox_count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count(LinkOutbox.id))) or 0)


def test_killed_between_commit_and_send_then_between_send_and_ack(
    db: Database,
    database_url: str,
    dcity: DCity,
    link_settings: Settings,
    sim: PeerSimulator,
    peer: PeerServer,
):
    ids = [open_incident(db, dcity, i) for i in range(8)]
    # 1. the peer is down: the worker commits the messages, cannot send, and is killed
    worker = start_worker(database_url, link_settings)
    try:
        wait_for(lambda: outbox_count(db) == len(ids), "the relay to write the outbox")
    finally:
        kill9(worker)
    assert backlog(db) == len(ids)
    assert sim.state.received == 0
    # 2. the peer is up but acknowledges late: killed after sending, before recording
    sim.faults.delay_ms = 2000
    peer.start()
    worker = start_worker(database_url, link_settings)
    try:
        wait_for(lambda: sim.state.applied >= 1, "the peer to receive a message")
    finally:
        kill9(worker)
    applied_before_restart = sim.state.applied
    assert applied_before_restart >= 1
    assert backlog(db) == len(ids)  # nothing recorded as acknowledged
    # 3. restart with a prompt peer: everything delivered, nothing applied twice
    sim.faults.delay_ms = 0
    drain(db, link_settings)
    assert sim.state.duplicates >= applied_before_restart
    assert_delivered_once_in_order(sim, db)
    assert len(sim.state.incidents) == len(ids)
