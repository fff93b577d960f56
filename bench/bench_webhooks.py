"""Webhooks under a burst: ``--changes`` shared changes (synthetic ``venue.changed`` rows in
the change stream, committed in batches of 500) fanned out to ``--subscriptions`` city-wide
subscriptions, relayed into the outbox and delivered, signed, to a local subscriber
(``http.server`` on 127.0.0.1, answering 204), by the webhook worker in this process.

Figures: the relay (deliveries written per second), the drain (deliveries acknowledged per
second, from the first round to an empty backlog), and the change → acknowledgement delay
(p50/p99/max, from the change's ``occurred_at`` to the outbox row's ``acked_at``). Every
delivery is checked: one per (subscription, change), none twice.

The machine is shared: the load average is printed with the figures.

Usage::

    python bench/bench_webhooks.py                          # SQLite and PostgreSQL
    python bench/bench_webhooks.py --no-postgres --changes 2000 --subscriptions 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from firegrid.accounts.principal import system_principal
from firegrid.core.changes import DomainChange, record_change
from firegrid.core.db import Database
from firegrid.core.migrate import upgrade
from firegrid.core.settings import Settings
from firegrid.links.health import percentile
from firegrid.links.models import LinkOutbox
from firegrid.sharing.webhook_worker import WebhookWorker, relay_webhooks
from firegrid.sharing.webhooks import create_subscription

PG_ADMIN = os.environ.get(
    "FIREGRID_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class Subscriber:
    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    key = self.headers.get("X-Link-Message-Id", "")
                    outer.seen[key] = outer.seen.get(key, 0) + 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@contextlib.contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            yield url
        return
    name = f"firegrid_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(backend: str, changes: int, subscriptions: int) -> dict[str, Any]:
    with database(backend) as url:
        settings = Settings(env="test", database_url=url, webhook_max_attempts=8)
        db = Database(url)
        subscriber = Subscriber()
        try:
            with db.session() as session:
                for i in range(subscriptions):
                    create_subscription(
                        session,
                        system_principal("bench"),
                        settings,
                        name=f"bench {i}",
                        url=subscriber.url,
                        kinds=["venue"],
                    )
            for start in range(0, changes, 500):
                with db.session() as session:
                    for n in range(start, min(start + 500, changes)):
                        record_change(
                            session,
                            "venue.changed",
                            n + 1,
                            actor="bench",
                            cause="synthetic",
                            payload={"what": "updated"},
                            scope_path=f"/441900/4419000{n % 30:02d}/",
                        )
            expected = changes * subscriptions
            relay_s, drain_s = asyncio.run(_deliver(db, settings, expected))
            with db.session() as session:
                acked = session.scalar(
                    select(func.count(LinkOutbox.id)).where(LinkOutbox.status == "acked")
                )
                delays = _delays(session)
            twice = sum(1 for v in subscriber.seen.values() if v > 1)
            assert acked == expected, (acked, expected)
            assert len(subscriber.seen) == expected
            assert twice == 0
            return {
                "backend": backend,
                "changes": changes,
                "subscriptions": subscriptions,
                "deliveries": expected,
                "relay_s": round(relay_s, 2),
                "relay_per_s": round(expected / relay_s),
                "drain_s": round(drain_s, 2),
                "acked_per_s": round(expected / drain_s),
                "change_to_ack_p50_s": round(percentile(delays, 0.5) or 0, 2),
                "change_to_ack_p99_s": round(percentile(delays, 0.99) or 0, 2),
                "change_to_ack_max_s": round(max(delays), 2),
                "delivered_twice": twice,
            }
        finally:
            subscriber.server.shutdown()
            db.dispose()


async def _deliver(db: Database, settings: Settings, expected: int) -> tuple[float, float]:
    """Relay everything (rounds of the worker), then deliver until nothing is pending."""
    started = time.perf_counter()
    async with WebhookWorker(db, settings) as worker:
        worker.producers = [worker.producers[0]]  # the peers only: relay measured apart
        await worker.deliver_once()
        written = 0
        while written < expected:
            step = await asyncio.to_thread(relay_webhooks, db)
            assert step > 0, "the relay stalled"
            written += step
        relay_s = time.perf_counter() - started
        started = time.perf_counter()
        while True:
            result = await worker.deliver_once()
            if result.sent == 0:
                with db.session() as session:
                    left = session.scalar(
                        select(func.count(LinkOutbox.id)).where(LinkOutbox.status == "pending")
                    )
                if not left:
                    break
                await asyncio.sleep(0.01)
        return relay_s, time.perf_counter() - started


def _delays(session: Any) -> list[float]:
    """Seconds from each change to the acknowledgement of each of its deliveries."""
    occurred = dict(session.execute(select(DomainChange.id, DomainChange.occurred_at)).all())
    out = []
    for message_id, acked_at in session.execute(
        select(LinkOutbox.message_id, LinkOutbox.acked_at)
    ).all():
        change_id = int(message_id.rsplit("-", 1)[1])  # wh-<subscription>-<change>
        out.append((acked_at - occurred[change_id]).total_seconds())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--subscriptions", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(json.dumps({"load_average": os.getloadavg()}))
    backends = ["sqlite"] + ([] if args.no_postgres else ["postgres"])
    for backend in backends:
        print(json.dumps(run(backend, args.changes, args.subscriptions)), flush=True)
    print(json.dumps({"load_average": os.getloadavg()}))


if __name__ == "__main__":
    main()
