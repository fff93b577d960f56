"""EIDO from a 110 centre at ``POST /api/v1/link110/eido``: a transfer opens an incident
once; follow-ups apply by timestamp (an older one is ignored), never twice; a location
outside the city, a bad signature or a document off the schema are clear 4xx answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firegrid.accounts.principal import system_principal
from firegrid.accounts.service import create_api_key
from firegrid.api.app import create_app
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch.incident_models import Incident, IncidentCall, TimelineEntry
from firegrid.interop.eido import parse_eido
from firegrid.interop.peer_sim import PeerSimulator
from firegrid.links import signing
from firegrid.links.models import LinkOutbox
from tests.accounts.city import bearer, make_user, token_for
from tests.dispatch.city import DCity
from tests.interop.conftest import PEER_ID, T0, open_incident

URL = "/api/v1/link110/eido"
REMOTE = "urn:emergency:uid:incidentid:2026-0042:110.centre.example"


@pytest.fixture
def client(link_settings: Settings, db: Database, dcity: DCity) -> Iterator[TestClient]:
    with TestClient(create_app(link_settings, db)) as test_client:
        yield test_client


@pytest.fixture
def link_key(db: Database, dcity: DCity) -> dict[str, str]:
    with db.session() as session:
        new = create_api_key(
            session,
            system_principal("test"),
            name="110 link",
            role="integration",
            scope_code=dcity.codes["city"],
            routes=["/api/v1/link110"],
        )
    return {"X-API-Key": new.secret}


def post(
    client: TestClient,
    sim: PeerSimulator,
    key: dict[str, str],
    document: dict[str, Any],
    message_id: str,
    *,
    at: float | None = None,
) -> Any:
    body = json.dumps(document).encode()
    headers = {**signing.signed_headers(sim.secret, PEER_ID, message_id, body, now=at), **key}
    return client.post(URL, content=body, headers=headers)


def transfer(sim: PeerSimulator, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "incident_type": "FSTRU",
        "lon": 113.15,
        "lat": 23.07,
        "address": "中镇人民路 8 号",
        "caller_number": "13900000000",
        "notes": [("1", "smoke from the third floor")],
        "updated_at": T0,
        "fire_agency": "fire119.441900.firegrid",
    }
    values.update(kw)
    return sim.police_eido(REMOTE, **values)


def count(db: Database, model: Any) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def notes_110(db: Database, incident_id: int) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(TimelineEntry.cause).where(
                    TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "note_110"
                )
            )
        )


def test_a_transfer_opens_an_incident_once(
    client: TestClient, sim: PeerSimulator, link_key: dict[str, str], db: Database
):
    first = post(client, sim, link_key, transfer(sim), "m-1")
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["result"] == "transferred"
    assert answer["duplicate"] is False
    assert answer["notes_added"] == 1
    again = post(client, sim, link_key, transfer(sim), "m-1")  # the same message again
    assert again.json() == {**answer, "duplicate": True}
    resent = post(client, sim, link_key, transfer(sim), "m-1b")  # same EIDO, new message id
    assert resent.json()["result"] == "ignored"
    assert count(db, Incident) == 1
    assert count(db, IncidentCall) == 1
    with db.session() as session:
        incident = session.get(Incident, answer["incident_id"])
        assert incident is not None
        assert incident.source == "transfer_110"
        assert incident.incident_type == "building_fire"
        assert (incident.lon, incident.lat) == pytest.approx((113.15, 23.07))
        call = session.scalars(select(IncidentCall)).one()
        assert call.external_ref == REMOTE
        assert call.caller_number == "13900000000"
    assert notes_110(db, answer["incident_id"]) == ["smoke from the third floor"]


def test_follow_ups_apply_by_timestamp_never_twice(
    client: TestClient, sim: PeerSimulator, link_key: dict[str, str], db: Database
):
    incident_id = post(client, sim, link_key, transfer(sim), "m-1").json()["incident_id"]
    later = transfer(sim, updated_at=T0 + timedelta(minutes=10), notes=[("3", "two trapped")])
    earlier = transfer(sim, updated_at=T0 + timedelta(minutes=5), notes=[("2", "police on site")])
    # reordered on the way: the later follow-up arrives first
    assert post(client, sim, link_key, later, "m-3").json()["result"] == "updated"
    stale = post(client, sim, link_key, earlier, "m-2").json()
    assert stale["result"] == "ignored"
    assert stale["reason"] == "not_newer"
    assert post(client, sim, link_key, later, "m-3").json()["duplicate"] is True
    assert notes_110(db, incident_id) == ["smoke from the third floor", "two trapped"]


def test_a_location_outside_the_city_is_a_clear_422(
    client: TestClient, sim: PeerSimulator, link_key: dict[str, str], db: Database
):
    response = post(client, sim, link_key, transfer(sim, lon=116.4, lat=39.9), "m-out")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "outside_city"
    no_place = transfer(sim, lon=None, lat=None, address="")
    response = post(client, sim, link_key, no_place, "m-none")
    assert response.status_code == 422
    assert "location" in response.json()["error"]["message"]
    assert count(db, Incident) == 0
    # refused messages are not claimed: a corrected one under the same id is applied
    assert post(client, sim, link_key, transfer(sim), "m-out").json()["result"] == "transferred"


def test_signatures_and_the_schema_are_enforced(
    client: TestClient, sim: PeerSimulator, link_key: dict[str, str], db: Database
):
    document = transfer(sim)
    body = json.dumps(document).encode()
    forged = signing.signed_headers(b"not-the-secret", PEER_ID, "m-x", body)
    response = client.post(URL, content=body, headers={**forged, **link_key})
    assert response.status_code == 401
    assert response.json()["error"]["details"]["reason"] == "mismatch"
    stale = post(client, sim, link_key, document, "m-y", at=time.time() - 3600)
    assert stale.status_code == 401
    assert stale.json()["error"]["details"]["reason"] == "stale"
    unsigned = client.post(URL, content=body, headers=link_key)  # a machine must sign
    assert unsigned.status_code == 401
    broken = {k: v for k, v in document.items() if k != "eidoVersion"}
    response = post(client, sim, link_key, broken, "m-z")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_eido"
    assert count(db, Incident) == 0


def test_the_remote_seat_user_posts_without_a_signature(
    client: TestClient, sim: PeerSimulator, db: Database, link_settings: Settings, dcity: DCity
):
    uid = make_user(db, "seat110", "police_liaison", dcity.codes["city"])
    response = client.post(
        URL, json=transfer(sim), headers=bearer(token_for(db, link_settings, uid))
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "transferred"


def test_eido_of_an_incident_and_transfer_to_110(
    client: TestClient, db: Database, link_settings: Settings, dcity: DCity
):
    incident_id = open_incident(db, dcity, 1)
    uid = make_user(db, "disp", "dispatcher", dcity.codes["city"])
    h = bearer(token_for(db, link_settings, uid))
    response = client.get(f"/api/v1/incidents/{incident_id}/eido", headers=h)
    assert response.status_code == 200, response.text
    parsed = parse_eido(response.json())
    assert parsed.internal_id == str(incident_id)
    assert parsed.incident_type_common == "FSTRU"
    sent = client.post(
        f"/api/v1/link110/incidents/{incident_id}/transfer",
        json={"reason": "suspect arson"},
        headers=h,
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["transfer"]["status"] == "pending"
    assert sent.json()["peer"] == PEER_ID
    with db.session() as session:
        row = session.scalars(select(LinkOutbox).where(LinkOutbox.kind == "transfer")).one()
        roles = [
            r
            for a in json.loads(row.body)["agencyComponent"]
            for r in a["agencyRoleDescriptionRegistryText"]
        ]
        assert "TransferredTo" in roles
        kinds = session.scalars(
            select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident_id)
        ).all()
        assert "transferred_to_110" in kinds
    status = client.get("/api/v1/link110/status", headers=h)
    assert status.status_code == 200
    assert status.json()["peers"][0]["backlog"] >= 1


def timeline_kinds(db: Database, incident_id: int, kind: str) -> list[dict[str, Any]]:
    with db.session() as session:
        return [
            dict(d or {})
            for d in session.scalars(
                select(TimelineEntry.details).where(
                    TimelineEntry.incident_id == incident_id, TimelineEntry.kind == kind
                )
            )
        ]


def test_a_follow_up_moves_the_transferred_call_and_closes_an_incident_without_units(
    client: TestClient, sim: PeerSimulator, link_key: dict[str, str], db: Database
):
    incident_id = post(client, sim, link_key, transfer(sim), "m-1").json()["incident_id"]
    # 110 locates the caller better (about 60 m away, same grid): call and incident move
    moved = transfer(sim, lon=113.1505, lat=23.0704, updated_at=T0 + timedelta(minutes=3))
    answer = post(client, sim, link_key, moved, "m-2").json()
    assert answer["result"] == "updated"
    assert answer["location"] == "incident"
    assert answer["status"] == "unchanged"
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        call = session.scalars(select(IncidentCall)).one()
        assert incident is not None
        assert (call.lon, call.lat) == pytest.approx((113.1505, 23.0704))
        assert (incident.lon, incident.lat) == pytest.approx((113.1505, 23.0704))
    assert len(timeline_kinds(db, incident_id, "location_110")) == 1
    # the same location again (a newer message): nothing to move, nothing recorded
    same = transfer(sim, lon=113.1505, lat=23.0704, updated_at=T0 + timedelta(minutes=4))
    assert post(client, sim, link_key, same, "m-3").json()["location"] == "unchanged"
    # an older message with another point, arriving late: ignored, never applied
    old = transfer(sim, lon=113.16, lat=23.08, updated_at=T0 + timedelta(minutes=1))
    assert post(client, sim, link_key, old, "m-old").json()["result"] == "ignored"
    # 110 closes it (a false report) before any unit is sent: the incident closes, once
    closing = transfer(
        sim, lon=113.1505, lat=23.0704, status="Closed", updated_at=T0 + timedelta(minutes=5)
    )
    assert post(client, sim, link_key, closing, "m-4").json()["status"] == "closed"
    assert post(client, sim, link_key, closing, "m-4").json()["duplicate"] is True
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        assert incident.status == "closed"
    assert [d["applied"] for d in timeline_kinds(db, incident_id, "status_110")] == [True]
    assert len(timeline_kinds(db, incident_id, "closed")) == 1


def test_110_cannot_close_or_move_an_incident_119_has_sent_units_to(
    client: TestClient, sim: PeerSimulator, link_key: dict[str, str], db: Database
):
    incident_id = post(client, sim, link_key, transfer(sim), "m-1").json()["incident_id"]
    with db.session() as session:  # units sent (the dispatch tests cover how)
        incident = session.get(Incident, incident_id)
        assert incident is not None
        incident.status = "dispatched"
    follow_up = transfer(
        sim, lon=113.1505, lat=23.0704, status="Closed", updated_at=T0 + timedelta(minutes=5)
    )
    answer = post(client, sim, link_key, follow_up, "m-2").json()
    assert answer["status"] == "units_sent"
    assert answer["location"] == "call"  # the caller's point is kept, the incident stays
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        assert incident.status == "dispatched"
        assert (incident.lon, incident.lat) == pytest.approx((113.15, 23.07))
    assert [d["applied"] for d in timeline_kinds(db, incident_id, "status_110")] == [False]
