"""The alarm list's tools over HTTP: bulk acknowledgement of faults and CSV export."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from firegrid.alarms.models import Alarm
from firegrid.alarms.service import Correlator
from firegrid.core.db import Database
from firegrid.ingest.events import EventKind as K
from tests.accounts.city import City
from tests.alarms.conftest import Site, Users, feed_events, make_site


def _ids_by_kind(db: Database) -> dict[str, list[int]]:
    with db.session() as session:
        rows = session.execute(select(Alarm.id, Alarm.kind, Alarm.jurisdiction_path)).all()
    out: dict[str, list[int]] = {}
    for alarm_id, kind, _path in rows:
        out.setdefault(kind, []).append(alarm_id)
    return out


def test_bulk_acknowledge_takes_only_new_faults_in_scope_with_one_result_each(
    client: TestClient, db: Database, site: Site, city: City, correlator: Correlator, users: Users
) -> None:
    outside = make_site(db, city, "out")
    feed_events(
        db,
        correlator,
        site.ev(K.FAULT, device="transmitter"),
        site.ev(K.FAULT, device="sprinkler"),
        site.ev(K.FIRE_ALARM, device="smoke"),
        outside.ev(K.FAULT, device="transmitter"),
    )
    with db.session() as session:
        alarms = session.scalars(select(Alarm).order_by(Alarm.id)).all()
        inside_faults = [
            a.id for a in alarms if a.kind == "fault" and a.jurisdiction_path == site.path
        ]
        outside_fault = next(a.id for a in alarms if a.jurisdiction_path == outside.path)
        fire = next(a.id for a in alarms if a.kind == "fire")
    assert len(inside_faults) == 2
    ids = [*inside_faults, fire, outside_fault, 987654]
    r = client.post(
        "/api/v1/alarms/bulk-acknowledge", headers=users.operator, json={"alarm_ids": ids}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["acknowledged"] == 2
    assert [(x["alarm_id"], x["result"]) for x in body["results"]] == [
        (inside_faults[0], "acknowledged"),
        (inside_faults[1], "acknowledged"),
        (fire, "not_fault"),
        (outside_fault, "not_found"),  # outside the jurisdiction: same answer as unknown
        (987654, "not_found"),
    ]
    # every change is recorded with actor and cause; the fire and the outside fault are untouched
    detail = client.get(f"/api/v1/alarms/{inside_faults[0]}", headers=users.operator).json()
    assert detail["status"] == "acknowledged"
    last = detail["transitions"][-1]
    assert (last["from"], last["to"]) == ("new", "acknowledged")
    assert "bulk" in last["cause"]
    assert "operator_in" in last["actor"]
    with db.session() as session:
        assert session.get(Alarm, fire).status == "new"  # type: ignore[union-attr]
        assert session.get(Alarm, outside_fault).status == "new"  # type: ignore[union-attr]
    # a second pass reports what is already done, changes nothing
    again = client.post(
        "/api/v1/alarms/bulk-acknowledge", headers=users.operator, json={"alarm_ids": inside_faults}
    ).json()
    assert [x["result"] for x in again["results"]] == ["not_new", "not_new"]
    assert [x["status"] for x in again["results"]] == ["acknowledged", "acknowledged"]


def test_bulk_acknowledge_refuses_an_empty_list_and_a_reader(
    client: TestClient, users: Users
) -> None:
    r = client.post(
        "/api/v1/alarms/bulk-acknowledge", headers=users.operator, json={"alarm_ids": []}
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"]
    r = client.post(
        "/api/v1/alarms/bulk-acknowledge", headers=users.worker, json={"alarm_ids": [1]}
    )
    assert r.status_code == 403


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_is_scoped_filtered_and_quotes_formulas(
    client: TestClient, db: Database, site: Site, city: City, correlator: Correlator, users: Users
) -> None:
    outside = make_site(db, city, "out")
    feed_events(
        db,
        correlator,
        site.ev(K.FAULT, device="transmitter"),
        site.ev(K.FIRE_ALARM, device="smoke"),
        outside.ev(K.FAULT, device="transmitter"),
    )
    with db.session() as session:
        session.execute(
            update(Alarm)
            .where(Alarm.jurisdiction_path == site.path)
            .values(venue_name='=HYPERLINK("x")')
        )
    kinds = _ids_by_kind(db)
    r = client.get("/api/v1/alarms/export", headers=users.operator)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = _csv(r.text)
    with db.session() as session:
        inside = set(
            session.scalars(select(Alarm.id).where(Alarm.jurisdiction_path == site.path)).all()
        )
    assert {int(x["alarm_id"]) for x in rows} == inside
    assert all(x["venue_name"] == '\'=HYPERLINK("x")' for x in rows)
    faults = _csv(
        client.get("/api/v1/alarms/export", headers=users.operator, params={"kind": "fault"}).text
    )
    assert {int(x["alarm_id"]) for x in faults} == inside & set(kinds["fault"])
    none = _csv(
        client.get(
            "/api/v1/alarms/export", headers=users.operator, params={"q": "no such venue"}
        ).text
    )
    assert none == []
    r = client.get(
        "/api/v1/alarms/export", headers=users.operator, params={"since": "2026-01-01T00:00:00"}
    )
    assert r.status_code == 422
    assert "timezone" in r.json()["error"]["message"]
