"""The three intakes through the API become incidents with recommended and dispatched units;
crews, AVL, plans, orders and webhooks; every route refuses what is outside the caller's
scope."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from firegrid.accounts.principal import system_principal
from firegrid.accounts.service import create_api_key
from firegrid.core.clock import utcnow
from firegrid.core.db import Database
from firegrid.core.settings import Settings
from firegrid.dispatch import consumers
from firegrid.dispatch.models import Station
from tests.accounts.city import bearer, make_user, token_for
from tests.dispatch.city import ROAD, DCity
from tests.dispatch.test_services import Forward, consumed_incident, put_forwards


def headers(db: Database, settings: Settings, dcity: DCity, role: str, key: str) -> dict[str, str]:
    name = f"{role}_{key.replace(':', '_')}"
    uid = make_user(db, name, role, dcity.codes[key])
    return bearer(token_for(db, settings, uid))


def api_key(db: Database, dcity: DCity, role: str, key: str, routes: list[str]) -> dict[str, str]:
    with db.session() as session:
        new = create_api_key(
            session,
            system_principal("test"),
            name=f"{role} key",
            role=role,
            scope_code=dcity.codes[key],
            routes=routes,
        )
    return {"X-API-Key": new.secret}


def dispatch_recommended(client: TestClient, h: dict[str, str], incident_id: int) -> dict:
    rec = client.get(f"/api/v1/incidents/{incident_id}/recommendation", headers=h)
    assert rec.status_code == 200, rec.text
    assert rec.json()["units"], rec.json()
    sent = client.post(f"/api/v1/incidents/{incident_id}/dispatch", json={}, headers=h)
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert {a["vehicle_id"] for a in body["assignments"]} == {
        u["vehicle_id"] for u in rec.json()["units"]
    }
    assert all(a["eta_s"] is not None and a["reason"] for a in body["assignments"])
    assert body["incident"]["status"] == "dispatched"
    return body


def test_119_call_becomes_an_incident_with_dispatched_units(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
):
    h = headers(db, settings, dcity, "dispatcher", "city")
    taken = client.post(
        "/api/v1/calls",
        headers=h,
        json={
            "caller_number": "13912345678",
            "address_text": f"西镇西北村{ROAD}8号",
            "description": "smoke from the 12th floor",
        },
    )
    assert taken.status_code == 201, taken.text
    view = taken.json()
    assert view["call"]["geocode"]["matched"]
    assert view["venues_nearby"][0]["code"] == "VEN-west"
    call_id = view["call"]["id"]
    opened = client.post(
        f"/api/v1/calls/{call_id}/incident",
        headers=h,
        json={
            "incident_type": "building_fire",
            "level": 2,
            "venue_category": "high_rise_office",
            "venue_id": dcity.venues["west"],
        },
    )
    assert opened.status_code == 201, opened.text
    incident_id = opened.json()["id"]
    body = dispatch_recommended(client, h, incident_id)
    assert sorted(body["recommendation"]["plan"]["requirements"], key=str) == sorted(
        [
            {"vehicle_type": "pumper", "count": 2},
            {"vehicle_type": "ladder", "count": 1},
            {"vehicle_type": "command", "count": 1},
        ],
        key=str,
    )
    # a second call nearby is offered for merging, and merged
    again = client.post("/api/v1/calls", headers=h, json={"lon": 113.0502, "lat": 23.075})
    dup = again.json()["possible_duplicates"]
    assert [d["incident_id"] for d in dup] == [incident_id]
    merged = client.post(
        f"/api/v1/calls/{again.json()['call']['id']}/merge",
        headers=h,
        json={"incident_id": incident_id},
    )
    assert merged.status_code == 200
    assert merged.json()["call_count"] == 2
    detail = client.get(f"/api/v1/incidents/{incident_id}", headers=h).json()
    assert len(detail["calls"]) == 2
    assert len(detail["units"]) == 4
    # the printable order of one station
    station_id = detail["units"][0]["station_id"]
    text = client.get(f"/api/v1/incidents/{incident_id}/orders/{station_id}", headers=h)
    assert text.status_code == 200
    assert "出动单" in text.text
    assert "building_fire" in text.text
    page = client.get(f"/api/v1/incidents/{incident_id}/orders/{station_id}?format=html", headers=h)
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text


def test_110_transfer_becomes_an_incident_with_dispatched_units(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
):
    police = headers(db, settings, dcity, "police_liaison", "city")
    key = api_key(db, dcity, "integration", "city", ["/api/v1/transfers"])
    body = {
        "external_ref": "110-A-1",
        "lon": 113.15,
        "lat": 23.03,
        "incident_type": "rescue",
        "level": 2,
        "description": "person trapped in lift",
    }
    first = client.post("/api/v1/transfers/110", headers=police, json=body)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/transfers/110", headers=key, json=body)
    assert again.status_code == 201
    assert again.json()["incident_id"] == first.json()["incident_id"]
    # the liaison may not dispatch; the city dispatcher does
    incident_id = first.json()["incident_id"]
    refused = client.post(f"/api/v1/incidents/{incident_id}/dispatch", headers=police, json={})
    assert refused.status_code == 403
    assert (
        client.post("/api/v1/calls", headers=key, json={"lon": 113.1, "lat": 23.05}).status_code
        == 403
    )
    dispatch_recommended(client, headers(db, settings, dcity, "dispatcher", "city"), incident_id)
    seen = client.get(f"/api/v1/incidents/{incident_id}", headers=police).json()
    assert seen["source"] == "transfer_110"
    assert seen["status"] == "dispatched"


def test_forwarded_alarm_becomes_an_incident_with_dispatched_units(
    client: TestClient,
    db: Database,
    settings: Settings,
    dcity: DCity,
    monkeypatch: pytest.MonkeyPatch,
):
    source, ids = put_forwards(
        db,
        [
            Forward(
                7,
                900,
                dcity.venues["middle"],
                113.15,
                23.075,
                dcity.paths["grid:middle:n"],
                "fire",
                "high_rise_office",
                True,
                utcnow() - timedelta(seconds=20),
            )
        ],
    )
    if source is not None:  # pragma: no cover - the alarms context is not installed
        monkeypatch.setattr(consumers, "default_source", lambda: source)
    h = headers(db, settings, dcity, "dispatcher", "town:middle")
    report = client.post("/api/v1/alarm-forwards/consume", headers=h)
    assert report.status_code == 200, report.text
    assert report.json()["created"] == 1
    incident_id = consumed_incident(db, source, ids[7])
    assert incident_id is not None
    body = dispatch_recommended(client, h, incident_id)
    assert {a["station_id"] for a in body["assignments"]} <= {
        s for s, info in dcity.stations.items() if info["town"] == "middle"
    }


def test_crew_gets_incident_route_and_preplan_and_moves_status(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
):
    h = headers(db, settings, dcity, "dispatcher", "city")
    opened = client.post(
        "/api/v1/calls",
        headers=h,
        json={
            "lon": 113.25,
            "lat": 23.075,
            "incident_type": "building_fire",
            "level": 1,
            "venue_category": "high_rise_office",
            "venue_id": dcity.venues["east"],
            "auto": True,
        },
    )
    incident_id = opened.json()["incident_id"]
    units = dispatch_recommended(client, h, incident_id)["assignments"]
    vehicle_id = units[0]["vehicle_id"]
    crew = api_key(db, dcity, "integration", "town:east", ["/api/v1/crew", "/api/v1/avl"])
    mine = client.get(f"/api/v1/crew/vehicles/{vehicle_id}", headers=crew)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["incident"]["id"] == incident_id
    line = body["route"]["geometry"]["coordinates"]
    assert body["route"]["travel_time_s"] > 0
    assert len(line) >= 2
    assert line[-1] == pytest.approx([113.25, 23.075])
    assert body["preplan"]["venue"]["buildings"][0]["height_m"] == 98.0
    fix = client.post(
        "/api/v1/avl/positions",
        headers=crew,
        json={"positions": [{"vehicle_id": vehicle_id, "lon": 113.24, "lat": 23.07}]},
    )
    assert fix.json() == {"accepted": 1, "stale": 0}
    for status in ("en_route", "on_scene"):
        moved = client.post(
            f"/api/v1/crew/vehicles/{vehicle_id}/status", headers=crew, json={"status": status}
        )
        assert moved.status_code == 200, moved.text
    bad = client.post(
        f"/api/v1/crew/vehicles/{vehicle_id}/status",
        headers=crew,
        json={"status": "available_in_station"},
    )
    assert bad.status_code == 409
    assert bad.json()["error"]["code"] == "invalid_transition"
    detail = client.get(f"/api/v1/incidents/{incident_id}", headers=h).json()
    assert detail["status"] == "on_scene"
    assert detail["intervals"]["response_s"] is not None
    asked = client.post(
        f"/api/v1/incidents/{incident_id}/status",
        headers=h,
        json={"status": "closed", "cause": "false alarm after all"},
    )
    assert asked.status_code == 409  # a unit is still on scene: the dispatcher confirms
    assert asked.json()["error"]["code"] == "units_on_scene"
    closed = client.post(
        f"/api/v1/incidents/{incident_id}/status",
        headers=h,
        json={"status": "closed", "cause": "false alarm after all", "confirm": True},
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    west_unit = next(i for i, v in dcity.vehicles.items() if v["town"] == "west")
    assert client.get(f"/api/v1/crew/vehicles/{west_unit}", headers=crew).status_code == 404


def test_plans_are_editable_by_admins_only(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
):
    admin = headers(db, settings, dcity, "admin", "city")
    dispatcher = headers(db, settings, dcity, "dispatcher", "city")
    listed = client.get("/api/v1/response-plans", headers=dispatcher).json()
    assert listed["count"] > 30
    new = {
        "incident_type": "flood",
        "venue_category": "*",
        "level": 1,
        "requirements": [{"vehicle_type": "rescue", "count": 2}],
        "note": "rainy season",
    }
    assert client.put("/api/v1/response-plans", headers=dispatcher, json=new).status_code == 403
    put = client.put("/api/v1/response-plans", headers=admin, json=new)
    assert put.status_code == 200
    assert put.json()["requirements"] == [{"vehicle_type": "rescue", "count": 2}]
    rec = client.get(
        "/api/v1/recommendations",
        headers=dispatcher,
        params={"lon": 113.05, "lat": 23.02, "incident_type": "flood", "level": 1},
    )
    assert rec.status_code == 200
    assert len(rec.json()["units"]) == 2
    bad = dict(new, requirements=[{"vehicle_type": "spaceship", "count": 1}])
    assert client.put("/api/v1/response-plans", headers=admin, json=bad).status_code == 422


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}/orders"
    server.shutdown()


def test_stations_with_a_webhook_receive_the_dispatch_order(
    client: TestClient, db: Database, settings: Settings, dcity: DCity, webhook: str
):
    with db.session() as session:
        for station in session.scalars(select(Station)):
            station.webhook_url = webhook
    h = headers(db, settings, dcity, "dispatcher", "city")
    opened = client.post(
        "/api/v1/calls",
        headers=h,
        json={
            "lon": 113.05,
            "lat": 23.02,
            "incident_type": "vehicle_fire",
            "level": 1,
            "auto": True,
        },
    )
    body = dispatch_recommended(client, h, opened.json()["incident_id"])
    assert [n["channel"] for n in body["notifications"]] == ["webhook"]
    client.post("/api/v1/dispatch-notifications/deliver", headers=h)
    assert len(_Hook.received) == 1
    order = _Hook.received[0]
    assert order["kind"] == "dispatch_order"
    assert order["incident"]["id"] == opened.json()["incident_id"]
    assert order["units"][0]["vehicle_id"] == body["assignments"][0]["vehicle_id"]


def test_every_route_hides_what_is_outside_the_callers_scope(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
):
    city = headers(db, settings, dcity, "dispatcher", "city")
    west = headers(db, settings, dcity, "dispatcher", "town:west")
    east_call = client.post(
        "/api/v1/calls",
        headers=city,
        json={"lon": 113.25, "lat": 23.03, "incident_type": "rescue", "level": 1, "auto": True},
    )
    incident_id = east_call.json()["incident_id"]
    call_id = east_call.json()["call"]["id"]
    dispatch_recommended(client, city, incident_id)
    station_id = client.get(f"/api/v1/incidents/{incident_id}", headers=city).json()["units"][0][
        "station_id"
    ]
    east_unit = next(i for i, v in dcity.vehicles.items() if v["town"] == "east")
    routes = [
        ("GET", f"/api/v1/incidents/{incident_id}", None),
        ("GET", f"/api/v1/incidents/{incident_id}/recommendation", None),
        ("POST", f"/api/v1/incidents/{incident_id}/dispatch", {}),
        ("POST", f"/api/v1/incidents/{incident_id}/status", {"status": "closed"}),
        ("POST", f"/api/v1/incidents/{incident_id}/escalate", {"cause": "x"}),
        (
            "POST",
            f"/api/v1/incidents/{incident_id}/reinforcements",
            {"requirements": [{"vehicle_type": "pumper"}]},
        ),
        (
            "POST",
            f"/api/v1/incidents/{incident_id}/joint-defence",
            {"to_town_code": dcity.codes["town:middle"], "requirements": [{"capability": "water"}]},
        ),
        ("GET", f"/api/v1/incidents/{incident_id}/orders/{station_id}", None),
        ("GET", f"/api/v1/calls/{call_id}", None),
        ("POST", f"/api/v1/calls/{call_id}/merge", {"incident_id": incident_id}),
        ("POST", f"/api/v1/units/{east_unit}/status", {"status": "out_of_service"}),
        ("GET", f"/api/v1/crew/vehicles/{east_unit}", None),
    ]
    for method, url, body in routes:
        response = client.request(method, url, headers=west, json=body)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["error"]["code"] == "not_found"
    listed = client.get("/api/v1/incidents", headers=west).json()
    assert listed["count"] == 0
    assert client.get("/api/v1/incidents", headers=city).json()["count"] == 1
    board = client.get("/api/v1/units", headers=west).json()["items"]
    assert {u["station_id"] for u in board} <= {
        s for s, info in dcity.stations.items() if info["town"] == "west"
    }


def test_neighbour_towns_of_an_incident(
    client: TestClient, db: Database, settings: Settings, dcity: DCity
) -> None:
    """The towns a joint-defence request may go to: the incident town's neighbours only."""
    city = headers(db, settings, dcity, "dispatcher", "city")
    west_call = client.post(
        "/api/v1/calls",
        headers=city,
        json={"lon": 113.09, "lat": 23.05, "incident_type": "rescue", "level": 1, "auto": True},
    )
    assert west_call.status_code == 201, west_call.text
    incident_id = west_call.json()["incident_id"]
    towns = client.get(f"/api/v1/incidents/{incident_id}/neighbour-towns", headers=city)
    assert towns.status_code == 200, towns.text
    codes = [t["code"] for t in towns.json()["items"]]
    assert codes == [dcity.codes["town:middle"]]  # east does not touch west
    assert towns.json()["items"][0]["path"] == dcity.paths["town:middle"]
    # the one named here is accepted, as the request the console sends
    asked = client.post(
        f"/api/v1/incidents/{incident_id}/joint-defence",
        headers=city,
        json={"to_town_code": codes[0], "requirements": [{"vehicle_type": "pumper", "count": 1}]},
    )
    assert asked.status_code == 201, asked.text
    east = headers(db, settings, dcity, "dispatcher", "town:east")
    hidden = client.get(f"/api/v1/incidents/{incident_id}/neighbour-towns", headers=east)
    assert hidden.status_code == 404
    analyst = headers(db, settings, dcity, "analyst", "city")
    refused = client.get(f"/api/v1/incidents/{incident_id}/neighbour-towns", headers=analyst)
    assert refused.status_code == 403
