"""The 119 → 110 link under load: incident change → 110 peer acknowledgement, and the drain
of a backlog after an outage, on SQLite and PostgreSQL.

What runs, as in production:

- this process commits dispatch changes (a timeline step on an open incident through
  ``dispatch.timeline``, which writes the ``live_entries`` row in the same transaction);
- ``firegrid link110 run`` (a subprocess) relays the changes into the outbox and delivers
  them, signed, to
- ``firegrid link110 peer`` (a subprocess: the 110 centre simulator), which checks the
  signature, applies each message once and acknowledges it.

Figures:

1. latency at a steady rate (default 100 changes/s for 30 s, over 500 incidents): for every
   change, its timeline time (taken just before its commit) → the outbox row's ``acked_at``
   of the first acknowledged message of its incident carrying that change; p50/p99/max;
2. backlog drain: the peer is stopped, ``--backlog`` incidents change once each (the worker
   keeps running: it relays them and fails to send, backing off up to 30 s), the outage
   lasts ``--outage-s``, then the peer starts again: time until the backlog is 0.

The incidents are synthetic rows (no geography): only the link is measured. On a shared
machine (other processes' load) the figures vary; the load average is printed.

Usage::

    python bench/bench_link110.py                       # SQLite and PostgreSQL
    python bench/bench_link110.py --no-postgres --rate 100 --duration 30 --backlog 10000
    python bench/bench_link110.py --no-sqlite --outage-s 600      # the issue's 10-minute outage
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text

from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.dispatch import timeline
from firegrid.dispatch.incident_models import Incident
from firegrid.links.health import percentile
from firegrid.links.models import LinkOutbox

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PATH = "/441900/01/001/0001/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    name = f"fg_bench_link_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_reachable() -> bool:
    try:
        engine = create_engine(PG_ADMIN)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


def add_incidents(db: Database, count: int, first_id: int) -> list[int]:
    now = utcnow()
    rows = [
        {
            "id": first_id + i,
            "incident_type": "building_fire",
            "venue_category": "",
            "level": 1,
            "status": "created",
            "source": "call_119",
            "lon": 113.75 + (i % 100) * 0.001,
            "lat": 23.02 + (i // 100 % 100) * 0.001,
            "jurisdiction_path": PATH,
            "command_path": "/441900/01/",
            "command_level": "town",
            "address": f"synthetic incident {first_id + i}",
            "description": "",
            "call_count": 1,
            "call_received_at": now,
            "created_at": now,
            "last_call_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    with db.session() as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(Incident), rows[start : start + 1000])
    return [r["id"] for r in rows]


def change(db: Database, incident_id: int, n: int) -> datetime:
    """One dispatch change: a timeline step (its live entry written in the transaction)."""
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        at = utcnow()
        timeline.write(session, timeline.record(incident, "notified", at, "bench", f"change {n}"))
    return at


class Processes:
    """The worker and the peer simulator as subprocesses of this bench."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.port = free_port()
        peers = workdir / "peers110.yaml"
        peers.write_text(
            "link: link110\npeers:\n  - id: dg110\n    name: bench 110\n"
            f"    url: http://127.0.0.1:{self.port}/eido\n"
            "    secret_env: FIREGRID_BENCH_UNSET\n    towns: ['*']\n",
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            "FIREGRID_ENV": "development",
            "FIREGRID_DATABASE_URL": url,
            "FIREGRID_LINK110_PEERS": str(peers),
            "FIREGRID_LOG_LEVEL": "WARNING",
        }
        self.worker: subprocess.Popen[bytes] | None = None
        self.peer: subprocess.Popen[bytes] | None = None

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "firegrid.cli", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start_peer(self) -> None:
        self.peer = self._spawn(
            "link110",
            "peer",
            "--listen",
            f"127.0.0.1:{self.port}",
            "--target",
            "http://127.0.0.1:9",
        )
        deadline = time.monotonic() + 90
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            assert time.monotonic() < deadline, "the peer simulator did not start"
            time.sleep(0.05)

    def stop_peer(self) -> None:
        if self.peer is not None:
            self.peer.send_signal(signal.SIGTERM)
            self.peer.wait(20)
            self.peer = None

    def start_worker(self) -> None:
        self.worker = self._spawn("link110", "run", "--quiet")

    def stop(self) -> None:
        for process in (self.worker, self.peer):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()


def cpu_s(process: subprocess.Popen[bytes] | None) -> float:
    """User + system CPU seconds a subprocess has used so far (Linux /proc)."""
    if process is None:
        return 0.0
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pending(db: Database) -> int:
    with db.session() as session:
        return int(
            session.scalar(select(func.count(LinkOutbox.id)).where(LinkOutbox.status == "pending"))
            or 0
        )


