"""GET /metrics: Prometheus text with the process counters and the database gauges, for a
city-level holder of ops:metrics only; the ingest counters move when events are admitted."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from socket import socket

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.ops import metrics
from firegrid.ops.metrics import serve_metrics
from tests.helpers import bearer
from tests.places.minicity import build_minicity

CITY = "900000"
TOWN = "900000001"


def samples(body: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def test_a_city_level_scrape_reads_the_database_gauges(db: Database, settings: Settings) -> None:
    build_minicity(db)
    with db.engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO event_consumers (name, backend, "offset", updated_at) '
                "VALUES ('alarms', 'database', 0, CURRENT_TIMESTAMP)"
            )
        )
    admin = bearer(db, settings, "admin", CITY)
    with TestClient(create_app(settings, db)) as client:
        reply = client.get("/metrics", headers=admin)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"].startswith("text/plain")
        found = samples(reply.text)
        assert found["firegrid_database_up"] == 1.0
        assert found["firegrid_alarm_timers_due"] == 0.0
        assert found["firegrid_event_log_backlog{consumer=alarms}"] == 0.0
        assert "firegrid_ingest_append_seconds_count" in found

        town = client.get("/metrics", headers=bearer(db, settings, "integration", TOWN))
        assert town.status_code == 403
        assert client.get("/metrics").status_code == 401
        dispatcher = client.get("/metrics", headers=bearer(db, settings, "dispatcher", CITY))
        assert dispatcher.status_code == 403


def test_a_down_database_is_a_gauge_not_a_failed_scrape() -> None:
    down = Database("postgresql+psycopg://postgres@127.0.0.1:1/firegrid")
    collector = metrics.DatabaseCollector(
        down, event_stream="jetstream", nats_url="nats://127.0.0.1:1"
    )
    found = samples(metrics.render(collector).decode())
    assert found["firegrid_database_up"] == 0.0
    assert found["firegrid_nats_up"] == 0.0
    assert "firegrid_ingest_append_seconds_count" in found


def test_a_database_without_the_tables_still_scrapes(tmp_path: Path) -> None:
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    found = samples(
        metrics.render(
            metrics.DatabaseCollector(empty, event_stream="database", nats_url="nats://127.0.0.1:1")
        ).decode()
    )
    assert found["firegrid_database_up"] == 1.0
    assert not any(name.startswith("firegrid_alarms_open") for name in found)


def test_a_process_without_an_api_serves_metrics_on_its_listen_address(
    db: Database, settings: Settings
) -> None:
    with socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = samples(metrics.render(None).decode()).get(
        "firegrid_ingest_events_total{protocol=mqtt}", 0.0
    )
    metrics.INGEST_EVENTS.labels("mqtt").inc(3)
    serve_metrics(f"127.0.0.1:{port}", db, event_log="database", nats_url=settings.nats_url)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        found = samples(reply.read().decode())
    assert found["firegrid_ingest_events_total{protocol=mqtt}"] == before + 3
    assert found["firegrid_database_up"] == 1.0
