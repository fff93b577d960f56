"""Prometheus metrics.

Two kinds:

* process counters and histograms, updated where the work happens (ingest: events admitted
  per protocol, heartbeats, quarantined messages, decode errors, and the time each append to
  the event log took before the device could be acknowledged);
* gauges read from the database at scrape time by :class:`DatabaseCollector` (database and
  NATS reachability, open alarms per kind, alarm timers due and pending, the event log's
  backlog per consumer, forwarded alarms dispatch has not taken yet). They are read-only SQL on
  the shared tables, each guarded so a missing table or a down database gives ``up 0``, never
  a failed scrape.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import bindparam, text

from firegrid.core.clock import utcnow
from firegrid.core.db import Database, UTCDateTime

PROCESS = CollectorRegistry(auto_describe=True)

INGEST_EVENTS = Counter(
    "firegrid_ingest_events_total",
    "Device events stored in the event log (acknowledged to the device after the append).",
    ["protocol"],
    registry=PROCESS,
)
INGEST_HEARTBEATS = Counter(
    "firegrid_ingest_heartbeats_total", "Heartbeats (state only, not logged).", registry=PROCESS
)
INGEST_QUARANTINED = Counter(
    "firegrid_ingest_quarantined_total",
    "Messages of unknown devices kept in quarantine.",
    registry=PROCESS,
)
INGEST_ERRORS = Counter(
    "firegrid_ingest_errors_total", "Messages that did not decode.", registry=PROCESS
)
INGEST_APPEND_SECONDS = Histogram(
    "firegrid_ingest_append_seconds",
    "Time of one append to the event log (the device waits for it before its acknowledgement).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=PROCESS,
)

PROBE_TIMEOUT_S = 0.5


def _scalar_rows(db: Database, sql: str, **params: Any) -> list[tuple[Any, ...]] | None:
    statement = text(sql)
    if "now" in params:
        statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
    try:
        with db.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement, params)]
    except Exception:  # noqa: BLE001 - a missing table or a down database is a gauge, not a 500
        return None


def _nats_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 4222), timeout=PROBE_TIMEOUT_S
        ):
            return True
    except OSError:
        return False


class DatabaseCollector(Collector):
    """Gauges read from the database (and a NATS probe) each time metrics are scraped."""

    def __init__(self, db: Database, *, event_stream: str, nats_url: str) -> None:
        self.db = db
        self.event_stream = event_stream
        self.nats_url = nats_url

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        up = _scalar_rows(self.db, "SELECT 1") is not None
        yield _gauge("firegrid_database_up", "1 when the database answers.", 1.0 if up else 0.0)
        if self.event_stream == "jetstream":
            reachable = _nats_reachable(self.nats_url)
            yield _gauge(
                "firegrid_nats_up",
                "1 when the NATS server accepts a connection.",
                1.0 if reachable else 0.0,
            )
        if not up:
            return
        open_alarms = GaugeMetricFamily(
            "firegrid_alarms_open", "Alarms not closed, per kind.", labels=["kind"]
        )
        for kind, count in (
            _scalar_rows(
                self.db, "SELECT kind, count(*) FROM alarms WHERE status <> 'closed' GROUP BY kind"
            )
            or []
        ):
            open_alarms.add_metric([str(kind)], float(count))
        yield open_alarms
        due = _scalar_rows(
            self.db,
            "SELECT count(*) FROM alarm_timers WHERE fired_at IS NULL AND due_at <= :now",
            now=utcnow(),
        )
        pending = _scalar_rows(self.db, "SELECT count(*) FROM alarm_timers WHERE fired_at IS NULL")
        if due is not None:
            yield _gauge(
                "firegrid_alarm_timers_due",
                "Timers past their due time, not fired.",
                float(due[0][0]),
            )
        if pending is not None:
            yield _gauge(
                "firegrid_alarm_timers_pending", "Timers not fired yet.", float(pending[0][0])
            )
        forwards = _scalar_rows(
            self.db, "SELECT count(*) FROM alarm_forwards WHERE consumed_at IS NULL"
        )
        if forwards is not None:
            yield _gauge(
                "firegrid_forwarding_outbox_backlog",
                "Alarms forwarded to dispatch and not yet taken as incidents.",
                float(forwards[0][0]),
            )
        if self.event_stream == "database":
            backlog = GaugeMetricFamily(
                "firegrid_event_log_backlog",
                "Events of the database log after a consumer's stored offset.",
                labels=["consumer"],
            )
            head = _scalar_rows(self.db, "SELECT coalesce(max(id), 0) FROM device_events")
            offsets = _scalar_rows(
                self.db, "SELECT name, \"offset\" FROM event_consumers WHERE backend = 'database'"
            )
            if head is not None and offsets is not None:
                for name, offset in offsets:
                    backlog.add_metric([str(name)], float(max(int(head[0][0]) - int(offset), 0)))
                yield backlog
        yield _gauge(
            "firegrid_metrics_scrape_seconds",
            "Time this scrape spent reading the database.",
            time.perf_counter() - started,
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def render(collector: DatabaseCollector | None) -> bytes:
    """The exposition text: this process's counters, then the database gauges."""
    body = generate_latest(PROCESS)
    if collector is not None:
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(collector)
        body += generate_latest(scrape)
    return body


def serve_metrics(listen: str, db: Database, *, event_log: str, nats_url: str) -> None:
    """Serve ``/metrics`` of this process on ``HOST:PORT`` (a daemon thread) when ``listen``
    is set; for the ingest and alarms processes, which have no HTTP API of their own."""
    if not listen:
        return
    host, _, port = listen.rpartition(":")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Process())
    registry.register(DatabaseCollector(db, event_stream=event_log, nats_url=nats_url))
    start_http_server(int(port), addr=host or "127.0.0.1", registry=registry)


class _Process(Collector):
    """This process's counters, for a registry that also holds the database gauges."""

    def collect(self) -> Iterator[Metric]:
        yield from PROCESS.collect()
