"""Grid events in: a hazard is created once however often its message arrives, updates
apply by their time (an older one after a newer one is never applied), a report becomes an
inspection task, and the link refuses what is unsigned, malformed or out of scope."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.accounts.principal import Principal
from firegrid.core.changes import DomainChange
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.gridlink.config import link_config
from firegrid.gridlink.inbound import Inbound, receive_event
from firegrid.gridlink.models import GridItem
from firegrid.inspections.models import Hazard
from firegrid.inspections.tasks import InspectionTask
from firegrid.links import signing
from firegrid.links.models import LinkInbox
from tests.accounts.city import City
from tests.gridlink.conftest import PEER_ID, hazard_event, link_key, post_event

pytestmark = pytest.mark.postgres


def _count(db: Database, model: type, *where: object) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_hazard_event_delivered_twice_creates_one_hazard(
    client: TestClient, db: Database, city: City, secret: bytes, key: str
) -> None:
    event = hazard_event(city, "GE-1", "2026-12-01T09:00:00+08:00")
    first = post_event(client, secret, key, event, message_id="m-1")
    assert first.status_code == 200, first.text
    again = post_event(client, secret, key, event, message_id="m-1")  # the same message again
    replay = post_event(client, secret, key, event, message_id="m-1-resent")  # new id, same state
    assert first.json()["outcome"] == "created"
    assert first.json()["duplicate"] is False
    assert again.json() == {**first.json(), "duplicate": True}
    assert replay.json()["outcome"] == "stale"
    hazard_id = first.json()["id"]
    assert _count(db, Hazard) == 1
    assert _count(db, GridItem) == 1
    with db.session() as session:
        hazard = session.get(Hazard, hazard_id)
        assert hazard is not None
        assert hazard.venue_id == city.id("venue", "in")
        assert hazard.category == "blocked_exit"
        assert hazard.status == "open"
        opened = session.scalars(
            select(DomainChange).where(
                DomainChange.kind == "hazard.changed", DomainChange.key == str(hazard_id)
            )
        ).all()
        assert len(opened) == 1  # recorded once on the change stream, with its actor
        assert "城管" in opened[0].actor


def test_reordered_updates_apply_by_time_never_backwards(
    client: TestClient, db: Database, city: City, secret: bytes, key: str
) -> None:
    created = post_event(client, secret, key, hazard_event(city, "GE-2", "2026-12-01T09:00:00Z"))
    hazard_id = created.json()["id"]
    rectified = hazard_event(
        city, "GE-2", "2026-12-01T11:00:00Z", status="rectified", note="exit cleared"
    )
    revised = hazard_event(
        city, "GE-2", "2026-12-01T10:00:00Z", description="exit blocked again", severity="major"
    )
    late = post_event(client, secret, key, rectified)  # the newest arrives first
    early = post_event(client, secret, key, revised)  # then the one before it
    assert late.json()["outcome"] == "updated"
    assert early.json()["outcome"] == "stale"
    with db.session() as session:
        hazard = session.get(Hazard, hazard_id)
        assert hazard is not None
        assert hazard.status == "rectified"
        assert hazard.evidence_note == "exit cleared"
        assert hazard.description == "fire exit blocked by goods"  # the stale one not applied
        item = session.scalars(select(GridItem)).one()
        assert item.updates_applied == 2
        assert item.last_update_at.isoformat().startswith("2026-12-01T11:00:00")


def test_an_update_revises_an_open_hazard(
    client: TestClient, db: Database, city: City, secret: bytes, key: str
) -> None:
    created = post_event(client, secret, key, hazard_event(city, "GE-3", "2026-12-01T09:00:00Z"))
    revised = post_event(
        client,
        secret,
        key,
        hazard_event(city, "GE-3", "2026-12-01T09:30:00Z", severity="major", description="worse"),
    )
    assert revised.json()["outcome"] == "updated"
    with db.session() as session:
        hazard = session.get(Hazard, created.json()["id"])
        assert hazard is not None
        assert hazard.severity == "major"
        assert hazard.description == "worse"


def test_a_fire_report_becomes_an_inspection_task_and_closes(
    client: TestClient, db: Database, city: City, secret: bytes, key: str
) -> None:
    report = {
        "schema": "firegrid.gridlink/1",
        "type": "grid_event",
        "event_id": "GR-1",
        "category": "report",
        "status": "open",
        "updated_at": "2026-12-01T09:00:00Z",
        "department": "综治",
        "grid_code": city.code("grid", "in"),
        "title": "居民反映楼道堆放杂物",
        "description": "stairwell full of cardboard",
    }
    opened = post_event(client, secret, key, report)
    assert opened.status_code == 200, opened.text
    assert opened.json()["kind"] == "task"
    closed = post_event(
        client, secret, key, {**report, "status": "closed", "updated_at": "2026-12-01T12:00:00Z"}
    )
    assert closed.json()["outcome"] == "updated"
    with db.session() as session:
        task = session.get(InspectionTask, opened.json()["id"])
        assert task is not None
        assert task.jurisdiction_path == city.paths["grid:in"]
        assert task.status == "done"
        assert task.source_ref == "GR-1"
        kinds = session.scalars(
            select(DomainChange.payload).where(DomainChange.kind == "task.changed")
        ).all()
        assert [k["status"] for k in kinds] == ["open", "done"]


def test_the_link_refuses_unsigned_malformed_and_out_of_scope_events(
    client: TestClient, db: Database, city: City, secret: bytes, key: str
) -> None:
    event = hazard_event(city, "GE-4", "2026-12-01T09:00:00Z")
    body = json.dumps(event).encode()
    unsigned = client.post(
        "/api/v1/gridlink/events",
        content=body,
        headers={"X-API-Key": key, signing.PEER_HEADER: PEER_ID},
    )
    assert unsigned.status_code == 401
    wrong = post_event(client, b"not the secret", key, event)
    assert wrong.status_code == 401
    naive = post_event(client, secret, key, {**event, "updated_at": "2026-12-01T09:00:00"})
    assert naive.status_code == 422
    assert "updated_at" in naive.text
    unknown = post_event(client, secret, key, {**event, "hazard_category": "no_such"})
    assert unknown.status_code == 422
    outside = post_event(client, secret, key, {**event, "venue_code": city.code("venue", "out")})
    assert outside.status_code == 422  # not in the key's town
    # a key of the other town sees the venue, but the peer does not serve that town
    out_key = link_key(db, city, "out")
    unserved = post_event(
        client, secret, out_key, {**event, "venue_code": city.code("venue", "out")}
    )
    assert unserved.status_code == 422
    assert "does not serve" in unserved.text
    assert _count(db, Hazard) == 0
    assert _count(db, LinkInbox) == 0  # nothing refused was claimed


def test_two_first_messages_of_one_event_at_once_create_one_hazard(
    db: Database, city: City, grid_settings: Settings
) -> None:
    """A's transaction creates the item and holds; B's first message of the same event
    (another message id) meets A's claim of the item, waits for A's commit and is answered
    stale instead of creating a second hazard or failing."""
    peer = link_config(grid_settings).peer(PEER_ID)
    assert peer is not None
    principal = Principal(
        "apikey:test", "grid link", "integration", city.paths["town:in"], city.code("town", "in")
    )
    event = hazard_event(city, "GE-RACE", "2026-12-01T09:00:00Z")
    answers: dict[str, dict[str, object]] = {}
    applied, release = threading.Event(), threading.Event()

    def first() -> None:
        with db.session() as session:
            answers["a"] = receive_event(session, principal, Inbound("gridlink", peer, "a"), event)
            applied.set()
            release.wait(20)

    def second() -> None:
        with db.session() as session:
            answers["b"] = receive_event(session, principal, Inbound("gridlink", peer, "b"), event)

    a = threading.Thread(target=first)
    a.start()
    assert applied.wait(20)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)  # B runs into A's uncommitted claim (PostgreSQL) or the write lock (SQLite)
    release.set()
    a.join(20)
    b.join(20)
    assert answers["a"]["outcome"] == "created"
    assert answers["b"]["outcome"] == "stale"
    assert _count(db, Hazard) == 1
    assert _count(db, GridItem) == 1