def wait_until(condition: Any, timeout_s: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            raise SystemExit(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def latencies_ms(db: Database, changes: list[tuple[int, datetime]]) -> list[float]:
    """Per change: its time → the first acknowledgement of a message carrying it."""
    acks: dict[int, list[tuple[datetime, datetime]]] = {}
    with db.session() as session:
        for body, acked_at in session.execute(
            select(LinkOutbox.body, LinkOutbox.acked_at).where(LinkOutbox.status == "acked")
        ):
            document = json.loads(body)
            incident_id = int(document["incidentComponent"]["internalIncidentId"])
            carried = datetime.fromisoformat(document["lastUpdateTimeStamp"])
            acks.setdefault(incident_id, []).append((carried, acked_at))
    out = []
    for incident_id, at in changes:
        times = [acked for carried, acked in acks.get(incident_id, []) if carried >= at]
        if not times:
            raise SystemExit(f"change at {at} of incident {incident_id} never acknowledged")
        out.append((min(times) - at).total_seconds() * 1000.0)
    return out


def steady(
    db: Database, procs: Processes, rate: float, duration_s: float, writers: int
) -> dict[str, Any]:
    """Changes at ``rate`` for ``duration_s``, committed by ``writers`` threads (dispatchers
    working at once), each scheduled at its own time so a slow commit does not slow the rest."""
    ids = add_incidents(db, 500, 1)
    procs.start_peer()
    procs.start_worker()
    warm = [(ids[0], change(db, ids[0], -1))]  # the worker is up once this is acknowledged
    wait_until(lambda: _all_acked(db, warm), 180, "the worker to start")
    total = int(rate * duration_s)
    pending_changes: list[tuple[int, Future[datetime]]] = []
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="dispatcher") as pool:
        for n in range(total):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            incident_id = ids[n % len(ids)]
            pending_changes.append((incident_id, pool.submit(change, db, incident_id, n)))
        changes = [(incident_id, future.result()) for incident_id, future in pending_changes]
    achieved = total / (time.monotonic() - started)
    wait_until(lambda: pending(db) == 0 and _all_acked(db, changes), 300, "the last acks")
    values = latencies_ms(db, changes)
    return {
        "worker_cpu_s": round(cpu_s(procs.worker), 1),
        "peer_cpu_s": round(cpu_s(procs.peer), 1),
        "changes": total,
        "achieved_rate_per_s": round(achieved, 1),
        "p50_ms": round(percentile(values, 0.5) or 0, 1),
        "p99_ms": round(percentile(values, 0.99) or 0, 1),
        "max_ms": round(max(values), 1),
    }


def _all_acked(db: Database, changes: list[tuple[int, datetime]]) -> bool:
    try:
        latencies_ms(db, changes[-50:])
    except (SystemExit, KeyError):
        return False
    return True


def backlog_drain(db: Database, procs: Processes, count: int, outage_s: float) -> dict[str, Any]:
    procs.stop_peer()
    ids = add_incidents(db, count, 100_000)
    started = time.monotonic()
    with db.session() as session:  # the changes of the outage, committed in batches of 200
        now = utcnow()
        for start in range(0, len(ids), 200):
            for incident_id in ids[start : start + 200]:
                incident = session.get(Incident, incident_id)
                assert incident is not None
                timeline.write(
                    session, timeline.record(incident, "notified", now, "bench", "outage change")
                )
            session.commit()
    relayed = wait_until(lambda: pending(db) >= count, 300, "the relay to fill the outbox")
    rest = outage_s - (time.monotonic() - started)
    if rest > 0:
        time.sleep(rest)
    backlog = pending(db)
    procs.start_peer()
    worker_cpu = cpu_s(procs.worker)
    drain_started = time.monotonic()
    drained = wait_until(lambda: pending(db) == 0, 600, "the backlog to drain")
    worker_cpu = cpu_s(procs.worker) - worker_cpu
    return {
        "worker_cpu_ms_per_message": round(worker_cpu * 1000 / max(backlog, 1), 2),
        "peer_cpu_ms_per_message": round(cpu_s(procs.peer) * 1000 / max(backlog, 1), 2),
        "backlog": backlog,
        "outage_s": round(time.monotonic() - started - (time.monotonic() - drain_started), 1),
        "relay_s": round(relayed, 1),
        "drain_s": round(drained, 1),
        "drain_rate_per_s": round(backlog / drained, 1) if drained else None,
    }


def run(label: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    upgrade(url)
    db = Database(url)
    with tempfile.TemporaryDirectory(prefix="fg-bench-link-") as workdir:
        procs = Processes(url, Path(workdir))
        try:
            figures = {
                "database": label,
                "steady": steady(db, procs, args.rate, args.duration, args.writers),
            }
            figures["backlog"] = backlog_drain(db, procs, args.backlog, args.outage_s)
        finally:
            procs.stop()
            db.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument(
        "--writers", type=int, default=4, help="threads committing the changes (dispatchers)"
    )
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--outage-s", type=float, default=60.0)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    results = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="fg-bench-link-db-") as tmp:
            results.append(run("sqlite", f"sqlite:///{tmp}/link.db", args))
            print(json.dumps(results[-1]), flush=True)
    if not args.no_postgres and postgres_reachable():
        with postgres_url() as url:
            results.append(run("postgresql", url, args))
            print(json.dumps(results[-1]), flush=True)
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
