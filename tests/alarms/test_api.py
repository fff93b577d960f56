"""The monitoring centre over HTTP: verification, first confirmation wins, scope, admin."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.alarms.models import Alarm
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.ingest.events import EventKind as K
from tests.accounts.city import City
from tests.alarms.conftest import T0, Site, Users, feed_events, make_site

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _alarm_id(db: Database) -> int:
    with db.session() as session:
        return session.scalars(select(Alarm.id).order_by(Alarm.id.desc())).first()  # type: ignore[return-value]


def test_grid_worker_verifies_and_first_confirmation_wins(
    client: TestClient,
    db: Database,
    site: Site,
    correlator: Correlator,
    users: Users,
    settings: Settings,
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    alarm_id = _alarm_id(db)
    r = client.post(f"/api/v1/alarms/{alarm_id}/acknowledge", headers=users.operator)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged"
    r = client.post(
        f"/api/v1/alarms/{alarm_id}/calls",
        headers=users.operator,
        json={"outcome": "no_answer", "note": "nobody picks up"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["alarm"]["status"] == "verifying"
    assert r.json()["verification"]["decisive"] is False
    r = client.post(
        f"/api/v1/alarms/{alarm_id}/tasks",
        headers=users.operator,
        json={"note": "please check floor 2"},
    )
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["grid_worker_id"] is not None
    # the grid worker's phone page
    r = client.get("/api/v1/alarms/tasks", headers=users.worker)
    assert [t["id"] for t in r.json()["items"]] == [task["id"]]
    r = client.get(f"/api/v1/alarms/tasks/{task['id']}", headers=users.worker)
    assert r.status_code == 200
    assert r.json()["venue"]["venue"]["id"] == site.venue_id
    assert {d["kind"] for d in r.json()["venue"]["devices"]} >= {"smoke_alarm", "transmitter"}
    r = client.post(
        f"/api/v1/alarms/tasks/{task['id']}/result",
        headers=users.worker,
        data={"result": "fire", "note": "smoke on floor 2"},
        files={"photo": ("scene.png", PNG, "image/png")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verification"]["decisive"] is True
    photo = body["task"]["photo"]
    assert photo
    assert (settings.data_dir / photo).read_bytes() == PNG
    # a later, different verdict is recorded but changes nothing
    r = client.post(
        f"/api/v1/alarms/{alarm_id}/false", headers=users.operator, json={"reason": "cooking"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["verification"]["decisive"] is False
    detail = client.get(f"/api/v1/alarms/{alarm_id}", headers=users.operator).json()
    assert detail["status"] == "confirmed"
    assert detail["forwarded"] is True
    assert detail["forward"]["probable"] is False
    assert [v["decisive"] for v in detail["verifications"]] == [False, True, False]
    assert [(t["from"], t["to"]) for t in detail["transitions"]] == [
        ("new", "acknowledged"),
        ("acknowledged", "verifying"),
        ("verifying", "confirmed"),
    ]
    # the causes the lifecycle wrote, as text codes for the console (the note in its words)
    assert [(t["cause_code"], t["cause_params"]) for t in detail["transitions"]] == [
        ("alarm_cause.acknowledged", {"note": ""}),
        ("alarm_cause.calling_contact", {"note": ""}),
        (
            "alarm_cause.decided",
            {
                "method": "onsite",
                "actor": detail["transitions"][2]["actor"],
                "outcome": "fire",
                "reason": "",
                "note": "smoke on floor 2",
            },
        ),
    ]
    assert detail["events"][0]["kind"] == "fire_alarm"
    r = client.post(
        f"/api/v1/alarms/{alarm_id}/close", headers=users.operator, json={"note": "fire out"}
    )
    assert r.json()["status"] == "closed"
    r = client.post(f"/api/v1/alarms/{alarm_id}/acknowledge", headers=users.operator)
    assert r.status_code == 409
    assert "cannot become acknowledged" in r.json()["error"]["message"]
    assert r.json()["error"]["message_code"] == "alarm.transition_refused"
    assert r.json()["error"]["message_params"] == {
        "alarm_id": alarm_id,
        "from": "closed",
        "to": "acknowledged",
    }


def test_false_alarm_reason_and_forward_rules(
    client: TestClient, db: Database, site: Site, correlator: Correlator, users: Users
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    alarm_id = _alarm_id(db)
    r = client.post(
        f"/api/v1/alarms/{alarm_id}/false", headers=users.operator, json={"reason": "steam"}
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/alarms/{alarm_id}/false",
        headers=users.operator,
        json={"reason": "dust", "note": "renovation"},
    )
    assert r.json()["alarm"]["false_reason"] == "dust"
    r = client.post(f"/api/v1/alarms/{alarm_id}/forward", headers=users.operator)
    assert r.status_code == 409
    # confirm without forwarding, then forward by hand (a new alarm after the fold window)
    feed_events(db, correlator, site.ev(K.FIRE_ALARM, at=T0 + timedelta(minutes=10)))
    other = _alarm_id(db)
    assert other != alarm_id
    r = client.post(
        f"/api/v1/alarms/{other}/confirm", headers=users.operator, json={"forward": False}
    )
    assert r.json()["alarm"]["forwarded"] is False
    r = client.post(f"/api/v1/alarms/{other}/forward", headers=users.operator)
    assert r.status_code == 200
    assert r.json()["forwarded"] is True
    r = client.post(f"/api/v1/alarms/{other}/forward", headers=users.operator)
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/alarms/{id}"),
        ("get", "/api/v1/alarms/{id}/venue"),
        ("post", "/api/v1/alarms/{id}/acknowledge"),
        ("post", "/api/v1/alarms/{id}/verify"),
        ("post", "/api/v1/alarms/{id}/tasks"),
        ("post", "/api/v1/alarms/{id}/confirm"),
        ("post", "/api/v1/alarms/{id}/fault"),
        ("post", "/api/v1/alarms/{id}/forward"),
        ("post", "/api/v1/alarms/{id}/close"),
    ],
)
def test_outside_scope_is_not_found(
    client: TestClient,
    db: Database,
    site: Site,
    correlator: Correlator,
    users: Users,
    method: str,
    path: str,
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    alarm_id = _alarm_id(db)
    r = getattr(client, method)(path.format(id=alarm_id), headers=users.outsider)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "not_found"


def test_lists_are_scoped(
    client: TestClient, db: Database, city: City, site: Site, correlator: Correlator, users: Users
) -> None:
    outside = make_site(db, city, "out")
    feed_events(db, correlator, site.ev(K.FIRE_ALARM), outside.ev(K.FIRE_ALARM))
    mine = client.get("/api/v1/alarms", headers=users.operator).json()["items"]
    theirs = client.get("/api/v1/alarms", headers=users.outsider).json()["items"]
    assert [a["venue_id"] for a in mine] == [site.venue_id]
    assert [a["venue_id"] for a in theirs] == [outside.venue_id]
    admin = client.get("/api/v1/alarms", headers=users.admin).json()["items"]
    assert len(admin) == 2
    stats = client.get("/api/v1/alarms/stats", headers=users.operator).json()
    assert stats["alarms"] == 1
    assert client.get("/api/v1/alarms/tasks", headers=users.dispatcher).status_code == 403
    assert (
        client.post(
            f"/api/v1/alarms/{mine[0]['alarm_id']}/acknowledge", headers=users.dispatcher
        ).status_code
        == 403
    )
    assert client.get("/api/v1/alarms").status_code == 401


def test_rules_crud_and_windows(
    client: TestClient, db: Database, site: Site, correlator: Correlator, users: Users
) -> None:
    rules = client.get("/api/v1/alarms/rules", headers=users.operator).json()["items"]
    assert {r["source"] for r in rules} == {"default"}
    bad = {"name": "bad_one", "when": {"count": {"at_least": 0}}, "then": {"action": "confirm"}}
    r = client.put("/api/v1/alarms/rules/bad_one", headers=users.admin, json=bad)
    assert r.status_code == 422
    assert "rule 'bad_one'" in r.json()["error"]["message"]
    assert "when.count.at_least" in r.json()["error"]["message"]
    rule = {
        "name": "any_fire_confirms",
        "when": {"alarm_kinds": ["fire"]},
        "then": {"action": "confirm"},
    }
    assert (
        client.put(
            "/api/v1/alarms/rules/any_fire_confirms", headers=users.operator, json=rule
        ).status_code
        == 403
    )
    r = client.put("/api/v1/alarms/rules/any_fire_confirms", headers=users.admin, json=rule)
    assert r.status_code == 200, r.text
    correlator.invalidate_rules()
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    assert client.get(f"/api/v1/alarms/{_alarm_id(db)}", headers=users.operator).json()[
        "rule_hits"
    ] == ["any_fire_confirms"]
    assert (
        client.delete("/api/v1/alarms/rules/any_fire_confirms", headers=users.admin).status_code
        == 204
    )
    r = client.post(
        "/api/v1/alarms/maintenance-windows",
        headers=users.operator,
        json={
            "venue_id": site.venue_id,
            "starts_at": "2026-11-25T10:00:00+08:00",
            "ends_at": "2026-11-25T12:00:00+08:00",
            "reason": "test",
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/alarms/maintenance-windows",
        headers=users.operator,
        json={
            "venue_id": site.venue_id,
            "starts_at": "2026-11-25T10:00:00",
            "ends_at": "2026-11-25T12:00:00+08:00",
            "reason": "test",
        },
    )
    assert r.status_code == 422  # naive time refused
    windows = client.get("/api/v1/alarms/maintenance-windows", headers=users.operator).json()
    assert windows["count"] == 1
    assert (
        client.get("/api/v1/alarms/maintenance-windows", headers=users.outsider).json()["count"]
        == 0
    )


def test_photo_must_be_an_image(
    client: TestClient,
    db: Database,
    site: Site,
    correlator: Correlator,
    users: Users,
    tmp_path: Path,
) -> None:
    feed_events(db, correlator, site.ev(K.FIRE_ALARM))
    task = client.post(f"/api/v1/alarms/{_alarm_id(db)}/tasks", headers=users.operator).json()
    r = client.post(
        f"/api/v1/alarms/tasks/{task['id']}/result",
        headers=users.worker,
        data={"result": "false_alarm", "reason": "cooking"},
        files={"photo": ("x.exe", b"MZ", "application/octet-stream")},
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/alarms/tasks/{task['id']}/result",
        headers=users.worker,
        data={"result": "false_alarm", "reason": "cooking", "note": "hotpot"},
    )
    assert r.status_code == 200
    assert r.json()["verification"]["reason"] == "cooking"
