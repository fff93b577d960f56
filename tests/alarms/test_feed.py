"""The live feed over SSE: scoped, resumable with Last-Event-ID, live, with heartbeats."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI

from firegrid.alarms import feed
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from tests.accounts.city import City
from tests.alarms.conftest import Site, Users, feed_events, make_site
from tests.alarms.live import live_server, sse


def _publish(db: Database, correlator: Correlator, *events: object) -> None:
    feed_events(db, correlator, *events)  # type: ignore[arg-type]
    feed.notify()


def test_live_scoped_and_resumable(
    app: FastAPI, db: Database, city: City, site: Site, correlator: Correlator, users: Users
) -> None:
    outside = make_site(db, city, "out")
    _publish(db, correlator, site.ev(K.FIRE_ALARM))
    with live_server(app) as base:
        url = f"{base}/api/v1/alarms/feed"
        with sse(url, users.operator, after=0) as reader:
            first = reader.wait_for(lambda e: e["event"] == "alarm.new")
            assert first["data"]["venue_id"] == site.venue_id
            # live: a new alarm arrives promptly; the outside one never does
            _publish(db, correlator, outside.ev(K.FIRE_ALARM), site.ev(K.FAULT, "smoke"))
            live = reader.wait_for(lambda e: e["data"].get("kind") == "fault", timeout=5)
            assert live["data"]["device_id"] == site.smoke
            assert all(e["data"]["venue_id"] != outside.venue_id for e in reader.events)
            last_seen = live["id"]
        # while disconnected
        _publish(db, correlator, site.ev(K.FAULT, "sprinkler"), site.ev(K.OFFLINE, "transmitter"))
        with sse(url, {**users.operator, "Last-Event-ID": str(last_seen)}) as reader:
            reader.wait_for(lambda e: e["data"].get("device_id") == site.transmitter)
            ids = [e["id"] for e in reader.events]
            assert ids == sorted(ids)
            assert ids[0] > last_seen
            assert {e["data"].get("device_id") for e in reader.events} >= {
                site.sprinkler,
                site.transmitter,
            }
        # the outsider sees only its town
        with sse(url, users.outsider, after=0) as reader:
            reader.wait_for(lambda e: e["data"]["venue_id"] == outside.venue_id)
            assert all(e["data"]["venue_id"] == outside.venue_id for e in reader.events)


def test_heartbeat(app: FastAPI, users: Users, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed, "HEARTBEAT_S", 0.2)
    with live_server(app) as base, sse(f"{base}/api/v1/alarms/feed", users.operator) as reader:
        reader.wait_comment("heartbeat", timeout=5)


def test_feed_needs_a_caller(
    app: FastAPI, db: Database, site: Site, correlator: Correlator, users: Users
) -> None:
    from fastapi.testclient import TestClient

    _publish(db, correlator, site.ev(K.FIRE_ALARM))
    with TestClient(app) as client:
        assert client.get("/api/v1/alarms/feed").status_code == 401
        r = client.get("/api/v1/alarms/feed", headers={**users.operator, "Last-Event-ID": "x"})
        assert r.status_code == 422
        r = client.get("/api/v1/alarms/feed?after=0&max_events=1", headers=users.operator)
        assert r.status_code == 200
        assert r.text.startswith("retry:")


def test_once_stops_the_feed_when_caught_up(
    app: FastAPI, db: Database, site: Site, correlator: Correlator, users: Users
) -> None:
    """``once``: what is there after the position, then the stream ends (a script's read);
    without it the stream stays open (the other tests)."""
    from fastapi.testclient import TestClient

    _publish(db, correlator, site.ev(K.FIRE_ALARM))
    with TestClient(app) as client:
        r = client.get("/api/v1/alarms/feed?after=0&once=true", headers=users.operator)
        assert r.status_code == 200
        events = [line for line in r.text.splitlines() if line.startswith("event: ")]
        assert events, r.text
        assert events[0] == "event: alarm.new"
        r = client.get("/api/v1/alarms/feed?once=true", headers=users.operator)
        assert r.status_code == 200
        assert not [line for line in r.text.splitlines() if line.startswith("event: ")]


def test_sse_message_keeps_the_feed_id_and_moves_the_items_own_id() -> None:
    from datetime import UTC, datetime

    from firegrid.alarms.feed import FeedItem, format_event

    at = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    text = format_event(FeedItem(41, "task.new", at, {"id": 7, "status": "open", "type": "x"}))
    lines = dict(line.split(": ", 1) for line in text.strip().splitlines())
    assert lines["id"] == "41"
    assert lines["event"] == "task.new"
    body = json.loads(lines["data"])
    assert body["id"] == 41
    assert body["item_id"] == 7
    assert body["type"] == "task.new"
    assert body["status"] == "open"
