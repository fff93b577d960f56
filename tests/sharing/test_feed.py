"""The change feed: scoped to the caller's jurisdiction, filtered by kind, paged by an opaque
cursor that stays valid in a new app with a new connection pool."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from firegrid.accounts.principal import system_principal
from firegrid.api.app import create_app
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.incident_models import IncidentCall
from firegrid.dispatch.incidents import create_incident, set_incident_status
from firegrid.inspections import service
from tests.accounts.city import OUTSIDE_MARKERS, City
from tests.sharing.conftest import headers

pytestmark = pytest.mark.postgres


def _inspect(db: Database, city: City, side: str) -> tuple[int, list[int]]:
    with db.session() as session:
        inspection, hazards = service.record_inspection(
            session,
            system_principal("tests"),
            venue_id=city.id("venue", side),
            inspected_at=utcnow() - timedelta(days=1),
            hazards=(service.HazardSpec("blocked_exit"),),
        )
        return inspection.id, [h.id for h in hazards]


def _incident(db: Database, city: City, side: str, *, close: bool) -> int:
    with db.session() as session:
        call = IncidentCall(
            source="phone",
            lon=113.05 if side == "in" else 113.15,
            lat=23.1,
            jurisdiction_path=city.paths[f"town:{side}"],
            received_at=utcnow(),
        )
        session.add(call)
        session.flush()
        incident = create_incident(
            session, "dispatcher-test", call, incident_type="building_fire", level=1
        )
        if close:
            set_incident_status(session, "dispatcher-test", incident, "closed", cause="false alarm")
        return incident.id


def _feed(client: TestClient, auth: dict[str, str], **params: object) -> dict[str, object]:
    r = client.get("/api/v1/changes", params=params, headers=auth)
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_the_feed_shows_a_town_only_its_own_changes_of_every_shared_kind(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    admin = headers(db, settings, "admin", "990000")
    town = headers(db, settings, "analyst", city.code("town", "in"))
    r = client.patch(
        f"/api/v1/venues/{city.id('venue', 'in')}", json={"name": "IN renamed"}, headers=admin
    )
    assert r.status_code == 200, r.text
    r = client.patch(
        f"/api/v1/venues/{city.id('venue', 'out')}", json={"name": "OUT renamed"}, headers=admin
    )
    assert r.status_code == 200, r.text
    inside, (hazard_in,) = _inspect(db, city, "in")
    _inspect(db, city, "out")
    incident_in = _incident(db, city, "in", close=True)
    _incident(db, city, "out", close=False)

    page = _feed(client, town)
    items = page["items"]
    assert isinstance(items, list)
    seen = [(i["kind"], i["event"], i["key"], i["payload"].get("status")) for i in items]
    assert seen == [
        ("venue", "venue.changed", str(city.id("venue", "in")), None),
        ("inspection", "inspection.recorded", str(inside), None),
        ("hazard", "hazard.changed", str(hazard_in), "open"),
        ("incident", "incident.changed", str(incident_in), "created"),
        ("incident", "incident.changed", str(incident_in), "closed"),
    ]
    town_path = city.paths["town:in"]
    assert all(i["jurisdiction_path"].startswith(town_path) for i in items)
    assert not any(marker in str(items) for marker in OUTSIDE_MARKERS)
    assert page["next_cursor"] == items[-1]["cursor"]
    # the city's administrator sees both towns (the outside incident was not closed)
    everything = _feed(client, admin)["items"]
    assert isinstance(everything, list)
    assert len(everything) == len(items) + 4
    assert [i["cursor"] for i in everything] == sorted((i["cursor"] for i in everything), key=int)


def test_kinds_filter_and_clear_errors(
    client: TestClient, db: Database, settings: Settings, city: City
) -> None:
    auth = headers(db, settings, "integration", "990000")
    _inspect(db, city, "in")
    _incident(db, city, "in", close=False)
    only = _feed(client, auth, kinds="hazard,incident")["items"]
    assert isinstance(only, list)
    assert sorted(i["kind"] for i in only) == ["hazard", "incident"]
    assert [i["kind"] for i in _feed(client, auth, kinds="inspection")["items"]] == ["inspection"]

    r = client.get("/api/v1/changes", params={"kinds": "venue,alarm"}, headers=auth)
    assert r.status_code == 422
    assert r.json()["error"]["details"]["kinds"] == ["alarm"]
    r = client.get("/api/v1/changes", params={"since": "abc"}, headers=auth)
    assert r.status_code == 422
    assert "since" in r.json()["error"]["message"]
    # a role without changes:read is refused
    worker = headers(db, settings, "dispatcher", city.code("town", "in"))
    assert client.get("/api/v1/changes", headers=worker).status_code == 403


def test_a_cursor_stays_valid_in_a_new_app_and_pool(
    client: TestClient, db: Database, settings: Settings, city: City, database_url: str
) -> None:
    auth = headers(db, settings, "analyst", "990000")
    for side in ("in", "out", "in"):
        _inspect(db, city, side)
    first = _feed(client, auth, kinds="inspection", limit=2)
    first_items = first["items"]
    assert isinstance(first_items, list)
    assert len(first_items) == 2
    cursor = first["next_cursor"]
    client.close()

    fresh = Database(database_url)  # a new pool, as after a restart
    try:
        with TestClient(create_app(settings, fresh)) as again:
            _inspect(fresh, city, "out")
            rest = _feed(again, auth, kinds="inspection", since=cursor, limit=10)
            ids = [i["key"] for i in rest["items"]]  # type: ignore[union-attr]
            assert len(ids) == 2
            assert not set(ids) & {i["key"] for i in first_items}
            empty = _feed(again, auth, kinds="inspection", since=rest["next_cursor"])
            assert empty["items"] == []
            assert empty["next_cursor"] == rest["next_cursor"]
    finally:
        fresh.dispose()
