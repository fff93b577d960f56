"""GET /api/v1/live: an id on every message (the first too), resume from Last-Event-ID,
``reload`` beyond the replay bound, incidents and unit statuses written in the change's
transaction, and scope (a town-A seat never receives town B's events)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from firegrid.alarms import feed
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.incidents import set_vehicle_status
from firegrid.dispatch.intake import CallData, create_or_merge, receive_call
from firegrid.dispatch.models import Vehicle
from firegrid.ingest.events import EventKind as K
from firegrid.live import stream
from firegrid.live.models import LiveEntry
from tests.accounts.city import CENTRE, City, bearer, make_user, token_for
from tests.alarms.conftest import Site, Users, feed_events, make_site
from tests.alarms.live import live_server, sse

URL = "/api/v1/live"


def _publish(db: Database, correlator: Correlator, *events: Any) -> None:
    feed_events(db, correlator, *events)
    feed.notify()


def _incident(db: Database, city: City, side: str) -> int:
    """A building fire reported by a forwarded alarm in the ``side`` town."""
    lon, lat = CENTRE[side]
    with db.session() as session:
        data = CallData(
            source="alarm",
            lon=lon,
            lat=lat,
            jurisdiction_path=city.paths[f"grid:{side}"],
            incident_type="building_fire",
            description=f"test fire {side}",
        )
        call = receive_call(session, "test", data)
        result = create_or_merge(session, "test", call, incident_type="building_fire", level=1)
        assert result.incident is not None
        session.flush()
        return result.incident.id


def _move_unit(db: Database, city: City, side: str, status: str) -> int:
    with db.session() as session:
        vehicle = session.get(Vehicle, city.id("vehicle", side))
        assert vehicle is not None
        set_vehicle_status(session, "test", vehicle, status, cause="test")
        return vehicle.id


def _cursor(text: str) -> tuple[int, int]:
    feed_id, live_id = text.split("-")
    return int(feed_id), int(live_id)


def _read_once(client: Any, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """All messages of a ``once`` stream, parsed (the raw lines are checked too)."""
    import json

    response = client.get(URL, headers=headers, params={"once": "true", **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    messages = []
    for block in response.text.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        fields: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(": ")
            fields[name] = value
        assert "id" in fields, f"a message without an id: {block!r}"
        messages.append(
            {"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])}
        )
    return messages


def _header(db: Database, settings: Settings, city: City, name: str, role: str, side: str):
    return bearer(token_for(db, settings, make_user(db, name, role, city.code("town", side))))


def test_first_message_is_hello_with_the_current_position(
    client: Any, db: Database, site: Site, correlator: Correlator, users: Users
) -> None:
    _publish(db, correlator, site.ev(K.FIRE_ALARM))
    messages = _read_once(client, users.operator)
    assert messages[0]["event"] == "hello"
    feed_id, _ = _cursor(messages[0]["id"])
    with db.sessions() as session:
        assert feed_id == feed.last_id(session) >= 1
    assert messages[0]["data"]["position"] == messages[0]["id"]
    # from the start: every message has an id, and the ids only grow
    messages = _read_once(client, users.operator, after="0-0")
    assert [m["event"] for m in messages][:2] == ["hello", "alarm.new"]
    cursors = [_cursor(m["id"]) for m in messages]
    assert cursors == sorted(cursors)
    assert messages[1]["data"]["venue_id"] == site.venue_id


def test_resume_from_last_event_id_gets_exactly_what_was_missed(
    app: FastAPI, db: Database, site: Site, correlator: Correlator, users: Users
) -> None:
    with live_server(app) as base:
        with sse(base + URL, users.operator) as reader:
            hello = reader.wait_for(lambda e: e["event"] == "hello")
            _publish(db, correlator, site.ev(K.FIRE_ALARM))
            seen = reader.wait_for(lambda e: e["event"] == "alarm.new")
            assert _cursor(seen["id"]) > _cursor(hello["id"])
        # disconnected: five more alarms (five venues' worth of faults) are raised
        _publish(
            db,
            correlator,
            site.ev(K.FAULT, "smoke"),
            site.ev(K.FAULT, "sprinkler"),
            site.ev(K.OFFLINE, "transmitter"),
        )
        with sse(base + URL, {**users.operator, "Last-Event-ID": seen["id"]}) as reader:
            first = reader.wait_for(lambda e: e["event"] == "hello")
            assert first["id"] == seen["id"]  # resumed where it left off
            reader.wait_for(lambda e: e["data"].get("device_id") == site.transmitter)
            events = [e for e in reader.events if e["event"].startswith("alarm.")]
            assert {e["data"]["device_id"] for e in events} == {
                site.smoke,
                site.sprinkler,
                site.transmitter,
            }
            assert all(_cursor(e["id"]) > _cursor(seen["id"]) for e in events)
            assert not [e for e in events if e["data"]["alarm_id"] == seen["data"]["alarm_id"]]


def test_a_position_too_far_behind_or_unknown_gets_reload(
    client: Any,
    db: Database,
    site: Site,
    correlator: Correlator,
    users: Users,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for device in ("smoke", "sprinkler", "transmitter"):
        _publish(db, correlator, site.ev(K.FAULT, device))
    monkeypatch.setattr(stream, "REPLAY_LIMIT", 2)
    messages = _read_once(client, users.operator, after="0-0")
    assert messages[0]["event"] == "reload"
    assert messages[0]["data"]["reason"] == "behind"
    with db.sessions() as session:
        assert _cursor(messages[0]["id"]) == (feed.last_id(session), 0)
    assert not [m for m in messages if m["event"].startswith("alarm.")]  # nothing replayed
    # within the bound: replayed, no reload
    head_feed = _cursor(messages[0]["id"])[0]
    messages = _read_once(client, users.operator, after=f"{head_feed - 2}-0")
    assert messages[0]["event"] == "hello"
    assert len([m for m in messages if m["event"].startswith("alarm.")]) >= 1
    # a browser's Last-Event-ID from another database (ahead of every table): reload
    messages = _read_once(client, {**users.operator, "Last-Event-ID": "999999-999999"})
    assert messages[0]["event"] == "reload"
    assert messages[0]["data"]["reason"] == "unknown"
    # ... and one that is not a position at all: reload too (a browser would otherwise stop)
    messages = _read_once(client, {**users.operator, "Last-Event-ID": "17"})
    assert messages[0]["event"] == "reload"
    # an explicit ?after= that is not a position is the caller's error
    bad = client.get(URL, headers=users.operator, params={"after": "x", "once": "true"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_failed"


def test_incidents_and_units_are_written_in_the_change_transaction(
    client: Any, db: Database, settings: Settings, city: City, users: Users
) -> None:
    incident_id = _incident(db, city, "in")
    vehicle_id = _move_unit(db, city, "in", "out_of_service")
    with db.sessions() as session:
        entries = session.scalars(select(LiveEntry).order_by(LiveEntry.id)).all()
    assert [(e.type, e.payload.get("incident_id"), e.payload.get("unit_id")) for e in entries] == [
        ("incident.new", incident_id, None),
        ("unit.status", None, vehicle_id),
    ]
    assert entries[0].payload["source"] == "alarm"
    assert entries[1].payload["status"] == "out_of_service"

    # a rolled-back change writes nothing
    def change_then_fail() -> None:
        with db.session() as session:
            vehicle = session.get(Vehicle, vehicle_id)
            assert vehicle is not None
            set_vehicle_status(session, "test", vehicle, "available_in_station", cause="test")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LiveEntry)) == 2
    messages = _read_once(client, users.dispatcher, after="0-0")
    kinds = [
        (m["event"], m["data"].get("incident_id") or m["data"].get("unit_id")) for m in messages
    ]
    assert ("incident.new", incident_id) in kinds
    assert ("unit.status", vehicle_id) in kinds


def test_a_town_seat_never_receives_another_towns_events(
    client: Any,
    db: Database,
    settings: Settings,
    city: City,
    site: Site,
    correlator: Correlator,
    users: Users,
) -> None:
    outside = make_site(db, city, "out")
    _publish(db, correlator, site.ev(K.FIRE_ALARM), outside.ev(K.FIRE_ALARM))
    inside_incident = _incident(db, city, "in")
    outside_incident = _incident(db, city, "out")
    inside_unit = _move_unit(db, city, "in", "out_of_service")
    outside_unit = _move_unit(db, city, "out", "out_of_service")
    out_dispatcher = _header(db, settings, city, "dispatcher_out", "dispatcher", "out")

    def seen(headers: dict[str, str]) -> dict[str, set[int]]:
        found: dict[str, set[int]] = {"venue": set(), "incident": set(), "unit": set()}
        for m in _read_once(client, headers, after="0-0"):
            data = m["data"]
            if m["event"].startswith(("alarm.", "task.")):
                found["venue"].add(data["venue_id"])
            elif m["event"].startswith("incident."):
                found["incident"].add(data["incident_id"])
            elif m["event"].startswith("unit."):
                found["unit"].add(data["unit_id"])
        return found

    assert seen(users.dispatcher) == {
        "venue": {site.venue_id},
        "incident": {inside_incident},
        "unit": {inside_unit},
    }
    assert seen(out_dispatcher) == {
        "venue": {outside.venue_id},
        "incident": {outside_incident},
        "unit": {outside_unit},
    }
    # a grid worker reads alarms and tasks of its grid, never incidents or units
    assert seen(users.worker) == {"venue": {site.venue_id}, "incident": set(), "unit": set()}
    # the city sees everything
    assert seen(users.admin) == {
        "venue": {site.venue_id, outside.venue_id},
        "incident": {inside_incident, outside_incident},
        "unit": {inside_unit, outside_unit},
    }


def test_the_channel_needs_a_caller(client: Any) -> None:
    response = client.get(URL, params={"once": "true"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_the_alarm_feed_gives_a_position_before_any_event(
    client: Any, db: Database, site: Site, correlator: Correlator, users: Users
) -> None:
    """The old feed too: a quiet page must still have a Last-Event-ID to resume with."""
    _publish(db, correlator, site.ev(K.FIRE_ALARM))
    with db.sessions() as session:
        head = feed.last_id(session)
    response = client.get(
        "/api/v1/alarms/feed", headers=users.operator, params={"max_events": "1", "after": "0"}
    )
    blocks = [b for b in response.text.split("\n\n") if b]
    assert blocks[0].startswith("retry:")
    assert blocks[1] == "id: 0"  # the position it starts from, before any event
    assert blocks[2].startswith("id: ")
    # from now (no position given): the current end
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    with client.stream("GET", "/api/v1/alarms/feed", headers=users.operator) as stream_:
        lines = []
        for line in stream_.iter_lines():
            lines.append(line)
            if line.startswith("id:"):
                break
    assert lines[-1] == f"id: {head}"


def test_an_incident_is_seen_by_the_towns_asked_for_aid_and_by_no_one_else() -> None:
    from firegrid.live.stream import Reader

    town_b = Reader(scope_path="/c/b/", alarms=True, incidents=True)
    town_c = Reader(scope_path="/c/c/", alarms=True, incidents=True)
    no_incidents = Reader(scope_path="/c/", alarms=True, incidents=False)
    aid = ["/c/b/"]
    assert town_b.sees_entry("incident.updated", "/c/a/v/g/", aid)
    assert not town_c.sees_entry("incident.updated", "/c/a/v/g/", aid)
    assert not town_b.sees_entry("incident.updated", "/c/a/v/g/", [])
    assert not no_incidents.sees_entry("unit.status", "/c/a/", [])
    assert not town_b.sees_entry("alarm.new", "/c/b/", [])  # alarms come from the feed only
