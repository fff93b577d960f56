"""The telephony seam: switch events open the call in intake, once; the remote seat's
requests are queued for the switch and answered once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.accounts.principal import system_principal
from firegrid.accounts.service import create_api_key
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.incident_models import IncidentCall
from tests.accounts.city import bearer, make_user, token_for
from tests.dispatch.city import DCity
from tests.interop.conftest import T0


@pytest.fixture
def client(link_settings: Settings, db: Database, dcity: DCity) -> Iterator[TestClient]:
    with TestClient(create_app(link_settings, db)) as test_client:
        yield test_client


@pytest.fixture
def switch(db: Database, dcity: DCity) -> dict[str, str]:
    with db.session() as session:
        new = create_api_key(
            session,
            system_principal("test"),
            name="switch adapter",
            role="integration",
            scope_code=dcity.codes["city"],
            routes=["/api/v1/telephony"],
        )
    return {"X-API-Key": new.secret}


def event(client: TestClient, h: dict[str, str], kind: str, minutes: int, **kw: object):
    body = {"event": kind, "call_id": "sw-1", "at": (T0 + timedelta(minutes=minutes)).isoformat()}
    return client.post("/api/v1/telephony/events", json={**body, **kw}, headers=h)


def intake_calls(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count(IncidentCall.id))) or 0)


def test_switch_events_open_the_call_once_and_follow_it(
    client: TestClient, switch: dict[str, str], db: Database
):
    offered = event(
        client, switch, "offered", 0, caller_number="13912345678", lon=113.15, lat=23.07
    )
    assert offered.status_code == 200, offered.text
    assert offered.json()["state"] == "offered"
    assert offered.json()["intake_call_id"] is not None
    assert event(client, switch, "offered", 0, lon=113.15, lat=23.07).json()["applied"] is False
    answered = event(client, switch, "answered", 1, seat="seat-3").json()
    assert (answered["state"], answered["seat"]) == ("answered", "seat-3")
    released = event(client, switch, "released", 5).json()
    assert released["state"] == "released"
    assert intake_calls(db) == 1
    late = event(client, switch, "transferred", 3, transferred_to="110").json()
    assert late["state"] == "released"  # an event after the release does not reopen it
    assert late["transferred_to"] == "110"


def test_a_call_without_location_is_recorded_and_waits_for_the_taker(
    client: TestClient, switch: dict[str, str], db: Database
):
    response = event(client, switch, "answered", 0, caller_number="110")  # offered was lost
    assert response.status_code == 200
    assert response.json()["intake_call_id"] is None
    assert intake_calls(db) == 0
    naive = client.post(
        "/api/v1/telephony/events",
        json={"event": "offered", "call_id": "x", "at": "2026-07-01T02:00:00"},
        headers=switch,
    )
    assert naive.status_code == 422


def test_the_remote_seat_asks_and_the_switch_answers_once(
    client: TestClient,
    switch: dict[str, str],
    db: Database,
    dcity: DCity,
    link_settings: Settings,
):
    call = event(client, switch, "offered", 0, lon=113.15, lat=23.07).json()
    seat = bearer(
        token_for(db, link_settings, make_user(db, "seat", "police_liaison", dcity.codes["city"]))
    )
    listed = client.get("/api/v1/telephony/calls", headers=seat).json()
    assert [c["id"] for c in listed["items"]] == [call["id"]]
    asked = client.post(
        f"/api/v1/telephony/calls/{call['id']}/requests", json={"kind": "barge_in"}, headers=seat
    )
    assert asked.status_code == 201, asked.text
    assert (
        client.post(  # the seat cannot answer for the switch
            f"/api/v1/telephony/requests/{asked.json()['id']}/answer",
            json={"outcome": "done"},
            headers=seat,
        ).status_code
        == 403
    )
    pending = client.get("/api/v1/telephony/requests", headers=switch).json()["items"]
    assert [p["kind"] for p in pending] == ["barge_in"]
    done = client.post(
        f"/api/v1/telephony/requests/{pending[0]['id']}/answer",
        json={"outcome": "done"},
        headers=switch,
    )
    assert done.json()["status"] == "done"
    again = client.post(
        f"/api/v1/telephony/requests/{pending[0]['id']}/answer",
        json={"outcome": "failed"},
        headers=switch,
    )
    assert again.status_code == 409
    assert client.get("/api/v1/telephony/requests", headers=switch).json()["count"] == 0
    event(client, switch, "released", 2)
    ended = client.post(
        f"/api/v1/telephony/calls/{call['id']}/requests", json={"kind": "monitor"}, headers=seat
    )
    assert ended.status_code == 409
